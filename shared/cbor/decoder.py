"""Strict decoding of untrusted deterministic CBOR, with limits checked before allocation."""

from __future__ import annotations

import struct

from shared.cbor.model import (
    ARRAY,
    BYTES,
    DEFAULT_LIMITS,
    MAP,
    NEGINT,
    SIMPLE,
    TEXT,
    UINT,
    CborKey,
    CborLimits,
    CborValue,
    EncodedTag,
    Tag,
)
from shared.errors import CborError, CborLimitError, NonCanonicalError

_READ16 = struct.Struct(">H").unpack_from
_READ32 = struct.Struct(">I").unpack_from
_READ64 = struct.Struct(">Q").unpack_from


def decode(
    data: bytes | bytearray | memoryview,
    *,
    allowed_tags: frozenset[int] = frozenset(),
    limits: CborLimits = DEFAULT_LIMITS,
    shared_tags: frozenset[int] = frozenset(),
    encoded_tags: frozenset[int] = frozenset(),
) -> CborValue:
    """Decode exactly one deterministic CBOR data item from untrusted ``data``.

    Arrays come back as ``list``, maps as ``dict``, tags as :class:`Tag`. A tag whose
    number is in ``shared_tags`` (and in ``allowed_tags``) comes back as an
    :class:`EncodedTag` carrying its content's bytes; when that content repeats the previous
    content of the same tag byte for byte (and fits the limits where it stands), the previous
    object is returned again, so its value is shared and must not be mutated. A tag whose
    number is in ``encoded_tags`` (and in ``allowed_tags``) also comes back as an
    :class:`EncodedTag`, never shared. Raises
    :class:`~shared.errors.CborError` (or its subclasses ``NonCanonicalError`` and
    ``CborLimitError``) whose ``field`` is a path such as ``$``, ``$[2]``, ``$.{3}``
    (the value at map key 3), ``$.{3}#37`` (inside tag 37 there) or ``$.key[1]`` (the
    second key of a map), and whose ``offset`` is the byte where the problem starts.
    """
    size = data.nbytes if isinstance(data, memoryview) else len(data)
    if size > limits.max_size:
        raise CborLimitError(
            "$", f"input is {size} bytes, more than max_size {limits.max_size}", offset=0
        )
    raw = data if type(data) is bytes else bytes(data)
    if size == 0:
        raise CborError("$", "truncated: empty input", offset=0)
    decoder = _Decoder(raw, allowed_tags, limits, shared_tags, encoded_tags)
    try:
        value, end = decoder.item(0, 0)
        if end != size:
            raise _Refusal(CborError, "trailing bytes after the top-level item", end)
    except _Refusal as refusal:
        field = "$" + "".join(reversed(refusal.path))
        raise refusal.error(field, refusal.reason, offset=refusal.offset) from None
    # No re-encoding check: every rule of RFC 8949 §4.2.1 is refused inline where the item
    # is read (shortest heads and lengths in head(), definite lengths, strictly ascending
    # key encodings in map(), no floats or other simple values), so an accepted value
    # re-encodes to exactly ``raw``. tests/shared/test_cbor.py names a refusal for each
    # rule, and the property tests and benchmarks/fuzz_decoders.py assert the round trip.
    return value


class _Refusal(Exception):
    """Raised inside the decoder; each enclosing container adds its path segment on the way out."""

    def __init__(self, error: type[CborError], reason: str, offset: int) -> None:
        super().__init__(reason)
        self.error = error
        self.reason = reason
        self.offset = offset
        self.path: list[str] = []

    def at(self, segment: str) -> _Refusal:
        """Name the path segment where the refused item sits (innermost first)."""
        self.path.append(segment)
        return self


_SIMPLE_NAMES = {23: "simple value 23 (undefined)"}


def _key_label(key: CborKey) -> str:
    # CBOR diagnostic notation (RFC 8949 §8), shortened so an error message stays one line.
    if isinstance(key, int):
        return str(key)
    if isinstance(key, bytes):
        text = key[:16].hex()
        return f"h'{text}'" if len(key) <= 16 else f"h'{text}...'"
    shown = key if len(key) <= 32 else key[:32] + "..."
    return '"' + shown.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'


class _Decoder:
    """One decoding pass over ``data``; holds the item counter shared by every level."""

    __slots__ = (
        "allowed_tags",
        "data",
        "encoded_tags",
        "items",
        "last_shared",
        "max_depth",
        "max_items",
        "max_length",
        "shared_tags",
        "size",
    )

    def __init__(
        self,
        data: bytes,
        allowed_tags: frozenset[int],
        limits: CborLimits,
        shared_tags: frozenset[int],
        encoded_tags: frozenset[int],
    ) -> None:
        self.data = data
        self.size = len(data)
        self.allowed_tags = allowed_tags
        self.shared_tags = shared_tags
        self.encoded_tags = encoded_tags
        self.max_depth = limits.max_depth
        self.max_items = limits.max_items
        self.max_length = limits.max_length
        self.items = 0
        # Per shared tag number, the last one decoded: (the tag, items in its content, the
        # nesting levels of its content).
        self.last_shared: dict[int, tuple[EncodedTag, int, int]] = {}

    def head(self, pos: int) -> tuple[int, int, int]:
        """Read the head at ``pos``: (major type, argument, position after the head)."""
        data = self.data
        initial = data[pos]
        major = initial >> 5
        info = initial & 0x1F
        if info < 24:
            return major, info, pos + 1
        if major == SIMPLE and info <= 27:
            # ai 24 is the one-byte simple form, 25/26/27 are half/single/double floats.
            reason = "floats are not allowed" if info > 24 else "simple values are not allowed"
            raise _Refusal(CborError, reason, pos)
        if info == 24:
            if pos + 2 > self.size:
                raise _Refusal(CborError, "truncated: head needs 1 more byte", pos)
            arg = data[pos + 1]
            if arg < 24:
                raise _Refusal(NonCanonicalError, "argument not in shortest form", pos)
            return major, arg, pos + 2
        if info == 25:
            if pos + 3 > self.size:
                raise _Refusal(CborError, "truncated: head needs 2 more bytes", pos)
            arg = _READ16(data, pos + 1)[0]
            if arg < 0x100:
                raise _Refusal(NonCanonicalError, "argument not in shortest form", pos)
            return major, arg, pos + 3
        if info == 26:
            if pos + 5 > self.size:
                raise _Refusal(CborError, "truncated: head needs 4 more bytes", pos)
            arg = _READ32(data, pos + 1)[0]
            if arg < 0x10000:
                raise _Refusal(NonCanonicalError, "argument not in shortest form", pos)
            return major, arg, pos + 5
        if info == 27:
            if pos + 9 > self.size:
                raise _Refusal(CborError, "truncated: head needs 8 more bytes", pos)
            arg = _READ64(data, pos + 1)[0]
            if arg < 0x100000000:
                raise _Refusal(NonCanonicalError, "argument not in shortest form", pos)
            return major, arg, pos + 9
        if info < 31:
            raise _Refusal(CborError, f"reserved additional information {info}", pos)
        if major == SIMPLE:
            raise _Refusal(CborError, "break byte 0xff out of place", pos)
        if major in (BYTES, TEXT, ARRAY, MAP):
            kind = ("byte string", "text string", "array", "map")[major - BYTES]
            raise _Refusal(NonCanonicalError, f"indefinite-length {kind}", pos)
        raise _Refusal(CborError, f"additional information 31 is not valid for major {major}", pos)

    def length(self, count: int, pos: int, start: int, unit: int) -> None:
        """Check a declared length before anything is sliced or allocated for it."""
        if count > self.max_length:
            raise _Refusal(
                CborLimitError,
                f"declared length {count} exceeds max_length {self.max_length}",
                start,
            )
        remaining = self.size - pos
        # Each byte of a string takes a byte, each array element at least one, each map
        # entry at least two.
        if count * unit > remaining:
            raise _Refusal(
                CborLimitError,
                f"declared length {count} needs at least {count * unit} bytes;"
                f" {remaining} bytes remaining",
                start,
            )

    def string(self, major: int, count: int, body: int, start: int) -> tuple[str | bytes, int]:
        """The byte or text string of ``count`` bytes at ``body`` whose head is at ``start``."""
        end = body + count
        if count > self.max_length or end > self.size:
            self.length(count, body, start, 1)
        if major == BYTES:
            return self.data[body:end], end
        try:
            # Python's strict UTF-8 codec refuses overlong forms and surrogates.
            return self.data[body:end].decode("utf-8"), end
        except UnicodeDecodeError as exc:
            raise _Refusal(CborError, "invalid UTF-8 in text string", body + exc.start) from None

    def key(self, pos: int) -> tuple[CborKey, int]:
        """Decode a map key at ``pos``: only integers, text and byte strings may be keys."""
        if pos >= self.size:
            raise _Refusal(CborError, "truncated: a data item is missing", pos)
        self.items += 1
        if self.items > self.max_items:
            raise self.too_many_items(pos)
        initial = self.data[pos]
        major = initial >> 5
        # A break byte gets its own, more specific refusal from head().
        if major > TEXT and initial != 0xFF:
            raise _Refusal(CborError, "map key must be an integer, text or byte string", pos)
        arg = initial & 0x1F
        if arg < 24:
            body = pos + 1
        else:
            major, arg, body = self.head(pos)
        if major == UINT:
            return arg, body
        if major == NEGINT:
            return -1 - arg, body
        return self.string(major, arg, body, pos)

    def item(self, pos: int, depth: int) -> tuple[CborValue, int]:
        """Decode the data item at ``pos`` nested ``depth`` levels deep; return it and its end."""
        if pos >= self.size:
            raise _Refusal(CborError, "truncated: a data item is missing", pos)
        self.items += 1
        if self.items > self.max_items:
            raise self.too_many_items(pos)
        data = self.data
        initial = data[pos]
        major = initial >> 5
        arg = initial & 0x1F
        if arg < 24:
            body = pos + 1
        elif arg == 24 and major != SIMPLE and pos + 1 < self.size and data[pos + 1] >= 24:
            # The one-byte argument in its shortest form, as head() would read it.
            arg = data[pos + 1]
            body = pos + 2
        elif arg == 25 and major != SIMPLE and pos + 2 < self.size and data[pos + 1]:
            # The two-byte argument in its shortest form (256 or more), as head() would read
            # it: tags such as 304 and 401, lengths such as 400.
            arg = data[pos + 1] << 8 | data[pos + 2]
            body = pos + 3
        else:
            major, arg, body = self.head(pos)
        if major == UINT:
            return arg, body
        if major == BYTES:
            end = body + arg
            if arg > self.max_length or end > self.size:
                self.length(arg, body, pos, 1)
            return data[body:end], end
        if major == TEXT:
            return self.string(major, arg, body, pos)
        if major == NEGINT:
            return -1 - arg, body
        if major == SIMPLE:
            # head() let through only arguments below 24.
            if arg == 20:
                return False, body
            if arg == 21:
                return True, body
            if arg == 22:
                return None, body
            name = _SIMPLE_NAMES.get(arg, f"simple value {arg}")
            raise _Refusal(CborError, f"{name} is not allowed", pos)
        if depth >= self.max_depth:
            raise _Refusal(CborLimitError, f"nesting deeper than max_depth {self.max_depth}", pos)
        depth += 1
        if major == MAP:
            return self.map(arg, body, pos, depth)
        if major == ARRAY:
            return self.array(arg, body, pos, depth)
        # major == TAG
        if arg not in self.allowed_tags:
            raise _Refusal(CborError, f"tag {arg} is not allowed here", pos)
        if arg in self.shared_tags:
            return self.shared(arg, body, depth)
        try:
            value, end = self.item(body, depth)
        except _Refusal as refusal:
            raise refusal.at(f"#{arg}") from None
        if arg in self.encoded_tags:
            # The content was read from data[body:end] and decoding is canonical, so these
            # bytes are exactly its encoding.
            return EncodedTag(arg, value, data[body:end]), end
        return Tag(arg, value), end

    def shared(self, number: int, pos: int, depth: int) -> tuple[CborValue, int]:
        """The content at ``pos`` of a tag in ``shared_tags``, as an :class:`EncodedTag`.

        Content identical to the last one of this tag decodes to the same value, so when
        its bytes repeat and it fits the depth and item limits here as well, the last tag
        is returned without reading it again; otherwise it is decoded as any item.
        """
        last = self.last_shared.get(number)
        if last is not None:
            tag, items, levels = last
            if (
                self.data.startswith(tag.encoded, pos)
                and depth + levels <= self.max_depth
                and self.items + items <= self.max_items
            ):
                self.items += items
                return tag, pos + len(tag.encoded)
        before = self.items
        try:
            value, end = self.item(pos, depth)
        except _Refusal as refusal:
            raise refusal.at(f"#{number}") from None
        tag = EncodedTag(number, value, self.data[pos:end])
        self.last_shared[number] = (tag, self.items - before, _levels(value))
        return tag, end

    def too_many_items(self, pos: int) -> _Refusal:
        """The refusal for the item at ``pos`` when it is one more than ``max_items``."""
        return _Refusal(CborLimitError, f"more than max_items {self.max_items} data items", pos)

    def array(self, count: int, pos: int, start: int, depth: int) -> tuple[CborValue, int]:
        """Decode ``count`` array elements from ``pos`` (the array's head is at ``start``)."""
        if count > self.max_length or pos + count > self.size:
            self.length(count, pos, start, 1)
        data = self.data
        size = self.size
        item = self.item
        array: list[CborValue] = []
        append = array.append
        try:
            for _ in range(count):
                # One-byte items (small integers, false, true, null) are read here rather
                # than in item(): the same checks, without a call per element.
                one_byte = _ONE_BYTE[data[pos]] if pos < size else None
                if one_byte is not None:
                    self.items += 1
                    if self.items > self.max_items:
                        raise self.too_many_items(pos)
                    append(one_byte[0])
                    pos += 1
                elif pos + 1 < size and data[pos] == 0x18 and data[pos + 1] >= 24:
                    # An unsigned integer 24..255 in its shortest form (BIP-32 indexes
                    # such as 44 and 60), as item() would read it.
                    self.items += 1
                    if self.items > self.max_items:
                        raise self.too_many_items(pos)
                    append(data[pos + 1])
                    pos += 2
                else:
                    value, pos = item(pos, depth)
                    append(value)
        except _Refusal as refusal:
            raise refusal.at(f"[{len(array)}]") from None
        return array, pos

    def map(self, count: int, pos: int, start: int, depth: int) -> tuple[CborValue, int]:
        """Decode ``count`` map entries from ``pos``; keys must ascend bytewise (§4.2.1)."""
        if count > self.max_length or pos + 2 * count > self.size:
            self.length(count, pos, start, 2)
        data = self.data
        size = self.size
        key_at = self.key
        item = self.item
        result: dict[CborKey, CborValue] = {}
        previous = b""
        for index in range(count):
            key_start = pos
            initial = data[pos] if pos < size else 0xFF
            if initial < 24 and (not previous or initial > previous[0]):
                # An unsigned key below 24 is its own one-byte encoding, and it sorts after
                # the previous key when it is above that key's first byte.
                self.items += 1
                if self.items > self.max_items:
                    raise self.too_many_items(pos).at(f".key[{index}]")
                key: CborKey = initial
                pos += 1
                previous = data[key_start:pos]
            else:
                try:
                    key, pos = key_at(pos)
                except _Refusal as refusal:
                    raise refusal.at(f".key[{index}]") from None
                # A scalar key that decoded is canonical, so its input bytes are its encoding.
                key_bytes = data[key_start:pos]
                if key_bytes <= previous:
                    label = _key_label(key)
                    if key_bytes == previous:
                        raise _Refusal(CborError, "duplicate map key", key_start).at(
                            f".{{{label}}}"
                        )
                    raise _Refusal(
                        NonCanonicalError,
                        "map keys not in bytewise order of their encoding",
                        key_start,
                    ).at(f".{{{label}}}")
                previous = key_bytes
            one_byte = _ONE_BYTE[data[pos]] if pos < size else None
            if one_byte is None:
                try:
                    value, pos = item(pos, depth)
                except _Refusal as refusal:
                    raise refusal.at(f".{{{_key_label(key)}}}") from None
            else:
                self.items += 1
                if self.items > self.max_items:
                    raise self.too_many_items(pos).at(f".{{{_key_label(key)}}}")
                value = one_byte[0]
                pos += 1
            result[key] = value
        return result, pos


# RFC 8949 §3: the items whose whole encoding is one byte and which coldsign accepts, each
# as a 1-tuple of its value: unsigned 0..23 (0x00..0x17), negative -1..-24 (0x20..0x37),
# false, true, null (0xf4..0xf6). Every other initial byte is None and goes through item().
_ONE_BYTE_VALUES: dict[int, CborValue] = {
    **{initial: initial for initial in range(24)},
    **{0x20 + arg: -1 - arg for arg in range(24)},
    0xF4: False,
    0xF5: True,
    0xF6: None,
}
_ONE_BYTE: tuple[tuple[CborValue] | None, ...] = tuple(
    (_ONE_BYTE_VALUES[initial],) if initial in _ONE_BYTE_VALUES else None for initial in range(256)
)


def _levels(value: CborValue) -> int:
    """Nesting levels in ``value``: 0 for a scalar, 1 + its deepest child's for a container.

    A container nested ``depth`` levels down is refused when ``depth >= max_depth``, so an
    item read at ``depth`` fits exactly when ``depth + _levels(item) <= max_depth``.
    """
    if isinstance(value, Tag):
        return 1 + _levels(value.value)
    if isinstance(value, list):
        return 1 + max(map(_levels, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_levels, value.values()), default=0)
    return 0
