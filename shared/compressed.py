"""The ``coldsign-compressed`` envelope: a UR message deflated for transfer between coldsign ends.

A batch request compresses to a third of its size or less, which is a third of the QR frames
to show. Other wallets do not know this type, so it is used only between two coldsign ends;
plain ERC-4527 stays the default toward others. See docs/format.md §3.

    coldsign-compressed = {
      1: text,     ; the inner UR type, one of the types the receiver allows
      2: uint,     ; the inner message's length in bytes (1 .. max_length)
      3: bytes,    ; raw DEFLATE (RFC 1951) of the inner message's CBOR
    }

Strictness: the envelope is deterministic CBOR with exactly these keys; the declared length is
bounded before anything is inflated; inflation stops one byte past the declared length (a
decompression bomb costs at most that much memory) and must end exactly at the end of the
stream with nothing after it. The DEFLATE stream itself is not required to be byte-canonical:
many streams inflate to the same bytes, and demanding the one our zlib writes would refuse
valid messages from a coldsign linked against another zlib (or zlib-ng). The inner message is
decoded by its own strict decoder, so the bytes that are reviewed and signed stay canonical.
"""

from __future__ import annotations

import zlib

from shared import cbor
from shared.cbor import CborLimits
from shared.errors import EnvelopeError, SchemaError
from shared.ur import UR

COMPRESSED_TYPE = "coldsign-compressed"
# The UR decoder's own message limit: an inflated message is never larger than a plain one.
MAX_INFLATED = 4 << 20
_LEVEL = 9
_RAW_DEFLATE = -15  # zlib wbits for a raw RFC 1951 stream: no zlib header, no Adler-32
_INNER_TYPE, _LENGTH, _DEFLATED = 1, 2, 3
_KEYS = {_INNER_TYPE: "type", _LENGTH: "length", _DEFLATED: "deflated"}


def compress_ur(ur: UR) -> UR:
    """``ur`` wrapped in a ``coldsign-compressed`` envelope (always; see :func:`smaller_of`)."""
    if len(ur.cbor) > MAX_INFLATED:
        raise ValueError(f"message of {len(ur.cbor)} bytes exceeds {MAX_INFLATED}")
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _RAW_DEFLATE)
    deflated = packer.compress(ur.cbor) + packer.flush()
    body = cbor.encode({_INNER_TYPE: ur.type, _LENGTH: len(ur.cbor), _DEFLATED: deflated})
    return UR(COMPRESSED_TYPE, body)


def smaller_of(ur: UR) -> UR:
    """``ur`` compressed if that makes it smaller, else ``ur`` itself."""
    packed = compress_ur(ur)
    return packed if len(packed.cbor) < len(ur.cbor) else ur


def decompress_ur(ur: UR, *, allowed_types: frozenset[str], max_length: int = MAX_INFLATED) -> UR:
    """The inner UR of an envelope; raise ``DecodeError`` naming the field otherwise.

    Only inner types in ``allowed_types`` are accepted (a compressed envelope never wraps
    another envelope). ``max_length`` bounds the inflated size before any inflation.
    """
    where = COMPRESSED_TYPE
    if ur.type != COMPRESSED_TYPE:
        raise SchemaError(f"{where}.type", f"expected ur:{COMPRESSED_TYPE}, got ur:{ur.type}")
    # The envelope can never be larger than the largest message it may hold, plus its keys.
    value = cbor.decode(ur.cbor, limits=CborLimits(max_size=max_length + 1024, max_depth=2))
    if not isinstance(value, dict) or set(value) != set(_KEYS):
        found = sorted(map(str, value)) if isinstance(value, dict) else type(value).__name__
        raise SchemaError(where, f"expected a map with keys 1, 2, 3, got {found}")
    inner_type, length, deflated = value[_INNER_TYPE], value[_LENGTH], value[_DEFLATED]
    if not isinstance(inner_type, str) or inner_type not in allowed_types:
        raise SchemaError(f"{where}.type", f"inner type {inner_type!r} is not allowed here")
    if isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= max_length:
        raise SchemaError(f"{where}.length", f"must be 1..{max_length} bytes")
    if not isinstance(deflated, bytes):
        raise SchemaError(f"{where}.deflated", "must be a byte string")
    return UR(inner_type, _inflate(deflated, length, f"{where}.deflated"))


def _inflate(deflated: bytes, length: int, field: str) -> bytes:
    unpacker = zlib.decompressobj(_RAW_DEFLATE)
    try:
        # One byte more than declared: enough to tell "too long" without inflating a bomb.
        inflated = unpacker.decompress(deflated, length + 1)
    except zlib.error as exc:
        raise EnvelopeError(field, f"not a valid DEFLATE stream: {exc}") from exc
    if len(inflated) > length:
        raise EnvelopeError(field, f"inflates to more than the declared {length} bytes")
    if not unpacker.eof:
        raise EnvelopeError(field, "the DEFLATE stream is truncated")
    if unpacker.unused_data or unpacker.unconsumed_tail:
        raise EnvelopeError(field, "bytes after the end of the DEFLATE stream")
    if len(inflated) != length:
        raise EnvelopeError(field, f"inflates to {len(inflated)} bytes, declared {length}")
    return inflated
