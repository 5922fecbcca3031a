"""EIP-1559 dynamic fee transactions (type 0x02)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.tx.base import AccessList, TypedTransactionBase
from shared.tx.fields import DYNAMIC_FEE_FIELDS, FieldSpec, names_of


@dataclass(frozen=True, slots=True, kw_only=True)
class DynamicFeeTransaction(TypedTransactionBase):
    """EIP-1559: ``0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
    gas_limit, destination, amount, data, access_list])``."""

    TX_TYPE: ClassVar[int | None] = 0x02
    EIP: ClassVar[str] = "EIP-1559"
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = DYNAMIC_FEE_FIELDS
    FIELD_NAMES: ClassVar[tuple[str, ...]] = names_of(DYNAMIC_FEE_FIELDS)
    # EIP-1559: "assert transaction.max_fee_per_gas >= transaction.max_priority_fee_per_gas";
    # a block would never include it, so signing it only burns a nonce slot.
    FIELD_ORDER: ClassVar[tuple[tuple[str, str, str], ...]] = (
        (
            "max_priority_fee_per_gas",
            "max_fee_per_gas",
            "max priority fee per gas exceeds max fee per gas (EIP-1559)",
        ),
    )

    max_priority_fee_per_gas: int
    max_fee_per_gas: int
    access_list: AccessList

    def fee_cap_per_gas(self) -> int:
        """The max fee per gas: the most paid per gas whatever the base fee becomes."""
        return self.max_fee_per_gas
