"""The transaction dispatcher: ERC-4527 sign-data and data-type to a validated transaction."""

from __future__ import annotations

from shared.errors import TransactionError
from shared.tx.access_list import AccessListTransaction
from shared.tx.base import ROOT
from shared.tx.dynamic_fee import DynamicFeeTransaction
from shared.tx.fields import MAX_PAYLOAD_BYTES
from shared.tx.legacy import LegacyTransaction
from shared.tx.refused import SIGN_DATA, refuse_legacy_prefix, refuse_typed

Transaction = LegacyTransaction | AccessListTransaction | DynamicFeeTransaction

# ERC-4527 eth-sign-request data-type values.
DATA_TYPE_LEGACY = 1
DATA_TYPE_TYPED = 4
_NOT_TRANSACTIONS = {
    2: "data-type 2 is EIP-712 typed data, not a transaction",
    3: "data-type 3 is a personal message, not a transaction",
}
# Yellow Paper, Appendix B: a first byte of 0xc0 or more starts an RLP list.
_RLP_LIST = 0xC0

# EIP-2718 type byte → class; the keys equal each class's TX_TYPE (checked by the tests).
TYPED_TRANSACTIONS: dict[int, type[AccessListTransaction] | type[DynamicFeeTransaction]] = {
    0x01: AccessListTransaction,
    0x02: DynamicFeeTransaction,
}


def decode_transaction(
    sign_data: bytes, data_type: int, *, chain_id: int | None = None
) -> Transaction:
    """Decode an unsigned transaction from ERC-4527 ``sign-data`` bytes, strictly.

    ``data_type`` 1 is a legacy EIP-155 signing list, 4 an EIP-2718 ``type || rlp``
    payload. When the request names ``chain_id``, the transaction must match it.
    Raises :class:`~shared.errors.RLPError` for malformed or non-canonical RLP,
    :class:`~shared.errors.TransactionError` for anything refused, and its subclass
    :class:`~shared.errors.RefusedTransactionTypeError` for EIP-4844 and EIP-7702.
    """
    if data_type not in (DATA_TYPE_LEGACY, DATA_TYPE_TYPED):
        reason = _NOT_TRANSACTIONS.get(data_type, f"unknown data-type {data_type}")
        raise TransactionError("data-type", reason)
    if not sign_data:
        raise TransactionError(SIGN_DATA, "empty payload", offset=0)
    if len(sign_data) > MAX_PAYLOAD_BYTES:
        raise TransactionError(
            SIGN_DATA,
            f"payload of {len(sign_data)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit",
        )
    # A bytearray or memoryview would leak mutable slices into the frozen result.
    sign_data = bytes(sign_data)
    first = sign_data[0]
    transaction: Transaction
    if data_type == DATA_TYPE_LEGACY:
        if first < _RLP_LIST:
            raise refuse_legacy_prefix(first)
        transaction = LegacyTransaction.decode_rlp(sign_data, 0)
    else:
        if first >= _RLP_LIST:
            raise TransactionError(
                SIGN_DATA,
                "data-type 4 (typed) but the payload is an RLP list, i.e. a legacy "
                "transaction: those are sent as data-type 1",
                offset=0,
            )
        kind = TYPED_TRANSACTIONS.get(first)
        if kind is None:
            raise refuse_typed(first)
        transaction = kind.decode_rlp(sign_data, 1)
    if chain_id is not None and transaction.chain_id != chain_id:
        raise TransactionError(
            f"{ROOT}.chain_id",
            f"the request is for chain {chain_id} but the transaction is for chain "
            f"{transaction.chain_id}",
        )
    return transaction
