"""Visible escaping of untrusted text (messages, origins, EIP-712 strings, token names)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Stable reason codes: the review layer turns them into warnings, tests compare them.
REASON_CONTROL = "control"  # C0/C1 control characters other than the ANSI introducers
REASON_ANSI = "ansi_escape"  # ESC or CSI: a terminal escape sequence could restyle or erase text
REASON_BIDI = "bidi"  # Unicode bidi controls can reorder what is read (CVE-2021-42574)
REASON_ZERO_WIDTH = "zero_width"  # invisible joiners and spaces that split or hide words
REASON_INVISIBLE = "invisible"  # letters and marks that render as nothing (Hangul fillers, ...)
REASON_FORMAT = "format"  # other format characters (category Cf): soft hyphen, tag characters
REASON_SPACE = "space"  # whitespace other than U+0020 that looks like a plain space
REASON_SURROGATE = "surrogate"  # an unpaired UTF-16 surrogate (only possible from JSON escapes)
REASON_NON_PRINTABLE = "non_printable"  # private use, unassigned, line/paragraph separators
REASON_INVALID_UTF8 = "invalid_utf8"  # bytes that are not UTF-8: shown as hex instead

# Unicode Bidirectional Algorithm (UAX #9) explicit embeddings, overrides, isolates and marks.
_BIDI = frozenset(
    [
        0x061C,
        0x200E,
        0x200F,
        *range(0x202A, 0x202F),  # LRE, RLE, PDF, LRO, RLO
        *range(0x2066, 0x206A),  # LRI, RLI, FSI, PDI
    ]
)
# Zero-width space/joiners, word joiner, invisible operators, BOM, Mongolian vowel separator.
_ZERO_WIDTH = frozenset([0x180E, 0x200B, 0x200C, 0x200D, 0xFEFF, *range(0x2060, 0x2065)])
# Code points that are letters or marks in Unicode but draw nothing: used to fake empty names
# and to smuggle data (variation selectors outside the emoji text/presentation pair).
_INVISIBLE = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0),
        *range(0xFE00, 0xFE0E),
        *range(0xE0100, 0xE01F0),
    ]
)
_ANSI = frozenset([0x1B, 0x9B])
_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True, slots=True)
class DisplayText:
    """Text that is safe to put on screen.

    ``text`` contains only printable characters (plus line breaks and tabs when the caller
    allowed them); everything else is written as a visible escape such as ``\\u202e`` and
    backslashes are doubled so no escape can be forged. ``escaped`` is True when ``text``
    differs from the original; ``reasons`` names, sorted, each kind of suspicious character
    that was found (empty when the only change was doubling backslashes).
    """

    text: str
    escaped: bool
    reasons: tuple[str, ...]


def classify(ch: str) -> str | None:
    """The reason code for a character that must not be shown as-is, or None if printable."""
    cp = ord(ch)
    if cp in _ANSI:
        return REASON_ANSI
    if cp in _BIDI:
        return REASON_BIDI
    if cp in _ZERO_WIDTH:
        return REASON_ZERO_WIDTH
    if cp in _INVISIBLE:
        return REASON_INVISIBLE
    category = unicodedata.category(ch)
    if category == "Cc":
        return REASON_CONTROL
    if category == "Cf":
        return REASON_FORMAT
    if category == "Cs":
        return REASON_SURROGATE
    if category in ("Co", "Cn", "Zl", "Zp"):
        return REASON_NON_PRINTABLE
    if category == "Zs" and ch != " ":
        return REASON_SPACE
    return None


def _escape(ch: str) -> str:
    named = _NAMED_ESCAPES.get(ch)
    if named is not None:
        return named
    cp = ord(ch)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


def safe_display(text: str, *, multiline: bool = False) -> DisplayText:
    """Escape ``text`` for display; ``multiline`` keeps line feeds and tabs as they are.

    Single-line contexts (token names, origins, EIP-712 strings) leave ``multiline`` False
    so a value cannot push other fields off screen; a personal_sign message sets it.
    """
    out: list[str] = []
    reasons: set[str] = set()
    changed = False
    for ch in text:
        if multiline and ch in "\n\t":
            out.append(ch)
            continue
        if ch == "\\":
            out.append("\\\\")
            changed = True
            continue
        reason = classify(ch)
        if reason is None:
            out.append(ch)
            continue
        reasons.add(reason)
        out.append(_escape(ch))
        changed = True
    return DisplayText("".join(out), changed, tuple(sorted(reasons)))
