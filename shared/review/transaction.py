"""Review of a decoded transaction (legacy EIP-155, EIP-2930, EIP-1559) including its call tree."""

from __future__ import annotations

from functools import lru_cache

from shared.calls import Call, decode_call
from shared.erc4527 import EthSignRequest
from shared.keccak import keccak256
from shared.registry import Registries
from shared.review.amounts import amount_text, gwei_text
from shared.review.call import CallReviewer, CallSite, call_summary
from shared.review.draft import Draft
from shared.review.model import Review, ReviewField, ReviewKind, Source, Subject
from shared.review.request_fields import add_request_fields
from shared.review.safe import review_safe_exec
from shared.tx import (
    AccessListTransaction,
    DynamicFeeTransaction,
    LegacyTransaction,
    Transaction,
)

_TX = "tx"
_SECTION = "transaction"
_TRANSACTION_TYPES: tuple[type[Transaction], ...] = (
    LegacyTransaction,
    AccessListTransaction,
    DynamicFeeTransaction,
)
# Fields and words that depend only on the transaction's type, made once: "EIP-1559 (type 2)".
_TYPE_FIELDS = {
    kind: ReviewField(
        _SECTION,
        "Type",
        f"{kind.EIP} ({'legacy' if kind.TX_TYPE is None else f'type {kind.TX_TYPE}'})",
        Source.DECODED,
    )
    for kind in _TRANSACTION_TYPES
}
_KIND_TITLES = {
    kind: "legacy" if kind is LegacyTransaction else kind.EIP for kind in _TRANSACTION_TYPES
}
_EMPTY_ACCESS_LIST = ReviewField(_SECTION, "Access list", "empty", Source.DECODED)
# The gas limit and fee caps of a batch are nearly always the same item after item: those
# fields are pure functions of the number (ReviewField is frozen and compared by value), so
# each distinct one is built once. The bound keeps memory flat whatever the batch holds.
_FIELD_CACHE = 1024


@lru_cache(maxsize=_FIELD_CACHE, typed=True)
def _gas_limit_field(gas_limit: int) -> ReviewField:
    return ReviewField(_SECTION, "Gas limit", str(gas_limit), Source.DECODED)


@lru_cache(maxsize=_FIELD_CACHE, typed=True)
def _gwei_field(label: str, wei: int) -> ReviewField:
    return ReviewField(_SECTION, label, gwei_text(wei), Source.DECODED)


def review_transaction(
    transaction: Transaction, registries: Registries, *, request: EthSignRequest | None = None
) -> Review:
    """Review ``transaction``: its fields, fee cap, call tree, payments and warnings.

    ``request`` is the sign request whose sign-data ``transaction`` was decoded from, when
    it was: the signing hash is then that of its exact bytes, and the request's own
    (unverified) fields are added in their section. Raises
    :class:`~shared.errors.CalldataError` when its call data (or a nested call's) is
    malformed.
    """
    call = decode_call(transaction.to, transaction.value, transaction.data)
    return review_decoded_transaction(transaction, call, registries, request=request)


def review_decoded_transaction(
    transaction: Transaction,
    call: Call,
    registries: Registries,
    *,
    request: EthSignRequest | None = None,
) -> Review:
    """Review ``transaction`` whose call data was already decoded into ``call``.

    ``request``: as for :func:`review_transaction`.
    """
    draft = Draft(registries, transaction.chain_id)
    asset = draft.native_asset()
    draft.section = _SECTION
    draft.fields.append(_TYPE_FIELDS[type(transaction)])
    draft.chain("Chain", transaction.chain_id, path=_TX)
    draft.add("Nonce", str(transaction.nonce))
    if transaction.to is None:
        draft.add("To", "nobody: contract creation")
    else:
        draft.address("To", transaction.to, path=_TX)
    draft.add("Value", amount_text(asset, transaction.value))
    draft.fields.append(_gas_limit_field(transaction.gas_limit))
    if isinstance(transaction, DynamicFeeTransaction):
        draft.fields.append(_gwei_field("Max fee per gas", transaction.max_fee_per_gas))
        draft.fields.append(_gwei_field("Max priority fee", transaction.max_priority_fee_per_gas))
    else:
        draft.fields.append(_gwei_field("Gas price", transaction.gas_price))
    fee_cap = transaction.max_fee_cost()
    draft.add("Max fee", amount_text(asset, fee_cap), Source.COMPUTED)
    if isinstance(transaction, AccessListTransaction | DynamicFeeTransaction):
        _access_list(draft, transaction)
    # EIP-155 / EIP-2718: the signing hash is keccak256 of the unsigned payload. The strict
    # decoder accepts only the one canonical encoding (encode(decode(x)) == x, checked by the
    # property tests and the fuzzer), so hashing the decoded bytes gives the same digest as
    # re-encoding the fields, without the second encoding.
    payload = transaction.unsigned_payload() if request is None else request.sign_data
    signing_hash = keccak256(payload)
    draft.add("Signing hash", "0x" + signing_hash.hex(), Source.COMPUTED)
    reviewer = CallReviewer(draft, review_safe_exec)
    reviewer.review(call, CallSite(transaction.to, transaction.value, "", None))
    if request is not None:
        add_request_fields(draft, request, transaction.chain_id)
    return draft.finish(
        ReviewKind.TRANSACTION,
        f"{_KIND_TITLES[type(transaction)]} transaction: {call_summary(call)}",
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
        draft.fields.append(_EMPTY_ACCESS_LIST)
        return
    draft.add("Access list", f"{len(entries)} entries")
    for index, entry in enumerate(entries):
        draft.address(f"access_list[{index}]", entry.address, path=f"{_TX}.access_list")
        draft.add(f"access_list[{index}] keys", str(len(entry.storage_keys)))
