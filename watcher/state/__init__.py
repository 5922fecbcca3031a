"""The watcher's durable state: SQLite schema, migrations, statuses and the store."""

from watcher.state.status import ALLOWED, TERMINAL, Status, check_transition
from watcher.state.store import (
    Account,
    Batch,
    HeadReset,
    Purpose,
    SignerHead,
    Store,
    StoredReceipt,
    StoredSignature,
    TxRequest,
    Withdrawal,
    addr_text,
    utc_now,
)

__all__ = [
    "ALLOWED",
    "TERMINAL",
    "Account",
    "Batch",
    "HeadReset",
    "Purpose",
    "SignerHead",
    "Status",
    "Store",
    "StoredReceipt",
    "StoredSignature",
    "TxRequest",
    "Withdrawal",
    "addr_text",
    "check_transition",
    "utc_now",
]
