"""``evaluate``: review, policy and context in, verdict out (default deny; any refusal wins).

Order of judgement, every step recording what it allowed or refused (all refusals are
reported, not just the first):

1. operator attestation, when the policy pins operator keys;
2. the account (derivation path) and the chain;
3. what is signed: a transaction (fee caps, then its call tree), a Safe transaction, or a
   message (personal_sign, EIP-712, Permit, Permit2, Safe message);
4. every payment the walk found: destination allowlist, limit per transaction and over the
   rolling 24 hours (what the limits store counted plus this request; a re-sign or fee bump
   of a transaction the store counted replaces that spend, see ``Context.counted``);
5. the review's warnings: DANGER ones that no rule explicitly allowed refuse; WARNING ones
   that no rule explicitly allowed ask a person to confirm.

The verdict is a pure function of its inputs; the caller reads the window's spending from
the limits store before and records the verdict's ``spends`` after signing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache
from types import MappingProxyType

from shared.address import Address
from shared.calls import KnownCall
from shared.errors import DecodeError, RefusedTransactionTypeError
from shared.messages import SafeMessage
from shared.review import BatchReview, Review, ReviewKind, ReviewWarning, Severity, WarningCode
from shared.tx import Transaction
from signer.keys.bip32 import DerivationPath
from signer.policy.judge import Context, Judge
from signer.policy.messages import (
    judge_permit,
    judge_permit2,
    judge_personal,
    judge_safe_message,
    judge_typed,
)
from signer.policy.model import AssetKey, Policy, SafeRule
from signer.policy.tree import TreeWalk
from signer.policy.verdict import (
    BatchVerdict,
    Confirmation,
    Decision,
    RefusalCode,
    RuleHit,
    Spend,
    Verdict,
)

# How many trailing characters of an address (or hash) a person types to confirm.
CONFIRM_CHARACTERS = 6
# What the window counts for a request never signed before.
_NOTHING: Mapping[AssetKey, int] = MappingProxyType({})
# The rule named when a DANGER warning is left that no rule allowed (design §6).
DANGER_RULE = "default-deny"


def evaluate(review: Review, *, policy: Policy, context: Context) -> Verdict:
    """The policy's verdict on one reviewed request."""
    judge = Judge(policy, context)
    _who_and_where(judge, review.chain_id)
    return _what(judge, review, ())


def evaluate_batch(
    batch: BatchReview,
    *,
    policy: Policy,
    context: Context,
    paths: Sequence[DerivationPath | None],
    counted: Sequence[Mapping[AssetKey, int]] | None = None,
) -> BatchVerdict:
    """A verdict per batch item, in order, counting earlier items toward the 24-hour window.

    ``paths[i]`` is the derivation path of item ``i`` and ``counted[i]`` (none when not
    given) what the window already counts for item ``i`` itself, as in
    :attr:`Context.counted`; ``context.path`` and ``context.counted`` are not used. An item
    that is refused adds nothing to the window: later items are judged as if it were not
    signed. Batch-level warnings (``duplicate-nonce``) are judged with the item they name.
    """
    if len(paths) != len(batch.items):
        raise ValueError("evaluate_batch needs one derivation path per batch item")
    if counted is not None and len(counted) != len(batch.items):
        raise ValueError("evaluate_batch needs what is counted for each batch item")
    extras = _batch_warnings(batch)
    running = dict(context.spent)
    # Operator, account and chain are judged once per (derivation path, chain): a batch
    # usually names one of each. Each item's judge starts from that judgement and reads the
    # window's running totals, taken before the item's own spends are added.
    starts: dict[tuple[DerivationPath | None, int | None], Judge] = {}
    hits: dict[tuple[str, str, int], RuleHit] = {}
    verdicts: list[Verdict] = []
    for index, review in enumerate(batch.items):
        path, chain_id = paths[index], review.chain_id
        start = starts.get((path, chain_id))
        if start is None:
            start = Judge(policy, replace(context, path=path), hits=hits)
            _who_and_where(start, chain_id)
            starts[(path, chain_id)] = start
        own = _NOTHING if counted is None else counted[index]
        verdict = _what(start.fork(spent=running, counted=own), review, extras.get(index, ()))
        verdicts.append(verdict)
        if verdict.decision is not Decision.REFUSE:
            for spend in verdict.spends:
                added = _added(spend.amount, own.get(spend.asset, 0)) if own else spend.amount
                running[spend.asset] = running.get(spend.asset, 0) + added
    return BatchVerdict(tuple(verdicts), policy.sha256)


def refuse_undecodable(error: DecodeError, *, policy: Policy) -> Verdict:
    """The verdict for a request the review refused to decode (no review exists).

    EIP-4844 and EIP-7702 transactions arrive here: the decoder recognises and refuses them,
    and no policy key can allow what the signer cannot show.
    """
    if isinstance(error, RefusedTransactionTypeError):
        hit = RuleHit(
            "transaction-type",
            f"{error.eip} transactions (type 0x{error.tx_type:02x}) are refused: {error.reason}",
            None,
            RefusalCode.TRANSACTION_TYPE.value,
        )
    else:
        hit = RuleHit(
            "decode",
            f"the request could not be fully decoded ({error}): nothing undecoded is signed",
            None,
            RefusalCode.UNDECODABLE.value,
        )
    return Verdict(Decision.REFUSE, policy.sha256, refusals=(hit,))


def _who_and_where(judge: Judge, chain_id: int | None) -> None:
    """Steps 1 and 2: the operator's attestation, the account and the chain."""
    _operator(judge)
    _account(judge)
    _chain(judge, chain_id)


def _what(judge: Judge, review: Review, extra: tuple[ReviewWarning, ...]) -> Verdict:
    """Steps 3 to 5 on a judge that has judged who and where: the verdict."""
    _subject(judge, review)
    spends = _payments(judge, review)
    confirm = _warnings(judge, review.warnings + extra)
    return _verdict(judge, review, spends, confirm)


def _batch_warnings(batch: BatchReview) -> dict[int, tuple[ReviewWarning, ...]]:
    """Warnings of the batch that no single item raised, by the item they name."""
    if not batch.warnings:
        return {}
    per_item = Counter(
        (w.code, _prefix(index, w.path), w.message)
        for index, review in enumerate(batch.items)
        for w in review.warnings
    )
    found: dict[int, list[ReviewWarning]] = {}
    for warning in batch.warnings:
        key = (warning.code, warning.path, warning.message)
        if per_item[key]:
            per_item[key] -= 1
            continue
        for index in range(len(batch.items)):
            head = f"requests[{index}]"
            if warning.path == head or warning.path.startswith(head + "."):
                found.setdefault(index, []).append(replace(warning, path="batch"))
                break
    return {index: tuple(warnings) for index, warnings in found.items()}


def _prefix(index: int, path: str) -> str:
    return f"requests[{index}].{path}" if path else f"requests[{index}]"


# --- who and where -------------------------------------------------------------------------


def _operator(judge: Judge) -> None:
    operators = judge.policy.operators
    if not operators:
        return
    attested = judge.context.attested_by
    rule = next((r for r in operators if r.address == attested), None)
    if attested is None or rule is None:
        judge.refuse(
            RefusalCode.OPERATOR_ATTESTATION,
            "the policy pins operator keys and the request carries no valid attestation "
            "by one of them",
            rule="operator",
        )
        return
    judge.allow(rule.ref, f"attested by {rule.label or attested.checksummed()}")


def _account(judge: Judge) -> None:
    path = judge.context.path
    if path is None:
        judge.refuse(
            RefusalCode.ACCOUNT_NOT_ALLOWED, "the request names no derivation path", rule="account"
        )
        return
    rule = judge.policy.account(path)
    if rule is None:
        judge.refuse(
            RefusalCode.ACCOUNT_NOT_ALLOWED,
            f"{path} is not an [[account]] of the policy",
            rule="account",
        )
        return
    if path not in judge.context.enrolled:
        judge.refuse(
            RefusalCode.ACCOUNT_NOT_ENROLLED,
            f"{path} is allowed by the policy but not enrolled in this signer's vault",
            rule=rule.ref,
        )
        return
    judge.allow(rule.ref, f"account {rule.label or path}")


def _chain(judge: Judge, chain_id: int | None) -> None:
    if chain_id is None:
        return
    rule = judge.policy.chain(chain_id)
    if rule is None:
        judge.refuse(
            RefusalCode.CHAIN_NOT_ALLOWED,
            f"chain {chain_id} is not a [[chain]] of the policy",
            rule="chain",
        )
        return
    judge.allow(rule.ref, f"chain {rule.label or chain_id}")
    # The operator listed the chain: the registry not knowing it needs no confirmation.
    judge.cover(WarningCode.UNKNOWN_CHAIN)


# --- what is signed ------------------------------------------------------------------------


def _subject(judge: Judge, review: Review) -> None:
    kind = review.kind
    if kind is ReviewKind.TRANSACTION:
        _transaction(judge, review)
    elif kind is ReviewKind.SAFE_TX:
        _safe_tx(judge, review)
    elif kind is ReviewKind.PERSONAL_MESSAGE:
        judge_personal(judge, review)
    elif kind is ReviewKind.TYPED_DATA:
        judge_typed(judge, review)
    elif kind is ReviewKind.PERMIT:
        judge_permit(judge, review)
    elif kind is ReviewKind.PERMIT2:
        judge_permit2(judge, review)
    elif kind is ReviewKind.SAFE_MESSAGE:
        _safe_message(judge, review)
    else:
        raise ValueError(f"no policy rule for review kind {kind}")


def _transaction(judge: Judge, review: Review) -> None:
    transaction, call = review.subject.transaction, review.subject.call
    if transaction is None or call is None:
        raise ValueError("a transaction review keeps its transaction and call tree")
    _fees(judge, transaction)
    TreeWalk(judge, transaction.chain_id).transaction(transaction.to, transaction.value, call)
    if transaction.to is not None:
        # A known call starts with its selector: no need to re-encode its arguments to know.
        has_data = isinstance(call, KnownCall) or call.calldata() != b""
        judge.look_at("contract" if has_data else "destination", transaction.to)


def _fees(judge: Judge, transaction: Transaction) -> None:
    rule = judge.policy.chain(transaction.chain_id)
    if rule is None:
        return
    per_gas, total = transaction.fee_cap_per_gas(), transaction.max_fee_cost()
    if rule.max_fee_per_gas is None or rule.max_total_fee is None:
        judge.refuse(
            RefusalCode.NO_FEE_CAP,
            f"chain {transaction.chain_id} has no max_fee_per_gas_gwei and "
            "max_total_fee_native: transactions on it are not signed",
            rule=rule.ref,
        )
        return
    ok = True
    if per_gas > rule.max_fee_per_gas:
        ok = False
        judge.refuse(
            RefusalCode.FEE_PER_GAS,
            f"the fee cap of {per_gas} wei per gas exceeds the policy's {rule.max_fee_per_gas}",
            rule=rule.ref.key("max_fee_per_gas_gwei"),
        )
    if total > rule.max_total_fee:
        ok = False
        judge.refuse(
            RefusalCode.FEE_TOTAL,
            f"the transaction may pay up to {total} wei in fees, more than the policy's "
            f"{rule.max_total_fee}",
            rule=rule.ref.key("max_total_fee_native"),
        )
    if ok:
        judge.allow(rule.ref, "fees within the chain's caps")


def _safe_tx(judge: Judge, review: Review) -> None:
    safe_tx = review.subject.safe_tx
    views = review.subject.safe_transactions
    if safe_tx is None or not views:
        raise ValueError("a SafeTx review keeps its SafeTx")
    view = views[0]
    rule = _safe_rule(judge, safe_tx.safe, safe_tx.chain_id)
    if rule is None:
        return
    judge.allow(rule.ref, f"Safe {rule.label or rule.address.checksummed()}")
    TreeWalk(judge, rule.chain_id).safe_transaction(rule, view)
    judge.look_at("Safe", safe_tx.safe)


def _safe_message(judge: Judge, review: Review) -> None:
    message = review.subject.recognised
    if not isinstance(message, SafeMessage):
        raise ValueError("a Safe message review keeps its SafeMessage")
    rule = _safe_rule(judge, message.safe, message.chain_id)
    if rule is None:
        return
    judge_safe_message(judge, review, rule)


def _safe_rule(judge: Judge, safe: Address, chain_id: int | None) -> SafeRule | None:
    """The ``[[safe]]`` for ``safe``: by chain, or for a pre-1.3.0 domain (no chain) the one
    rule with ``allow_pre_1_3``, whose chain then stands for the request's."""
    policy = judge.policy
    if chain_id is not None:
        rule = policy.safe(chain_id, safe)
        if rule is None:
            judge.refuse(
                RefusalCode.SAFE_NOT_ALLOWED,
                f"{safe.checksummed()} is not a [[safe]] of chain {chain_id}",
                rule="safe",
            )
        return rule
    listed = [r for r in policy.safes if r.address == safe]
    allowed = [r for r in listed if r.allow_pre_1_3]
    if len(allowed) == 1:
        rule = allowed[0]
        judge.allow(rule.ref.key("allow_pre_1_3"), "a Safe before 1.3.0 (no chain in its domain)")
        judge.cover(WarningCode.OLD_SAFE_VERSION)
        return rule
    reason = (
        "the Safe's domain names no chain (Safe before 1.3.0), and allow_pre_1_3 is not true"
        if not allowed
        else "the Safe's domain names no chain and several [[safe]] entries allow it"
    )
    where = listed[0].ref.key("allow_pre_1_3") if len(listed) == 1 else "safe"
    judge.refuse(RefusalCode.SAFE_VERSION, reason, rule=where)
    return None


# --- payments and limits -------------------------------------------------------------------


def _payments(judge: Judge, review: Review) -> tuple[Spend, ...]:
    """Check every payment the walk found; the per-asset sums this request adds."""
    policy = judge.policy
    # What the review's registry says of each asset, by (chain, token).
    decimals: dict[tuple[int, Address | None], int] = {}
    symbols: dict[tuple[int, Address | None], str] = {}
    for shown in review.payments:
        shown_asset = shown.asset
        if shown_asset.chain_id is None:
            continue
        key = (shown_asset.chain_id, shown_asset.token)
        symbols[key] = shown_asset.symbol
        if shown_asset.known and shown_asset.decimals is not None:
            decimals[key] = shown_asset.decimals
    _cross_check(judge, review)
    # Per asset: its name in reasons and the total this request pays of it.
    totals: dict[AssetKey, tuple[str, int]] = {}
    for payment in judge.payments:
        asset = payment.asset
        known_asset = totals.get(asset)
        if known_asset is None:
            symbol = symbols.get((asset.chain_id, asset.token))
            name, total = _asset_name(asset, symbol), payment.amount
        else:
            name, total = known_asset[0], known_asset[1] + payment.amount
        totals[asset] = (name, total)
        if payment.destination is None:
            judge.refuse(
                RefusalCode.DESTINATION_NOT_ALLOWED,
                f"{name} sent to a contract being created",
                rule="destination",
                path=payment.path,
            )
            continue
        _destination(judge, payment.destination, asset, name, payment.path)
    spends: list[Spend] = []
    ordered = sorted(totals.items(), key=_by_asset) if len(totals) > 1 else totals.items()
    for asset, (name, total) in ordered:
        spends.append(Spend(asset, total))
        limit = policy.limit(asset)
        if limit is None:
            judge.refuse(
                RefusalCode.NO_LIMIT,
                f"no [[limit]] for {name}: an asset without limits is not paid out",
                rule="limit",
            )
            continue
        known = decimals.get((asset.chain_id, asset.token))
        if known is not None and known != limit.decimals:
            judge.refuse(
                RefusalCode.DECIMALS_MISMATCH,
                f"the limit says {name} has {limit.decimals} decimals; the registry says {known}",
                rule=limit.ref.key("decimals"),
            )
            continue
        spent = judge.spent.get(asset, 0)
        own = judge.counted.get(asset, 0) if judge.counted else 0
        added = _added(total, own) if own else total
        if total > limit.per_tx:
            judge.refuse(
                RefusalCode.PER_TX_LIMIT,
                f"{total} base units of {name} exceed the per-transaction limit of {limit.per_tx}",
                rule=limit.ref.key("per_tx"),
            )
        elif spent + added > limit.per_24h:
            earlier = f", {own} of them by this transaction signed before" if own else ""
            judge.refuse(
                RefusalCode.WINDOW_LIMIT,
                f"{spent} base units of {name} were signed in the last 24 hours{earlier}; "
                f"{added} more would exceed the 24-hour limit of {limit.per_24h}",
                rule=limit.ref.key("per_24h"),
            )
        else:
            judge.allow(limit.ref, f"{name} within limits")
    return tuple(spends)


def _added(total: int, own: int) -> int:
    """What signing a request that pays ``total`` adds to the window that already counts
    ``own`` of it: a re-sign or a fee bump replaces its own earlier spend (the limits store
    records a spend id once), so only what it pays beyond that is new. Never negative."""
    return total - own if total > own else 0


def _destination(judge: Judge, destination: Address, asset: AssetKey, name: str, path: str) -> None:
    rule = judge.policy.destination(asset.chain_id, destination)
    if rule is None:
        judge.refuse(
            RefusalCode.DESTINATION_NOT_ALLOWED,
            f"{destination.checksummed()} is not an allowed destination on chain {asset.chain_id}",
            rule="destination",
            path=path,
        )
    elif asset not in rule.assets:
        judge.refuse(
            RefusalCode.DESTINATION_NOT_ALLOWED,
            f"{rule.label} ({destination.checksummed()}) may not receive {name}",
            rule=rule.ref.key("assets"),
            path=path,
        )
    else:
        judge.allow(rule.ref, f"{rule.label} may receive {name}")


def _cross_check(judge: Judge, review: Review) -> None:
    """Refuse when the review shows other payments than the policy walk found.

    Both read the same decoded call tree, so they agree unless one of them is wrong; the
    person must never approve amounts the policy did not check. Compared only when the walk
    refused nothing (a refused call is not walked into), and on (destination, token, amount):
    a review of a chain-less Safe domain does not know the chain the policy judged it on.
    """
    if judge.refusals:
        return
    shown = [(p.destination, p.asset.token, p.amount) for p in review.payments]
    checked = [(p.destination, p.asset.token, p.amount) for p in judge.payments]
    # Usually listed in the same order; otherwise the multisets are compared.
    if shown != checked and Counter(shown) != Counter(checked):
        judge.refuse(
            RefusalCode.UNDECODABLE,
            "the payments shown differ from the payments the policy checked",
            rule="decode",
        )


def _by_asset(item: tuple[AssetKey, tuple[str, int]]) -> tuple[int, bytes]:
    return item[0].sort_key()


# Safe to share: a pure function of two immutable values. A token's name checksums its
# address (a Keccak-256), once per asset instead of once per payment. Bounded.
@lru_cache(maxsize=1024, typed=True)
def _asset_name(asset: AssetKey, symbol: str | None) -> str:
    if symbol and symbol != "?":
        return f"{symbol} ({asset.describe()})"
    return asset.describe()


# --- warnings and the verdict --------------------------------------------------------------


def _warnings(judge: Judge, warnings: tuple[ReviewWarning, ...]) -> list[ReviewWarning]:
    """Refuse uncovered DANGER warnings; the WARNING ones a person must confirm."""
    confirm: list[ReviewWarning] = []
    for warning in warnings:
        if judge.is_covered(warning.code, warning.path):
            continue
        if warning.severity is Severity.DANGER:
            if warning.path in judge.refused_paths:
                continue
            judge.refuse(
                RefusalCode.DANGER_WARNING,
                f"{warning.code.value}: {warning.message} (no rule allows it)",
                rule=DANGER_RULE,
                path=warning.path,
            )
        elif warning.severity is Severity.WARNING:
            confirm.append(warning)
    return confirm


def _verdict(
    judge: Judge, review: Review, spends: tuple[Spend, ...], confirm: list[ReviewWarning]
) -> Verdict:
    policy_hash = judge.policy.sha256
    if judge.refusals:
        return Verdict(Decision.REFUSE, policy_hash, tuple(judge.refusals), judge.allowed)
    if confirm:
        return Verdict(
            Decision.NEEDS_CONFIRMATION,
            policy_hash,
            (),
            judge.allowed,
            _confirmation(judge, review, confirm),
            spends,
        )
    return Verdict(Decision.SIGN, policy_hash, (), judge.allowed, None, spends)


def _confirmation(judge: Judge, review: Review, confirm: list[ReviewWarning]) -> Confirmation:
    codes = tuple(dict.fromkeys(w.code.value for w in confirm))
    messages = tuple(w.message for w in confirm)
    if judge.focus is not None:
        what, address = judge.focus
        text = address.checksummed()
        return Confirmation(
            codes,
            messages,
            f"Type the last {CONFIRM_CHARACTERS} characters of the {what} {text}",
            text[-CONFIRM_CHARACTERS:],
        )
    digest = "0x" + review.signing_hash.hex()
    return Confirmation(
        codes,
        messages,
        f"Type the last {CONFIRM_CHARACTERS} characters of the signing hash {digest}",
        digest[-CONFIRM_CHARACTERS:],
    )
