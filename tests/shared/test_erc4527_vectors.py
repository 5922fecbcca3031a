"""shared.erc4527 against published vectors: Keystone's JS, firmware and Rust registries, BCR."""

from __future__ import annotations

from typing import Any

import pytest
from vectorfiles import load_vectors

from shared.erc4527 import (
    CryptoAccount,
    DataType,
    EthSignature,
    EthSignRequest,
    HDKey,
    Keypath,
    RequestId,
    decode_ur,
    describe,
)
from shared.errors import CborError, DecodeError, SchemaError
from shared.ur import format_ur, parse_ur

KEYSTONE = load_vectors("bc-ur-and-erc4527")["keystone"]
EXTRA = load_vectors("erc4527-extra")
ERRORS: dict[str, type[DecodeError]] = {"SchemaError": SchemaError, "CborError": CborError}


def _sign_request_from_input(spec: dict[str, Any]) -> EthSignRequest:
    """Build the request the way Keystone's test builds it (constructETHRequest)."""
    return EthSignRequest(
        sign_data=bytes.fromhex(spec["signDataHex"]),
        data_type=DataType(spec["dataType"]),
        derivation_path=Keypath.parse(spec["path"], source_fingerprint=int(spec["xfp"], 16)),
        request_id=RequestId.parse(spec["requestId"]),
        chain_id=spec["chainId"],
        origin=spec.get("origin"),
    )


@pytest.mark.parametrize("name", ["signRequestWithOrigin", "signRequestNoOrigin"])
def test_keystone_sign_request_encodes_to_the_published_ur(name: str) -> None:
    vector = KEYSTONE[name]
    request = _sign_request_from_input(vector["input"])
    assert format_ur(request.to_ur()) == vector["ur"]


@pytest.mark.parametrize("name", ["signRequestWithOrigin", "signRequestNoOrigin"])
def test_keystone_sign_request_decodes_to_its_inputs(name: str) -> None:
    vector = KEYSTONE[name]
    ur = parse_ur(vector["ur"])
    request = EthSignRequest.from_ur(ur)
    assert request == _sign_request_from_input(vector["input"])
    assert request.to_cbor() == ur.cbor
    assert str(request.derivation_path) == "m/44'/1'/1'/0/1"
    assert request.source_fingerprint == 0x12345678


def test_keystone_signature_both_directions() -> None:
    vector = KEYSTONE["signature"]
    spec = vector["input"]
    built = EthSignature.from_signature_bytes(
        bytes.fromhex(spec["signatureHex"]), RequestId.parse(spec["requestId"]), spec["origin"]
    )
    assert format_ur(built.to_ur()) == vector["ur"]
    decoded = EthSignature.from_ur(parse_ur(vector["ur"]))
    assert decoded == built
    assert decoded.signature.hex() == spec["signatureHex"]
    assert decoded.v == 0x13


def test_keystone_hdkey_both_directions() -> None:
    vector = KEYSTONE["hdkey"]
    spec = vector["input"]
    key = HDKey(
        key=bytes.fromhex(spec["key"]),
        chain_code=bytes.fromhex(spec["chainCode"]),
        origin=Keypath.parse(spec["path"], source_fingerprint=int(spec["xfp"], 16)),
        parent_fingerprint=int(spec["parentFingerprint"], 16),
    )
    assert key.to_cbor().hex() == vector["cborHex"]
    assert format_ur(key.to_ur()) == vector["ur"]
    assert HDKey.from_cbor(bytes.fromhex(vector["cborHex"])) == key
    assert HDKey.from_ur(parse_ur(vector["ur"])) == key
    assert key.source_fingerprint == 0xE9181CF3


def test_keystone_vectors_through_the_registry() -> None:
    for name in ("signRequestWithOrigin", "signRequestNoOrigin", "signature", "hdkey"):
        ur = parse_ur(KEYSTONE[name]["ur"])
        assert decode_ur(ur).to_ur() == ur
    fields = describe(parse_ur(KEYSTONE["signRequestWithOrigin"]["ur"]))
    assert fields["type"] == "eth-sign-request"
    assert fields["request_id"] == "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"
    assert fields["chain_id"] == 1
    assert fields["data_type_name"] == "transaction"
    assert fields["derivation_path"] == {
        "components": "44'/1'/1'/0/1",
        "source_fingerprint": "12345678",
        "depth": None,
    }
    assert fields["origin"] == "metamask"


def test_rust_registry_testnet_hdkey_round_trips_with_use_info() -> None:
    vector = EXTRA["rustHDKeyTestnet"]
    data = bytes.fromhex(vector["cborHex"])
    key = HDKey.from_cbor(data)
    assert key.describe() == vector["fields"]
    assert key.to_cbor() == data


@pytest.mark.parametrize("name", ["rustMasterKey", "bcr2020015BitcoinAccount"])
def test_published_messages_coldsign_refuses(name: str) -> None:
    vector = EXTRA[name]
    with pytest.raises(ERRORS[vector["error"]]) as caught:
        if "ur" in vector:
            decode_ur(parse_ur(vector["ur"]))
        else:
            HDKey.from_cbor(bytes.fromhex(vector["cborHex"]))
    assert type(caught.value) is ERRORS[vector["error"]]
    assert caught.value.field == vector["field"]


def test_firmware_ledger_live_account_refused_for_its_depth() -> None:
    vector = EXTRA["firmwareLedgerLiveAccount"]
    with pytest.raises(SchemaError) as caught:
        CryptoAccount.from_cbor(bytes.fromhex(vector["cborHex"]))
    assert caught.value.field == vector["field"]


def test_firmware_ledger_live_layout_reproduced_at_depth_five() -> None:
    vector = EXTRA["firmwareLedgerLiveAccount"]
    fixed = vector["cborHex"].replace(vector["depthFrom"], vector["depthTo"])
    data = bytes.fromhex(fixed)
    account = CryptoAccount.from_cbor(data)
    assert account.to_cbor() == data
    assert account.master_fingerprint == int(vector["masterFingerprint"], 16)
    assert len(account.output_descriptors) == vector["accounts"]
    for index, key in enumerate(account.output_descriptors):
        assert str(key.origin) == f"m/44'/60'/{index}'/0/0"
        assert key.is_private is False
        assert key.chain_code is None
        assert (key.name, key.note) == ("Keystone", "account.ledger_live")
    rebuilt = CryptoAccount(
        account.master_fingerprint,
        tuple(
            HDKey(
                key=key.key,
                origin=Keypath.parse(
                    f"m/44'/60'/{index}'/0/0",
                    source_fingerprint=account.master_fingerprint,
                    depth=5,
                ),
                name="Keystone",
                note="account.ledger_live",
                is_private=False,
            )
            for index, key in enumerate(account.output_descriptors)
        ),
    )
    assert rebuilt.to_cbor() == data
