"""Strict decoding of unsigned Ethereum transactions (legacy EIP-155, EIP-2930, EIP-1559)."""

from __future__ import annotations

from shared.tx.access_list import AccessListTransaction
from shared.tx.base import AccessList, AccessListEntry, TransactionBase, TypedTransactionBase
from shared.tx.decode import (
    DATA_TYPE_LEGACY,
    DATA_TYPE_TYPED,
    TYPED_TRANSACTIONS,
    Transaction,
    decode_transaction,
)
from shared.tx.dynamic_fee import DynamicFeeTransaction
from shared.tx.fields import MAX_DATA_BYTES, MAX_PAYLOAD_BYTES
from shared.tx.legacy import LegacyTransaction
from shared.tx.refused import REFUSED_TYPES

__all__ = [
    "DATA_TYPE_LEGACY",
    "DATA_TYPE_TYPED",
    "MAX_DATA_BYTES",
    "MAX_PAYLOAD_BYTES",
    "REFUSED_TYPES",
    "TYPED_TRANSACTIONS",
    "AccessList",
    "AccessListEntry",
    "AccessListTransaction",
    "DynamicFeeTransaction",
    "LegacyTransaction",
    "Transaction",
    "TransactionBase",
    "TypedTransactionBase",
    "decode_transaction",
]
