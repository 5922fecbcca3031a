"""Ledger.record_many: a batch decided in order and committed whole, or not at all."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from signer.errors import EquivocationError, LedgerError, ReplayedRequestError
from signer.ledger import Ledger, LedgerDecision, LedgerEntry, NonceKind, Outcome, payload_digest

ROOT = Path(__file__).resolve().parents[2]
ALICE = bytes.fromhex("11" * 20)
BOB = bytes.fromhex("22" * 20)


def entry(
    payload: bytes,
    *,
    nonce: int = 7,
    account: bytes = ALICE,
    fee_neutral: bytes | None = None,
    max_fee: int = 30,
    request_id: bytes | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        kind=NonceKind.ACCOUNT,
        chain_id=1,
        account=account,
        nonce=nonce,
        payload_digest=payload_digest(payload),
        fee_neutral_digest=payload_digest(fee_neutral if fee_neutral is not None else payload),
        max_fee=max_fee,
        priority_fee=1,
        request_id=request_id,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite") as opened:
        yield opened


def outcomes(results: tuple[LedgerDecision | LedgerError, ...]) -> list[object]:
    return [
        type(result).__name__ if isinstance(result, LedgerError) else result.outcome
        for result in results
    ]


def test_each_entry_is_decided_after_the_ones_before_it(ledger: Ledger) -> None:
    ledger.record(entry(b"old", nonce=1))
    results = ledger.record_many(
        [
            entry(b"a", nonce=5),
            entry(b"b", nonce=5),  # another payload for a nonce the batch just took
            entry(b"a", nonce=5),  # the same payload again in the batch
            entry(b"a-", nonce=5, fee_neutral=b"a", max_fee=29),  # a lower fee: no bump
            entry(b"old", nonce=1),
            entry(b"c", nonce=6, account=BOB),
        ]
    )
    assert outcomes(results) == [
        Outcome.NEW,
        "EquivocationError",
        Outcome.IDENTICAL,
        "EquivocationError",
        Outcome.IDENTICAL,
        Outcome.NEW,
    ]
    assert ledger.check(entry(b"a", nonce=5)).outcome is Outcome.IDENTICAL
    with pytest.raises(EquivocationError):
        ledger.check(entry(b"b", nonce=5))
    assert ledger.check(entry(b"c", nonce=6, account=BOB)).outcome is Outcome.IDENTICAL


def test_a_fee_bump_inside_a_batch_is_a_replacement(ledger: Ledger) -> None:
    first = entry(b"t|30", fee_neutral=b"t", max_fee=30)
    bumped = entry(b"t|40", fee_neutral=b"t", max_fee=40)
    results = ledger.record_many([first, bumped])
    assert outcomes(results) == [Outcome.NEW, Outcome.REPLACEMENT]
    assert isinstance(results[1], LedgerDecision)
    assert results[1].replaces == first.payload_digest


def test_a_request_id_reused_inside_a_batch_is_refused(ledger: Ledger) -> None:
    rid = b"\x07" * 16
    results = ledger.record_many(
        [entry(b"a", nonce=1, request_id=rid), entry(b"b", nonce=2, request_id=rid)]
    )
    assert isinstance(results[1], ReplayedRequestError)
    assert ledger.check(entry(b"b", nonce=2)).outcome is Outcome.NEW


def test_an_empty_batch_writes_nothing(ledger: Ledger) -> None:
    assert ledger.record_many([]) == ()


def test_a_storage_failure_records_none_of_the_batch(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    ticks = iter([1, 2])

    def clock() -> int:
        # The third record's clock read fails, as a disk error part-way would.
        for tick in ticks:
            return tick
        raise OSError("clock failed")

    with Ledger.open(path, clock=clock) as ledger, pytest.raises(OSError):
        ledger.record_many([entry(b"a", nonce=1), entry(b"b", nonce=2), entry(b"c", nonce=3)])
    with Ledger.open(path) as ledger:
        for nonce, payload in ((1, b"a"), (2, b"b"), (3, b"c")):
            assert ledger.check(entry(payload, nonce=nonce)).outcome is Outcome.NEW


_KILLED_BATCHES = textwrap.dedent(
    """
    import sys
    from signer.ledger import Ledger, LedgerEntry, NonceKind, payload_digest
    alice = bytes.fromhex("11" * 20)
    with Ledger.open(sys.argv[1]) as ledger:
        batch = 0
        while True:
            entries = []
            for i in range(50):
                digest = payload_digest(b"%d" % (batch * 50 + i))
                entries.append(
                    LedgerEntry(NonceKind.ACCOUNT, 1, alice, batch * 50 + i, digest, digest, 1, 1)
                )
            ledger.record_many(entries)
            print(batch, flush=True)
            batch += 1
    """
)


def test_kill_9_during_batches_leaves_whole_batches_only(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_BATCHES, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = -1
    while acknowledged < 8:
        acknowledged = int(writer.stdout.readline())
    writer.kill()
    writer.communicate()
    db = sqlite3.connect(path)
    try:
        count = db.execute("SELECT count(*) FROM signature").fetchone()[0]
    finally:
        db.close()
    # Whole batches of 50 only, and at least every acknowledged one.
    assert count % 50 == 0 and count >= (acknowledged + 1) * 50
