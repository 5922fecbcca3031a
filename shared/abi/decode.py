"""Strict ABI decoding: canonical encodings only, every byte accounted for, errors name the field.

The Solidity ABI allows many byte strings for one value (offsets may point anywhere,
padding is ignored by most decoders, trailing bytes are ignored). coldsign accepts
exactly one: the encoding the encoder in :mod:`shared.abi.encode` would produce. So
``encode_values(types, decode_values(types, data)) == data`` for every accepted input,
and two parties can never see different arguments in the same bytes.

Canonical means, beyond the value rules of each type:
- heads are laid out in order and each dynamic value's tail starts exactly where the
  previous dynamic value of the same tuple ended (so no offset can point into the head,
  alias another value, leave a gap, or be unaligned);
- every padding byte is zero;
- nothing follows the last value.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.abi.types import (
    WORD,
    AbiType,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    StringType,
    TupleType,
    UIntType,
    head_size,
    is_dynamic,
)
from shared.abi.values import AbiValue, NonUtf8String
from shared.address import Address
from shared.errors import CalldataError

# Array lengths above this are refused before anything is allocated. Call data is
# bounded at 128 KiB (shared.tx.fields.MAX_DATA_BYTES), which holds at most 4096
# one-word elements, so no broadcastable call needs more.
MAX_ARRAY_LENGTH = 4096
_ADDRESS_PADDING = WORD - 20


def decode_values(
    types: Sequence[AbiType],
    data: bytes,
    *,
    path: str,
    names: Sequence[str] | None = None,
    offset: int = 0,
) -> tuple[AbiValue, ...]:
    """Decode ``data`` as the ABI encoding of a tuple of ``types`` (function arguments).

    ``path`` prefixes every error's field (``transfer`` gives ``transfer.amount``);
    ``names`` names the components (else they are numbered); ``offset`` is where
    ``data`` starts in the enclosing buffer, so errors carry absolute byte offsets.
    Raises :class:`CalldataError` for anything but the canonical encoding.
    """
    return tuple(
        value for value, _ in decode_values_at(types, data, path=path, names=names, offset=offset)
    )


def decode_values_at(
    types: Sequence[AbiType],
    data: bytes,
    *,
    path: str,
    names: Sequence[str] | None = None,
    offset: int = 0,
) -> tuple[tuple[AbiValue, int], ...]:
    """Like :func:`decode_values`, pairing each value with the absolute offset of its encoding.

    For a dynamic value the offset is where its tail starts (for ``bytes``, its length
    word), so callers can report positions inside a nested payload.
    """
    if names is not None and len(names) != len(types):
        raise ValueError("names and types differ in length")
    paths = [
        f"{path}.{names[i]}" if names is not None else f"{path}.{i}" for i in range(len(types))
    ]
    reader = _Reader(bytes(data), offset)
    values, positions, end = reader.composite(tuple(types), paths, 0)
    if end != len(reader.buf):
        raise CalldataError(
            path,
            f"{len(reader.buf) - end} trailing bytes after the last encoded value",
            offset=offset + end,
        )
    return tuple(zip(values, (offset + p for p in positions), strict=True))


class _Reader:
    """Walks one buffer; ``base`` is the buffer's offset in the outermost call data."""

    __slots__ = ("base", "buf")

    def __init__(self, buf: bytes, base: int) -> None:
        self.buf = buf
        self.base = base

    def fail(self, field: str, reason: str, pos: int) -> CalldataError:
        return CalldataError(field, reason, offset=self.base + pos)

    def word(self, field: str, pos: int, what: str) -> bytes:
        if pos + WORD > len(self.buf):
            raise self.fail(
                field,
                f"{what} needs 32 bytes but only {max(len(self.buf) - pos, 0)} remain",
                pos,
            )
        return self.buf[pos : pos + WORD]

    def composite(
        self, types: tuple[AbiType, ...], paths: Sequence[str], start: int
    ) -> tuple[list[AbiValue], list[int], int]:
        """Decode a head/tail tuple at ``start``; return values, their positions and the end."""
        head_total = sum(head_size(t) for t in types)
        values: list[AbiValue] = []
        positions: list[int] = []
        head = start
        tail = start + head_total
        for abi_type, field in zip(types, paths, strict=True):
            size = head_size(abi_type)
            if head + size > len(self.buf):
                raise self.fail(
                    field,
                    f"head needs {size} bytes but only {max(len(self.buf) - head, 0)} remain",
                    head,
                )
            if is_dynamic(abi_type):
                target = self.offset(field, head, start, head_total, tail)
                value, tail = self.dynamic(abi_type, field, target)
                positions.append(target)
            else:
                value = self.static(abi_type, field, head)
                positions.append(head)
            values.append(value)
            head += size
        return values, positions, tail

    def offset(self, field: str, head: int, start: int, head_total: int, expected: int) -> int:
        """Read a dynamic value's offset word and insist it is the canonical one."""
        relative = int.from_bytes(self.buf[head : head + WORD], "big")
        available = len(self.buf) - start
        if relative >= available:
            raise self.fail(
                field,
                f"offset {relative} points past the end of the data ({available} bytes)",
                head,
            )
        if relative % WORD:
            raise self.fail(field, f"offset {relative} is not a multiple of 32", head)
        if relative < head_total:
            raise self.fail(
                field, f"offset {relative} points into the head ({head_total} bytes)", head
            )
        target = start + relative
        if target < expected:
            raise self.fail(
                field,
                f"offset {relative} points into bytes already used by an earlier value"
                " (aliased offsets)",
                head,
            )
        if target > expected:
            raise self.fail(
                field,
                f"offset {relative} leaves {target - expected} unreferenced bytes"
                f" (canonical offset is {expected - start})",
                head,
            )
        return target

    def dynamic(self, abi_type: AbiType, field: str, pos: int) -> tuple[AbiValue, int]:
        """Decode a dynamic value whose tail starts at ``pos``; return it and where it ends."""
        if isinstance(abi_type, BytesType | StringType):
            return self.byte_string(abi_type, field, pos)
        if isinstance(abi_type, ArrayType):
            if abi_type.length is None:
                count = self.array_length(abi_type.item, field, pos)
                start = pos + WORD
            else:
                count = abi_type.length
                start = pos
            items = (abi_type.item,) * count
            paths = [f"{field}[{i}]" for i in range(count)]
            values, _, end = self.composite(items, paths, start)
            return tuple(values), end
        if isinstance(abi_type, TupleType):
            paths = [f"{field}.{i}" for i in range(len(abi_type.components))]
            values, _, end = self.composite(abi_type.components, paths, pos)
            return tuple(values), end
        raise TypeError(f"{abi_type!r} is not dynamic")

    def array_length(self, item: AbiType, field: str, pos: int) -> int:
        count = int.from_bytes(self.word(field, pos, "array length"), "big")
        if count > MAX_ARRAY_LENGTH:
            raise self.fail(
                field, f"array length {count} exceeds the limit of {MAX_ARRAY_LENGTH}", pos
            )
        remaining = len(self.buf) - pos - WORD
        needed = count * head_size(item)
        if needed > remaining:
            raise self.fail(
                field,
                f"array length {count} needs at least {needed} bytes but only {remaining} remain",
                pos,
            )
        return count

    def byte_string(
        self, abi_type: BytesType | StringType, field: str, pos: int
    ) -> tuple[AbiValue, int]:
        length = int.from_bytes(self.word(field, pos, "length"), "big")
        start = pos + WORD
        remaining = len(self.buf) - start
        # Compare before slicing: a forged length must never size an allocation.
        if length > remaining:
            raise self.fail(field, f"length {length} exceeds the {remaining} bytes remaining", pos)
        padded = -(-length // WORD) * WORD
        if padded > remaining:
            raise self.fail(
                field,
                f"length {length} needs {padded} padded bytes but only {remaining} remain",
                pos,
            )
        content = self.buf[start : start + length]
        self.zero_padding(field, start + length, start + padded, "padding after the content")
        if isinstance(abi_type, BytesType):
            return content, start + padded
        try:
            return content.decode("utf-8"), start + padded
        except UnicodeDecodeError as exc:
            return NonUtf8String(content, exc.start), start + padded

    def zero_padding(self, field: str, begin: int, end: int, what: str) -> None:
        for index in range(begin, end):
            if self.buf[index]:
                raise self.fail(field, f"non-zero byte in the {what}", index)

    def static(self, abi_type: AbiType, field: str, pos: int) -> AbiValue:
        """Decode a static value at ``pos``; the caller has checked it fits."""
        if isinstance(abi_type, ArrayType | TupleType):
            if isinstance(abi_type, ArrayType):
                count = abi_type.length or 0
                items: tuple[AbiType, ...] = (abi_type.item,) * count
                paths = [f"{field}[{i}]" for i in range(count)]
            else:
                items = abi_type.components
                paths = [f"{field}.{i}" for i in range(len(items))]
            values, _, _ = self.composite(items, paths, pos)
            return tuple(values)
        word = self.buf[pos : pos + WORD]
        if isinstance(abi_type, UIntType):
            value = int.from_bytes(word, "big")
            if value >> abi_type.bits:
                raise self.fail(field, f"{value} does not fit in {abi_type.canonical()}", pos)
            return value
        if isinstance(abi_type, IntType):
            value = int.from_bytes(word, "big", signed=True)
            bound = 1 << (abi_type.bits - 1)
            if not -bound <= value < bound:
                raise self.fail(
                    field,
                    f"word is not a sign-extended {abi_type.canonical()}",
                    pos,
                )
            return value
        if isinstance(abi_type, AddressType):
            self.zero_padding(field, pos, pos + _ADDRESS_PADDING, "12-byte address padding")
            return Address(word[_ADDRESS_PADDING:])
        if isinstance(abi_type, BoolType):
            value = int.from_bytes(word, "big")
            if value > 1:
                raise self.fail(field, "bool must be 0 or 1", pos)
            return value == 1
        if isinstance(abi_type, FixedBytesType):
            self.zero_padding(
                field, pos + abi_type.size, pos + WORD, f"padding of {abi_type.canonical()}"
            )
            return word[: abi_type.size]
        raise TypeError(f"{abi_type!r} is not static")
