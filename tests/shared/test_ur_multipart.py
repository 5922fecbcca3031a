"""Multi-part URs (BCR-2024-001): published parts, reassembly under loss, and every refusal."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.cbor import CborValue, decode, encode
from shared.errors import (
    BytewordsError,
    DecodeError,
    FountainError,
    IncompleteError,
    MixedMessageError,
    URFormatError,
    URTypeError,
)
from shared.ur import UR, Progress, Style, URDecoder, UREncoder, bytewords_decode, for_qr
from shared.ur.bytewords import bytewords_encode
from shared.ur.xoshiro import Xoshiro256

BCUR = load_vectors("bc-ur-and-erc4527")["bcur"]


def bytes_ur(length: int, seed: bytes = b"Wolf") -> UR:
    """BC's make_message_ur: the test message wrapped as a CBOR byte string."""
    return UR("bytes", encode(Xoshiro256(seed).next_data(length)))


def header_of(part: str) -> list[CborValue]:
    value = decode(bytewords_decode(part.rsplit("/", 1)[1], Style.MINIMAL))
    assert isinstance(value, list)
    return value


def raw_part(seq: str, header: bytes, ur_type: str = "bytes") -> str:
    """A part string around arbitrary header bytes, with a valid bytewords CRC."""
    return f"ur:{ur_type}/{seq}/{bytewords_encode(header, Style.MINIMAL)}"


def part_from(seq: str, header: CborValue, ur_type: str = "bytes") -> str:
    return raw_part(seq, encode(header), ur_type)


def decode_parts(parts: list[str], decoder: URDecoder | None = None) -> URDecoder:
    decoder = decoder or URDecoder()
    for part in parts:
        decoder.receive(part)
        if decoder.is_complete:
            break
    return decoder


# --- published vectors ---------------------------------------------------------------


def test_multi_part_vector_reproduces_all_20_parts() -> None:
    block = BCUR["multiPart"]
    encoder = UREncoder(bytes_ur(block["messageLength"]), block["maxFragmentLength"])
    assert not encoder.is_single_part
    assert encoder.seq_len == 9
    assert encoder.parts(block["partsGenerated"]) == block["parts"]


def test_multi_part_vector_decodes_with_pure_parts_missing() -> None:
    parts = BCUR["multiPart"]["parts"]
    # Parts 3 and 7 are lost; the fountain parts 10..20 make up for them.
    decoder = decode_parts(parts[:2] + parts[3:6] + parts[7:])
    assert decoder.result() == bytes_ur(BCUR["multiPart"]["messageLength"])


def test_reference_scenario_first_seq_num_100() -> None:
    # BC test_multipart_ur: 32767 bytes, fragments up to 1000, parts from 101 on.
    ur = bytes_ur(32767)
    encoder = UREncoder(ur, 1000, first_seq_num=100)
    decoder = URDecoder()
    while not decoder.is_complete:
        decoder.receive(encoder.next_part())
    assert decoder.result() == ur


def test_message_that_fits_one_fragment_is_always_the_single_part_string() -> None:
    ur = bytes_ur(BCUR["singlePart"]["messageLength"])
    encoder = UREncoder(ur, 100)
    assert encoder.is_single_part and encoder.seq_len == 1
    assert encoder.parts(3) == [BCUR["singlePart"]["ur"]] * 3
    decoder = URDecoder()
    progress = decoder.receive(BCUR["singlePart"]["ur"])
    assert progress == Progress(1, 1, 1.0, 0, True)
    assert decoder.result() == ur


def test_encoder_refuses_bad_fragment_limits() -> None:
    with pytest.raises(ValueError, match="max_fragment_length"):
        UREncoder(bytes_ur(100), 5)


# --- reassembly ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("length", "fragment"), [(300, 30), (1000, 50), (2500, 100), (5000, 200), (777, 10)]
)
def test_shuffled_parts_with_30_percent_dropped_reassemble(length: int, fragment: int) -> None:
    rng = random.Random(length * 1000 + fragment)
    ur = bytes_ur(length, seed=str(length).encode())
    encoder = UREncoder(ur, fragment)
    parts = encoder.parts(4 * encoder.seq_len + 10)
    rng.shuffle(parts)
    kept = [p for p in parts if rng.random() >= 0.3]
    decoder = decode_parts(kept)
    assert decoder.is_complete
    assert decoder.result() == ur
    assert decoder.progress.parts_received <= 2 * encoder.seq_len


@pytest.mark.parametrize("seed", range(4))
def test_stream_with_30_percent_lost_needs_few_parts_beyond_seq_len(seed: int) -> None:
    # The signer's case: parts 1, 2, 3, ... shown in turn, 30% of frames missed.
    rng = random.Random(seed)
    ur = bytes_ur(20_000, seed=bytes([seed]))
    encoder = UREncoder(ur, 200)
    decoder = URDecoder()
    while not decoder.is_complete:
        part = encoder.next_part()
        if rng.random() >= 0.3:
            decoder.receive(part)
    assert decoder.result() == ur
    # The degree distribution costs some parts (a degree-1 part of a fragment already
    # held adds nothing); elimination wastes none of the rest.
    assert decoder.progress.parts_received <= 1.35 * encoder.seq_len


def test_duplicates_are_harmless() -> None:
    ur = bytes_ur(600)
    encoder = UREncoder(ur, 60)
    parts = encoder.parts(encoder.seq_len)
    decoder = URDecoder()
    for part in parts[:4] * 3:
        decoder.receive(part)
    assert decoder.progress.seq_len == encoder.seq_len
    assert decoder.progress.estimated_remaining == encoder.seq_len - 4
    assert decoder.progress.parts_received == 12
    decode_parts(parts, decoder)
    assert decoder.result() == ur
    # Parts after completion change nothing.
    assert decoder.receive(parts[0]).complete
    assert decoder.result() == ur


def test_upper_case_parts_decode_identically() -> None:
    ur = bytes_ur(1000)
    parts = UREncoder(ur, 90).parts(30)
    upper = decode_parts([for_qr(p) for p in parts])
    lower = decode_parts(parts)
    assert upper.result() == lower.result() == ur
    assert upper.progress == lower.progress


def test_progress_reports_known_fragments() -> None:
    decoder = URDecoder()
    assert decoder.progress == Progress(0, 0, 0.0, 0, False)
    with pytest.raises(IncompleteError):
        decoder.result()
    encoder = UREncoder(bytes_ur(256), 30)
    parts = encoder.parts(9)
    first = decoder.receive(parts[0])
    assert first == Progress(1, 9, 1 / 9, 8, False)
    for part in parts[1:8]:
        decoder.receive(part)
    assert decoder.progress.estimated_remaining == 1
    assert decoder.receive(parts[8]) == Progress(9, 9, 1.0, 0, True)


def test_mixed_messages_foreign_parts_refused_right_message_completes() -> None:
    ours, theirs = bytes_ur(900, b"ours"), bytes_ur(900, b"theirs")
    our_parts = UREncoder(ours, 80).parts(40)
    their_parts = UREncoder(theirs, 80).parts(40)
    interleaved = [p for pair in zip(our_parts, their_parts, strict=True) for p in pair]
    decoder = URDecoder()
    refused = 0
    for part in interleaved:
        try:
            decoder.receive(part)
        except MixedMessageError as error:
            refused += 1
            assert error.field.startswith("part ")
        if decoder.is_complete:
            break
    assert refused > 0
    assert decoder.result() == ours


def test_mixed_message_leaves_state_unchanged() -> None:
    decoder = URDecoder()
    decoder.receive(UREncoder(bytes_ur(500, b"a"), 50).next_part())
    before = decoder.progress
    foreign = UREncoder(bytes_ur(700, b"b"), 50).parts(2)[1]
    with pytest.raises(MixedMessageError) as info:
        decoder.receive(foreign)
    assert info.value.field == "part 2"
    assert decoder.progress == before


def test_part_with_another_seq_len_is_a_mixed_message() -> None:
    parts = UREncoder(bytes_ur(450), 50).parts(2)  # 453 bytes of CBOR in 10 fragments of 46
    decoder = URDecoder()
    decoder.receive(parts[0])
    _, _, message_len, checksum, _ = header_of(parts[1])
    foreign = [2, 9, message_len, checksum, b"\x00" * 51]  # 9 fragments of 51 bytes
    with pytest.raises(MixedMessageError) as info:
        decoder.receive(part_from("2-9", foreign))
    assert info.value.field == "part 2"
    assert "seqLen" in info.value.reason


@pytest.mark.parametrize(("index", "name"), [(2, "messageLen"), (3, "checksum")])
def test_part_with_another_message_len_or_checksum_is_a_mixed_message(
    index: int, name: str
) -> None:
    parts = UREncoder(bytes_ur(450), 50).parts(2)
    decoder = URDecoder()
    decoder.receive(parts[0])
    header = header_of(parts[1])
    value = header[index]
    assert isinstance(value, int)
    header[index] = value + 1  # 454 bytes still take 10 fragments of 46
    with pytest.raises(MixedMessageError) as info:
        decoder.receive(part_from("2-10", header))
    assert info.value.field == "part 2"
    assert name in info.value.reason


def test_part_of_another_type_is_a_mixed_message() -> None:
    parts = UREncoder(bytes_ur(450), 50).parts(2)
    decoder = URDecoder()
    decoder.receive(parts[0])
    with pytest.raises(MixedMessageError) as info:
        decoder.receive(parts[1].replace("ur:bytes/", "ur:other/"))
    assert (info.value.field, "type" in info.value.reason) == ("part 2", True)


def test_single_part_ur_while_decoding_a_multi_part_one_is_a_mixed_message() -> None:
    decoder = URDecoder()
    decoder.receive(UREncoder(bytes_ur(450), 50).next_part())
    with pytest.raises(MixedMessageError):
        decoder.receive(BCUR["singlePart"]["ur"])


def test_multi_part_part_after_a_single_part_ur_is_a_mixed_message() -> None:
    decoder = URDecoder()
    decoder.receive(BCUR["singlePart"]["ur"])
    assert decoder.receive(BCUR["singlePart"]["ur"]).complete  # the same one again is fine
    with pytest.raises(MixedMessageError):
        decoder.receive(BCUR["multiPart"]["parts"][0])
    with pytest.raises(MixedMessageError):
        decoder.receive("ur:bytes/" + bytewords_encode(b"\x41\x00", Style.MINIMAL))


def test_fragment_length_differing_from_the_first_part_is_a_format_error() -> None:
    parts = UREncoder(bytes_ur(450), 50).parts(2)
    decoder = URDecoder()
    decoder.receive(parts[0])
    header = header_of(parts[1])
    fragment = header[4]
    assert isinstance(fragment, bytes)
    header[4] = fragment + b"\x00"  # 10 fragments of 47 or of 48 bytes both carry 453 bytes
    with pytest.raises(URFormatError) as info:
        decoder.receive(part_from("2-10", header))
    assert info.value.field == "header.fragment"


def test_corrupt_fragment_with_valid_crc_gives_fountain_error_and_no_result() -> None:
    ur = bytes_ur(300)
    parts = UREncoder(ur, 40).parts(8)
    header = header_of(parts[3])
    fragment = header[4]
    assert isinstance(fragment, bytes)
    header[4] = bytes([fragment[0] ^ 0x80]) + fragment[1:]
    parts[3] = part_from("4-8", header)
    decoder = URDecoder()
    for part in parts[:-1]:
        decoder.receive(part)
    with pytest.raises(FountainError) as info:
        decoder.receive(parts[-1])
    assert info.value.field == "message"
    assert not decoder.is_complete
    with pytest.raises(IncompleteError):
        decoder.result()
    # The decoder started over and can take the good parts now.
    good = UREncoder(ur, 40).parts(8)
    assert decode_parts(good, decoder).result() == ur


def test_flood_of_fountain_parts_is_capped() -> None:
    encoder = UREncoder(bytes_ur(2000), 20, first_seq_num=1000)
    decoder = URDecoder(max_mixed_parts=3)
    for part in encoder.parts(400):
        decoder.receive(part)
    assert decoder.ignored_parts > 300
    assert not decoder.is_complete


# --- strict refusals, one named test each ----------------------------------------------


def test_not_a_ur_refused() -> None:
    with pytest.raises(URFormatError) as info:
        URDecoder().receive("bytes/1-9/" + BCUR["multiPart"]["parts"][0].rsplit("/", 1)[1])
    assert info.value.field == "scheme"


def test_bad_type_characters_refused() -> None:
    with pytest.raises(URFormatError) as info:
        URDecoder().receive(BCUR["multiPart"]["parts"][0].replace("bytes", "by$es"))
    assert info.value.field == "type"


@pytest.mark.parametrize("suffix", ["/1-9/x/y", "/1-9/x/"])
def test_wrong_number_of_path_components_refused(suffix: str) -> None:
    with pytest.raises(URFormatError) as info:
        URDecoder().receive("ur:bytes" + suffix)
    assert info.value.field == "path"


@pytest.mark.parametrize(
    "seq",
    ["a-9", "1-b", "1-9-9", "19", "0-9", "1-0", "01-9", "1-09", "+1-9", "-1-9", "12345678901-9"],
)
def test_non_numeric_or_zero_seq_refused(seq: str) -> None:
    body = BCUR["multiPart"]["parts"][0].rsplit("/", 1)[1]
    with pytest.raises(URFormatError) as info:
        URDecoder().receive(f"ur:bytes/{seq}/{body}")
    assert info.value.field == "seq"


@pytest.mark.parametrize("seq", ["2-9", "1-8", "1-10"])
def test_seq_path_disagreeing_with_header_refused(seq: str) -> None:
    body = BCUR["multiPart"]["parts"][0].rsplit("/", 1)[1]
    with pytest.raises(URFormatError) as info:
        URDecoder().receive(f"ur:bytes/{seq}/{body}")
    assert info.value.field == "seq"


def test_bad_bytewords_in_part_refused() -> None:
    part = BCUR["multiPart"]["parts"][0]
    with pytest.raises(BytewordsError) as info:
        URDecoder().receive(part[:-4] + "aeae")
    assert info.value.field == "bytewords"


GOOD = [1, 9, 256, 0x0167AA07, b"\x00" * 29]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        (GOOD[:4], "header"),
        ([*GOOD, 0], "header"),
        ({1: 2}, "header"),
        (b"\x01", "header"),
        ([-1, *GOOD[1:]], "header.seqNum"),
        ([1, "9", *GOOD[2:]], "header.seqLen"),
        ([1, 9, True, *GOOD[3:]], "header.messageLen"),
        ([*GOOD[:3], 1 << 32, GOOD[4]], "header.checksum"),
        ([*GOOD[:3], 1 << 40, GOOD[4]], "header.checksum"),
        ([*GOOD[:4], "fragment"], "header.fragment"),
        ([*GOOD[:4], b""], "header.fragment"),
        ([*GOOD[:4], [b"\x00"]], "header"),  # nesting beyond the header's depth
        ([1, 9, 0, *GOOD[3:]], "header.messageLen"),
        ([1, 0, *GOOD[2:]], "header.seqLen"),
        ([1, 10, *GOOD[2:]], "header.seqLen"),
        ([1, 9, 100, *GOOD[3:]], "header.seqLen"),
        ([1, 1, 20, GOOD[3], b"\x00" * 29], "header.fragment"),
        ([1 << 32, *GOOD[1:]], "header.seqNum"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_malformed_header_refused(header: CborValue, field: str) -> None:
    # The header is checked on its own before it is compared with the "1-9" path.
    with pytest.raises(URFormatError) as info:
        URDecoder().receive(part_from("1-9", header))
    assert info.value.field == field


@pytest.mark.parametrize(
    "header_hex",
    [
        "8501091901001a0167aa07",  # array of 5 cut short
        "8501091901001a0167aa07581d" + "00" * 29 + "00",  # trailing byte
        "85011809" + "1901001a0167aa07581d" + "00" * 29,  # seqLen 9 in two bytes
        "9f01091901001a0167aa07581d" + "00" * 29 + "ff",  # indefinite-length array
    ],
)
def test_header_that_is_not_canonical_cbor_refused(header_hex: str) -> None:
    with pytest.raises(URFormatError) as info:
        URDecoder().receive(raw_part("1-9", bytes.fromhex(header_hex)))
    assert info.value.field == "header"


def test_message_length_over_the_limit_refused_before_allocating() -> None:
    # messageLen 2**40 with 1-byte fragments would claim a terabyte; refused on sight.
    header: list[CborValue] = [1, 1, 1 << 40, 0, b"\x00"]
    with pytest.raises(URFormatError) as info:
        URDecoder().receive(part_from("1-1", header))
    assert info.value.field == "header.messageLen"
    small = URDecoder(max_message_length=255)
    with pytest.raises(URFormatError) as info:
        small.receive(BCUR["multiPart"]["parts"][0])  # messageLen 256
    assert info.value.field == "header.messageLen"


def test_seq_len_over_the_limit_refused() -> None:
    decoder = URDecoder(max_seq_len=8)
    with pytest.raises(URFormatError) as info:
        decoder.receive(BCUR["multiPart"]["parts"][0])  # seqLen 9
    assert info.value.field == "header.seqLen"


def test_part_longer_than_any_message_refused_before_decoding() -> None:
    decoder = URDecoder(max_message_length=100)
    with pytest.raises(URFormatError) as info:
        decoder.receive("ur:bytes/1-2/" + "ae" * 400)
    assert info.value.field == "header"


def test_single_part_longer_than_the_limit_refused() -> None:
    with pytest.raises(URFormatError) as info:
        URDecoder(max_message_length=10).receive(BCUR["singlePart"]["ur"])
    assert info.value.field == "body"


def test_unexpected_type_refused() -> None:
    decoder = URDecoder(frozenset({"eth-sign-request"}))
    with pytest.raises(URTypeError) as info:
        decoder.receive(BCUR["multiPart"]["parts"][0])
    assert info.value.field == "type"
    with pytest.raises(URTypeError):
        decoder.receive(BCUR["singlePart"]["ur"])
    assert decoder.progress.parts_received == 0


def test_expected_type_accepted() -> None:
    decoder = decode_parts(BCUR["multiPart"]["parts"], URDecoder(frozenset({"bytes"})))
    assert decoder.result().type == "bytes"


# --- properties ----------------------------------------------------------------------


@given(
    st.binary(min_size=1, max_size=3000),
    st.integers(10, 400),
    st.integers(0, (1 << 32) - 1),
    st.randoms(use_true_random=False),
)
def test_round_trip_random_messages(
    cbor: bytes, max_fragment: int, first_seq_num: int, rnd: random.Random
) -> None:
    ur = UR("bytes", cbor)
    encoder = UREncoder(ur, max_fragment, first_seq_num=first_seq_num)
    parts = encoder.parts(3 * encoder.seq_len + 5)
    rnd.shuffle(parts)
    decoder = decode_parts(parts)
    assert decoder.result() == ur


_MUTATION_ALPHABET = "abcdefghijklmnopqrstuvwxyzAZ0123456789-/:_ é\x00"


@given(st.binary(min_size=1, max_size=400), st.integers(10, 60), st.data())
def test_any_mutation_of_a_part_gives_the_same_result_or_a_decode_error(
    cbor: bytes, max_fragment: int, data: st.DataObject
) -> None:
    ur = UR("bytes", cbor)
    encoder = UREncoder(ur, max_fragment)
    parts = encoder.parts(2 * encoder.seq_len + 3)
    index = data.draw(st.integers(0, len(parts) - 1))
    text = parts[index]
    position = data.draw(st.integers(0, len(text)))
    kind = data.draw(st.sampled_from(["replace", "insert", "delete", "upper", "truncate"]))
    char = data.draw(st.sampled_from(_MUTATION_ALPHABET))
    if kind == "replace" and position < len(text):
        mutated = text[:position] + char + text[position + 1 :]
    elif kind == "insert":
        mutated = text[:position] + char + text[position:]
    elif kind == "delete":
        mutated = text[:position] + text[position + 1 :]
    elif kind == "truncate":
        mutated = text[:position]
    else:
        mutated = text[:position] + text[position:].upper()
    decoder = URDecoder()
    try:
        decoder.receive(mutated)
        for part in parts:
            decoder.receive(part)
            if decoder.is_complete:
                break
    except DecodeError:
        return
    assert decoder.result() == ur
