"""Table-driven tests of shared.tx over published and eth-account-generated transactions."""

from __future__ import annotations

from typing import Any

import coincurve
import pytest
import rlp as pyrlp  # type: ignore[import-untyped]
from eth_account import Account
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_account._utils.transaction_utils import transaction_rpc_to_rlp_structure
from eth_account.typed_transactions.typed_transaction import TypedTransaction
from hexbytes import HexBytes
from vectorfiles import load_vectors

from shared.address import parse_address
from shared.errors import RefusedTransactionTypeError
from shared.keccak import keccak256
from shared.tx import (
    TYPED_TRANSACTIONS,
    AccessListEntry,
    AccessListTransaction,
    DynamicFeeTransaction,
    LegacyTransaction,
    Transaction,
    decode_transaction,
)
from shared.tx.rlp import decode, encode

VECTORS = load_vectors("transactions")
GENERATED = VECTORS["eth_account_generated"]
PUBLISHED = VECTORS["eth_account_published"]


def _hex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def _int(text: str) -> int:
    return int(text, 16)


def _expected(fields: dict[str, Any], data_type: int) -> Transaction:
    """The transaction a vector's eth-account-style field dict describes."""
    to = parse_address(fields["to"], field="to") if fields.get("to") else None
    common: dict[str, Any] = {
        "chain_id": _int(fields["chainId"]),
        "nonce": _int(fields["nonce"]),
        "gas_limit": _int(fields["gas"]),
        "to": to,
        "value": _int(fields["value"]),
        "data": _hex(fields["data"]),
    }
    if data_type == 1:
        return LegacyTransaction(gas_price=_int(fields["gasPrice"]), **common)
    access_list = tuple(
        AccessListEntry(
            parse_address(entry["address"], field="a"),
            tuple(_hex(key) for key in entry["storageKeys"]),
        )
        for entry in fields["accessList"]
    )
    if "gasPrice" in fields:
        return AccessListTransaction(
            gas_price=_int(fields["gasPrice"]), access_list=access_list, **common
        )
    return DynamicFeeTransaction(
        max_priority_fee_per_gas=_int(fields["maxPriorityFeePerGas"]),
        max_fee_per_gas=_int(fields["maxFeePerGas"]),
        access_list=access_list,
        **common,
    )


def _unsigned_from_signed(signed: bytes) -> tuple[bytes, int, int, int]:
    """Strip (v, r, s) from a signed typed transaction with our own RLP decoder."""
    fields = decode(signed[1:], field="signed")
    assert isinstance(fields, tuple)
    v, r, s = (int.from_bytes(value, "big") for value in fields[-3:] if isinstance(value, bytes))
    return signed[:1] + encode(fields[:-3]), v, r, s


def _eth_account_unsigned(fields: dict[str, Any]) -> tuple[bytes, bytes]:
    """eth-account's unsigned payload and signing hash for an eth-account field dict."""
    unsigned = serializable_unsigned_transaction_from_dict(dict(fields))
    if isinstance(unsigned, TypedTransaction):
        inner: Any = unsigned.transaction
        body = inner._unsigned_transaction_serializer.from_dict(
            transaction_rpc_to_rlp_structure(dict(inner.dictionary))
        )
        payload = bytes([inner.transaction_type]) + pyrlp.encode(body)
    else:
        payload = pyrlp.encode(unsigned)
    return payload, bytes(unsigned.hash())


@pytest.mark.parametrize("case", GENERATED["cases"], ids=lambda case: case["name"])
def test_generated_vector_decodes_and_hashes(case: dict[str, Any]) -> None:
    unsigned = _hex(case["unsigned"])
    tx = decode_transaction(unsigned, case["data_type"])
    assert tx == _expected(case["transaction"], case["data_type"])
    assert tx.unsigned_payload() == unsigned
    assert tx.signing_hash() == _hex(case["signing_hash"])
    assert case["data_type"] == tx.DATA_TYPE


@pytest.mark.parametrize("case", GENERATED["cases"], ids=lambda case: case["name"])
def test_generated_vector_signed_payload_equals_eth_account(case: dict[str, Any]) -> None:
    tx = decode_transaction(_hex(case["unsigned"]), case["data_type"])
    signed = tx.signed_payload(_int(case["v"]), _int(case["r"]), _int(case["s"]))
    assert signed == _hex(case["signed"])
    assert Account.recover_transaction(signed) == GENERATED["sender"]


@pytest.mark.parametrize("case", GENERATED["cases"], ids=lambda case: case["name"])
def test_generated_vector_still_matches_eth_account(case: dict[str, Any]) -> None:
    """Re-derive each committed vector with the installed eth-account."""
    fields = {
        key: _int(value) if key not in ("to", "data", "accessList") else value
        for key, value in case["transaction"].items()
    }
    payload, signing_hash = _eth_account_unsigned(fields)
    assert payload == _hex(case["unsigned"])
    assert signing_hash == _hex(case["signing_hash"])
    signed = Account.sign_transaction(fields, GENERATED["key"])
    assert bytes(signed.raw_transaction) == _hex(case["signed"])


@pytest.mark.parametrize("case", GENERATED["cases"], ids=lambda case: case["name"])
def test_sign_own_hash_with_test_key_and_recover(case: dict[str, Any]) -> None:
    tx = decode_transaction(_hex(case["unsigned"]), case["data_type"])
    key = coincurve.PrivateKey(_hex(GENERATED["key"]))
    signature = key.sign_recoverable(tx.signing_hash(), hasher=None)
    r, s, parity = (
        int.from_bytes(signature[:32], "big"),
        int.from_bytes(signature[32:64], "big"),
        signature[64],
    )
    v = parity if tx.TX_TYPE is not None else tx.chain_id * 2 + 35 + parity
    signed = tx.signed_payload(v, r, s)
    # RFC 6979 nonces: the same key and hash give eth-account's exact bytes.
    assert signed == _hex(case["signed"])
    assert Account.recover_transaction(signed) == GENERATED["sender"]


def test_generated_vectors_cover_every_type_and_a_large_legacy_chain_id() -> None:
    decoded = [
        decode_transaction(_hex(case["unsigned"]), case["data_type"]) for case in GENERATED["cases"]
    ]
    kinds = {type(tx) for tx in decoded}
    assert kinds == {LegacyTransaction, AccessListTransaction, DynamicFeeTransaction}
    # EIP-155 v = 2 * chain_id + 35 + parity no longer fits one byte above chain id 109.
    assert any(isinstance(tx, LegacyTransaction) and tx.chain_id > 109 for tx in decoded)
    assert any(tx.to is None for tx in decoded)


def test_typed_dispatch_table_matches_class_type_bytes() -> None:
    for type_byte, kind in TYPED_TRANSACTIONS.items():
        assert type_byte == kind.TX_TYPE


def test_eip155_example() -> None:
    block = VECTORS["eip155_example"]
    tx = decode_transaction(_hex(block["unsigned"]), 1, chain_id=1)
    assert tx == _expected(block["transaction"], 1)
    assert tx.signing_hash() == _hex(block["signing_hash"])
    signed = tx.signed_payload(_int(block["v"]), _int(block["r"]), _int(block["s"]))
    assert signed == _hex(block["signed"])
    sender = Account.from_key(block["key"]).address
    assert Account.recover_transaction(signed) == sender


def test_mainnet_eip1559_transaction() -> None:
    block = VECTORS["mainnet_eip1559"]
    tx = decode_transaction(_hex(block["unsigned"]), 4, chain_id=1)
    assert tx == _expected(block["transaction"], 4)
    signed = tx.signed_payload(_int(block["v"]), _int(block["r"]), _int(block["s"]))
    assert signed == _hex(block["signed"])
    # The hash of the signed form is the published mainnet transaction hash.
    assert keccak256(signed) == _hex(block["tx_hash"])
    assert Account.recover_transaction(signed) == block["signer"]


@pytest.mark.parametrize("case", PUBLISHED["cases"], ids=lambda case: case["name"])
def test_eth_account_published_typed_vectors(case: dict[str, Any]) -> None:
    signed = _hex(case["signed"])
    unsigned, v, r, s = _unsigned_from_signed(signed)
    tx = decode_transaction(unsigned, 4)
    assert tx.signing_hash() == _hex(case["signing_hash"])
    assert tx.signed_payload(v, r, s) == signed
    assert TypedTransaction.from_bytes(HexBytes(signed)).hash() == tx.signing_hash()


@pytest.mark.parametrize("case", PUBLISHED["refused"], ids=lambda case: case["name"])
def test_eth_account_published_blob_transaction_is_refused(case: dict[str, Any]) -> None:
    unsigned, _, _, _ = _unsigned_from_signed(_hex(case["signed"]))
    with pytest.raises(RefusedTransactionTypeError) as info:
        decode_transaction(unsigned, 4)
    assert info.value.tx_type == case["tx_type"]
    assert info.value.eip == case["eip"]
    assert info.value.field == "sign-data"
