"""Every kind of malformed or non-canonical ABI encoding raises CalldataError naming the field."""

from __future__ import annotations

import pytest
from eth_abi.abi import decode as eth_abi_decode
from eth_abi.abi import encode as eth_abi_encode

from shared.abi import MAX_ARRAY_LENGTH, decode_values, parse_type
from shared.errors import CalldataError


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _decode(types: list[str], data: bytes, names: list[str]) -> None:
    decode_values([parse_type(t) for t in types], data, path="f", names=names, offset=4)


def test_trailing_bytes_after_static_values() -> None:
    data = eth_abi_encode(["uint256"], [1]) + b"\x00"
    with pytest.raises(CalldataError) as err:
        _decode(["uint256"], data, ["x"])
    assert err.value.field == "f"
    assert "trailing" in err.value.reason
    assert err.value.offset == 4 + 32


def test_trailing_bytes_after_dynamic_values() -> None:
    data = eth_abi_encode(["bytes"], [b"ab"]) + _word(0)
    with pytest.raises(CalldataError) as err:
        _decode(["bytes"], data, ["x"])
    assert err.value.field == "f"
    assert "trailing" in err.value.reason


def test_head_runs_past_the_end() -> None:
    data = eth_abi_encode(["uint256", "uint256"], [1, 2])[:40]
    with pytest.raises(CalldataError) as err:
        _decode(["uint256", "uint256"], data, ["a", "b"])
    assert err.value.field == "f.b"
    assert "head" in err.value.reason


def test_offset_not_a_multiple_of_32() -> None:
    data = _word(33) + bytes(1) + _word(0)
    with pytest.raises(CalldataError) as err:
        _decode(["bytes"], data, ["x"])
    assert err.value.field == "f.x"
    assert "multiple of 32" in err.value.reason


def test_offset_leaving_a_gap_is_not_canonical() -> None:
    # eth_abi's decoder follows the offset and accepts this; the canonical encoding has 32.
    data = _word(64) + _word(0) + _word(2) + b"ab" + bytes(30)
    assert eth_abi_decode(["bytes"], data) == (b"ab",)
    with pytest.raises(CalldataError) as err:
        _decode(["bytes"], data, ["x"])
    assert err.value.field == "f.x"
    assert "unreferenced" in err.value.reason


def test_int_that_is_not_sign_extended() -> None:
    data = _word(0x80)  # 128 in an int8 word: only -128 (0xff..80) is that bit pattern
    with pytest.raises(CalldataError) as err:
        _decode(["int8"], data, ["x"])
    assert err.value.field == "f.x"
    assert "sign-extended" in err.value.reason


def test_negative_int_with_dirty_high_bytes() -> None:
    data = b"\x00" + b"\xff" * 31  # 2**248 - 1: positive, far beyond int16
    with pytest.raises(CalldataError) as err:
        _decode(["int16"], data, ["x"])
    assert err.value.field == "f.x"


def test_fixed_bytes_with_dirty_right_padding() -> None:
    data = b"\xde\xad\xbe\xef" + bytes(27) + b"\x01"
    with pytest.raises(CalldataError) as err:
        _decode(["bytes4"], data, ["x"])
    assert err.value.field == "f.x"
    assert "padding" in err.value.reason
    assert err.value.offset == 4 + 31


def test_bytes_padding_missing() -> None:
    data = _word(32) + _word(3) + b"abc"  # length fits, its zero padding is absent
    with pytest.raises(CalldataError) as err:
        _decode(["bytes"], data, ["x"])
    assert err.value.field == "f.x"
    assert "padded" in err.value.reason


def test_array_length_beyond_the_limit() -> None:
    data = _word(32) + _word(MAX_ARRAY_LENGTH + 1) + bytes(32 * (MAX_ARRAY_LENGTH + 1))
    with pytest.raises(CalldataError) as err:
        _decode(["uint8[]"], data, ["x"])
    assert err.value.field == "f.x"
    assert "limit" in err.value.reason


def test_array_length_beyond_the_data() -> None:
    data = _word(32) + _word(3) + _word(1)
    with pytest.raises(CalldataError) as err:
        _decode(["uint256[]"], data, ["x"])
    assert err.value.field == "f.x"
    assert "remain" in err.value.reason


def test_error_inside_nested_array_names_the_element() -> None:
    data = bytearray(eth_abi_encode(["(address,bool)[]"], [[("0x" + "11" * 20, True)] * 3]))
    data[64 + 2 * 64 + 63] = 2  # the bool of element 2
    with pytest.raises(CalldataError) as err:
        _decode(["(address,bool)[]"], bytes(data), ["x"])
    assert err.value.field == "f.x[2].1"
    assert err.value.offset == 4 + 64 + 2 * 64 + 32


def test_string_length_word_missing() -> None:
    data = _word(32)
    with pytest.raises(CalldataError) as err:
        _decode(["string"], data, ["x"])
    assert err.value.field == "f.x"
