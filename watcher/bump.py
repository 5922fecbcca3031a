"""Fee bumps: a new request for a stuck transaction, same nonce and payload, higher fees.

Only the two EIP-1559 fee fields change; the signer's nonce ledger accepts a second
signature for a nonce only in that case. Both fees rise by at least ``fees.bump_percent``
(geth's pool wants 10 %) and at least to what the node suggests now, within the caps.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import DecodeError
from shared.tx import DATA_TYPE_TYPED, DynamicFeeTransaction, decode_transaction
from watcher.build import WrittenBatch, replacement_request, suggest_fees, write_pending
from watcher.errors import BuildError, FeeCapError, StateError
from watcher.requestkit import RequestKit
from watcher.state import Status, TxRequest


def _raise(value: int, percent: int) -> int:
    # Round up, and always by at least one wei, so a zero tip still rises.
    return max(value + 1, -(-value * (100 + percent) // 100))


class Bumper:
    """Writes fee-bump requests for broadcast transactions that are not mined."""

    def __init__(self, kit: RequestKit) -> None:
        self._kit = kit

    def stuck(self) -> tuple[TxRequest, ...]:
        """Broadcast requests with no receipt and no newer version waiting to be signed."""
        found: list[TxRequest] = []
        for request in self._kit.store.requests_in(Status.BROADCAST):
            node = self._kit.node(request.chain_id)
            signature = self._kit.store.signature(request.request_id)
            if signature is None or node.receipt(signature.tx_hash) is not None:
                continue
            siblings = self._kit.store.requests_at_nonce(
                request.chain_id, request.source, request.nonce
            )
            if any(
                s.status in (Status.BUILT, Status.AWAITING_SIGNATURE, Status.SIGNED)
                for s in siblings
            ):
                continue
            newest = max(
                (s for s in siblings if s.status is Status.BROADCAST),
                key=lambda s: s.max_fee_per_gas,
            )
            if newest.request_id == request.request_id:
                found.append(request)
        return tuple(found)

    def run(
        self, note: str = "bump", *, request_ids: Sequence[str] | None = None
    ) -> tuple[WrittenBatch, ...]:
        """Build and write bump requests (for ``request_ids``, or every stuck transaction)."""
        stuck = self.stuck()
        if request_ids is not None:
            wanted = set(request_ids)
            unknown = wanted - {r.request_id for r in stuck}
            if unknown:
                raise BuildError(
                    f"request {sorted(unknown)[0]} is not a stuck broadcast transaction"
                )
            stuck = tuple(r for r in stuck if r.request_id in wanted)
        groups: dict[tuple[int, bytes], list[TxRequest]] = {}
        for request in stuck:
            groups.setdefault((request.chain_id, request.source.raw), []).append(request)
        for (chain_id, _), members in groups.items():
            chain = self._kit.config.chain_by_id(chain_id)
            suggested = suggest_fees(self._kit.nodes(chain), self._kit.config.fees)
            bumped = [
                (
                    old,
                    self._bumped(
                        old, suggested.max_fee_per_gas, suggested.max_priority_fee_per_gas
                    ),
                )
                for old in members
            ]
            ur_type = "eth-sign-request" if len(bumped) == 1 else "eth-batch-sign-request"
            with self._kit.store.transaction():
                batch_id = self._kit.store.add_batch(chain_id, members[0].source, "bump", ur_type)
                for position, (old, tx) in enumerate(bumped):
                    request = replacement_request(
                        old,
                        tx,
                        request_id=self._kit.new_request_id(),
                        batch_id=batch_id,
                        position=position,
                        purpose=old.purpose,
                    )
                    self._kit.store.add_request(request, note)
        return write_pending(self._kit, note)

    def _bumped(self, old: TxRequest, max_fee: int, tip: int) -> DynamicFeeTransaction:
        try:
            tx = decode_transaction(old.payload, DATA_TYPE_TYPED, chain_id=old.chain_id)
        except DecodeError as exc:
            raise StateError(f"request {old.request_id}: stored payload does not decode") from exc
        if not isinstance(tx, DynamicFeeTransaction):
            raise StateError(f"request {old.request_id}: not an EIP-1559 transaction")
        percent = self._kit.config.fees.bump_percent
        new_tip = max(_raise(tx.max_priority_fee_per_gas, percent), tip)
        new_max = max(_raise(tx.max_fee_per_gas, percent), max_fee, new_tip)
        if new_max > self._kit.config.fees.max_fee_per_gas_cap:
            raise FeeCapError(
                f"request {old.request_id}: a bump needs max fee {new_max} wei/gas, above "
                f"fees.max_fee_per_gas_cap = {self._kit.config.fees.max_fee_per_gas_cap}"
            )
        return DynamicFeeTransaction(
            chain_id=tx.chain_id,
            nonce=tx.nonce,
            max_priority_fee_per_gas=new_tip,
            max_fee_per_gas=new_max,
            gas_limit=tx.gas_limit,
            to=tx.to,
            value=tx.value,
            data=tx.data,
            access_list=tx.access_list,
        )
