"""Closing a nonce gap: a new request at the nonce of an item the signer refused or never signed.

An account's transactions are mined in nonce order, so one unsigned item of a batch holds
back every later nonce of that account. ``fill-gap`` replaces its request with one at the
same nonce: the same payment again (``--pay``, once the signer's policy allows it) or a
zero-value transfer from the account to itself that cancels the withdrawal (``--cancel``).
The old request is cancelled in the same transaction and the new one travels to the signer
like any other request. Before anything is stored the account's balance must cover it as
``build`` checks a batch: what its transactions in flight may spend (the replaced request
left out) plus the replacement's value, token amount and maximum fee. The signer may have
signed the old one after all (a response not yet imported): while the new one has no
signature, that late signature is still imported and supersedes it
(:meth:`watcher.state.Store.add_signatures`); once it has one, the late
signature is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import DecodeError
from shared.tx import DATA_TYPE_TYPED, DynamicFeeTransaction, decode_transaction
from watcher.build import (
    WrittenBatch,
    check_balances,
    in_flight_costs,
    replacement_request,
    suggest_fees,
    write_pending,
)
from watcher.errors import FeeCapError, NoGapError, StateError
from watcher.intake import NATIVE
from watcher.requestkit import RequestKit
from watcher.state import Purpose, Status, TxRequest

# Yellow paper G_transaction: a plain value transfer to an account without code.
SELF_TRANSFER_GAS = 21_000
# Statuses of another request at the same nonce that mean the nonce is taken already.
_TAKEN = (Status.SIGNED, Status.BROADCAST, Status.CONFIRMED)


class FillMode(StrEnum):
    """What fills the gap: the same payment again, or a zero-value transfer to the account."""

    PAY = "pay"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class Filled:
    """What one ``fill-gap`` did: the request it replaced, the new one, and its request file."""

    withdrawal_id: str
    nonce: int
    replaced: str
    request_id: str
    mode: FillMode
    written: tuple[WrittenBatch, ...]


class GapFiller:
    """Builds the replacement request for one withdrawal whose request awaits a signature."""

    def __init__(self, kit: RequestKit) -> None:
        self._kit = kit

    def fill(self, withdrawal_id: str, mode: FillMode, note: str = "fill-gap") -> Filled:
        """Replace the unsigned request of ``withdrawal_id`` and write the new sign request."""
        original = self.open_request(withdrawal_id, mode)
        chain = self._kit.config.chain_by_id(original.chain_id)
        node = self._kit.nodes(chain)
        mined = node.nonce(original.source, "latest")
        if mined > original.nonce:
            raise NoGapError(
                withdrawal_id,
                f"nonce {original.nonce} of {original.source} was used on chain already (the "
                f"account's next nonce is {mined}): there is no gap to fill",
            )
        suggested = suggest_fees(node, self._kit.config.fees)
        tx = self._replacement(
            original, mode, suggested.max_fee_per_gas, suggested.max_priority_fee_per_gas
        )
        cap = self._kit.config.fees.max_fee_per_gas_cap
        if tx.max_fee_per_gas > cap:
            raise FeeCapError(
                f"withdrawal {withdrawal_id}: the replacement needs max fee {tx.max_fee_per_gas} "
                f"wei/gas, above fees.max_fee_per_gas_cap = {cap}"
            )
        check_balances(
            node,
            self._kit.config,
            chain,
            original.source,
            self._needed(original, tx, mode, mined),
        )
        request_id = self._kit.new_request_id()
        with self._kit.store.transaction():
            batch_id = self._kit.store.add_batch(
                chain.chain_id, original.source, "gap", "eth-sign-request"
            )
            replacement = replacement_request(
                original,
                tx,
                request_id=request_id,
                batch_id=batch_id,
                position=0,
                purpose=Purpose.CANCEL if mode is FillMode.CANCEL else original.purpose,
            )
            self._kit.store.replace_unsigned(original, replacement, f"{note} --{mode}")
        written = write_pending(self._kit, note)
        return Filled(withdrawal_id, original.nonce, original.request_id, request_id, mode, written)

    def finish_pending(self, note: str = "fill-gap") -> tuple[WrittenBatch, ...]:
        """Write the request file of a run killed after its commit (as ``build`` would)."""
        return write_pending(self._kit, note)

    def open_request(self, withdrawal_id: str, mode: FillMode) -> TxRequest:
        """The request of ``withdrawal_id`` that holds an unsigned nonce, or :class:`NoGapError`."""
        withdrawal = self._kit.store.withdrawal(withdrawal_id)
        if withdrawal is None:
            raise NoGapError(withdrawal_id, "no such withdrawal")
        waiting = [
            r
            for r in self._kit.store.requests_for(withdrawal_id)
            if r.status is Status.AWAITING_SIGNATURE
        ]
        if not waiting:
            raise NoGapError(
                withdrawal_id,
                f"it is {withdrawal.status} and none of its requests awaits a signature: "
                "there is no unsigned nonce to fill",
            )
        if len(waiting) != 1:
            raise StateError(
                f"withdrawal {withdrawal_id} has {len(waiting)} requests awaiting a signature"
            )
        [request] = waiting
        if request.purpose is Purpose.CANCEL and mode is FillMode.PAY:
            raise NoGapError(
                withdrawal_id,
                f"it was cancelled; nonce {request.nonce} can only be filled with --cancel",
            )
        for sibling in self._kit.store.requests_at_nonce(
            request.chain_id, request.source, request.nonce
        ):
            if sibling.request_id != request.request_id and sibling.status in _TAKEN:
                raise NoGapError(
                    withdrawal_id,
                    f"request {sibling.request_id} at nonce {request.nonce} is {sibling.status} "
                    "already: there is no gap to fill",
                )
        return request

    def _needed(
        self, original: TxRequest, tx: DynamicFeeTransaction, mode: FillMode, latest_nonce: int
    ) -> dict[str, int]:
        """What the account must hold once ``tx`` replaces ``original``, per asset, counted as
        ``build`` counts a batch: what is in flight (``original`` left out: it is cancelled in
        the same transaction, and one transaction at most is mined at its nonce) plus ``tx``'s
        value and maximum fee, and for a token payment the amount in the token."""
        store = self._kit.store
        needed = in_flight_costs(
            store, original.chain_id, original.source, latest_nonce, leaving_out=original.request_id
        )
        needed[NATIVE] = needed.get(NATIVE, 0) + tx.value + tx.max_fee_cost()
        if mode is FillMode.PAY:
            withdrawal = store.withdrawal(original.withdrawal_id)
            if withdrawal is None:
                raise StateError(f"no withdrawal {original.withdrawal_id!r}")
            if withdrawal.asset != NATIVE:
                needed[withdrawal.asset] = needed.get(withdrawal.asset, 0) + withdrawal.amount
        return needed

    def _replacement(
        self, original: TxRequest, mode: FillMode, max_fee: int, tip: int
    ) -> DynamicFeeTransaction:
        try:
            tx = decode_transaction(original.payload, DATA_TYPE_TYPED, chain_id=original.chain_id)
        except DecodeError as exc:
            raise StateError(
                f"request {original.request_id}: stored payload does not decode"
            ) from exc
        if not isinstance(tx, DynamicFeeTransaction):
            raise StateError(f"request {original.request_id}: not an EIP-1559 transaction")
        if mode is FillMode.CANCEL:
            # Pays nobody: value 0 to the account itself, no calldata, the intrinsic gas only.
            return DynamicFeeTransaction(
                chain_id=tx.chain_id,
                nonce=tx.nonce,
                max_priority_fee_per_gas=tip,
                max_fee_per_gas=max(max_fee, tip),
                gas_limit=SELF_TRANSFER_GAS,
                to=original.source,
                value=0,
                data=b"",
                access_list=(),
            )
        # The same call, at today's fees but never below the old ones: should the signer have
        # signed the old payload after all (a lost response), its nonce ledger takes this as
        # a fee bump of the identical transaction, not as a second payload for the nonce.
        new_tip = max(tx.max_priority_fee_per_gas, tip)
        return DynamicFeeTransaction(
            chain_id=tx.chain_id,
            nonce=tx.nonce,
            max_priority_fee_per_gas=new_tip,
            max_fee_per_gas=max(tx.max_fee_per_gas, max_fee, new_tip),
            gas_limit=tx.gas_limit,
            to=tx.to,
            value=tx.value,
            data=tx.data,
            access_list=tx.access_list,
        )
