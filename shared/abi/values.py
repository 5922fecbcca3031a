"""Python values the ABI decoder returns and the encoder takes, one shape per ABI type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from shared.address import Address


@dataclass(frozen=True, slots=True)
class NonUtf8String:
    """A ``string`` argument whose bytes are not valid UTF-8: kept as bytes, never shown as text.

    ``error_offset`` is the index in ``raw`` of the first byte that breaks UTF-8, so a
    review can say where the text stops being text.
    """

    raw: bytes
    error_offset: int


# uintN/intN -> int, bool -> bool, address -> Address, bytesN/bytes -> bytes,
# string -> str (valid UTF-8) or NonUtf8String, T[k]/T[]/tuples -> tuple.
AbiValue: TypeAlias = "int | bool | bytes | str | Address | NonUtf8String | tuple[AbiValue, ...]"
