"""Executing: once the threshold is met, the executor's ``execTransaction`` is signed and sent.

The executor is a paired account (a key on a signer device) that pays the gas. Before its
request is written the Safe is read again: the nonce must still be the proposal's, the hash
is re-checked against ``getTransactionHash``, only signatures of current owners count, and
``eth_estimateGas`` must show the Safe would execute it. The executor's signer then sees the
whole ``execTransaction`` call, batch and all, and judges it by its own policy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from shared.erc4527 import DataType, EthSignRequest, Keypath, RequestId
from shared.tx import DynamicFeeTransaction
from watcher.build import suggest_fees
from watcher.errors import NodeRejectedError
from watcher.requestkit import RequestKit
from watcher.safe.config import SafeConfig
from watcher.safe.errors import SafeBuildError
from watcher.safe.onchain import checked_tx_hash, exec_transaction_data, read_safe
from watcher.safe.signatures import pack_signatures
from watcher.safe.store import Execution, Proposal, ProposalStatus, SafeStore

ORIGIN = "coldsign-watcher safe"


@dataclass(frozen=True, slots=True)
class ExecutionRequest:
    """The executor's request on disk."""

    proposal_id: int
    path: Path
    nonce: int
    gas_limit: int


@dataclass(frozen=True, slots=True)
class Tracked:
    """Proposals whose execution this run found executed, or found failed."""

    executed: tuple[int, ...]
    failed: tuple[int, ...]


class Executor:
    """Writes the executor's request, broadcasts its signed transaction and tracks it."""

    def __init__(self, kit: RequestKit, store: SafeStore, chain_id: int) -> None:
        # ``kit.store`` holds the paired executor accounts and their reserved nonces;
        # ``store`` (safe.db) the proposals of every chain. One chain's node: run once per
        # chain, and touch only that chain's proposals (another chain's signed transaction
        # sent to this node would be refused for its chain id and stop the whole run).
        self._kit = kit
        self._store = store
        self._chain_id = chain_id
        self._node = kit.node(chain_id)

    def request(self, safe: SafeConfig) -> ExecutionRequest:
        """Write the executor's request for the Safe's proposal that met its threshold."""
        if safe.chain_id != self._chain_id:
            raise SafeBuildError(
                f"safe {safe.name} is on chain {safe.chain_id}, this executor on {self._chain_id}"
            )
        still_open = self._store.open_proposals(safe.chain_id, safe.address)
        if not still_open or still_open[0].status is not ProposalStatus.READY:
            state = (
                f"proposal {still_open[0].id} is {still_open[0].status}"
                if still_open
                else "no proposal"
            )
            raise SafeBuildError(f"safe {safe.name}: nothing to execute ({state})")
        proposal = still_open[0]
        if safe.executor is None:
            raise SafeBuildError(f"safe {safe.name}: no executor is configured in safes.toml")
        account = self._kit.store.account(safe.executor)
        if account is None:
            raise SafeBuildError(f"executor {safe.executor} is not a paired account")
        data = self._exec_data(safe, proposal)
        try:
            estimate = self._node.estimate_gas(safe.executor, safe.address, 0, data)
        except NodeRejectedError as exc:
            raise SafeBuildError(
                f"safe {safe.name}: execTransaction would revert ({exc.node_message})"
            ) from exc
        gas_limit = estimate * (100 + self._kit.config.fees.gas_margin_percent) // 100
        fees = suggest_fees(self._node, self._kit.config.fees)
        nonce = self._node.nonce(safe.executor, "pending")
        reserved = self._kit.store.open_requests(safe.chain_id, safe.executor)
        if reserved:
            # The executor may also send the watcher's own withdrawals: skip their nonces.
            nonce = max(nonce, max(r.nonce for r in reserved) + 1)
        tx = DynamicFeeTransaction(
            chain_id=safe.chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
            max_fee_per_gas=fees.max_fee_per_gas,
            gas_limit=gas_limit,
            to=safe.address,
            value=0,
            data=data,
            access_list=(),
        )
        if tx.max_fee_cost() > self._node.balance(safe.executor):
            raise SafeBuildError(
                f"executor {safe.executor} cannot pay up to {tx.max_fee_cost()} wei of gas"
            )
        request_id = self._kit.new_request_id()
        unattested = EthSignRequest(
            sign_data=tx.unsigned_payload(),
            data_type=DataType.TYPED_TRANSACTION,
            derivation_path=Keypath.parse(
                account.path, source_fingerprint=int(account.master_fingerprint, 16)
            ),
            request_id=RequestId(uuid.UUID(request_id).bytes),
            chain_id=safe.chain_id,
            address=safe.executor,
            origin=ORIGIN,
        )
        # docs/watcher.md, operator attestation: a signer whose policy pins operator keys
        # signs only requests attested by one of them, the executor's as much as a withdrawal.
        attester = self._kit.attester
        request = unattested if attester is None else attester.attest(unattested)
        path = self._kit.writer.write(
            f"safe-{safe.name}-nonce-{proposal.tx.nonce}-execute", request.to_ur()
        )
        with self._store.transaction():
            self._store.add_execution(
                Execution(
                    request_id,
                    proposal.id,
                    safe.executor,
                    account.path,
                    account.master_fingerprint,
                    nonce,
                    tx.unsigned_payload(),
                    tx.signing_hash(),
                    gas_limit,
                    tx.max_fee_per_gas,
                    tx.max_priority_fee_per_gas,
                    None,
                    None,
                )
            )
            self._store.set_status(proposal.id, ProposalStatus.AWAITING_EXECUTOR)
        return ExecutionRequest(proposal.id, path, nonce, gas_limit)

    def _exec_data(self, safe: SafeConfig, proposal: Proposal) -> bytes:
        info = read_safe(self._node, safe.address, safe.chain_id)
        if info.nonce != proposal.tx.nonce:
            with self._store.transaction():
                self._store.set_status(proposal.id, ProposalStatus.FAILED)
            raise SafeBuildError(
                f"safe {safe.name}: its nonce is {info.nonce}, the proposal was for "
                f"{proposal.tx.nonce}: another transaction used it; propose again"
            )
        if checked_tx_hash(self._node, proposal.tx, info.version) != proposal.safe_tx_hash:
            raise SafeBuildError(f"proposal {proposal.id}: the stored hash is not the Safe's")
        signatures = {
            owner: signature
            for owner, signature in self._store.owner_signatures(proposal.id).items()
            if owner in info.owners
        }
        if len(signatures) < info.threshold:
            raise SafeBuildError(
                f"safe {safe.name}: {len(signatures)} current owners signed, the threshold is "
                f"{info.threshold}"
            )
        return exec_transaction_data(proposal.tx, pack_signatures(signatures, info.threshold))

    def broadcast(self) -> tuple[int, ...]:
        """Send every signed executor transaction of this chain; return the proposals sent."""
        sent: list[int] = []
        for proposal in self._on_chain(ProposalStatus.SIGNED):
            execution = self._store.execution_of(proposal.id)
            if execution is None or execution.raw_tx is None:
                continue
            try:
                self._node.send_raw_transaction(execution.raw_tx)
            except NodeRejectedError as exc:
                if "already known" not in exc.node_message:
                    raise
            with self._store.transaction():
                self._store.set_status(proposal.id, ProposalStatus.BROADCAST)
            sent.append(proposal.id)
        return tuple(sent)

    def track(self) -> Tracked:
        """Look up the receipts of this chain's executions sent; record executed or failed."""
        executed: list[int] = []
        failed: list[int] = []
        for proposal in self._on_chain(ProposalStatus.BROADCAST):
            execution = self._store.execution_of(proposal.id)
            if execution is None or execution.tx_hash is None:
                continue
            receipt = self._node.receipt(execution.tx_hash)
            if receipt is None:
                continue
            outcome = ProposalStatus.EXECUTED if receipt.success else ProposalStatus.FAILED
            with self._store.transaction():
                self._store.set_status(proposal.id, outcome)
            (executed if receipt.success else failed).append(proposal.id)
        return Tracked(tuple(executed), tuple(failed))

    def _on_chain(self, status: ProposalStatus) -> tuple[Proposal, ...]:
        """This chain's proposals in ``status``, oldest first."""
        return tuple(
            p
            for p in self._store.proposals()
            if p.status is status and p.tx.chain_id == self._chain_id
        )
