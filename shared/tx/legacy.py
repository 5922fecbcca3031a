"""Legacy transactions with EIP-155 replay protection (pre-EIP-155 payloads are refused)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from shared.errors import TransactionError
from shared.tx.base import ROOT, TransactionBase, check_signature_values
from shared.tx.fields import LEGACY_FIELDS, PRE_EIP155_FIELD_COUNT, FieldSpec, names_of
from shared.tx.rlp import Span, check_count, encode_list, encode_uint, scan_list

# EIP-155: the six fields before [chainId, 0, 0] are those of the signed transaction too.
_SIGNED_PREFIX_FIELDS = 6
# EIP-155: v = chainId * 2 + 35 + y_parity.
_EIP155_V_OFFSET = 35


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyTransaction(TransactionBase):
    """A legacy transaction signed per EIP-155 (chain id inside the signing payload)."""

    TX_TYPE: ClassVar[int | None] = None
    EIP: ClassVar[str] = "EIP-155"
    DATA_TYPE: ClassVar[int] = 1
    FIELDS: ClassVar[tuple[FieldSpec, ...]] = LEGACY_FIELDS
    FIELD_NAMES: ClassVar[tuple[str, ...]] = names_of(LEGACY_FIELDS)

    gas_price: int

    def fee_cap_per_gas(self) -> int:
        """The gas price: a legacy transaction always pays exactly this per gas."""
        return self.gas_price

    def signed_payload(self, v: int, r: int, s: int) -> bytes:
        """EIP-155: ``rlp([nonce, gasprice, startgas, to, value, data, v, r, s])``.

        ``v`` is the EIP-155 value ``chain_id * 2 + 35 + y_parity``; any other is refused.
        """
        lowest = self.chain_id * 2 + _EIP155_V_OFFSET
        if v not in (lowest, lowest + 1):
            raise TransactionError(
                "signature.v",
                f"EIP-155 v for chain {self.chain_id} is {lowest} or {lowest + 1}, got {v}",
            )
        check_signature_values(r, s)
        signature = (encode_uint(v), encode_uint(r), encode_uint(s))
        return encode_list(self.rlp_fields()[:_SIGNED_PREFIX_FIELDS] + signature)

    @classmethod
    def scan_fields(cls, data: bytes, span: Span) -> list[Span]:
        """The items of ``rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])``."""
        # Not exact: a six-field payload gets its own reason rather than "too few items".
        children = scan_list(data, span, ROOT, 1, cls.FIELD_NAMES, exact=False)
        if len(children) == PRE_EIP155_FIELD_COUNT:
            raise TransactionError(
                ROOT,
                "pre-EIP-155 legacy transaction (6 fields, no chain id): its signature "
                "would be valid on every chain, so it is refused",
                offset=span[0],
            )
        check_count(ROOT, span[0], children, len(cls.FIELD_NAMES))
        return children
