"""Collecting responses: owner signatures from any signer in any order, and the executor's.

Each ``eth-signature`` is matched by request id. An owner signature must recover, over the
proposal's stored SafeTx hash, to the owner the request was sent to, who must still be an
owner on chain and must not have signed before; the executor's must sign the stored
transaction (``watcher.verify.check_signature``). One bad signature refuses the whole
response and nothing is stored; a response imported before is refused as a replay.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from shared.address import Address
from shared.erc4527 import (
    BATCH_SIGNATURE_TYPE,
    SIGNATURE_TYPE,
    EthBatchSignature,
    EthSignature,
)
from shared.errors import DecodeError, IncompleteError
from shared.ur import UR
from watcher.errors import ForeignResponseError, MalformedResponseError, ReplayedResponseError
from watcher.parts import read_ur
from watcher.rpc import Node
from watcher.safe.onchain import read_safe
from watcher.safe.signatures import check_owner_signature
from watcher.safe.store import Execution, ProposalStatus, SafeStore
from watcher.state import Status, TxRequest
from watcher.verify import check_signature

_COLLECTING = frozenset({ProposalStatus.AWAITING_SIGNATURES, ProposalStatus.READY})


@dataclass(frozen=True, slots=True)
class Collected:
    """What one response added: owner signatures by proposal, executor transactions signed."""

    owners: tuple[tuple[int, Address], ...]
    executions: tuple[int, ...]


def execution_request(execution: Execution, chain_id: int) -> TxRequest:
    """The executor's transaction in the shape the watcher's signature check takes."""
    return TxRequest(
        request_id=execution.request_id,
        batch_id=0,
        position=0,
        withdrawal_id=f"safe-proposal-{execution.proposal_id}",
        chain_id=chain_id,
        source=execution.executor,
        path=execution.path,
        master_fingerprint=execution.master_fingerprint,
        nonce=execution.nonce,
        payload=execution.payload,
        signing_hash=execution.signing_hash,
        value=0,
        max_fee_per_gas=execution.max_fee_per_gas,
        max_priority_fee_per_gas=execution.max_priority_fee_per_gas,
        gas_limit=execution.gas_limit,
        replaces=None,
        status=Status.AWAITING_SIGNATURE,
    )


def decode_response(lines: Sequence[str], *, source: str) -> tuple[UR, tuple[EthSignature, ...]]:
    """Reassemble and strictly decode an ``eth-signature`` or ``eth-batch-signature``."""
    try:
        ur = read_ur(lines, frozenset({SIGNATURE_TYPE, BATCH_SIGNATURE_TYPE}), source=source)
        if ur.type == SIGNATURE_TYPE:
            return ur, (EthSignature.from_ur(ur),)
        return ur, EthBatchSignature.from_ur(ur).signatures
    except DecodeError as exc:
        raise MalformedResponseError(exc.field, exc.reason) from exc
    except IncompleteError as exc:
        raise MalformedResponseError(source, str(exc)) from exc


def response_digest(ur: UR) -> str:
    """SHA-256 over the UR type and its CBOR: the same response however it was split or cased."""
    return hashlib.sha256(ur.type.encode("ascii") + b"\x00" + ur.cbor).hexdigest()


class Collector:
    """Verifies responses against the Safe proposals and stores what passes."""

    def __init__(self, store: SafeStore, node: Node) -> None:
        self._store = store
        self._node = node

    def import_lines(self, lines: Sequence[str], *, source: str) -> Collected:
        """Verify every signature of a response file, then store them all (or nothing)."""
        ur, signatures = decode_response(lines, source=source)
        digest = response_digest(ur)
        if self._store.response_seen(digest):
            raise ReplayedResponseError(f"{source}: this response was imported before")
        added: dict[int, dict[Address, tuple[str, bytes]]] = {}
        signed: dict[int, tuple[str, bytes, bytes]] = {}
        for index, signature in enumerate(signatures):
            where = f"signature {index + 1}"
            request_id = self._request_id(signature, where)
            owner_request = self._store.owner_request(request_id)
            if owner_request is not None:
                proposal_id = owner_request.proposal_id
                packed = self._owner(signature, request_id, where, added.get(proposal_id, {}))
                added.setdefault(proposal_id, {})[owner_request.owner] = (request_id, packed)
                continue
            execution = self._store.execution(request_id)
            if execution is None:
                raise ForeignResponseError(
                    f"{where}: request {request_id} was not made by this watcher's Safe side"
                )
            signed[execution.proposal_id] = self._executor(execution, signature, where)
        with self._store.transaction():
            for proposal_id, owners in added.items():
                for owner, (request_id, packed) in owners.items():
                    self._store.add_owner_signature(proposal_id, owner, request_id, packed)
                proposal = self._store.proposal(proposal_id)
                if len(self._store.owner_signatures(proposal_id)) >= proposal.threshold:
                    self._store.set_status(proposal_id, ProposalStatus.READY)
            for proposal_id, (request_id, raw, tx_hash) in signed.items():
                self._store.set_executed_tx(request_id, raw, tx_hash)
                self._store.set_status(proposal_id, ProposalStatus.SIGNED)
            self._store.add_response(digest)
        return Collected(
            tuple((p, o) for p, owners in added.items() for o in owners), tuple(signed)
        )

    @staticmethod
    def _request_id(signature: EthSignature, where: str) -> str:
        if signature.request_id is None:
            raise MalformedResponseError(f"{where}.request-id", "missing: cannot match a request")
        return str(uuid.UUID(bytes=signature.request_id.raw))

    def _owner(
        self,
        signature: EthSignature,
        request_id: str,
        where: str,
        pending: dict[Address, tuple[str, bytes]],
    ) -> bytes:
        request = self._store.owner_request(request_id)
        if request is None:
            raise ForeignResponseError(f"{where}: unknown request {request_id}")
        proposal = self._store.proposal(request.proposal_id)
        if proposal.status not in _COLLECTING:
            raise ReplayedResponseError(
                f"{where}: proposal {proposal.id} is {proposal.status}, no longer collecting "
                "signatures"
            )
        if proposal.tx.chain_id is None:
            raise ForeignResponseError(f"{where}: proposal {proposal.id} names no chain")
        info = read_safe(self._node, proposal.tx.safe, proposal.tx.chain_id)
        already = dict(self._store.owner_signatures(proposal.id))
        already.update({owner: packed for owner, (_, packed) in pending.items()})
        return check_owner_signature(
            proposal.safe_tx_hash,
            signature,
            expected=request.owner,
            owners=info.owners,
            already=already,
            where=where,
        )

    def _executor(
        self, execution: Execution, signature: EthSignature, where: str
    ) -> tuple[str, bytes, bytes]:
        proposal = self._store.proposal(execution.proposal_id)
        if proposal.status is not ProposalStatus.AWAITING_EXECUTOR or execution.raw_tx is not None:
            raise ReplayedResponseError(
                f"{where}: the executor transaction of proposal {proposal.id} is not awaited "
                f"(proposal {proposal.status})"
            )
        chain_id = proposal.tx.chain_id if proposal.tx.chain_id is not None else 0
        stored = check_signature(
            execution_request(execution, chain_id),
            signature.v,
            signature.r,
            signature.s,
            where,
        )
        return execution.request_id, stored.raw_tx, stored.tx_hash
