"""Broadcasting verified transactions in nonce order, with bounded retries for node errors.

Only transactions whose stored signature passes the import checks again are sent. The
node's answers are sorted into: accepted; already known (a resend after a crash: fine);
nonce too low (mined already, or the nonce went to another transaction); replacement
underpriced (an earlier version with this nonce is still pending); and other errors, which
are retried a bounded number of times with backoff before the account's later nonces wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

from watcher.config import ChainConfig, WatcherConfig
from watcher.crashpoints import CrashPoints, NoCrashPoints
from watcher.errors import BroadcastError, NodeRejectedError, StateError
from watcher.rpc import Node, Sleeper
from watcher.state import Status, Store, TxRequest
from watcher.verify import check_signature

# Substrings of node error messages (geth's txpool errors and anvil's pool errors).
_KNOWN = ("already known", "already imported", "known transaction")
_NONCE_LOW = ("nonce too low",)
_UNDERPRICED = ("replacement transaction underpriced", "replacement fee too low", "underpriced")


@dataclass(frozen=True, slots=True)
class BroadcastReport:
    """What one run did: hashes sent (or already known), and transactions left waiting."""

    sent: tuple[str, ...]
    waiting: tuple[str, ...]
    failed: tuple[str, ...]


class Broadcaster:
    """Sends every signed transaction, account by account, lowest nonce first."""

    def __init__(
        self,
        config: WatcherConfig,
        store: Store,
        nodes: Callable[[ChainConfig], Node],
        *,
        attempts: int = 3,
        backoff: float = 1.0,
        sleep: Sleeper = time.sleep,
        crash: CrashPoints | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._config = config
        self._store = store
        self._nodes = nodes
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self._crash = crash if crash is not None else NoCrashPoints()

    def run(self, note: str = "broadcast") -> BroadcastReport:
        """Send what is signed; raise :class:`BroadcastError` if something could not be sent."""
        sent: list[str] = []
        waiting: list[str] = []
        failed: list[str] = []
        signed = self._store.requests_in(Status.SIGNED)
        for (chain_id, _source), group in groupby(signed, key=lambda r: (r.chain_id, r.source)):
            node = self._nodes(self._config.chain_by_id(chain_id))
            for request in group:
                outcome, detail = self._send(node, request, note)
                if outcome == "sent":
                    sent.append(detail)
                elif outcome == "waiting":
                    waiting.append(detail)
                elif outcome == "failed":
                    failed.append(detail)
                else:
                    # A later nonce cannot be mined before this one: stop this account.
                    failed.append(detail)
                    break
        if failed:
            raise BroadcastError(f"{len(sent)} sent, {len(failed)} not: " + "; ".join(failed[:5]))
        return BroadcastReport(tuple(sent), tuple(waiting), ())

    def _send(self, node: Node, request: TxRequest, note: str) -> tuple[str, str]:
        stored = self._store.signature(request.request_id)
        if stored is None:
            raise StateError(f"request {request.request_id} is signed but has no signature")
        # Never broadcast what was not verified: the stored signature is checked again.
        check = check_signature(
            request, stored.v, stored.r, stored.s, f"request {request.request_id}"
        )
        if check.raw_tx != stored.raw_tx or check.tx_hash != stored.tx_hash:
            raise StateError(f"request {request.request_id}: stored raw transaction was altered")
        label = f"nonce {request.nonce} 0x{stored.tx_hash.hex()}"
        last = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(self._backoff * 2 ** (attempt - 1))
            try:
                got = node.send_raw_transaction(stored.raw_tx)
            except NodeRejectedError as exc:
                message = exc.node_message.lower()
                self._store.record_attempt(stored.tx_hash, exc.node_message)
                if any(text in message for text in _KNOWN):
                    self._store.set_request_status(request, Status.BROADCAST, f"{note}: known")
                    return "sent", label
                if any(text in message for text in _NONCE_LOW):
                    return self._nonce_taken(node, request, stored.tx_hash, label, note)
                if any(text in message for text in _UNDERPRICED):
                    return (
                        "waiting",
                        f"{label}: {exc.node_message} (a version with this nonce is pending)",
                    )
                last = exc.node_message
                continue
            if got != stored.tx_hash:
                raise BroadcastError(
                    f"{label}: the node answered with hash 0x{got.hex()} for this transaction"
                )
            self._crash.reached("broadcast.sent")
            self._store.record_attempt(stored.tx_hash, "")
            self._store.set_request_status(request, Status.BROADCAST, note)
            self._crash.reached("broadcast.recorded")
            return "sent", label
        return "stop", f"{label}: {last} (after {self._attempts} tries)"

    def _nonce_taken(
        self, node: Node, request: TxRequest, tx_hash: bytes, label: str, note: str
    ) -> tuple[str, str]:
        if node.transaction(tx_hash) is not None:
            # Ours was mined (or is pending) already: a resend after a crash.
            self._store.set_request_status(request, Status.BROADCAST, f"{note}: already mined")
            return "sent", label
        for sibling in self._store.requests_at_nonce(
            request.chain_id, request.source, request.nonce
        ):
            sibling_sig = self._store.signature(sibling.request_id)
            if sibling_sig is None or sibling.request_id == request.request_id:
                continue
            if node.transaction(sibling_sig.tx_hash) is not None:
                self._store.set_request_status(
                    request, Status.REPLACED, f"{note}: nonce used by request {sibling.request_id}"
                )
                return "waiting", f"{label}: replaced by request {sibling.request_id}"
        self._store.set_request_status(
            request, Status.FAILED, f"{note}: nonce {request.nonce} used by another transaction"
        )
        return (
            "failed",
            f"{label}: nonce {request.nonce} was used by a transaction this watcher did not make",
        )
