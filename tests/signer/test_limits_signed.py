"""LimitStore.record_signed: spends counted once per spend id, and the version 1 upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from shared.address import Address
from signer.errors import LimitStoreError
from signer.policy.limits import APPLICATION_ID, LimitStore, SignedSpends
from signer.policy.model import AssetKey
from signer.policy.verdict import Spend

NOW = 1_750_000_000
ETH = AssetKey(1, None)
USDC = AssetKey(1, Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")))
ONE = b"\x01" * 32
TWO = b"\x02" * 32


def signed(spend_id: bytes, *amounts: tuple[AssetKey, int]) -> SignedSpends:
    return SignedSpends(spend_id, tuple(Spend(asset, amount) for asset, amount in amounts))


def test_a_spend_id_is_counted_once(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        assert store.record_signed([signed(ONE, (ETH, 5), (USDC, 7))], now=NOW) == 2
        # The same item again (a re-sign), even at another time: nothing added.
        assert store.record_signed([signed(ONE, (ETH, 5), (USDC, 7))], now=NOW + 60) == 0
        assert store.record_signed([signed(TWO, (ETH, 1)), signed(ONE, (ETH, 5))], now=NOW) == 1
        assert store.spent(now=NOW + 60) == {ETH: 6, USDC: 7}


def test_the_first_recording_of_an_id_is_the_one_that_counts(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        store.record_signed([signed(ONE, (ETH, 5))], now=NOW)
        store.record_signed([signed(ONE, (ETH, 9))], now=NOW)
        assert store.spent(now=NOW) == {ETH: 5}


def test_unkeyed_records_are_never_deduplicated(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        store.record([Spend(ETH, 3)], now=NOW)
        store.record([Spend(ETH, 3)], now=NOW)
        store.record_signed([signed(ONE, (ETH, 3))], now=NOW)
        assert store.spent(now=NOW) == {ETH: 9}


def test_zero_amounts_are_skipped(tmp_path: Path) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        assert store.record_signed([signed(ONE, (ETH, 0))], now=NOW) == 0
        assert store.spent(now=NOW) == {}


@pytest.mark.parametrize("spend_id", [b"", b"\x01" * 31, b"\x01" * 33])
def test_a_malformed_spend_id_is_refused_and_nothing_written(
    tmp_path: Path, spend_id: bytes
) -> None:
    with LimitStore.open(tmp_path / "limits.sqlite") as store:
        with pytest.raises(LimitStoreError, match="spend id"):
            store.record_signed([signed(TWO, (ETH, 1)), signed(spend_id, (ETH, 1))], now=NOW)
        assert store.spent(now=NOW) == {}


def test_a_version_1_store_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "limits.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE spend (
            id INTEGER PRIMARY KEY,
            chain_id BLOB NOT NULL CHECK (length(chain_id) = 32),
            token BLOB NOT NULL CHECK (length(token) IN (0, 20)),
            amount BLOB NOT NULL CHECK (length(amount) = 32),
            signed_at INTEGER NOT NULL,
            reference BLOB NOT NULL CHECK (length(reference) <= 64)
        );
        CREATE INDEX spend_time ON spend (signed_at);
        """
    )
    db.execute(
        "INSERT INTO spend (chain_id, token, amount, signed_at, reference) VALUES (?, ?, ?, ?, ?)",
        ((1).to_bytes(32, "big"), b"", (4).to_bytes(32, "big"), NOW, b""),
    )
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with LimitStore.open(path) as store:
        assert store.spent(now=NOW) == {ETH: 4}
        store.record_signed([signed(ONE, (ETH, 1))], now=NOW)
        store.record_signed([signed(ONE, (ETH, 1))], now=NOW)
        assert store.spent(now=NOW) == {ETH: 5}
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
    finally:
        db.close()
