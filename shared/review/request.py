"""``review_request``: the review of one ERC-4527 sign request, dispatched on its data type.

The review is built only from ``sign-data`` as decoded here and from the signer's own
registries. What else the requester wrote (request id, derivation path, address, chain id,
origin) is shown apart, marked as written by the request and unverified, text escaped.
"""

from __future__ import annotations

from shared.erc4527 import DataType, EthSignRequest
from shared.messages import parse_typed_data
from shared.registry import Registries
from shared.review.draft import Draft, sort_warnings
from shared.review.message import review_personal_message, review_typed_data
from shared.review.model import Review
from shared.review.request_fields import add_request_fields
from shared.review.transaction import review_transaction
from shared.tx import decode_transaction


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
        # and the chain shown is the one inside the signed payload. The request's own
        # fields go into the transaction's draft (one review built, not two).
        transaction = decode_transaction(request.sign_data, int(data_type))
        return review_transaction(transaction, registries, request=request)
    if data_type is DataType.TYPED_DATA:
        typed = parse_typed_data(request.sign_data)
        review = review_typed_data(typed, registries)
        bound_chain = typed.domain.chain_id
    else:
        review = review_personal_message(request.sign_data, registries)
        bound_chain = None
    return with_request_fields(review, request, registries, bound_chain)


def with_request_fields(
    review: Review, request: EthSignRequest, registries: Registries, bound_chain: int | None
) -> Review:
    """``review`` with the request's own (unverified) fields and their warnings added."""
    draft = Draft(registries, review.chain_id)
    add_request_fields(draft, request, bound_chain)
    # Built directly rather than with dataclasses.replace, which introspects the fields on
    # every call (~1.0 against ~1.7 us per message review). Spelt out, a field added to
    # Review later with a default would silently fall back to it here: every field is passed
    # by name, and test_with_request_fields_carries_every_review_field (test_review_request)
    # fails for any field of Review this call does not carry over. A review's warnings are
    # already sorted, so they are re-sorted only when the request added some.
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
