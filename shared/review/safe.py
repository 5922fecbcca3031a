"""Review of a Safe transaction as what it does, from EIP-712 SafeTx typed data or execTransaction.

Either way the review shows the Safe, the chain, the Safe nonce (typed data only: an
``execTransaction`` call does not carry it), the operation, the gas-refund fields, and the
inner call reviewed like any other (a MultiSend unpacked entry by entry, with amounts per
asset and destination labels). A delegatecall is acceptable only to a MultiSendCallOnly of
the signer's registry running ``multiSend``; anything else is ``delegatecall`` at DANGER.
"""

from __future__ import annotations

from shared.address import Address
from shared.calls import KnownCall, Operation, decode_call
from shared.messages import SafeTx, TypedData
from shared.registry import Registries
from shared.review.amounts import amount_text, gwei_text
from shared.review.call import CallReviewer, CallSite, call_summary, join, operation_text
from shared.review.draft import Draft
from shared.review.model import Review, ReviewKind, SafeTransaction, Source, Subject
from shared.review.warnings import WarningCode

_ZERO = Address(bytes(20))
_SAFE_TX_PATH = "safeTx"


def safe_from_exec(call: KnownCall, site: CallSite, chain_id: int | None) -> SafeTransaction:
    """The Safe transaction an ``execTransaction``-like call at ``site`` makes.

    ``execTransactionFromModule`` has no gas or refund arguments: those are zero.
    """
    safe = site.to
    if safe is None or not call.inner:
        raise ValueError("a Safe execution call has a target and one inner call")
    inner = call.inner[0]
    names = {arg.name for arg in call.args}

    def number(name: str) -> int:
        value = call.arg(name) if name in names else 0
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{call.signature}: {name} is not an integer")
        return value

    def address(name: str) -> Address:
        value = call.arg(name) if name in names else _ZERO
        if not isinstance(value, Address):
            raise TypeError(f"{call.signature}: {name} is not an address")
        return value

    return SafeTransaction(
        safe=safe,
        chain_id=chain_id,
        nonce=None,
        to=inner.to,
        value=inner.value,
        data=inner.data,
        operation=int(inner.operation),
        safe_tx_gas=number("safeTxGas"),
        base_gas=number("baseGas"),
        gas_price=number("gasPrice"),
        gas_token=address("gasToken"),
        refund_receiver=address("refundReceiver"),
        call=inner.call,
        path=join(site.path, call.name),
    )


def safe_from_typed(safe_tx: SafeTx) -> SafeTransaction:
    """The Safe transaction of EIP-712 SafeTx typed data, its inner call decoded.

    Raises :class:`~shared.errors.CalldataError` when the inner call data is malformed.
    """
    call = decode_call(safe_tx.to, safe_tx.value, safe_tx.data)
    return SafeTransaction(
        safe=safe_tx.safe,
        chain_id=safe_tx.chain_id,
        nonce=safe_tx.nonce,
        to=safe_tx.to,
        value=safe_tx.value,
        data=safe_tx.data,
        operation=safe_tx.operation,
        safe_tx_gas=safe_tx.safe_tx_gas,
        base_gas=safe_tx.base_gas,
        gas_price=safe_tx.gas_price,
        gas_token=safe_tx.gas_token,
        refund_receiver=safe_tx.refund_receiver,
        call=call,
        path=_SAFE_TX_PATH,
    )


def review_safe_exec(reviewer: CallReviewer, call: KnownCall, site: CallSite) -> None:
    """The :data:`~shared.review.call.SafeExecReviewer` for ``execTransaction`` calls."""
    safe_tx = safe_from_exec(call, site, reviewer.draft.chain_id)
    add_safe_transaction(reviewer, safe_tx)


def add_safe_transaction(reviewer: CallReviewer, safe_tx: SafeTransaction) -> None:
    """Add a Safe transaction's fields and warnings, then review its inner call."""
    draft = reviewer.draft
    path = safe_tx.path
    draft.safe_transactions.append(safe_tx)
    draft.section = f"Safe transaction {path}"
    draft.address("Safe", safe_tx.safe, path=path)
    if safe_tx.nonce is None:
        draft.add("Safe nonce", "not in the call data: the Safe uses its current nonce")
    else:
        draft.add("Safe nonce", str(safe_tx.nonce))
    draft.address("To", safe_tx.to, path=path)
    asset = draft.native_asset()
    draft.add("Value", amount_text(asset, safe_tx.value))
    draft.add("Operation", operation_text(safe_tx.operation))
    draft.add("safeTxGas", str(safe_tx.safe_tx_gas))
    draft.add("baseGas", str(safe_tx.base_gas))
    draft.add("gasPrice", gwei_text(safe_tx.gas_price))
    draft.address("gasToken", safe_tx.gas_token, path=path)
    draft.address("refundReceiver", safe_tx.refund_receiver, path=path)
    _check_delegatecall(draft, safe_tx)
    _check_refund(draft, safe_tx)
    operation = Operation(safe_tx.operation)
    site = CallSite(safe_tx.to, safe_tx.value, path, safe_tx.safe, operation)
    reviewer.review(safe_tx.call, site)


def _check_delegatecall(draft: Draft, safe_tx: SafeTransaction) -> None:
    if safe_tx.operation != Operation.DELEGATECALL:
        return
    call = safe_tx.call
    runs_multisend = isinstance(call, KnownCall) and call.name == "multiSend"
    if draft.is_multisend_call_only(safe_tx.to) and runs_multisend:
        return
    why = (
        "a registry MultiSendCallOnly running something else than multiSend"
        if draft.is_multisend_call_only(safe_tx.to)
        else "not a MultiSendCallOnly of the signer's registry"
    )
    draft.warn(
        WarningCode.DELEGATECALL,
        f"the Safe {safe_tx.safe.checksummed()} delegatecalls {safe_tx.to.checksummed()}, {why}",
        safe_tx.path,
    )


def _check_refund(draft: Draft, safe_tx: SafeTransaction) -> None:
    # Safe.sol handlePayment: a non-zero gasPrice pays (gasUsed + baseGas) * gasPrice in
    # gasToken (ETH when zero) to refundReceiver (tx.origin when zero).
    parts = []
    if safe_tx.gas_price:
        parts.append(f"gasPrice {safe_tx.gas_price}")
    if safe_tx.gas_token != _ZERO:
        parts.append(f"gasToken {safe_tx.gas_token.checksummed()}")
    if safe_tx.refund_receiver != _ZERO:
        parts.append(f"refundReceiver {safe_tx.refund_receiver.checksummed()}")
    if parts:
        draft.warn(
            WarningCode.SAFE_GAS_REFUND,
            f"the Safe {safe_tx.safe.checksummed()} refunds gas: {', '.join(parts)}",
            safe_tx.path,
        )


def review_safe_tx(typed: TypedData, safe_tx: SafeTx, registries: Registries) -> Review:
    """Review EIP-712 SafeTx typed data (already recognised from ``typed``).

    Raises :class:`~shared.errors.CalldataError` when the inner call data is malformed.
    """
    view = safe_from_typed(safe_tx)
    draft = Draft(registries, safe_tx.chain_id)
    draft.section = "Safe transaction (EIP-712 SafeTx)"
    signing_hash = typed.signing_hash()
    draft.add("safeTxHash", "0x" + signing_hash.hex(), Source.COMPUTED)
    if safe_tx.chain_id is None:
        draft.add("Chain", "none: the domain names no chain")
        draft.warn(
            WarningCode.OLD_SAFE_VERSION,
            f"the SafeTx domain of {safe_tx.safe.checksummed()} has no chainId",
            _SAFE_TX_PATH,
        )
    else:
        draft.chain("Chain", safe_tx.chain_id, path=_SAFE_TX_PATH)
    reviewer = CallReviewer(draft, review_safe_exec)
    add_safe_transaction(reviewer, view)
    return draft.finish(
        ReviewKind.SAFE_TX,
        _summary(view),
        signing_hash,
        fee_cap_wei=None,
        subject=Subject(
            typed_data=typed, recognised=safe_tx, safe_transactions=tuple(draft.safe_transactions)
        ),
    )


def _summary(safe_tx: SafeTransaction) -> str:
    nonce = "" if safe_tx.nonce is None else f" #{safe_tx.nonce}"
    what = call_summary(safe_tx.call)
    if safe_tx.operation == Operation.DELEGATECALL:
        what = f"DELEGATECALL {what}"
    return f"Safe transaction{nonce}: {what}"
