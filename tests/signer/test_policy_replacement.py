"""A fee bump of a signed transaction replaces its spend in the 24-hour window, never adds to it.

The limits store records a spend once per spend id (``signer.nonces.spend_id``: the nonce key
and the fee-neutral digest), so a re-sign or a fee bump adds nothing when recorded; the
policy must judge it the same way (``Context.counted``), or a legitimate bump near the limit
is refused. Anything else at the same nonce is the nonce ledger's to refuse.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from usdclimit import (
    NOW,
    PATH,
    POLICY,
    REGISTRIES,
    UNIT,
    USDC_KEY,
    usdc_request,
)

from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from shared.review import BatchReview, Review, review_batch, review_request
from signer.errors import EquivocationError
from signer.ledger import Ledger, LedgerEntry, Outcome
from signer.nonces import ledger_entry, spend_id
from signer.policy import (
    AssetKey,
    Context,
    Decision,
    LimitStore,
    RefusalCode,
    Spend,
    Verdict,
    evaluate,
    evaluate_batch,
)
from signer.policy.limits import SignedSpends
from signer.signing import compute_digest

SIGNER = bytes.fromhex("f39fd6e51aad88f6f4ce6ab8827279cfffb92266")


def batch_of(*requests: EthSignRequest) -> BatchReview:
    return review_batch(EthBatchSignRequest(requests), REGISTRIES)


class Signer:
    """The signer's two state files as the core uses them around a verdict.

    ``counted`` stands in for the limits-store query the core makes before judging: what the
    store recorded under the request's spend id, inside the window.
    """

    def __init__(self, folder: Path) -> None:
        self.ledger = Ledger.open(folder / "ledger.sqlite", clock=lambda: NOW)
        self.store = LimitStore.open(folder / "limits.sqlite")
        self.recorded: dict[bytes, tuple[Spend, ...]] = {}

    def close(self) -> None:
        self.ledger.close()
        self.store.close()

    def identify(self, request: EthSignRequest, review: Review) -> tuple[bytes, LedgerEntry]:
        computed = compute_digest(request, transaction=review.subject.transaction)
        entry = ledger_entry(review, computed, SIGNER, None, unsigned_payload=request.sign_data)
        assert entry is not None
        return spend_id(entry, computed.digest, SIGNER), entry

    def counted(self, request: EthSignRequest, review: Review) -> dict[AssetKey, int]:
        ident, _ = self.identify(request, review)
        return {spend.asset: spend.amount for spend in self.recorded.get(ident, ())}

    def judge(self, request: EthSignRequest, *, replaces: bool = True) -> Verdict:
        review = review_request(request, REGISTRIES)
        counted = self.counted(request, review) if replaces else {}
        context = Context(
            enrolled=frozenset({PATH}),
            now=NOW,
            path=PATH,
            spent=self.store.spent(now=NOW),
            counted=counted,
        )
        return evaluate(review, policy=POLICY, context=context)

    def sign(self, request: EthSignRequest) -> tuple[Verdict, Outcome]:
        """Judge, then (when allowed) record in the ledger and the limits store."""
        verdict = self.judge(request)
        assert verdict.decision is Decision.SIGN, verdict.refusals
        review = review_request(request, REGISTRIES)
        ident, entry = self.identify(request, review)
        decision = self.ledger.record(entry)
        self.store.record_signed([SignedSpends(ident, verdict.spends)], now=NOW)
        self.recorded.setdefault(ident, verdict.spends)
        return verdict, decision.outcome


@pytest.fixture
def signer(tmp_path: Path) -> Iterator[Signer]:
    made = Signer(tmp_path)
    yield made
    made.close()


def test_a_fee_bump_at_the_limit_is_signed(signer: Signer) -> None:
    original, bump = usdc_request(600), usdc_request(600, max_fee_gwei=60)
    signer.sign(original)
    # Without knowing the bump replaces the original, it looks like 600 + 600 > 1,000.
    assert signer.judge(bump, replaces=False).refusal_codes() == {RefusalCode.WINDOW_LIMIT.value}
    verdict, outcome = signer.sign(bump)
    assert verdict.decision is Decision.SIGN
    assert outcome is Outcome.REPLACEMENT
    # The store counted the spend id once: the window holds one 600.
    assert signer.store.spent(now=NOW) == {USDC_KEY: 600 * UNIT}
    # A second bump is judged the same way.
    assert signer.judge(usdc_request(600, max_fee_gwei=90)).decision is Decision.SIGN


def test_a_different_payload_at_the_same_nonce_is_refused_by_the_ledger(signer: Signer) -> None:
    signer.sign(usdc_request(600))
    other = usdc_request(300)
    verdict = signer.judge(other)
    # Another payload has another spend id: nothing of the window is its own...
    assert signer.counted(other, review_request(other, REGISTRIES)) == {}
    # ...so 600 + 300 fits the window, and it is the ledger that refuses the second payload.
    assert verdict.decision is Decision.SIGN
    _, entry = signer.identify(other, review_request(other, REGISTRIES))
    with pytest.raises(EquivocationError, match="different payload"):
        signer.ledger.record(entry)


def test_two_different_nonces_still_add(signer: Signer) -> None:
    signer.sign(usdc_request(600, nonce=1))
    verdict = signer.judge(usdc_request(600, nonce=2))
    assert verdict.refusal_codes() == {RefusalCode.WINDOW_LIMIT.value}
    assert verdict.refusals[0].reason == (
        f"{600 * UNIT} base units of USDC ({USDC_KEY.describe()}) were signed in the last 24"
        f" hours; {600 * UNIT} more would exceed the 24-hour limit of {1000 * UNIT}"
    )


def test_in_a_batch_two_different_nonces_still_add() -> None:
    batch = batch_of(usdc_request(600, nonce=1), usdc_request(600, nonce=2))
    context = Context(enrolled=frozenset({PATH}), now=NOW)
    verdict = evaluate_batch(
        batch, policy=POLICY, context=context, paths=[PATH, PATH], counted=[{}, {}]
    )
    assert [item.decision for item in verdict.items] == [Decision.SIGN, Decision.REFUSE]


def test_in_a_batch_a_bump_adds_nothing_to_the_running_total() -> None:
    # 600 were signed at nonce 1; the batch bumps it and pays 300 at nonce 2: 600 + 300 fits.
    batch = batch_of(usdc_request(600, max_fee_gwei=60), usdc_request(300, nonce=2))
    context = Context(enrolled=frozenset({PATH}), now=NOW, spent={USDC_KEY: 600 * UNIT})
    counted = [{USDC_KEY: 600 * UNIT}, {}]
    verdict = evaluate_batch(
        batch, policy=POLICY, context=context, paths=[PATH] * 2, counted=counted
    )
    assert [item.decision for item in verdict.items] == [Decision.SIGN, Decision.SIGN]
    # Without it the bump is refused and 300 is judged against 600 alone.
    plain = evaluate_batch(batch, policy=POLICY, context=context, paths=[PATH] * 2)
    assert [item.decision for item in plain.items] == [Decision.REFUSE, Decision.SIGN]


def test_a_bump_into_a_window_already_over_the_limit_is_refused() -> None:
    # The limit was lowered after the original was signed: the window holds more than it.
    review = review_request(usdc_request(600, max_fee_gwei=60), REGISTRIES)
    context = Context(
        enrolled=frozenset({PATH}),
        now=NOW,
        path=PATH,
        spent={USDC_KEY: 1100 * UNIT},
        counted={USDC_KEY: 600 * UNIT},
    )
    verdict = evaluate(review, policy=POLICY, context=context)
    assert verdict.refusal_codes() == {RefusalCode.WINDOW_LIMIT.value}
    assert verdict.refusals[0].reason == (
        f"{1100 * UNIT} base units of USDC ({USDC_KEY.describe()}) were signed in the last 24"
        f" hours, {600 * UNIT} of them by this transaction signed before; 0 more would exceed"
        f" the 24-hour limit of {1000 * UNIT}"
    )
    assert verdict.refusals[0].rule == "limit[0].per_24h"


def test_counted_is_given_per_batch_item() -> None:
    batch = batch_of(usdc_request(100))
    context = Context(enrolled=frozenset({PATH}), now=NOW)
    with pytest.raises(ValueError, match="counted for each batch item"):
        evaluate_batch(batch, policy=POLICY, context=context, paths=[PATH], counted=[])


def test_a_context_keeps_its_own_copy_of_counted() -> None:
    counted = {USDC_KEY: 5}
    context = Context(enrolled=frozenset({PATH}), now=NOW, counted=counted)
    counted[USDC_KEY] = 9
    assert context.counted == {USDC_KEY: 5}
    with pytest.raises(TypeError):
        context.counted[USDC_KEY] = 1  # type: ignore[index]
