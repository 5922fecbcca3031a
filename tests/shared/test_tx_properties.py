"""Property tests for shared.tx: round trips, agreement with eth-account, and fuzzed input."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import pytest
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from hypothesis import given
from hypothesis import strategies as st

from shared.address import Address
from shared.errors import DecodeError
from shared.tx import (
    AccessListEntry,
    AccessListTransaction,
    DynamicFeeTransaction,
    LegacyTransaction,
    Transaction,
    decode_transaction,
)
from shared.tx.fields import Kind

addresses = st.binary(min_size=20, max_size=20).map(Address)
uint256 = st.integers(min_value=0, max_value=2**256 - 1)
common: dict[str, st.SearchStrategy[Any]] = {
    "chain_id": st.integers(min_value=1, max_value=2**64 - 1),
    "nonce": st.integers(min_value=0, max_value=2**64 - 2),
    "gas_limit": st.integers(min_value=0, max_value=2**64 - 1),
    "to": st.none() | addresses,
    "value": uint256,
    "data": st.binary(max_size=300),
}
access_lists = st.lists(
    st.builds(
        AccessListEntry,
        addresses,
        st.lists(st.binary(min_size=32, max_size=32), max_size=3).map(tuple),
    ),
    max_size=3,
).map(tuple)

legacy_txs = st.builds(LegacyTransaction, gas_price=uint256, **common)
access_list_txs = st.builds(
    AccessListTransaction, gas_price=uint256, access_list=access_lists, **common
)


@st.composite
def dynamic_fee_txs(draw: st.DrawFn) -> DynamicFeeTransaction:
    max_fee = draw(uint256)
    priority = draw(st.integers(min_value=0, max_value=max_fee))
    return DynamicFeeTransaction(
        max_priority_fee_per_gas=priority,
        max_fee_per_gas=max_fee,
        access_list=draw(access_lists),
        **{name: draw(strategy) for name, strategy in common.items()},
    )


transactions: st.SearchStrategy[Transaction] = legacy_txs | access_list_txs | dynamic_fee_txs()


@given(transactions)
def test_decode_of_unsigned_payload_is_identity(tx: Transaction) -> None:
    payload = tx.unsigned_payload()
    assert decode_transaction(payload, tx.DATA_TYPE) == tx
    assert decode_transaction(payload, tx.DATA_TYPE, chain_id=tx.chain_id) == tx


def _eth_account_dict(tx: Transaction) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "chainId": tx.chain_id,
        "nonce": tx.nonce,
        "gas": tx.gas_limit,
        "value": tx.value,
        "data": tx.data,
    }
    if tx.to is not None:
        fields["to"] = tx.to.checksummed()
    if isinstance(tx, LegacyTransaction):
        fields["gasPrice"] = tx.gas_price
        return fields
    fields["accessList"] = [
        {
            "address": entry.address.checksummed(),
            "storageKeys": ["0x" + key.hex() for key in entry.storage_keys],
        }
        for entry in tx.access_list
    ]
    if isinstance(tx, AccessListTransaction):
        fields.update(type=1, gasPrice=tx.gas_price)
    else:
        fields.update(
            type=2,
            maxPriorityFeePerGas=tx.max_priority_fee_per_gas,
            maxFeePerGas=tx.max_fee_per_gas,
        )
    return fields


@given(transactions)
def test_signing_hash_equals_eth_account(tx: Transaction) -> None:
    unsigned = serializable_unsigned_transaction_from_dict(_eth_account_dict(tx))
    assert tx.signing_hash() == bytes(unsigned.hash())


@given(st.binary(max_size=400), st.sampled_from([1, 4]))
def test_random_bytes_raise_only_decode_error(data: bytes, data_type: int) -> None:
    try:
        tx = decode_transaction(data, data_type)
    except DecodeError:
        return
    assert tx.unsigned_payload() == data


@st.composite
def mutated_payloads(draw: st.DrawFn) -> tuple[bytes, int]:
    tx = draw(transactions)
    payload = bytearray(tx.unsigned_payload())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "append"]))
        position = draw(st.integers(min_value=0, max_value=max(len(payload) - 1, 0)))
        if kind == "flip" and payload:
            payload[position] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "set" and payload:
            payload[position] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            payload.insert(position, draw(st.integers(min_value=0, max_value=255)))
        elif kind == "delete" and payload:
            del payload[position]
        elif kind == "truncate":
            del payload[position:]
        else:
            payload += draw(st.binary(min_size=1, max_size=4))
    return bytes(payload), draw(st.sampled_from([tx.DATA_TYPE, 1, 4]))


@given(mutated_payloads())
def test_mutations_decode_canonically_or_raise_decode_error(case: tuple[bytes, int]) -> None:
    payload, data_type = case
    try:
        tx = decode_transaction(payload, data_type)
    except DecodeError:
        return
    # Whatever is accepted is canonical: it re-encodes to the exact input.
    assert tx.unsigned_payload() == payload
    # The decoder checks each field once and skips __post_init__; building the same
    # transaction through the constructor (every check again) must accept it unchanged.
    assert replace(tx) == tx


@pytest.mark.parametrize(
    "kind", [LegacyTransaction, AccessListTransaction, DynamicFeeTransaction], ids=lambda k: k.EIP
)
def test_layout_names_every_field_the_decoder_sets(
    kind: type[LegacyTransaction | AccessListTransaction | DynamicFeeTransaction],
) -> None:
    # The decoder assembles a transaction field by field from its layout (from_spans): the
    # layout's stored fields must be exactly the dataclass's, or a slot would stay unset.
    stored = {spec.name for spec in kind.FIELDS if spec.kind is not Kind.ZERO}
    assert stored == {f.name for f in fields(kind)}
    assert tuple(spec.name for spec in kind.FIELDS) == kind.FIELD_NAMES
