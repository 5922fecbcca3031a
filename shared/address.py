"""Ethereum addresses: the 20-byte value, EIP-55 checksums and a grouped form for reading aloud."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from shared.errors import AddressError
from shared.keccak import keccak256

ADDRESS_LENGTH = 20
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# Characters per group in :meth:`Address.grouped`; 40 hex digits make 10 groups.
_GROUP = 4
# EIP-55 forms remembered: a batch names a few addresses over and over (every item's
# destination, the token, the signer); a bounded cache keeps memory flat for any input.
_CHECKSUM_CACHE = 4096


@dataclass(frozen=True, slots=True, order=True, repr=False)
class Address:
    """A 20-byte Ethereum account address; ``str()`` gives the EIP-55 checksummed form."""

    raw: bytes

    def __post_init__(self) -> None:
        # Constructing from unchecked bytes is a programmer error: untrusted input goes
        # through parse_address / address_from_bytes, which raise AddressError instead.
        if not isinstance(self.raw, bytes) or len(self.raw) != ADDRESS_LENGTH:
            raise ValueError("Address.raw must be exactly 20 bytes")

    def checksummed(self) -> str:
        """The EIP-55 mixed-case form, ``0x`` followed by 40 hex digits."""
        return "0x" + _eip55_of(self.raw)

    def grouped(self) -> str:
        """The EIP-55 form split into ten groups of four digits, for reading aloud.

        Format: ``0x`` then the first group, then the other nine groups, each
        preceded by one space, e.g. ``0x5aAe b605 3F3E 9475 ...``. Removing the
        spaces gives back :meth:`checksummed` exactly.
        """
        return _grouped_of(self.raw)

    def __str__(self) -> str:
        return self.checksummed()

    def __repr__(self) -> str:
        return f"Address({self.checksummed()!r})"


@lru_cache(maxsize=_CHECKSUM_CACHE)
def _eip55_of(raw: bytes) -> str:
    """The 40 EIP-55 digits of the 20-byte address ``raw`` (cached: a pure function)."""
    return _eip55_digits(raw.hex())


@lru_cache(maxsize=_CHECKSUM_CACHE)
def _grouped_of(raw: bytes) -> str:
    digits = _eip55_of(raw)
    return "0x" + " ".join(digits[i : i + _GROUP] for i in range(0, len(digits), _GROUP))


def _eip55_digits(lower_hex: str) -> str:
    # EIP-55: hash = keccak256(ascii(lowercase hex address)); upper-case the i-th
    # letter when the i-th nibble of the hash is >= 8.
    digest = keccak256(lower_hex.encode("ascii")).hex()
    return "".join(
        ch.upper() if ch.isalpha() and digest[i] in "89abcdef" else ch
        for i, ch in enumerate(lower_hex)
    )


def _hex_digits(text: str, field: str) -> str:
    if len(text) != 2 + 2 * ADDRESS_LENGTH:
        raise AddressError(field, f"expected 0x and 40 hex digits, got {len(text)} characters")
    if not text.startswith("0x"):
        raise AddressError(field, "expected the prefix 0x")
    digits = text[2:]
    for index, ch in enumerate(digits):
        if ch not in _HEX_DIGITS:
            raise AddressError(field, f"character {index + 2} is not a hex digit", offset=index + 2)
    return digits


def parse_address(text: str, *, field: str) -> Address:
    """Parse untrusted ``0x`` + 40 hex digits into an :class:`Address`.

    All-lowercase and all-uppercase digits are accepted (they carry no checksum:
    use :func:`is_checksummed` to warn about them); mixed case must be the exact
    EIP-55 form, otherwise :class:`AddressError`.
    """
    digits = _hex_digits(text, field)
    lower = digits.lower()
    if digits not in (lower, digits.upper()) and digits != _eip55_of(bytes.fromhex(lower)):
        raise AddressError(field, "mixed-case address with a wrong EIP-55 checksum")
    return Address(bytes.fromhex(lower))


def is_checksummed(text: str) -> bool:
    """True when ``text`` is exactly the EIP-55 checksummed form of a well-formed address."""
    if len(text) != 2 + 2 * ADDRESS_LENGTH or not text.startswith("0x"):
        return False
    digits = text[2:]
    if not all(ch in _HEX_DIGITS for ch in digits):
        return False
    return digits == _eip55_of(bytes.fromhex(digits))


def address_from_bytes(data: bytes, *, field: str) -> Address:
    """Wrap untrusted bytes as an :class:`Address`; :class:`AddressError` unless exactly 20."""
    if len(data) != ADDRESS_LENGTH:
        raise AddressError(field, f"an address is 20 bytes, got {len(data)}")
    return Address(bytes(data))
