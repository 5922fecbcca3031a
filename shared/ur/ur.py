"""The ``UR`` value and single-part ``ur:type/<bytewords>`` strings (BCR-2020-005)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.errors import URFormatError
from shared.ur.bytewords import Style, bytewords_decode, bytewords_encode

# BCR-2020-005 §"Types": lower-case letters, digits and hyphens.
_TYPE_PATTERN = re.compile(r"[a-z0-9-]+")
_SCHEME = "ur:"


def is_ur_type(text: str) -> bool:
    """True when ``text`` is a valid UR type (``[a-z0-9-]+``)."""
    return _TYPE_PATTERN.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class UR:
    """A Uniform Resource: a type name and the CBOR bytes it carries.

    The CBOR is not interpreted here; the type layer decodes it strictly.
    """

    type: str
    cbor: bytes

    def __post_init__(self) -> None:
        # A bad type or empty payload built in code is a programmer error; untrusted
        # strings go through parse_ur / URDecoder, which raise URFormatError instead.
        if not isinstance(self.type, str) or not is_ur_type(self.type):
            raise ValueError(f"UR type must match [a-z0-9-]+, got {self.type!r}")
        if not isinstance(self.cbor, bytes) or not self.cbor:
            raise ValueError("UR cbor must be non-empty bytes")


def split_ur(text: str) -> tuple[str, list[str]]:
    """Check the scheme and type of a ``ur:`` string; return the type and the path after it.

    Case-insensitive: the string is lower-cased first (BCR-2020-005 §"Case"). Raises
    :class:`URFormatError` with field ``scheme``, ``type`` or ``path``.
    """
    if not text.isascii():
        raise URFormatError("scheme", "a UR is ASCII only")
    lowered = text.lower()
    if not lowered.startswith(_SCHEME):
        raise URFormatError("scheme", "does not start with 'ur:'")
    components = lowered[len(_SCHEME) :].split("/")
    if len(components) < 2:
        raise URFormatError("path", "expected ur:type/body or ur:type/seq/body")
    ur_type = components[0]
    if not is_ur_type(ur_type):
        shown = ur_type if len(ur_type) <= 32 else ur_type[:32] + "..."
        raise URFormatError("type", f"{shown!r} is not a UR type ([a-z0-9-]+)")
    return ur_type, components[1:]


def parse_ur(text: str) -> UR:
    """Parse a single-part ``ur:type/<minimal bytewords>`` string, case-insensitively.

    Raises :class:`URFormatError` (scheme, type, path; a multi-part part is refused:
    use :class:`~shared.ur.multipart.URDecoder`) or :class:`BytewordsError`.
    """
    ur_type, components = split_ur(text)
    if len(components) != 1:
        raise URFormatError(
            "path",
            f"{len(components) + 1} path components; a single-part UR has 2 "
            "(multi-part parts go to URDecoder)",
        )
    return UR(ur_type, bytewords_decode(components[0], Style.MINIMAL))


def format_ur(ur: UR) -> str:
    """The single-part string ``ur:type/<minimal bytewords of cbor>``, lower case."""
    return f"{_SCHEME}{ur.type}/{bytewords_encode(ur.cbor, Style.MINIMAL)}"


def for_qr(part: str) -> str:
    """``part`` in upper case, so a QR code can hold it in alphanumeric mode.

    Every character of a ``ur:`` string (letters, digits, ``:``, ``/``, ``-``) is in the
    QR alphanumeric set once upper-cased, which packs 5.5 bits per character instead of 8.
    """
    return part.upper()
