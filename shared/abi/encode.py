"""Canonical ABI encoding: the one byte string the strict decoder accepts for each value.

Values come from the project itself (decoded calls, test builders), so a value of the
wrong shape is a programming error and raises :class:`TypeError` or :class:`ValueError`.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.abi.types import (
    WORD,
    AbiType,
    AddressType,
    ArrayType,
    BoolType,
    BytesType,
    FixedBytesType,
    IntType,
    StringType,
    UIntType,
    head_size,
    is_dynamic,
)
from shared.abi.values import AbiValue, NonUtf8String
from shared.address import Address


def encode_values(types: Sequence[AbiType], values: Sequence[AbiValue]) -> bytes:
    """Encode ``values`` as the ABI tuple ``types`` (heads in order, then tails in order)."""
    return _tuple(tuple(types), tuple(values))


def _tuple(types: tuple[AbiType, ...], values: tuple[AbiValue, ...]) -> bytes:
    if len(types) != len(values):
        raise ValueError(f"{len(types)} types but {len(values)} values")
    head_total = sum(head_size(t) for t in types)
    heads: list[bytes] = []
    tails: list[bytes] = []
    tail_length = 0
    for abi_type, value in zip(types, values, strict=True):
        encoded = _value(abi_type, value)
        if is_dynamic(abi_type):
            # ABI spec: the head of a dynamic value is the offset of its tail, counted
            # from the start of this tuple's encoding.
            heads.append(_uint_word(head_total + tail_length))
            tails.append(encoded)
            tail_length += len(encoded)
        else:
            heads.append(encoded)
    return b"".join(heads) + b"".join(tails)


def _uint_word(value: int) -> bytes:
    return value.to_bytes(WORD, "big")


def _padded(content: bytes) -> bytes:
    return content + bytes(-len(content) % WORD)


def _value(abi_type: AbiType, value: AbiValue) -> bytes:
    if isinstance(abi_type, UIntType):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{abi_type.canonical()} needs an int, got {type(value).__name__}")
        if value < 0 or value >> abi_type.bits:
            raise ValueError(f"{value} does not fit in {abi_type.canonical()}")
        return _uint_word(value)
    if isinstance(abi_type, IntType):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{abi_type.canonical()} needs an int, got {type(value).__name__}")
        bound = 1 << (abi_type.bits - 1)
        if not -bound <= value < bound:
            raise ValueError(f"{value} does not fit in {abi_type.canonical()}")
        return value.to_bytes(WORD, "big", signed=True)
    if isinstance(abi_type, AddressType):
        if not isinstance(value, Address):
            raise TypeError(f"address needs an Address, got {type(value).__name__}")
        return bytes(WORD - len(value.raw)) + value.raw
    if isinstance(abi_type, BoolType):
        if not isinstance(value, bool):
            raise TypeError(f"bool needs a bool, got {type(value).__name__}")
        return _uint_word(int(value))
    if isinstance(abi_type, FixedBytesType):
        if not isinstance(value, bytes) or len(value) != abi_type.size:
            raise ValueError(f"{abi_type.canonical()} needs exactly {abi_type.size} bytes")
        return _padded(value)
    if isinstance(abi_type, BytesType):
        if not isinstance(value, bytes):
            raise TypeError(f"bytes needs bytes, got {type(value).__name__}")
        return _uint_word(len(value)) + _padded(value)
    if isinstance(abi_type, StringType):
        if isinstance(value, str):
            raw = value.encode("utf-8")
        elif isinstance(value, NonUtf8String):
            raw = value.raw
        else:
            raise TypeError(f"string needs a str, got {type(value).__name__}")
        return _uint_word(len(raw)) + _padded(raw)
    if not isinstance(value, tuple | list):
        raise TypeError(f"{abi_type.canonical()} needs a tuple, got {type(value).__name__}")
    items = tuple(value)
    if isinstance(abi_type, ArrayType):
        if abi_type.length is None:
            return _uint_word(len(items)) + _tuple((abi_type.item,) * len(items), items)
        if len(items) != abi_type.length:
            raise ValueError(f"{abi_type.canonical()} needs {abi_type.length} items")
        return _tuple((abi_type.item,) * len(items), items)
    return _tuple(abi_type.components, items)
