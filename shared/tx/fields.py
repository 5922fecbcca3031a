"""Transaction field layouts written as data: each field's name, kind and bounds, in wire order."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from shared.address import ADDRESS_LENGTH

# Call data larger than this is refused. geth's transaction pool refuses whole
# transactions above 128 KiB (core/txpool/legacypool: txMaxSize = 4 * 32 KiB), so
# nothing bigger could be broadcast through the public mempool anyway.
MAX_DATA_BYTES = 128 * 1024
# A whole sign-data payload larger than this is refused before it is parsed: room
# for the largest call data plus a large access list.
MAX_PAYLOAD_BYTES = 256 * 1024
# EIP-2930: a storage key is a 32-byte word.
STORAGE_KEY_LENGTH = 32
_UINT256 = "must be below 2**256"


class Kind(Enum):
    """How a field is carried in RLP and what Python value it decodes to."""

    UINT = "uint"  # canonical big-endian integer → int, bounded by FieldSpec.minimum/limit
    DESTINATION = "destination"  # 20-byte address → Address, or empty → None (creation)
    BYTES = "bytes"  # byte string → bytes, at most FieldSpec.limit bytes
    ACCESS_LIST = "access_list"  # EIP-2930 [[address, [storage_key, ...]], ...]
    ZERO = "zero"  # EIP-155 placeholder that must be the integer 0; not stored


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a layout: its attribute name, kind and bounds.

    For ``UINT``, values must satisfy ``minimum <= value < limit``; for ``BYTES``,
    ``len(value) <= limit``; other kinds ignore both. ``rule`` states the bound in
    words for error reasons.
    """

    name: str
    kind: Kind
    limit: int = 0
    minimum: int = 0
    rule: str = ""


# EIP-2681: the nonce is limited to 2**64 - 1 exclusive, so it can still be incremented.
NONCE = FieldSpec("nonce", Kind.UINT, limit=2**64 - 1, rule="must be below 2**64 - 1 (EIP-2681)")
# EIP-155: a chain id of 0 would give no replay protection; 64 bits is what clients hold.
CHAIN_ID = FieldSpec(
    "chain_id", Kind.UINT, limit=2**64, minimum=1, rule="must be at least 1 and below 2**64"
)
GAS_PRICE = FieldSpec("gas_price", Kind.UINT, limit=2**256, rule=_UINT256)
MAX_PRIORITY_FEE_PER_GAS = FieldSpec(
    "max_priority_fee_per_gas", Kind.UINT, limit=2**256, rule=_UINT256
)
MAX_FEE_PER_GAS = FieldSpec("max_fee_per_gas", Kind.UINT, limit=2**256, rule=_UINT256)
# Clients hold the gas limit in 64 bits (geth core/types: `Gas uint64`); a larger one
# could never be executed, so it is refused here rather than shown to the operator.
GAS_LIMIT = FieldSpec(
    "gas_limit", Kind.UINT, limit=2**64, rule="must be below 2**64 (clients hold it in 64 bits)"
)
TO = FieldSpec("to", Kind.DESTINATION)
VALUE = FieldSpec("value", Kind.UINT, limit=2**256, rule=_UINT256)
DATA = FieldSpec(
    "data", Kind.BYTES, limit=MAX_DATA_BYTES, rule=f"must be at most {MAX_DATA_BYTES} bytes"
)
ACCESS_LIST = FieldSpec("access_list", Kind.ACCESS_LIST)
# EIP-155: the unsigned legacy payload ends with [chainId, 0, 0] in the v, r, s slots.
EIP155_R = FieldSpec("r", Kind.ZERO)
EIP155_S = FieldSpec("s", Kind.ZERO)

# EIP-155: rlp([nonce, gasprice, startgas, to, value, data, chainid, 0, 0])
LEGACY_FIELDS = (NONCE, GAS_PRICE, GAS_LIMIT, TO, VALUE, DATA, CHAIN_ID, EIP155_R, EIP155_S)
# Pre-EIP-155 signing payloads had only the first six fields.
PRE_EIP155_FIELD_COUNT = 6
# EIP-2930: 0x01 || rlp([chainId, nonce, gasPrice, gasLimit, to, value, data, accessList])
ACCESS_LIST_FIELDS = (CHAIN_ID, NONCE, GAS_PRICE, GAS_LIMIT, TO, VALUE, DATA, ACCESS_LIST)
# EIP-1559: 0x02 || rlp([chain_id, nonce, max_priority_fee_per_gas, max_fee_per_gas,
#                        gas_limit, destination, amount, data, access_list])
DYNAMIC_FEE_FIELDS = (
    CHAIN_ID,
    NONCE,
    MAX_PRIORITY_FEE_PER_GAS,
    MAX_FEE_PER_GAS,
    GAS_LIMIT,
    TO,
    VALUE,
    DATA,
    ACCESS_LIST,
)


def names_of(fields: tuple[FieldSpec, ...]) -> tuple[str, ...]:
    """The names of a layout's fields in wire order (the RLP list's item names)."""
    return tuple(spec.name for spec in fields)


# EIP-2930: each access list entry is [address, [storage_key, ...]].
ACCESS_LIST_ENTRY_NAMES = ("address", "storage_keys")
DESTINATION_LENGTHS = (0, ADDRESS_LENGTH)
