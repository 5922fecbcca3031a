"""Bytewords (BCR-2020-012): published vectors, round trips, and every way decoding refuses."""

from __future__ import annotations

import contextlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.errors import BytewordsError, DecodeError
from shared.ur import Style, bytewords_decode, bytewords_encode

BCUR = load_vectors("bc-ur-and-erc4527")["bcur"]
REFERENCE = load_vectors("bc-ur-reference-tests")

STYLES = [Style.STANDARD, Style.URI, Style.MINIMAL]
STYLE_KEYS = {Style.STANDARD: "standard", Style.URI: "uri", Style.MINIMAL: "minimal"}


def _cases() -> list[tuple[bytes, Style, str]]:
    cases = []
    for block in [BCUR["bytewords"], *REFERENCE["bytewords"]["cases"]]:
        for style in STYLES:
            cases.append((bytes.fromhex(block["hex"]), style, block[STYLE_KEYS[style]]))
    return cases


@pytest.mark.parametrize(("data", "style", "text"), _cases())
def test_published_vectors_encode_and_decode(data: bytes, style: Style, text: str) -> None:
    assert bytewords_encode(data, style) == text
    assert bytewords_decode(text, style) == data


@pytest.mark.parametrize("vector", BCUR["crc32"], ids=lambda v: v["utf8"])
def test_crc32_vectors_are_the_appended_checksum(vector: dict[str, str]) -> None:
    data = vector["utf8"].encode()
    assert zlib.crc32(data).to_bytes(4, "big").hex() == vector["crc32"]
    # The last four minimal codes of the encoding spell the big-endian CRC32.
    tail = bytewords_encode(data, Style.MINIMAL)[-8:]
    assert tail == bytewords_encode(bytes.fromhex(vector["crc32"]), Style.MINIMAL)[:8]


@pytest.mark.parametrize("style", STYLES)
def test_decoding_ignores_case(style: Style) -> None:
    data = bytes.fromhex(BCUR["bytewords"]["hex"])
    text = bytewords_encode(data, style)
    assert bytewords_decode(text.upper(), style) == data
    mixed = "".join(ch.upper() if i % 3 else ch for i, ch in enumerate(text))
    assert bytewords_decode(mixed, style) == data


@pytest.mark.parametrize("style", STYLES)
def test_bad_checksum_vector_refused(style: Style) -> None:
    with pytest.raises(BytewordsError) as info:
        bytewords_decode(REFERENCE["bytewords"]["badChecksum"][STYLE_KEYS[style]], style)
    assert info.value.field == "bytewords"
    assert "CRC32" in info.value.reason


@pytest.mark.parametrize("text", REFERENCE["bytewords"]["tooShort"]["standard"])
def test_too_short_for_crc_refused(text: str) -> None:
    with pytest.raises(BytewordsError) as info:
        bytewords_decode(text, Style.STANDARD)
    assert info.value.field == "bytewords"


def test_four_bytes_is_only_a_crc_and_refused() -> None:
    # A body needs at least one byte: four bytes would be a CRC of nothing.
    with pytest.raises(BytewordsError, match="at least one byte"):
        bytewords_decode("aeaeaeae", Style.MINIMAL)


def test_unknown_minimal_pair_refused_with_offset() -> None:
    text = bytewords_encode(b"\x01\x02\x03", Style.MINIMAL)
    bad = text[:4] + "qq" + text[6:]
    with pytest.raises(BytewordsError) as info:
        bytewords_decode(bad, Style.MINIMAL)
    assert (info.value.field, info.value.offset) == ("bytewords", 4)


@pytest.mark.parametrize("pair", ["a\x00", "\x00a", "\x00\x00", "e\x7f", "00", "a-"])
def test_pairs_of_other_ascii_characters_refused_with_offset(pair: str) -> None:
    # The minimal decoder reads letter pairs as UTF-16 code points; a pair whose second
    # character is NUL is a code point below 256 and must not pass as a byte value.
    text = bytewords_encode(b"\x01\x02\x03", Style.MINIMAL)
    bad = text[:2] + pair + text[4:]
    with pytest.raises(BytewordsError) as info:
        bytewords_decode(bad, Style.MINIMAL)
    assert (info.value.field, info.value.offset) == ("bytewords", 2)
    assert info.value.reason == f"{pair!r} is not a minimal byteword"


@pytest.mark.parametrize("first", "abcdefghijklmnopqrstuvwxyz0-")
def test_every_letter_pair_decodes_to_its_byte_or_is_refused_where_it_stands(first: str) -> None:
    codes = {bytewords_encode(bytes([v]), Style.MINIMAL)[:2]: v for v in range(256)}
    for last in "abcdefghijklmnopqrstuvwxyz0-":
        pair = first + last
        body = b"\x01" + bytes([codes.get(pair, 0)]) + b"\x03"
        text = bytewords_encode(body, Style.MINIMAL)
        text = text[:2] + pair + text[4:]
        if pair in codes:
            assert bytewords_decode(text, Style.MINIMAL) == body
            assert bytewords_decode(text.upper(), Style.MINIMAL) == body
        else:
            with pytest.raises(BytewordsError) as info:
                bytewords_decode(text, Style.MINIMAL)
            assert (info.value.offset, info.value.reason) == (
                2,
                f"{pair!r} is not a minimal byteword",
            )


@given(st.text(alphabet=st.characters(max_codepoint=127), min_size=2, max_size=60))
def test_minimal_decoding_agrees_with_a_pair_by_pair_reading(text: str) -> None:
    # An oracle that reads the pairs one at a time from the published table.
    codes = {bytewords_encode(bytes([v]), Style.MINIMAL)[:2]: v for v in range(256)}
    lowered = text.lower()
    pairs = [lowered[i : i + 2] for i in range(0, len(lowered) - len(lowered) % 2, 2)]
    bad = next((i for i, pair in enumerate(pairs) if pair not in codes), None)
    framed = bytes(codes[pair] for pair in pairs) if bad is None else b""
    try:
        decoded = bytewords_decode(text, Style.MINIMAL)
    except BytewordsError as exc:
        if len(text) % 2 == 0 and bad is not None:
            assert exc.offset == 2 * bad
        elif len(text) % 2 == 0 and len(framed) > 4:
            assert "CRC32" in exc.reason
        return
    assert len(text) % 2 == 0 and bad is None
    assert framed[:-4] == decoded and zlib.crc32(decoded).to_bytes(4, "big") == framed[-4:]


def test_odd_length_minimal_refused() -> None:
    text = bytewords_encode(b"\x01\x02\x03", Style.MINIMAL)
    with pytest.raises(BytewordsError, match="odd length"):
        bytewords_decode(text[:-1], Style.MINIMAL)


@pytest.mark.parametrize("style", [Style.STANDARD, Style.URI])
def test_unknown_word_refused_with_offset(style: Style) -> None:
    sep = " " if style is Style.STANDARD else "-"
    words = bytewords_encode(b"\x10\x20", style).split(sep)
    words[1] = "abbe"  # right first and last letters as "able", wrong middle
    with pytest.raises(BytewordsError) as info:
        bytewords_decode(sep.join(words), style)
    assert (info.value.field, info.value.offset) == ("bytewords", 5)


@pytest.mark.parametrize(
    "text",
    [
        "able  acid also lava zero jade need echo taxi",  # empty word between two spaces
        " able acid also lava zero jade need echo taxi",
        "able acid also lava zero jade need echo taxi ",
        "able-acid also lava zero jade need echo taxi",  # wrong separator
        "ablex acid also lava zero jade need echo taxi",
    ],
)
def test_malformed_standard_layout_refused(text: str) -> None:
    with pytest.raises(BytewordsError):
        bytewords_decode(text, Style.STANDARD)


def test_non_ascii_refused() -> None:
    # "İ".lower() is two characters; refusing non-ASCII first keeps offsets honest.
    with pytest.raises(BytewordsError) as info:
        bytewords_decode("aeİd", Style.MINIMAL)
    assert (info.value.field, info.value.offset) == ("bytewords", 2)


def test_minimal_words_do_not_decode_as_standard() -> None:
    with pytest.raises(BytewordsError):
        bytewords_decode("aeadaolazojendeoti", Style.STANDARD)


def test_encoding_nothing_is_a_programmer_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        bytewords_encode(b"", Style.MINIMAL)


@given(st.binary(min_size=1, max_size=300), st.sampled_from(STYLES))
def test_round_trip(data: bytes, style: Style) -> None:
    text = bytewords_encode(data, style)
    assert text == text.lower()
    assert bytewords_decode(text, style) == data
    assert bytewords_encode(bytewords_decode(text, style), style) == text


@given(
    st.binary(min_size=1, max_size=64),
    st.sampled_from(STYLES),
    st.data(),
)
def test_any_single_character_change_is_refused(
    data: bytes, style: Style, draw: st.DataObject
) -> None:
    text = bytewords_encode(data, style)
    position = draw.draw(st.integers(0, len(text) - 1))
    replacement = draw.draw(
        st.sampled_from("abcdefghijklmnopqrstuvwxyz- 0").filter(
            lambda ch: ch != text[position].lower()
        )
    )
    mutated = text[:position] + replacement + text[position + 1 :]
    # A changed letter changes at most one byte (or breaks a word): CRC32 catches every
    # error burst of 32 bits or fewer, so no single-character change can decode.
    with pytest.raises(BytewordsError):
        bytewords_decode(mutated, style)


@given(st.text(max_size=40), st.sampled_from(STYLES))
def test_arbitrary_text_decodes_or_raises_decode_error(text: str, style: Style) -> None:
    with contextlib.suppress(DecodeError):
        bytewords_decode(text, style)
