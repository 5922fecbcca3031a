"""``review_request``: the review of one ERC-4527 sign request, dispatched on its data type.

The review is built only from ``sign-data`` as decoded here and from the signer's own
registries. What else the requester wrote (request id, derivation path, address, chain id,
origin) is shown apart, marked as written by the request and unverified, text escaped.
"""

from __future__ import annotations

from functools import lru_cache

from shared.erc4527 import DataType, EthSignRequest, Keypath
from shared.messages import parse_typed_data
from shared.registry import Registries
from shared.review.draft import Draft, sort_warnings
from shared.review.message import review_personal_message, review_typed_data
from shared.review.model import Review, ReviewField, Source
from shared.review.transaction import review_transaction
from shared.review.warnings import WarningCode
from shared.tx import decode_transaction

_REQUEST = "request"
_SECTION = "request (written by the requester, not verified)"
# A batch repeats the request's derivation path and chain id on every item: those fields
# are pure functions of the frozen keypath or the number (ReviewField is frozen and
# compared by value), so each distinct one is built once. The bound keeps memory flat.
_FIELD_CACHE = 256


def review_request(request: EthSignRequest, registries: Registries) -> Review:
    """Decode ``request``'s sign-data by its data type and review it.

    Refuses what it cannot fully decode by raising the decoder's
    :class:`~shared.errors.DecodeError` subclass (``TransactionError``, ``RLPError``,
    ``CalldataError``, ``TypedDataError``), naming the field.
    """
    data_type = request.data_type
    bound_chain: int | None
    if data_type in (DataType.TRANSACTION, DataType.TYPED_TRANSACTION):
        # Decoded without the request's chain id: a mismatch is shown as chain-mismatch,
        # and the chain shown is the one inside the signed payload.
        transaction = decode_transaction(request.sign_data, int(data_type))
        review = review_transaction(transaction, registries, payload=request.sign_data)
        bound_chain = transaction.chain_id
    elif data_type is DataType.TYPED_DATA:
        typed = parse_typed_data(request.sign_data)
        review = review_typed_data(typed, registries)
        bound_chain = typed.domain.chain_id
    else:
        review = review_personal_message(request.sign_data, registries)
        bound_chain = None
    return with_request_fields(review, request, registries, bound_chain)


@lru_cache(maxsize=_FIELD_CACHE)
def _path_field(path: Keypath) -> ReviewField:
    fingerprint = path.source_fingerprint
    text = str(path) + ("" if fingerprint is None else f" (master fingerprint {fingerprint:08x})")
    return ReviewField(_SECTION, "Derivation path", text, Source.REQUEST)


@lru_cache(maxsize=_FIELD_CACHE, typed=True)
def _chain_id_field(chain_id: int) -> ReviewField:
    return ReviewField(_SECTION, "Chain id", str(chain_id), Source.REQUEST)


def with_request_fields(
    review: Review, request: EthSignRequest, registries: Registries, bound_chain: int | None
) -> Review:
    """``review`` with the request's own (unverified) fields and their warnings added."""
    draft = Draft(registries, review.chain_id)
    draft.section = _SECTION
    source = Source.REQUEST
    if request.request_id is not None:
        draft.add("Request id", str(request.request_id), source)
    draft.fields.append(_path_field(request.derivation_path))
    if request.address is not None:
        draft.add("Account", request.address.grouped(), source)
    if request.chain_id is not None:
        draft.fields.append(_chain_id_field(request.chain_id))
        if bound_chain is not None and bound_chain != request.chain_id:
            draft.warn(
                WarningCode.CHAIN_MISMATCH,
                f"the request says chain {request.chain_id}, the signature is bound to chain "
                f"{bound_chain}",
                _REQUEST,
            )
    if request.origin is not None:
        draft.text("Origin", request.origin, path=_REQUEST, source=source)
        draft.warn(
            WarningCode.UNVERIFIED_ORIGIN,
            "the origin text is the requester's claim, not verified",
            _REQUEST,
        )
    # Built directly rather than with dataclasses.replace, which introspects the fields on
    # every call; a review's warnings are already sorted, so they are re-sorted only when
    # the request added some.
    warnings = review.warnings
    if draft.warnings:
        warnings = sort_warnings(warnings + tuple(draft.warnings))
    return Review(
        kind=review.kind,
        title=review.title,
        chain_id=review.chain_id,
        signing_hash=review.signing_hash,
        fields=review.fields + tuple(draft.fields),
        payments=review.payments,
        totals=review.totals,
        fee_cap_wei=review.fee_cap_wei,
        warnings=warnings,
        subject=review.subject,
    )
