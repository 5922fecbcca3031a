"""Strict RLP: canonical-only decoding with named field paths and offsets, and encoding.

The decoder is driven one level at a time (:func:`decode_top`, :func:`list_children`,
:func:`item_bytes`, :func:`item_uint`) so that the transaction layer can name every
item it reads (``tx.access_list[0].storage_keys[1]``); :func:`decode` is the generic
recursive form on top of it. Only the one canonical encoding is accepted (Ethereum
Yellow Paper, Appendix B):

- a single byte below 0x80 is its own encoding, never ``0x81 b``;
- lengths below 56 use the short form; long-form lengths have no leading zero byte;
- integers are minimal big-endian with no leading zero byte, and 0 is the empty string;
- every declared length is checked against the remaining input before it is used,
  and nothing may follow an item inside its list or after the top-level item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.errors import RLPError

# A decoded value: a byte string or a list of values.
RLPValue = bytes | tuple["RLPValue", ...]

# Deep enough for every transaction layout (tx → access_list → entry → storage_keys);
# anything deeper is refused before it is walked.
MAX_DEPTH = 16
MAX_UINT_BYTES = 32

# Yellow Paper, Appendix B: 0x80 + len for strings shorter than 56 bytes,
# 0xb7 + len(len) above; 0xc0 / 0xf7 for lists.
_SHORT_STRING = 0x80
_LONG_STRING = 0xB7
_SHORT_LIST = 0xC0
_LONG_LIST = 0xF7
_SHORT_LIMIT = 56


@dataclass(frozen=True, slots=True)
class RLPItem:
    """One located, header-checked item of ``data``: its payload is ``data[start:end]``."""

    data: bytes
    path: str
    offset: int
    start: int
    end: int
    is_list: bool
    depth: int

    @property
    def length(self) -> int:
        """The payload length in bytes."""
        return self.end - self.start


def _read_item(data: bytes, offset: int, limit: int, path: str, depth: int) -> RLPItem:
    """Parse the header at ``offset``; the item must end at or before ``limit``."""
    if depth > MAX_DEPTH:
        raise RLPError(path, f"nesting deeper than {MAX_DEPTH} levels", offset=offset)
    if offset >= limit:
        raise RLPError(path, "input ends where an item was expected", offset=offset)
    prefix = data[offset]
    if prefix < _SHORT_STRING:
        return RLPItem(data, path, offset, offset, offset + 1, False, depth)
    is_list = prefix >= _SHORT_LIST
    base = _SHORT_LIST if is_list else _SHORT_STRING
    long_base = _LONG_LIST if is_list else _LONG_STRING
    if prefix <= long_base:
        length = prefix - base
        start = offset + 1
        if not is_list and length == 1 and start < limit and data[start] < _SHORT_STRING:
            raise RLPError(
                path, "a single byte below 0x80 must be encoded as itself", offset=offset
            )
    else:
        length_of_length = prefix - long_base
        start = offset + 1 + length_of_length
        if start > limit:
            raise RLPError(path, "length bytes run past the end of the input", offset=offset)
        if data[offset + 1] == 0:
            raise RLPError(path, "long-form length has a leading zero byte", offset=offset)
        length = int.from_bytes(data[offset + 1 : start], "big")
        if length < _SHORT_LIMIT:
            raise RLPError(path, f"length {length} < 56 must use the short form", offset=offset)
    if length > limit - start:
        raise RLPError(
            path,
            f"declared length {length} exceeds the {limit - start} bytes remaining",
            offset=offset,
        )
    return RLPItem(data, path, offset, start, start + length, is_list, depth)


def decode_top(data: bytes, *, field: str, base_offset: int = 0) -> RLPItem:
    """Parse the one top-level item of ``data[base_offset:]``; trailing bytes are refused."""
    item = _read_item(data, base_offset, len(data), field, 1)
    if item.end != len(data):
        raise RLPError(
            field,
            f"{len(data) - item.end} trailing bytes after the top-level item",
            offset=item.end,
        )
    return item


def list_children(
    item: RLPItem, names: Sequence[str] | None = None, *, exact: bool = True
) -> tuple[RLPItem, ...]:
    """The items of list ``item``; with ``names``, the first ones are named ``path.name``.

    Other children are named ``path[i]``. With ``names`` and ``exact``, the list must
    hold exactly ``len(names)`` items (a surplus is refused as soon as it is seen).
    Every child header is checked against the list's own end, so no child can reach
    past its parent.
    """
    if not item.is_list:
        raise RLPError(item.path, "expected a list, got a byte string", offset=item.offset)
    children: list[RLPItem] = []
    position = item.start
    while position < item.end:
        index = len(children)
        if names is not None and index < len(names):
            path = f"{item.path}.{names[index]}"
        elif names is not None and exact:
            raise RLPError(item.path, f"too many items: expected {len(names)}", offset=position)
        else:
            path = f"{item.path}[{index}]"
        child = _read_item(item.data, position, item.end, path, item.depth + 1)
        children.append(child)
        position = child.end
    if names is not None and exact:
        check_count(item, children, len(names))
    return tuple(children)


def check_count(item: RLPItem, children: Sequence[RLPItem], expected: int) -> None:
    """Refuse a list ``item`` whose ``children`` are not exactly ``expected`` items."""
    if len(children) > expected:
        raise RLPError(
            item.path, f"too many items: expected {expected}", offset=children[expected].offset
        )
    if len(children) < expected:
        raise RLPError(
            item.path,
            f"too few items: expected {expected}, got {len(children)}",
            offset=item.offset,
        )


def item_bytes(item: RLPItem) -> bytes:
    """The payload of byte-string ``item``; :class:`RLPError` if it is a list."""
    if item.is_list:
        raise RLPError(item.path, "expected a byte string, got a list", offset=item.offset)
    return item.data[item.start : item.end]


def item_uint(item: RLPItem) -> int:
    """The canonical unsigned integer in ``item``: no leading zero byte, at most 32 bytes."""
    if item.is_list:
        raise RLPError(item.path, "expected an integer, got a list", offset=item.offset)
    if item.length and item.data[item.start] == 0:
        raise RLPError(
            item.path,
            "integer has a leading zero byte (0 is the empty string)",
            offset=item.offset,
        )
    # Yellow Paper, Appendix B: scalars in transactions are at most 256 bits.
    if item.length > MAX_UINT_BYTES:
        raise RLPError(
            item.path,
            f"integer of {item.length} bytes exceeds {MAX_UINT_BYTES} bytes",
            offset=item.offset,
        )
    return int.from_bytes(item.data[item.start : item.end], "big")


def decode(data: bytes, *, field: str = "rlp") -> RLPValue:
    """Decode one canonical RLP item filling all of ``data`` into bytes and tuples."""
    return _to_value(decode_top(data, field=field))


def _to_value(item: RLPItem) -> RLPValue:
    # Recursion is bounded by MAX_DEPTH, enforced in _read_item before descending.
    if not item.is_list:
        return item_bytes(item)
    return tuple(_to_value(child) for child in list_children(item))


def encode_uint(value: int) -> bytes:
    """Minimal big-endian bytes of a non-negative integer; 0 is ``b""``."""
    if value < 0:
        raise ValueError("RLP integers are unsigned")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _length_header(length: int, base: int) -> bytes:
    if length < _SHORT_LIMIT:
        return bytes([base + length])
    length_bytes = encode_uint(length)
    return bytes([base + _SHORT_LIMIT - 1 + len(length_bytes)]) + length_bytes


def encode(value: RLPValue) -> bytes:
    """Canonical RLP of ``value`` (bytes or nested tuples of bytes)."""
    if isinstance(value, bytes):
        if len(value) == 1 and value[0] < _SHORT_STRING:
            return value
        return _length_header(len(value), _SHORT_STRING) + value
    payload = b"".join(encode(child) for child in value)
    return _length_header(len(payload), _SHORT_LIST) + payload
