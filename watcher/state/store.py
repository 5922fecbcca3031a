"""The watcher's SQLite store (WAL, ``synchronous=FULL``): every change in one transaction.

Withdrawals carry a status derived from the transactions built for them; every change of a
withdrawal's or a transaction's status is written to ``history`` in the same transaction,
so a ``kill -9`` at any point leaves either the old state or the new one. A write that
collides with a stored row (two watcher processes importing one response at once, say)
raises :class:`~watcher.errors.StateConflictError` and its transaction is rolled back: no
raw ``sqlite3.IntegrityError`` leaves the store, and nothing stored changes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from shared.address import Address
from watcher.errors import StateConflictError, StateError
from watcher.state.schema import MIGRATIONS
from watcher.state.status import Status, check_transition

Clock = Callable[[], str]


def utc_now() -> str:
    """The current UTC time as ISO 8601 text."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Account:
    """A watch-only account from pairing."""

    address: Address
    path: str
    master_fingerprint: str
    position: int


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """One withdrawal: the id is the idempotency key; ``amount`` is in base units."""

    id: str
    chain_id: int
    asset: str  # "native" or the token address as 0x + 40 lower-case hex digits
    destination: Address
    amount: int
    amount_text: str
    memo: str
    source: Address
    status: Status = Status.RECEIVED
    request_id: str | None = None


class Purpose(StrEnum):
    """What a transaction is for: paying its withdrawal, or cancelling it by filling its nonce
    with a zero-value transfer to the account itself (``fill-gap --cancel``)."""

    PAYMENT = "payment"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class TxRequest:
    """One unsigned transaction sent to the signer, with its request id and the exact payload."""

    request_id: str
    batch_id: int
    position: int
    withdrawal_id: str
    chain_id: int
    source: Address
    path: str
    master_fingerprint: str
    nonce: int
    payload: bytes
    signing_hash: bytes
    value: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    gas_limit: int
    replaces: str | None
    status: Status
    purpose: Purpose = Purpose.PAYMENT


@dataclass(frozen=True, slots=True)
class StoredSignature:
    """A verified signature and the raw signed transaction assembled from it."""

    request_id: str
    v: int
    r: bytes
    s: bytes
    raw_tx: bytes
    tx_hash: bytes


@dataclass(frozen=True, slots=True)
class Batch:
    """A group of requests written out as one UR (single or batch sign request)."""

    id: int
    chain_id: int
    source: Address
    kind: str
    ur_type: str
    parts_file: str | None


@dataclass(frozen=True, slots=True)
class StoredReceipt:
    """A receipt seen for a transaction hash."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    success: bool


@dataclass(frozen=True, slots=True)
class SignerHead:
    """The audit-log head a signer (by master fingerprint) reported last, and in which response."""

    master_fingerprint: str
    seq: int
    head_hash: bytes
    response_digest: str
    seen_at: str


@dataclass(frozen=True, slots=True)
class HeadReset:
    """A deliberate reset of a signer's stored head: the head it dropped, who, why and when."""

    master_fingerprint: str
    seq: int
    head_hash: bytes
    reset_by: str
    reason: str
    at: str


_REQUEST_COLUMNS = (
    "request_id, batch_id, position, withdrawal_id, chain_id, source, path, master_fingerprint,"
    " nonce, payload, signing_hash, value, max_fee_per_gas, max_priority_fee_per_gas,"
    " gas_limit, replaces, status, purpose"
)
_WITHDRAWAL_COLUMNS = (
    "id, chain_id, asset, destination, amount, amount_text, memo, source, status, request_id"
)
# Only these module constants (and fixed WHERE clauses) are ever formatted into SQL; every
# value is a bound parameter.
_SELECT_REQUESTS = f"SELECT {_REQUEST_COLUMNS} FROM requests"  # noqa: S608
_INSERT_REQUEST = f"INSERT INTO requests ({_REQUEST_COLUMNS}) VALUES ({', '.join('?' * 18)})"  # noqa: S608
_SELECT_WITHDRAWALS = f"SELECT {_WITHDRAWAL_COLUMNS} FROM withdrawals"  # noqa: S608
_INSERT_WITHDRAWAL = (
    f"INSERT INTO withdrawals ({_WITHDRAWAL_COLUMNS}, intake_seq) "  # noqa: S608
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)"
)
# A withdrawal's status follows its most advanced transaction.
_RANK = (
    Status.CONFIRMED,
    Status.BROADCAST,
    Status.SIGNED,
    Status.AWAITING_SIGNATURE,
    Status.BUILT,
)


def _addr(text: str) -> Address:
    return Address(bytes.fromhex(text[2:]))


@contextmanager
def conflicts_refused(what: str, key: str) -> Iterator[None]:
    """Raise :class:`StateConflictError` naming ``what`` and ``key`` for a write that breaks a
    UNIQUE, PRIMARY KEY or FOREIGN KEY rule; the enclosing transaction then rolls back."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise StateConflictError(what, key, str(exc)) from exc


def addr_text(address: Address) -> str:
    """The stored form of an address: 0x and lower-case hex."""
    return "0x" + address.raw.hex()


class Store:
    """All reads and writes of the watcher's state; open with :meth:`open`."""

    def __init__(self, connection: sqlite3.Connection, *, clock: Clock = utc_now) -> None:
        self._db = connection
        self._clock = clock
        self._depth = 0

    @classmethod
    def open(cls, path: Path, *, clock: Clock = utc_now) -> Store:
        """Open (creating if needed) the database, in WAL with full syncs, and migrate it."""
        try:
            connection = sqlite3.connect(path, isolation_level=None, timeout=10.0)
            connection.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before it returns, so kill -9 or power loss after
            # a status change cannot bring the old status back.
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            store = cls(connection, clock=clock)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            raise StateError(f"{path}: cannot open the state database: {exc}") from exc
        return store

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def dump(self) -> str:
        """The whole database as SQL text (tests compare dumps before and after a refusal)."""
        return "\n".join(self._db.iterdump())

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > len(MIGRATIONS):
            raise StateError(
                f"the state database has schema version {version}; this watcher knows "
                f"{len(MIGRATIONS)}: upgrade coldsign"
            )
        if version == len(MIGRATIONS):
            return
        # A migration may rebuild a table others reference: foreign keys are off while it
        # runs (the pragma is a no-op inside a transaction) and checked before each commit.
        self._db.execute("PRAGMA foreign_keys=OFF")
        try:
            for number in range(version, len(MIGRATIONS)):
                with self.transaction():
                    for statement in MIGRATIONS[number]:
                        self._db.execute(statement)
                    broken = self._db.execute("PRAGMA foreign_key_check").fetchone()
                    if broken is not None:
                        raise StateError(f"migration {number + 1}: foreign key broken: {broken}")
                    self._db.execute(f"PRAGMA user_version = {number + 1}")
        finally:
            self._db.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (``BEGIN IMMEDIATE``); nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._commit()
        finally:
            self._depth = 0

    def _commit(self) -> None:
        # A COMMIT that fails (a full disk, a lock not granted in time) leaves SQLite inside
        # the transaction; roll it back so that nothing half-done stays pending on this
        # connection and the next transaction starts clean.
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise

    # accounts ------------------------------------------------------------------------

    def add_accounts(self, accounts: Sequence[Account]) -> int:
        """Store watch-only accounts; already known ones are skipped. Returns how many were new."""
        added = 0
        with self.transaction():
            for account in accounts:
                row = self._db.execute(
                    "SELECT path, master_fingerprint FROM accounts WHERE address = ?",
                    (addr_text(account.address),),
                ).fetchone()
                if row is not None:
                    if tuple(row) != (account.path, account.master_fingerprint):
                        raise StateError(
                            f"{account.address} is already paired as {row[0]} under {row[1]}"
                        )
                    continue
                self._db.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
                    (
                        addr_text(account.address),
                        account.path,
                        account.master_fingerprint,
                        account.position,
                        self._clock(),
                    ),
                )
                added += 1
        return added

    def accounts(self) -> tuple[Account, ...]:
        """Paired accounts in pairing order."""
        rows = self._db.execute(
            "SELECT address, path, master_fingerprint, position FROM accounts "
            "ORDER BY paired_at, position"
        ).fetchall()
        return tuple(Account(_addr(a), p, f, n) for a, p, f, n in rows)

    def account(self, address: Address) -> Account | None:
        """The paired account at ``address``, if any."""
        row = self._db.execute(
            "SELECT address, path, master_fingerprint, position FROM accounts WHERE address = ?",
            (addr_text(address),),
        ).fetchone()
        return None if row is None else Account(_addr(row[0]), row[1], row[2], row[3])

    # tokens --------------------------------------------------------------------------

    def cached_decimals(self, chain_id: int, token: str) -> int | None:
        """Decimals read from the chain earlier for ``token``."""
        row = self._db.execute(
            "SELECT decimals FROM token_decimals WHERE chain_id = ? AND address = ?",
            (chain_id, token),
        ).fetchone()
        return None if row is None else int(row[0])

    def cache_decimals(self, chain_id: int, token: str, decimals: int) -> None:
        """Remember ``decimals()`` of a token."""
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO token_decimals VALUES (?, ?, ?)",
                (chain_id, token, decimals),
            )

    # withdrawals ---------------------------------------------------------------------

    def insert_withdrawals(self, withdrawals: Sequence[Withdrawal], note: str) -> None:
        """Insert new withdrawals in status ``received`` (one transaction with history)."""
        with self.transaction():
            seq = int(
                self._db.execute("SELECT COALESCE(MAX(intake_seq), 0) FROM withdrawals").fetchone()[
                    0
                ]
            )
            for w in withdrawals:
                seq += 1
                self._db.execute(
                    _INSERT_WITHDRAWAL,
                    (
                        w.id,
                        w.chain_id,
                        w.asset,
                        addr_text(w.destination),
                        str(w.amount),
                        w.amount_text,
                        w.memo,
                        addr_text(w.source),
                        Status.RECEIVED.value,
                        seq,
                    ),
                )
                self._history(w.id, None, None, Status.RECEIVED, note)

    def withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        """One withdrawal by id."""
        row = self._db.execute(_SELECT_WITHDRAWALS + " WHERE id = ?", (withdrawal_id,)).fetchone()
        return None if row is None else _withdrawal(row)

    def withdrawals(self, status: Status | None = None) -> tuple[Withdrawal, ...]:
        """Withdrawals in intake order, optionally only those in ``status``."""
        query = _SELECT_WITHDRAWALS
        params: tuple[str, ...] = ()
        if status is not None:
            query += " WHERE status = ?"
            params = (status.value,)
        rows = self._db.execute(query + " ORDER BY intake_seq", params).fetchall()
        return tuple(_withdrawal(row) for row in rows)

    def history(self, withdrawal_id: str) -> tuple[tuple[str | None, str, str], ...]:
        """(from, to, note) of every status change of a withdrawal, oldest first."""
        rows = self._db.execute(
            "SELECT from_status, to_status, note FROM history WHERE withdrawal_id = ? "
            "AND request_id IS NULL ORDER BY seq",
            (withdrawal_id,),
        ).fetchall()
        return tuple((a, b, c) for a, b, c in rows)

    def cancel(self, withdrawal_id: str, note: str) -> None:
        """Cancel a withdrawal that has not been built (a built one holds a nonce)."""
        with self.transaction():
            current = self.withdrawal(withdrawal_id)
            if current is None:
                raise StateError(f"no withdrawal {withdrawal_id!r}")
            if current.status is not Status.RECEIVED:
                raise StateError(
                    f"withdrawal {withdrawal_id} is {current.status}: only a received "
                    "withdrawal can be cancelled (a built one holds a nonce)"
                )
            self._set_withdrawal(current, Status.CANCELLED, note)

    # batches and requests -------------------------------------------------------------

    def add_batch(self, chain_id: int, source: Address, kind: str, ur_type: str) -> int:
        """A new batch row; returns its id (call inside a transaction with its requests)."""
        with self.transaction():
            cursor = self._db.execute(
                "INSERT INTO batches (chain_id, source, kind, ur_type, parts_file, created_at) "
                "VALUES (?, ?, ?, ?, NULL, ?)",
                (chain_id, addr_text(source), kind, ur_type, self._clock()),
            )
            if cursor.lastrowid is None:
                raise StateError("the batch insert returned no row id")
            return int(cursor.lastrowid)

    def add_request(self, request: TxRequest, note: str) -> None:
        """Store a built request (status ``built``) and move its withdrawal along."""
        with self.transaction():
            self._db.execute(
                _INSERT_REQUEST,
                (
                    request.request_id,
                    request.batch_id,
                    request.position,
                    request.withdrawal_id,
                    request.chain_id,
                    addr_text(request.source),
                    request.path,
                    request.master_fingerprint,
                    request.nonce,
                    request.payload,
                    request.signing_hash,
                    str(request.value),
                    str(request.max_fee_per_gas),
                    str(request.max_priority_fee_per_gas),
                    str(request.gas_limit),
                    request.replaces,
                    Status.BUILT.value,
                    request.purpose.value,
                ),
            )
            self._history(None, request.request_id, None, Status.BUILT, note)
            if request.replaces is None:
                self._db.execute(
                    "UPDATE withdrawals SET request_id = ? WHERE id = ?",
                    (request.request_id, request.withdrawal_id),
                )
            self._sync_withdrawal(request.withdrawal_id, note)

    def batches_unwritten(self) -> tuple[Batch, ...]:
        """Batches whose request file has not been written yet (a crash after building)."""
        return self._batches("WHERE parts_file IS NULL")

    def batch(self, batch_id: int) -> Batch:
        """One batch by id."""
        found = self._batches("WHERE id = ?", (batch_id,))
        if not found:
            raise StateError(f"no batch {batch_id}")
        return found[0]

    def _batches(self, where: str, params: tuple[object, ...] = ()) -> tuple[Batch, ...]:
        rows = self._db.execute(
            "SELECT id, chain_id, source, kind, ur_type, parts_file FROM batches "  # noqa: S608
            f"{where} ORDER BY id",
            params,
        ).fetchall()
        return tuple(Batch(i, c, _addr(s), k, t, p) for i, c, s, k, t, p in rows)

    def batch_requests(self, batch_id: int) -> tuple[TxRequest, ...]:
        """The requests of a batch in position order."""
        return self._requests("WHERE batch_id = ? ORDER BY position", (batch_id,))

    def mark_written(self, batch_id: int, parts_file: str, note: str) -> None:
        """The request file is on disk: its requests now await signatures."""
        with self.transaction():
            self._db.execute(
                "UPDATE batches SET parts_file = ? WHERE id = ?", (parts_file, batch_id)
            )
            for request in self.batch_requests(batch_id):
                if request.status is Status.BUILT:
                    self._set_request(request, Status.AWAITING_SIGNATURE, note)

    def request(self, request_id: str) -> TxRequest | None:
        """One request by id."""
        found = self._requests("WHERE request_id = ?", (request_id,))
        return found[0] if found else None

    def requests_for(self, withdrawal_id: str) -> tuple[TxRequest, ...]:
        """Every request built for a withdrawal (the original and any fee bumps)."""
        return self._requests("WHERE withdrawal_id = ? ORDER BY rowid", (withdrawal_id,))

    def requests_in(self, *statuses: Status) -> tuple[TxRequest, ...]:
        """Requests in any of ``statuses``, by chain, account and nonce."""
        marks = ", ".join("?" for _ in statuses)
        return self._requests(
            f"WHERE status IN ({marks}) ORDER BY chain_id, source, nonce, rowid",
            tuple(s.value for s in statuses),
        )

    def requests_at_nonce(
        self, chain_id: int, source: Address, nonce: int
    ) -> tuple[TxRequest, ...]:
        """Every request for one (chain, account, nonce): an original and its bumps."""
        return self._requests(
            "WHERE chain_id = ? AND source = ? AND nonce = ? ORDER BY rowid",
            (chain_id, addr_text(source), nonce),
        )

    def open_requests(self, chain_id: int, source: Address) -> tuple[TxRequest, ...]:
        """Requests of an account that may still hold their nonce (not cancelled, failed or
        superseded)."""
        return self._requests(
            "WHERE chain_id = ? AND source = ? "
            "AND status NOT IN ('cancelled', 'failed', 'superseded') "
            "ORDER BY nonce, rowid",
            (chain_id, addr_text(source)),
        )

    def _requests(self, where: str, params: tuple[object, ...]) -> tuple[TxRequest, ...]:
        rows = self._db.execute(f"{_SELECT_REQUESTS} {where}", params)
        return tuple(_request(row) for row in rows.fetchall())

    def set_request_status(self, request: TxRequest, new: Status, note: str) -> None:
        """Move one request (and its withdrawal's derived status) in one transaction."""
        with self.transaction():
            current = self.request(request.request_id)
            if current is None:
                raise StateError(f"no request {request.request_id}")
            if current.status is not new:
                self._set_request(current, new, note)

    # responses and signatures ----------------------------------------------------------

    def response_seen(self, digest: str) -> bool:
        """True when a response file with this SHA-256 digest was imported before."""
        row = self._db.execute("SELECT 1 FROM responses WHERE digest = ?", (digest,)).fetchone()
        return row is not None

    def add_signatures(self, digest: str, signatures: Sequence[StoredSignature], note: str) -> None:
        """Store one imported response's verified signatures; their requests become signed.

        The importer re-checks, inside the transaction this joins, that the response and its
        signatures are new (:meth:`watcher.verify.Verifier.import_ur`); the table constraints
        are the last line: a collision is a :class:`StateConflictError` and nothing is stored.
        """
        with self.transaction():
            with conflicts_refused("response", digest):
                self._db.execute(
                    "INSERT INTO responses VALUES (?, ?, ?)",
                    (digest, len(signatures), self._clock()),
                )
            for sig in signatures:
                request = self.request(sig.request_id)
                if request is None:
                    raise StateError(f"no request {sig.request_id}")
                late = request.status is Status.CANCELLED
                if late:
                    self._check_late(request)
                with conflicts_refused("signature of request", sig.request_id):
                    self._db.execute(
                        "INSERT INTO signatures VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (sig.request_id, sig.v, sig.r, sig.s, sig.raw_tx, sig.tx_hash, digest),
                    )
                if late:
                    self._sign_late(request, note)
                else:
                    self._set_request(request, Status.SIGNED, note)

    def signature(self, request_id: str) -> StoredSignature | None:
        """The verified signature of a request, if imported."""
        row = self._db.execute(
            "SELECT request_id, v, r, s, raw_tx, tx_hash FROM signatures WHERE request_id = ?",
            (request_id,),
        ).fetchone()
        return None if row is None else StoredSignature(*row)

    def gap_replacement(self, request_id: str) -> TxRequest | None:
        """The request ``fill-gap`` stored in place of ``request_id``, if it replaced it."""
        found = self._requests(
            "WHERE replaces = ? AND batch_id IN (SELECT id FROM batches WHERE kind = 'gap') "
            "ORDER BY rowid",
            (request_id,),
        )
        return found[0] if found else None

    def signed_at_nonce(self, request: TxRequest) -> TxRequest | None:
        """Another request at ``request``'s (chain, account, nonce) whose signature is stored."""
        for sibling in self.requests_at_nonce(request.chain_id, request.source, request.nonce):
            if (
                sibling.request_id != request.request_id
                and self.signature(sibling.request_id) is not None
            ):
                return sibling
        return None

    def _check_late(self, request: TxRequest) -> None:
        # Re-checked inside the import's transaction: Verifier.verify read outside it.
        if self.gap_replacement(request.request_id) is None:
            raise StateError(f"request {request.request_id} is cancelled, not replaced by fill-gap")
        holder = self.signed_at_nonce(request)
        if holder is not None:
            raise StateError(
                f"request {request.request_id}: nonce {request.nonce} is held by signed request "
                f"{holder.request_id}"
            )

    def _sign_late(self, request: TxRequest, note: str) -> None:
        """A late signature of a request ``fill-gap`` replaced, imported while no request at its
        nonce is signed: the replacements are superseded (never signed, never sent), the
        request is signed after all, and a withdrawal a ``--cancel`` cancelled is reopened."""
        why = f"{note}: late signature of request {request.request_id}, which holds the nonce"
        for sibling in self.requests_at_nonce(request.chain_id, request.source, request.nonce):
            if sibling.status in (Status.BUILT, Status.AWAITING_SIGNATURE):
                self._set_request(sibling, Status.SUPERSEDED, why)
        withdrawal = self.withdrawal(request.withdrawal_id)
        if withdrawal is None:
            raise StateError(f"no withdrawal {request.withdrawal_id!r}")
        if request.purpose is Purpose.PAYMENT and withdrawal.status is Status.CANCELLED:
            # The one way back from "cancelled": the payment it was cancelled for is signed.
            self._db.execute(
                "UPDATE withdrawals SET status = ? WHERE id = ?",
                (Status.SIGNED.value, withdrawal.id),
            )
            self._history(withdrawal.id, None, Status.CANCELLED, Status.SIGNED, why)
        self._db.execute(
            "UPDATE requests SET status = ? WHERE request_id = ?",
            (Status.SIGNED.value, request.request_id),
        )
        self._history(None, request.request_id, Status.CANCELLED, Status.SIGNED, why)
        self._sync_withdrawal(request.withdrawal_id, note)

    def replace_unsigned(self, original: TxRequest, replacement: TxRequest, note: str) -> None:
        """Store ``replacement`` (built, same nonce) and cancel ``original``, which awaited a
        signature; a cancelling replacement cancels the withdrawal too. One transaction."""
        with self.transaction():
            current = self.request(original.request_id)
            if current is None or current.status is not Status.AWAITING_SIGNATURE:
                raise StateError(f"request {original.request_id} is not awaiting a signature")
            self.add_request(replacement, note)
            self._set_request(
                current, Status.CANCELLED, f"{note}: replaced by request {replacement.request_id}"
            )
            if replacement.purpose is Purpose.CANCEL:
                withdrawal = self.withdrawal(original.withdrawal_id)
                if withdrawal is None:
                    raise StateError(f"no withdrawal {original.withdrawal_id!r}")
                if withdrawal.status is not Status.CANCELLED:
                    self._set_withdrawal(withdrawal, Status.CANCELLED, note)

    # signer audit heads -----------------------------------------------------------------

    def signer_head(self, fingerprint: str) -> SignerHead | None:
        """The audit head stored last for the signer with this master fingerprint."""
        found = self._heads("WHERE master_fingerprint = ?", (fingerprint,))
        return found[0] if found else None

    def signer_heads(self) -> tuple[SignerHead, ...]:
        """Every stored signer head, by fingerprint."""
        return self._heads("", ())

    def _heads(self, where: str, params: tuple[object, ...]) -> tuple[SignerHead, ...]:
        rows = self._db.execute(
            "SELECT master_fingerprint, seq, head_hash, response_digest, seen_at "  # noqa: S608
            f"FROM signer_heads {where} ORDER BY master_fingerprint",
            params,
        ).fetchall()
        return tuple(SignerHead(f, int(n), bytes(h), d, t) for f, n, h, d, t in rows)

    def save_signer_head(self, fingerprint: str, seq: int, head_hash: bytes, digest: str) -> None:
        """Remember the head a response carried (call in the transaction that stores it)."""
        with self.transaction(), conflicts_refused("audit head of signer", fingerprint):
            self._db.execute(
                "INSERT INTO signer_heads VALUES (?, ?, ?, ?, ?) ON CONFLICT(master_fingerprint) "
                "DO UPDATE SET seq = excluded.seq, head_hash = excluded.head_hash, "
                "response_digest = excluded.response_digest, seen_at = excluded.seen_at",
                (fingerprint, seq, head_hash, digest, self._clock()),
            )

    def reset_signer_head(self, fingerprint: str, reset_by: str, reason: str) -> HeadReset:
        """Forget a signer's head on purpose, recording the dropped head, who and why."""
        with self.transaction():
            head = self.signer_head(fingerprint)
            if head is None:
                raise StateError(f"no audit head is stored for signer {fingerprint}")
            reset = HeadReset(
                fingerprint, head.seq, head.head_hash, reset_by, reason, self._clock()
            )
            self._db.execute(
                "INSERT INTO signer_head_resets (master_fingerprint, seq, head_hash, reset_by, "
                "reason, at) VALUES (?, ?, ?, ?, ?, ?)",
                (fingerprint, reset.seq, reset.head_hash, reset_by, reason, reset.at),
            )
            self._db.execute(
                "DELETE FROM signer_heads WHERE master_fingerprint = ?", (fingerprint,)
            )
        return reset

    def head_resets(self, fingerprint: str) -> tuple[HeadReset, ...]:
        """Every deliberate reset of a signer's head, oldest first."""
        rows = self._db.execute(
            "SELECT master_fingerprint, seq, head_hash, reset_by, reason, at "
            "FROM signer_head_resets WHERE master_fingerprint = ? ORDER BY id",
            (fingerprint,),
        ).fetchall()
        return tuple(HeadReset(f, int(n), bytes(h), b, r, t) for f, n, h, b, r, t in rows)

    # broadcasts and receipts ------------------------------------------------------------

    def record_attempt(self, tx_hash: bytes, error: str) -> None:
        """Count one broadcast attempt of ``tx_hash`` and its outcome."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO broadcasts VALUES (?, 1, ?, ?) ON CONFLICT(tx_hash) DO UPDATE "
                "SET attempts = attempts + 1, last_error = excluded.last_error, "
                "last_at = excluded.last_at",
                (tx_hash, error, self._clock()),
            )

    def attempts(self, tx_hash: bytes) -> int:
        """How many times ``tx_hash`` was sent."""
        row = self._db.execute(
            "SELECT attempts FROM broadcasts WHERE tx_hash = ?", (tx_hash,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def save_receipt(self, receipt: StoredReceipt) -> None:
        """Remember the receipt last seen for a transaction."""
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO receipts VALUES (?, ?, ?, ?, 0)",
                (receipt.tx_hash, receipt.block_number, receipt.block_hash, int(receipt.success)),
            )

    def forget_receipt(self, tx_hash: bytes) -> None:
        """Drop a receipt that a reorg took away."""
        with self.transaction():
            self._db.execute("DELETE FROM receipts WHERE tx_hash = ?", (tx_hash,))

    def receipt(self, tx_hash: bytes) -> StoredReceipt | None:
        """The receipt last seen for ``tx_hash``."""
        row = self._db.execute(
            "SELECT tx_hash, block_number, block_hash, success FROM receipts WHERE tx_hash = ?",
            (tx_hash,),
        ).fetchone()
        return None if row is None else StoredReceipt(row[0], row[1], row[2], bool(row[3]))

    # status bookkeeping ---------------------------------------------------------------

    def _set_request(self, request: TxRequest, new: Status, note: str) -> None:
        check_transition(f"request {request.request_id}", request.status, new)
        self._db.execute(
            "UPDATE requests SET status = ? WHERE request_id = ?", (new.value, request.request_id)
        )
        self._history(None, request.request_id, request.status, new, note)
        self._sync_withdrawal(request.withdrawal_id, note)

    def _set_withdrawal(self, withdrawal: Withdrawal, new: Status, note: str) -> None:
        check_transition(f"withdrawal {withdrawal.id}", withdrawal.status, new)
        self._db.execute(
            "UPDATE withdrawals SET status = ? WHERE id = ?", (new.value, withdrawal.id)
        )
        self._history(withdrawal.id, None, withdrawal.status, new, note)

    def _sync_withdrawal(self, withdrawal_id: str, note: str) -> None:
        withdrawal = self.withdrawal(withdrawal_id)
        if withdrawal is None:
            raise StateError(f"no withdrawal {withdrawal_id!r}")
        # A cancelling transaction pays nothing: the withdrawal was cancelled when it was built.
        statuses = {
            r.status for r in self.requests_for(withdrawal_id) if r.purpose is Purpose.PAYMENT
        } - {Status.CANCELLED, Status.SUPERSEDED}
        derived = withdrawal.status
        for candidate in _RANK:
            if candidate in statuses:
                derived = candidate
                break
        else:
            if statuses and statuses <= {Status.FAILED, Status.REPLACED}:
                derived = Status.FAILED
        if derived is Status.BUILT and withdrawal.status is Status.AWAITING_SIGNATURE:
            # fill-gap replaced the request that awaited a signature with one whose request
            # file is written next: the withdrawal awaits a signature all along.
            return
        if derived is not withdrawal.status:
            self._set_withdrawal(withdrawal, derived, note)

    def _history(
        self,
        withdrawal_id: str | None,
        request_id: str | None,
        old: Status | None,
        new: Status,
        note: str,
    ) -> None:
        self._db.execute(
            "INSERT INTO history (withdrawal_id, request_id, from_status, to_status, note, at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                withdrawal_id,
                request_id,
                None if old is None else old.value,
                new.value,
                note,
                self._clock(),
            ),
        )


def _withdrawal(row: tuple[object, ...]) -> Withdrawal:
    (id_, chain_id, asset, destination, amount, amount_text, memo, source, status, request_id) = row
    return Withdrawal(
        str(id_),
        int(str(chain_id)),
        str(asset),
        _addr(str(destination)),
        int(str(amount)),
        str(amount_text),
        str(memo),
        _addr(str(source)),
        Status(str(status)),
        None if request_id is None else str(request_id),
    )


def _request(row: tuple[object, ...]) -> TxRequest:
    (
        request_id,
        batch_id,
        position,
        withdrawal_id,
        chain_id,
        source,
        path,
        fingerprint,
        nonce,
        payload,
        signing_hash,
        value,
        max_fee,
        priority_fee,
        gas_limit,
        replaces,
        status,
        purpose,
    ) = row
    if not isinstance(payload, bytes) or not isinstance(signing_hash, bytes):
        raise StateError(f"request {request_id}: payload columns are not blobs")
    return TxRequest(
        str(request_id),
        int(str(batch_id)),
        int(str(position)),
        str(withdrawal_id),
        int(str(chain_id)),
        _addr(str(source)),
        str(path),
        str(fingerprint),
        int(str(nonce)),
        payload,
        signing_hash,
        int(str(value)),
        int(str(max_fee)),
        int(str(priority_fee)),
        int(str(gas_limit)),
        None if replaces is None else str(replaces),
        Status(str(status)),
        Purpose(str(purpose)),
    )
