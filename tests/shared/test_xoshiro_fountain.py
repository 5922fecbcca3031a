"""Xoshiro256**, the alias sampler and fountain coding reproduce BC-UR's reference vectors."""

from __future__ import annotations

import random
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.cbor import decode, encode
from shared.errors import FountainError, IncompleteError, MixedMessageError, URFormatError
from shared.ur.fountain import (
    FountainPart,
    choose_degree,
    choose_fragments,
    find_nominal_fragment_length,
    partition_message,
    shuffled,
)
from shared.ur.fountain_decoder import FountainDecoder
from shared.ur.fountain_encoder import FountainEncoder
from shared.ur.multipart import encode_part_header
from shared.ur.sampler import RandomSampler
from shared.ur.xoshiro import Xoshiro256

BCUR = load_vectors("bc-ur-and-erc4527")["bcur"]
REF = load_vectors("bc-ur-reference-tests")


def wolf_message(length: int, seed: bytes = b"Wolf") -> bytes:
    """BC's test message generator: xoshiro256** seeded with sha256(seed), nextData(n)."""
    return Xoshiro256(seed).next_data(length)


def test_xoshiro_outputs_seeded_with_string() -> None:
    rng = Xoshiro256(b"Wolf")
    assert [rng.next() % 100 for _ in range(100)] == REF["xoshiro"]["seedWolfNextMod100"]


def test_xoshiro_outputs_seeded_with_crc32() -> None:
    # The reference seeds from the CRC32 as four big-endian bytes.
    rng = Xoshiro256(zlib.crc32(b"Wolf").to_bytes(4, "big"))
    assert [rng.next() % 100 for _ in range(100)] == REF["xoshiro"]["seedCrc32OfWolfNextMod100"]


def test_xoshiro_next_int() -> None:
    rng = Xoshiro256(b"Wolf")
    assert [rng.next_int(1, 10) for _ in range(100)] == REF["xoshiro"]["seedWolfNextInt1to10"]


def test_xoshiro_next_data() -> None:
    rng = Xoshiro256(b"Wolf")
    assert [rng.next_data(10).hex(), rng.next_data(10).hex()] == REF["xoshiro"][
        "seedWolfNextData10x2"
    ]


def test_next_double_is_in_unit_interval() -> None:
    rng = Xoshiro256(b"range")
    values = [rng.next_double() for _ in range(2000)]
    assert all(0.0 <= v < 1.0 for v in values)


def test_random_sampler_vector() -> None:
    block = REF["randomSampler"]
    sampler = RandomSampler.from_weights([float(w) for w in block["weights"]])
    rng = Xoshiro256(block["seed"].encode())
    assert [sampler.next(rng.next_double) for _ in range(500)] == block["samples"]


@pytest.mark.parametrize("weights", [[], [-1.0, 2.0], [0.0, 0.0]])
def test_random_sampler_refuses_bad_weights(weights: list[float]) -> None:
    with pytest.raises(ValueError, match="RandomSampler"):
        RandomSampler.from_weights(weights)


def test_shuffle_vector() -> None:
    block = REF["shuffle"]
    rng = Xoshiro256(block["seed"].encode())
    assert [shuffled(block["values"], rng) for _ in range(10)] == block["results"]


def test_shuffle_prefix_equals_prefix_of_full_shuffle() -> None:
    for seed in range(50):
        items = list(range(37))
        full = shuffled(items, Xoshiro256(bytes([seed])))
        assert shuffled(items, Xoshiro256(bytes([seed])), 5) == full[:5]


def test_choose_degree_vector() -> None:
    block = REF["chooseDegree"]
    message = wolf_message(block["messageLength"], block["messageSeed"].encode())
    length = find_nominal_fragment_length(
        len(message), block["minFragmentLength"], block["maxFragmentLength"]
    )
    seq_len = len(partition_message(message, length))
    degrees = [choose_degree(seq_len, Xoshiro256(f"Wolf-{n}".encode())) for n in range(1, 201)]
    assert degrees == block["degrees"]


def test_partition_vector() -> None:
    block = REF["partition"]
    message = wolf_message(block["messageLength"], block["messageSeed"].encode())
    length = find_nominal_fragment_length(
        len(message), block["minFragmentLength"], block["maxFragmentLength"]
    )
    fragments = partition_message(message, length)
    assert [f.hex() for f in fragments] == block["fragments"]
    assert b"".join(fragments)[: len(message)] == message


def test_choose_fragments_vector() -> None:
    block = BCUR["chooseFragments"]
    message = wolf_message(block["messageLength"], block["seed"].encode())
    length = find_nominal_fragment_length(
        len(message), block["minFragmentLength"], block["maxFragmentLength"]
    )
    seq_len = len(partition_message(message, length))
    assert seq_len == block["seqLen"]
    checksum = zlib.crc32(message)
    got = [list(choose_fragments(n, seq_len, checksum)) for n in range(1, 31)]
    assert got == block["indexesForSeqNum1to30"]


@pytest.mark.parametrize(
    "vector", BCUR["findNominalFragmentLength"], ids=lambda v: f"{v['min']}-{v['max']}"
)
def test_find_nominal_fragment_length_vectors(vector: dict[str, int]) -> None:
    got = find_nominal_fragment_length(vector["messageLength"], vector["min"], vector["max"])
    assert got == vector["fragmentLength"]


def test_nominal_fragment_length_for_a_message_shorter_than_the_minimum() -> None:
    # ngraveio rounds the fragment-count limit up, so short messages make one fragment.
    assert find_nominal_fragment_length(3, 10, 100) == 3


@pytest.mark.parametrize(("args"), [(0, 10, 100), (10, 0, 100), (10, 20, 10)])
def test_nominal_fragment_length_refuses_bad_arguments(args: tuple[int, int, int]) -> None:
    with pytest.raises(ValueError, match="must"):
        find_nominal_fragment_length(*args)


def test_fountain_encoder_cbor_vector() -> None:
    block = REF["fountainEncoderCbor"]
    encoder = FountainEncoder(
        wolf_message(block["messageLength"], block["messageSeed"].encode()),
        block["maxFragmentLength"],
    )
    assert encoder.checksum == block["checksum"]
    parts = [encode_part_header(encoder.next_part()).hex() for _ in range(20)]
    assert parts == block["parts"]


def test_fountain_part_cbor_round_trip_vector() -> None:
    block = REF["fountainCborRoundTrip"]
    part = FountainPart(
        block["seqNum"],
        block["seqLen"],
        block["messageLen"],
        block["checksum"],
        bytes.fromhex(block["fragmentHex"]),
    )
    cbor = encode_part_header(part)
    assert encode(decode(cbor)) == cbor
    assert decode(cbor) == [12, 8, 100, 0x12345678, bytes.fromhex("0105030305")]


def test_encoder_wraps_sequence_numbers_past_uint32_to_one() -> None:
    encoder = FountainEncoder(wolf_message(100), 30, first_seq_num=(1 << 32) - 2)
    assert [encoder.next_part().seq_num for _ in range(3)] == [(1 << 32) - 1, 1, 2]


@pytest.mark.parametrize(
    ("message", "kwargs"),
    [(b"", {}), (b"x" * 20, {"first_seq_num": -1}), (b"x" * 20, {"first_seq_num": 1 << 32})],
)
def test_encoder_refuses_bad_arguments(message: bytes, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"must|empty"):
        FountainEncoder(message, 30, **kwargs)


def _decode_all(parts: list[FountainPart], max_mixed_parts: int = 1000) -> FountainDecoder:
    decoder = FountainDecoder(max_mixed_parts=max_mixed_parts)
    for part in parts:
        decoder.receive(part)
        if decoder.is_complete:
            break
    return decoder


def test_decoder_reference_scenario_first_seq_num_100() -> None:
    # BC test_fountain_decoder: 32767 bytes, fragments of up to 1000, parts from 101 on.
    message = wolf_message(32767)
    encoder = FountainEncoder(message, 1000, first_seq_num=100)
    decoder = FountainDecoder(max_mixed_parts=100)
    while not decoder.is_complete:
        decoder.receive(encoder.next_part())
    assert decoder.result() == message
    assert decoder.accepted_parts < 2 * encoder.seq_len


@pytest.mark.parametrize("seed", range(6))
def test_decoder_recovers_from_shuffled_parts_with_30_percent_dropped(seed: int) -> None:
    rng = random.Random(seed)
    message = rng.randbytes(rng.randrange(200, 3000))
    encoder = FountainEncoder(message, rng.choice([17, 40, 100]))
    parts = [encoder.next_part() for _ in range(4 * encoder.seq_len + 20)]
    rng.shuffle(parts)
    kept = [p for p in parts if rng.random() >= 0.3]
    decoder = _decode_all(kept)
    assert decoder.is_complete
    assert decoder.result() == message


def test_decoder_finishes_as_soon_as_the_parts_determine_the_message() -> None:
    # Parts 1..n-1 plus any mixed part containing fragment n-1 pin down the last one.
    message = wolf_message(1024)
    encoder = FountainEncoder(message, 100)
    parts = [encoder.next_part() for _ in range(40)]
    n = encoder.seq_len
    decoder = FountainDecoder(max_mixed_parts=10)
    for part in parts[: n - 1]:
        decoder.receive(part)
    assert decoder.solved_count == n - 1 and not decoder.is_complete
    extra = next(
        p for p in parts[n:] if n - 1 in choose_fragments(p.seq_num, p.seq_len, p.checksum)
    )
    decoder.receive(extra)
    assert decoder.result() == message


def test_duplicates_change_nothing() -> None:
    message = wolf_message(500)
    encoder = FountainEncoder(message, 60)
    parts = [encoder.next_part() for _ in range(encoder.seq_len + 5)]
    decoder = FountainDecoder(max_mixed_parts=10)
    for part in parts[:3] * 5:
        decoder.receive(part)
    assert decoder.solved_count == 3
    assert decoder.accepted_parts == 15
    for part in parts:
        decoder.receive(part)
    assert decoder.result() == message


def test_result_before_completion_raises_incomplete() -> None:
    decoder = FountainDecoder(max_mixed_parts=10)
    with pytest.raises(IncompleteError):
        decoder.result()


@pytest.mark.parametrize(
    ("change", "attribute"),
    [
        ({"seq_len": 12}, "seqLen"),
        ({"message_len": 501}, "messageLen"),
        ({"checksum": 7}, "checksum"),
    ],
)
def test_part_of_another_message_is_refused_and_state_kept(
    change: dict[str, int], attribute: str
) -> None:
    encoder = FountainEncoder(wolf_message(500), 60)
    first, second = encoder.next_part(), encoder.next_part()
    decoder = FountainDecoder(max_mixed_parts=10)
    decoder.receive(first)
    fields = {
        "seq_num": second.seq_num,
        "seq_len": second.seq_len,
        "message_len": second.message_len,
        "checksum": second.checksum,
        "fragment": second.fragment,
    }
    foreign = FountainPart(**{**fields, **change})  # type: ignore[arg-type]
    with pytest.raises(MixedMessageError) as info:
        decoder.receive(foreign)
    assert info.value.field == "part 2"
    assert attribute in info.value.reason
    assert (decoder.accepted_parts, decoder.solved_count) == (1, 1)


def test_fragment_length_differing_from_the_first_part_is_a_format_error() -> None:
    encoder = FountainEncoder(wolf_message(500), 60)
    first, second = encoder.next_part(), encoder.next_part()
    decoder = FountainDecoder(max_mixed_parts=10)
    decoder.receive(first)
    short = FountainPart(
        second.seq_num, second.seq_len, second.message_len, second.checksum, second.fragment[:-1]
    )
    with pytest.raises(URFormatError) as info:
        decoder.receive(short)
    assert info.value.field == "header.fragment"
    assert decoder.accepted_parts == 1


def test_corrupt_fragment_gives_fountain_error_and_a_fresh_decoder() -> None:
    message = wolf_message(300)
    encoder = FountainEncoder(message, 40)
    parts = [encoder.next_part() for _ in range(encoder.seq_len)]
    bad = parts[2]
    parts[2] = FountainPart(
        bad.seq_num,
        bad.seq_len,
        bad.message_len,
        bad.checksum,
        bytes([bad.fragment[0] ^ 1]) + bad.fragment[1:],
    )
    decoder = FountainDecoder(max_mixed_parts=10)
    for part in parts[:-1]:
        decoder.receive(part)
    with pytest.raises(FountainError) as info:
        decoder.receive(parts[-1])
    assert not isinstance(info.value, MixedMessageError)
    assert info.value.field == "message"
    assert not decoder.is_complete and decoder.seq_len == 0
    with pytest.raises(IncompleteError):
        decoder.result()


def test_flood_of_mixed_parts_is_capped() -> None:
    # Only fountain parts (never the plain fragments) of a 40-fragment message, with a
    # store of 5 mixed rows: memory stays bounded and the rest are ignored, counted.
    def flood() -> FountainDecoder:
        encoder = FountainEncoder(wolf_message(400), 10, first_seq_num=40)
        decoder = FountainDecoder(max_mixed_parts=5)
        for _ in range(300):
            decoder.receive(encoder.next_part())
        return decoder

    decoder = flood()
    assert decoder.mixed_parts == 5
    assert decoder.ignored_parts > 200
    assert decoder.accepted_parts == 300
    # Deterministic: the same parts leave the same state.
    again = flood()
    assert (again.solved_count, again.ignored_parts) == (
        decoder.solved_count,
        decoder.ignored_parts,
    )


@given(st.binary(min_size=1, max_size=2000), st.integers(10, 300), st.randoms())
def test_round_trip_any_message(message: bytes, max_length: int, rnd: random.Random) -> None:
    encoder = FountainEncoder(message, max_length)
    parts = [encoder.next_part() for _ in range(3 * encoder.seq_len + 10)]
    rnd.shuffle(parts)
    decoder = _decode_all(parts)
    assert decoder.result() == message
