"""Tests for shared.cbor: RFC 8949 Appendix A vectors and one named refusal per strictness rule."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from vectorfiles import load_vectors

from shared.cbor import (
    DEFAULT_LIMITS,
    CborKey,
    CborLimits,
    CborValue,
    EncodedTag,
    Tag,
    decode,
    encode,
)
from shared.errors import CborError, CborLimitError, DecodeError, NonCanonicalError

VECTORS = load_vectors("cbor-rfc8949")
ERRORS: dict[str, type[CborError]] = {
    "CborError": CborError,
    "CborLimitError": CborLimitError,
    "NonCanonicalError": NonCanonicalError,
}


def _value(spec: Any) -> CborValue:
    """Build the expected value from the vector file's JSON form (see its ``_format``)."""
    if isinstance(spec, dict):
        if "bytes" in spec:
            return bytes.fromhex(spec["bytes"])
        if "map" in spec:
            return {key: _value(value) for key, value in spec["map"]}
        return Tag(spec["tag"], _value(spec["value"]))
    if isinstance(spec, list):
        return [_value(item) for item in spec]
    value: CborValue = spec
    return value


def _refuse(
    hex_input: str,
    error: type[CborError],
    field: str,
    *,
    offset: int | None = None,
    reason: str | None = None,
    allowed_tags: frozenset[int] = frozenset(),
    limits: CborLimits = DEFAULT_LIMITS,
) -> CborError:
    """Decode and expect exactly ``error`` (not a parent or sibling class) at ``field``."""
    with pytest.raises(CborError) as caught:
        decode(bytes.fromhex(hex_input), allowed_tags=allowed_tags, limits=limits)
    assert type(caught.value) is error, caught.value
    assert caught.value.field == field
    if offset is not None:
        assert caught.value.offset == offset
    if reason is not None:
        assert reason in caught.value.reason
    return caught.value


# ------------------------------------------------------------------ RFC 8949 Appendix A


@pytest.mark.parametrize(
    "vector", VECTORS["deterministic"]["vectors"], ids=lambda v: str(v["diagnostic"])
)
def test_rfc8949_deterministic_example_round_trips(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    expected = _value(vector["value"])
    allowed = frozenset(VECTORS["deterministic"]["allowed_tags"])
    decoded = decode(data, allowed_tags=allowed)
    assert decoded == expected
    assert type(decoded) is type(expected)
    assert encode(expected) == data


@pytest.mark.parametrize("vector", VECTORS["refused"]["vectors"], ids=lambda v: v["hex"])
def test_rfc8949_non_deterministic_example_refused(vector: dict[str, Any]) -> None:
    _refuse(
        vector["hex"],
        ERRORS[vector["error"]],
        vector["field"],
        reason=vector["reason"],
        allowed_tags=frozenset(VECTORS["refused"]["allowed_tags"]),
    )


# ------------------------------------------------------------------ encoder


def test_encode_bool_and_null_are_simple_values_not_ints() -> None:
    assert encode(True) == b"\xf5"
    assert encode(False) == b"\xf4"
    assert encode(None) == b"\xf6"
    assert encode(1) == b"\x01"
    assert encode([True, 1, False, 0]) == bytes.fromhex("84f501f400")


def test_encode_integer_boundaries_use_shortest_head() -> None:
    cases = {
        23: "17",
        24: "1818",
        255: "18ff",
        256: "190100",
        65535: "19ffff",
        65536: "1a00010000",
        2**32 - 1: "1affffffff",
        2**32: "1b0000000100000000",
        -24: "37",
        -25: "3818",
        -256: "38ff",
        -257: "390100",
    }
    for value, hex_output in cases.items():
        assert encode(value).hex() == hex_output
        assert decode(bytes.fromhex(hex_output)) == value


def test_encode_sorts_map_keys_by_encoded_bytes_not_by_length_first() -> None:
    # RFC 8949 §4.2.1 sorts by the bytes of the encoded key; RFC 7049 §3.9 "canonical"
    # put shorter keys first and would place "a" (2 bytes) before 256 (3 bytes).
    assert encode({"a": 0, 256: 0}).hex() == "a2" + "19010000" + "616100"
    # 24 (0x1818) sorts before -1 (0x20) because 0x18 < 0x20.
    assert encode({24: 0, -1: 0, 23: 0}).hex() == "a3" + "1700" + "181800" + "2000"
    assert (
        encode({b"\x01": 0, "a": 0, 1: 0, -1: 0}).hex()
        == "a4" + "0100" + "2000" + "410100" + "616100"
    )


def test_encode_small_int_keys_give_the_same_bytes_in_any_insertion_order() -> None:
    # Keys 0..23 inserted in ascending order skip the sort; any other order is sorted.
    ascending: dict[CborKey, CborValue] = {1: "a", 2: b"b", 23: [0]}
    shuffled: dict[CborKey, CborValue] = {23: [0], 1: "a", 2: b"b"}
    assert encode(ascending).hex() == "a3" + "016161" + "024162" + "178100"
    assert encode(shuffled) == encode(ascending)
    assert encode({2: 0, 24: 0, 1: 0}).hex() == "a3" + "0100" + "0200" + "181800"
    assert encode({0: 0, 1: 0, -1: 0}).hex() == "a3" + "0000" + "0100" + "2000"
    assert encode({}).hex() == "a0"
    assert encode(dict.fromkeys(range(24), 0)).hex() == "b818" + "".join(
        f"{key:02x}00" for key in range(24)
    )


def test_encode_refuses_a_bool_key_after_small_int_keys() -> None:
    with pytest.raises(TypeError):
        encode({0: 0, True: 0})


def test_encode_int_subclass_is_encoded_as_its_value() -> None:
    class Colour(enum.IntEnum):
        RED = 300

    assert encode(Colour.RED) == encode(300)


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), (1, 2), {1, 2}, bytearray(b"x"), object(), [1, 2.0], Tag(True, 1)],
    ids=["float", "nan", "tuple", "set", "bytearray", "object", "nested float", "bool tag"],
)
def test_encode_refuses_unsupported_types(value: object) -> None:
    with pytest.raises(TypeError):
        encode(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [2**64, -(2**64) - 1, Tag(-1, 0), Tag(2**64, 0), "\ud800"],
    ids=["2**64", "-2**64-1", "negative tag", "tag 2**64", "lone surrogate"],
)
def test_encode_refuses_out_of_range_values(value: CborValue) -> None:
    with pytest.raises(ValueError):
        encode(value)


@pytest.mark.parametrize(
    "key", [True, None, 1.0, (1,), frozenset()], ids=["bool", "None", "float", "tuple", "set"]
)
def test_encode_refuses_map_keys_other_than_int_text_bytes(key: object) -> None:
    with pytest.raises(TypeError):
        encode({key: 0})  # type: ignore[dict-item]


def test_encode_refuses_cycles_and_excessive_nesting() -> None:
    cycle: list[CborValue] = []
    cycle.append(cycle)
    with pytest.raises(ValueError):
        encode(cycle)
    deep: CborValue = 0
    for _ in range(64):
        deep = {1: deep}
    assert decode(encode(deep), limits=CborLimits(max_depth=64)) == deep
    with pytest.raises(ValueError):
        encode([deep])


def test_encode_extremes_of_the_integer_range() -> None:
    assert encode(2**64 - 1).hex() == "1bffffffffffffffff"
    assert encode(-(2**64)).hex() == "3bffffffffffffffff"


# ------------------------------------------------------------------ non-canonical forms


@pytest.mark.parametrize(
    ("hex_input", "what"),
    [
        ("1800", "0 in a 1-byte argument"),
        ("1817", "23 in a 1-byte argument"),
        ("190001", "1 in a 2-byte argument"),
        ("1900ff", "255 in a 2-byte argument"),
        ("1a0000ffff", "65535 in a 4-byte argument"),
        ("1b00000000ffffffff", "2**32-1 in an 8-byte argument"),
        ("3800", "-1 in a 1-byte argument"),
        ("390000", "-1 in a 2-byte argument"),
    ],
)
def test_noncanonical_integer_refused(hex_input: str, what: str) -> None:
    _refuse(hex_input, NonCanonicalError, "$", offset=0, reason="shortest form")


@pytest.mark.parametrize(
    ("hex_input", "what"),
    [
        ("5800", "empty byte string, 1-byte length"),
        ("590001" + "00", "1-byte byte string, 2-byte length"),
        ("7801" + "61", "1-char text, 1-byte length"),
        ("9800", "empty array, 1-byte count"),
        ("9a00000001" + "00", "1-item array, 4-byte count"),
        ("b800", "empty map, 1-byte count"),
    ],
)
def test_noncanonical_length_refused(hex_input: str, what: str) -> None:
    _refuse(hex_input, NonCanonicalError, "$", offset=0, reason="shortest form")


def test_noncanonical_tag_number_refused() -> None:
    _refuse("d81000", NonCanonicalError, "$", reason="shortest form", allowed_tags=frozenset({16}))


def test_noncanonical_item_deep_inside_is_named_by_path() -> None:
    _refuse("83000182001800", NonCanonicalError, "$[2][1]", offset=5)


@pytest.mark.parametrize(
    ("hex_input", "kind"),
    [
        ("5fff", "byte string"),
        ("5f4101ff", "byte string"),
        ("7fff", "text string"),
        ("7f6161ff", "text string"),
        ("9fff", "array"),
        ("9f01ff", "array"),
        ("bfff", "map"),
        ("bf0101ff", "map"),
    ],
)
def test_indefinite_length_refused(hex_input: str, kind: str) -> None:
    _refuse(hex_input, NonCanonicalError, "$", offset=0, reason=f"indefinite-length {kind}")


# ------------------------------------------------------------------ map keys


def test_unsorted_text_keys_refused() -> None:
    # {"b": 1, "a": 2}
    _refuse("a2616201616102", NonCanonicalError, '$.{"a"}', offset=4, reason="bytewise order")


def test_unsorted_int_keys_refused() -> None:
    # {10: 0, 1: 0}
    _refuse("a20a000100", NonCanonicalError, "$.{1}", offset=3, reason="bytewise order")


def _keys(hex_input: str) -> list[CborKey]:
    decoded = decode(bytes.fromhex(hex_input))
    assert isinstance(decoded, dict)
    return list(decoded)


def test_key_order_is_bytewise_order_of_the_encoding() -> None:
    # RFC 8949 §4.2.1 lists 10 (0x0a), 100 (0x1864), -1 (0x20), "z" (0x617a), "aa" (0x626161)
    # as correctly sorted: bytewise, so 100 comes before -1 although its encoding is longer.
    sorted_map = "a5" + "0a00" + "186400" + "2000" + "617a00" + "62616100"
    assert _keys(sorted_map) == [10, 100, -1, "z", "aa"]
    # Likewise 23 (0x17) < 24 (0x1818) < -1 (0x20).
    assert _keys("a3" + "1700" + "181800" + "2000") == [23, 24, -1]
    # Length-first order (RFC 7049 §3.9 "canonical") puts -1 before 24: refused here.
    _refuse("a3" + "1700" + "2000" + "181800", NonCanonicalError, "$.{24}", offset=5)
    _refuse("a3" + "2000" + "1700" + "181800", NonCanonicalError, "$.{23}", offset=3)
    _refuse("a2" + "62616100" + "617a00", NonCanonicalError, '$.{"z"}', offset=5)
    # 256 (0x190100) sorts before "a" (0x6161) although its encoding is longer.
    assert decode(bytes.fromhex("a2190100006161" + "00")) == {256: 0, "a": 0}
    _refuse("a2616100190100" + "00", NonCanonicalError, "$.{256}", offset=4)


def test_duplicate_int_key_refused() -> None:
    _refuse("a201000102", CborError, "$.{1}", offset=3, reason="duplicate map key")


def test_duplicate_text_key_refused() -> None:
    _refuse("a2616101616102", CborError, '$.{"a"}', offset=4, reason="duplicate map key")


def test_duplicate_bytes_key_refused() -> None:
    _refuse("a2420102004201020f", CborError, "$.{h'0102'}", offset=5, reason="duplicate")


@pytest.mark.parametrize(
    ("hex_input", "what"),
    [
        ("a18000", "array"),
        ("a1a000", "map"),
        ("a1f500", "true"),
        ("a1f600", "null"),
        ("a1c10000", "tag"),
        ("a1f93c0000", "float"),
    ],
)
def test_map_key_that_is_not_int_text_or_bytes_refused(hex_input: str, what: str) -> None:
    _refuse(
        hex_input,
        CborError,
        "$.key[0]",
        offset=1,
        reason="map key must be",
        allowed_tags=frozenset({1}),
    )


# ------------------------------------------------------------------ malformed input


@pytest.mark.parametrize(
    ("hex_input", "field", "offset"),
    [
        ("", "$", 0),
        ("18", "$", 0),
        ("1901", "$", 0),
        ("1a000100", "$", 0),
        ("1b00000001000000", "$", 0),
        ("828100", "$[1]", 3),
        ("8119", "$[0]", 1),
        ("a201810002", "$.{2}", 5),
        ("a201820000", "$.key[1]", 5),
        ("d825", "$#37", 2),
        ("d8", "$", 0),
    ],
)
def test_truncated_input_refused(hex_input: str, field: str, offset: int) -> None:
    _refuse(
        hex_input, CborError, field, offset=offset, reason="truncated", allowed_tags=frozenset({37})
    )


@pytest.mark.parametrize(
    ("hex_input", "offset"),
    [("0000", 1), ("8000", 1), ("a0ff", 1), ("f6f6", 1), ("6161" + "61", 2)],
)
def test_trailing_bytes_refused(hex_input: str, offset: int) -> None:
    _refuse(hex_input, CborError, "$", offset=offset, reason="trailing bytes")


def test_tag_not_allowed_refused() -> None:
    _refuse(
        "c074323031332d30332d32315432303a30343a30305a",
        CborError,
        "$",
        reason="tag 0 is not allowed here",
    )
    # Tag 37 (UUID) is allowed only where the caller says so.
    _refuse(
        "a103d8255000000000000000000000000000000000", CborError, "$.{3}", offset=2, reason="tag 37"
    )


def test_error_inside_allowed_tag_names_the_tag_in_the_path() -> None:
    error = _refuse("a103d825f7", CborError, "$.{3}#37", offset=4, allowed_tags=frozenset({37}))
    assert "undefined" in error.reason


def test_allowed_tag_decodes_to_tag_object() -> None:
    uuid = bytes(range(16))
    data = bytes.fromhex("a103d82550") + uuid
    assert decode(data, allowed_tags=frozenset({37})) == {3: Tag(37, uuid)}


@pytest.mark.parametrize(
    "hex_input", ["f90000", "f93c00", "fa47c35000", "fb3ff199999999999a", "f97e00", "f9"]
)
def test_floats_refused(hex_input: str) -> None:
    _refuse(hex_input, CborError, "$", offset=0, reason="floats are not allowed")


def test_float_inside_array_is_named_by_path() -> None:
    _refuse("8201f93c00", CborError, "$[1]", offset=2, reason="floats are not allowed")


def test_undefined_refused() -> None:
    _refuse("f7", CborError, "$", offset=0, reason="undefined")


@pytest.mark.parametrize("hex_input", ["e0", "f0", "f3", "f818", "f820", "f8ff", "f800"])
def test_other_simple_values_refused(hex_input: str) -> None:
    _refuse(hex_input, CborError, "$", offset=0, reason="not allowed")


@pytest.mark.parametrize("hex_input", ["1c", "1d", "1e", "3c", "5d", "7e", "9c", "bd", "de", "fc"])
def test_reserved_additional_information_refused(hex_input: str) -> None:
    _refuse(hex_input, CborError, "$", offset=0, reason="reserved additional information")


@pytest.mark.parametrize(
    ("hex_input", "field"),
    [("ff", "$"), ("81ff", "$[0]"), ("a20100ff00", "$.key[1]"), ("a101ff", "$.{1}")],
)
def test_break_byte_out_of_place_refused(hex_input: str, field: str) -> None:
    _refuse(hex_input, CborError, field, reason="break byte 0xff out of place")


@pytest.mark.parametrize("hex_input", ["1f", "3f", "df"])
def test_indefinite_marker_on_int_or_tag_refused(hex_input: str) -> None:
    _refuse(hex_input, CborError, "$", offset=0, reason="additional information 31")


@pytest.mark.parametrize(
    ("hex_input", "offset"),
    [
        ("62c328", 1),  # 0xc3 needs a continuation byte; 0x28 is not one
        ("62c0af", 1),  # overlong encoding of "/"
        ("63eda080", 1),  # UTF-16 surrogate D800 encoded as UTF-8
        ("61ff", 1),  # 0xff never appears in UTF-8
        ("61c3", 1),  # sequence cut short by the string's end
        ("646162f490", 3),  # "ab", then the start of U+110000, above the Unicode range
    ],
)
def test_invalid_utf8_refused(hex_input: str, offset: int) -> None:
    _refuse(hex_input, CborError, "$", offset=offset, reason="invalid UTF-8")


# ------------------------------------------------------------------ limits


@pytest.mark.parametrize(
    "hex_input",
    [
        "9bffffffffffffffff",
        "bbffffffffffffffff",
        "5bffffffffffffffff",
        "7bffffffffffffffff",
        "5affffffff",
        "9a7fffffff",
    ],
)
def test_huge_declared_length_refused_before_allocating(hex_input: str) -> None:
    _refuse(hex_input, CborLimitError, "$", offset=0, reason="exceeds max_length")


@pytest.mark.parametrize(
    ("hex_input", "field"),
    [
        ("4501020304", "$"),  # 5-byte string, 4 bytes present
        ("64616263", "$"),  # 4-character text, 3 present
        ("9820" + "00" * 31, "$"),  # 32 elements, 31 bytes present
        ("a2" + "0000", "$"),  # two entries need at least four bytes
        ("81" + "590100" + "00" * 10, "$[0]"),
    ],
)
def test_declared_length_beyond_remaining_bytes_refused(hex_input: str, field: str) -> None:
    _refuse(hex_input, CborLimitError, field, reason="bytes remaining")


def test_max_length_limit_applies_to_strings_and_containers() -> None:
    limits = CborLimits(max_length=4)
    assert decode(bytes.fromhex("4401020304"), limits=limits) == b"\x01\x02\x03\x04"
    _refuse("450102030405", CborLimitError, "$", limits=limits, reason="max_length 4")
    _refuse("8500000000" + "00", CborLimitError, "$", limits=limits, reason="max_length 4")
    _refuse("a5" + "0000" * 5, CborLimitError, "$", limits=limits, reason="max_length 4")


def test_ten_thousand_nested_arrays_refused_without_recursion_error() -> None:
    data = b"\x81" * 10_000 + b"\x00"
    with pytest.raises(CborLimitError) as caught:
        decode(data)
    assert caught.value.field == "$" + "[0]" * 16
    assert caught.value.offset == 16
    assert "max_depth 16" in caught.value.reason


def test_deep_nesting_of_maps_and_tags_refused() -> None:
    _refuse("a101" * 5000 + "00", CborLimitError, "$" + ".{1}" * 16, offset=32)
    tags = frozenset({37})
    _refuse("d825" * 5000 + "00", CborLimitError, "$" + "#37" * 16, allowed_tags=tags)


def test_depth_limit_is_exact() -> None:
    assert decode(b"\x81" * 16 + b"\x00") is not None
    _refuse("81" * 17 + "00", CborLimitError, "$" + "[0]" * 16, offset=16)
    assert decode(b"\x81\x81\x00", limits=CborLimits(max_depth=2)) == [[0]]
    _refuse("818100", CborLimitError, "$[0]", limits=CborLimits(max_depth=1))
    _refuse("80", CborLimitError, "$", limits=CborLimits(max_depth=0))
    assert decode(b"\x00", limits=CborLimits(max_depth=0)) == 0


def test_item_count_limit() -> None:
    limits = CborLimits(max_items=10)
    assert decode(bytes.fromhex("89" + "00" * 9), limits=limits) == [0] * 9
    _refuse(
        "8a" + "00" * 10, CborLimitError, "$[9]", offset=10, limits=limits, reason="max_items 10"
    )
    # Map keys and tags count as items too.
    five_entries = "a5" + "0000" + "0100" + "0200" + "0300" + "0400"
    _refuse(five_entries, CborLimitError, "$.key[4]", limits=CborLimits(max_items=9))
    _refuse(five_entries, CborLimitError, "$.{4}", limits=limits)
    tags = frozenset({37})
    _refuse(
        "d825d82500", CborLimitError, "$#37#37", limits=CborLimits(max_items=2), allowed_tags=tags
    )


def test_max_size_checked_before_parsing() -> None:
    limits = CborLimits(max_size=10)
    assert decode(bytes.fromhex("89" + "00" * 9), limits=limits) == [0] * 9
    # Eleven break bytes: the size limit answers before any byte is looked at.
    _refuse("ff" * 11, CborLimitError, "$", offset=0, limits=limits, reason="max_size 10")


def test_default_limits() -> None:
    expected = CborLimits(max_size=1 << 20, max_depth=16, max_items=1 << 16, max_length=1 << 20)
    assert expected == DEFAULT_LIMITS


@pytest.mark.parametrize(
    "kwargs", [{"max_depth": 65}, {"max_depth": -1}, {"max_items": -1}, {"max_size": -5}]
)
def test_limits_out_of_range_are_programmer_errors(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        CborLimits(**kwargs)


# ------------------------------------------------------------------ decoding in general


def test_decode_accepts_bytes_like_input() -> None:
    data = bytes.fromhex("a201820203036161")
    assert decode(memoryview(data)) == decode(bytearray(data)) == {1: [2, 3], 3: "a"}


def test_map_value_paths_use_diagnostic_notation_for_keys() -> None:
    _refuse("a1616bf7", CborError, '$.{"k"}', offset=3)
    _refuse("a14101f7", CborError, "$.{h'01'}", offset=3)
    _refuse("a120f7", CborError, "$.{-1}", offset=2)


def test_every_refusal_is_a_decode_error() -> None:
    for hex_input in ("", "ff", "1800", "a2010001"):
        with pytest.raises(DecodeError):
            decode(bytes.fromhex(hex_input))


def test_deepest_allowed_document_decodes_from_a_deep_call_stack() -> None:
    # MAX_DEPTH_CEILING keeps decode and encode well inside Python's recursion limit even
    # when the caller already uses hundreds of frames.
    data = bytes.fromhex("a101" * 64 + "00")
    limits = CborLimits(max_depth=64)

    def nested(frames: int) -> CborValue:
        return decode(data, limits=limits) if frames == 0 else nested(frames - 1)

    assert encode(nested(500)) == data


# ------------------------------------------------------------------ shared tags

SHARED = frozenset({304})
KEYPATH = "d90130" + "a1018a182cf5183cf500f500f400f4"


def test_a_shared_tag_carries_its_content_bytes_and_repeats_as_one_object() -> None:
    data = bytes.fromhex("83" + KEYPATH + KEYPATH + "d90130a10180")
    decoded = decode(data, allowed_tags=SHARED, shared_tags=SHARED)
    assert isinstance(decoded, list)
    first, again, other = decoded
    assert isinstance(first, EncodedTag) and isinstance(other, EncodedTag)
    assert again is first
    assert first.encoded == bytes.fromhex(KEYPATH[6:])
    assert other.encoded == bytes.fromhex("a10180")
    assert first == EncodedTag(304, decode(first.encoded), first.encoded)
    assert encode([first, again, other]) == data


def test_a_tag_not_named_shared_is_a_plain_tag() -> None:
    data = bytes.fromhex("82" + KEYPATH + KEYPATH)
    decoded = decode(data, allowed_tags=SHARED)
    assert isinstance(decoded, list)
    first, again = decoded
    assert type(first) is Tag and type(again) is Tag
    assert first == again and first is not again


def test_a_kept_tag_carries_its_content_bytes_and_is_never_shared() -> None:
    data = bytes.fromhex("83" + KEYPATH + KEYPATH + "d90130a10180")
    decoded = decode(data, allowed_tags=SHARED, encoded_tags=SHARED)
    assert isinstance(decoded, list)
    first, again, other = decoded
    assert type(first) is EncodedTag and type(again) is EncodedTag
    assert type(other) is EncodedTag
    assert again is not first and again == first
    assert first.encoded == bytes.fromhex(KEYPATH[6:])
    assert other.encoded == bytes.fromhex("a10180")
    assert encode([first, again, other]) == data


def test_kept_tags_nest_and_only_the_named_numbers_are_kept() -> None:
    # #6.401({1: #6.37(h'00'), 5: keypath}): 401 kept, 37 and 304 plain.
    inner = "a201d8254100" + "05" + KEYPATH
    data = bytes.fromhex("d90191" + inner)
    decoded = decode(data, allowed_tags=frozenset({37, 304, 401}), encoded_tags=frozenset({401}))
    assert type(decoded) is EncodedTag and decoded.encoded == bytes.fromhex(inner)
    assert isinstance(decoded.value, dict)
    assert type(decoded.value[1]) is Tag and type(decoded.value[5]) is Tag


def test_a_kept_tag_refuses_as_a_plain_tag() -> None:
    data = "82" + KEYPATH + KEYPATH[:-2]
    with pytest.raises(CborError) as plain:
        decode(bytes.fromhex(data), allowed_tags=SHARED)
    with pytest.raises(CborError) as kept:
        decode(bytes.fromhex(data), allowed_tags=SHARED, encoded_tags=SHARED)
    assert (type(kept.value), kept.value.field, kept.value.offset, kept.value.reason) == (
        type(plain.value),
        plain.value.field,
        plain.value.offset,
        plain.value.reason,
    )
    assert kept.value.field == "$[1]#304.{1}[9]"


def test_a_kept_tag_must_still_be_allowed() -> None:
    with pytest.raises(CborError) as caught:
        decode(bytes.fromhex(KEYPATH), encoded_tags=SHARED)
    assert caught.value.field == "$" and caught.value.reason == "tag 304 is not allowed here"


def _same_refusal(hex_input: str, **options: Any) -> CborError:
    """Decode with and without ``shared_tags``: the same refusal, field, offset and reason."""
    with pytest.raises(CborError) as plain:
        decode(bytes.fromhex(hex_input), allowed_tags=SHARED, **options)
    with pytest.raises(CborError) as shared:
        decode(bytes.fromhex(hex_input), allowed_tags=SHARED, shared_tags=SHARED, **options)
    assert type(shared.value) is type(plain.value)
    assert (shared.value.field, shared.value.offset, shared.value.reason) == (
        plain.value.field,
        plain.value.offset,
        plain.value.reason,
    )
    return shared.value


def test_a_repeat_nested_deeper_than_allowed_is_refused_where_it_breaks_the_limit() -> None:
    # The keypath fits at depth 1 (tag, map, array: 3 levels) but not inside two more arrays.
    error = _same_refusal("82" + KEYPATH + "8181" + KEYPATH, limits=CborLimits(max_depth=5))
    assert type(error) is CborLimitError
    assert error.field == "$[1][0][0]#304.{1}"


def test_a_repeat_beyond_max_items_is_refused_at_the_item_that_breaks_the_limit() -> None:
    # Each keypath is 1 tag + 1 map + 1 key + 1 array + 10 elements = 14 items.
    error = _same_refusal("82" + KEYPATH + KEYPATH, limits=CborLimits(max_items=1 + 14 + 13))
    assert type(error) is CborLimitError
    assert error.field == "$[1]#304.{1}[9]"


def test_a_repeat_cut_short_is_refused_as_truncated() -> None:
    error = _same_refusal("82" + KEYPATH + KEYPATH[:-2])
    assert error.field == "$[1]#304.{1}[9]"
    assert "truncated" in error.reason
