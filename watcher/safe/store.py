"""The Safe side's SQLite state (``safe.db`` in the watcher home, WAL, ``synchronous=FULL``).

Separate from the watcher's own ``watcher.db`` so the two schemas evolve apart. Holds the
Safe withdrawals, the Safe transactions proposed for them (every SafeTx field and its
hash), the request sent to each owner, the owner signatures that passed every check, the
executor's transaction and the digests of imported responses (replays are refused).

A write that collides with a stored row (an owner's second signature of a proposal, a
response recorded twice) raises :class:`~watcher.errors.StateConflictError`, never a raw
``sqlite3.IntegrityError``; the caller's transaction rolls it back.

A proposal moves ``awaiting-signatures`` → ``ready`` (threshold met) → ``awaiting-executor``
(the executor's request written) → ``signed`` → ``broadcast`` → ``executed`` or ``failed``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from shared.address import Address
from shared.messages import SafeTx
from watcher.errors import StateError
from watcher.state import addr_text, utc_now
from watcher.state.store import conflicts_refused

STATE_NAME = "safe.db"
_SCHEMA = (
    """CREATE TABLE withdrawals (
        id TEXT PRIMARY KEY,
        safe TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        asset TEXT NOT NULL,
        destination TEXT NOT NULL,
        amount TEXT NOT NULL,
        amount_text TEXT NOT NULL,
        memo TEXT NOT NULL,
        proposal_id INTEGER REFERENCES proposals(id),
        seq INTEGER NOT NULL
    )""",
    """CREATE TABLE proposals (
        id INTEGER PRIMARY KEY,
        safe TEXT NOT NULL,
        chain_id INTEGER NOT NULL,
        version TEXT NOT NULL,
        nonce TEXT NOT NULL,
        to_address TEXT NOT NULL,
        value TEXT NOT NULL,
        data BLOB NOT NULL,
        operation INTEGER NOT NULL,
        safe_tx_gas TEXT NOT NULL,
        base_gas TEXT NOT NULL,
        gas_price TEXT NOT NULL,
        gas_token TEXT NOT NULL,
        refund_receiver TEXT NOT NULL,
        safe_tx_hash BLOB NOT NULL,
        threshold INTEGER NOT NULL,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE owner_requests (
        request_id TEXT PRIMARY KEY,
        proposal_id INTEGER NOT NULL REFERENCES proposals(id),
        owner TEXT NOT NULL,
        path TEXT NOT NULL,
        master_fingerprint TEXT NOT NULL,
        parts_file TEXT NOT NULL
    )""",
    """CREATE TABLE owner_signatures (
        proposal_id INTEGER NOT NULL REFERENCES proposals(id),
        owner TEXT NOT NULL,
        request_id TEXT NOT NULL REFERENCES owner_requests(request_id),
        signature BLOB NOT NULL,
        PRIMARY KEY (proposal_id, owner)
    )""",
    """CREATE TABLE executions (
        request_id TEXT PRIMARY KEY,
        proposal_id INTEGER NOT NULL REFERENCES proposals(id),
        executor TEXT NOT NULL,
        path TEXT NOT NULL,
        master_fingerprint TEXT NOT NULL,
        nonce INTEGER NOT NULL,
        payload BLOB NOT NULL,
        signing_hash BLOB NOT NULL,
        gas_limit TEXT NOT NULL,
        max_fee_per_gas TEXT NOT NULL,
        max_priority_fee_per_gas TEXT NOT NULL,
        raw_tx BLOB,
        tx_hash BLOB
    )""",
    "CREATE TABLE responses (digest TEXT PRIMARY KEY, imported_at TEXT NOT NULL)",
)
_VERSION = 1
# Fixed SELECTs; every WHERE clause appended below is a literal of this module.
_SELECT_WITHDRAWALS = (
    "SELECT id, safe, chain_id, asset, destination, amount, amount_text, memo, proposal_id "
    "FROM withdrawals"
)
_SELECT_PROPOSALS = (
    "SELECT id, safe, chain_id, version, nonce, to_address, value, data, operation, "
    "safe_tx_gas, base_gas, gas_price, gas_token, refund_receiver, safe_tx_hash, "
    "threshold, status FROM proposals"
)
_SELECT_OWNER_REQUESTS = (
    "SELECT request_id, proposal_id, owner, path, master_fingerprint, parts_file "
    "FROM owner_requests"
)
_SELECT_EXECUTIONS = (
    "SELECT request_id, proposal_id, executor, path, master_fingerprint, nonce, payload, "
    "signing_hash, gas_limit, max_fee_per_gas, max_priority_fee_per_gas, raw_tx, tx_hash "
    "FROM executions"
)


class ProposalStatus(StrEnum):
    """Where a proposed Safe transaction stands."""

    AWAITING_SIGNATURES = "awaiting-signatures"
    READY = "ready"
    AWAITING_EXECUTOR = "awaiting-executor"
    SIGNED = "signed"
    BROADCAST = "broadcast"
    EXECUTED = "executed"
    FAILED = "failed"


OPEN = frozenset(set(ProposalStatus) - {ProposalStatus.EXECUTED, ProposalStatus.FAILED})


@dataclass(frozen=True, slots=True)
class SafeWithdrawal:
    """One payout to make from a Safe; ``asset`` is ``native`` or ``0x`` + 40 lower-case hex."""

    id: str
    safe: Address
    chain_id: int
    asset: str
    destination: Address
    amount: int
    amount_text: str
    memo: str
    proposal_id: int | None = None


@dataclass(frozen=True, slots=True)
class Proposal:
    """A SafeTx built for withdrawals, its hash as the Safe confirmed it, and its status."""

    id: int
    tx: SafeTx
    version: str
    safe_tx_hash: bytes
    threshold: int
    status: ProposalStatus


@dataclass(frozen=True, slots=True)
class OwnerRequest:
    """The typed-data request sent to one owner's signer."""

    request_id: str
    proposal_id: int
    owner: Address
    path: str
    master_fingerprint: str
    parts_file: str


@dataclass(frozen=True, slots=True)
class Execution:
    """The executor's EIP-1559 transaction calling ``execTransaction``."""

    request_id: str
    proposal_id: int
    executor: Address
    path: str
    master_fingerprint: str
    nonce: int
    payload: bytes
    signing_hash: bytes
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    raw_tx: bytes | None
    tx_hash: bytes | None


def _addr(text: str) -> Address:
    return Address(bytes.fromhex(text[2:]))


class SafeStore:
    """Typed access to ``safe.db``; every change is one SQLite transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, home: Path) -> SafeStore:
        """Open (and create or migrate) ``safe.db`` in the watcher home ``home``."""
        try:
            db = sqlite3.connect(home / STATE_NAME, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA foreign_keys=ON")
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StateError(f"{home / STATE_NAME}: cannot open: {exc}") from exc
        if version > _VERSION:
            db.close()
            raise StateError(f"{home / STATE_NAME} is from a newer coldsign (schema {version})")
        store = cls(db)
        if version < _VERSION:
            with store.transaction():
                for statement in _SCHEMA:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {_VERSION}")
        return store

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any exception."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        # A failed COMMIT leaves SQLite inside the transaction: roll it back (see
        # watcher.state.store.Store._commit).
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            raise

    # -- withdrawals ------------------------------------------------------------------------

    def withdrawal(self, withdrawal_id: str) -> SafeWithdrawal | None:
        """The stored withdrawal with this id, or None."""
        rows = self._withdrawals("WHERE id = ?", (withdrawal_id,))
        return rows[0] if rows else None

    def insert_withdrawals(self, withdrawals: Sequence[SafeWithdrawal]) -> None:
        """Store new withdrawals (call inside :meth:`transaction`)."""
        seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM withdrawals").fetchone()[0]
        for offset, w in enumerate(withdrawals, start=1):
            self._db.execute(
                "INSERT INTO withdrawals VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
                (
                    w.id,
                    addr_text(w.safe),
                    w.chain_id,
                    w.asset,
                    addr_text(w.destination),
                    str(w.amount),
                    w.amount_text,
                    w.memo,
                    seq + offset,
                ),
            )

    def pending(self, chain_id: int, safe: Address) -> tuple[SafeWithdrawal, ...]:
        """Withdrawals from ``safe`` on chain ``chain_id`` not yet in a proposal, in intake
        order. A Safe deployed with the same owners and salt has the same address on every
        chain: the chain keeps one chain's payouts out of the other's proposal."""
        return self._withdrawals(
            "WHERE chain_id = ? AND safe = ? AND proposal_id IS NULL ORDER BY seq",
            (chain_id, addr_text(safe)),
        )

    def withdrawals(self) -> tuple[SafeWithdrawal, ...]:
        """Every withdrawal, in intake order."""
        return self._withdrawals("ORDER BY seq", ())

    def in_proposal(self, proposal_id: int) -> tuple[SafeWithdrawal, ...]:
        """The withdrawals a proposal pays, in payout order."""
        return self._withdrawals("WHERE proposal_id = ? ORDER BY seq", (proposal_id,))

    def _withdrawals(self, where: str, params: tuple[object, ...]) -> tuple[SafeWithdrawal, ...]:
        rows = self._db.execute(
            f"{_SELECT_WITHDRAWALS} {where}",
            params,
        ).fetchall()
        return tuple(
            SafeWithdrawal(r[0], _addr(r[1]), r[2], r[3], _addr(r[4]), int(r[5]), r[6], r[7], r[8])
            for r in rows
        )

    # -- proposals --------------------------------------------------------------------------

    def add_proposal(
        self,
        tx: SafeTx,
        version: str,
        safe_tx_hash: bytes,
        threshold: int,
        withdrawal_ids: Sequence[str],
    ) -> int:
        """Store a proposal and attach its withdrawals (call inside :meth:`transaction`)."""
        if tx.chain_id is None:
            raise StateError("a proposal needs the Safe's chain id")
        cursor = self._db.execute(
            "INSERT INTO proposals (safe, chain_id, version, nonce, to_address, value, data, "
            "operation, safe_tx_gas, base_gas, gas_price, gas_token, refund_receiver, "
            "safe_tx_hash, threshold, status, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                addr_text(tx.safe),
                tx.chain_id,
                version,
                str(tx.nonce),
                addr_text(tx.to),
                str(tx.value),
                tx.data,
                tx.operation,
                str(tx.safe_tx_gas),
                str(tx.base_gas),
                str(tx.gas_price),
                addr_text(tx.gas_token),
                addr_text(tx.refund_receiver),
                safe_tx_hash,
                threshold,
                ProposalStatus.AWAITING_SIGNATURES.value,
                utc_now(),
            ),
        )
        proposal_id = cursor.lastrowid
        if proposal_id is None:
            raise StateError("SQLite returned no proposal id")
        for withdrawal_id in withdrawal_ids:
            self._db.execute(
                "UPDATE withdrawals SET proposal_id = ? WHERE id = ? AND proposal_id IS NULL",
                (proposal_id, withdrawal_id),
            )
        return proposal_id

    def proposal(self, proposal_id: int) -> Proposal:
        """The proposal with this id (it must exist)."""
        rows = self._proposals("WHERE id = ?", (proposal_id,))
        if not rows:
            raise StateError(f"no Safe proposal {proposal_id}")
        return rows[0]

    def proposals(self, safe: Address | None = None) -> tuple[Proposal, ...]:
        """Every proposal (of ``safe`` when given), oldest first."""
        if safe is None:
            return self._proposals("ORDER BY id", ())
        return self._proposals("WHERE safe = ? ORDER BY id", (addr_text(safe),))

    def open_proposals(self, chain_id: int, safe: Address) -> tuple[Proposal, ...]:
        """Proposals of ``safe`` on chain ``chain_id`` that are neither executed nor failed."""
        return tuple(
            p for p in self.proposals(safe) if p.status in OPEN and p.tx.chain_id == chain_id
        )

    def set_status(self, proposal_id: int, status: ProposalStatus) -> None:
        """Record a proposal's new status; a failed one gives its withdrawals back to pending.

        A proposal fails when its execution reverted (nothing was paid) or another
        transaction took its Safe nonce (it can never execute), so its payouts are free to
        be proposed again.
        """
        self._db.execute(
            "UPDATE proposals SET status = ? WHERE id = ?", (status.value, proposal_id)
        )
        if status is ProposalStatus.FAILED:
            self._db.execute(
                "UPDATE withdrawals SET proposal_id = NULL WHERE proposal_id = ?", (proposal_id,)
            )

    def _proposals(self, where: str, params: tuple[object, ...]) -> tuple[Proposal, ...]:
        rows = self._db.execute(
            f"{_SELECT_PROPOSALS} {where}",
            params,
        ).fetchall()
        return tuple(
            Proposal(
                id=r[0],
                tx=SafeTx(
                    safe=_addr(r[1]),
                    chain_id=r[2],
                    to=_addr(r[5]),
                    value=int(r[6]),
                    data=bytes(r[7]),
                    operation=r[8],
                    safe_tx_gas=int(r[9]),
                    base_gas=int(r[10]),
                    gas_price=int(r[11]),
                    gas_token=_addr(r[12]),
                    refund_receiver=_addr(r[13]),
                    nonce=int(r[4]),
                ),
                version=r[3],
                safe_tx_hash=bytes(r[14]),
                threshold=r[15],
                status=ProposalStatus(r[16]),
            )
            for r in rows
        )

    # -- owner requests and signatures ------------------------------------------------------

    def add_owner_request(self, request: OwnerRequest) -> None:
        """Store the request sent to one owner."""
        self._db.execute(
            "INSERT INTO owner_requests VALUES (?, ?, ?, ?, ?, ?)",
            (
                request.request_id,
                request.proposal_id,
                addr_text(request.owner),
                request.path,
                request.master_fingerprint,
                request.parts_file,
            ),
        )

    def owner_request(self, request_id: str) -> OwnerRequest | None:
        """The owner request with this id, or None."""
        rows = self._owner_requests("WHERE request_id = ?", (request_id,))
        return rows[0] if rows else None

    def owner_requests(self, proposal_id: int) -> tuple[OwnerRequest, ...]:
        """Every owner request of a proposal."""
        return self._owner_requests("WHERE proposal_id = ? ORDER BY owner", (proposal_id,))

    def _owner_requests(self, where: str, params: tuple[object, ...]) -> tuple[OwnerRequest, ...]:
        rows = self._db.execute(
            f"{_SELECT_OWNER_REQUESTS} {where}",
            params,
        ).fetchall()
        return tuple(OwnerRequest(r[0], r[1], _addr(r[2]), r[3], r[4], r[5]) for r in rows)

    def add_owner_signature(
        self, proposal_id: int, owner: Address, request_id: str, signature: bytes
    ) -> None:
        """Store one verified owner signature (r || s || v, 65 bytes)."""
        key = f"{owner.checksummed()} of proposal {proposal_id}"
        with conflicts_refused("owner signature", key):
            self._db.execute(
                "INSERT INTO owner_signatures VALUES (?, ?, ?, ?)",
                (proposal_id, addr_text(owner), request_id, signature),
            )

    def owner_signatures(self, proposal_id: int) -> dict[Address, bytes]:
        """The verified signatures of a proposal, by owner."""
        rows = self._db.execute(
            "SELECT owner, signature FROM owner_signatures WHERE proposal_id = ?",
            (proposal_id,),
        ).fetchall()
        return {_addr(r[0]): bytes(r[1]) for r in rows}

    # -- execution --------------------------------------------------------------------------

    def add_execution(self, execution: Execution) -> None:
        """Store the executor's unsigned transaction."""
        self._db.execute(
            "INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
            (
                execution.request_id,
                execution.proposal_id,
                addr_text(execution.executor),
                execution.path,
                execution.master_fingerprint,
                execution.nonce,
                execution.payload,
                execution.signing_hash,
                str(execution.gas_limit),
                str(execution.max_fee_per_gas),
                str(execution.max_priority_fee_per_gas),
            ),
        )

    def execution(self, request_id: str) -> Execution | None:
        """The execution request with this id, or None."""
        rows = self._executions("WHERE request_id = ?", (request_id,))
        return rows[0] if rows else None

    def execution_of(self, proposal_id: int) -> Execution | None:
        """The (latest) execution request of a proposal, or None."""
        rows = self._executions("WHERE proposal_id = ? ORDER BY rowid DESC", (proposal_id,))
        return rows[0] if rows else None

    def set_executed_tx(self, request_id: str, raw_tx: bytes, tx_hash: bytes) -> None:
        """Record the executor's signed transaction."""
        self._db.execute(
            "UPDATE executions SET raw_tx = ?, tx_hash = ? WHERE request_id = ?",
            (raw_tx, tx_hash, request_id),
        )

    def _executions(self, where: str, params: tuple[object, ...]) -> tuple[Execution, ...]:
        rows = self._db.execute(
            f"{_SELECT_EXECUTIONS} {where}",
            params,
        ).fetchall()
        return tuple(
            Execution(
                r[0],
                r[1],
                _addr(r[2]),
                r[3],
                r[4],
                r[5],
                bytes(r[6]),
                bytes(r[7]),
                int(r[8]),
                int(r[9]),
                int(r[10]),
                None if r[11] is None else bytes(r[11]),
                None if r[12] is None else bytes(r[12]),
            )
            for r in rows
        )

    # -- signers ----------------------------------------------------------------------------

    def signers(self) -> tuple[tuple[str, str, Address], ...]:
        """(master fingerprint, ``owner`` or ``executor``, account) of every request sent."""
        rows = self._db.execute(
            "SELECT DISTINCT master_fingerprint, 'owner', owner FROM owner_requests UNION "
            "SELECT DISTINCT master_fingerprint, 'executor', executor FROM executions "
            "ORDER BY 1, 2 DESC, 3"
        ).fetchall()
        return tuple((r[0], r[1], _addr(r[2])) for r in rows)

    # -- responses --------------------------------------------------------------------------

    def response_seen(self, digest: str) -> bool:
        """True when a response with this digest was imported before."""
        row = self._db.execute("SELECT 1 FROM responses WHERE digest = ?", (digest,)).fetchone()
        return row is not None

    def add_response(self, digest: str) -> None:
        """Remember an imported response."""
        with conflicts_refused("response", digest):
            self._db.execute("INSERT INTO responses VALUES (?, ?)", (digest, utc_now()))
