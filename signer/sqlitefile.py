"""Opening the signer's SQLite state files (nonce ledger, limits store) durably and strictly.

Both files guard money (equivocation protection, the 24-hour window), so both are opened the
same careful way: WAL with ``synchronous = FULL`` (a record acknowledged survives power loss),
no implicit transactions, the file identified by SQLite's ``application_id`` header field and
its schema version, a new file created whole in one transaction, a foreign, newer or damaged
file refused with the kind's own error, and the whole file checked once (``quick_check``)
because a damaged page may go unnoticed until a lookup touches it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from signer.errors import SignerError

BUSY_TIMEOUT_MS = 10_000


@dataclass(frozen=True, slots=True)
class StateFileKind:
    """What one kind of state file is: its name in messages, identity, schema and error."""

    what: str  # "nonce ledger": how messages name the file
    application_id: int
    version: int
    tables: frozenset[str]
    create: tuple[str, ...]  # the statements that make a new file of the current version
    error: type[SignerError]
    # version -> (its tables, statements that bring it to the current version)
    upgrades: Mapping[int, tuple[frozenset[str], tuple[str, ...]]] = field(default_factory=dict)


def open_state_file(path: Path, kind: StateFileKind) -> sqlite3.Connection:
    """Open (creating if absent) the file at ``path``; raise ``kind.error`` naming the problem."""
    try:
        # isolation_level=None: no implicit transactions; every write is an explicit
        # BEGIN IMMEDIATE ... COMMIT.
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise kind.error(f"cannot open the {kind.what} {path}: {exc}") from exc
    try:
        _prepare(db, path, kind)
    except sqlite3.Error as exc:
        db.close()
        raise kind.error(f"{kind.what} {path} is unreadable or corrupted: {exc}") from exc
    except SignerError:
        db.close()
        raise
    return db


def _prepare(db: sqlite3.Connection, path: Path, kind: StateFileKind) -> None:
    """Set the durability pragmas, create the schema in a new file, refuse a foreign file."""
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise kind.error(f"{kind.what} {path}: cannot switch to WAL mode (got {mode})")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("BEGIN IMMEDIATE")
    try:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
        upgrade = kind.upgrades.get(version)
        if app_id == 0 and version == 0 and not tables:
            for statement in kind.create:
                db.execute(statement)
            db.execute(f"PRAGMA application_id = {kind.application_id}")
            db.execute(f"PRAGMA user_version = {kind.version}")
        elif app_id != kind.application_id:
            raise kind.error(f"{path} is an SQLite file but not a coldsign {kind.what}")
        elif upgrade is not None and tables == upgrade[0]:
            for statement in upgrade[1]:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {kind.version}")
        elif version != kind.version:
            raise kind.error(
                f"{kind.what} {path} has schema version {version}; this signer reads"
                f" version {kind.version}"
            )
        elif tables != kind.tables:
            raise kind.error(f"{kind.what} {path} has unexpected tables {sorted(tables)}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    problems = [r[0] for r in db.execute("PRAGMA quick_check")]
    if problems != ["ok"]:
        raise kind.error(f"{kind.what} {path} is corrupted: {'; '.join(problems[:3])}")
