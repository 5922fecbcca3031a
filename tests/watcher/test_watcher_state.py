"""The SQLite store: WAL with full syncs, migrations, the status life cycle and its history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shared.address import Address
from watcher.errors import StateError
from watcher.state import (
    ALLOWED,
    Account,
    Status,
    Store,
    StoredSignature,
    TxRequest,
    Withdrawal,
    check_transition,
)
from watcher.state.schema import MIGRATIONS

SOURCE = Address(bytes([1]) * 20)
DEST = Address(bytes([2]) * 20)


def _store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "w.db", clock=lambda: "2026-01-01T00:00:00+00:00")


def _request(request_id: str, batch_id: int, nonce: int = 0, **changes: object) -> TxRequest:
    fields: dict[str, object] = {
        "request_id": request_id,
        "batch_id": batch_id,
        "position": 0,
        "withdrawal_id": "w1",
        "chain_id": 1,
        "source": SOURCE,
        "path": "m/44'/60'/0'/0/0",
        "master_fingerprint": "01020304",
        "nonce": nonce,
        "payload": b"\x02\xc0",
        "signing_hash": bytes(32),
        "value": 1,
        "max_fee_per_gas": 2,
        "max_priority_fee_per_gas": 1,
        "gas_limit": 21000,
        "replaces": None,
        "status": Status.BUILT,
    }
    fields.update(changes)
    return TxRequest(**fields)  # type: ignore[arg-type]


def test_the_database_is_wal_with_full_syncs_and_migrated(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.close()
    db = sqlite3.connect(tmp_path / "w.db")
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    finally:
        db.close()
    # Opening again applies nothing twice.
    reopened = _store(tmp_path)
    assert reopened._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    reopened.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "w.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StateError, match="upgrade coldsign"):
        _store(tmp_path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / "w.db").write_bytes(b"not a database at all" * 100)
    with pytest.raises(StateError, match="cannot open the state database"):
        _store(tmp_path)


def test_every_transition_outside_the_life_cycle_is_refused() -> None:
    for old in Status:
        for new in Status:
            if new in ALLOWED[old]:
                check_transition("x", old, new)
            else:
                with pytest.raises(StateError):
                    check_transition("x", old, new)


def test_a_withdrawal_follows_its_transactions_with_history(tmp_path: Path) -> None:
    store = _store(tmp_path)
    withdrawal = Withdrawal("w1", 1, "native", DEST, 10, "0.00..1", "", SOURCE)
    store.insert_withdrawals([withdrawal], "intake")
    with store.transaction():
        batch = store.add_batch(1, SOURCE, "withdrawals", "eth-sign-request")
        store.add_request(_request("r1", batch), "build")
    store.mark_written(batch, "file", "write")
    request = store.request("r1")
    assert request is not None and request.status is Status.AWAITING_SIGNATURE
    signature = StoredSignature("r1", 0, bytes(32), bytes(32), b"raw", bytes([9]) * 32)
    store.add_signatures("digest", [signature], "import")
    assert store.response_seen("digest")
    store.set_request_status(request, Status.BROADCAST, "broadcast")
    # A fee bump waiting for its signature does not move the withdrawal back.
    with store.transaction():
        bump_batch = store.add_batch(1, SOURCE, "bump", "eth-sign-request")
        store.add_request(_request("r2", bump_batch, replaces="r1", max_fee_per_gas=3), "bump")
    stored = store.withdrawal("w1")
    assert stored is not None and stored.status is Status.BROADCAST
    assert stored.request_id == "r1"
    assert [r.request_id for r in store.requests_at_nonce(1, SOURCE, 0)] == ["r1", "r2"]
    confirmed = store.request("r1")
    assert confirmed is not None
    store.set_request_status(confirmed, Status.CONFIRMED, "track")
    assert [to for _, to, _ in store.history("w1")] == [
        "received",
        "built",
        "awaiting-signature",
        "signed",
        "broadcast",
        "confirmed",
    ]
    store.close()


def test_a_failed_transition_rolls_the_whole_transaction_back(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.insert_withdrawals([Withdrawal("w1", 1, "native", DEST, 10, "10", "", SOURCE)], "intake")
    before = store.dump()
    with pytest.raises(StateError), store.transaction():
        batch = store.add_batch(1, SOURCE, "withdrawals", "eth-sign-request")
        store.add_request(_request("r1", batch), "build")
        request = store.request("r1")
        assert request is not None
        store.set_request_status(request, Status.CONFIRMED, "not allowed from built")
    assert store.dump() == before
    store.close()


def test_a_failed_commit_is_rolled_back_and_the_next_transaction_starts_clean(
    tmp_path: Path,
) -> None:
    # A deferred foreign-key violation is only found at COMMIT, which then fails and would
    # leave SQLite inside the transaction.
    store = _store(tmp_path)
    store.insert_withdrawals([Withdrawal("w1", 1, "native", DEST, 10, "10", "", SOURCE)], "intake")
    before = store.dump()
    connection = store._db
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        store.add_batch(1, SOURCE, "withdrawals", "eth-sign-request")
        connection.execute("PRAGMA defer_foreign_keys = ON")
        connection.execute(
            "INSERT INTO signer_heads VALUES ('01020304', 1, ?, 'no such response', 'now')",
            (bytes(32),),
        )
    assert not connection.in_transaction
    assert store.dump() == before
    with store.transaction():
        store.add_batch(1, SOURCE, "withdrawals", "eth-sign-request")
    assert store.dump() != before
    store.close()


def test_cancel_before_signing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.insert_withdrawals([Withdrawal("w1", 1, "native", DEST, 10, "10", "", SOURCE)], "intake")
    store.cancel("w1", "operator")
    stored = store.withdrawal("w1")
    assert stored is not None and stored.status is Status.CANCELLED
    with pytest.raises(StateError, match="no withdrawal"):
        store.cancel("nope", "operator")
    store.close()


def test_accounts_are_idempotent_and_consistent(tmp_path: Path) -> None:
    store = _store(tmp_path)
    account = Account(SOURCE, "m/44'/60'/0'/0/0", "01020304", 0)
    assert store.add_accounts([account]) == 1
    assert store.add_accounts([account]) == 0
    with pytest.raises(StateError, match="already paired"):
        store.add_accounts([Account(SOURCE, "m/44'/60'/0'/0/1", "01020304", 1)])
    assert store.accounts() == (account,)
    store.close()
