"""EIP-191 version 0x45 (personal_sign) messages: the signing hash and a safe display form."""

from __future__ import annotations

from shared.keccak import keccak256
from shared.messages.text import REASON_INVALID_UTF8, DisplayText, safe_display

# EIP-191 version 0x45 ("E"): 0x19 || "Ethereum Signed Message:\n" || decimal len || message.
_PREFIX = b"\x19Ethereum Signed Message:\n"


def personal_message_preimage(message: bytes) -> bytes:
    """The exact bytes that are hashed: prefix, ASCII decimal byte length, then the message."""
    return _PREFIX + str(len(message)).encode("ascii") + message


def personal_message_hash(message: bytes) -> bytes:
    """The 32-byte hash an account signs for ``personal_sign(message)``."""
    return keccak256(personal_message_preimage(message))


def display_personal_message(message: bytes) -> DisplayText:
    """What to show for a personal_sign message.

    Valid UTF-8 is shown as text, with line feeds and tabs kept and every other character
    that is not printable (controls, ANSI escapes, bidi controls, zero-width characters)
    escaped visibly and named in ``reasons``. Anything that is not valid UTF-8 is shown as
    ``0x`` + hex and flagged ``invalid_utf8``: bytes are never guessed into text.
    """
    try:
        text = message.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return DisplayText("0x" + message.hex(), True, (REASON_INVALID_UTF8,))
    return safe_display(text, multiline=True)
