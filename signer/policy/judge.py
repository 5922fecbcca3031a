"""The evaluation context and the accumulator one verdict is built in (refusals, allowances, cover).

A policy decision is a pure function of the review, the policy and a :class:`Context`; the
:class:`Judge` collects what each rule found while the evaluators walk the request, then
:mod:`signer.policy.evaluate` turns it into a :class:`~signer.policy.verdict.Verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from shared.address import Address
from shared.erc4527 import Keypath
from shared.review import WarningCode
from signer.keys.bip32 import HARDENED, DerivationPath
from signer.policy.model import AssetKey, Policy, RuleRef
from signer.policy.verdict import RefusalCode, RuleHit

ZERO_ADDRESS = Address(bytes(20))


def derivation_path(keypath: Keypath) -> DerivationPath | None:
    """The request's ``crypto-keypath`` as a :class:`DerivationPath`; None with a wildcard."""
    indices = []
    for component in keypath.components:
        if component.index is None:
            return None
        indices.append(component.index + (HARDENED if component.hardened else 0))
    return DerivationPath(tuple(indices))


@dataclass(frozen=True, slots=True)
class Context:
    """What the signer knows besides the review and the policy.

    ``path`` is the derivation path the request asks to sign with; ``enrolled`` the paths the
    vault holds; ``now`` the Unix time; ``spent`` what the limits store counts in the 24 hours
    up to ``now`` per asset; ``attested_by`` the pinned operator address whose attestation of
    this request verified (None: no attestation, or one that did not verify).

    ``counted`` is the part of ``spent`` that this very request already accounts for: what
    the limits store recorded under the request's spend id (``signer.nonces.spend_id``) when
    the same transaction, or a fee bump of it, was signed before. The store records a spend
    id once, so signing the request again replaces that spend rather than adding to it.
    """

    enrolled: frozenset[DerivationPath]
    now: int
    path: DerivationPath | None = None
    spent: Mapping[AssetKey, int] = field(default_factory=dict)
    attested_by: Address | None = None
    counted: Mapping[AssetKey, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Read-only copies: the caller's dicts cannot change a context after it is made.
        object.__setattr__(self, "spent", MappingProxyType(dict(self.spent)))
        object.__setattr__(self, "counted", MappingProxyType(dict(self.counted)))


# Not frozen: the judge makes one per payment the walk finds and keeps it to itself (the
# verdict holds Spends); none is ever assigned to after it is made.
@dataclass(slots=True)
class PolicyPayment:
    """Value a request moves, as the policy walk found it: ``amount`` of ``asset``."""

    destination: Address | None
    asset: AssetKey
    amount: int
    path: str


class Judge:
    """Collects one request's refusals, allowing rules, covered warnings and payments.

    ``spent`` is what the window already counts per asset for this request (default
    ``context.spent``; a batch passes its running totals) and ``counted`` the part of it that
    is this request's own earlier signing (default ``context.counted``). ``hits`` may be
    shared by the judges of one batch: a :class:`RuleHit` is an immutable value, so equal
    ones are made once.
    """

    __slots__ = (
        "_allowed",
        "_hits",
        "context",
        "counted",
        "covered",
        "covered_codes",
        "focus",
        "payments",
        "policy",
        "refusals",
        "refused_paths",
        "spent",
    )

    def __init__(
        self,
        policy: Policy,
        context: Context,
        *,
        spent: Mapping[AssetKey, int] | None = None,
        counted: Mapping[AssetKey, int] | None = None,
        hits: dict[tuple[str, str, int], RuleHit] | None = None,
    ) -> None:
        self.policy = policy
        self.context = context
        self.spent = context.spent if spent is None else spent
        self.counted = context.counted if counted is None else counted
        self.refusals: list[RuleHit] = []
        # Allowing rules in order, each once: keyed by (rule, reason, line).
        self._allowed: dict[tuple[str, str, int], RuleHit] = {}
        self._hits: dict[tuple[str, str, int], RuleHit] = {} if hits is None else hits
        # Warnings a rule explicitly allows: (code, review path), or a code for every path.
        self.covered: set[tuple[WarningCode, str]] = set()
        self.covered_codes: set[WarningCode] = set()
        # Review paths at which the walk itself refused: their warnings are not repeated.
        self.refused_paths: set[str] = set()
        self.payments: list[PolicyPayment] = []
        # The address a person confirms by typing its end (the first that matters).
        self.focus: tuple[str, Address] | None = None

    def fork(self, *, spent: Mapping[AssetKey, int], counted: Mapping[AssetKey, int]) -> Judge:
        """A judge for another request that starts with everything this one recorded.

        A batch judges the parts its items share (operator, account, chain) once per
        derivation path and chain, then forks a judge per item from there.
        """
        # Every slot is set here, as in __init__, from this judge's (copied) collections.
        judge = Judge.__new__(Judge)
        judge.policy = self.policy
        judge.context = self.context
        judge.spent = spent
        judge.counted = counted
        judge.refusals = self.refusals.copy()
        judge._allowed = self._allowed.copy()
        judge._hits = self._hits
        judge.covered = self.covered.copy()
        judge.covered_codes = self.covered_codes.copy()
        judge.refused_paths = self.refused_paths.copy()
        judge.payments = self.payments.copy()
        judge.focus = self.focus
        return judge

    @property
    def allowed(self) -> tuple[RuleHit, ...]:
        """The rules that allowed part of the request, in the order they did, each once."""
        return tuple(self._allowed.values())

    def refuse(
        self,
        code: RefusalCode,
        reason: str,
        *,
        rule: RuleRef | str,
        path: str | None = None,
    ) -> None:
        """Record a refusal by ``rule`` (a written rule, or the table that lacks one)."""
        if isinstance(rule, RuleRef):
            hit = RuleHit(rule.path, reason, rule.line, code.value)
        else:
            hit = RuleHit(rule, reason, None, code.value)
        if hit not in self.refusals:
            self.refusals.append(hit)
        if path is not None:
            self.refused_paths.add(path)

    def allow(self, rule: RuleRef, reason: str) -> None:
        """Record that ``rule`` allowed part of the request."""
        key = (rule.path, reason, rule.line)
        hit = self._hits.get(key)
        if hit is None:
            hit = self._hits[key] = RuleHit(rule.path, reason, rule.line)
        self._allowed.setdefault(key, hit)

    def cover(self, code: WarningCode, path: str | None = None) -> None:
        """Mark warning ``code`` at ``path`` (every path when None) as explicitly allowed."""
        if path is None:
            self.covered_codes.add(code)
        else:
            self.covered.add((code, path))

    def is_covered(self, code: WarningCode, path: str) -> bool:
        return code in self.covered_codes or (code, path) in self.covered

    def pay(self, destination: Address | None, asset: AssetKey, amount: int, path: str) -> None:
        """Record value moved by the request; zero moves nothing."""
        if amount:
            self.payments.append(PolicyPayment(destination, asset, amount, path))
            if destination is not None:
                self.look_at("destination", destination)

    def look_at(self, what: str, address: Address) -> None:
        """Remember ``address`` as what to confirm, unless something came first."""
        if self.focus is None:
            self.focus = (what, address)

    def named(self, chain_id: int | None, address: Address) -> bool:
        """True when the policy itself names ``address`` on ``chain_id`` (any rule)."""
        policy = self.policy
        on = (lambda rule_chain: True) if chain_id is None else (lambda c: c == chain_id)
        return (
            any(on(r.chain_id) and r.address == address for r in policy.destinations)
            or any(on(r.chain_id) and r.to == address for r in policy.calls)
            or any(on(r.chain_id) and address in (r.token, r.spender) for r in policy.approvals)
            or any(on(r.chain_id) and r.verifying_contract == address for r in policy.typed_data)
            or any(on(r.chain_id) and r.address == address for r in policy.multisend_call_only)
            or any(
                on(r.chain_id) and (r.address == address or address in r.migration_libraries)
                for r in policy.safes
            )
            or any(on(r.asset.chain_id) and r.asset.token == address for r in policy.limits)
        )
