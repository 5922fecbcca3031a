"""Tracking broadcast transactions to N confirmations, through drops and reorgs.

A receipt ``confirmations`` blocks deep confirms a transaction (or fails it if it reverted)
and retires the other versions of its nonce. A pending transaction the node no longer knows
was dropped: it is sent again (a bounded number of times). A confirmed transaction whose
receipt disappears, or moves to another block, within the reorg window goes back to
"broadcast" and is tracked (and if need be sent) again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from watcher.config import ChainConfig, WatcherConfig
from watcher.errors import NodeRejectedError, StateError
from watcher.rpc import Node, Receipt
from watcher.state import Status, Store, StoredReceipt, StoredSignature, TxRequest

# Blocks below the head in which a confirmed transaction is still checked for reorgs.
REORG_WINDOW = 128
MAX_REBROADCASTS = 5


@dataclass(frozen=True, slots=True)
class TrackReport:
    """What one pass saw, as request ids."""

    confirmed: tuple[str, ...]
    pending: tuple[str, ...]
    resent: tuple[str, ...]
    reorged: tuple[str, ...]
    failed: tuple[str, ...]


class Tracker:
    """Follows every broadcast (and recently confirmed) transaction on its chain."""

    def __init__(
        self,
        config: WatcherConfig,
        store: Store,
        nodes: Callable[[ChainConfig], Node],
        *,
        reorg_window: int = REORG_WINDOW,
        max_rebroadcasts: int = MAX_REBROADCASTS,
    ) -> None:
        self._config = config
        self._store = store
        self._nodes = nodes
        self._window = reorg_window
        self._max_resends = max_rebroadcasts

    def run(self, note: str = "track") -> TrackReport:
        """One pass over every chain with transactions in flight or recently confirmed."""
        report: dict[str, list[str]] = {
            k: [] for k in ("confirmed", "pending", "resent", "reorged", "failed")
        }
        settled = self._store.requests_in(Status.CONFIRMED, Status.FAILED)
        flying = self._store.requests_in(Status.BROADCAST)
        chains = sorted({r.chain_id for r in settled + flying})
        for chain_id in chains:
            chain = self._config.chain_by_id(chain_id)
            node = self._nodes(chain)
            head = node.block_number()
            for request in settled:
                if request.chain_id == chain_id:
                    self._recheck(node, head, request, note, report)
            for request in self._store.requests_in(Status.BROADCAST):
                if request.chain_id == chain_id:
                    self._follow(node, chain, head, request, note, report)
        return TrackReport(**{k: tuple(v) for k, v in report.items()})

    def _signature(self, request: TxRequest) -> StoredSignature:
        stored = self._store.signature(request.request_id)
        if stored is None:
            raise StateError(f"request {request.request_id} is broadcast but has no signature")
        return stored

    def _recheck(
        self, node: Node, head: int, request: TxRequest, note: str, report: dict[str, list[str]]
    ) -> None:
        stored = self._signature(request)
        known = self._store.receipt(stored.tx_hash)
        if known is None or known.block_number < head - self._window:
            return
        receipt = node.receipt(stored.tx_hash)
        if receipt is not None and receipt.block_hash == known.block_hash:
            return
        if receipt is None:
            self._store.forget_receipt(stored.tx_hash)
        else:
            self._store.save_receipt(_stored(receipt))
        self._store.set_request_status(
            request, Status.BROADCAST, f"{note}: reorg took block {known.block_number}"
        )
        report["reorged"].append(request.request_id)

    def _follow(
        self,
        node: Node,
        chain: ChainConfig,
        head: int,
        request: TxRequest,
        note: str,
        report: dict[str, list[str]],
    ) -> None:
        stored = self._signature(request)
        receipt = node.receipt(stored.tx_hash)
        if receipt is not None:
            self._store.save_receipt(_stored(receipt))
            depth = head - receipt.block_number + 1
            if depth < chain.confirmations:
                report["pending"].append(request.request_id)
                return
            if receipt.success:
                self._store.set_request_status(
                    request, Status.CONFIRMED, f"{note}: {depth} confirmations"
                )
                report["confirmed"].append(request.request_id)
            else:
                self._store.set_request_status(
                    request, Status.FAILED, f"{note}: reverted in block {receipt.block_number}"
                )
                report["failed"].append(request.request_id)
            self._retire_siblings(request, note)
            return
        if self._store.receipt(stored.tx_hash) is not None:
            self._store.forget_receipt(stored.tx_hash)
            report["reorged"].append(request.request_id)
        if node.transaction(stored.tx_hash) is not None:
            report["pending"].append(request.request_id)
            return
        if self._sibling_known(node, request):
            report["pending"].append(request.request_id)
            return
        # Dropped from the node's pool (or reorged out with it): send the same bytes again.
        if self._store.attempts(stored.tx_hash) >= self._max_resends:
            report["failed"].append(request.request_id)
            return
        try:
            node.send_raw_transaction(stored.raw_tx)
            self._store.record_attempt(stored.tx_hash, "")
        except NodeRejectedError as exc:
            self._store.record_attempt(stored.tx_hash, exc.node_message)
        report["resent"].append(request.request_id)

    def _sibling_known(self, node: Node, request: TxRequest) -> bool:
        for sibling in self._store.requests_at_nonce(
            request.chain_id, request.source, request.nonce
        ):
            if sibling.request_id == request.request_id:
                continue
            sig = self._store.signature(sibling.request_id)
            if sig is not None and node.transaction(sig.tx_hash) is not None:
                return True
        return False

    def _retire_siblings(self, request: TxRequest, note: str) -> None:
        for sibling in self._store.requests_at_nonce(
            request.chain_id, request.source, request.nonce
        ):
            if sibling.request_id == request.request_id:
                continue
            if sibling.status in (Status.SIGNED, Status.BROADCAST):
                self._store.set_request_status(
                    sibling, Status.REPLACED, f"{note}: request {request.request_id} was mined"
                )
            elif sibling.status in (Status.BUILT, Status.AWAITING_SIGNATURE):
                self._store.set_request_status(
                    sibling, Status.CANCELLED, f"{note}: request {request.request_id} was mined"
                )


def _stored(receipt: Receipt) -> StoredReceipt:
    return StoredReceipt(receipt.tx_hash, receipt.block_number, receipt.block_hash, receipt.success)
