"""The SQLite schema as ordered migrations; ``PRAGMA user_version`` counts those applied."""

from __future__ import annotations

# Each migration is a tuple of statements run in one transaction. Never edit a released
# migration: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE accounts (
            address TEXT PRIMARY KEY,
            path TEXT NOT NULL,
            master_fingerprint TEXT NOT NULL,
            position INTEGER NOT NULL,
            paired_at TEXT NOT NULL
        )""",
        """CREATE TABLE token_decimals (
            chain_id INTEGER NOT NULL,
            address TEXT NOT NULL,
            decimals INTEGER NOT NULL,
            PRIMARY KEY (chain_id, address)
        )""",
        """CREATE TABLE batches (
            id INTEGER PRIMARY KEY,
            chain_id INTEGER NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('withdrawals', 'bump')),
            ur_type TEXT NOT NULL,
            parts_file TEXT,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE withdrawals (
            id TEXT PRIMARY KEY,
            chain_id INTEGER NOT NULL,
            asset TEXT NOT NULL,
            destination TEXT NOT NULL,
            amount TEXT NOT NULL,
            amount_text TEXT NOT NULL,
            memo TEXT NOT NULL,
            source TEXT NOT NULL,
            status TEXT NOT NULL,
            request_id TEXT,
            intake_seq INTEGER NOT NULL
        )""",
        """CREATE TABLE requests (
            request_id TEXT PRIMARY KEY,
            batch_id INTEGER NOT NULL REFERENCES batches(id),
            position INTEGER NOT NULL,
            withdrawal_id TEXT NOT NULL REFERENCES withdrawals(id),
            chain_id INTEGER NOT NULL,
            source TEXT NOT NULL,
            path TEXT NOT NULL,
            master_fingerprint TEXT NOT NULL,
            nonce INTEGER NOT NULL,
            payload BLOB NOT NULL,
            signing_hash BLOB NOT NULL,
            value TEXT NOT NULL,
            max_fee_per_gas TEXT NOT NULL,
            max_priority_fee_per_gas TEXT NOT NULL,
            gas_limit TEXT NOT NULL,
            replaces TEXT REFERENCES requests(request_id),
            status TEXT NOT NULL,
            UNIQUE (batch_id, position)
        )""",
        "CREATE INDEX requests_by_nonce ON requests (chain_id, source, nonce)",
        """CREATE TABLE responses (
            digest TEXT PRIMARY KEY,
            signatures INTEGER NOT NULL,
            imported_at TEXT NOT NULL
        )""",
        """CREATE TABLE signatures (
            request_id TEXT PRIMARY KEY REFERENCES requests(request_id),
            v INTEGER NOT NULL,
            r BLOB NOT NULL,
            s BLOB NOT NULL,
            raw_tx BLOB NOT NULL,
            tx_hash BLOB NOT NULL UNIQUE,
            response_digest TEXT NOT NULL REFERENCES responses(digest)
        )""",
        """CREATE TABLE broadcasts (
            tx_hash BLOB PRIMARY KEY,
            attempts INTEGER NOT NULL,
            last_error TEXT NOT NULL,
            last_at TEXT NOT NULL
        )""",
        """CREATE TABLE receipts (
            tx_hash BLOB PRIMARY KEY,
            block_number INTEGER NOT NULL,
            block_hash BLOB NOT NULL,
            success INTEGER NOT NULL,
            gas_used INTEGER NOT NULL
        )""",
        """CREATE TABLE history (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            withdrawal_id TEXT,
            request_id TEXT,
            from_status TEXT,
            to_status TEXT NOT NULL,
            note TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
    ),
    # 2: signers' audit heads and their deliberate resets; gap-filling requests. SQLite cannot
    # change a CHECK in place, so batches is rebuilt (Store._migrate turns foreign keys off
    # around the migrations and runs foreign_key_check before each commit, SQLite's
    # "Making Other Kinds Of Table Schema Changes" procedure).
    (
        """CREATE TABLE signer_heads (
            master_fingerprint TEXT PRIMARY KEY,
            seq INTEGER NOT NULL,
            head_hash BLOB NOT NULL CHECK (length(head_hash) = 32),
            response_digest TEXT NOT NULL REFERENCES responses(digest),
            seen_at TEXT NOT NULL
        )""",
        """CREATE TABLE signer_head_resets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            master_fingerprint TEXT NOT NULL,
            seq INTEGER NOT NULL,
            head_hash BLOB NOT NULL,
            reset_by TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL
        )""",
        "ALTER TABLE requests ADD COLUMN purpose TEXT NOT NULL DEFAULT 'payment' "
        "CHECK (purpose IN ('payment', 'cancel'))",
        """CREATE TABLE batches_v2 (
            id INTEGER PRIMARY KEY,
            chain_id INTEGER NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('withdrawals', 'bump', 'gap')),
            ur_type TEXT NOT NULL,
            parts_file TEXT,
            created_at TEXT NOT NULL
        )""",
        "INSERT INTO batches_v2 SELECT id, chain_id, source, kind, ur_type, parts_file, "
        "created_at FROM batches",
        "DROP TABLE batches",
        "ALTER TABLE batches_v2 RENAME TO batches",
    ),
)
