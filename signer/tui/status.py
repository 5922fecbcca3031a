"""What the home screen shows, gathered off the UI thread: policy, audit log, air gap, accounts."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from signer.airgap import AirGapStatus
from signer.audit import AuditEntry, AuditKind, VerifyReport
from signer.buildinfo import BuildInfo
from signer.errors import AuditError, AuditTamperedError
from signer.keys.accounts import EnrolledAccount
from signer.policy.model import Policy

RECENT_DECISIONS = 5


class AuditSource(Protocol):
    """The audit log as the home screen reads it."""

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry in order, each checked against the chain before it."""
        ...

    def verify(self) -> VerifyReport:
        """Verify the whole chain."""
        ...


@dataclass(frozen=True, slots=True)
class AuditStatus:
    """The audit log: verified or not, its size and head, and the last decisions in it."""

    verified: bool
    entries: int
    head_seq: int | None
    head_hash: bytes | None
    problem: str
    recent: tuple[AuditEntry, ...]


@dataclass(frozen=True, slots=True)
class HomeStatus:
    """Everything on the home screen."""

    accounts: tuple[EnrolledAccount, ...]
    master_fingerprint: bytes
    policy: Policy
    audit: AuditStatus
    airgap: AirGapStatus
    build: BuildInfo


def audit_status(log: AuditSource) -> AuditStatus:
    """Verify the log and keep its last decisions; a broken log is reported, not raised."""
    recent: deque[AuditEntry] = deque(maxlen=RECENT_DECISIONS)
    try:
        for entry in log.entries():
            if entry.kind == AuditKind.DECISION:
                recent.append(entry)
        report = log.verify()
    except AuditTamperedError as exc:
        return AuditStatus(False, 0, None, None, f"tampered: {exc}", tuple(recent))
    except AuditError as exc:
        return AuditStatus(False, 0, None, None, str(exc), tuple(recent))
    return AuditStatus(
        True, report.entries, report.head_seq, report.head_hash, "", tuple(reversed(recent))
    )
