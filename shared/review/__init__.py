"""The review: what a person checks before signing, as one frozen structure, and its text form."""

from __future__ import annotations

from shared.review.amounts import amount_text, decimal_text, native_asset, token_asset
from shared.review.batch import review_batch, summarise
from shared.review.message import review_personal_message, review_typed_data
from shared.review.model import (
    Asset,
    AssetTotal,
    BatchReview,
    DestinationCount,
    Payment,
    Review,
    ReviewField,
    ReviewKind,
    ReviewWarning,
    SafeTransaction,
    Source,
    Subject,
)
from shared.review.render import render_batch, render_review
from shared.review.request import review_request
from shared.review.safe import review_safe_tx
from shared.review.transaction import review_decoded_transaction, review_transaction
from shared.review.warnings import CATALOGUE, Severity, WarningCode, WarningSpec

__all__ = [
    "CATALOGUE",
    "Asset",
    "AssetTotal",
    "BatchReview",
    "DestinationCount",
    "Payment",
    "Review",
    "ReviewField",
    "ReviewKind",
    "ReviewWarning",
    "SafeTransaction",
    "Severity",
    "Source",
    "Subject",
    "WarningCode",
    "WarningSpec",
    "amount_text",
    "decimal_text",
    "native_asset",
    "render_batch",
    "render_review",
    "review_batch",
    "review_decoded_transaction",
    "review_personal_message",
    "review_request",
    "review_safe_tx",
    "review_transaction",
    "review_typed_data",
    "summarise",
    "token_asset",
]
