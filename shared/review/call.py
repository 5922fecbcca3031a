"""Review of a decoded call tree: arguments, payments, approvals, admin changes and their warnings.

Every call is reviewed at a :class:`CallSite`: who makes it, to which address, with how much
native coin and by which operation. Safe ``execTransaction`` calls are handed to the Safe
reviewer (``shared.review.safe``), which calls back here for the Safe's inner call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

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
)
from shared.address import Address
from shared.calls import (
    DEFAULT_CATALOG,
    Call,
    CallKind,
    InnerCall,
    KnownCall,
    NestedCall,
    Operation,
    PackedTransactions,
    PlainTransfer,
    UnexplainedCall,
)
from shared.review.amounts import (
    allowance_text,
    amount_text,
    is_unlimited,
    token_asset,
)
from shared.review.draft import Draft
from shared.review.model import Asset
from shared.review.warnings import WarningCode

# OpenZeppelin AccessControl: DEFAULT_ADMIN_ROLE is bytes32(0) and administers every role.
_DEFAULT_ADMIN_ROLE = bytes(32)
# Arguments holding an amount of the called token, by function name.
_TOKEN_AMOUNT_ARGS = {
    "transfer": "amount",
    "transferFrom": "amount",
    "approve": "amount",
    "increaseAllowance": "addedValue",
    "decreaseAllowance": "subtractedValue",
    "permit": "value",
}
_KIND_WARNINGS = {
    CallKind.OWNERSHIP_CHANGE: WarningCode.OWNERSHIP_CHANGE,
    CallKind.UPGRADE: WarningCode.UPGRADE,
    CallKind.ROLE_CHANGE: WarningCode.ROLE_CHANGE,
    CallKind.SAFE_ADMIN: WarningCode.SAFE_ADMIN_CHANGE,
    CallKind.SAFE_SINGLETON_CHANGE: WarningCode.SAFE_ADMIN_CHANGE,
    CallKind.SAFE_HASH_APPROVAL: WarningCode.SAFE_HASH_APPROVAL,
}


class CallSite(NamedTuple):
    """Where a call is made: by ``sender`` (None: the signing account) to ``to`` with ``value``.

    ``path`` names the site (empty for the transaction itself, ``multiSend[2]`` for a batch
    entry). With ``operation`` DELEGATECALL the target's code runs as ``sender``. A typed
    named tuple, not a frozen dataclass: one is built per call reviewed, and a tuple is built
    without one ``object.__setattr__`` per field (see ``shared.review.model``).
    """

    to: Address | None
    value: int
    path: str
    sender: Address | None
    operation: Operation = Operation.CALL

    @property
    def acting(self) -> Address | None:
        """The account the called code acts as: who calls out and whose funds it moves."""
        return self.sender if self.operation is Operation.DELEGATECALL else self.to


def join(path: str, name: str) -> str:
    """``path.name``, or ``name`` at the top."""
    return f"{path}.{name}" if path else name


SafeExecReviewer = Callable[["CallReviewer", KnownCall, CallSite], None]


class CallReviewer:
    """Adds one call tree's fields, payments and warnings to a draft."""

    def __init__(self, draft: Draft, on_safe_exec: SafeExecReviewer) -> None:
        self.draft = draft
        self.on_safe_exec = on_safe_exec

    def review(self, call: Call, site: CallSite) -> None:
        """Review ``call`` made at ``site``, then every call it makes."""
        self._native_value(call, site)
        if isinstance(call, UnexplainedCall):
            self._unexplained(call, site)
        elif isinstance(call, KnownCall):
            self._known(call, site)

    # --- native coin ----------------------------------------------------------------------

    def _native_value(self, call: Call, site: CallSite) -> None:
        draft = self.draft
        if site.value == 0:
            return
        if site.operation is Operation.DELEGATECALL:
            # Safe Executor.sol / MultiSend.sol: a delegatecall carries no value.
            return
        asset = draft.native_asset()
        draft.pay(site.to, asset, site.value, site.path or "value", site.sender)
        target = site.to
        if target is None:
            return
        # Registry entries (tokens, Safe libraries) are contracts; address-book labels may not be.
        if call.calldata() or draft.is_registry_contract(target):
            draft.warn(
                WarningCode.VALUE_TO_CONTRACT,
                f"{amount_text(asset, site.value)} sent to contract {target.checksummed()}",
                site.path,
            )

    # --- calls that are not understood ------------------------------------------------------

    def _unexplained(self, call: UnexplainedCall, site: CallSite) -> None:
        draft = self.draft
        if site.to is None:
            draft.add("Init code", f"{len(call.data)} bytes (not explained)")
            draft.warn(
                WarningCode.CONTRACT_CREATION,
                f"deploys a contract from {len(call.data)} bytes of init code",
                site.path,
            )
            return
        draft.add(
            "Call data",
            f"{len(call.data)} bytes, selector 0x{call.selector.hex()}: NOT UNDERSTOOD",
        )
        draft.warn(
            WarningCode.UNEXPLAINED_CALL,
            f"call to {site.to.checksummed()}: {call.reason}",
            site.path,
        )

    # --- known calls ----------------------------------------------------------------------

    def _known(self, call: KnownCall, site: CallSite) -> None:
        draft = self.draft
        target = site.to
        if target is None:
            raise ValueError("a known call always has a target")
        here = join(site.path, call.name)
        draft.section = f"call {here}"
        draft.add("Function", call.signature)
        token = self._token(call, target, here)
        decoded_arg = _inner_data_arg(call) if call.inner else None
        for arg in call.args:
            if token is not None and arg.name == _TOKEN_AMOUNT_ARGS.get(call.name):
                self._token_amount(call, arg.name, token, arg.value)
            elif arg.name == decoded_arg and isinstance(arg.value, bytes):
                draft.add(arg.name, f"{len(arg.value)} bytes, decoded below")
            else:
                self._arg(arg.name, arg.abi_type, arg.value, here)
        self._kind_effects(call, site, token, here)
        self._inner(call, site, here)

    def _token(self, call: KnownCall, target: Address, here: str) -> Asset | None:
        # ERC-20 calls name their token by the address they are sent to.
        draft = self.draft
        if call.kind not in (CallKind.TOKEN_TRANSFER, CallKind.TOKEN_APPROVAL):
            self._check_contract(target, here)
            return None
        draft.check_lookalike(target, here)
        asset = token_asset(draft.registries, draft.chain_id, target)
        if not asset.known:
            where = "with no chain" if draft.chain_id is None else f"on chain {draft.chain_id}"
            draft.warn(
                WarningCode.UNKNOWN_TOKEN,
                f"{target.checksummed()} is not a registered token {where}; "
                f"{call.name} amounts are base units (it may even be an NFT: ERC-721 shares "
                "this selector)",
                here,
                key=target,
            )
        return asset

    def _check_contract(self, target: Address, here: str) -> None:
        draft = self.draft
        draft.check_lookalike(target, here)
        if not draft.is_known(target):
            draft.warn(
                WarningCode.UNKNOWN_CONTRACT,
                f"{target.checksummed()} is not in the registries or the address book",
                here,
                key=target,
            )

    def _token_amount(self, call: KnownCall, name: str, token: Asset, value: AbiValue) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{call.signature}: {name} is not an integer")
        if call.kind is CallKind.TOKEN_APPROVAL:
            self.draft.add(name, allowance_text(token, value))
        else:
            self.draft.add(name, amount_text(token, value))

    def _kind_effects(
        self, call: KnownCall, site: CallSite, token: Asset | None, here: str
    ) -> None:
        draft = self.draft
        if call.kind is CallKind.TOKEN_TRANSFER and token is not None:
            self._token_transfer(call, site, token, here)
        elif call.kind is CallKind.TOKEN_APPROVAL and token is not None:
            self._approval(call, token, here)
        elif call.kind is CallKind.NFT_APPROVAL_FOR_ALL:
            operator, approved = call.arg("operator"), call.arg("approved")
            if approved is True and isinstance(operator, Address):
                draft.warn(
                    WarningCode.NFT_APPROVAL_FOR_ALL,
                    f"{operator.checksummed()} may take every token of collection "
                    f"{_target(site).checksummed()}",
                    here,
                )
        elif call.kind in _KIND_WARNINGS:
            draft.warn(
                _KIND_WARNINGS[call.kind],
                f"{call.name} on {_target(site).checksummed()}",
                here,
            )

    def _token_transfer(self, call: KnownCall, site: CallSite, token: Asset, here: str) -> None:
        to, amount = call.arg("to"), call.arg("amount")
        if not isinstance(to, Address) or not isinstance(amount, int):
            raise TypeError(f"{call.signature}: unexpected argument types")
        sender = site.sender
        if call.name == "transferFrom":
            payer = call.arg("from")
            if not isinstance(payer, Address):
                raise TypeError(f"{call.signature}: from is not an address")
            sender = payer
        self.draft.pay(to, token, amount, here, sender)

    def _approval(self, call: KnownCall, token: Asset, here: str) -> None:
        draft = self.draft
        if call.name == "decreaseAllowance":
            return
        spender = call.arg("spender")
        amount = call.arg(_TOKEN_AMOUNT_ARGS[call.name])
        if not isinstance(spender, Address) or not isinstance(amount, int):
            raise TypeError(f"{call.signature}: unexpected argument types")
        if call.name == "permit":
            draft.warn(
                WarningCode.PERMIT,
                f"submits a permit letting {spender.checksummed()} spend "
                f"{allowance_text(token, amount)}",
                here,
            )
        elif amount != 0:
            draft.warn(
                WarningCode.TOKEN_APPROVAL,
                f"{spender.checksummed()} may spend {allowance_text(token, amount)}",
                here,
            )
        if is_unlimited(amount):
            draft.warn(
                WarningCode.UNLIMITED_APPROVAL,
                f"{spender.checksummed()} may spend every {token.symbol} token the account holds",
                here,
            )

    # --- inner calls ----------------------------------------------------------------------

    def _inner(self, call: KnownCall, site: CallSite, here: str) -> None:
        if call.kind is CallKind.SAFE_EXEC:
            self.on_safe_exec(self, call, site)
            return
        for index, inner in enumerate(call.inner):
            if call.kind is CallKind.MULTISEND:
                self._multisend_entry(inner, site, f"{here}[{index}]")
            else:
                inner_site = CallSite(inner.to, inner.value, here, site.acting, inner.operation)
                self.review(inner.call, inner_site)

    def _multisend_entry(self, inner: InnerCall, site: CallSite, path: str) -> None:
        draft = self.draft
        entry_site = CallSite(inner.to, inner.value, path, site.acting, inner.operation)
        draft.section = f"entry {path}"
        draft.address("To", inner.to, path=path)
        draft.add("Operation", operation_text(inner.operation))
        if inner.value:
            asset = draft.native_asset()
            draft.add("Value", amount_text(asset, inner.value))
        if inner.operation is Operation.DELEGATECALL:
            draft.warn(
                WarningCode.DELEGATECALL,
                f"batch entry delegatecalls {inner.to.checksummed()}",
                path,
            )
        self.review(inner.call, entry_site)

    # --- plain arguments ------------------------------------------------------------------

    def _arg(self, label: str, abi_type: AbiType, value: AbiValue, path: str) -> None:
        draft = self.draft
        if isinstance(abi_type, AddressType) and isinstance(value, Address):
            draft.address(label, value, path=path)
        elif isinstance(abi_type, UIntType | IntType) and isinstance(value, int):
            draft.add(label, str(value))
        elif isinstance(abi_type, BoolType) and isinstance(value, bool):
            draft.add(label, "true" if value else "false")
        elif isinstance(abi_type, FixedBytesType) and isinstance(value, bytes):
            note = "DEFAULT_ADMIN_ROLE" if value == _DEFAULT_ADMIN_ROLE else ""
            draft.add(label, _hex(value), note=note, note_source=None)
        elif isinstance(abi_type, BytesType) and isinstance(value, bytes):
            draft.add(label, _hex(value))
        elif isinstance(abi_type, StringType) and isinstance(value, str):
            draft.text(label, value, path=path)
        elif isinstance(abi_type, StringType) and isinstance(value, NonUtf8String):
            draft.add(label, _hex(value.raw) + " (not UTF-8)")
            draft.warn_escaped(("invalid_utf8",), label, path)
        elif isinstance(abi_type, ArrayType) and isinstance(value, tuple):
            draft.add(label, f"{len(value)} items")
            for index, item in enumerate(value):
                self._arg(f"{label}[{index}]", abi_type.item, item, path)
        elif isinstance(abi_type, TupleType) and isinstance(value, tuple):
            for index, (component, item) in enumerate(zip(abi_type.components, value, strict=True)):
                self._arg(f"{label}.{index}", component, item, path)
        else:
            raise TypeError(f"{label}: value does not match {abi_type.canonical()}")


def call_summary(call: Call) -> str:
    """A few words naming what a call does, for titles."""
    if isinstance(call, PlainTransfer):
        return "native coin transfer"
    if isinstance(call, UnexplainedCall):
        return "contract creation" if not call.selector else "UNEXPLAINED call"
    if call.name == "multiSend":
        return f"multiSend of {len(call.inner)} calls"
    if call.kind is CallKind.SAFE_EXEC and call.inner:
        return f"Safe {call.name} of {call_summary(call.inner[0].call)}"
    return call.name


def operation_text(operation: int) -> str:
    """A Safe operation for display."""
    return "DELEGATECALL (1)" if operation == Operation.DELEGATECALL else "call (0)"


def _inner_data_arg(call: KnownCall) -> str | None:
    # The catalogue names the argument whose bytes hold the inner call(s).
    spec = DEFAULT_CATALOG.get(call.selector)
    rule = None if spec is None else spec.inner
    if isinstance(rule, NestedCall):
        return rule.data_arg
    if isinstance(rule, PackedTransactions):
        return rule.arg
    return None


def _hex(data: bytes) -> str:
    return "0x" + data.hex() if data else "(empty)"


def _target(site: CallSite) -> Address:
    if site.to is None:
        raise ValueError("a known call always has a target")
    return site.to
