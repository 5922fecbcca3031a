"""Encoding in RFC 8949 §4.2.1 core deterministic form."""

from __future__ import annotations

import struct
from operator import itemgetter
from typing import cast

from shared.cbor.model import (
    ARRAY,
    BYTES,
    MAP,
    MAX_DEPTH_CEILING,
    NEGINT,
    TAG,
    TEXT,
    UINT,
    UINT64_LIMIT,
    CborValue,
    Tag,
)

# RFC 8949 §3.3: simple values 20, 21, 22 are false, true, null.
_FALSE, _TRUE, _NULL = b"\xf4", b"\xf5", b"\xf6"
# Heads with an argument below 24 are one byte (RFC 8949 §3: argument in additional info).
_SHORT_HEADS = tuple(tuple(bytes([(mt << 5) | ai]) for ai in range(24)) for mt in range(8))
_U8 = struct.Struct(">BB")
_U16 = struct.Struct(">BH")
_U32 = struct.Struct(">BI")
_U64 = struct.Struct(">BQ")
_FIRST = itemgetter(0)


def encode(value: CborValue) -> bytes:
    """Encode ``value`` in RFC 8949 §4.2.1 core deterministic form.

    Shortest heads, definite lengths, map keys sorted by the bytes of their encoding, no
    floats. ``True``/``False``/``None`` become simple values 21/20/22. Anything else
    (floats, tuples, bool or non-scalar map keys, integers outside [-2**64, 2**64 - 1],
    text with lone surrogates, nesting deeper than 64) is a programmer error and raises
    ``TypeError`` or ``ValueError``.
    """
    out = bytearray()
    _encode_into(value, out, 0)
    return bytes(out)


def _head(major: int, arg: int) -> bytes:
    # RFC 8949 §4.2.1: the argument always takes the shortest of 0, 1, 2, 4 or 8 bytes.
    if arg < 24:
        return _SHORT_HEADS[major][arg]
    if arg < 0x100:
        return _U8.pack((major << 5) | 24, arg)
    if arg < 0x10000:
        return _U16.pack((major << 5) | 25, arg)
    if arg < 0x100000000:
        return _U32.pack((major << 5) | 26, arg)
    return _U64.pack((major << 5) | 27, arg)


def _encode_int(value: int) -> bytes:
    if value >= 0:
        if value >= UINT64_LIMIT:
            raise ValueError(f"integer {value} is above the CBOR range 2**64 - 1")
        return _head(UINT, value)
    if value < -UINT64_LIMIT:
        raise ValueError(f"integer {value} is below the CBOR range -2**64")
    # RFC 8949 §3.1: major type 1 carries -1 - n.
    return _head(NEGINT, -1 - value)


def _encode_text(value: str) -> bytes:
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text contains lone surrogates, which are not UTF-8") from exc
    return _head(TEXT, len(raw)) + raw


def _encode_key(key: object) -> bytes:
    # bool is an int subclass, but True/False encode as simple values, never as keys.
    if isinstance(key, int) and not isinstance(key, bool):
        return _encode_int(key)
    if isinstance(key, str):
        return _encode_text(key)
    if isinstance(key, bytes):
        return _head(BYTES, len(key)) + key
    raise TypeError(f"map key of type {type(key).__name__} is not int, str or bytes")


def _encode_into(value: object, out: bytearray, depth: int) -> None:
    # Exact types first, most frequent first: this runs once per item encoded.
    if type(value) is int:
        if 0 <= value < 24:
            out.append(value)
        else:
            out += _encode_int(value)
    elif type(value) is bytes:
        length = len(value)
        if length < 24:
            out.append(0x40 | length)  # RFC 8949 §3: major type 2, length in the head
        else:
            out += _head(BYTES, length)
        out += value
    elif type(value) is dict:
        _encode_map(value, out, depth)
    elif type(value) is str:
        out += _encode_text(value)
    elif type(value) is list:
        _encode_array(value, out, depth)
    elif type(value) is Tag:
        _encode_tag(value, out, depth)
    else:
        _encode_other(value, out, depth)


def _encode_other(value: object, out: bytearray, depth: int) -> None:
    # bool before int: bool is an int subclass but encodes as a simple value.
    if value is True:
        out += _TRUE
    elif value is False:
        out += _FALSE
    elif value is None:
        out += _NULL
    elif isinstance(value, int):
        out += _encode_int(value)
    elif isinstance(value, bytes):
        out += _head(BYTES, len(value))
        out += value
    elif isinstance(value, str):
        out += _encode_text(value)
    elif isinstance(value, dict):
        _encode_map(value, out, depth)
    elif isinstance(value, list):
        _encode_array(value, out, depth)
    elif isinstance(value, Tag):
        _encode_tag(value, out, depth)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as deterministic CBOR")


def _encode_map(value: dict[object, object], out: bytearray, depth: int) -> None:
    if depth >= MAX_DEPTH_CEILING:
        raise _too_deep()
    # Keys 0..23 are each their own one-byte encoding, below the first byte of any other
    # key's: when every key is one of them, in ascending order (as ERC-4527 maps are built),
    # the map is already in RFC 8949 §4.2.1 order and needs no sort.
    last = -1
    for key in value:
        if type(key) is not int or not last < key < 24:
            break
        last = key
    else:
        out += _head(MAP, len(value))
        for key, item in value.items():
            out.append(cast(int, key))  # checked just above: an int in 0..23
            _encode_into(item, out, depth + 1)
        return
    # RFC 8949 §4.2.1: keys sorted by the bytewise lexicographic order of their encoding.
    encoded = [(_encode_key(k), v) for k, v in value.items()]
    encoded.sort(key=_FIRST)
    out += _head(MAP, len(encoded))
    previous = None
    for key_bytes, item in encoded:
        if key_bytes == previous:
            raise ValueError(f"duplicate map key after encoding: {key_bytes.hex()}")
        previous = key_bytes
        out += key_bytes
        _encode_into(item, out, depth + 1)


def _encode_array(value: list[object], out: bytearray, depth: int) -> None:
    if depth >= MAX_DEPTH_CEILING:
        raise _too_deep()
    out += _head(ARRAY, len(value))
    for item in value:
        _encode_into(item, out, depth + 1)


def _encode_tag(value: Tag, out: bytearray, depth: int) -> None:
    if depth >= MAX_DEPTH_CEILING:
        raise _too_deep()
    number = value.number
    if type(number) is not int or not 0 <= number < UINT64_LIMIT:
        _check_tag_number(number)
    out += _head(TAG, number)
    _encode_into(value.value, out, depth + 1)


def _check_tag_number(number: object) -> None:
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError("tag number must be an int")
    if not 0 <= number < UINT64_LIMIT:
        raise ValueError(f"tag number {number} is outside [0, 2**64 - 1]")


def _too_deep() -> ValueError:
    return ValueError(f"nesting deeper than {MAX_DEPTH_CEILING} (or a cycle)")
