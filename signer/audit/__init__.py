"""The signer's tamper-evident audit log: hash-chained, append-only, fsync'd entries."""

from __future__ import annotations

from signer.audit.log import AuditLog
from signer.audit.record import GENESIS_PREV, AuditEntry, AuditKind, entry_hash
from signer.audit.verify import VerifyReport, verify_log

__all__ = [
    "GENESIS_PREV",
    "AuditEntry",
    "AuditKind",
    "AuditLog",
    "VerifyReport",
    "entry_hash",
    "verify_log",
]
