"""Tests for the nonce ledger: re-sign, fee bump, equivocation, replay, persistence, crashes."""

from __future__ import annotations

import dataclasses
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from signer.errors import EquivocationError, LedgerError, ReplayedRequestError
from signer.ledger import Ledger, LedgerEntry, NonceKind, Outcome, payload_digest

ROOT = Path(__file__).resolve().parents[2]
ALICE = bytes.fromhex("11" * 20)
SAFE = bytes.fromhex("5a" * 20)


def entry(
    payload: bytes = b"tx-a",
    *,
    kind: NonceKind = NonceKind.ACCOUNT,
    account: bytes = ALICE,
    nonce: int = 7,
    chain_id: int = 1,
    fee_neutral: bytes | None = None,
    max_fee: int = 30_000_000_000,
    priority_fee: int = 1_000_000_000,
    request_id: bytes | None = None,
) -> LedgerEntry:
    return LedgerEntry(
        kind=kind,
        chain_id=chain_id,
        account=account,
        nonce=nonce,
        payload_digest=payload_digest(payload),
        fee_neutral_digest=payload_digest(fee_neutral if fee_neutral is not None else payload),
        max_fee=max_fee,
        priority_fee=priority_fee,
        request_id=request_id,
    )


def bump(base: bytes, max_fee: int, priority_fee: int, **kw: object) -> LedgerEntry:
    """A fee-bumped version of ``base``: same fee-neutral digest, other fee values."""
    return entry(
        base + f"|{max_fee}|{priority_fee}".encode(),
        fee_neutral=base,
        max_fee=max_fee,
        priority_fee=priority_fee,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.sqlite") as opened:
        yield opened


def test_a_new_nonce_is_new_and_recording_makes_a_resign_identical(ledger: Ledger) -> None:
    first = entry(b"tx-a", fee_neutral=b"tx-a-neutral")
    assert ledger.check(first).outcome is Outcome.NEW
    assert ledger.record(first).outcome is Outcome.NEW
    assert ledger.check(first).outcome is Outcome.IDENTICAL
    assert ledger.record(first).outcome is Outcome.IDENTICAL  # idempotent
    assert ledger.check_and_record(first).outcome is Outcome.IDENTICAL


def test_check_alone_records_nothing(ledger: Ledger) -> None:
    assert ledger.check(entry(b"tx-a")).outcome is Outcome.NEW
    assert ledger.check(entry(b"tx-b")).outcome is Outcome.NEW


def test_other_nonces_accounts_chains_and_spaces_are_independent(ledger: Ledger) -> None:
    ledger.record(entry(b"tx-a"))
    assert ledger.check(entry(b"tx-b", nonce=8)).outcome is Outcome.NEW
    assert ledger.check(entry(b"tx-b", account=bytes(20))).outcome is Outcome.NEW
    assert ledger.check(entry(b"tx-b", chain_id=10)).outcome is Outcome.NEW
    # The Safe nonce space is separate from the account nonce space of the same address.
    assert ledger.check(entry(b"tx-b", kind=NonceKind.SAFE)).outcome is Outcome.NEW


def test_a_fee_bump_is_a_replacement(ledger: Ledger) -> None:
    original = bump(b"tx", 30, 1)
    ledger.record(original)
    raised_both = bump(b"tx", 40, 2)
    decision = ledger.record(raised_both)
    assert decision.outcome is Outcome.REPLACEMENT
    assert decision.replaces == original.payload_digest
    # Only one fee raised, the other kept: still a bump, measured against the latest.
    priority_only = bump(b"tx", 40, 3)
    assert ledger.record(priority_only).replaces == raised_both.payload_digest
    # Every payload signed at the nonce may be re-signed.
    for signed in (original, raised_both, priority_only):
        assert ledger.check(signed).outcome is Outcome.IDENTICAL


@pytest.mark.parametrize(
    ("max_fee", "priority_fee"),
    [(29, 1), (30, 0), (29, 5), (50, 0)],
    ids=["max-fee-lowered", "priority-lowered", "max-lowered-priority-raised", "one-lowered"],
)
def test_a_fee_change_that_is_not_a_bump_is_refused(
    ledger: Ledger, max_fee: int, priority_fee: int
) -> None:
    ledger.record(bump(b"tx", 30, 1))
    with pytest.raises(EquivocationError, match="must not lower either fee"):
        ledger.check(bump(b"tx", max_fee, priority_fee))
    with pytest.raises(EquivocationError):
        ledger.record(bump(b"tx", max_fee, priority_fee))


def test_same_fees_with_another_payload_is_refused(ledger: Ledger) -> None:
    # Fee-neutral digests equal and fees equal, yet the payloads differ: not a bump.
    ledger.record(bump(b"tx", 30, 1))
    with pytest.raises(EquivocationError, match="must raise at least one"):
        ledger.check(entry(b"tx-other", fee_neutral=b"tx", max_fee=30, priority_fee=1))


def test_a_bump_below_an_earlier_replacement_is_refused(ledger: Ledger) -> None:
    ledger.record(bump(b"tx", 30, 1))
    ledger.record(bump(b"tx", 60, 3))
    with pytest.raises(EquivocationError):
        ledger.record(bump(b"tx", 45, 2))  # above the original, below the latest


def test_a_different_payload_at_a_used_nonce_is_refused(ledger: Ledger) -> None:
    ledger.record(entry(b"pay bob"))
    with pytest.raises(EquivocationError, match="nonce 7") as info:
        ledger.check(entry(b"pay mallory", max_fee=10**12))
    assert "0x" + ALICE.hex() in str(info.value)
    with pytest.raises(EquivocationError):
        ledger.record(entry(b"pay mallory"))
    assert ledger.check(entry(b"pay bob")).outcome is Outcome.IDENTICAL


def test_a_different_payload_at_a_used_safe_nonce_is_refused(ledger: Ledger) -> None:
    safe_tx = entry(
        b"safe-tx-1", kind=NonceKind.SAFE, account=SAFE, nonce=2**200, max_fee=0, priority_fee=0
    )
    assert ledger.record(safe_tx).outcome is Outcome.NEW
    with pytest.raises(EquivocationError, match="Safe"):
        ledger.record(
            dataclasses.replace(
                safe_tx,
                payload_digest=payload_digest(b"evil"),
                fee_neutral_digest=payload_digest(b"evil"),
            )
        )
    assert ledger.check(safe_tx).outcome is Outcome.IDENTICAL


def test_a_replayed_request_id_with_another_payload_is_refused(ledger: Ledger) -> None:
    rid = bytes(range(16))
    ledger.record(entry(b"tx-a", request_id=rid))
    # The same request again is a re-sign.
    assert ledger.check(entry(b"tx-a", request_id=rid)).outcome is Outcome.IDENTICAL
    with pytest.raises(ReplayedRequestError, match=rid.hex()):
        ledger.check(entry(b"tx-b", nonce=8, request_id=rid))
    with pytest.raises(ReplayedRequestError):
        ledger.record(entry(b"tx-b", nonce=8, request_id=rid))
    # The refused record wrote nothing: nonce 8 is still free.
    assert ledger.check(entry(b"tx-b", nonce=8)).outcome is Outcome.NEW


def test_a_resign_under_a_new_request_id_remembers_the_id(ledger: Ledger) -> None:
    ledger.record(entry(b"tx-a", request_id=b"\x01" * 16))
    assert ledger.record(entry(b"tx-a", request_id=b"\x02" * 16)).outcome is Outcome.IDENTICAL
    with pytest.raises(ReplayedRequestError):
        ledger.check(entry(b"tx-b", nonce=9, request_id=b"\x02" * 16))


def test_the_same_payload_with_other_fee_values_is_an_inconsistent_caller(ledger: Ledger) -> None:
    ledger.record(entry(b"tx-a"))
    with pytest.raises(LedgerError, match="inconsistent caller") as info:
        ledger.check(entry(b"tx-a", max_fee=1))
    assert type(info.value) is LedgerError


def test_the_ledger_persists_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(path) as first:
        first.record(entry(b"tx-a", request_id=b"\x07" * 16))
        first.record(bump(b"tx", 30, 1, nonce=8))
    with Ledger.open(path) as again:
        assert again.check(entry(b"tx-a")).outcome is Outcome.IDENTICAL
        with pytest.raises(EquivocationError):
            again.check(entry(b"tx-z"))
        with pytest.raises(ReplayedRequestError):
            again.check(entry(b"tx-q", nonce=99, request_id=b"\x07" * 16))
        assert again.check(bump(b"tx", 31, 1, nonce=8)).outcome is Outcome.REPLACEMENT


def test_the_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger.open(path).close()
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_two_connections_see_each_other_and_cannot_both_sign_a_nonce(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(path) as one, Ledger.open(path) as two:
        # Both checked while the nonce was free ...
        assert one.check(entry(b"tx-a")).outcome is Outcome.NEW
        assert two.check(entry(b"tx-b")).outcome is Outcome.NEW
        # ... but the second record re-checks under the write lock.
        assert one.record(entry(b"tx-a")).outcome is Outcome.NEW
        with pytest.raises(EquivocationError):
            two.record(entry(b"tx-b"))
        assert two.check(entry(b"tx-a")).outcome is Outcome.IDENTICAL


_RACER = textwrap.dedent(
    """
    import sys
    from signer.errors import EquivocationError
    from signer.ledger import Ledger, LedgerEntry, NonceKind, payload_digest
    path, name = sys.argv[1], sys.argv[2].encode()
    sys.stdin.readline()  # start together
    with Ledger.open(path) as ledger:
        won = 0
        for nonce in range(40):
            digest = payload_digest(name + b"%d" % nonce)
            e = LedgerEntry(NonceKind.ACCOUNT, 1, b"\\x11" * 20, nonce, digest, digest, 1, 1)
            try:
                ledger.record(e)
                won += 1
            except EquivocationError:
                pass
    print(won)
    """
)


def test_concurrent_processes_never_both_sign_a_nonce(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger.open(path).close()
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(path), name],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("p", "q", "r")
    ]
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.close()
    wins = []
    for racer in racers:
        assert racer.stdout is not None
        wins.append(int(racer.stdout.read()))
        racer.stdout.close()
        assert racer.wait() == 0
    assert sum(wins) == 40  # each nonce went to exactly one process
    db = sqlite3.connect(path)
    try:
        assert db.execute("SELECT count(*) FROM signature").fetchone()[0] == 40
    finally:
        db.close()


_KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from signer.ledger import Ledger, LedgerEntry, NonceKind, payload_digest
    with Ledger.open(sys.argv[1]) as ledger:
        nonce = 0
        while True:
            digest = payload_digest(b"%d" % nonce)
            rid = nonce.to_bytes(16, "big")
            ledger.record(LedgerEntry(NonceKind.ACCOUNT, 1, b"\\x11" * 20, nonce, digest,
                                      digest, 1, 1, rid))
            print(nonce, flush=True)
            nonce += 1
    """
)


def test_kill_9_during_records_leaves_whole_records_only(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    writer = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = -1
    while acknowledged < 60:
        acknowledged = int(writer.stdout.readline())
    writer.kill()  # SIGKILL, mid-way through some later record
    writer.communicate()
    with Ledger.open(path) as ledger:
        for nonce in range(acknowledged + 1):  # every acknowledged record survived
            digest = payload_digest(b"%d" % nonce)
            again = LedgerEntry(NonceKind.ACCOUNT, 1, ALICE, nonce, digest, digest, 1, 1)
            assert ledger.check(again).outcome is Outcome.IDENTICAL
    db = sqlite3.connect(path)
    try:
        # A record writes one signature row and one request row together, or neither.
        signatures = db.execute("SELECT nonce FROM signature ORDER BY nonce").fetchall()
        requests = db.execute("SELECT request_id FROM request ORDER BY request_id").fetchall()
        assert [s[0][16:] for s in signatures] == [r[0] for r in requests]
        assert len(signatures) > acknowledged
    finally:
        db.close()


def test_a_failure_inside_record_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"

    def broken_clock() -> int:
        raise OSError("clock failed")

    with Ledger.open(path, clock=broken_clock) as ledger, pytest.raises(OSError):
        ledger.record(entry(b"tx-a", request_id=b"\x01" * 16))
    with Ledger.open(path) as ledger:
        assert ledger.check(entry(b"tx-b", request_id=b"\x01" * 16)).outcome is Outcome.NEW


def test_a_garbage_file_is_a_clear_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(LedgerError, match="unreadable or corrupted"):
        Ledger.open(path)


def test_a_corrupted_page_is_a_clear_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(path) as ledger:
        for nonce in range(300):
            ledger.record(entry(b"%d" % nonce, nonce=nonce))
    # Fold the WAL into the main file, then scribble over a data page.
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = bytearray(path.read_bytes())
    assert len(data) > 3 * 4096
    data[4096 : 3 * 4096] = b"\xff" * (2 * 4096)  # the two tables' root pages
    path.write_bytes(bytes(data))
    with pytest.raises(LedgerError, match="corrupted"):
        Ledger.open(path)


def test_a_truncated_file_is_a_clear_ledger_error(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger.open(path) as ledger:
        for nonce in range(300):
            ledger.record(entry(b"%d" % nonce, nonce=nonce))
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(LedgerError, match="corrupted"):
        Ledger.open(path)


def test_another_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(LedgerError, match="not a coldsign nonce ledger"):
        Ledger.open(path)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger.open(path).close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(LedgerError, match="schema version 99"):
        Ledger.open(path)


def test_a_directory_path_is_a_clear_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="ledger"):
        Ledger.open(tmp_path)


def test_a_missing_directory_is_a_clear_ledger_error(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="cannot open the nonce ledger"):
        Ledger.open(tmp_path / "no-such-dir" / "ledger.sqlite")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": 0}, "chain_id must be positive"),
        ({"chain_id": -1}, "chain_id -1 is out of range"),
        ({"nonce": 2**64}, "nonce .* is out of range"),
        ({"nonce": True}, "nonce must be an int"),
        ({"max_fee": 2**256}, "max_fee .* is out of range"),
        ({"priority_fee": -1}, "priority_fee -1 is out of range"),
        ({"account": b"\x11" * 19}, "account must be 20 bytes"),
        ({"account": "0x" + "11" * 20}, "account must be bytes"),
        ({"payload_digest": b"\x00" * 31}, "payload_digest must be 32 bytes"),
        ({"fee_neutral_digest": b""}, "fee_neutral_digest must be 32 bytes"),
        ({"request_id": b"\x00" * 15}, "request_id must be 16 bytes"),
        ({"kind": 0}, "kind must be a NonceKind"),
    ],
)
def test_a_malformed_entry_is_a_ledger_error(change: dict[str, object], message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        dataclasses.replace(entry(), **change)  # type: ignore[arg-type]


def test_a_safe_nonce_may_be_a_uint256_but_an_account_nonce_may_not() -> None:
    dataclasses.replace(entry(kind=NonceKind.SAFE), nonce=2**256 - 1)
    with pytest.raises(LedgerError):
        entry(nonce=2**64)
