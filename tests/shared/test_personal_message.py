"""personal_sign hashes against eth-account, and the display rules for untrusted text."""

from __future__ import annotations

import unicodedata

import pytest
from eth_account.messages import _hash_eip191_message, encode_defunct
from hypothesis import given
from hypothesis import strategies as st

from shared.messages.personal import (
    display_personal_message,
    personal_message_hash,
    personal_message_preimage,
)
from shared.messages.text import DisplayText, safe_display


def _eth_account_hash(message: bytes) -> bytes:
    return bytes(_hash_eip191_message(encode_defunct(primitive=message)))


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"Hello",
        "I\u2665SF".encode(),
        b"\x00" * 32,
        bytes(range(256)),
        b"x" * 1000,
        b"service.example wants you to sign in\n\nNonce: 1",
    ],
    ids=["empty", "ascii", "utf8", "zeros", "all-bytes", "long", "siwe-like"],
)
def test_hash_matches_eth_account(message: bytes) -> None:
    assert personal_message_hash(message) == _eth_account_hash(message)


def test_hash_of_text_matches_eth_account_text_form() -> None:
    text = "Sign in to coldsign \u2713"
    expected = bytes(_hash_eip191_message(encode_defunct(text=text)))
    assert personal_message_hash(text.encode("utf-8")) == expected


def test_preimage_has_decimal_byte_length() -> None:
    # EIP-191 0x45: the length is the decimal count of bytes, not characters.
    message = "\u00e9".encode()
    assert personal_message_preimage(message) == b"\x19Ethereum Signed Message:\n2\xc3\xa9"


@given(st.binary(max_size=300))
def test_hash_matches_eth_account_for_any_bytes(message: bytes) -> None:
    assert personal_message_hash(message) == _eth_account_hash(message)


def test_printable_utf8_is_shown_as_text() -> None:
    shown = display_personal_message("Hello, \u4e16\u754c! \u2713".encode())
    assert shown == DisplayText("Hello, \u4e16\u754c! \u2713", False, ())


def test_line_breaks_and_tabs_are_kept_in_messages() -> None:
    shown = display_personal_message(b"line one\nline two\tend")
    assert shown == DisplayText("line one\nline two\tend", False, ())


def test_invalid_utf8_is_shown_as_hex() -> None:
    shown = display_personal_message(b"\xff\xfeabc")
    assert shown == DisplayText("0xfffe616263", True, ("invalid_utf8",))


def test_overlong_utf8_is_shown_as_hex() -> None:
    # 0xC0 0xAF is an overlong "/": not valid UTF-8, so never shown as text.
    assert display_personal_message(b"a\xc0\xafb").text == "0x61c0af62"


def test_utf8_encoded_surrogate_is_shown_as_hex() -> None:
    assert display_personal_message(b"\xed\xa0\x80").reasons == ("invalid_utf8",)


def test_ansi_escape_is_escaped_and_flagged() -> None:
    shown = display_personal_message(b"pay \x1b[2Kalice")
    assert shown.text == "pay \\x1b[2Kalice"
    assert shown.escaped
    assert shown.reasons == ("ansi_escape",)


def test_c1_csi_is_escaped_and_flagged() -> None:
    shown = display_personal_message("a\u009b31mb".encode())
    assert shown.text == "a\\x9b31mb"
    assert shown.reasons == ("ansi_escape",)


@pytest.mark.parametrize("code_point", [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
def test_bidi_overrides_are_escaped_and_flagged(code_point: int) -> None:
    shown = display_personal_message(f"abc{chr(code_point)}def".encode())
    assert shown.text == f"abc\\u{code_point:04x}def"
    assert shown.reasons == ("bidi",)


@pytest.mark.parametrize("code_point", [0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
def test_zero_width_characters_are_escaped_and_flagged(code_point: int) -> None:
    shown = display_personal_message(f"0xab{chr(code_point)}cd".encode())
    assert shown.text == f"0xab\\u{code_point:04x}cd"
    assert shown.reasons == ("zero_width",)


def test_other_controls_are_escaped_and_flagged() -> None:
    shown = display_personal_message(b"a\x00b\rc\x7f")
    assert shown.text == "a\\x00b\\rc\\x7f"
    assert shown.reasons == ("control",)


def test_several_reasons_are_listed_sorted() -> None:
    shown = display_personal_message("\u202e\x1b\u200b".encode())
    assert shown.reasons == ("ansi_escape", "bidi", "zero_width")


def test_backslash_is_doubled_so_escapes_cannot_be_forged() -> None:
    shown = safe_display("literal \\u202e")
    assert shown == DisplayText("literal \\\\u202e", True, ())


def test_single_line_display_escapes_line_breaks() -> None:
    shown = safe_display("Token\nName\t")
    assert shown.text == "Token\\nName\\t"
    assert shown.reasons == ("control",)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("\u3164", "invisible"),  # Hangul filler
        ("\u00ad", "format"),  # soft hyphen
        ("\U000e0041", "format"),  # tag character
        ("\u00a0", "space"),  # no-break space
        ("\u2028", "non_printable"),  # line separator
        ("\ue000", "non_printable"),  # private use
        ("\ud800", "surrogate"),  # only reachable from JSON \ud800 escapes
    ],
)
def test_hidden_characters_in_untrusted_strings_are_flagged(text: str, reason: str) -> None:
    shown = safe_display(f"USD{text}C")
    assert shown.escaped
    assert shown.reasons == (reason,)
    assert "\\" in shown.text


def test_astral_escape_uses_eight_digits() -> None:
    assert safe_display("\U000e0041").text == "\\U000e0041"


_PRINTABLE_CATEGORIES_EXCLUDED = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@given(st.text())
def test_safe_display_output_is_always_printable(text: str) -> None:
    shown = safe_display(text)
    for ch in shown.text:
        assert unicodedata.category(ch) not in _PRINTABLE_CATEGORIES_EXCLUDED
        assert not (unicodedata.category(ch) == "Zs" and ch != " ")
    assert shown.escaped == (shown.text != text)
    if shown.reasons:
        assert shown.escaped


@given(st.binary(max_size=200))
def test_display_never_fails_on_any_bytes(message: bytes) -> None:
    shown = display_personal_message(message)
    assert isinstance(shown.text, str)
