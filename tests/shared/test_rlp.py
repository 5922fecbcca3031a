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
    decode,
    decode_top,
    encode,
    encode_uint,
    item_bytes,
    item_uint,
    list_children,
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


def test_integer_with_leading_zero_refused() -> None:
    item = decode_top(b"\x82\x00\x01", field="tx.nonce")
    with pytest.raises(RLPError) as info:
        item_uint(item)
    assert info.value.field == "tx.nonce"
    assert "leading zero" in info.value.reason


def test_integer_zero_as_zero_byte_refused() -> None:
    with pytest.raises(RLPError):
        item_uint(decode_top(b"\x00", field="tx.value"))


def test_integer_longer_than_32_bytes_refused() -> None:
    with pytest.raises(RLPError):
        item_uint(decode_top(encode(b"\x01" * 33), field="tx.value"))


def test_integer_values() -> None:
    assert item_uint(decode_top(b"\x80", field="n")) == 0
    assert item_uint(decode_top(b"\x7f", field="n")) == 127
    assert item_uint(decode_top(b"\x82\x04\x00", field="n")) == 1024


def test_list_where_integer_expected_refused() -> None:
    with pytest.raises(RLPError):
        item_uint(decode_top(b"\xc0", field="n"))


def test_list_where_bytes_expected_refused() -> None:
    with pytest.raises(RLPError):
        item_bytes(decode_top(b"\xc0", field="b"))


def test_bytes_where_list_expected_refused() -> None:
    with pytest.raises(RLPError):
        list_children(decode_top(b"\x80", field="l"))


def test_named_children_paths_and_counts() -> None:
    top = decode_top(encode((b"\x01", (b"\x02",))), field="tx")
    first, second = list_children(top, ("nonce", "access_list"))
    assert first.path == "tx.nonce"
    (inner,) = list_children(second)
    assert inner.path == "tx.access_list[0]"
    with pytest.raises(RLPError, match="too few"):
        list_children(top, ("a", "b", "c"))
    with pytest.raises(RLPError, match="too many"):
        list_children(top, ("a",))


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
