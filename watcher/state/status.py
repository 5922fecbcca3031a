"""Withdrawal and transaction statuses, and the transitions between them."""

from __future__ import annotations

from enum import StrEnum

from watcher.errors import StateError


class Status(StrEnum):
    """Where a withdrawal (or one transaction built for it) stands.

    received → built → awaiting-signature → signed → broadcast → confirmed, or failed
    (reverted, or its nonce taken by another transaction), cancelled (by the operator
    before signing) or replaced (a transaction superseded by a fee bump that was mined).
    A ``fill-gap`` request is superseded, never signed or sent, when a late signature of the
    request it replaced is imported first (:meth:`Store.add_signatures`).
    """

    RECEIVED = "received"
    BUILT = "built"
    AWAITING_SIGNATURE = "awaiting-signature"
    SIGNED = "signed"
    BROADCAST = "broadcast"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REPLACED = "replaced"
    SUPERSEDED = "superseded"


_S = Status
# Going back is allowed only where the chain forces it: a dropped or reorged transaction
# returns to "broadcast" (and a mined one can be reorged out of a failure too).
ALLOWED: dict[Status, frozenset[Status]] = {
    _S.RECEIVED: frozenset({_S.BUILT, _S.CANCELLED}),
    _S.BUILT: frozenset({_S.AWAITING_SIGNATURE, _S.CANCELLED, _S.SUPERSEDED}),
    _S.AWAITING_SIGNATURE: frozenset({_S.SIGNED, _S.CANCELLED, _S.SUPERSEDED}),
    _S.SIGNED: frozenset({_S.BROADCAST, _S.FAILED, _S.REPLACED}),
    _S.BROADCAST: frozenset({_S.CONFIRMED, _S.FAILED, _S.REPLACED}),
    _S.CONFIRMED: frozenset({_S.BROADCAST}),
    _S.FAILED: frozenset({_S.BROADCAST}),
    _S.CANCELLED: frozenset(),
    _S.REPLACED: frozenset({_S.BROADCAST}),
    _S.SUPERSEDED: frozenset(),
}
TERMINAL = frozenset({_S.CONFIRMED, _S.FAILED, _S.CANCELLED, _S.REPLACED, _S.SUPERSEDED})


def check_transition(what: str, old: Status, new: Status) -> None:
    """Refuse a transition the life cycle does not have (a bug, or a tampered database)."""
    if new not in ALLOWED[old]:
        raise StateError(f"{what}: cannot go from {old} to {new}")
