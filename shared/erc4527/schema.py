"""Reading decoded CBOR maps against an ERC-4527 schema: known keys, typed values, named fields."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import cast

from shared.cbor import CborValue, Tag
from shared.errors import SchemaError, URTypeError
from shared.ur import UR

UINT32_MAX = 0xFFFF_FFFF
UINT64_MAX = 0xFFFF_FFFF_FFFF_FFFF

# Longest origin, name or note accepted, in UTF-8 bytes. Keystone and MetaMask send a
# wallet or device name ("metamask", "Keystone", "account.standard"); a signer shows the
# text to its operator, so a page of text there is refused rather than truncated.
MAX_TEXT_BYTES = 1024

# Unicode bidirectional controls (UAX #9) reorder what the operator reads; with C0 and C1
# controls (terminal escapes, newlines) they could make one origin look like another.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def kind(value: CborValue) -> str:
    """A short name for the CBOR type of ``value``, for error reasons."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an unsigned integer" if value >= 0 else "a negative integer"
    if isinstance(value, bytes):
        return "a byte string"
    if isinstance(value, str):
        return "a text string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, Tag):
        return f"tag {value.number}"
    return "null"


def as_map(value: CborValue, where: str, keys: Mapping[int, str]) -> dict[int, CborValue]:
    """``value`` as a map whose keys are all among ``keys`` (key number → schema name)."""
    if not isinstance(value, dict):
        raise SchemaError(where, f"expected a map, got {kind(value)}")
    for key in value:
        if type(key) is int and key in keys:
            continue
        if isinstance(key, bool) or not isinstance(key, int) or key not in keys:
            raise SchemaError(f"{where}.{key!r}", f"unknown key {key!r}")
    # Every key is a known int; the caller only reads the map, so no copy is needed.
    return cast(dict[int, CborValue], value)


def require(entries: Mapping[int, CborValue], key: int, where: str, name: str) -> CborValue:
    """The value at ``key``; :class:`SchemaError` naming ``where.name`` when it is missing."""
    if key not in entries:
        raise SchemaError(f"{where}.{name}", f"required key {key} ({name}) is missing")
    return entries[key]


def as_bytes(value: CborValue, field: str) -> bytes:
    """``value`` as a byte string."""
    if not isinstance(value, bytes):
        raise SchemaError(field, f"expected a byte string, got {kind(value)}")
    return value


def as_uint(value: CborValue, field: str, maximum: int) -> int:
    """``value`` as an unsigned integer no larger than ``maximum``."""
    if type(value) is int and 0 <= value <= maximum:
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(field, f"expected an unsigned integer, got {kind(value)}")
    check_uint(value, field, maximum)
    return value


def as_bool(value: CborValue, field: str) -> bool:
    """``value`` as a boolean."""
    if not isinstance(value, bool):
        raise SchemaError(field, f"expected a boolean, got {kind(value)}")
    return value


def as_text(value: CborValue, field: str) -> str:
    """``value`` as a text string that passes :func:`check_text`."""
    if not isinstance(value, str):
        raise SchemaError(field, f"expected a text string, got {kind(value)}")
    check_text(value, field)
    return value


def as_array(value: CborValue, field: str) -> list[CborValue]:
    """``value`` as an array."""
    if not isinstance(value, list):
        raise SchemaError(field, f"expected an array, got {kind(value)}")
    return value


def untag(value: CborValue, field: str, number: int) -> CborValue:
    """The content of ``value``, which must carry tag ``number``."""
    if not isinstance(value, Tag):
        raise SchemaError(field, f"expected tag {number}, got {kind(value)}")
    if value.number != number:
        raise SchemaError(field, f"expected tag {number}, got tag {value.number}")
    return value.value


def check_uint(value: int, field: str, maximum: int) -> None:
    """Refuse an int outside ``[0, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError(field, f"expected an integer, got {type(value).__name__}")
    if value < 0:
        raise SchemaError(field, f"{value} is negative")
    if value > maximum:
        raise SchemaError(field, f"{value} is larger than {maximum}")


def check_length(value: bytes, field: str, length: int) -> None:
    """Refuse bytes that are not exactly ``length`` long."""
    if not isinstance(value, bytes):
        raise SchemaError(field, f"expected bytes, got {type(value).__name__}")
    if len(value) != length:
        raise SchemaError(field, f"expected {length} bytes, got {len(value)}")


def check_text(value: str, field: str) -> None:
    """Refuse text that is too long or holds control or bidirectional-override characters."""
    if not isinstance(value, str):
        raise SchemaError(field, f"expected text, got {type(value).__name__}")
    # Counting characters first bounds the encode below; a character is at most 4 bytes.
    if len(value) > MAX_TEXT_BYTES or len(value.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise SchemaError(field, f"text longer than {MAX_TEXT_BYTES} UTF-8 bytes")
    for index, char in enumerate(value):
        if char in _BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Cs"):
            raise SchemaError(
                field, f"character {index} (U+{ord(char):04X}) is a control character"
            )


def expect_type(ur: UR, expected: str) -> None:
    """Refuse a UR whose type is not ``expected`` with :class:`URTypeError` (field ``ur.type``)."""
    if ur.type != expected:
        raise URTypeError("ur.type", f"expected ur:{expected}, got ur:{ur.type}")


def fingerprint_text(value: int | None) -> str | None:
    """A BIP-32 fingerprint as 8 lower-case hex digits (``e9181cf3``), as wallets show it."""
    return None if value is None else f"{value:08x}"


def renamed(error: SchemaError, where: str, default: str) -> SchemaError:
    """``error`` with its field under ``where`` instead of ``default``, when they differ.

    A constructor checks its fields under its own type name (``crypto-hdkey.key-data``);
    when the object sits inside another message the error names the full path instead
    (``crypto-account.output-descriptors[2].key-data``). Use as
    ``except SchemaError as error: raise renamed(error, where, default) from None``.
    """
    if where == default or not error.field.startswith(default):
        return error
    return SchemaError(where + error.field[len(default) :], error.reason, offset=error.offset)
