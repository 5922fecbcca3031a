"""Review of a decoded transaction (legacy EIP-155, EIP-2930, EIP-1559) including its call tree."""

from __future__ import annotations

from shared.calls import Call, decode_call
from shared.registry import Registries
from shared.review.amounts import amount_text, gwei_text, native_asset
from shared.review.call import CallReviewer, CallSite, call_summary
from shared.review.draft import Draft
from shared.review.model import Review, ReviewKind, Source, Subject
from shared.review.safe import review_safe_exec
from shared.tx import (
    AccessListTransaction,
    DynamicFeeTransaction,
    LegacyTransaction,
    Transaction,
)

_TX = "tx"


def review_transaction(transaction: Transaction, registries: Registries) -> Review:
    """Review ``transaction``: its fields, fee cap, call tree, payments and warnings.

    Raises :class:`~shared.errors.CalldataError` when its call data (or a nested call's)
    is malformed.
    """
    call = decode_call(transaction.to, transaction.value, transaction.data)
    return review_decoded_transaction(transaction, call, registries)


def review_decoded_transaction(
    transaction: Transaction, call: Call, registries: Registries
) -> Review:
    """Review ``transaction`` whose call data was already decoded into ``call``."""
    draft = Draft(registries, transaction.chain_id)
    asset = native_asset(registries, transaction.chain_id)
    draft.section = "transaction"
    type_text = "legacy" if transaction.TX_TYPE is None else f"type {transaction.TX_TYPE}"
    draft.add("Type", f"{transaction.EIP} ({type_text})")
    draft.chain("Chain", transaction.chain_id, path=_TX)
    draft.add("Nonce", str(transaction.nonce))
    if transaction.to is None:
        draft.add("To", "nobody: contract creation")
    else:
        draft.address("To", transaction.to, path=_TX)
    draft.add("Value", amount_text(asset, transaction.value))
    draft.add("Gas limit", str(transaction.gas_limit))
    if isinstance(transaction, DynamicFeeTransaction):
        draft.add("Max fee per gas", gwei_text(transaction.max_fee_per_gas))
        draft.add("Max priority fee", gwei_text(transaction.max_priority_fee_per_gas))
    else:
        draft.add("Gas price", gwei_text(transaction.gas_price))
    fee_cap = transaction.max_fee_cost()
    draft.add("Max fee", amount_text(asset, fee_cap), Source.COMPUTED)
    if isinstance(transaction, AccessListTransaction | DynamicFeeTransaction):
        _access_list(draft, transaction)
    signing_hash = transaction.signing_hash()
    draft.add("Signing hash", "0x" + signing_hash.hex(), Source.COMPUTED)
    reviewer = CallReviewer(draft, review_safe_exec)
    reviewer.review(call, CallSite(transaction.to, transaction.value, "", None))
    kind = "legacy" if isinstance(transaction, LegacyTransaction) else transaction.EIP
    return draft.finish(
        ReviewKind.TRANSACTION,
        f"{kind} transaction: {call_summary(call)}",
        signing_hash,
        fee_cap_wei=fee_cap,
        subject=Subject(
            transaction=transaction,
            call=call,
            safe_transactions=tuple(draft.safe_transactions),
        ),
    )


def _access_list(draft: Draft, transaction: AccessListTransaction | DynamicFeeTransaction) -> None:
    entries = transaction.access_list
    if not entries:
        draft.add("Access list", "empty")
        return
    draft.add("Access list", f"{len(entries)} entries")
    for index, entry in enumerate(entries):
        draft.address(f"access_list[{index}]", entry.address, path=f"{_TX}.access_list")
        draft.add(f"access_list[{index}] keys", str(len(entry.storage_keys)))
