"""The coldsign-compressed envelope: round trips, size gain, and every way inflation is refused."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import cbor
from shared.compressed import COMPRESSED_TYPE, compress_ur, decompress_ur, smaller_of
from shared.errors import CborError, DecodeError, EnvelopeError, SchemaError
from shared.ur import UR

ALLOWED = frozenset({"eth-batch-sign-request", "bytes"})


def envelope(inner_type: object, length: object, deflated: object) -> UR:
    return UR(COMPRESSED_TYPE, cbor.encode({1: inner_type, 2: length, 3: deflated}))  # type: ignore[dict-item]


def deflate(data: bytes, wbits: int = -15) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


BATCH_LIKE = cbor.encode({1: [{2: bytes(range(40)) * 3, 7: "coldsign-watcher"}] * 100})


def test_round_trip_restores_type_and_bytes() -> None:
    ur = UR("eth-batch-sign-request", BATCH_LIKE)
    packed = compress_ur(ur)
    assert packed.type == COMPRESSED_TYPE
    assert decompress_ur(packed, allowed_types=ALLOWED) == ur


def test_a_repetitive_batch_shrinks_and_smaller_of_keeps_the_smaller() -> None:
    ur = UR("eth-batch-sign-request", BATCH_LIKE)
    assert len(compress_ur(ur).cbor) * 3 < len(ur.cbor)
    assert smaller_of(ur).type == COMPRESSED_TYPE
    tiny = UR("bytes", cbor.encode(b"\x01"))
    assert smaller_of(tiny) == tiny


def test_a_decompression_bomb_is_refused_without_inflating_it() -> None:
    bomb = deflate(bytes(50 << 20))  # 50 MiB of zeros in ~50 KiB
    with pytest.raises(EnvelopeError, match="more than the declared") as info:
        decompress_ur(envelope("bytes", 1000, bomb), allowed_types=ALLOWED)
    assert info.value.field == "coldsign-compressed.deflated"


def test_a_declared_length_over_the_limit_is_refused_before_inflating() -> None:
    with pytest.raises(SchemaError) as info:
        decompress_ur(envelope("bytes", 5 << 20, b"\x03\x00"), allowed_types=ALLOWED)
    assert info.value.field == "coldsign-compressed.length"
    with pytest.raises(SchemaError):
        decompress_ur(
            envelope("bytes", 100, deflate(bytes(100))), allowed_types=ALLOWED, max_length=99
        )


@pytest.mark.parametrize(
    ("deflated", "length", "reason"),
    [
        (deflate(b"hello world")[:-2], 11, "truncated"),
        (deflate(b"hello world") + b"\x00", 11, "after the end"),
        (deflate(b"hello world"), 12, "declared 12"),
        (b"\xff\xff\xff\xff", 11, "not a valid DEFLATE"),
        (deflate(b"hello world", wbits=15), 11, "not a valid DEFLATE"),  # zlib header, not raw
    ],
    ids=["truncated", "trailing-bytes", "shorter-than-declared", "garbage", "zlib-wrapper"],
)
def test_a_bad_deflate_stream_is_refused(deflated: bytes, length: int, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason):
        decompress_ur(envelope("bytes", length, deflated), allowed_types=ALLOWED)


@pytest.mark.parametrize(
    ("ur", "field"),
    [
        (envelope("eth-signature", 3, deflate(b"abc")), "coldsign-compressed.type"),
        (envelope(COMPRESSED_TYPE, 3, deflate(b"abc")), "coldsign-compressed.type"),
        (envelope(7, 3, deflate(b"abc")), "coldsign-compressed.type"),
        (envelope("bytes", 0, deflate(b"")), "coldsign-compressed.length"),
        (envelope("bytes", True, deflate(b"a")), "coldsign-compressed.length"),
        (envelope("bytes", 3, "abc"), "coldsign-compressed.deflated"),
        (UR(COMPRESSED_TYPE, cbor.encode({1: "bytes", 2: 3})), "coldsign-compressed"),
        (UR(COMPRESSED_TYPE, cbor.encode({1: "bytes", 2: 3, 3: b"", 4: 0})), "coldsign-compressed"),
        (UR(COMPRESSED_TYPE, cbor.encode([1, 2, 3])), "coldsign-compressed"),
        (UR("bytes", cbor.encode(b"x")), "coldsign-compressed.type"),
    ],
    ids=[
        "inner-type-not-allowed",
        "nested-envelope",
        "inner-type-not-text",
        "zero-length",
        "bool-length",
        "deflated-not-bytes",
        "missing-key",
        "unknown-key",
        "not-a-map",
        "not-an-envelope",
    ],
)
def test_a_malformed_envelope_is_refused_naming_the_field(ur: UR, field: str) -> None:
    with pytest.raises(SchemaError) as info:
        decompress_ur(ur, allowed_types=ALLOWED)
    assert info.value.field == field


def test_a_non_canonical_envelope_is_refused_by_the_cbor_layer() -> None:
    good = envelope("bytes", 3, deflate(b"abc")).cbor
    with pytest.raises(CborError):
        decompress_ur(UR(COMPRESSED_TYPE, good + b"\x00"), allowed_types=ALLOWED)


@given(st.binary(min_size=1, max_size=2000))
def test_any_message_round_trips(data: bytes) -> None:
    ur = UR("bytes", data)
    assert decompress_ur(compress_ur(ur), allowed_types=ALLOWED) == ur


@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255))
def test_any_single_byte_change_is_refused_or_harmless(position: int, byte: int) -> None:
    packed = bytearray(compress_ur(UR("eth-batch-sign-request", BATCH_LIKE)).cbor)
    packed[position % len(packed)] = byte
    try:
        inner = decompress_ur(UR(COMPRESSED_TYPE, bytes(packed)), allowed_types=ALLOWED)
    except DecodeError:
        return
    assert inner.type in ALLOWED
