"""A policy install in two steps, so the audit log never misses or invents one.

``policy install`` first stages the new file under ``.policy.toml.staged`` (written and
fsync'd), then appends the ``policy-installed`` entry, then renames the staged file over
``policy.toml`` (rename(2), then an fsync of the directory). A power cut can stop it anywhere:

- before the entry is durable: the next start finds a staged file that no entry names and
  deletes it; the old policy stays, and the log says nothing was installed, which is true;
- after the entry, before the rename: the next start finds the staged file named by the log's
  last entry (its new hash, and the old hash of the policy still in place) and completes the
  rename; the log said it was installed, and now it is.

Either way what the log records and what governs signing agree before any decision is made:
:func:`settle_staged_policy` runs when the audit log is opened at start-up, before anything
else is appended.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum

from signer.audit import AuditLog
from signer.audit.record import AuditEntry, AuditKind
from signer.errors import HomeError
from signer.home import SignerHome
from signer.keys.atomicfile import OS_FILE_OPS, FileOps, fsync_directory, write_atomic


class Settled(StrEnum):
    """What :func:`settle_staged_policy` found."""

    NOTHING = "nothing staged"
    COMPLETED = "completed"
    DISCARDED = "discarded"


def stage_policy(home: SignerHome, data: bytes) -> None:
    """Write ``data`` durably as the staged policy (replacing any earlier staged file)."""
    try:
        write_atomic(home.staged_policy_path, data, overwrite=True)
    except OSError as exc:
        raise HomeError(f"cannot write {home.staged_policy_path}: {exc.strerror}") from exc


def publish_staged_policy(home: SignerHome, *, ops: FileOps = OS_FILE_OPS) -> None:
    """Rename the staged policy over ``policy.toml`` and make the rename durable."""
    try:
        ops.replace(str(home.staged_policy_path), str(home.policy_path))
        fsync_directory(home.root)
    except OSError as exc:
        raise HomeError(
            f"the new policy is recorded in the audit log but could not be put in place"
            f" ({exc.strerror}); the signer completes it when it next starts"
        ) from exc


def settle_staged_policy(home: SignerHome, audit: AuditLog) -> Settled:
    """Complete or discard a policy install that a crash interrupted (see the module text)."""
    staged = home.read_staged_policy()
    if staged is None:
        return Settled.NOTHING
    current = home.read_policy() if home.has_policy() else None
    if _names_the_install(audit.last_entry(), staged, current):
        publish_staged_policy(home)
        return Settled.COMPLETED
    try:
        home.staged_policy_path.unlink()
        fsync_directory(home.root)
    except OSError as exc:
        raise HomeError(f"cannot remove {home.staged_policy_path}: {exc.strerror}") from exc
    return Settled.DISCARDED


def _names_the_install(last: AuditEntry, staged: bytes, current: bytes | None) -> bool:
    # Only the very last entry can: the install appends it and renames at once, and at
    # start-up this runs before anything else is appended.
    if last.kind != AuditKind.POLICY_INSTALLED:
        return False
    old = None if current is None else hashlib.sha256(current).hexdigest()
    return (
        last.fields.get("new_policy_hash") == hashlib.sha256(staged).hexdigest()
        and last.fields.get("old_policy_hash") == old
    )
