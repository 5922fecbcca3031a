"""The Solidity ABI type grammar as data: elementary types, arrays and tuples, parsed from text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

# Solidity ABI spec, "Formal Specification of the Encoding": every head slot and
# every padded unit is one 32-byte word.
WORD = 32


@dataclass(frozen=True, slots=True)
class UIntType:
    """``uint<bits>``: an unsigned integer, 8 <= bits <= 256, bits a multiple of 8."""

    bits: int

    def canonical(self) -> str:
        return f"uint{self.bits}"


@dataclass(frozen=True, slots=True)
class IntType:
    """``int<bits>``: a two's-complement signed integer, sign-extended to 256 bits."""

    bits: int

    def canonical(self) -> str:
        return f"int{self.bits}"


@dataclass(frozen=True, slots=True)
class AddressType:
    """``address``: 20 bytes, left-padded with zeros to a word."""

    def canonical(self) -> str:
        return "address"


@dataclass(frozen=True, slots=True)
class BoolType:
    """``bool``: a word holding exactly 0 or 1."""

    def canonical(self) -> str:
        return "bool"


@dataclass(frozen=True, slots=True)
class FixedBytesType:
    """``bytes<size>``, 1 <= size <= 32: right-padded with zeros to a word."""

    size: int

    def canonical(self) -> str:
        return f"bytes{self.size}"


@dataclass(frozen=True, slots=True)
class BytesType:
    """``bytes``: a length word, then the bytes right-padded to a whole number of words."""

    def canonical(self) -> str:
        return "bytes"


@dataclass(frozen=True, slots=True)
class StringType:
    """``string``: encoded like ``bytes``; the content is meant to be UTF-8."""

    def canonical(self) -> str:
        return "string"


@dataclass(frozen=True, slots=True)
class ArrayType:
    """``T[]`` when ``length`` is None, otherwise the fixed-size ``T[length]``."""

    item: AbiType
    length: int | None

    def canonical(self) -> str:
        suffix = "[]" if self.length is None else f"[{self.length}]"
        return self.item.canonical() + suffix


@dataclass(frozen=True, slots=True)
class TupleType:
    """``(T1,T2,...)``: a struct; at least one component."""

    components: tuple[AbiType, ...]

    def canonical(self) -> str:
        return "(" + ",".join(c.canonical() for c in self.components) + ")"


AbiType: TypeAlias = (
    UIntType
    | IntType
    | AddressType
    | BoolType
    | FixedBytesType
    | BytesType
    | StringType
    | ArrayType
    | TupleType
)


def is_dynamic(abi_type: AbiType) -> bool:
    """True for types encoded out of line behind an offset (ABI spec: "dynamic" types)."""
    if isinstance(abi_type, BytesType | StringType):
        return True
    if isinstance(abi_type, ArrayType):
        return abi_type.length is None or is_dynamic(abi_type.item)
    if isinstance(abi_type, TupleType):
        return any(is_dynamic(c) for c in abi_type.components)
    return False


def head_size(abi_type: AbiType) -> int:
    """Bytes the type takes in its enclosing head: one word if dynamic, else its full size."""
    if is_dynamic(abi_type):
        return WORD
    if isinstance(abi_type, ArrayType) and abi_type.length is not None:
        return abi_type.length * head_size(abi_type.item)
    if isinstance(abi_type, TupleType):
        return sum(head_size(c) for c in abi_type.components)
    return WORD


_ELEMENTARY = re.compile(r"(uint|int|bytes)(\d+)|address|bool|bytes|string")
_NAME = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_SUFFIX = re.compile(r"\[(\d*)\]")


def parse_type(text: str) -> AbiType:
    """Parse one canonical ABI type (``uint256``, ``(address,bytes)[]``, ...).

    Only canonical spellings are accepted (no ``uint`` alias, no spaces), because the
    text is hashed into selectors. The text comes from the project's own catalogue, so
    a bad spelling is a programming error: :class:`ValueError`.
    """
    parsed, end = _parse(text, 0)
    if end != len(text):
        raise ValueError(f"unexpected {text[end:]!r} after type in {text!r}")
    return parsed


def parse_signature(signature: str) -> tuple[str, tuple[AbiType, ...]]:
    """Split a canonical function signature ``name(T1,T2)`` into its name and argument types."""
    match = _NAME.match(signature)
    if match is None or match.end() >= len(signature) or signature[match.end()] != "(":
        raise ValueError(f"not a function signature: {signature!r}")
    name = match.group(0)
    if signature[match.end() :] == "()":
        return name, ()
    args, end = _parse(signature, match.end())
    if end != len(signature) or not isinstance(args, TupleType):
        raise ValueError(f"not a function signature: {signature!r}")
    return name, args.components


def _parse(text: str, pos: int) -> tuple[AbiType, int]:
    base, pos = _parse_base(text, pos)
    while pos < len(text) and text[pos] == "[":
        match = _SUFFIX.match(text, pos)
        if match is None:
            raise ValueError(f"bad array suffix in {text!r} at {pos}")
        digits = match.group(1)
        length = None if digits == "" else int(digits)
        # Solidity refuses zero-length fixed arrays; a leading zero is not canonical.
        if length is not None and (length == 0 or digits != str(length)):
            raise ValueError(f"bad fixed array length in {text!r}")
        base = ArrayType(base, length)
        pos = match.end()
    return base, pos


def _parse_base(text: str, pos: int) -> tuple[AbiType, int]:
    if pos < len(text) and text[pos] == "(":
        components: list[AbiType] = []
        pos += 1
        while True:
            component, pos = _parse(text, pos)
            components.append(component)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if pos < len(text) and text[pos] == ")":
                return TupleType(tuple(components)), pos + 1
            raise ValueError(f"unterminated tuple in {text!r}")
    match = _ELEMENTARY.match(text, pos)
    if match is None:
        raise ValueError(f"unknown type in {text!r} at {pos}")
    word = match.group(0)
    end = match.end()
    if word == "address":
        return AddressType(), end
    if word == "bool":
        return BoolType(), end
    if word == "bytes":
        return BytesType(), end
    if word == "string":
        return StringType(), end
    kind, digits = match.group(1), match.group(2)
    size = int(digits)
    if digits != str(size):
        raise ValueError(f"non-canonical size in {text!r}")
    if kind == "bytes":
        if not 1 <= size <= WORD:
            raise ValueError(f"bytes{size} is not a type")
        return FixedBytesType(size), end
    if not (8 <= size <= 256 and size % 8 == 0):
        raise ValueError(f"{kind}{size} is not a type")
    return (UIntType(size) if kind == "uint" else IntType(size)), end
