"""Strict RLP: canonical-only decoding with named field paths and offsets, and encoding.

The decoder is driven one level at a time so that the transaction layer can name every
item it reads (``tx.access_list[0].storage_keys[1]``). Its unit is the :data:`Span`, a plain
tuple locating one header-checked item; an item's name is passed as its parent's path and
its key, and joined into a path (:func:`item_path`) only when an error is raised, so a
valid transaction builds no path at all. :func:`decode` is the generic recursive form of
the same walk. Only the one canonical encoding is accepted (Ethereum Yellow Paper, Appendix B):

- a single byte below 0x80 is its own encoding, never ``0x81 b``;
- lengths below 56 use the short form; long-form lengths have no leading zero byte;
- integers are minimal big-endian with no leading zero byte, and 0 is the empty string;
- every declared length is checked against the remaining input before it is used,
  and nothing may follow an item inside its list or after the top-level item.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import RLPError

# A decoded value: a byte string or a list of values.
RLPValue = bytes | tuple["RLPValue", ...]
# One located, header-checked item: (offset of its header, start and end of its payload,
# whether it is a list). Its payload is ``data[start:end]``.
Span = tuple[int, int, int, bool]
# How an item is named inside its parent: a field name, a list index, or nothing (the top).
Key = str | int | None

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


def item_path(parent: str, key: Key) -> str:
    """The path of the item ``key`` of ``parent``: ``parent.name``, ``parent[i]`` or ``parent``."""
    if key is None:
        return parent
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}"


def read_span(data: bytes, offset: int, limit: int, parent: str, key: Key, depth: int) -> Span:
    """Parse the header at ``offset``; the item must end at or before ``limit``.

    Errors name the item ``item_path(parent, key)``.
    """
    if depth > MAX_DEPTH:
        raise RLPError(
            item_path(parent, key), f"nesting deeper than {MAX_DEPTH} levels", offset=offset
        )
    if offset >= limit:
        raise RLPError(
            item_path(parent, key), "input ends where an item was expected", offset=offset
        )
    prefix = data[offset]
    if prefix < _SHORT_STRING:
        return offset, offset, offset + 1, False
    is_list = prefix >= _SHORT_LIST
    if prefix <= (_LONG_LIST if is_list else _LONG_STRING):
        length = prefix - (_SHORT_LIST if is_list else _SHORT_STRING)
        start = offset + 1
        if not is_list and length == 1 and start < limit and data[start] < _SHORT_STRING:
            raise RLPError(
                item_path(parent, key),
                "a single byte below 0x80 must be encoded as itself",
                offset=offset,
            )
    else:
        start = offset + 1 + prefix - (_LONG_LIST if is_list else _LONG_STRING)
        if start > limit:
            raise RLPError(
                item_path(parent, key),
                "length bytes run past the end of the input",
                offset=offset,
            )
        if data[offset + 1] == 0:
            raise RLPError(
                item_path(parent, key), "long-form length has a leading zero byte", offset=offset
            )
        length = int.from_bytes(data[offset + 1 : start], "big")
        if length < _SHORT_LIMIT:
            raise RLPError(
                item_path(parent, key),
                f"length {length} < 56 must use the short form",
                offset=offset,
            )
    if length > limit - start:
        raise RLPError(
            item_path(parent, key),
            f"declared length {length} exceeds the {limit - start} bytes remaining",
            offset=offset,
        )
    return offset, start, start + length, is_list


def read_top(data: bytes, offset: int, field: str) -> Span:
    """The one top-level item of ``data[offset:]``, named ``field``; trailing bytes are refused."""
    span = read_span(data, offset, len(data), field, None, 1)
    end = span[2]
    if end != len(data):
        raise RLPError(
            field, f"{len(data) - end} trailing bytes after the top-level item", offset=end
        )
    return span


def scan_list(
    data: bytes,
    span: Span,
    path: str,
    depth: int,
    names: Sequence[str] | None = None,
    *,
    exact: bool = True,
) -> list[Span]:
    """The items of list ``span`` (named ``path``, at ``depth``), every header checked.

    With ``names``, the first items are named ``path.name`` and the others ``path[i]``; with
    ``names`` and ``exact``, the list must hold exactly ``len(names)`` items (a surplus is
    refused as soon as it is seen). Every child header is checked against the list's own
    end, so no child can reach past its parent.
    """
    offset, position, end, is_list = span
    if not is_list:
        raise RLPError(path, "expected a list, got a byte string", offset=offset)
    children: list[Span] = []
    labels: Sequence[str] = () if names is None else names
    while position < end:
        index = len(children)
        key: Key = index
        if index < len(labels):
            key = labels[index]
        elif names is not None and exact:
            raise RLPError(path, f"too many items: expected {len(labels)}", offset=position)
        # The common case read inline: a byte string with a one-byte header that is its
        # canonical form (not 0x81 before a byte below 0x80) and ends inside the list, at a
        # depth within MAX_DEPTH. Anything else, valid or not, goes through read_span, which
        # makes the same checks and raises the error.
        prefix = data[position]
        if prefix < _SHORT_STRING and depth < MAX_DEPTH:
            child = position, position, position + 1, False
        elif prefix <= _LONG_STRING and depth < MAX_DEPTH:
            start = position + 1
            stop = start + prefix - _SHORT_STRING
            if stop <= end and (stop != start + 1 or data[start] >= _SHORT_STRING):
                child = position, start, stop, False
            else:
                child = read_span(data, position, end, path, key, depth + 1)
        else:
            child = read_span(data, position, end, path, key, depth + 1)
        children.append(child)
        position = child[2]
    if names is not None and exact:
        check_count(path, offset, children, len(labels))
    return children


def check_count(path: str, offset: int, children: Sequence[Span], expected: int) -> None:
    """Refuse the list at ``offset`` (named ``path``) unless it has ``expected`` ``children``."""
    if len(children) > expected:
        raise RLPError(path, f"too many items: expected {expected}", offset=children[expected][0])
    if len(children) < expected:
        raise RLPError(
            path, f"too few items: expected {expected}, got {len(children)}", offset=offset
        )


def span_bytes(data: bytes, span: Span, parent: str, key: Key) -> bytes:
    """The payload of byte-string ``span``; :class:`RLPError` if it is a list."""
    offset, start, end, is_list = span
    if is_list:
        raise RLPError(item_path(parent, key), "expected a byte string, got a list", offset=offset)
    return data[start:end]


def span_uint(data: bytes, span: Span, parent: str, key: Key) -> int:
    """The canonical unsigned integer in ``span``: no leading zero byte, at most 32 bytes."""
    offset, start, end, is_list = span
    if is_list:
        raise RLPError(item_path(parent, key), "expected an integer, got a list", offset=offset)
    if end > start and data[start] == 0:
        raise RLPError(
            item_path(parent, key),
            "integer has a leading zero byte (0 is the empty string)",
            offset=offset,
        )
    # Yellow Paper, Appendix B: scalars in transactions are at most 256 bits.
    if end - start > MAX_UINT_BYTES:
        raise RLPError(
            item_path(parent, key),
            f"integer of {end - start} bytes exceeds {MAX_UINT_BYTES} bytes",
            offset=offset,
        )
    return int.from_bytes(data[start:end], "big")


def decode(data: bytes, *, field: str = "rlp") -> RLPValue:
    """Decode one canonical RLP item filling all of ``data`` into bytes and tuples."""
    return _to_value(data, read_top(data, 0, field), field, 1)


def _to_value(data: bytes, span: Span, path: str, depth: int) -> RLPValue:
    # Recursion is bounded by MAX_DEPTH, enforced in read_span before descending.
    if not span[3]:
        return data[span[1] : span[2]]
    return tuple(
        _to_value(data, child, f"{path}[{index}]", depth + 1)
        for index, child in enumerate(scan_list(data, span, path, depth))
    )


def encode_uint(value: int) -> bytes:
    """Minimal big-endian bytes of a non-negative integer; 0 is ``b""``."""
    if value < 0:
        raise ValueError("RLP integers are unsigned")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


# Yellow Paper, Appendix B: the one-byte headers of strings and lists shorter than 56 bytes,
# made once (every transaction field has one; bytes([base + n]) per field cost a call each).
_STRING_HEADERS = tuple(bytes([_SHORT_STRING + length]) for length in range(_SHORT_LIMIT))
_LIST_HEADERS = tuple(bytes([_SHORT_LIST + length]) for length in range(_SHORT_LIMIT))


def _long_header(length: int, base: int) -> bytes:
    # Yellow Paper, Appendix B: base + 55 + len(BE(length)), then BE(length) with no leading
    # zero byte; base is 0x80 for a string, 0xc0 for a list.
    length_bytes = encode_uint(length)
    return bytes([base + _SHORT_LIMIT - 1 + len(length_bytes)]) + length_bytes


def encode(value: RLPValue) -> bytes:
    """Canonical RLP of ``value`` (bytes or nested tuples of bytes)."""
    if isinstance(value, bytes):
        length = len(value)
        if length == 1 and value[0] < _SHORT_STRING:
            return value
        if length < _SHORT_LIMIT:
            return _STRING_HEADERS[length] + value
        return _long_header(length, _SHORT_STRING) + value
    return encode_list(value)


def encode_list(items: Sequence[RLPValue]) -> bytes:
    """Canonical RLP of the list of ``items``.

    Short byte strings, which are nearly every transaction field, are written here with
    their header rather than through one :func:`encode` call each.
    """
    parts: list[bytes] = []
    for item in items:
        if isinstance(item, bytes) and len(item) < _SHORT_LIMIT:
            if len(item) != 1 or item[0] >= _SHORT_STRING:
                parts.append(_STRING_HEADERS[len(item)])
            parts.append(item)
        else:
            parts.append(encode(item))
    payload = b"".join(parts)
    length = len(payload)
    if length < _SHORT_LIMIT:
        return _LIST_HEADERS[length] + payload
    return _long_header(length, _SHORT_LIST) + payload
