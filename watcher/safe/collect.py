"""Collecting responses: owner signatures from any signer in any order, and the executor's.

Each ``eth-signature`` is matched by request id. An owner signature must recover, over the
proposal's stored SafeTx hash, to the owner the request was sent to, who must still be an
owner on chain and must not have signed before; the executor's must sign the stored
transaction (``watcher.verify.check_signature``). The response's audit head must move forward
from the one stored for its signer, the same head (in ``watcher.db``) a withdrawal response
of that signer is checked against (:mod:`watcher.heads`). One bad signature or head refuses
the whole response and nothing is stored in either database; a response imported before is
refused as a replay. Whether the response, each owner's signature and the executor's
transaction are still new is checked again inside the write transaction (``BEGIN
IMMEDIATE``): a second process importing the same response, or another carrying one of its
signatures, at the same moment gets the same refusal, never a raw ``sqlite3.IntegrityError``,
and what the first one stored stays as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shared.address import Address
from shared.erc4527 import AuditHead, EthSignature
from watcher.errors import (
    ForeignResponseError,
    MalformedResponseError,
    ReplayedResponseError,
    SignerRollbackError,
)
from watcher.heads import check_forward
from watcher.rpc import Node
from watcher.safe.errors import OwnerSignatureError, SafeSignerRollbackError
from watcher.safe.onchain import read_safe
from watcher.safe.signatures import check_owner_signature
from watcher.safe.store import Execution, Proposal, ProposalStatus, SafeStore
from watcher.state import Status, Store, TxRequest
from watcher.verify import check_signature, decode_signatures, read_response, response_digest

_COLLECTING = frozenset({ProposalStatus.AWAITING_SIGNATURES, ProposalStatus.READY})
# The note watcher.db's store takes with a response; a Safe response moves no withdrawal, so
# no history row carries it.
_NOTE = "safe import"


@dataclass(frozen=True, slots=True)
class Collected:
    """What one response added: owner signatures by proposal, executor transactions signed,
    and the signer (master fingerprint) that answered with the audit head it carried."""

    owners: tuple[tuple[int, Address], ...]
    executions: tuple[int, ...]
    signer: str
    head: AuditHead | None


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


def one_signer(answered: dict[str, list[tuple[str, Address]]]) -> str:
    """The one master fingerprint whose requests a response answered: a signer holds one seed."""
    if len(answered) != 1:
        named = "; ".join(
            f"{fingerprint} ({', '.join(f'{role} {a.checksummed()}' for role, a in accounts)})"
            for fingerprint, accounts in sorted(answered.items())
        )
        raise ForeignResponseError(
            f"one response answers requests for signers {named or '(none)'}: a signer holds "
            "one seed"
        )
    return next(iter(answered))


class Collector:
    """Verifies responses against the Safe proposals and stores what passes."""

    def __init__(self, store: SafeStore, nodes: Callable[[int], Node], signers: Store) -> None:
        """``nodes`` gives the node of a chain id: each proposal's owners are read on its own
        chain. ``signers`` is the watcher's own store: it keeps every signer's audit head."""
        self._store = store
        self._nodes = nodes
        self._signers = signers

    def import_lines(self, lines: Sequence[str], *, source: str) -> Collected:
        """Verify every signature of a response file and its signer's audit head, then store
        them all (or nothing)."""
        ur = read_response(lines, source=source)
        signatures, head = decode_signatures(ur)
        digest = response_digest(ur)
        if self._store.response_seen(digest):
            raise ReplayedResponseError(f"{source}: this response was imported before")
        added: dict[int, dict[Address, tuple[str, bytes, str]]] = {}
        signed: dict[int, tuple[str, bytes, bytes, str]] = {}
        answered: dict[str, list[tuple[str, Address]]] = {}
        for index, signature in enumerate(signatures):
            where = f"signature {index + 1}"
            request_id = self._request_id(signature, where)
            owner_request = self._store.owner_request(request_id)
            if owner_request is not None:
                proposal_id = owner_request.proposal_id
                packed = self._owner(signature, request_id, where, added.get(proposal_id, {}))
                added.setdefault(proposal_id, {})[owner_request.owner] = (request_id, packed, where)
                answered.setdefault(owner_request.master_fingerprint, []).append(
                    ("owner", owner_request.owner)
                )
                continue
            execution = self._store.execution(request_id)
            if execution is None:
                raise ForeignResponseError(
                    f"{where}: request {request_id} was not made by this watcher's Safe side"
                )
            signed[execution.proposal_id] = (*self._executor(execution, signature, where), where)
            answered.setdefault(execution.master_fingerprint, []).append(
                ("executor", execution.executor)
            )
        fingerprint = one_signer(answered)
        accounts = tuple(answered[fingerprint])
        # safe.db's transaction encloses watcher.db's: a refusal (or any error) rolls both
        # back. watcher.db commits first, so a crash between the two commits leaves the head
        # stored and the signatures not: importing the same response again finishes it.
        with self._store.transaction(), self._signers.transaction():
            if self._store.response_seen(digest):
                raise ReplayedResponseError(f"{source}: this response was imported before")
            # BEGIN IMMEDIATE waited for any other import that was writing: what it stored
            # since the checks above is refused with their words, before anything is written.
            for proposal_id, owners in added.items():
                for owner, (_, _, where) in owners.items():
                    self._still_unsigned(proposal_id, owner, where)
            for proposal_id, (request_id, _, _, where) in signed.items():
                execution = self._store.execution(request_id)
                if execution is None:
                    raise ForeignResponseError(
                        f"{where}: request {request_id} was not made by this watcher's Safe side"
                    )
                _executor_awaited(self._store.proposal(proposal_id), execution, where)
            # This very response passed the head check and was recorded in watcher.db by an
            # import that stopped before safe.db committed.
            resumed = self._signers.response_seen(digest)
            if not resumed:
                self._check_head(fingerprint, head, accounts)
            for proposal_id, owners in added.items():
                for owner, (request_id, packed, _) in owners.items():
                    self._store.add_owner_signature(proposal_id, owner, request_id, packed)
                proposal = self._store.proposal(proposal_id)
                if len(self._store.owner_signatures(proposal_id)) >= proposal.threshold:
                    self._store.set_status(proposal_id, ProposalStatus.READY)
            for proposal_id, (request_id, raw, tx_hash, _) in signed.items():
                self._store.set_executed_tx(request_id, raw, tx_hash)
                self._store.set_status(proposal_id, ProposalStatus.SIGNED)
            self._store.add_response(digest)
            if not resumed:
                # The head row names its response in watcher.db's ``responses``: the response
                # is recorded there with no withdrawal signatures of its own.
                self._signers.add_signatures(digest, (), _NOTE)
                if head is not None:
                    self._signers.save_signer_head(fingerprint, head.seq, head.head_hash, digest)
        return Collected(
            tuple((p, o) for p, owners in added.items() for o in owners),
            tuple(signed),
            fingerprint,
            head,
        )

    def _check_head(
        self, fingerprint: str, head: AuditHead | None, accounts: tuple[tuple[str, Address], ...]
    ) -> None:
        try:
            check_forward(fingerprint, self._signers.signer_head(fingerprint), head)
        except SignerRollbackError as exc:
            raise SafeSignerRollbackError(exc.fingerprint, exc.known, exc.got, accounts) from exc

    def _still_unsigned(self, proposal_id: int, owner: Address, where: str) -> None:
        """The early checks of an owner signature that another import can make fail: the
        proposal still collects signatures and ``owner`` has not signed it."""
        _collecting(self._store.proposal(proposal_id), where)
        if owner in self._store.owner_signatures(proposal_id):
            # The words of check_owner_signature's refusal of an owner already stored.
            raise OwnerSignatureError(f"{where}: owner {owner} has already signed this transaction")

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
        pending: dict[Address, tuple[str, bytes, str]],
    ) -> bytes:
        request = self._store.owner_request(request_id)
        if request is None:
            raise ForeignResponseError(f"{where}: unknown request {request_id}")
        proposal = self._store.proposal(request.proposal_id)
        _collecting(proposal, where)
        if proposal.tx.chain_id is None:
            raise ForeignResponseError(f"{where}: proposal {proposal.id} names no chain")
        chain_id = proposal.tx.chain_id
        info = read_safe(self._nodes(chain_id), proposal.tx.safe, chain_id)
        already = dict(self._store.owner_signatures(proposal.id))
        already.update({owner: packed for owner, (_, packed, _) in pending.items()})
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
        _executor_awaited(proposal, execution, where)
        chain_id = proposal.tx.chain_id if proposal.tx.chain_id is not None else 0
        stored = check_signature(
            execution_request(execution, chain_id),
            signature.v,
            signature.r,
            signature.s,
            where,
        )
        return execution.request_id, stored.raw_tx, stored.tx_hash


def _collecting(proposal: Proposal, where: str) -> None:
    if proposal.status not in _COLLECTING:
        raise ReplayedResponseError(
            f"{where}: proposal {proposal.id} is {proposal.status}, no longer collecting signatures"
        )


def _executor_awaited(proposal: Proposal, execution: Execution, where: str) -> None:
    if proposal.status is not ProposalStatus.AWAITING_EXECUTOR or execution.raw_tx is not None:
        raise ReplayedResponseError(
            f"{where}: the executor transaction of proposal {proposal.id} is not awaited "
            f"(proposal {proposal.status})"
        )
