"""The rolling-window limits store: what was signed per (chain, asset), in SQLite.

Why a store of its own rather than re-reading the audit log: the window question ("how much
USDC on chain 1 was signed since yesterday this time?") is asked for every request, and the
audit log is an append-only chain of canonical JSON lines that grows for ever; answering from
it means parsing every line of the log's tail and depending on the field layout of another
module's records. A small table indexed by time answers in one query, and the audit log stays
the tamper-evident history from which the store can be checked or rebuilt.

Storage: SQLite (standard library) in WAL mode with ``synchronous=FULL``, like the nonce
ledger. One ``record`` is one transaction, so a ``kill -9`` or power loss leaves either all of
a signing's spends or none, and a committed record survives power loss. The caller records
*before* releasing the signatures: a crash in between errs on the side of counting a spend
that never left the device, never the reverse.

Spends of signed items are recorded with :meth:`LimitStore.record_signed` under a *spend id*
per item (``signer.nonces.spend_id``: the item's nonce-ledger key and fee-neutral digest), and
a spend id is counted once: the rows are inserted with ``INSERT OR IGNORE`` under a unique
index. The signer records on every signature, re-signs included, so the store catches up with
the nonce ledger whatever crash came between the two files (the ledger says "identical", the
store counts what it missed), while a re-sign or a fee bump of a counted item adds nothing.
Before judging, the signer asks :meth:`LimitStore.counted` what the window holds under each
item's spend id (one query per request), so that the policy judges such an item by what it
pays beyond that (``signer.policy.judge.Context.counted``), as the store will count it.

Amounts and chain ids may exceed SQLite's signed 64-bit integers, so they are stored as
32-byte big-endian blobs and summed in Python. Rows older than :data:`RETAIN_SECONDS` are
pruned on each record. The window is ``(now - 24 h, ...]``: rows dated after ``now`` (the
clock was set back) still count, so moving the clock back never frees spending room.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from shared.address import Address
from shared.erc4527 import MAX_BATCH
from signer.errors import LimitStoreError
from signer.policy.model import WINDOW_SECONDS, AssetKey
from signer.policy.verdict import Spend
from signer.sqlitefile import StateFileKind, open_state_file

# "clim": marks the file as a coldsign limits store (SQLite's application_id header field).
APPLICATION_ID = 0x636C696D
# Version 2 added ``spend_id`` (version 1 files are upgraded on open).
SCHEMA_VERSION = 2
# Spends are kept a week: long enough to see what the window holds across clock mistakes.
RETAIN_SECONDS = 7 * 24 * 60 * 60
UINT256_LIMIT = 1 << 256
_ADDRESS_SIZE = 20
SPEND_ID_SIZE = 32
# The most spend ids one ``counted`` query takes: one per item of the largest request. Each id
# is one SQL host parameter; SQLite allows 32,766 of them since 3.32 (999 before).
MAX_COUNTED_IDS = MAX_BATCH

_SCHEMA_V1 = (
    """CREATE TABLE spend (
        id INTEGER PRIMARY KEY,
        chain_id BLOB NOT NULL CHECK (length(chain_id) = 32),
        token BLOB NOT NULL CHECK (length(token) IN (0, 20)),
        amount BLOB NOT NULL CHECK (length(amount) = 32),
        signed_at INTEGER NOT NULL,
        reference BLOB NOT NULL CHECK (length(reference) <= 64)
    )""",
    "CREATE INDEX spend_time ON spend (signed_at)",
)
# Rows recorded by ``record`` (and every version 1 row) have no spend id; SQLite treats NULLs
# as distinct in a unique index, so only keyed rows are de-duplicated.
_UPGRADE_V2 = (
    "ALTER TABLE spend ADD COLUMN spend_id BLOB"
    f" CHECK (spend_id IS NULL OR length(spend_id) = {SPEND_ID_SIZE})",
    "CREATE UNIQUE INDEX spend_once ON spend (spend_id, chain_id, token)",
)

_KIND = StateFileKind(
    what="limits store",
    application_id=APPLICATION_ID,
    version=SCHEMA_VERSION,
    tables=frozenset({"spend"}),
    create=(*_SCHEMA_V1, *_UPGRADE_V2),
    error=LimitStoreError,
    # A version 1 file (no spend_id) is brought to version 2 on open.
    upgrades={1: (frozenset({"spend"}), _UPGRADE_V2)},
)


@dataclass(frozen=True, slots=True)
class SignedSpends:
    """What one signed item moves (``spends``), under the id that makes it count once."""

    spend_id: bytes
    spends: tuple[Spend, ...]


def _u256(value: int) -> bytes:
    return value.to_bytes(32, "big")


class LimitStore:
    """An open limits store. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._path = path

    @classmethod
    def open(cls, path: str | Path) -> LimitStore:
        """Open (creating if absent) the store at ``path``; a foreign or damaged file is refused."""
        path = Path(path)
        db = open_state_file(path, _KIND)
        return cls(db, path)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> LimitStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def spent(self, *, now: int) -> dict[AssetKey, int]:
        """Per asset, the sum of what was signed in the 24 hours up to ``now`` (and after it)."""
        try:
            rows: list[tuple[bytes, bytes, bytes]] = self._db.execute(
                "SELECT chain_id, token, amount FROM spend WHERE signed_at > ?",
                (now - WINDOW_SECONDS,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise LimitStoreError(f"limits store {self._path} could not be read: {exc}") from exc
        totals: dict[AssetKey, int] = {}
        for chain_id, token, amount in rows:
            asset = AssetKey(int.from_bytes(chain_id, "big"), Address(token) if token else None)
            totals[asset] = totals.get(asset, 0) + int.from_bytes(amount, "big")
        return totals

    def counted(
        self, spend_ids: Collection[bytes], *, now: int
    ) -> dict[bytes, dict[AssetKey, int]]:
        """Per spend id, what the window up to ``now`` (and after it) counts under that id.

        The same window as :meth:`spent`, so each id's amounts are part of its totals. Ids
        with nothing in the window are left out. One query for at most
        :data:`MAX_COUNTED_IDS` ids, each of :data:`SPEND_ID_SIZE` bytes (else
        :class:`LimitStoreError`, before anything is read).
        """
        if len(spend_ids) > MAX_COUNTED_IDS:
            raise LimitStoreError(
                f"at most {MAX_COUNTED_IDS} spend ids are looked up at once, not {len(spend_ids)}"
            )
        wanted: set[bytes] = set()
        for spend_id in spend_ids:
            if not isinstance(spend_id, bytes) or len(spend_id) != SPEND_ID_SIZE:
                raise LimitStoreError(f"a spend id is {SPEND_ID_SIZE} bytes")
            wanted.add(spend_id)
        if not wanted:
            return {}
        # Only "?" placeholders go into the text; every id is bound as a parameter.
        query = (
            "SELECT spend_id, chain_id, token, amount FROM spend"  # noqa: S608
            f" WHERE spend_id IN ({', '.join('?' * len(wanted))}) AND signed_at > ?"
        )
        try:
            # The unique index spend_once (spend_id, chain_id, token) finds each id's rows.
            rows: list[tuple[bytes, bytes, bytes, bytes]] = self._db.execute(
                query,
                (*wanted, now - WINDOW_SECONDS),
            ).fetchall()
        except sqlite3.Error as exc:
            raise LimitStoreError(f"limits store {self._path} could not be read: {exc}") from exc
        found: dict[bytes, dict[AssetKey, int]] = {}
        for spend_id, chain_id, token, amount in rows:
            asset = AssetKey(int.from_bytes(chain_id, "big"), Address(token) if token else None)
            totals = found.setdefault(spend_id, {})
            totals[asset] = totals.get(asset, 0) + int.from_bytes(amount, "big")
        return found

    def record(self, spends: Iterable[Spend], *, now: int, reference: bytes = b"") -> None:
        """Record ``spends`` as signed at ``now``, all in one transaction.

        ``reference`` ties the rows to what was signed (a signing hash or request id, up to
        64 bytes). Zero amounts are skipped.
        """
        if len(reference) > 64:
            raise LimitStoreError("a spend reference is at most 64 bytes")
        rows = []
        for spend in spends:
            _check_spend(spend)
            if spend.amount:
                token = b"" if spend.asset.token is None else spend.asset.token.raw
                rows.append(
                    (_u256(spend.asset.chain_id), token, _u256(spend.amount), now, reference)
                )
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO spend (chain_id, token, amount, signed_at, reference)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
                self._db.execute("DELETE FROM spend WHERE signed_at <= ?", (now - RETAIN_SECONDS,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LimitStoreError(f"limits store {self._path} could not be written: {exc}") from exc

    def record_signed(
        self, items: Sequence[SignedSpends], *, now: int, reference: bytes = b""
    ) -> int:
        """Record each signed item's spends at ``now`` unless its spend id is already counted.

        All in one transaction; returns how many rows were added. Zero amounts are skipped.
        ``reference`` is as for :meth:`record` (the signer passes the request digest).
        """
        if len(reference) > 64:
            raise LimitStoreError("a spend reference is at most 64 bytes")
        rows = []
        for item in items:
            if not isinstance(item.spend_id, bytes) or len(item.spend_id) != SPEND_ID_SIZE:
                raise LimitStoreError(f"a spend id is {SPEND_ID_SIZE} bytes")
            for spend in item.spends:
                _check_spend(spend)
                if spend.amount:
                    token = b"" if spend.asset.token is None else spend.asset.token.raw
                    rows.append(
                        (
                            _u256(spend.asset.chain_id),
                            token,
                            _u256(spend.amount),
                            now,
                            reference,
                            item.spend_id,
                        )
                    )
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT OR IGNORE INTO spend"
                    " (chain_id, token, amount, signed_at, reference, spend_id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    rows,
                )
                added = self._db.total_changes - before
                self._db.execute("DELETE FROM spend WHERE signed_at <= ?", (now - RETAIN_SECONDS,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LimitStoreError(f"limits store {self._path} could not be written: {exc}") from exc
        return added


def _check_spend(spend: Spend) -> None:
    amount, chain_id = spend.amount, spend.asset.chain_id
    for name, value in (("amount", amount), ("chain id", chain_id)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < UINT256_LIMIT:
            raise LimitStoreError(f"a spend's {name} must be an integer in [0, 2**256)")
    token = spend.asset.token
    if token is not None and len(token.raw) != _ADDRESS_SIZE:
        raise LimitStoreError("a spend's token must be a 20-byte address")
