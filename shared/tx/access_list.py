"""EIP-2930 access list transactions (type 0x01)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.tx.base import AccessList, TypedTransactionBase
from shared.tx.fields import ACCESS_LIST_FIELDS, FieldSpec, names_of


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessListTransaction(TypedTransactionBase):
    """EIP-2930: ``0x01 || rlp([chainId, nonce, gasPrice, gasLimit, to, value, data,
    accessList])``."""

    TX_TYPE: ClassVar[int | None] = 0x01
    EIP: ClassVar[str] = "EIP-2930"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = ACCESS_LIST_FIELDS
    FIELD_NAMES: ClassVar[tuple[str, ...]] = names_of(ACCESS_LIST_FIELDS)

    gas_price: int
    access_list: AccessList

    def fee_cap_per_gas(self) -> int:
        """The gas price: an EIP-2930 transaction pays exactly this per gas."""
        return self.gas_price
