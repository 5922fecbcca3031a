"""Strict Solidity ABI: the type grammar, a canonical-only decoder, its encoder and selectors."""

from shared.abi.decode import MAX_ARRAY_LENGTH, decode_values, decode_values_at
from shared.abi.encode import encode_values
from shared.abi.selector import SELECTOR_LENGTH, canonical_signature, function_selector
from shared.abi.types import (
    AbiType,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    StringType,
    TupleType,
    UIntType,
    head_size,
    is_dynamic,
    parse_signature,
    parse_type,
)
from shared.abi.values import AbiValue, NonUtf8String

__all__ = [
    "MAX_ARRAY_LENGTH",
    "SELECTOR_LENGTH",
    "AbiType",
    "AbiValue",
    "AddressType",
    "ArrayType",
    "BoolType",
    "BytesType",
    "FixedBytesType",
    "IntType",
    "NonUtf8String",
    "StringType",
    "TupleType",
    "UIntType",
    "canonical_signature",
    "decode_values",
    "decode_values_at",
    "encode_values",
    "function_selector",
    "head_size",
    "is_dynamic",
    "parse_signature",
    "parse_type",
]
