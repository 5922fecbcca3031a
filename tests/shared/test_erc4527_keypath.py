"""Path and id helpers of shared.erc4527: keypath text, request-id text, the type registry."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

import shared.erc4527.keypath as keypath_module
from shared.cbor import CborKey, CborValue, EncodedTag, Tag, encode
from shared.erc4527 import (
    DECODERS,
    EthBatchSignRequest,
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


def test_the_text_is_computed_once_and_follows_a_changed_copy() -> None:
    path = Keypath.parse("m/44'/60'/0'/0/1", source_fingerprint=1)
    assert str(path) is str(path)
    changed = replace(path, components=(PathComponent(None, False), PathComponent(7, True)))
    assert str(changed) == "m/*/7'" and changed.path_text == "*/7'"
    assert repr(changed) == repr(Keypath(changed.components, 1))
    assert changed == Keypath.parse("m/*/7'", source_fingerprint=1)


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

BIP44: list[CborValue] = [44, True, 60, True, 0, True, 0, False, 0, False]


def _batch(*paths: dict[CborKey, CborValue]) -> bytes:
    """An eth-batch-sign-request whose requests use ``paths``, in order."""
    requests: list[CborValue] = []
    for number, path in enumerate(paths):
        request: dict[CborKey, CborValue] = {
            1: Tag(37, bytes([number]) * 16),
            2: b"\x02\xc0",
            3: 4,
            5: Tag(304, path),
        }
        requests.append(Tag(401, request))
    return encode({1: requests})


def test_a_keypath_repeated_in_a_batch_is_decoded_once_and_shared() -> None:
    batch = EthBatchSignRequest.from_cbor(
        _batch({1: BIP44, 2: 0xE9181CF3}, {1: BIP44, 2: 0xE9181CF3}, {1: BIP44, 2: 7})
    )
    first, again, other = (request.derivation_path for request in batch.requests)
    assert again is first
    assert str(first) == "m/44'/60'/0'/0/0"
    assert other.source_fingerprint == 7
    # The cache outlives one message: the next batch with the same path gets the same object.
    (later,) = EthBatchSignRequest.from_cbor(_batch({1: BIP44, 2: 0xE9181CF3})).requests
    assert later.derivation_path is first


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        # True == 1 and hash(True) == hash(1) in Python, but their CBOR differs: a path read
        # before must not answer for one with an integer where a boolean belongs.
        ([44, 1, 60, True, 0, True, 0, False, 0, False], "components[0].is-hardened"),
        ([44, True, 60, True, 0, True, 0, False, 0, 0], "components[4].is-hardened"),
        ([44, True, 60, True, 0, True, False, False, 0, False], "components[3]"),
    ],
)
def test_a_cached_keypath_does_not_answer_for_an_int_bool_lookalike(
    steps: list[CborValue], field: str
) -> None:
    assert steps == BIP44  # equal in Python, different in CBOR
    with pytest.raises(SchemaError) as caught:
        EthBatchSignRequest.from_cbor(_batch({1: BIP44, 2: 1}, {1: steps, 2: 1}))
    assert caught.value.field == f"eth-batch-sign-request.requests[1].derivation-path.{field}"


def test_a_refused_keypath_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(SchemaError) as caught:
            EthBatchSignRequest.from_cbor(_batch({1: [44, True], 2: 0}))
        assert caught.value.field == (
            "eth-batch-sign-request.requests[0].derivation-path.source-fingerprint"
        )


def test_the_keypath_cache_is_bounded() -> None:
    for index in range(3 * keypath_module._DECODED_MAX):
        EthBatchSignRequest.from_cbor(_batch({1: [44, True, index, False], 2: 1}))
    assert 0 < len(keypath_module._DECODED) <= keypath_module._DECODED_MAX


def test_a_keypath_read_from_a_plain_tag_is_not_cached() -> None:
    path = Keypath.from_tagged(Tag(304, {1: list(BIP44), 2: 5}), "k")
    assert path == Keypath.from_tagged(Tag(304, {1: list(BIP44), 2: 5}), "k")
    assert path is not Keypath.from_tagged(Tag(304, {1: list(BIP44), 2: 5}), "k")


def test_an_encoded_tag_whose_bytes_are_another_path_s_is_not_cached() -> None:
    # Only the decoder makes EncodedTags; one made elsewhere with mismatched bytes must not
    # file its path under another path's bytes for later batches.
    real = {1: list(BIP44), 2: 0x0BADF00D}
    other = {1: [44, True, 60, True, 9, True], 2: 0x0BADF00D}
    forged = EncodedTag(304, other, encode(real))
    assert str(Keypath.from_tagged(forged, "k")) == "m/44'/60'/9'"
    (request,) = EthBatchSignRequest.from_cbor(_batch(real)).requests
    assert str(request.derivation_path) == "m/44'/60'/0'/0/0"
