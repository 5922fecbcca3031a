"""The CBOR data model coldsign uses: value and key types, tags, and decoder limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Tag:
    """A tagged data item (RFC 8949 §3.4): tag ``number`` applied to ``value``."""

    number: int
    value: CborValue


@dataclass(frozen=True, slots=True)
class EncodedTag(Tag):
    """A decoded tag that also carries ``encoded``, the exact bytes of its content.

    :func:`~shared.cbor.decode` returns these for the tag numbers a caller names in
    ``shared_tags`` or ``encoded_tags``, so a schema can key a cache by the content's
    canonical encoding or keep the bytes it was read from; only the decoder builds them, as
    only it knows that ``encoded`` is ``value``'s encoding.
    Encodes exactly as the :class:`Tag` with the same number and value.
    """

    encoded: bytes


CborKey: TypeAlias = int | str | bytes
CborValue: TypeAlias = (
    int | bytes | str | bool | list["CborValue"] | dict[CborKey, "CborValue"] | Tag | None
)


# The encoder and decoder recurse (up to two Python frames per level of a map), so
# nesting is capped well inside Python's default recursion limit of 1000 even when the
# caller is already deep in its own stack. coldsign's own documents nest under ten levels.
MAX_DEPTH_CEILING = 64


@dataclass(frozen=True, slots=True)
class CborLimits:
    """Resource limits the decoder checks before it allocates anything for untrusted input."""

    max_size: int = 1 << 20  # bytes of input
    max_depth: int = 16  # nesting of arrays, maps and tags
    max_items: int = 1 << 16  # data items in the whole document
    max_length: int = 1 << 20  # any one string length or container count

    def __post_init__(self) -> None:
        if not 0 <= self.max_depth <= MAX_DEPTH_CEILING:
            raise ValueError(f"max_depth must be in [0, {MAX_DEPTH_CEILING}]")
        if min(self.max_size, self.max_items, self.max_length) < 0:
            raise ValueError("CBOR limits must not be negative")


DEFAULT_LIMITS = CborLimits()

# RFC 8949 §3: the eight major types.
UINT, NEGINT, BYTES, TEXT, ARRAY, MAP, TAG, SIMPLE = range(8)
UINT64_LIMIT = 1 << 64
