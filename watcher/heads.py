"""Signer audit heads: which signer answered a response, and the check that its log moved on.

Every coldsign response carries the signer's audit-log head after its decisions
(``eth-signature`` key 4, ``eth-batch-signature`` key 2: ``[seq, head-hash]``, docs/format.md).
The log only grows, so for one signer (one master fingerprint) a later response has a higher
sequence number, or the same head when nothing was appended in between. A lower number is a
rolled-back log (a home restored from an old copy); the same number with another hash is a
second signer grown from one copy (a clone), or a log rewritten from that point. Both are
refused before anything is stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shared.erc4527 import AuditHead
from watcher.errors import ConfigError, ForeignResponseError, SignerRollbackError
from watcher.state import HeadReset, SignerHead, TxRequest

_FINGERPRINT = re.compile(r"[0-9a-f]{8}")
# Who reset a head and why end up on one line of `status`: short, printable, one line.
MAX_NOTE = 200


def signer_of(requests: Sequence[TxRequest]) -> str:
    """The one master fingerprint the requests a response answers were made for."""
    fingerprints = sorted({request.master_fingerprint for request in requests})
    if len(fingerprints) != 1:
        raise ForeignResponseError(
            "one response answers requests for signers "
            f"{', '.join(fingerprints) or '(none)'}: a signer holds one seed"
        )
    return fingerprints[0]


def check_forward(fingerprint: str, known: SignerHead | None, got: AuditHead | None) -> None:
    """Refuse a head that is behind, or forks from, the one stored for ``fingerprint``.

    The first head of a signer (or the first after ``reset-head``) is taken as it is. Once a
    signer has reported a head, a response without one is refused as well: a coldsign signer
    always sends it, so its absence means another program answered with the same seed.
    """
    if known is None:
        return
    stored = (known.seq, known.head_hash)
    if got is None:
        raise SignerRollbackError(fingerprint, stored, None)
    if got.seq < known.seq or (got.seq == known.seq and got.head_hash != known.head_hash):
        raise SignerRollbackError(fingerprint, stored, (got.seq, got.head_hash))


def parse_fingerprint(text: str) -> str:
    """A master fingerprint as the watcher prints it: 8 hex digits (any case in input)."""
    folded = text.strip().lower()
    if not _FINGERPRINT.fullmatch(folded):
        raise ConfigError("FINGERPRINT", f"expected 8 hex digits, got {text!r}")
    return folded


def parse_note(text: str, flag: str) -> str:
    """A ``--by`` / ``--reason`` value: 1 to 200 printable characters on one line."""
    note = text.strip()
    if not note:
        raise ConfigError(flag, "must not be empty")
    if len(note) > MAX_NOTE:
        raise ConfigError(flag, f"at most {MAX_NOTE} characters, got {len(note)}")
    if not note.isprintable():
        raise ConfigError(flag, "must be printable text on one line")
    return note


def head_text(fingerprint: str, head: SignerHead | None) -> str:
    """One line for a signer's stored head, whole, as ``audit verify --known-head`` takes it."""
    if head is None:
        return f"signer {fingerprint}: no audit head stored yet"
    return (
        f"signer {fingerprint}: audit head {head.seq}:{head.head_hash.hex()} "
        f"(imported {head.seen_at})"
    )


def reset_text(reset: HeadReset) -> str:
    """One line for a deliberate reset: when, who, why and the head it dropped."""
    return (
        f"reset {reset.at} by {reset.reset_by}: {reset.reason} "
        f"(dropped {reset.seq}:{reset.head_hash.hex()})"
    )
