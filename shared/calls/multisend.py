"""Safe MultiSend / MultiSendCallOnly ``multiSend(bytes)``: the packed batch, unpacked strictly.

Both contracts share the one selector; which of them a call reaches is decided by the
target address (the registries), never by the call data. So every entry's operation
is exposed as decoded and a policy can refuse delegatecalls inside a batch.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.address import ADDRESS_LENGTH, Address
from shared.calls.catalog import FunctionSpec, PackedTransactions
from shared.calls.model import CallKind, Operation
from shared.errors import CalldataError

_SOURCE = "safe-global/safe-smart-account v1.4.1 contracts/libraries/MultiSend.sol"
# MultiSend.sol: each entry is abi.encodePacked(uint8 operation, address to,
# uint256 value, uint256 dataLength, bytes data): 1 + 20 + 32 + 32 = 85 header bytes.
_OPERATION_AT = 0
_TO_AT = 1
_VALUE_AT = _TO_AT + ADDRESS_LENGTH
_LENGTH_AT = _VALUE_AT + 32
HEADER_LENGTH = _LENGTH_AT + 32
# Call data is at most 128 KiB (shared.tx.fields.MAX_DATA_BYTES): about 1,540 empty
# entries. A batch of 1,024 calls is twice the largest withdrawal batch coldsign plans for.
MAX_ENTRIES = 1024


@dataclass(frozen=True, slots=True)
class PackedEntry:
    """One MultiSend entry; ``offset`` is where its operation byte sits in the outer call data."""

    operation: Operation
    to: Address
    value: int
    data: bytes
    offset: int


def unpack_transactions(packed: bytes, *, path: str, offset: int = 0) -> tuple[PackedEntry, ...]:
    """Split a ``multiSend`` argument into its entries, refusing partial or trailing bytes.

    ``path`` names the argument in errors (``multiSend.transactions``); ``offset`` is
    where ``packed`` starts in the outer call data. Each entry's ``dataLength`` is
    checked against the bytes that remain before anything is sliced.
    """
    entries: list[PackedEntry] = []
    pos = 0
    while pos < len(packed):
        field = f"{path}[{len(entries)}]"
        if len(entries) == MAX_ENTRIES:
            raise CalldataError(path, f"more than {MAX_ENTRIES} entries", offset=offset + pos)
        remaining = len(packed) - pos
        if remaining < HEADER_LENGTH:
            raise CalldataError(
                field,
                f"truncated entry: {remaining} bytes left, an entry header needs {HEADER_LENGTH}",
                offset=offset + pos,
            )
        operation_byte = packed[pos + _OPERATION_AT]
        if operation_byte not in (Operation.CALL, Operation.DELEGATECALL):
            raise CalldataError(
                f"{field}.operation",
                f"operation must be 0 (call) or 1 (delegatecall), got {operation_byte}",
                offset=offset + pos,
            )
        to = Address(packed[pos + _TO_AT : pos + _VALUE_AT])
        value = int.from_bytes(packed[pos + _VALUE_AT : pos + _LENGTH_AT], "big")
        data_length = int.from_bytes(packed[pos + _LENGTH_AT : pos + HEADER_LENGTH], "big")
        data_start = pos + HEADER_LENGTH
        available = len(packed) - data_start
        if data_length > available:
            raise CalldataError(
                f"{field}.dataLength",
                f"dataLength {data_length} runs past the end: {available} bytes remain",
                offset=offset + pos + _LENGTH_AT,
            )
        entries.append(
            PackedEntry(
                Operation(operation_byte),
                to,
                value,
                packed[data_start : data_start + data_length],
                offset + pos,
            )
        )
        pos = data_start + data_length
    return tuple(entries)


def pack_transactions(entries: Iterable[tuple[Operation, Address, int, bytes]]) -> bytes:
    """The packed ``multiSend`` argument for ``(operation, to, value, data)`` entries."""
    return b"".join(
        bytes([operation])
        + to.raw
        + value.to_bytes(32, "big")
        + len(data).to_bytes(32, "big")
        + data
        for operation, to, value, data in entries
    )


FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "multiSend(bytes)",
        "0x8d80ff0a",
        CallKind.MULTISEND,
        ("transactions",),
        f"{_SOURCE}; MultiSendCallOnly.sol has the same signature",
        inner=PackedTransactions("transactions"),
    ),
)
