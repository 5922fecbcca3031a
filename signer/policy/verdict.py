"""Policy verdicts: sign, refuse (every refusing rule with its reason) or needs-confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from signer.policy.model import AssetKey


class Decision(StrEnum):
    """What the policy decided for one request."""

    SIGN = "sign"
    REFUSE = "refuse"
    # Allowed, but a person must first acknowledge a warning by typing the expected text.
    NEEDS_CONFIRMATION = "needs-confirmation"


class RefusalCode(StrEnum):
    """Stable codes of refusals (API: interfaces and tests key off them)."""

    CHAIN_NOT_ALLOWED = "chain-not-allowed"
    ACCOUNT_NOT_ALLOWED = "account-not-allowed"
    ACCOUNT_NOT_ENROLLED = "account-not-enrolled"
    OPERATOR_ATTESTATION = "operator-attestation"
    DESTINATION_NOT_ALLOWED = "destination-not-allowed"
    NO_LIMIT = "no-limit"
    DECIMALS_MISMATCH = "decimals-mismatch"
    PER_TX_LIMIT = "per-tx-limit"
    WINDOW_LIMIT = "window-limit"
    NO_FEE_CAP = "no-fee-cap"
    FEE_PER_GAS = "fee-per-gas"
    FEE_TOTAL = "fee-total"
    CONTRACT_CREATION = "contract-creation"
    CALL_NOT_ALLOWED = "call-not-allowed"
    APPROVAL_NOT_ALLOWED = "approval-not-allowed"
    UNLIMITED_APPROVAL = "unlimited-approval"
    APPROVAL_OVER_MAX = "approval-over-max"
    EXPIRED = "expired"
    DELEGATECALL_NOT_ALLOWED = "delegatecall-not-allowed"
    INNER_DELEGATECALL = "inner-delegatecall"
    SAFE_NOT_ALLOWED = "safe-not-allowed"
    SAFE_ADMIN_CHANGE = "safe-admin-change"
    SAFE_GAS_REFUND = "safe-gas-refund"
    SAFE_VERSION = "safe-version"
    SAFE_MESSAGE = "safe-message"
    MESSAGE_IS_HASH = "message-is-hash"
    MESSAGE_NOT_ALLOWED = "message-not-allowed"
    TRANSACTION_TYPE = "transaction-type"
    UNDECODABLE = "undecodable"
    DANGER_WARNING = "danger-warning"


@dataclass(frozen=True, slots=True)
class RuleHit:
    """A rule that decided: its TOML table path or key (``limit[0].per_24h``), line, reason.

    For a default-deny refusal ``rule`` names the table that lacks an entry
    (``destination``) and ``line`` is None. ``code`` is a :class:`RefusalCode` for refusals
    and empty for rules that allowed something.
    """

    rule: str
    reason: str
    line: int | None = None
    code: str = ""

    def __str__(self) -> str:
        where = self.rule if self.line is None else f"{self.rule} (line {self.line})"
        return f"{where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What a person must type to acknowledge the warnings listed in ``codes``."""

    codes: tuple[str, ...]
    messages: tuple[str, ...]
    prompt: str
    expected: str

    def accepts(self, typed: str) -> bool:
        """True when ``typed`` is the expected text (case-insensitively, spaces trimmed)."""
        return typed.strip().lower() == self.expected.lower()


@dataclass(frozen=True, slots=True)
class Spend:
    """An amount of one asset that counts toward the rolling window once signed."""

    asset: AssetKey
    amount: int


@dataclass(frozen=True, slots=True)
class Verdict:
    """The policy's decision on one request and the rules that made it.

    ``refusals`` lists every refusing rule (the decision is REFUSE when there is one);
    ``allowed_by`` the rules that allowed what was asked; ``confirmation`` is set exactly
    when the decision is NEEDS_CONFIRMATION. ``spends`` is what the request adds to the
    24-hour window once signed (the caller records it in the limits store).
    """

    decision: Decision
    policy_hash: bytes
    refusals: tuple[RuleHit, ...] = ()
    allowed_by: tuple[RuleHit, ...] = ()
    confirmation: Confirmation | None = None
    spends: tuple[Spend, ...] = ()

    def __post_init__(self) -> None:
        # The decision is a function of the parts: constructing an inconsistent verdict is a bug.
        if (self.decision is Decision.REFUSE) != bool(self.refusals):
            raise ValueError("a verdict refuses exactly when it lists a refusing rule")
        if (self.decision is Decision.NEEDS_CONFIRMATION) != (self.confirmation is not None):
            raise ValueError("a confirmation is given exactly for NEEDS_CONFIRMATION")

    @property
    def deciding(self) -> tuple[RuleHit, ...]:
        """The rules that decided: the refusals when refused, else the allowing rules."""
        return self.refusals if self.refusals else self.allowed_by

    def refusal_codes(self) -> frozenset[str]:
        """The codes of every refusal."""
        return frozenset(hit.code for hit in self.refusals)


@dataclass(frozen=True, slots=True)
class BatchVerdict:
    """One verdict per batch item, in order, with the batch's limit accounting applied.

    ``decision`` is REFUSE when any item is refused, else NEEDS_CONFIRMATION when any item
    needs it, else SIGN. ``spends`` sums what the items that are not refused add up to.
    """

    items: tuple[Verdict, ...]
    policy_hash: bytes

    @property
    def decision(self) -> Decision:
        decisions = {item.decision for item in self.items}
        if Decision.REFUSE in decisions:
            return Decision.REFUSE
        if Decision.NEEDS_CONFIRMATION in decisions:
            return Decision.NEEDS_CONFIRMATION
        return Decision.SIGN

    @property
    def spends(self) -> tuple[Spend, ...]:
        totals: dict[AssetKey, int] = {}
        for item in self.items:
            if item.decision is Decision.REFUSE:
                continue
            for spend in item.spends:
                totals[spend.asset] = totals.get(spend.asset, 0) + spend.amount
        ordered = sorted(totals.items(), key=lambda pair: pair[0].sort_key())
        return tuple(Spend(asset, amount) for asset, amount in ordered)
