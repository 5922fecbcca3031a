"""The catalogue of known functions as data: signature, published selector, kind, argument names.

Each entry's selector is derived from its signature with Keccak-256 and checked against
the selector written next to it when the module loads, so a typo in either is caught
before anything is decoded. Two entries with one selector are refused: the catalogue
must say once what a selector means.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TypeAlias

from shared.abi import (
    AbiType,
    AddressType,
    BytesType,
    UIntType,
    function_selector,
    parse_signature,
)
from shared.calls.model import CallKind, Operation


@dataclass(frozen=True, slots=True)
class NestedCall:
    """The call makes one inner call whose target, value, data and operation are arguments.

    ``value_arg`` None means no value is sent; ``operation_arg`` None means the
    operation is always ``operation``. ``only_if_data`` / ``only_if_target`` say the
    inner call is made only when the data is non-empty / the target is non-zero (as in
    ``upgradeToAndCall`` and Safe ``setup``).
    """

    to_arg: str
    data_arg: str
    value_arg: str | None = None
    operation_arg: str | None = None
    operation: Operation = Operation.CALL
    only_if_data: bool = False
    only_if_target: bool = False


@dataclass(frozen=True, slots=True)
class PackedTransactions:
    """``multiSend(bytes)``: the argument packs ``operation||to||value||dataLength||data``."""

    arg: str


InnerRule: TypeAlias = NestedCall | PackedTransactions


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One known function. ``name``, ``types`` and ``selector`` are derived from ``signature``."""

    signature: str
    selector_hex: str
    kind: CallKind
    arg_names: tuple[str, ...]
    source: str
    inner: InnerRule | None = None
    note: str = ""
    name: str = field(init=False)
    types: tuple[AbiType, ...] = field(init=False)
    selector: bytes = field(init=False)

    def __post_init__(self) -> None:
        name, types = parse_signature(self.signature)
        selector = function_selector(self.signature)
        if selector.hex() != self.selector_hex.removeprefix("0x"):
            raise ValueError(
                f"{self.signature}: keccak gives 0x{selector.hex()}, catalogue says"
                f" {self.selector_hex}"
            )
        if len(self.arg_names) != len(types) or len(set(self.arg_names)) != len(types):
            raise ValueError(f"{self.signature}: need {len(types)} distinct argument names")
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "selector", selector)
        if self.inner is not None:
            self._check_inner(self.inner)

    def arg_type(self, name: str) -> AbiType:
        """The ABI type of the argument called ``name``."""
        return self.types[self.arg_names.index(name)]

    def _check_inner(self, rule: InnerRule) -> None:
        expected: list[tuple[str | None, type]]
        if isinstance(rule, PackedTransactions):
            expected = [(rule.arg, BytesType)]
        else:
            expected = [
                (rule.to_arg, AddressType),
                (rule.data_arg, BytesType),
                (rule.value_arg, UIntType),
                (rule.operation_arg, UIntType),
            ]
        for arg_name, abi_class in expected:
            if arg_name is None:
                continue
            if arg_name not in self.arg_names or not isinstance(self.arg_type(arg_name), abi_class):
                raise ValueError(f"{self.signature}: inner rule names bad argument {arg_name}")


class Catalog:
    """Known functions indexed by selector; duplicate selectors are refused."""

    __slots__ = ("_by_selector",)

    def __init__(self, specs: Iterable[FunctionSpec]) -> None:
        table: dict[bytes, FunctionSpec] = {}
        for spec in specs:
            if spec.selector in table:
                raise ValueError(
                    f"selector 0x{spec.selector.hex()} of {spec.signature} is already"
                    f" catalogued as {table[spec.selector].signature}"
                )
            table[spec.selector] = spec
        self._by_selector: Mapping[bytes, FunctionSpec] = MappingProxyType(table)

    def get(self, selector: bytes) -> FunctionSpec | None:
        """The function with this 4-byte selector, or None when it is not catalogued."""
        return self._by_selector.get(selector)

    def __iter__(self) -> Iterator[FunctionSpec]:
        return iter(self._by_selector.values())

    def __len__(self) -> int:
        return len(self._by_selector)
