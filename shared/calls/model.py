"""Decoded calls: a known call with named arguments, a plain transfer, or an unexplained call."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum, StrEnum, auto
from typing import NamedTuple, TypeAlias

from shared.abi import AbiType, AbiValue, encode_values
from shared.address import Address


class CallKind(StrEnum):
    """What a reviewer must know about a call; the review layer keys its warnings off this."""

    TOKEN_TRANSFER = auto()  # moves fungible tokens (ERC-20; ERC-721 shares one selector)
    TOKEN_APPROVAL = auto()  # lets someone else spend tokens (approve, permit, allowance)
    NFT_TRANSFER = auto()  # moves ERC-721 / ERC-1155 tokens
    NFT_APPROVAL_FOR_ALL = auto()  # hands over every NFT of a collection
    OWNERSHIP_CHANGE = auto()  # changes who controls a contract (Ownable, proxy admin)
    UPGRADE = auto()  # replaces a proxy's code
    ROLE_CHANGE = auto()  # grants or removes an AccessControl role
    SAFE_EXEC = auto()  # a Safe executes an inner call (which may be a delegatecall)
    SAFE_ADMIN = auto()  # changes a Safe's owners, threshold, modules, guards or handler
    SAFE_SINGLETON_CHANGE = auto()  # replaces the code a Safe runs
    SAFE_HASH_APPROVAL = auto()  # approves a Safe transaction by its hash alone
    MULTISEND = auto()  # a batch of inner calls, possibly delegatecalls


class Operation(IntEnum):
    """Safe ``Enum.Operation``: how an inner call is made."""

    CALL = 0
    # Runs the target's code with the caller's storage and balance: the target can
    # rewrite anything, including a Safe's singleton in slot 0 (Bybit, Feb 2025).
    DELEGATECALL = 1


@dataclass(frozen=True, slots=True)
class Arg:
    """One decoded argument: its catalogue name, its ABI type and its value."""

    name: str
    abi_type: AbiType
    value: AbiValue


@dataclass(frozen=True, slots=True)
class InnerCall:
    """A call that an outer call makes: a Safe transaction's payload or one MultiSend entry.

    ``to`` is exactly as encoded. In the current safe-smart-account MultiSend sources a
    zero ``to`` means the calling Safe itself; which release does so is a fact about the
    MultiSend deployment (registries), so the zero address is kept, not rewritten. The
    inner ``call`` is decoded by selector whatever ``to`` is, so a Safe admin change
    hidden behind either spelling is still named by its kind.
    """

    operation: Operation
    to: Address
    value: int
    data: bytes
    call: Call


@dataclass(frozen=True, slots=True)
class KnownCall:
    """A call whose selector is in the catalogue and whose arguments decoded canonically."""

    selector: bytes
    signature: str
    name: str
    kind: CallKind
    args: tuple[Arg, ...]
    inner: tuple[InnerCall, ...] = ()

    def arg(self, name: str) -> AbiValue:
        """The value of the argument called ``name``; :class:`KeyError` if there is none."""
        for arg in self.args:
            if arg.name == name:
                return arg.value
        raise KeyError(name)

    def calldata(self) -> bytes:
        """The canonical call data: the selector then the ABI-encoded arguments."""
        return self.selector + encode_values(
            [a.abi_type for a in self.args], [a.value for a in self.args]
        )


class PlainTransfer(NamedTuple):
    """Empty call data: a transfer of ``value`` wei of the native coin to ``to``.

    A typed named tuple rather than a frozen dataclass: one is built for every plain transfer
    of a batch, and a tuple is built without one ``object.__setattr__`` per field. It is as
    immutable, with the same attributes, but as a tuple it also equals (and hashes as) a plain
    tuple of the same values; callers tell calls apart by type, never by tuple equality.
    """

    to: Address
    value: int

    def calldata(self) -> bytes:
        return b""


@dataclass(frozen=True, slots=True)
class UnexplainedCall:
    """Call data coldsign cannot explain (unknown selector, nesting too deep, contract creation).

    Not an error: a result the review turns into a refusal-worthy warning. ``data`` is
    kept whole; ``selector`` is its first four bytes (empty for contract creation).
    """

    selector: bytes
    data: bytes
    reason: str

    def calldata(self) -> bytes:
        return self.data


Call: TypeAlias = KnownCall | PlainTransfer | UnexplainedCall


def walk(call: Call) -> Iterator[tuple[tuple[InnerCall, ...], Call]]:
    """Yield every call in the tree, outermost first, with the inner-call chain leading to it.

    A policy that refuses any delegatecall checks every ``InnerCall.operation`` on each
    chain; one that refuses unexplained calls looks for :class:`UnexplainedCall` anywhere.
    """
    pending: list[tuple[tuple[InnerCall, ...], Call]] = [((), call)]
    while pending:
        chain, current = pending.pop()
        yield chain, current
        if isinstance(current, KnownCall):
            pending.extend(((*chain, inner), inner.call) for inner in reversed(current.inner))
