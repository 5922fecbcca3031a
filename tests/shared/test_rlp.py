"""Tests for shared.tx.rlp: canonical encoding, and refusal of every non-canonical form."""

from __future__ import annotations

import pytest
import rlp as pyrlp
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import DecodeError, RLPError
from shared.tx.rlp import (
    MAX_DEPTH,
    RLPValue,
    check_count,
    decode,
    encode,
    encode_uint,
    item_path,
    read_top,
    scan_list,
    span_bytes,
    span_uint,
)

# ethereum.org, "Recursive-length prefix (RLP) serialization", section "Examples"
# (ethereum/ethereum-org-website, public/content/developers/docs/data-structures-and-encoding/rlp).
LOREM = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit"
PUBLISHED_EXAMPLES: list[tuple[RLPValue, str]] = [
    (b"dog", "83646f67"),
    ((b"cat", b"dog"), "c88363617483646f67"),
    (b"", "80"),
    ((), "c0"),
    (b"\x00", "00"),
    (b"\x0f", "0f"),
    (b"\x04\x00", "820400"),
    (((), ((),), ((), ((),))), "c7c0c1c0c3c0c1c0"),
    (LOREM, "b838" + LOREM.hex()),
]


@pytest.mark.parametrize(("value", "encoded"), PUBLISHED_EXAMPLES)
def test_published_examples_encode_and_decode(value: RLPValue, encoded: str) -> None:
    assert encode(value) == bytes.fromhex(encoded)
    assert decode(bytes.fromhex(encoded)) == value


@pytest.mark.parametrize(("number", "encoded"), [(0, b""), (15, b"\x0f"), (1024, b"\x04\x00")])
def test_encode_uint_is_minimal(number: int, encoded: bytes) -> None:
    assert encode_uint(number) == encoded


def _refused(data: bytes) -> RLPError:
    with pytest.raises(RLPError) as info:
        decode(data, field="tx")
    return info.value


def test_single_byte_wrapped_in_short_string_refused() -> None:
    error = _refused(b"\x81\x05")
    assert error.field == "tx"
    assert error.offset == 0
    assert "itself" in error.reason


def test_byte_0x80_and_above_needs_its_header() -> None:
    assert decode(b"\x81\x80") == b"\x80"


def test_long_form_string_for_short_length_refused() -> None:
    error = _refused(b"\xb8\x05hello")
    assert "short form" in error.reason


def test_long_form_list_for_short_length_refused() -> None:
    error = _refused(b"\xf8\x03\x01\x02\x03")
    assert "short form" in error.reason


def test_leading_zero_in_long_length_refused() -> None:
    error = _refused(b"\xb9\x00\x38" + b"a" * 56)
    assert "leading zero" in error.reason


def test_declared_length_beyond_input_refused() -> None:
    error = _refused(b"\x85abc")
    assert "exceeds" in error.reason
    assert error.offset == 0


def test_huge_declared_length_refused_before_allocation() -> None:
    error = _refused(b"\xbf" + b"\xff" * 8)
    assert "exceeds" in error.reason


def test_length_bytes_past_end_refused() -> None:
    error = _refused(b"\xb9\x01")
    assert "length bytes" in error.reason


def test_empty_input_refused() -> None:
    _refused(b"")


def test_trailing_bytes_after_top_item_refused() -> None:
    error = _refused(b"\x01\x02")
    assert "trailing" in error.reason
    assert error.offset == 1


def test_child_reaching_past_its_list_refused() -> None:
    # Inside a 5-byte outer list, an inner list declares 2 payload bytes; its child claims 3.
    with pytest.raises(RLPError) as info:
        decode(b"\xc5\xc2\x83abc", field="tx")
    assert info.value.field == "tx[0][0]"
    assert info.value.offset == 2


def test_trailing_bytes_inside_a_list_refused() -> None:
    # [ "a", <half of an item> ]: the last child header runs past the list's end.
    with pytest.raises(RLPError) as info:
        decode(b"\xc3\x61\x82\x62", field="tx")
    assert info.value.field == "tx[1]"


def test_nesting_depth_is_bounded() -> None:
    value: RLPValue = ()
    for _ in range(MAX_DEPTH - 1):
        value = (value,)
    assert decode(encode(value)) == value
    error = _refused(encode((value,)))
    assert "nesting" in error.reason


def _uint(data: bytes, parent: str, key: str | None) -> int:
    # The way the transaction decoders read a scalar: the span is located first (its errors
    # name the parent), then read as an integer named parent.key.
    return span_uint(data, read_top(data, 0, parent), parent, key)


@pytest.mark.parametrize(
    ("parent", "key", "path"),
    [("tx", "nonce", "tx.nonce"), ("tx.access_list", 2, "tx.access_list[2]"), ("tx", None, "tx")],
)
def test_item_path_joins_parent_and_key(parent: str, key: str | int | None, path: str) -> None:
    assert item_path(parent, key) == path


def test_integer_with_leading_zero_refused() -> None:
    with pytest.raises(RLPError) as info:
        _uint(b"\x82\x00\x01", "tx", "nonce")
    assert info.value.field == "tx.nonce"
    assert info.value.offset == 0
    assert info.value.reason == "integer has a leading zero byte (0 is the empty string)"


def test_integer_zero_as_zero_byte_refused() -> None:
    with pytest.raises(RLPError) as info:
        _uint(b"\x00", "tx", "value")
    assert info.value.field == "tx.value"
    assert info.value.offset == 0
    assert info.value.reason == "integer has a leading zero byte (0 is the empty string)"


def test_integer_longer_than_32_bytes_refused() -> None:
    with pytest.raises(RLPError) as info:
        _uint(encode(b"\x01" * 33), "tx", "value")
    assert info.value.field == "tx.value"
    assert info.value.offset == 0
    assert info.value.reason == "integer of 33 bytes exceeds 32 bytes"


def test_integer_values() -> None:
    assert _uint(b"\x80", "n", None) == 0
    assert _uint(b"\x7f", "n", None) == 127
    assert _uint(b"\x82\x04\x00", "n", None) == 1024
    assert _uint(encode(b"\xff" * 32), "n", None) == 2**256 - 1


def test_list_where_integer_expected_refused() -> None:
    with pytest.raises(RLPError) as info:
        _uint(b"\xc0", "tx", "nonce")
    assert info.value.field == "tx.nonce"
    assert info.value.offset == 0
    assert info.value.reason == "expected an integer, got a list"


def test_list_where_bytes_expected_refused() -> None:
    with pytest.raises(RLPError) as info:
        span_bytes(b"\xc0", read_top(b"\xc0", 0, "tx"), "tx", "to")
    assert info.value.field == "tx.to"
    assert info.value.offset == 0
    assert info.value.reason == "expected a byte string, got a list"


def test_bytes_where_list_expected_refused() -> None:
    with pytest.raises(RLPError) as info:
        scan_list(b"\x80", read_top(b"\x80", 0, "l"), "l", 1)
    assert info.value.field == "l"
    assert info.value.offset == 0
    assert info.value.reason == "expected a list, got a byte string"


def test_read_top_after_a_type_byte() -> None:
    # EIP-2718: a typed transaction's RLP starts after its type byte; offsets stay absolute.
    data = b"\x02" + encode((b"\x01",))
    assert read_top(data, 1, "tx") == (1, 2, 3, True)
    with pytest.raises(RLPError) as info:
        read_top(data + b"\x00", 1, "tx")
    assert info.value.field == "tx"
    assert info.value.offset == 3
    assert info.value.reason == "1 trailing bytes after the top-level item"


def test_named_children_paths_and_counts() -> None:
    data = encode((b"\x01", (b"\x02",)))
    top = read_top(data, 0, "tx")
    first, second = scan_list(data, top, "tx", 1, ("nonce", "access_list"))
    assert span_uint(data, first, "tx", "nonce") == 1
    # A child's name reaches its errors: the second item is named tx.access_list ...
    with pytest.raises(RLPError) as named:
        span_bytes(data, second, "tx", "access_list")
    assert named.value.field == "tx.access_list"
    (inner,) = scan_list(data, second, item_path("tx", "access_list"), 2)
    assert span_uint(data, inner, "tx.access_list", 0) == 2
    # ... and its own items tx.access_list[0].
    with pytest.raises(RLPError) as indexed:
        scan_list(data, inner, item_path("tx.access_list", 0), 3)
    assert indexed.value.field == "tx.access_list[0]"
    assert indexed.value.offset == 3
    with pytest.raises(RLPError) as few:
        scan_list(data, top, "tx", 1, ("a", "b", "c"))
    assert few.value.field == "tx"
    assert few.value.offset == 0
    assert few.value.reason == "too few items: expected 3, got 2"
    # A surplus is refused where it starts, as soon as it is seen.
    with pytest.raises(RLPError) as many:
        scan_list(data, top, "tx", 1, ("a",))
    assert many.value.field == "tx"
    assert many.value.offset == 2
    assert many.value.reason == "too many items: expected 1"


def test_inexact_names_leave_the_count_to_the_caller() -> None:
    # The legacy layout reads 6 named fields and then 0 or 3 more: exact=False names the
    # first items and indexes the rest, and check_count refuses afterwards.
    data = encode((b"\x01", b"\x02", b"\x03"))
    top = read_top(data, 0, "tx")
    children = scan_list(data, top, "tx", 1, ("nonce",), exact=False)
    assert [span_uint(data, child, "tx", index) for index, child in enumerate(children)] == [
        1,
        2,
        3,
    ]
    check_count("tx", 0, children, 3)
    with pytest.raises(RLPError) as many:
        check_count("tx", 0, children, 2)
    assert many.value.field == "tx"
    assert many.value.offset == 3
    assert many.value.reason == "too many items: expected 2"
    with pytest.raises(RLPError) as few:
        check_count("tx", 0, children, 4)
    assert few.value.offset == 0
    assert few.value.reason == "too few items: expected 4, got 3"


def test_child_errors_name_the_child_under_its_list() -> None:
    # A named child whose header is not canonical is refused under its own name.
    data = b"\xc2\x81\x05"
    with pytest.raises(RLPError) as info:
        scan_list(data, read_top(data, 0, "tx"), "tx", 1, ("nonce",))
    assert info.value.field == "tx.nonce"
    assert info.value.offset == 1
    assert info.value.reason == "a single byte below 0x80 must be encoded as itself"


values: st.SearchStrategy[RLPValue] = st.recursive(
    st.binary(max_size=70),
    lambda children: st.lists(children, max_size=5).map(tuple),
    max_leaves=20,
)


@given(values)
def test_decode_encode_round_trip_and_matches_pyrlp(value: RLPValue) -> None:
    encoded = encode(value)
    assert decode(encoded) == value
    assert encoded == pyrlp.encode(value)


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_rlp_error(data: bytes) -> None:
    try:
        value = decode(data)
    except DecodeError as exc:
        assert isinstance(exc, RLPError)
    else:
        # Accepted input is canonical: re-encoding gives the same bytes.
        assert encode(value) == data
