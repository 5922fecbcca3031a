"""Single-part ``ur:`` strings (BCR-2020-005): the published vector, case rules and refusals."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.cbor import encode
from shared.errors import BytewordsError, DecodeError, URFormatError
from shared.ur import UR, Style, bytewords_encode, for_qr, format_ur, parse_ur
from shared.ur.xoshiro import Xoshiro256

BCUR = load_vectors("bc-ur-and-erc4527")["bcur"]


def bytes_ur(length: int) -> UR:
    """BC's make_message_ur: the Wolf test message wrapped as a CBOR byte string."""
    return UR("bytes", encode(Xoshiro256(b"Wolf").next_data(length)))


def test_single_part_vector() -> None:
    block = BCUR["singlePart"]
    ur = bytes_ur(block["messageLength"])
    assert format_ur(ur) == block["ur"]
    assert parse_ur(block["ur"]) == ur


def test_upper_case_for_qr_parses_identically() -> None:
    text = BCUR["singlePart"]["ur"]
    qr = for_qr(text)
    assert qr == text.upper()
    assert set(qr) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    assert parse_ur(qr) == parse_ur(text)
    assert parse_ur("Ur:ByTes/" + text[len("ur:bytes/") :].upper()) == parse_ur(text)


@pytest.mark.parametrize("ur_type", ["bytes", "eth-sign-request", "crypto-hdkey", "a", "x-1-"])
def test_valid_types(ur_type: str) -> None:
    ur = UR(ur_type, b"\x01")
    assert parse_ur(format_ur(ur)) == ur


@pytest.mark.parametrize("ur_type", ["", "Bytes", "by_tes", "bytes/1", "b ytes", "bÿtes"])
def test_ur_value_refuses_a_bad_type(ur_type: str) -> None:
    with pytest.raises(ValueError, match="type"):
        UR(ur_type, b"\x01")


def test_ur_value_refuses_empty_cbor() -> None:
    with pytest.raises(ValueError, match="cbor"):
        UR("bytes", b"")


def test_ur_value_is_frozen() -> None:
    ur = UR("bytes", b"\x01")
    with pytest.raises(AttributeError):
        ur.type = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    "text", ["bytes/aeaeaeaeae", "ur/bytes/aeae", "urn:bytes/aeae", "", "u", "ür:bytes/aeae"]
)
def test_missing_scheme_refused(text: str) -> None:
    with pytest.raises(URFormatError) as info:
        parse_ur(text)
    assert info.value.field == "scheme"


@pytest.mark.parametrize("text", ["ur:by_tes/aeae", "ur:/aeae", "ur:by tes/aeae", "ur:b.s/aeae"])
def test_bad_type_characters_refused(text: str) -> None:
    with pytest.raises(URFormatError) as info:
        parse_ur(text)
    assert info.value.field == "type"


@pytest.mark.parametrize("text", ["ur:bytes", "ur:", "ur:bytes/1-9/aeae", "ur:bytes/a/b/c"])
def test_wrong_number_of_path_components_refused(text: str) -> None:
    with pytest.raises(URFormatError) as info:
        parse_ur(text)
    assert info.value.field == "path"


def test_empty_body_refused() -> None:
    with pytest.raises(BytewordsError) as info:
        parse_ur("ur:bytes/")
    assert info.value.field == "bytewords"


def test_bad_body_crc_refused() -> None:
    text = BCUR["singlePart"]["ur"]
    bad = text[:-2] + ("aa" if text[-2:] != "aa" else "ae")
    with pytest.raises(BytewordsError) as info:
        parse_ur(bad)
    assert info.value.field == "bytewords"


def test_standard_style_body_refused() -> None:
    body = bytewords_encode(b"\x01\x02", Style.URI)
    with pytest.raises(BytewordsError):
        parse_ur("ur:bytes/" + body)


@given(
    st.from_regex(r"[a-z0-9-]{1,20}", fullmatch=True),
    st.binary(min_size=1, max_size=200),
)
def test_round_trip(ur_type: str, cbor: bytes) -> None:
    ur = UR(ur_type, cbor)
    text = format_ur(ur)
    assert text == text.lower()
    assert parse_ur(text) == ur
    assert parse_ur(for_qr(text)) == ur
    assert format_ur(parse_ur(text)) == text


_MUTATION_ALPHABET = "abcdefghijklmnopqrstuvwxyzAZ0123456789-/:_ é\x00"


@given(st.binary(min_size=1, max_size=60), st.data())
def test_any_mutation_parses_to_the_same_ur_or_raises_decode_error(
    cbor: bytes, data: st.DataObject
) -> None:
    text = format_ur(UR("bytes", cbor))
    position = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["replace", "insert", "delete", "upper"]))
    char = data.draw(st.sampled_from(_MUTATION_ALPHABET))
    if kind == "replace" and position < len(text):
        mutated = text[:position] + char + text[position + 1 :]
    elif kind == "insert":
        mutated = text[:position] + char + text[position:]
    elif kind == "delete":
        mutated = text[:position] + text[position + 1 :]
    else:
        mutated = text[:position] + text[position:].upper()
    try:
        parsed = parse_ur(mutated)
    except DecodeError:
        return
    # Only the type is outside the CRC: a changed type is a different, valid UR.
    assert parsed.cbor == cbor
    assert parsed.type == "bytes" or mutated.lower() != text


@given(st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_decode_error(text: str) -> None:
    with contextlib.suppress(DecodeError):
        parse_ur(text)
    with contextlib.suppress(DecodeError):
        parse_ur("ur:bytes/" + text)
