"""The nonce ledger: refuses to sign two different payloads for one account or Safe nonce.

Every signature the signer releases is first recorded here under its nonce key:

- ``(chain_id, account, nonce)`` for a transaction (``NonceKind.ACCOUNT``);
- ``(chain_id, safe, safe_nonce)`` for a Safe transaction (``NonceKind.SAFE``).

The value is the SHA-256 of the exact unsigned payload that was signed, plus a *fee-neutral*
digest (the same payload with its fee fields zeroed, computed by the caller) and the two fee
values. A second request for a used key is then one of:

- the same payload again: ``IDENTICAL`` (a re-sign; allowed and idempotent);
- the same fee-neutral digest with fees that do not decrease and of which at least one
  increases: ``REPLACEMENT`` (a fee bump; the old and the new payload both stay recorded);
- anything else: ``EquivocationError``.

Request ids (16-byte uuids) are recorded with the payload they asked for; the same id with a
different payload is a ``ReplayedRequestError``.

Storage: SQLite (standard library) in WAL mode with ``synchronous=FULL``. A record is a few rows
in two tables that must change together, and SQLite transactions give exactly that: a
``kill -9`` or power loss during ``record`` leaves the old or the new state, never half of it,
and a committed record survives power loss (FULL syncs the WAL on every commit). Writers take
SQLite's write lock with ``BEGIN IMMEDIATE`` and re-run the check under it, so two processes
can hold the ledger open and neither can record a conflicting payload behind the other's back.

Callers record *before* releasing a signature: a crash after ``record`` and before the
signature leaves the device errs on the side of a nonce marked used. A batch is recorded with
``record_many``: one transaction, so one commit (and one WAL sync) for the whole batch.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum
from pathlib import Path
from types import TracebackType

from signer.errors import EquivocationError, LedgerError, ReplayedRequestError
from signer.sqlitefile import StateFileKind, open_state_file

# "cldg": marks the file as a coldsign ledger (SQLite's application_id header field).
APPLICATION_ID = 0x636C6467
SCHEMA_VERSION = 1

UINT256_LIMIT = 1 << 256
# EIP-2681: an account nonce is at most 2**64 - 1. A Safe nonce is a uint256.
ACCOUNT_NONCE_LIMIT = 1 << 64
DIGEST_SIZE = 32
ADDRESS_SIZE = 20
REQUEST_ID_SIZE = 16

_SCHEMA = (
    # Integers that may exceed SQLite's signed 64 bits (chain id, Safe nonce, fees) are stored
    # as 32-byte big-endian blobs; equality on them is exact and ordering is done in Python.
    """CREATE TABLE signature (
        kind INTEGER NOT NULL CHECK (kind IN (0, 1)),
        chain_id BLOB NOT NULL CHECK (length(chain_id) = 32),
        account BLOB NOT NULL CHECK (length(account) = 20),
        nonce BLOB NOT NULL CHECK (length(nonce) = 32),
        payload_digest BLOB NOT NULL CHECK (length(payload_digest) = 32),
        fee_neutral_digest BLOB NOT NULL CHECK (length(fee_neutral_digest) = 32),
        max_fee BLOB NOT NULL CHECK (length(max_fee) = 32),
        priority_fee BLOB NOT NULL CHECK (length(priority_fee) = 32),
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (kind, chain_id, account, nonce, payload_digest)
    ) WITHOUT ROWID""",
    """CREATE TABLE request (
        request_id BLOB PRIMARY KEY CHECK (length(request_id) = 16),
        payload_digest BLOB NOT NULL CHECK (length(payload_digest) = 32),
        recorded_at INTEGER NOT NULL
    ) WITHOUT ROWID""",
)

_KIND = StateFileKind(
    what="nonce ledger",
    application_id=APPLICATION_ID,
    version=SCHEMA_VERSION,
    tables=frozenset({"signature", "request"}),
    create=_SCHEMA,
    error=LedgerError,
)


class NonceKind(IntEnum):
    """Which nonce space a ledger key lives in."""

    ACCOUNT = 0
    SAFE = 1


class Outcome(Enum):
    """What a ledger check found for an entry."""

    NEW = "new"
    IDENTICAL = "identical"
    REPLACEMENT = "replacement"


def payload_digest(unsigned_payload: bytes) -> bytes:
    """The ledger's digest of a payload: SHA-256 of its canonical unsigned bytes."""
    return hashlib.sha256(unsigned_payload).digest()


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One signature about to be released, under its nonce key.

    ``max_fee`` and ``priority_fee`` are the payload's fee values in wei per gas: for EIP-1559
    ``maxFeePerGas`` and ``maxPriorityFeePerGas``; for legacy and EIP-2930 transactions pass
    ``gasPrice`` as both. For a Safe transaction pass the fee values the caller zeroes in the
    fee-neutral digest (``gasPrice`` and ``gasPrice``, say), or 0 and 0 when none are.
    """

    kind: NonceKind
    chain_id: int
    account: bytes
    nonce: int
    payload_digest: bytes
    fee_neutral_digest: bytes
    max_fee: int
    priority_fee: int
    request_id: bytes | None = None

    def __post_init__(self) -> None:
        # One pass over plain comparisons for the usual entry (exact types, every value in
        # range); anything else goes through the checks below, in their order, so the error
        # names the first field at fault exactly as before.
        kind, request_id = self.kind, self.request_id
        nonce_limit = ACCOUNT_NONCE_LIMIT if kind is NonceKind.ACCOUNT else UINT256_LIMIT
        if (
            type(kind) is NonceKind
            and type(self.chain_id) is int
            and 0 < self.chain_id < UINT256_LIMIT
            and type(self.nonce) is int
            and 0 <= self.nonce < nonce_limit
            and type(self.max_fee) is int
            and 0 <= self.max_fee < UINT256_LIMIT
            and type(self.priority_fee) is int
            and 0 <= self.priority_fee < UINT256_LIMIT
            and type(self.account) is bytes
            and len(self.account) == ADDRESS_SIZE
            and type(self.payload_digest) is bytes
            and len(self.payload_digest) == DIGEST_SIZE
            and type(self.fee_neutral_digest) is bytes
            and len(self.fee_neutral_digest) == DIGEST_SIZE
            and (
                request_id is None
                or (type(request_id) is bytes and len(request_id) == REQUEST_ID_SIZE)
            )
        ):
            return
        self._check_each()

    def _check_each(self) -> None:
        if not isinstance(self.kind, NonceKind):
            raise LedgerError(f"kind must be a NonceKind, not {type(self.kind).__name__}")
        _check_uint("chain_id", self.chain_id, UINT256_LIMIT)
        if self.chain_id == 0:
            raise LedgerError("chain_id must be positive")
        nonce_limit = ACCOUNT_NONCE_LIMIT if self.kind is NonceKind.ACCOUNT else UINT256_LIMIT
        _check_uint("nonce", self.nonce, nonce_limit)
        _check_uint("max_fee", self.max_fee, UINT256_LIMIT)
        _check_uint("priority_fee", self.priority_fee, UINT256_LIMIT)
        _check_bytes("account", self.account, ADDRESS_SIZE)
        _check_bytes("payload_digest", self.payload_digest, DIGEST_SIZE)
        _check_bytes("fee_neutral_digest", self.fee_neutral_digest, DIGEST_SIZE)
        if self.request_id is not None:
            _check_bytes("request_id", self.request_id, REQUEST_ID_SIZE)

    def describe_key(self) -> str:
        """The nonce key in words, for messages (no payload data)."""
        space = "account" if self.kind is NonceKind.ACCOUNT else "Safe"
        return f"chain {self.chain_id}, {space} 0x{self.account.hex()}, nonce {self.nonce}"


@dataclass(frozen=True, slots=True)
class LedgerDecision:
    """The ledger's answer for an entry; ``replaces`` is the digest a fee bump supersedes."""

    outcome: Outcome
    replaces: bytes | None = None


def _check_uint(name: str, value: int, limit: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError(f"{name} must be an int, not {type(value).__name__}")
    if not 0 <= value < limit:
        raise LedgerError(f"{name} {value} is out of range [0, {limit})")


def _check_bytes(name: str, value: bytes, size: int) -> None:
    if not isinstance(value, bytes):
        raise LedgerError(f"{name} must be bytes, not {type(value).__name__}")
    if len(value) != size:
        raise LedgerError(f"{name} must be {size} bytes, got {len(value)}")


def _u256(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _unix_time() -> int:
    return int(time.time())


class Ledger:
    """An open nonce ledger file. Use :meth:`open`; close it (or use ``with``) when done."""

    def __init__(
        self, connection: sqlite3.Connection, path: Path, clock: Callable[[], int]
    ) -> None:
        self._db = connection
        self._path = path
        self._clock = clock

    @classmethod
    def open(cls, path: str | Path, *, clock: Callable[[], int] = _unix_time) -> Ledger:
        """Open (creating if absent) the ledger at ``path``; a foreign or damaged file is refused.

        Raises ``LedgerError`` for a file that is not a coldsign ledger, is corrupted, is of a
        newer schema, or cannot be opened.
        """
        path = Path(path)
        db = open_state_file(path, _KIND)
        return cls(db, path, clock)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def check(self, entry: LedgerEntry) -> LedgerDecision:
        """Say whether ``entry`` may be signed, without recording anything.

        Raises ``EquivocationError`` or ``ReplayedRequestError`` when it may not.
        """
        try:
            self._db.execute("BEGIN")
            try:
                return self._decide(entry)
            finally:
                self._db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise LedgerError(f"nonce ledger {self._path} could not be read: {exc}") from exc

    def record(self, entry: LedgerEntry) -> LedgerDecision:
        """Check ``entry`` again under the write lock and record it, in one transaction.

        Returns the decision the record was made under; raises as :meth:`check` does, in
        which case nothing is written. Recording an ``IDENTICAL`` entry changes nothing
        except remembering a request id not seen before.
        """
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                decision = self._decide(entry)
                self._write(entry, decision)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LedgerError(f"nonce ledger {self._path} could not be written: {exc}") from exc
        return decision

    def record_many(
        self, entries: Sequence[LedgerEntry]
    ) -> tuple[LedgerDecision | LedgerError, ...]:
        """Check and record every entry of a batch in one transaction (one commit, one sync).

        Each entry is decided as :meth:`record` would after the entries before it: a second
        payload for a nonce an earlier entry of the same batch took is equivocation. An entry
        the ledger refuses gets its ``LedgerError`` (``EquivocationError``,
        ``ReplayedRequestError``) in its place of the result, and the others are recorded
        without it. A storage failure raises ``LedgerError`` and records none of them; so does
        a crash: SQLite commits the whole batch or nothing.
        """
        results: list[LedgerDecision | LedgerError] = []
        if not entries:
            return ()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for entry in entries:
                    try:
                        decision = self._decide(entry)
                    except LedgerError as refused:
                        results.append(refused)
                        continue
                    self._write(entry, decision)
                    results.append(decision)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise LedgerError(f"nonce ledger {self._path} could not be written: {exc}") from exc
        return tuple(results)

    def check_and_record(self, entry: LedgerEntry) -> LedgerDecision:
        """Check and record ``entry`` atomically (the same as :meth:`record`)."""
        return self.record(entry)

    def _decide(self, entry: LedgerEntry) -> LedgerDecision:
        if entry.request_id is not None:
            row = self._db.execute(
                "SELECT payload_digest FROM request WHERE request_id = ?", (entry.request_id,)
            ).fetchone()
            if row is not None and row[0] != entry.payload_digest:
                raise ReplayedRequestError(
                    f"request id {entry.request_id.hex()} was already used for another payload"
                )
        rows: list[tuple[bytes, bytes, bytes, bytes]] = self._db.execute(
            "SELECT payload_digest, fee_neutral_digest, max_fee, priority_fee FROM signature"
            " WHERE kind = ? AND chain_id = ? AND account = ? AND nonce = ?",
            (int(entry.kind), _u256(entry.chain_id), entry.account, _u256(entry.nonce)),
        ).fetchall()
        if not rows:
            return LedgerDecision(Outcome.NEW)
        for digest, fee_neutral, max_fee, priority_fee in rows:
            if digest == entry.payload_digest:
                if (fee_neutral, max_fee, priority_fee) != (
                    entry.fee_neutral_digest,
                    _u256(entry.max_fee),
                    _u256(entry.priority_fee),
                ):
                    raise LedgerError(
                        f"{entry.describe_key()}: this payload was recorded with other fee"
                        " values or another fee-neutral digest (inconsistent caller)"
                    )
                return LedgerDecision(Outcome.IDENTICAL)
        if any(row[1] != entry.fee_neutral_digest for row in rows):
            raise EquivocationError(
                f"{entry.describe_key()}: a different payload was already signed for this nonce"
            )
        # Every earlier replacement raised the fees, so the latest signature holds the highest
        # of each; the bump is measured against those.
        top_max = max(int.from_bytes(row[2], "big") for row in rows)
        top_priority = max(int.from_bytes(row[3], "big") for row in rows)
        latest = max(rows, key=lambda row: (row[2], row[3]))[0]
        if (
            entry.max_fee < top_max
            or entry.priority_fee < top_priority
            or (entry.max_fee == top_max and entry.priority_fee == top_priority)
        ):
            raise EquivocationError(
                f"{entry.describe_key()}: a fee replacement must not lower either fee and must"
                f" raise at least one (signed: max fee {top_max}, priority fee {top_priority};"
                f" asked: {entry.max_fee}, {entry.priority_fee})"
            )
        return LedgerDecision(Outcome.REPLACEMENT, replaces=latest)

    def _write(self, entry: LedgerEntry, decision: LedgerDecision) -> None:
        now = self._clock()
        if decision.outcome is not Outcome.IDENTICAL:
            self._db.execute(
                "INSERT INTO signature VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    int(entry.kind),
                    _u256(entry.chain_id),
                    entry.account,
                    _u256(entry.nonce),
                    entry.payload_digest,
                    entry.fee_neutral_digest,
                    _u256(entry.max_fee),
                    _u256(entry.priority_fee),
                    now,
                ),
            )
        if entry.request_id is not None:
            self._db.execute(
                "INSERT OR IGNORE INTO request VALUES (?, ?, ?)",
                (entry.request_id, entry.payload_digest, now),
            )
