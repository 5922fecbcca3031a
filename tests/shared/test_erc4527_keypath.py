"""Path and id helpers of shared.erc4527: keypath text, request-id text, the type registry."""

from __future__ import annotations

import uuid

import pytest

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
