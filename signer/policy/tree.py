"""The policy walk over a call tree: every call must be allowed by a rule, or it is refused.

What allows a call, by what it is:

- a transfer of native coin or an ERC-20 ``transfer``/``transferFrom``: the destination
  allowlist and the limits (checked on the payments this walk records);
- an ERC-20 approval, permit call or ``setApprovalForAll``: an ``[[approval]]`` naming the
  token and spender, and the way it is granted;
- Safe ``execTransaction``: a ``[[safe]]`` naming that Safe, then its inner call as the Safe;
- a Safe configuration change made by the Safe on itself: a governance ``[[safe]]`` profile
  that lists the function;
- a delegatecall: only by a Safe, only to a pinned ``[[multisend_call_only]]`` running
  ``multiSend`` whose every entry is a plain call (operation 0) that itself passes this walk
  as the Safe, or to a governance profile's ``migration_libraries`` for a listed upgrade;
- anything else (unknown selectors, ownership, upgrades, roles, NFTs, hash approvals):
  a ``[[call]]`` naming (chain, contract, selector).

Paths follow the review's (``execTransaction.multiSend[2]``) so that the warnings the review
raised at a place can be matched to the rule that allowed what is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.address import Address
from shared.calls import Call, CallKind, KnownCall, Operation, PlainTransfer, UnexplainedCall
from shared.review import SafeTransaction, WarningCode
from shared.review.amounts import is_unlimited
from signer.policy.judge import ZERO_ADDRESS, Judge
from signer.policy.model import ApprovalVia, SafeProfile, SafeRule, asset_key
from signer.policy.verdict import RefusalCode

# The review warns with these codes on calls of these kinds; a [[call]] rule allowing such a
# call explicitly allows its warning.
_KIND_WARNINGS = {
    CallKind.OWNERSHIP_CHANGE: WarningCode.OWNERSHIP_CHANGE,
    CallKind.UPGRADE: WarningCode.UPGRADE,
    CallKind.ROLE_CHANGE: WarningCode.ROLE_CHANGE,
    CallKind.SAFE_HASH_APPROVAL: WarningCode.SAFE_HASH_APPROVAL,
    CallKind.SAFE_ADMIN: WarningCode.SAFE_ADMIN_CHANGE,
    CallKind.SAFE_SINGLETON_CHANGE: WarningCode.SAFE_ADMIN_CHANGE,
    CallKind.NFT_APPROVAL_FOR_ALL: WarningCode.NFT_APPROVAL_FOR_ALL,
}
# ERC-20 allowance functions and the argument holding the amount they allow.
_APPROVAL_AMOUNT = {
    "approve": "amount",
    "increaseAllowance": "addedValue",
    "decreaseAllowance": "subtractedValue",
    "permit": "value",
}
_SAFE_ADMIN_KINDS = (CallKind.SAFE_ADMIN, CallKind.SAFE_SINGLETON_CHANGE)


# Not frozen: one is made for every call the walk visits, and a frozen dataclass pays an
# object.__setattr__ per field; none is ever assigned to after it is made.
@dataclass(slots=True)
class _Site:
    """Where a call is made: ``safe`` is the Safe acting (None: the signer's account or a
    contract), ``in_batch`` whether the call is a MultiSend entry (where ``to`` zero means
    the Safe itself)."""

    to: Address
    value: int
    path: str
    operation: Operation
    safe: SafeRule | None
    in_batch: bool = False


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class TreeWalk:
    """Walks call trees on one chain, recording into a :class:`Judge`."""

    __slots__ = ("chain_id", "judge", "policy")

    def __init__(self, judge: Judge, chain_id: int) -> None:
        self.judge = judge
        self.chain_id = chain_id
        self.policy = judge.policy

    # --- entry points ---------------------------------------------------------------------

    def transaction(self, to: Address | None, value: int, call: Call) -> None:
        """Walk a transaction the signing account sends."""
        if to is None:
            self.judge.refuse(
                RefusalCode.CONTRACT_CREATION,
                "deploying a contract is never allowed by a policy",
                rule="call",
                path="",
            )
            return
        self.visit(call, _Site(to, value, "", Operation.CALL, None))

    def safe_transaction(self, safe: SafeRule, safe_tx: SafeTransaction) -> None:
        """Walk a Safe transaction of ``safe``: its refund fields, then its call as the Safe."""
        judge = self.judge
        path = safe_tx.path
        refund = (
            safe_tx.gas_price != 0
            or safe_tx.gas_token != ZERO_ADDRESS
            or safe_tx.refund_receiver != ZERO_ADDRESS
        )
        if refund:
            if safe.allow_gas_refund:
                judge.allow(safe.ref.key("allow_gas_refund"), "the Safe may pay a gas refund")
                judge.cover(WarningCode.SAFE_GAS_REFUND, path)
            else:
                judge.refuse(
                    RefusalCode.SAFE_GAS_REFUND,
                    "the Safe transaction pays a gas refund (gasPrice, gasToken or "
                    "refundReceiver is set) and allow_gas_refund is not true",
                    rule=safe.ref.key("allow_gas_refund"),
                    path=path,
                )
        site = _Site(safe_tx.to, safe_tx.value, path, Operation(safe_tx.operation), safe)
        self.visit(safe_tx.call, site)

    # --- one call -------------------------------------------------------------------------

    def visit(self, call: Call, site: _Site) -> None:
        """Judge ``call`` made at ``site``, then every call it makes."""
        if site.operation is Operation.DELEGATECALL:
            self._delegatecall(call, site)
            return
        if site.value:
            self.judge.pay(
                site.to, asset_key(self.chain_id, None), site.value, site.path or "value"
            )
        if isinstance(call, PlainTransfer):
            return
        if isinstance(call, UnexplainedCall):
            self._unexplained(call, site)
            return
        here = _join(site.path, call.name)
        if self._names_target(site):
            self.judge.cover(WarningCode.UNKNOWN_CONTRACT, here)
        kind = call.kind
        if kind is CallKind.TOKEN_TRANSFER:
            self._token_transfer(call, site, here)
        elif kind is CallKind.TOKEN_APPROVAL:
            self._token_approval(call, site, here)
        elif kind is CallKind.NFT_APPROVAL_FOR_ALL:
            self._approval_for_all(call, site, here)
        elif kind is CallKind.SAFE_EXEC and call.name == "execTransaction":
            self._exec_transaction(call, site, here)
        elif kind in _SAFE_ADMIN_KINDS and self._on_own_safe(site):
            self._safe_admin(call, site, here)
        else:
            self._listed_call(call, site, here)

    def _names_target(self, site: _Site) -> bool:
        if self._on_own_safe(site):
            return True
        return self.judge.named(self.chain_id, site.to)

    @staticmethod
    def _on_own_safe(site: _Site) -> bool:
        # A Safe changes its own configuration by calling itself; in a MultiSend batch the
        # zero address also stands for the calling Safe (safe-smart-account MultiSend.sol).
        safe = site.safe
        if safe is None:
            return False
        return site.to == safe.address or (site.in_batch and site.to == ZERO_ADDRESS)

    def _unexplained(self, call: UnexplainedCall, site: _Site) -> None:
        rule = self.policy.call(self.chain_id, site.to, call.selector)
        if rule is None:
            self.judge.refuse(
                RefusalCode.CALL_NOT_ALLOWED,
                f"call of unknown selector 0x{call.selector.hex()} on "
                f"{site.to.checksummed()}: no [[call]] names it",
                rule="call",
                path=site.path,
            )
            return
        self.judge.allow(rule.ref, f"{rule.label or 'call'} 0x{call.selector.hex()}")
        self.judge.cover(WarningCode.UNEXPLAINED_CALL, site.path)

    def _listed_call(self, call: KnownCall, site: _Site, here: str) -> None:
        rule = self.policy.call(self.chain_id, site.to, call.selector)
        if rule is None:
            self.judge.refuse(
                RefusalCode.CALL_NOT_ALLOWED,
                f"{call.name} on {site.to.checksummed()} is not named by a [[call]] "
                f"(chain {self.chain_id}, selector 0x{call.selector.hex()})",
                rule="call",
                path=here,
            )
            return
        self.judge.allow(rule.ref, f"{rule.label or call.name} on {site.to.checksummed()}")
        warning = _KIND_WARNINGS.get(call.kind)
        if warning is not None:
            self.judge.cover(warning, here)
        # The calls it makes run as the contract called, never as a Safe.
        for index, inner in enumerate(call.inner):
            path = f"{here}[{index}]" if call.kind is CallKind.MULTISEND else here
            self.visit(inner.call, _Site(inner.to, inner.value, path, inner.operation, None))

    # --- tokens ---------------------------------------------------------------------------

    def _token_transfer(self, call: KnownCall, site: _Site, here: str) -> None:
        to, amount = call.arg("to"), call.arg("amount")
        if not isinstance(to, Address) or isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError(f"{call.signature}: unexpected argument types")
        self.judge.pay(to, asset_key(self.chain_id, site.to), amount, here)

    def _token_approval(self, call: KnownCall, site: _Site, here: str) -> None:
        spender = call.arg("spender")
        amount = call.arg(_APPROVAL_AMOUNT[call.name])
        if not isinstance(spender, Address) or isinstance(amount, bool):
            raise TypeError(f"{call.signature}: unexpected argument types")
        if not isinstance(amount, int):
            raise TypeError(f"{call.signature}: unexpected argument types")
        via = ApprovalVia.PERMIT if call.name == "permit" else ApprovalVia.APPROVE
        # Lowering an allowance grants nothing: the amount is not checked against caps.
        granted = 0 if call.name == "decreaseAllowance" else amount
        deadline = call.arg("deadline") if call.name == "permit" else None
        if isinstance(deadline, int) and deadline < self.judge.context.now:
            self.judge.refuse(
                RefusalCode.EXPIRED,
                f"the permit's deadline {deadline} has passed",
                rule="approval",
                path=here,
            )
        check_approval(self.judge, self.chain_id, site.to, spender, granted, via, here, 256)

    def _approval_for_all(self, call: KnownCall, site: _Site, here: str) -> None:
        operator = call.arg("operator")
        if not isinstance(operator, Address):
            raise TypeError(f"{call.signature}: operator is not an address")
        via = ApprovalVia.SET_APPROVAL_FOR_ALL
        if check_approval(self.judge, self.chain_id, site.to, operator, 0, via, here, 256):
            self.judge.cover(WarningCode.NFT_APPROVAL_FOR_ALL, here)

    # --- Safes ----------------------------------------------------------------------------

    def _exec_transaction(self, call: KnownCall, site: _Site, here: str) -> None:
        judge = self.judge
        rule = self.policy.safe(self.chain_id, site.to)
        if rule is None:
            judge.refuse(
                RefusalCode.SAFE_NOT_ALLOWED,
                f"execTransaction on {site.to.checksummed()}, which is not a [[safe]] of "
                f"chain {self.chain_id}",
                rule="safe",
                path=here,
            )
            return
        judge.allow(rule.ref, f"Safe {rule.label or rule.address.checksummed()}")
        if not call.inner:
            return
        inner = call.inner[0]

        def arg_int(name: str) -> int:
            value = call.arg(name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{call.signature}: {name} is not an integer")
            return value

        def arg_address(name: str) -> Address:
            value = call.arg(name)
            if not isinstance(value, Address):
                raise TypeError(f"{call.signature}: {name} is not an address")
            return value

        safe_tx = SafeTransaction(
            safe=site.to,
            chain_id=self.chain_id,
            nonce=None,
            to=inner.to,
            value=inner.value,
            data=inner.data,
            operation=int(inner.operation),
            safe_tx_gas=arg_int("safeTxGas"),
            base_gas=arg_int("baseGas"),
            gas_price=arg_int("gasPrice"),
            gas_token=arg_address("gasToken"),
            refund_receiver=arg_address("refundReceiver"),
            call=inner.call,
            path=here,
        )
        self.safe_transaction(rule, safe_tx)

    def _safe_admin(self, call: KnownCall, site: _Site, here: str) -> None:
        safe = site.safe
        if safe is None:
            raise ValueError("a Safe admin change is judged only when a Safe makes it")
        if safe.profile is not SafeProfile.GOVERNANCE:
            self.judge.refuse(
                RefusalCode.SAFE_ADMIN_CHANGE,
                f"{call.name} changes the Safe's configuration; the Safe's profile is "
                f'"{safe.profile.value}" (payouts only)',
                rule=safe.ref.key("profile"),
                path=here,
            )
            return
        if call.name not in safe.admin_functions:
            self.judge.refuse(
                RefusalCode.SAFE_ADMIN_CHANGE,
                f"{call.name} is not in the governance profile's admin_functions",
                rule=safe.ref.key("admin_functions"),
                path=here,
            )
            return
        self.judge.allow(safe.ref.key("admin_functions"), f"governance may {call.name}")
        self.judge.cover(WarningCode.SAFE_ADMIN_CHANGE, here)

    def _delegatecall(self, call: Call, site: _Site) -> None:
        judge = self.judge
        safe = site.safe
        if safe is None:
            judge.refuse(
                RefusalCode.DELEGATECALL_NOT_ALLOWED,
                f"delegatecall to {site.to.checksummed()} by something other than a Safe",
                rule="multisend_call_only",
                path=site.path,
            )
            return
        pinned = self.policy.multisend(self.chain_id, site.to)
        if pinned is not None and isinstance(call, KnownCall) and call.name == "multiSend":
            judge.allow(pinned.ref, f"delegatecall to {pinned.label or 'MultiSendCallOnly'}")
            judge.cover(WarningCode.DELEGATECALL, site.path)
            judge.cover(WarningCode.UNKNOWN_CONTRACT, _join(site.path, call.name))
            self._batch(call, site, safe)
            return
        if (
            safe.profile is SafeProfile.GOVERNANCE
            and site.to in safe.migration_libraries
            and isinstance(call, KnownCall)
            and call.kind is CallKind.SAFE_SINGLETON_CHANGE
            and call.name in safe.admin_functions
        ):
            judge.allow(safe.ref.key("migration_libraries"), f"governance may {call.name}")
            judge.cover(WarningCode.DELEGATECALL, site.path)
            judge.cover(WarningCode.SAFE_ADMIN_CHANGE, _join(site.path, call.name))
            judge.cover(WarningCode.UNKNOWN_CONTRACT, _join(site.path, call.name))
            return
        judge.refuse(
            RefusalCode.DELEGATECALL_NOT_ALLOWED,
            f"the Safe delegatecalls {site.to.checksummed()}, which is not a pinned "
            "[[multisend_call_only]] running multiSend: the called code would run with the "
            "Safe's storage and funds",
            rule="multisend_call_only",
            path=site.path,
        )

    def _batch(self, call: KnownCall, site: _Site, safe: SafeRule) -> None:
        here = _join(site.path, call.name)
        for index, inner in enumerate(call.inner):
            path = f"{here}[{index}]"
            if inner.operation is not Operation.CALL:
                self.judge.refuse(
                    RefusalCode.INNER_DELEGATECALL,
                    f"batch entry {index} delegatecalls {inner.to.checksummed()}: every "
                    "MultiSendCallOnly entry must be a plain call (operation 0)",
                    rule="multisend_call_only",
                    path=path,
                )
                continue
            entry = _Site(inner.to, inner.value, path, Operation.CALL, safe, in_batch=True)
            self.visit(inner.call, entry)


def check_approval(
    judge: Judge,
    chain_id: int,
    token: Address,
    spender: Address,
    amount: int,
    via: ApprovalVia,
    path: str,
    bits: int,
) -> bool:
    """Judge an allowance of ``amount`` of ``token`` to ``spender``; True when allowed."""
    judge.look_at("spender", spender)
    rule = next(
        (
            r
            for r in judge.policy.approvals
            if r.chain_id == chain_id and r.token == token and r.spender == spender
        ),
        None,
    )
    if rule is None:
        judge.refuse(
            RefusalCode.APPROVAL_NOT_ALLOWED,
            f"no [[approval]] lets {spender.checksummed()} spend token {token.checksummed()} "
            f"on chain {chain_id}",
            rule="approval",
            path=path,
        )
        return False
    if via not in rule.via:
        judge.refuse(
            RefusalCode.APPROVAL_NOT_ALLOWED,
            f"this approval is granted by {via.value}, which the rule's via does not list",
            rule=rule.ref.key("via"),
            path=path,
        )
        return False
    if is_unlimited(amount, bits):
        if not rule.allow_unlimited:
            judge.refuse(
                RefusalCode.UNLIMITED_APPROVAL,
                f"an unlimited allowance for {spender.checksummed()}; allow_unlimited is not true",
                rule=rule.ref.key("allow_unlimited"),
                path=path,
            )
            return False
        judge.cover(WarningCode.UNLIMITED_APPROVAL, path)
    elif rule.max_amount is not None and amount > rule.max_amount:
        judge.refuse(
            RefusalCode.APPROVAL_OVER_MAX,
            f"an allowance of {amount} base units exceeds max_amount ({rule.max_amount})",
            rule=rule.ref.key("max_amount"),
            path=path,
        )
        return False
    judge.allow(rule.ref, f"{rule.label or spender.checksummed()} may spend the token")
    return True
