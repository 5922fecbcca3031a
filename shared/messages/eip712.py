"""EIP-712 typed structured data: strict parsing of eth_signTypedData_v4 JSON and its hashes.

Hashes equal eth-account's ``encode_typed_data(full_message=...)`` for every document this
module accepts. Where eth-account is lenient or ambiguous, this module refuses instead:

- numbers: JSON integers, decimal strings without leading zeros, and (for unsigned types
  only) ``0x`` hex strings of 1 to 64 digits. eth-account also takes ``" 1"``, ``"1_0"``,
  ``"01"`` and reads hex for signed types as unsigned; all refused here;
- ``bool`` only as JSON true/false (eth-account maps any string but "false"/"False"/"0" to
  True); ``string`` only as a JSON string; ``bytes``/``bytesN`` only as even-length ``0x`` hex
  (eth-account reads any other string as UTF-8 text) and ``bytesN`` exactly N bytes (it pads);
- ``address`` only as ``0x`` + 40 hex digits, EIP-55 checked when mixed case;
- every struct field present (eth-account hashes a missing struct as zeros and a missing
  string as empty), no extra fields (eth-account ignores them), fixed arrays of exact length;
- ``EIP712Domain`` must be declared, with standard field types and in the standard order
  (eth-account reorders the domain fields itself; wallets hashing in declared order would
  sign a different hash);
- cyclic types (eth-account recurses), and types not reachable from ``primaryType`` (eth-account
  refuses those too: it derives the primary type as the one type nothing references).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from shared.address import Address, parse_address
from shared.errors import AddressError, TypedDataError
from shared.keccak import keccak256
from shared.messages.strict_json import JsonValue, child_path, load_strict_json

MAX_JSON_BYTES = 256 * 1024
MAX_JSON_DEPTH = 32
DOMAIN_TYPE = "EIP712Domain"
# EIP-712 §Definition of domainSeparator: the standard fields, in this order, with these types.
DOMAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "string"),
    ("version", "string"),
    ("chainId", "uint256"),
    ("verifyingContract", "address"),
    ("salt", "bytes32"),
)
_TOP_LEVEL_KEYS = ("types", "primaryType", "domain", "message")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
# A type reference: identifier then array dimensions, ``[]`` or ``[k]`` with k >= 1.
_TYPE_REFERENCE = re.compile(r"([A-Za-z_$][A-Za-z0-9_$]*)((?:\[(?:[1-9][0-9]{0,5})?\])*)")
_DIMENSION = re.compile(r"\[([0-9]*)\]")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_MAX_DECIMAL_LENGTH = 80


def _atomic_types() -> frozenset[str]:
    # EIP-712 §Definition of typed structured data: uint8..uint256 and int8..int256 in steps
    # of 8, bytes1..bytes32, address, bool, and the dynamic bytes and string.
    names = {"address", "bool", "string", "bytes"}
    names.update(f"uint{bits}" for bits in range(8, 257, 8))
    names.update(f"int{bits}" for bits in range(8, 257, 8))
    names.update(f"bytes{size}" for size in range(1, 33))
    return frozenset(names)


ATOMIC_TYPES = _atomic_types()
# eth-account also treats the bare names "uint" and "int" as Solidity types; they are not
# EIP-712 types, and a struct of that name would be hashed inconsistently, so both are refused.
_RESERVED_NAMES = ATOMIC_TYPES | {"uint", "int", DOMAIN_TYPE}


@dataclass(frozen=True, slots=True)
class Member:
    """One declared member of a struct type: ``type name`` in the type's encoding."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class StructType:
    """A struct type as declared in ``types``, members in declared order."""

    name: str
    members: tuple[Member, ...]


@dataclass(frozen=True, slots=True)
class Struct:
    """A struct value: its type name and each member's value, in declared order."""

    type_name: str
    values: tuple[tuple[str, Value], ...]

    def __getitem__(self, name: str) -> Value:
        for member, value in self.values:
            if member == name:
                return value
        raise KeyError(name)


# int for intN/uintN, bool, bytes for bytes/bytesN, str for string, Address, nested Struct,
# and tuples for arrays.
Value: TypeAlias = int | bool | bytes | str | Address | Struct | tuple["Value", ...]


@dataclass(frozen=True, slots=True)
class Domain:
    """The EIP-712 domain; a field is None when the document's domain does not declare it."""

    name: str | None = None
    version: str | None = None
    chain_id: int | None = None
    verifying_contract: Address | None = None
    salt: bytes | None = None

    def declared(self) -> tuple[tuple[str, str, Value], ...]:
        """The declared fields as (name, type, value), in the standard order."""
        values: dict[str, Value | None] = {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
            "salt": self.salt,
        }
        return tuple(
            (name, type_, value)
            for name, type_ in DOMAIN_FIELDS
            if (value := values[name]) is not None
        )

    def field_names(self) -> tuple[str, ...]:
        """Names of the declared fields, in the standard order."""
        return tuple(name for name, _, _ in self.declared())

    def struct_type(self) -> StructType:
        """The ``EIP712Domain`` type this domain is hashed with."""
        return StructType(DOMAIN_TYPE, tuple(Member(n, t) for n, t, _ in self.declared()))

    def separator(self) -> bytes:
        """EIP-712 ``domainSeparator = hashStruct(eip712Domain)``."""
        domain_type = self.struct_type()
        struct = Struct(DOMAIN_TYPE, tuple((n, v) for n, _, v in self.declared()))
        return hash_struct(struct, {DOMAIN_TYPE: domain_type})


@dataclass(frozen=True, slots=True)
class TypedData:
    """A fully validated ``eth_signTypedData_v4`` document.

    ``types`` holds the message's struct types (not ``EIP712Domain``) sorted by name; every
    one is reachable from ``primary_type`` and none contains itself.
    """

    types: tuple[StructType, ...]
    primary_type: str
    domain: Domain
    message: Struct

    def type_map(self) -> dict[str, StructType]:
        """The struct types by name."""
        return {struct_type.name: struct_type for struct_type in self.types}

    def encode_type(self, name: str | None = None) -> str:
        """EIP-712 ``encodeType`` of ``name`` (default: the primary type)."""
        return encode_type(self.primary_type if name is None else name, self.type_map())

    def domain_separator(self) -> bytes:
        """EIP-712 ``domainSeparator``."""
        return self.domain.separator()

    def message_hash(self) -> bytes:
        """EIP-712 ``hashStruct(message)``."""
        return hash_struct(self.message, self.type_map())

    def signing_hash(self) -> bytes:
        """EIP-712: ``keccak256(0x19 || 0x01 || domainSeparator || hashStruct(message))``."""
        return keccak256(b"\x19\x01" + self.domain_separator() + self.message_hash())


# --- type references --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Atomic:
    name: str


@dataclass(frozen=True, slots=True)
class _Named:
    name: str


@dataclass(frozen=True, slots=True)
class _Array:
    element: _Spec
    length: int | None


_Spec: TypeAlias = _Atomic | _Named | _Array


def _parse_reference(text: str) -> _Spec | None:
    """A type reference such as ``Person[][2]``, or None when it is not well formed."""
    match = _TYPE_REFERENCE.fullmatch(text)
    if match is None:
        return None
    base, dimensions = match.group(1), match.group(2)
    spec: _Spec = _Atomic(base) if base in ATOMIC_TYPES else _Named(base)
    # Solidity order: T[2][] is a dynamic array whose elements are T[2].
    for digits in _DIMENSION.findall(dimensions):
        spec = _Array(spec, int(digits) if digits else None)
    return spec


def _base_name(spec: _Spec) -> _Atomic | _Named:
    while isinstance(spec, _Array):
        spec = spec.element
    return spec


def _reference(text: str) -> _Spec:
    # Only for type strings already validated by the parser (or by a caller's own types).
    spec = _parse_reference(text)
    if spec is None:
        raise ValueError(f"not a valid EIP-712 type reference: {text!r}")
    return spec


# --- hashing ------------------------------------------------------------------------------


def _dependencies(name: str, types: Mapping[str, StructType]) -> list[str]:
    # Iterative walk: a long chain of types must not exhaust the Python stack.
    found: list[str] = []
    seen = {name}
    stack = [name]
    while stack:
        current = stack.pop()
        for member in types[current].members:
            base = _base_name(_reference(member.type))
            if isinstance(base, _Named) and base.name not in seen:
                seen.add(base.name)
                found.append(base.name)
                stack.append(base.name)
    return found


def encode_type(name: str, types: Mapping[str, StructType]) -> str:
    """EIP-712 ``encodeType``: the type, then every struct it references sorted by name.

    Each is ``Name(type1 name1,type2 name2,...)``.
    """
    ordered = [name, *sorted(_dependencies(name, types))]
    return "".join(
        f"{n}({','.join(f'{m.type} {m.name}' for m in types[n].members)})" for n in ordered
    )


def type_hash(name: str, types: Mapping[str, StructType]) -> bytes:
    """EIP-712 ``typeHash = keccak256(encodeType(typeOf(s)))``."""
    return keccak256(encode_type(name, types).encode("ascii"))


def hash_struct(struct: Struct, types: Mapping[str, StructType]) -> bytes:
    """EIP-712 ``hashStruct(s) = keccak256(typeHash || encodeData(s))``."""
    return _Hasher(types).struct(struct)


class _Hasher:
    """Hashes values of one set of types, computing each typeHash once."""

    def __init__(self, types: Mapping[str, StructType]) -> None:
        self._types = types
        self._type_hashes: dict[str, bytes] = {}

    def struct(self, struct: Struct) -> bytes:
        name = struct.type_name
        cached = self._type_hashes.get(name)
        if cached is None:
            cached = self._type_hashes[name] = type_hash(name, self._types)
        parts = [cached]
        # EIP-712 encodeData: each member's 32-byte encoding, in declared order.
        for member, (_, value) in zip(self._types[name].members, struct.values, strict=True):
            parts.append(self.encode(_reference(member.type), value))
        return keccak256(b"".join(parts))

    def encode(self, spec: _Spec, value: Value) -> bytes:
        if isinstance(spec, _Array):
            # EIP-712: an array is keccak256 of its elements' encodings concatenated.
            if not isinstance(value, tuple):
                raise TypeError("array value must be a tuple")
            return keccak256(b"".join(self.encode(spec.element, item) for item in value))
        if isinstance(spec, _Named):
            if not isinstance(value, Struct):
                raise TypeError("struct value must be a Struct")
            return self.struct(value)
        return _encode_atomic(spec.name, value)


def _encode_atomic(name: str, value: Value) -> bytes:
    if name == "string":
        if not isinstance(value, str):
            raise TypeError("string value must be str")
        return keccak256(value.encode("utf-8"))
    if name == "bytes":
        if not isinstance(value, bytes):
            raise TypeError("bytes value must be bytes")
        return keccak256(value)
    if name.startswith("bytes"):
        if not isinstance(value, bytes):
            raise TypeError("bytesN value must be bytes")
        return value.ljust(32, b"\x00")
    if name == "address":
        if not isinstance(value, Address):
            raise TypeError("address value must be an Address")
        return value.raw.rjust(32, b"\x00")
    if name == "bool":
        if not isinstance(value, bool):
            raise TypeError("bool value must be bool")
        return int(value).to_bytes(32, "big")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("integer value must be int")
    # ABI: big-endian two's complement, sign-extended to 32 bytes for intN.
    return value.to_bytes(32, "big", signed=name.startswith("int"))


# --- parsing ------------------------------------------------------------------------------


def parse_typed_data(data: bytes) -> TypedData:
    """Parse and validate ``eth_signTypedData_v4`` JSON bytes; TypedDataError names the field."""
    document = load_strict_json(
        data, max_bytes=MAX_JSON_BYTES, max_depth=MAX_JSON_DEPTH, error=TypedDataError
    )
    if not isinstance(document, dict):
        raise TypedDataError(
            "json", "expected a JSON object with types, primaryType, domain, message"
        )
    for key in document:
        if key not in _TOP_LEVEL_KEYS:
            raise TypedDataError(child_path("", key), "unknown top-level key")
    for key in _TOP_LEVEL_KEYS:
        if key not in document:
            raise TypedDataError(key, "missing")
    declared = _parse_types(document["types"])
    primary = _parse_primary_type(document["primaryType"], declared)
    domain_type = declared.pop(DOMAIN_TYPE, None)
    if domain_type is None:
        raise TypedDataError(f"types.{DOMAIN_TYPE}", "missing: the domain type must be declared")
    _check_domain_type(domain_type)
    _check_graph(declared, primary)
    domain = _parse_domain(document["domain"], domain_type)
    message = _parse_struct(document["message"], primary, declared, "message")
    types = tuple(declared[name] for name in sorted(declared))
    return TypedData(types, primary, domain, message)


def hash_typed_data(data: bytes) -> bytes:
    """Parse ``data`` and return its EIP-712 signing hash."""
    return parse_typed_data(data).signing_hash()


def _parse_types(raw: JsonValue) -> dict[str, StructType]:
    if not isinstance(raw, dict):
        raise TypedDataError("types", "expected an object of struct types")
    declared: dict[str, StructType] = {}
    for name, members in raw.items():
        path = child_path("types", name)
        if not _IDENTIFIER.fullmatch(name):
            raise TypedDataError(path, "a type name must be an identifier")
        if name != DOMAIN_TYPE and name in _RESERVED_NAMES:
            raise TypedDataError(path, "a struct type cannot take the name of an atomic type")
        declared[name] = StructType(name, _parse_members(members, path))
    return declared


def _parse_members(raw: JsonValue, path: str) -> tuple[Member, ...]:
    if not isinstance(raw, list):
        raise TypedDataError(path, "expected a list of {name, type} members")
    members: list[Member] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        where = child_path(path, index)
        if not isinstance(item, dict):
            raise TypedDataError(where, "expected an object with name and type")
        for key in item:
            if key not in ("name", "type"):
                raise TypedDataError(child_path(where, key), "unknown key in a member")
        name, type_ = item.get("name"), item.get("type")
        if not isinstance(name, str):
            raise TypedDataError(f"{where}.name", "expected a string")
        if not isinstance(type_, str):
            raise TypedDataError(f"{where}.type", "expected a string")
        if not _IDENTIFIER.fullmatch(name):
            raise TypedDataError(f"{where}.name", "a member name must be an identifier")
        if name in names:
            raise TypedDataError(f"{where}.name", f"duplicate member name {name}")
        if _parse_reference(type_) is None:
            raise TypedDataError(
                f"{where}.type", "not a type: expected an identifier with optional [] or [k]"
            )
        names.add(name)
        members.append(Member(name, type_))
    return tuple(members)


def _parse_primary_type(raw: JsonValue, declared: Mapping[str, StructType]) -> str:
    if not isinstance(raw, str):
        raise TypedDataError("primaryType", "expected a string")
    if raw == DOMAIN_TYPE:
        raise TypedDataError("primaryType", "primaryType must not be the domain")
    if raw not in declared:
        raise TypedDataError("primaryType", "names no type declared in types")
    return raw


def _check_domain_type(domain_type: StructType) -> None:
    standard = dict(DOMAIN_FIELDS)
    order = [name for name, _ in DOMAIN_FIELDS]
    position = -1
    for index, member in enumerate(domain_type.members):
        where = f"types.{DOMAIN_TYPE}[{index}]"
        expected = standard.get(member.name)
        if expected is None:
            raise TypedDataError(
                f"{where}.name",
                "not a domain field: name, version, chainId, verifyingContract, salt",
            )
        if member.type != expected:
            raise TypedDataError(f"{where}.type", f"the domain field {member.name} is {expected}")
        if order.index(member.name) <= position:
            raise TypedDataError(
                where,
                "domain fields must follow the order name, version, chainId, verifyingContract, "
                "salt (eth-account reorders them, other wallets hash them as declared)",
            )
        position = order.index(member.name)


def _check_graph(declared: Mapping[str, StructType], primary: str) -> None:
    edges: dict[str, list[str]] = {}
    for name in sorted(declared):
        targets: list[str] = []
        for index, member in enumerate(declared[name].members):
            base = _base_name(_reference(member.type))
            if isinstance(base, _Atomic):
                continue
            where = f"types.{name}[{index}].type"
            if base.name == DOMAIN_TYPE:
                raise TypedDataError(where, "EIP712Domain may only describe the domain")
            if base.name not in declared:
                raise TypedDataError(where, f"undefined type {base.name}")
            targets.append(base.name)
        edges[name] = targets
    _refuse_cycles(edges)
    reachable = {primary}
    stack = [primary]
    while stack:
        for target in edges[stack.pop()]:
            if target not in reachable:
                reachable.add(target)
                stack.append(target)
    for name in sorted(declared):
        if name not in reachable:
            raise TypedDataError(
                f"types.{name}",
                f"type is not used by the primary type {primary} "
                "(eth-account refuses unused types)",
            )


def _refuse_cycles(edges: Mapping[str, list[str]]) -> None:
    # Iterative depth-first search with three colours; a grey target closes a cycle.
    done: set[str] = set()
    for root in sorted(edges):
        if root in done:
            continue
        on_path: list[str] = [root]
        grey = {root}
        iterators = [iter(edges[root])]
        while iterators:
            target = next(iterators[-1], None)
            if target is None:
                iterators.pop()
                finished = on_path.pop()
                grey.discard(finished)
                done.add(finished)
                continue
            if target in grey:
                cycle = [*on_path[on_path.index(target) :], target]
                raise TypedDataError(
                    f"types.{target}", "cyclic type: " + " -> ".join(cycle) + " contains itself"
                )
            if target not in done:
                on_path.append(target)
                grey.add(target)
                iterators.append(iter(edges[target]))


def _parse_domain(raw: JsonValue, domain_type: StructType) -> Domain:
    if not isinstance(raw, dict):
        raise TypedDataError("domain", "expected an object")
    names = {member.name for member in domain_type.members}
    for key in raw:
        if key not in names:
            raise TypedDataError(child_path("domain", key), f"not declared in types.{DOMAIN_TYPE}")
    values: dict[str, Value] = {}
    for member in domain_type.members:
        path = f"domain.{member.name}"
        if member.name not in raw:
            raise TypedDataError(path, f"missing: declared in types.{DOMAIN_TYPE}")
        values[member.name] = _parse_value(raw[member.name], _reference(member.type), {}, path)
    name, version = values.get("name"), values.get("version")
    chain_id, contract = values.get("chainId"), values.get("verifyingContract")
    salt = values.get("salt")
    # The member types were checked against DOMAIN_FIELDS, so each value has its type.
    return Domain(
        name=name if isinstance(name, str) else None,
        version=version if isinstance(version, str) else None,
        chain_id=chain_id if isinstance(chain_id, int) else None,
        verifying_contract=contract if isinstance(contract, Address) else None,
        salt=salt if isinstance(salt, bytes) else None,
    )


def _parse_struct(raw: JsonValue, name: str, types: Mapping[str, StructType], path: str) -> Struct:
    if not isinstance(raw, dict):
        raise TypedDataError(path, f"expected an object of type {name}, got {_kind(raw)}")
    struct_type = types[name]
    names = {member.name for member in struct_type.members}
    for key in raw:
        if key not in names:
            raise TypedDataError(child_path(path, key), f"not a member of {name}")
    values: list[tuple[str, Value]] = []
    for member in struct_type.members:
        where = child_path(path, member.name)
        if member.name not in raw:
            raise TypedDataError(where, f"missing member of {name}")
        values.append(
            (member.name, _parse_value(raw[member.name], _reference(member.type), types, where))
        )
    return Struct(name, tuple(values))


def _parse_value(raw: JsonValue, spec: _Spec, types: Mapping[str, StructType], path: str) -> Value:
    if isinstance(spec, _Array):
        if not isinstance(raw, list):
            raise TypedDataError(path, f"expected an array, got {_kind(raw)}")
        if spec.length is not None and len(raw) != spec.length:
            raise TypedDataError(path, f"expected exactly {spec.length} elements, got {len(raw)}")
        return tuple(
            _parse_value(item, spec.element, types, child_path(path, index))
            for index, item in enumerate(raw)
        )
    if isinstance(spec, _Named):
        return _parse_struct(raw, spec.name, types, path)
    return _parse_atomic(raw, spec.name, path)


def _parse_atomic(raw: JsonValue, name: str, path: str) -> Value:
    if name == "string":
        if not isinstance(raw, str):
            raise TypedDataError(path, f"expected a string, got {_kind(raw)}")
        if not raw.isascii():
            try:
                raw.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise TypedDataError(path, "string contains an unpaired surrogate") from exc
        return raw
    if name == "bool":
        if not isinstance(raw, bool):
            raise TypedDataError(path, f"expected true or false, got {_kind(raw)}")
        return raw
    if name == "address":
        if not isinstance(raw, str):
            raise TypedDataError(path, f"expected an address string, got {_kind(raw)}")
        try:
            return parse_address(raw, field=path)
        except AddressError as exc:
            raise TypedDataError(path, exc.reason, offset=exc.offset) from exc
    if name.startswith("bytes"):
        return _parse_bytes(raw, None if name == "bytes" else int(name[5:]), path)
    signed = name.startswith("int")
    return _parse_integer(raw, int(name[3:] if signed else name[4:]), signed, path)


def _parse_bytes(raw: JsonValue, size: int | None, path: str) -> bytes:
    if not isinstance(raw, str) or not _HEX_BYTES.fullmatch(raw):
        raise TypedDataError(path, f"expected 0x-prefixed hex with whole bytes, got {_kind(raw)}")
    value = bytes.fromhex(raw[2:])
    if size is not None and len(value) != size:
        raise TypedDataError(path, f"bytes{size} must be exactly {size} bytes, got {len(value)}")
    return value


def _parse_integer(raw: JsonValue, bits: int, signed: bool, path: str) -> int:
    kind = f"{'int' if signed else 'uint'}{bits}"
    if isinstance(raw, bool):
        raise TypedDataError(path, f"expected an integer for {kind}, got a boolean")
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and raw.startswith("0x"):
        if signed:
            raise TypedDataError(
                path, f"hex is ambiguous for the signed type {kind}: use a decimal string"
            )
        if not _HEX_QUANTITY.fullmatch(raw):
            raise TypedDataError(path, f"expected 1 to 64 hex digits after 0x for {kind}")
        value = int(raw[2:], 16)
    elif isinstance(raw, str):
        if len(raw) > _MAX_DECIMAL_LENGTH or not _DECIMAL.fullmatch(raw) or raw == "-0":
            raise TypedDataError(
                path, f"expected a decimal integer without leading zeros or spaces for {kind}"
            )
        value = int(raw)
    else:
        raise TypedDataError(path, f"expected an integer for {kind}, got {_kind(raw)}")
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        raise TypedDataError(path, f"integer out of range for {kind}")
    return value


def _kind(raw: JsonValue) -> str:
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "a boolean"
    if isinstance(raw, int):
        return "a number"
    if isinstance(raw, str):
        return "a string"
    if isinstance(raw, list):
        return "an array"
    if isinstance(raw, dict):
        return "an object"
    return "a refused number"
