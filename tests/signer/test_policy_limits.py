"""Rolling 24-hour limits: the SQLite store, two signings a day apart, and batch accounting."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from usdclimit import (
    NOW,
    PATH,
    POLICY,
    REGISTRIES,
    UNIT,
    USDC,
    USDC_KEY,
    usdc_request,
)

from shared.erc4527 import EthBatchSignRequest
from shared.review import review_batch, review_request
from signer.errors import LimitStoreError
from signer.policy import (
    AssetKey,
    BatchVerdict,
    Context,
    Decision,
    LimitStore,
    RefusalCode,
    Spend,
    Verdict,
    evaluate,
    evaluate_batch,
)
from signer.policy.limits import MAX_COUNTED_IDS, RETAIN_SECONDS, SignedSpends
from signer.policy.model import WINDOW_SECONDS

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600
NATIVE_KEY = AssetKey(1, None)


def context(now: int, spent: dict[AssetKey, int]) -> Context:
    return Context(enrolled=frozenset({PATH}), now=now, path=PATH, spent=spent)


def sign_one(store: LimitStore, amount: int, now: int) -> Verdict:
    """Judge one request with what the store counts, and record it when signed."""
    review = review_request(usdc_request(amount), REGISTRIES)
    verdict = evaluate(review, policy=POLICY, context=context(now, store.spent(now=now)))
    if verdict.decision is not Decision.REFUSE:
        store.record(verdict.spends, now=now, reference=review.signing_hash)
    return verdict


def judge_batch(amounts: list[int], spent: dict[AssetKey, int] | None = None) -> BatchVerdict:
    batch = EthBatchSignRequest(
        tuple(usdc_request(amount, nonce=nonce) for nonce, amount in enumerate(amounts))
    )
    review = review_batch(batch, REGISTRIES)
    return evaluate_batch(
        review,
        policy=POLICY,
        context=context(NOW, spent or {}),
        paths=[PATH] * len(amounts),
    )


# --- the store ------------------------------------------------------------------------------


def test_store_sums_the_window_per_asset(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        assert store.spent(now=NOW) == {}
        store.record([Spend(USDC_KEY, 5), Spend(NATIVE_KEY, 7)], now=NOW - 2 * HOUR)
        store.record([Spend(USDC_KEY, 3), Spend(NATIVE_KEY, 0)], now=NOW - HOUR)
        assert store.spent(now=NOW) == {USDC_KEY: 8, NATIVE_KEY: 7}
        # The window is (now - 24 h, ...]: a spend exactly 24 hours old has left it.
        assert store.spent(now=NOW - 2 * HOUR + WINDOW_SECONDS) == {USDC_KEY: 3}
        assert store.spent(now=NOW - HOUR + WINDOW_SECONDS) == {}


def test_amounts_beyond_64_bits_are_exact(tmp_path: Path) -> None:
    big = (1 << 255) + 12345
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        store.record([Spend(AssetKey((1 << 64) - 1, USDC), big)], now=NOW)
        store.record([Spend(AssetKey((1 << 64) - 1, USDC), big)], now=NOW)
        assert store.spent(now=NOW) == {AssetKey((1 << 64) - 1, USDC): 2 * big}


def test_spends_dated_after_now_still_count(tmp_path: Path) -> None:
    # The clock was set back after signing: the window must not open up.
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        store.record([Spend(USDC_KEY, 9)], now=NOW + 10 * HOUR)
        assert store.spent(now=NOW) == {USDC_KEY: 9}


def test_old_spends_are_pruned_on_record(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite"
    with LimitStore.open(path) as store:
        store.record([Spend(USDC_KEY, 1)], now=NOW)
        store.record([Spend(USDC_KEY, 2)], now=NOW + RETAIN_SECONDS)
    rows = sqlite3.connect(path).execute("SELECT count(*) FROM spend").fetchone()[0]
    assert rows == 1


def test_store_survives_reopening_and_an_abrupt_exit(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite"
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from shared.address import Address
        from signer.policy import AssetKey, LimitStore, Spend
        store = LimitStore.open({str(path)!r})
        token = Address(bytes.fromhex({USDC.raw.hex()!r}))
        store.record([Spend(AssetKey(1, token), 42)], now={NOW})
        os._exit(0)  # no close, no clean-up: as if killed right after recording
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    with LimitStore.open(path) as store:
        assert store.spent(now=NOW) == {USDC_KEY: 42}


def test_a_refused_record_writes_nothing(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        with pytest.raises(LimitStoreError, match="amount"):
            store.record([Spend(USDC_KEY, 5), Spend(USDC_KEY, -1)], now=NOW)
        with pytest.raises(LimitStoreError, match="chain id"):
            store.record([Spend(AssetKey(1 << 256, None), 1)], now=NOW)
        with pytest.raises(LimitStoreError, match="reference"):
            store.record([Spend(USDC_KEY, 5)], now=NOW, reference=bytes(65))
        assert store.spent(now=NOW) == {}


ONE, TWO, THREE = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32


def test_counted_sums_each_spend_id_inside_the_window(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        assert store.counted([ONE], now=NOW) == {}
        store.record_signed(
            [SignedSpends(ONE, (Spend(USDC_KEY, 5), Spend(NATIVE_KEY, 7)))], now=NOW - 2 * HOUR
        )
        store.record_signed([SignedSpends(TWO, (Spend(USDC_KEY, 3),))], now=NOW - HOUR)
        # Unkeyed rows count in the window but belong to no spend id.
        store.record([Spend(USDC_KEY, 11)], now=NOW)
        assert store.counted([ONE, TWO, THREE, ONE], now=NOW) == {
            ONE: {USDC_KEY: 5, NATIVE_KEY: 7},
            TWO: {USDC_KEY: 3},
        }
        assert store.counted([], now=NOW) == {}
        # The window of spent(): an id's rows leave it 24 hours after they were recorded...
        assert store.counted([ONE, TWO], now=NOW - 2 * HOUR + WINDOW_SECONDS) == {
            TWO: {USDC_KEY: 3}
        }
        # ...and rows dated after now (a clock set back) still count.
        assert store.counted([ONE], now=NOW - 10 * HOUR) == {ONE: {USDC_KEY: 5, NATIVE_KEY: 7}}


def test_what_is_counted_per_id_is_part_of_what_is_spent(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        for hours, spend_id in enumerate((ONE, TWO, THREE)):
            store.record_signed(
                [SignedSpends(spend_id, (Spend(USDC_KEY, 10 + hours),))], now=NOW + hours * HOUR
            )
        for now in (NOW, NOW + WINDOW_SECONDS, NOW + WINDOW_SECONDS + HOUR, NOW + 2 * HOUR):
            counted = store.counted([ONE, TWO, THREE], now=now)
            total = sum(amounts.get(USDC_KEY, 0) for amounts in counted.values())
            assert total == store.spent(now=now).get(USDC_KEY, 0)


def test_counted_is_one_query_of_bounded_size(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        store.record_signed([SignedSpends(ONE, (Spend(USDC_KEY, 5),))], now=NOW)
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        ids = [ONE, *(i.to_bytes(32, "big") for i in range(MAX_COUNTED_IDS - 1))]
        assert store.counted(ids, now=NOW) == {ONE: {USDC_KEY: 5}}
        assert len(statements) == 1
        with pytest.raises(LimitStoreError, match=f"at most {MAX_COUNTED_IDS} spend ids"):
            store.counted([*ids, TWO], now=NOW)
        assert len(statements) == 1


@pytest.mark.parametrize("spend_id", [b"", b"\x01" * 31, b"\x01" * 33, bytearray(32), "x" * 32])
def test_counted_refuses_a_malformed_spend_id(tmp_path: Path, spend_id: Any) -> None:
    with (
        LimitStore.open(tmp_path / "limits.sqlite") as store,
        pytest.raises(LimitStoreError, match="a spend id is 32 bytes"),
    ):
        store.counted([ONE, spend_id], now=NOW)


def test_a_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    with pytest.raises(LimitStoreError, match="not a coldsign limits store"):
        LimitStore.open(path)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LimitStoreError, match="unreadable or corrupted"):
        LimitStore.open(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite"
    LimitStore.open(path).close()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 99")
    connection.commit()
    connection.close()
    with pytest.raises(LimitStoreError, match="schema version 99"):
        LimitStore.open(path)


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LimitStoreError, match="cannot open"):
        LimitStore.open(tmp_path / "absent" / "limits.sqlite")


# --- the window across signings -------------------------------------------------------------


def test_rolling_window_across_two_signings(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        first = sign_one(store, 600, NOW)
        assert first.decision is Decision.SIGN, first.refusals
        second = sign_one(store, 500, NOW + 3 * HOUR)
        assert second.decision is Decision.REFUSE
        (hit,) = second.refusals
        assert hit.code == RefusalCode.WINDOW_LIMIT.value
        assert hit.rule == "limit[0].per_24h"
        assert "600000000 base units" in hit.reason
        # Up to the limit exactly is allowed; the refused request was not recorded.
        assert sign_one(store, 400, NOW + 4 * HOUR).decision is Decision.SIGN
        # Once the first signing is 24 hours old, its 600 leave the window.
        assert sign_one(store, 500, NOW + WINDOW_SECONDS - 1).decision is Decision.REFUSE
        assert sign_one(store, 500, NOW + WINDOW_SECONDS).decision is Decision.SIGN


# --- batches --------------------------------------------------------------------------------


def test_batch_items_count_in_order() -> None:
    verdict = judge_batch([600, 500, 400])
    decisions = [item.decision for item in verdict.items]
    # 600 signs; 600 + 500 crosses 1,000 and is refused; the third is judged as if the
    # second were not signed: 600 + 400 = 1,000 signs.
    assert decisions == [Decision.SIGN, Decision.REFUSE, Decision.SIGN]
    assert verdict.items[1].refusal_codes() == {RefusalCode.WINDOW_LIMIT.value}
    assert verdict.decision is Decision.REFUSE
    assert verdict.spends == (Spend(USDC_KEY, 1_000 * UNIT),)
    assert verdict.policy_hash == POLICY.sha256


def test_batch_starts_from_what_the_window_already_holds() -> None:
    verdict = judge_batch([300, 300], spent={USDC_KEY: 500 * UNIT})
    assert [item.decision for item in verdict.items] == [Decision.SIGN, Decision.REFUSE]


def test_batch_item_over_the_per_transaction_limit() -> None:
    verdict = judge_batch([701, 100])
    assert verdict.items[0].refusal_codes() == {RefusalCode.PER_TX_LIMIT.value}
    assert verdict.items[1].decision is Decision.SIGN


def test_batch_within_limits_signs() -> None:
    verdict = judge_batch([100, 200, 300])
    assert verdict.decision is Decision.SIGN
    assert verdict.spends == (Spend(USDC_KEY, 600 * UNIT),)


def test_batch_duplicate_nonce_needs_confirmation() -> None:
    batch = EthBatchSignRequest((usdc_request(100, nonce=5), usdc_request(200, nonce=5)))
    review = review_batch(batch, REGISTRIES)
    verdict = evaluate_batch(review, policy=POLICY, context=context(NOW, {}), paths=[PATH, PATH])
    assert verdict.items[0].decision is Decision.SIGN
    second = verdict.items[1]
    assert second.decision is Decision.NEEDS_CONFIRMATION
    assert second.confirmation is not None
    assert second.confirmation.codes == ("duplicate-nonce",)
    assert verdict.decision is Decision.NEEDS_CONFIRMATION


def test_batch_needs_one_path_per_item() -> None:
    batch = EthBatchSignRequest((usdc_request(100),))
    review = review_batch(batch, REGISTRIES)
    with pytest.raises(ValueError, match="one derivation path per batch item"):
        evaluate_batch(review, policy=POLICY, context=context(NOW, {}), paths=[])


def test_context_spent_is_a_snapshot() -> None:
    spent: dict[AssetKey, Any] = {USDC_KEY: 1}
    ctx = context(NOW, spent)
    spent[USDC_KEY] = 10**30
    assert ctx.spent[USDC_KEY] == 1
