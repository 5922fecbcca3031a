"""Building: pending withdrawals become EIP-1559 transactions and a sign request per batch.

Withdrawals are grouped by chain and source account, at most ``max_batch`` a batch. Nonces
follow the node's pending nonce and the nonces this watcher already handed out; fees come
from ``eth_feeHistory`` (a reward percentile, capped); gas from ``eth_estimateGas`` plus a
margin. The account must hold every value plus every maximum fee, on top of what its
transactions still in flight may spend. A batch and its requests are stored in one
transaction before the request file is written, and files still missing after a crash are
written by the next run, byte for byte the same.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from shared.address import Address
from shared.erc4527 import (
    DataType,
    EthBatchSignRequest,
    EthSignRequest,
    Keypath,
    RequestId,
)
from shared.tx import DynamicFeeTransaction
from shared.ur import UR
from watcher import erc20
from watcher.attestation import Attester
from watcher.config import ChainConfig, FeePolicy, WatcherConfig
from watcher.crashpoints import CrashPoints, NoCrashPoints
from watcher.errors import (
    BuildError,
    ConfigError,
    FeeCapError,
    InsufficientBalanceError,
    NodeRejectedError,
)
from watcher.intake import NATIVE
from watcher.requestkit import RequestKit
from watcher.rpc import Node
from watcher.state import Purpose, Status, Store, TxRequest, Withdrawal, addr_text

ORIGIN = "coldsign-watcher"
# Every transfer, even to a contract wallet, needs at least the intrinsic 21,000 gas.
_MIN_GAS = 21_000


@dataclass(frozen=True, slots=True)
class Fees:
    """EIP-1559 fee fields for one batch."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(frozen=True, slots=True)
class WrittenBatch:
    """A batch whose sign request is on disk."""

    batch_id: int
    chain_id: int
    source: Address
    requests: int
    path: Path


def suggest_fees(node: Node, policy: FeePolicy) -> Fees:
    """Fees from ``eth_feeHistory``: the median of the percentile rewards as the tip, and
    twice the next block's base fee plus the tip as the cap (room for six full blocks of
    12.5 % base-fee rises, EIP-1559 §Specification), both held under the policy's caps."""
    history = node.fee_history(policy.history_blocks, [policy.percentile])
    next_base_fee = history.base_fees[-1]
    rewards = sorted(row[0] for row in history.rewards)
    priority = rewards[len(rewards) // 2] if rewards else 0
    priority = min(priority, policy.max_priority_fee_per_gas_cap)
    max_fee = 2 * next_base_fee + priority
    if max_fee > policy.max_fee_per_gas_cap:
        if next_base_fee + priority > policy.max_fee_per_gas_cap:
            raise FeeCapError(
                f"the next base fee {next_base_fee} plus tip {priority} wei/gas exceeds "
                f"fees.max_fee_per_gas_cap = {policy.max_fee_per_gas_cap}"
            )
        max_fee = policy.max_fee_per_gas_cap
    return Fees(max_fee, priority)


def call_of(withdrawal: Withdrawal) -> tuple[Address, int, bytes]:
    """(to, value, data) of the transaction paying a withdrawal."""
    if withdrawal.asset == NATIVE:
        return withdrawal.destination, withdrawal.amount, b""
    token = Address(bytes.fromhex(withdrawal.asset[2:]))
    return token, 0, erc20.transfer_data(withdrawal.destination, withdrawal.amount)


def unsigned_request(
    tx: DynamicFeeTransaction,
    *,
    request_id: str,
    batch_id: int,
    position: int,
    withdrawal_id: str,
    source: Address,
    path: str,
    master_fingerprint: str,
    replaces: str | None = None,
    purpose: Purpose = Purpose.PAYMENT,
) -> TxRequest:
    """The stored request for ``tx``, built and not yet written: its exact unsigned payload
    and signing hash, and the fee fields a later bump must raise."""
    return TxRequest(
        request_id=request_id,
        batch_id=batch_id,
        position=position,
        withdrawal_id=withdrawal_id,
        chain_id=tx.chain_id,
        source=source,
        path=path,
        master_fingerprint=master_fingerprint,
        nonce=tx.nonce,
        payload=tx.unsigned_payload(),
        signing_hash=tx.signing_hash(),
        value=tx.value,
        max_fee_per_gas=tx.max_fee_per_gas,
        max_priority_fee_per_gas=tx.max_priority_fee_per_gas,
        gas_limit=tx.gas_limit,
        replaces=replaces,
        status=Status.BUILT,
        purpose=purpose,
    )


def replacement_request(
    old: TxRequest,
    tx: DynamicFeeTransaction,
    *,
    request_id: str,
    batch_id: int,
    position: int,
    purpose: Purpose,
) -> TxRequest:
    """A request replacing ``old``: the same withdrawal, account and key path, and ``tx``, built
    from ``old``'s decoded payload (so at its chain and nonce), as the payload."""
    return unsigned_request(
        tx,
        request_id=request_id,
        batch_id=batch_id,
        position=position,
        withdrawal_id=old.withdrawal_id,
        source=old.source,
        path=old.path,
        master_fingerprint=old.master_fingerprint,
        replaces=old.request_id,
        purpose=purpose,
    )


def sign_request_of(request: TxRequest) -> EthSignRequest:
    """The ``eth-sign-request`` for a stored request (deterministic: a rewrite is identical)."""
    return EthSignRequest(
        sign_data=request.payload,
        data_type=DataType.TYPED_TRANSACTION,
        derivation_path=Keypath.parse(
            request.path, source_fingerprint=int(request.master_fingerprint, 16)
        ),
        request_id=RequestId(uuid.UUID(request.request_id).bytes),
        chain_id=request.chain_id,
        address=request.source,
        origin=ORIGIN,
    )


def request_ur(requests: Sequence[TxRequest], attester: Attester | None = None) -> UR:
    """One request as ``eth-sign-request``, several as Keystone's ``eth-batch-sign-request``,
    attested by the operator key when one is configured (deterministic either way)."""
    message: EthSignRequest | EthBatchSignRequest
    if len(requests) == 1:
        message = sign_request_of(requests[0])
    else:
        message = EthBatchSignRequest(tuple(sign_request_of(r) for r in requests))
    if attester is not None:
        message = attester.attest(message)
    return message.to_ur()


def write_pending(kit: RequestKit, note: str) -> tuple[WrittenBatch, ...]:
    """Write every stored batch whose request file is missing; mark its requests awaiting."""
    written: list[WrittenBatch] = []
    store = kit.store
    for batch in store.batches_unwritten():
        requests = store.batch_requests(batch.id)
        if all(r.status in (Status.SUPERSEDED, Status.CANCELLED) for r in requests):
            # Nothing left to sign: a fill-gap request superseded by a late signature of the
            # one it replaced, or a bump cancelled because its original was mined.
            continue
        ur = request_ur(requests, kit.attester)
        name = f"batch-{batch.id:06d}-{batch.kind}"
        try:
            path = kit.writer.write(name, ur)
        except OSError as exc:
            # The batch is committed: the next build (or fill-gap) writes this same file.
            where = name if exc.filename is None else str(exc.filename)
            raise ConfigError(
                where,
                f"cannot write the request file ({exc.strerror or exc}); its requests are "
                "stored: fix the requests folder, then run build (or fill-gap) to write it",
            ) from exc
        store.mark_written(batch.id, str(path), note)
        written.append(WrittenBatch(batch.id, batch.chain_id, batch.source, len(requests), path))
    return tuple(written)


def in_flight_costs(
    store: Store,
    chain_id: int,
    source: Address,
    latest_nonce: int,
    *,
    leaving_out: str | None = None,
) -> dict[str, int]:
    """What the account's not-yet-mined transactions may still spend, per asset.

    For each nonce at or above the node's latest nonce only the dearest of the original
    and its fee bumps counts: one of them at most will be mined. ``leaving_out`` names an
    unsigned request that ``fill-gap`` is about to replace: it is cancelled in the same
    transaction as its replacement is stored, so only the replacement, counted by the
    caller, spends at its nonce.
    """
    costs: dict[str, int] = {}
    requests = [
        r
        for r in store.open_requests(chain_id, source)
        if r.nonce >= latest_nonce and r.request_id != leaving_out
    ]
    for _nonce, group in groupby(requests, key=lambda r: r.nonce):
        members = [r for r in group if r.status is not Status.REPLACED]
        if not members:
            continue
        dearest = max(members, key=lambda r: r.gas_limit * r.max_fee_per_gas)
        withdrawal = store.withdrawal(dearest.withdrawal_id)
        if withdrawal is None:
            continue
        costs[NATIVE] = costs.get(NATIVE, 0) + dearest.gas_limit * dearest.max_fee_per_gas
        if dearest.purpose is Purpose.CANCEL:
            # fill-gap --cancel: a zero-value transfer to the account itself costs gas only.
            continue
        costs[withdrawal.asset] = costs.get(withdrawal.asset, 0) + withdrawal.amount
    return costs


def check_balances(
    node: Node, config: WatcherConfig, chain: ChainConfig, source: Address, needed: dict[str, int]
) -> None:
    """Raise :class:`InsufficientBalanceError` for the first asset of ``needed`` (base units:
    wei for the native coin, else the token's) that ``source`` holds less of at ``latest``."""
    for asset, amount in needed.items():
        if asset == NATIVE:
            available = node.balance(source)
            name = chain.native_symbol
        else:
            token = Address(bytes.fromhex(asset[2:]))
            available = erc20.balance_of(node, token, source)
            name = next(
                (t.symbol for t in config.tokens_on(chain) if t.address == token),
                addr_text(token),
            )
        if amount > available:
            raise InsufficientBalanceError(name, amount, available, source.checksummed())


class Builder:
    """Turns received withdrawals into stored batches and written sign requests."""

    def __init__(self, kit: RequestKit, *, crash: CrashPoints | None = None) -> None:
        self._kit = kit
        self._crash = crash if crash is not None else NoCrashPoints()

    def build(self, note: str = "build") -> tuple[WrittenBatch, ...]:
        """Finish any batch a crash left unwritten, then build every received withdrawal."""
        written = list(write_pending(self._kit, note))
        pending = self._kit.store.withdrawals(Status.RECEIVED)
        groups: dict[tuple[int, Address], list[Withdrawal]] = {}
        for withdrawal in pending:
            groups.setdefault((withdrawal.chain_id, withdrawal.source), []).append(withdrawal)
        size = self._kit.config.max_batch
        for (chain_id, source), members in groups.items():
            chain = self._kit.config.chain_by_id(chain_id)
            for start in range(0, len(members), size):
                self._build_batch(chain, source, members[start : start + size], note)
                self._crash.reached("build.committed")
                written.extend(write_pending(self._kit, note))
                self._crash.reached("build.written")
        return tuple(written)

    def _build_batch(
        self, chain: ChainConfig, source: Address, withdrawals: Sequence[Withdrawal], note: str
    ) -> None:
        account = self._kit.store.account(source)
        if account is None:
            raise BuildError(f"{source} is not a paired account")
        node = self._kit.nodes(chain)
        latest_nonce = node.nonce(source, "latest")
        nonce = node.nonce(source, "pending")
        reserved = self._kit.store.open_requests(chain.chain_id, source)
        if reserved:
            nonce = max(nonce, max(r.nonce for r in reserved) + 1)
        fees = suggest_fees(node, self._kit.config.fees)
        built: list[tuple[Withdrawal, DynamicFeeTransaction]] = []
        needed = in_flight_costs(self._kit.store, chain.chain_id, source, latest_nonce)
        for offset, withdrawal in enumerate(withdrawals):
            to, value, data = call_of(withdrawal)
            try:
                estimate = node.estimate_gas(source, to, value, data)
            except NodeRejectedError as exc:
                raise BuildError(
                    f"withdrawal {withdrawal.id}: the node refuses to estimate its gas "
                    f"({exc.node_message}); is the balance there?"
                ) from exc
            margin = self._kit.config.fees.gas_margin_percent
            gas_limit = max(_MIN_GAS, estimate * (100 + margin) // 100)
            tx = DynamicFeeTransaction(
                chain_id=chain.chain_id,
                nonce=nonce + offset,
                max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
                max_fee_per_gas=fees.max_fee_per_gas,
                gas_limit=gas_limit,
                to=to,
                value=value,
                data=data,
                access_list=(),
            )
            needed[NATIVE] = needed.get(NATIVE, 0) + value + tx.max_fee_cost()
            if withdrawal.asset != NATIVE:
                needed[withdrawal.asset] = needed.get(withdrawal.asset, 0) + withdrawal.amount
            built.append((withdrawal, tx))
        check_balances(node, self._kit.config, chain, source, needed)
        ur_type = "eth-sign-request" if len(built) == 1 else "eth-batch-sign-request"
        with self._kit.store.transaction():
            batch_id = self._kit.store.add_batch(chain.chain_id, source, "withdrawals", ur_type)
            for position, (withdrawal, tx) in enumerate(built):
                request = unsigned_request(
                    tx,
                    request_id=self._kit.new_request_id(),
                    batch_id=batch_id,
                    position=position,
                    withdrawal_id=withdrawal.id,
                    source=source,
                    path=account.path,
                    master_fingerprint=account.master_fingerprint,
                )
                self._kit.store.add_request(
                    request,
                    note,
                )
