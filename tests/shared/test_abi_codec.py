"""Tests for shared.abi: the type grammar, agreement with eth_abi, and canonical round trips."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as eth_abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from hypothesis import given
from hypothesis import strategies as st

from shared.abi import (
    AbiType,
    AbiValue,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    NonUtf8String,
    StringType,
    TupleType,
    UIntType,
    decode_values,
    decode_values_at,
    encode_values,
    function_selector,
    head_size,
    is_dynamic,
    parse_signature,
    parse_type,
)
from shared.address import Address
from shared.errors import DecodeError

# ---- strategies: ABI types and values of those types -------------------------------------

_ELEMENTARY: st.SearchStrategy[AbiType] = st.one_of(
    st.integers(1, 32).map(lambda n: UIntType(8 * n)),
    st.integers(1, 32).map(lambda n: IntType(8 * n)),
    st.just(AddressType()),
    st.just(BoolType()),
    st.integers(1, 32).map(FixedBytesType),
    st.just(BytesType()),
    st.just(StringType()),
)


def _extend(inner: st.SearchStrategy[AbiType]) -> st.SearchStrategy[AbiType]:
    return st.one_of(
        st.builds(ArrayType, inner, st.none() | st.integers(1, 3)),
        st.lists(inner, min_size=1, max_size=3).map(lambda cs: TupleType(tuple(cs))),
    )


abi_types: st.SearchStrategy[AbiType] = st.recursive(_ELEMENTARY, _extend, max_leaves=6)


def values_of(abi_type: AbiType) -> st.SearchStrategy[AbiValue]:
    """Valid Python values of ``abi_type``, as shared.abi represents them."""
    if isinstance(abi_type, UIntType):
        return st.integers(0, 2**abi_type.bits - 1)
    if isinstance(abi_type, IntType):
        bound = 2 ** (abi_type.bits - 1)
        return st.integers(-bound, bound - 1)
    if isinstance(abi_type, AddressType):
        return st.binary(min_size=20, max_size=20).map(Address)
    if isinstance(abi_type, BoolType):
        return st.booleans()
    if isinstance(abi_type, FixedBytesType):
        return st.binary(min_size=abi_type.size, max_size=abi_type.size)
    if isinstance(abi_type, BytesType):
        return st.binary(max_size=70)
    if isinstance(abi_type, StringType):
        return st.text(max_size=20)
    if isinstance(abi_type, ArrayType):
        if abi_type.length is None:
            return st.lists(values_of(abi_type.item), max_size=3).map(tuple)
        return st.tuples(*[values_of(abi_type.item)] * abi_type.length)
    return st.tuples(*[values_of(c) for c in abi_type.components])


def to_eth_abi(value: AbiValue) -> Any:
    """The same value in the form eth_abi takes (addresses as hex text)."""
    if isinstance(value, Address):
        return value.checksummed()
    if isinstance(value, tuple):
        return tuple(to_eth_abi(v) for v in value)
    return value


@st.composite
def typed_values(draw: st.DrawFn) -> tuple[tuple[AbiType, ...], tuple[AbiValue, ...]]:
    types = tuple(draw(st.lists(abi_types, min_size=0, max_size=4)))
    values = tuple(draw(values_of(t)) for t in types)
    return types, values


def _mutate(data: bytes, source: st.DataObject) -> bytes:
    draw = source.draw
    kind = draw(st.sampled_from(["flip", "truncate", "append", "insert", "delete", "set_word"]))
    if kind == "append" or not data:
        return data + draw(st.binary(min_size=1, max_size=40))
    index = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        bit = draw(st.integers(0, 7))
        return data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]
    if kind == "truncate":
        return data[:index]
    if kind == "insert":
        return data[:index] + draw(st.binary(min_size=1, max_size=33)) + data[index:]
    if kind == "delete":
        return data[:index] + data[index + 1 + draw(st.integers(0, 32)) :]
    word = index - index % 32
    replacement = draw(st.integers(0, 2**256 - 1)).to_bytes(32, "big")
    return data[:word] + replacement + data[word + 32 :]


# ---- the grammar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("uint256", UIntType(256)),
        ("int8", IntType(8)),
        ("address", AddressType()),
        ("bool", BoolType()),
        ("bytes32", FixedBytesType(32)),
        ("bytes", BytesType()),
        ("string", StringType()),
        ("uint256[]", ArrayType(UIntType(256), None)),
        ("address[2][]", ArrayType(ArrayType(AddressType(), 2), None)),
        ("(address,bytes)[3]", ArrayType(TupleType((AddressType(), BytesType())), 3)),
    ],
)
def test_parse_type_and_canonical_text(text: str, expected: AbiType) -> None:
    assert parse_type(text) == expected
    assert expected.canonical() == text


@pytest.mark.parametrize(
    "text",
    [
        "uint",
        "int",
        "uint7",
        "uint264",
        "uint0",
        "bytes0",
        "bytes33",
        "uint08",
        "address[0]",
        "address[01]",
        "()",
        "(uint256",
        "uint256,",
        "foo",
        "uint256 ",
        "address[",
        "byte",
    ],
)
def test_parse_type_refuses_non_canonical_spellings(text: str) -> None:
    with pytest.raises(ValueError):
        parse_type(text)


def test_parse_signature() -> None:
    assert parse_signature("renounceOwnership()") == ("renounceOwnership", ())
    assert parse_signature("f(uint8,(bytes,bool)[])") == (
        "f",
        (UIntType(8), ArrayType(TupleType((BytesType(), BoolType())), None)),
    )
    for bad in ("f", "(uint8)", "f(uint8", "f(uint8))", "1f()", "f(uint)"):
        with pytest.raises(ValueError):
            parse_signature(bad)


def test_dynamic_and_head_size() -> None:
    assert not is_dynamic(parse_type("(uint8,address)[2]"))
    assert head_size(parse_type("(uint8,address)[2]")) == 128
    assert is_dynamic(parse_type("(uint8,bytes)"))
    assert head_size(parse_type("(uint8,bytes)")) == 32
    assert is_dynamic(parse_type("string[1]"))
    assert is_dynamic(parse_type("uint8[]"))


@pytest.mark.parametrize(
    ("signature", "selector"),
    [
        ("transfer(address,uint256)", "a9059cbb"),
        ("multiSend(bytes)", "8d80ff0a"),
        ("renounceOwnership()", "715018a6"),
    ],
)
def test_function_selector(signature: str, selector: str) -> None:
    assert function_selector(signature).hex() == selector
    assert function_selector(signature) == function_signature_to_4byte_selector(signature)


def test_function_selector_refuses_non_canonical_signature() -> None:
    for bad in ("transfer(address, uint256)", "transfer(address,uint)", "transfer(address to)"):
        with pytest.raises(ValueError):
            function_selector(bad)


# ---- agreement with eth_abi and round trips ---------------------------------------------------


def test_known_encoding_matches_eth_abi() -> None:
    types = [parse_type(t) for t in ("address", "uint256", "bytes", "string[]", "(uint8,bytes)[2]")]
    values: tuple[AbiValue, ...] = (
        Address(b"\x11" * 20),
        5,
        b"abc",
        ("x", "yy"),
        ((1, b""), (2, b"z" * 40)),
    )
    encoded = encode_values(types, values)
    assert encoded == eth_abi_encode([t.canonical() for t in types], to_eth_abi(values))
    assert decode_values(types, encoded, path="f") == values


def test_decode_values_at_reports_absolute_offsets() -> None:
    types = [parse_type("uint256"), parse_type("bytes"), parse_type("bytes")]
    encoded = encode_values(types, (7, b"ab", b"c"))
    decoded = decode_values_at(types, encoded, path="f", offset=4)
    # Heads: 3 words; first tail (length + one padded word) at 96, second at 160.
    assert [pos for _, pos in decoded] == [4, 4 + 96, 4 + 160]


def test_string_that_is_not_utf8_is_kept_as_bytes() -> None:
    raw = b"ok\xff\xfe"
    encoded = eth_abi_encode(["bytes"], [raw])  # a string is encoded exactly like bytes
    (value,) = decode_values([StringType()], encoded, path="f", names=["text"])
    assert value == NonUtf8String(raw, error_offset=2)
    assert encode_values([StringType()], [value]) == encoded


def test_valid_utf8_string_decodes_as_text() -> None:
    encoded = eth_abi_encode(["string"], ["héllo ✓"])
    assert decode_values([StringType()], encoded, path="f") == ("héllo ✓",)


@given(typed_values())
def test_generated_values_encode_like_eth_abi_and_round_trip(
    case: tuple[tuple[AbiType, ...], tuple[AbiValue, ...]],
) -> None:
    types, values = case
    encoded = encode_values(types, values)
    assert encoded == eth_abi_encode([t.canonical() for t in types], to_eth_abi(values))
    assert decode_values(types, encoded, path="f") == values


@given(typed_values(), st.data())
def test_any_mutation_decodes_canonically_or_raises_decode_error(
    case: tuple[tuple[AbiType, ...], tuple[AbiValue, ...]], data: st.DataObject
) -> None:
    types, values = case
    mutated = _mutate(encode_values(types, values), data)
    try:
        decoded = decode_values(types, mutated, path="f")
    except DecodeError:
        return
    assert encode_values(types, decoded) == mutated


@given(st.lists(abi_types, min_size=1, max_size=3), st.binary(max_size=400))
def test_random_bytes_decode_canonically_or_raise_decode_error(
    types: list[AbiType], data: bytes
) -> None:
    try:
        decoded = decode_values(types, data, path="f")
    except DecodeError:
        return
    assert encode_values(types, decoded) == data
