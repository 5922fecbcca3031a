"""``decode_call``: explain call data as a known call (recursing into Safe and MultiSend payloads).

Three outcomes: a :class:`KnownCall` whose arguments decoded canonically, a
:class:`PlainTransfer` for empty data, or an :class:`UnexplainedCall` for a selector the
catalogue does not know. A known selector with malformed arguments is not "unknown": it
raises :class:`CalldataError`, because someone built bytes meant to be read two ways.
"""

from __future__ import annotations

from typing import TypeAlias

from shared.abi import SELECTOR_LENGTH, AbiValue, decode_values_at
from shared.abi.types import WORD
from shared.address import Address
from shared.calls import admin, erc20, multisend, nft, safe
from shared.calls.catalog import Catalog, FunctionSpec, NestedCall
from shared.calls.model import (
    Arg,
    Call,
    InnerCall,
    KnownCall,
    Operation,
    PlainTransfer,
    UnexplainedCall,
)
from shared.errors import CalldataError

DEFAULT_CATALOG = Catalog(
    erc20.FUNCTIONS + nft.FUNCTIONS + admin.FUNCTIONS + safe.FUNCTIONS + multisend.FUNCTIONS
)
# Inner calls are decoded this many levels deep (Safe exec -> MultiSend -> call is 2).
# Deeper payloads are reported as unexplained rather than decoded without end.
MAX_NESTING = 4
_ZERO_ADDRESS = bytes(20)
# Each argument's decoded value and the absolute offset of its encoding, by name.
_Named: TypeAlias = dict[str, tuple[AbiValue, int]]


def decode_call(
    to: Address | None, value: int, data: bytes, *, catalog: Catalog = DEFAULT_CATALOG
) -> Call:
    """Explain a call of ``data`` with ``value`` wei to ``to`` (None: contract creation).

    Raises :class:`CalldataError` (field path and byte offset) when the data is 1-3
    bytes long or a catalogued function's arguments are not canonically encoded,
    anywhere in the tree of inner calls.
    """
    return _Decoder(catalog).call(to, value, bytes(data), path="", base=0, depth=0)


class _Decoder:
    __slots__ = ("catalog",)

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def call(
        self, to: Address | None, value: int, data: bytes, *, path: str, base: int, depth: int
    ) -> Call:
        prefix = f"{path}." if path else ""
        if to is None:
            return UnexplainedCall(b"", data, "contract creation: init code is not explained")
        if not data:
            return PlainTransfer(to, value)
        if len(data) < SELECTOR_LENGTH:
            raise CalldataError(
                f"{prefix}selector",
                f"call data of {len(data)} bytes is shorter than a 4-byte selector",
                offset=base,
            )
        selector = data[:SELECTOR_LENGTH]
        spec = self.catalog.get(selector)
        if spec is None:
            return UnexplainedCall(selector, data, f"unknown selector 0x{selector.hex()}")
        if depth > MAX_NESTING:
            return UnexplainedCall(
                selector, data, f"{spec.name} nested more than {MAX_NESTING} calls deep"
            )
        here = prefix + spec.name
        decoded = decode_values_at(
            spec.types,
            data[SELECTOR_LENGTH:],
            path=here,
            names=spec.arg_names,
            offset=base + SELECTOR_LENGTH,
        )
        args = tuple(
            Arg(name, abi_type, arg_value)
            for name, abi_type, (arg_value, _) in zip(
                spec.arg_names, spec.types, decoded, strict=True
            )
        )
        named = dict(zip(spec.arg_names, decoded, strict=True))
        inner = self.inner(spec, named, here, depth)
        return KnownCall(selector, spec.signature, spec.name, spec.kind, args, inner)

    def inner(
        self, spec: FunctionSpec, named: _Named, here: str, depth: int
    ) -> tuple[InnerCall, ...]:
        """The inner calls ``spec.inner`` describes, each decoded one level deeper."""
        rule = spec.inner
        if rule is None:
            return ()
        if isinstance(rule, NestedCall):
            nested = self.nested(spec, rule, named, here, depth)
            return () if nested is None else (nested,)
        packed, position = named[rule.arg]
        if not isinstance(packed, bytes):
            raise TypeError(f"{spec.signature}: {rule.arg} is not bytes")
        field = f"{here}.{rule.arg}"
        # The argument's bytes start after its 32-byte length word.
        entries = multisend.unpack_transactions(packed, path=field, offset=position + WORD)
        return tuple(
            InnerCall(
                entry.operation,
                entry.to,
                entry.value,
                entry.data,
                self.call(
                    entry.to,
                    entry.value,
                    entry.data,
                    path=f"{field}[{index}].data",
                    base=entry.offset + multisend.HEADER_LENGTH,
                    depth=depth + 1,
                ),
            )
            for index, entry in enumerate(entries)
        )

    def nested(
        self, spec: FunctionSpec, rule: NestedCall, named: _Named, here: str, depth: int
    ) -> InnerCall | None:
        to, _ = named[rule.to_arg]
        data, data_position = named[rule.data_arg]
        value = 0 if rule.value_arg is None else named[rule.value_arg][0]
        if not isinstance(to, Address) or not isinstance(data, bytes):
            raise TypeError(f"{spec.signature}: inner rule names arguments of the wrong type")
        if not isinstance(value, int):
            raise TypeError(f"{spec.signature}: {rule.value_arg} is not an integer")
        operation = rule.operation
        if rule.operation_arg is not None:
            raw, raw_position = named[rule.operation_arg]
            # Safe Enum.Operation has two members; Solidity >= 0.8 ABI decoding reverts on
            # any other uint8, so such bytes would never execute: refuse them outright.
            if raw not in (Operation.CALL, Operation.DELEGATECALL):
                raise CalldataError(
                    f"{here}.{rule.operation_arg}",
                    f"operation must be 0 (call) or 1 (delegatecall), got {raw!r}",
                    offset=raw_position,
                )
            operation = Operation(raw)
        if rule.only_if_data and not data:
            return None
        if rule.only_if_target and to.raw == _ZERO_ADDRESS:
            return None
        inner_call = self.call(
            to,
            value,
            data,
            path=f"{here}.{rule.data_arg}",
            base=data_position + WORD,
            depth=depth + 1,
        )
        return InnerCall(operation, to, value, data, inner_call)
