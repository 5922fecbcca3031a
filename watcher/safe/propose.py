"""Proposing: pending Safe withdrawals become one SafeTx and a typed-data request per owner.

The Safe's owners, threshold, nonce and version are read from the chain; the SafeTx hash
is computed locally and must equal the Safe's own ``getTransactionHash`` before anything is
written. Each owner the watcher has paired (``coldsign-watcher pair`` of that owner's
signer) gets an ``eth-sign-request`` with the full EIP-712 JSON, addressed to the owner's
key path; owners on signers not paired here are listed so the operator can reach them.
One proposal per Safe is open at a time: the next one needs the Safe's next nonce.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.address import Address
from watcher import erc20
from watcher.intake import NATIVE
from watcher.requestkit import RequestKit
from watcher.rpc import Node
from watcher.safe.config import SafeConfig
from watcher.safe.errors import SafeBuildError
from watcher.safe.intake import token_address
from watcher.safe.onchain import SafeInfo, checked_tx_hash, read_safe
from watcher.safe.payouts import Payout, payout_tx, totals
from watcher.safe.store import OwnerRequest, SafeStore
from watcher.safe.typed_data import owner_request


@dataclass(frozen=True, slots=True)
class Proposed:
    """A proposal written out: its hash, the Safe as read, and where each request went."""

    proposal_id: int
    safe_tx_hash: bytes
    info: SafeInfo
    payouts: int
    requests: tuple[tuple[Address, Path], ...]
    unpaired: tuple[Address, ...]


class Proposer:
    """Builds the next Safe transaction for a Safe's pending withdrawals."""

    def __init__(self, kit: RequestKit, store: SafeStore) -> None:
        # ``kit.store`` holds the paired owner accounts; ``store`` (safe.db) the proposals.
        self._kit = kit
        self._store = store

    def propose(self, safe: SafeConfig) -> Proposed | None:
        """Propose the Safe's pending withdrawals (at most ``max_batch``); None if none wait."""
        node = self._kit.node(safe.chain_id)
        still_open = self._store.open_proposals(safe.chain_id, safe.address)
        if still_open:
            first = still_open[0]
            raise SafeBuildError(
                f"safe {safe.name}: proposal {first.id} (Safe nonce {first.tx.nonce}) is still "
                f"{first.status}: execute it before proposing the next"
            )
        pending = self._store.pending(safe.chain_id, safe.address)[: self._kit.config.max_batch]
        if not pending:
            return None
        info = read_safe(node, safe.address, safe.chain_id)
        payouts = [Payout(w.asset, w.destination, w.amount) for w in pending]
        self._check_balances(node, safe, payouts)
        tx = payout_tx(
            safe.address, safe.chain_id, info.nonce, payouts, safe.call_only_for(info.version)
        )
        digest = checked_tx_hash(node, tx, info.version)
        requests: list[OwnerRequest] = []
        written: list[tuple[Address, Path]] = []
        unpaired: list[Address] = []
        proposal_key = f"safe-{safe.name}-nonce-{tx.nonce}"
        for owner in sorted(info.owners, key=lambda o: o.raw):
            account = self._kit.store.account(owner)
            if account is None:
                unpaired.append(owner)
                continue
            request_id = self._kit.new_request_id()
            sign_request = owner_request(
                tx,
                info.version,
                owner=owner,
                path=account.path,
                master_fingerprint=account.master_fingerprint,
                request_id=request_id,
            )
            # docs/watcher.md, operator attestation: a signer whose policy pins operator
            # keys signs only requests attested by one of them, an owner's as much as a
            # withdrawal.
            attester = self._kit.attester
            request = sign_request if attester is None else attester.attest(sign_request)
            # Files first, then the database: a crash leaves at most orphan files, never
            # a stored request whose file is missing.
            path = self._kit.writer.write(
                f"{proposal_key}-owner-{owner.checksummed()}", request.to_ur()
            )
            written.append((owner, path))
            requests.append(
                OwnerRequest(
                    request_id, 0, owner, account.path, account.master_fingerprint, str(path)
                )
            )
        if not requests:
            raise SafeBuildError(
                f"safe {safe.name}: none of its {len(info.owners)} owners is paired with this "
                "watcher: pair each owner's signer first"
            )
        with self._store.transaction():
            proposal_id = self._store.add_proposal(
                tx, info.version_text, digest, info.threshold, [w.id for w in pending]
            )
            for stored in requests:
                self._store.add_owner_request(
                    OwnerRequest(
                        stored.request_id,
                        proposal_id,
                        stored.owner,
                        stored.path,
                        stored.master_fingerprint,
                        stored.parts_file,
                    )
                )
        return Proposed(proposal_id, digest, info, len(payouts), tuple(written), tuple(unpaired))

    def _check_balances(self, node: Node, safe: SafeConfig, payouts: list[Payout]) -> None:
        for asset, needed in totals(payouts).items():
            if asset == NATIVE:
                held = node.balance(safe.address)
            else:
                held = erc20.balance_of(node, token_address(asset), safe.address)
            if needed > held:
                raise SafeBuildError(
                    f"safe {safe.name} holds {held} base units of {asset} but the payouts "
                    f"need {needed}"
                )
