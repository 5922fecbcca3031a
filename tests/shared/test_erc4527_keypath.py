"""Path and id helpers of shared.erc4527: keypath text, request-id text, the type registry."""

from __future__ import annotations

import uuid

import pytest

import shared.erc4527.keypath as keypath_module
from shared.erc4527 import (
    DECODERS,
    Keypath,
    PathComponent,
    RequestId,
    describe,
)
from shared.errors import SchemaError
from shared.ur import UR


def test_parse_and_print_a_bip44_path() -> None:
    path = Keypath.parse("m/44'/60'/0'/0/1", source_fingerprint=0xE9181CF3)
    assert path.components == (
        PathComponent(44, True),
        PathComponent(60, True),
        PathComponent(0, True),
        PathComponent(0, False),
        PathComponent(1, False),
    )
    assert str(path) == "m/44'/60'/0'/0/1"
    assert path.path_text == "44'/60'/0'/0/1"
    assert path.source_fingerprint == 0xE9181CF3
    assert path.depth is None


def test_parse_accepts_capital_m_and_h_notation() -> None:
    assert Keypath.parse("M/44h/60H/0'", source_fingerprint=1) == Keypath.parse(
        "m/44'/60'/0'", source_fingerprint=1
    )


def test_wildcards_and_the_empty_path() -> None:
    children = Keypath.parse("m/0/*", depth=0)
    assert children.has_wildcard
    assert children.path_text == "0/*"
    assert str(Keypath.parse("m/*'")) == "m/*'"
    root = Keypath.parse("m", source_fingerprint=7)
    assert root.components == ()
    assert str(root) == "m"


def test_empty_path_needs_a_fingerprint() -> None:
    with pytest.raises(SchemaError) as caught:
        Keypath.parse("m")
    assert caught.value.field == "crypto-keypath.source-fingerprint"


def test_largest_index() -> None:
    assert Keypath.parse("m/2147483647'").components[0].index == 2**31 - 1


def test_keypath_alone_round_trips_as_its_own_ur() -> None:
    path = Keypath.parse("m/44'/60'/0'", source_fingerprint=0x12345678, depth=3)
    assert path.to_cbor().hex() == "a30186182cf5183cf500f5021a123456780303"
    assert Keypath.from_ur(path.to_ur()) == path


def test_request_id_text() -> None:
    text = "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
    request_id = RequestId.parse(text)
    assert request_id.raw == uuid.UUID(text).bytes
    assert str(request_id) == text
    assert RequestId.parse(text.upper()) == request_id


@pytest.mark.parametrize(
    "text", ["9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d", "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6", "{x}"]
)
def test_request_id_text_refused(text: str) -> None:
    with pytest.raises(SchemaError) as caught:
        RequestId.parse(text)
    assert caught.value.field == "request-id"


def test_registry_names_every_type() -> None:
    assert set(DECODERS) == {
        "eth-sign-request",
        "eth-signature",
        "eth-batch-sign-request",
        "eth-batch-signature",
        "crypto-hdkey",
        "crypto-account",
        "crypto-keypath",
    }


def test_describe_a_keypath_ur() -> None:
    path = Keypath.parse("m/44'/60'/0'", source_fingerprint=0xE9181CF3)
    assert describe(UR("crypto-keypath", path.to_cbor())) == {
        "type": "crypto-keypath",
        "components": "44'/60'/0'",
        "source_fingerprint": "e9181cf3",
        "depth": None,
    }


# --- the cache of decoded keypaths ---------------------------------------------------------

BIP44 = [44, True, 60, True, 0, True, 0, False, 0, False]


def test_a_repeated_keypath_is_decoded_once_and_shared() -> None:
    first = Keypath.from_value({1: list(BIP44), 2: 0xE9181CF3}, "crypto-keypath")
    again = Keypath.from_value({1: list(BIP44), 2: 0xE9181CF3}, "somewhere.derivation-path")
    assert again is first
    assert str(first) == "m/44'/60'/0'/0/0"
    # Any other fingerprint, depth or presence of a key is another keypath.
    assert Keypath.from_value({1: list(BIP44), 2: 1}, "k").source_fingerprint == 1
    assert Keypath.from_value({1: list(BIP44), 2: 0xE9181CF3, 3: 5}, "k").depth == 5
    assert Keypath.from_value({1: list(BIP44)}, "k").source_fingerprint is None


ACCOUNT_1 = [44, True, 60, True, 1, True]


@pytest.mark.parametrize(
    ("cached", "steps", "field"),
    [
        # True == 1 and hash(True) == hash(1) in Python: a cached path must not answer for
        # a map whose CBOR has an integer where a boolean belongs, or the reverse.
        (BIP44, [44, 1, 60, True, 0, True, 0, False, 0, False], "k.components[0].is-hardened"),
        (BIP44, [44, True, 60, True, 0, True, 0, False, 0, 0], "k.components[4].is-hardened"),
        (BIP44, [44, True, 60, True, 0, True, False, False, 0, False], "k.components[3]"),
        (ACCOUNT_1, [44, True, 60, True, True, True], "k.components[2]"),
        (ACCOUNT_1, [44, True, 60, 1, 1, True], "k.components[1].is-hardened"),
    ],
)
def test_a_cached_keypath_does_not_answer_for_an_int_bool_lookalike(
    cached: list[int | bool], steps: list[int | bool], field: str
) -> None:
    Keypath.from_value({1: list(cached), 2: 0xE9181CF3}, "k")
    assert steps == cached  # equal in Python, different in CBOR
    with pytest.raises(SchemaError) as caught:
        Keypath.from_value({1: list(steps), 2: 0xE9181CF3}, "k")
    assert caught.value.field == field


def test_a_cached_keypath_does_not_answer_for_a_boolean_fingerprint_or_depth() -> None:
    Keypath.from_value({1: list(BIP44), 2: 1}, "k")
    Keypath.from_value({1: list(BIP44), 2: 7, 3: 1}, "k")
    with pytest.raises(SchemaError) as caught:
        Keypath.from_value({1: list(BIP44), 2: True}, "k")
    assert caught.value.field == "k.source-fingerprint"
    with pytest.raises(SchemaError) as caught:
        Keypath.from_value({1: list(BIP44), 2: 7, 3: True}, "k")
    assert caught.value.field == "k.depth"


def test_a_refused_keypath_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(SchemaError) as caught:
            Keypath.from_value({1: [44, True], 2: 0}, "k")
        assert caught.value.field == "k.source-fingerprint"


def test_the_keypath_cache_is_bounded() -> None:
    for index in range(3 * keypath_module._DECODED_MAX):
        Keypath.from_value({1: [44, True, index, False], 2: 1}, "k")
    assert 0 < len(keypath_module._DECODED) <= keypath_module._DECODED_MAX


def test_wildcard_paths_are_decoded_without_the_cache() -> None:
    path = Keypath.from_value({1: [44, True, [], False], 2: 1}, "k")
    assert path.has_wildcard
    assert Keypath.from_value({1: [44, True, [], False], 2: 1}, "k") == path
