"""safe.db's transactions: a COMMIT that fails is rolled back, so the connection is clean."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from watcher.safe.store import SafeStore


def test_a_failed_commit_is_rolled_back_and_the_next_transaction_starts_clean(
    tmp_path: Path,
) -> None:
    # A deferred foreign-key violation is only found at COMMIT, which then fails and would
    # leave SQLite inside the transaction.
    store = SafeStore.open(tmp_path)
    connection = store._db
    count = "SELECT count(*) FROM owner_requests"
    with pytest.raises(sqlite3.IntegrityError), store.transaction():
        connection.execute("PRAGMA defer_foreign_keys = ON")
        connection.execute(
            "INSERT INTO owner_requests VALUES ('r1', 99, 'owner', 'm/0', '01020304', 'f')"
        )
    assert not connection.in_transaction
    assert connection.execute(count).fetchone() == (0,)
    with store.transaction():
        pass
    assert not connection.in_transaction
