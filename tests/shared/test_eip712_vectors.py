"""EIP-712 vectors: published hashes, equality with eth-account, and schema recognition."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data
from vectorfiles import load_vectors

from shared.address import Address
from shared.errors import TypedDataError
from shared.messages import schemas
from shared.messages.eip712 import Struct, parse_typed_data
from shared.messages.safe_tx import (
    SafeMessage,
    SafeTx,
    SafeVersion,
    safe_message_hash,
    safe_tx_hash,
)

VECTORS = load_vectors("eip712")
TYPED = VECTORS["typed_data"]


def _eth_account_hash(document: dict[str, Any]) -> bytes:
    return bytes(_hash_eip191_message(encode_typed_data(full_message=document)))


def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(TYPED[name]["typed_data"]))
    return document


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode("utf-8")


def _plain(value: Any) -> Any:
    """A recognised dataclass as JSON-like data, in the vector file's notation."""
    if isinstance(value, Address):
        return value.checksummed()
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


@pytest.mark.parametrize("name", sorted(TYPED))
def test_signing_hash_matches_vector(name: str) -> None:
    typed = parse_typed_data(_encode(_document(name)))
    assert "0x" + typed.signing_hash().hex() == TYPED[name]["signing_hash"]


@pytest.mark.parametrize("name", sorted(TYPED))
def test_signing_hash_matches_eth_account(name: str) -> None:
    document = _document(name)
    assert parse_typed_data(_encode(document)).signing_hash() == _eth_account_hash(document)


@pytest.mark.parametrize("name", sorted(TYPED))
def test_pretty_printed_json_hashes_the_same(name: str) -> None:
    document = _document(name)
    compact = parse_typed_data(_encode(document))
    pretty = parse_typed_data(json.dumps(document, indent=4, ensure_ascii=False).encode())
    assert pretty == compact


def test_mail_example_intermediate_values() -> None:
    # EIP-712 assets/eip-712/Example.js asserts each step, not only the final hash.
    vector = TYPED["mail"]
    typed = parse_typed_data(_encode(_document("mail")))
    assert typed.encode_type() == vector["encode_type"]
    assert "0x" + typed.domain_separator().hex() == vector["domain_separator"]
    assert "0x" + typed.message_hash().hex() == vector["message_hash"]


def test_mail_example_message_values() -> None:
    typed = parse_typed_data(_encode(_document("mail")))
    sender = typed.message["from"]
    assert isinstance(sender, Struct)
    assert sender.type_name == "Person"
    assert sender["name"] == "Cow"
    assert sender["wallet"] == Address(bytes.fromhex("cd2a3d9f938e13cd947ec05abc7fe734df8dd826"))
    assert typed.domain.chain_id == 1
    assert typed.domain.field_names() == ("name", "version", "chainId", "verifyingContract")
    assert [t.name for t in typed.types] == ["Mail", "Person"]


def test_nested_arrays_are_decoded_as_tuples() -> None:
    typed = parse_typed_data(_encode(_document("nested_structs_and_arrays")))
    assert typed.message["scores"] == ((-32768, 32767), (-1, 0))
    assert typed.message["flags"] == (True, False, True)
    assert typed.message["blobs"] == (b"", b"\x00\xff", b"\x11" * 40)
    assert typed.message["empty"] == ()
    pairs = typed.message["pairs"]
    assert isinstance(pairs, tuple) and len(pairs) == 1
    assert isinstance(pairs[0], tuple) and len(pairs[0]) == 2
    assert typed.domain.chain_id == 0x89
    assert typed.domain.salt == b"\xab" * 32


def test_integer_edges_are_exact() -> None:
    message = parse_typed_data(_encode(_document("integer_and_bytes_edges"))).message
    assert message["maxUint"] == 2**256 - 1
    assert message["maxUintHex"] == 2**256 - 1
    assert message["minInt"] == -(2**255)
    assert message["maxInt"] == 2**255 - 1
    assert message["small"] == 255
    assert message["neg"] == -128


@pytest.mark.parametrize("name", sorted(TYPED))
def test_schema_is_recognised_with_its_fields(name: str) -> None:
    vector = TYPED[name]
    recognised = schemas.recognise(parse_typed_data(_encode(_document(name))))
    if vector["schema"] is None:
        assert recognised is None
        return
    assert type(recognised).__name__ == vector["schema"]
    assert _plain(recognised) == vector["fields"]


def test_permit2_vectors_use_a_non_canonical_deployment() -> None:
    # The SDK vectors sign for verifyingContract 0x0; the policy must be able to tell.
    recognised = schemas.recognise(parse_typed_data(_encode(_document("permit2_single"))))
    assert isinstance(recognised, schemas.Permit2Single)
    assert not schemas.is_canonical_permit2(recognised)
    canonical = dataclasses.replace(recognised, permit2=schemas.PERMIT2_ADDRESS)
    assert schemas.is_canonical_permit2(canonical)


@pytest.mark.parametrize(
    ("name", "version"),
    [("safe_tx_gnosis_chain", "1.4.1"), ("safe_tx_legacy_domain", "1.1.1")],
)
def test_recognised_safe_tx_hashes_like_the_typed_data(name: str, version: str) -> None:
    typed = parse_typed_data(_encode(_document(name)))
    safe_tx = schemas.recognise(typed)
    assert isinstance(safe_tx, SafeTx)
    major, minor, patch = (int(part) for part in version.split("."))
    assert safe_tx_hash(safe_tx, SafeVersion(major, minor, patch)) == typed.signing_hash()


def test_recognised_safe_message_hashes_like_the_typed_data() -> None:
    typed = parse_typed_data(_encode(_document("safe_message")))
    message = schemas.recognise(typed)
    assert isinstance(message, SafeMessage)
    assert safe_message_hash(message, SafeVersion(1, 4, 1)) == typed.signing_hash()


def test_unknown_schema_is_not_recognised() -> None:
    assert schemas.recognise(parse_typed_data(_encode(_document("mail")))) is None


def test_permit_with_one_member_renamed_is_not_recognised() -> None:
    document = _document("permit_usdc")
    document["types"]["Permit"][2]["name"] = "amount"
    document["message"]["amount"] = document["message"].pop("value")
    assert schemas.recognise(parse_typed_data(_encode(document))) is None


def test_permit_without_chain_id_is_refused() -> None:
    document = _document("permit_usdc")
    document["types"]["EIP712Domain"] = [
        m for m in document["types"]["EIP712Domain"] if m["name"] != "chainId"
    ]
    del document["domain"]["chainId"]
    with pytest.raises(TypedDataError) as caught:
        schemas.recognise(parse_typed_data(_encode(document)))
    assert caught.value.field == "domain"


def test_permit_without_verifying_contract_is_refused() -> None:
    document = _document("permit_usdc")
    document["types"]["EIP712Domain"] = document["types"]["EIP712Domain"][:3]
    del document["domain"]["verifyingContract"]
    with pytest.raises(TypedDataError) as caught:
        schemas.recognise(parse_typed_data(_encode(document)))
    assert caught.value.field == "domain"


def test_permit2_with_another_domain_name_is_refused() -> None:
    document = _document("permit2_transfer_from")
    document["domain"]["name"] = "Permit3"
    with pytest.raises(TypedDataError) as caught:
        schemas.recognise(parse_typed_data(_encode(document)))
    assert caught.value.field == "domain.name"


def test_permit2_with_a_version_is_refused() -> None:
    document = _document("permit2_batch")
    document["types"]["EIP712Domain"].insert(1, {"name": "version", "type": "string"})
    document["domain"]["version"] = "1"
    with pytest.raises(TypedDataError) as caught:
        schemas.recognise(parse_typed_data(_encode(document)))
    assert caught.value.field == "domain"


def test_safe_tx_with_a_named_domain_is_refused() -> None:
    document = _document("safe_tx_gnosis_chain")
    document["types"]["EIP712Domain"].insert(0, {"name": "name", "type": "string"})
    document["domain"]["name"] = "Safe"
    with pytest.raises(TypedDataError) as caught:
        schemas.recognise(parse_typed_data(_encode(document)))
    assert caught.value.field == "domain"


def test_safe_tx_with_operation_two_is_refused() -> None:
    document = _document("safe_tx_gnosis_chain")
    document["message"]["operation"] = 2
    with pytest.raises(TypedDataError) as caught:
        schemas.recognise(parse_typed_data(_encode(document)))
    assert caught.value.field == "message.operation"


def test_safe_tx_delegatecall_is_recognised_and_marked() -> None:
    document = _document("safe_tx_gnosis_chain")
    document["message"]["operation"] = 1
    safe_tx = schemas.recognise(parse_typed_data(_encode(document)))
    assert isinstance(safe_tx, SafeTx)
    assert safe_tx.is_delegatecall
