"""Batch review: each request's review, totals per asset, counts per destination, fee caps.

A batch is refused as a whole when any request in it is refused: the error names the
request (``requests[7].tx.value``). Two transactions with one (chain, nonce), or two Safe
transactions with one (Safe, chain, Safe nonce), are flagged ``duplicate-nonce``.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.address import Address
from shared.erc4527 import EthBatchSignRequest
from shared.errors import DecodeError, RefusedTransactionTypeError
from shared.registry import Registries
from shared.review.amounts import native_asset
from shared.review.draft import asset_key, sort_warnings, totals_of
from shared.review.model import (
    Asset,
    AssetTotal,
    BatchReview,
    DestinationCount,
    Review,
    ReviewWarning,
)
from shared.review.request import review_request
from shared.review.warnings import WarningCode, severity_of


def review_batch(batch: EthBatchSignRequest, registries: Registries) -> BatchReview:
    """Review every request of ``batch`` and add them up.

    Raises the first refused request's :class:`~shared.errors.DecodeError` subclass, its
    ``field`` prefixed with ``requests[i].``.
    """
    reviews: list[Review] = []
    for index, request in enumerate(batch.requests):
        try:
            reviews.append(review_request(request, registries))
        except DecodeError as exc:
            raise _located(exc, f"requests[{index}]") from exc
    return summarise(reviews, registries)


def _located(exc: DecodeError, where: str) -> DecodeError:
    field = f"{where}.{exc.field}"
    if isinstance(exc, RefusedTransactionTypeError):
        return RefusedTransactionTypeError(field, exc.reason, tx_type=exc.tx_type, eip=exc.eip)
    return type(exc)(field, exc.reason, offset=exc.offset)


def summarise(reviews: Sequence[Review], registries: Registries) -> BatchReview:
    """The batch review of already reviewed requests, in order."""
    payments = [payment for review in reviews for payment in review.payments]
    destinations: dict[tuple[Address | None, Asset], tuple[str | None, int, int]] = {}
    for payment in payments:
        key = (payment.destination, payment.asset)
        label, count, amount = destinations.get(key, (payment.label, 0, 0))
        destinations[key] = (label, count + 1, amount + payment.amount)
    natives: dict[int, Asset] = {}
    fee_caps: dict[Asset, tuple[int, int]] = {}
    for review in reviews:
        chain_id = review.chain_id
        if review.fee_cap_wei is None or chain_id is None:
            continue
        # One lookup per chain: a batch is nearly always on one chain.
        asset = natives.get(chain_id)
        if asset is None:
            asset = natives[chain_id] = native_asset(registries, chain_id)
        amount, count = fee_caps.get(asset, (0, 0))
        fee_caps[asset] = (amount + review.fee_cap_wei, count + 1)
    warnings = [
        ReviewWarning(w.code, w.severity, w.message, _prefix(f"requests[{index}]", w.path))
        for index, review in enumerate(reviews)
        for w in review.warnings
    ]
    warnings.extend(_duplicate_nonces(reviews))
    return BatchReview(
        items=tuple(reviews),
        totals=totals_of(payments),
        destinations=tuple(
            DestinationCount(destination, label, asset, count, amount)
            for (destination, asset), (label, count, amount) in sorted(
                destinations.items(), key=lambda item: _destination_key(*item[0])
            )
        ),
        fee_caps=tuple(
            AssetTotal(asset, amount, count)
            for asset, (amount, count) in sorted(fee_caps.items(), key=lambda i: asset_key(i[0]))
        ),
        warnings=sort_warnings(warnings),
    )


def _prefix(where: str, path: str) -> str:
    return f"{where}.{path}" if path else where


def _destination_key(
    destination: Address | None, asset: Asset
) -> tuple[tuple[int, bytes, str, int, bool], bytes]:
    return asset_key(asset), b"" if destination is None else destination.raw


def _duplicate_nonces(reviews: Sequence[Review]) -> list[ReviewWarning]:
    # The first request of each (chain, nonce) and (Safe, chain, Safe nonce); the words of a
    # warning are only written for a duplicate.
    seen: dict[tuple[object, ...], int] = {}
    found: list[ReviewWarning] = []
    code = WarningCode.DUPLICATE_NONCE
    for index, review in enumerate(reviews):
        transaction = review.subject.transaction
        if transaction is not None:
            first = seen.setdefault(("tx", transaction.chain_id, transaction.nonce), index)
            if first != index:
                what = f"nonce {transaction.nonce} on chain {transaction.chain_id}"
                found.append(_duplicate(code, what, first, index))
        safe_tx = review.subject.safe_tx
        if safe_tx is not None:
            key = ("safe", safe_tx.safe, safe_tx.chain_id, safe_tx.nonce)
            first = seen.setdefault(key, index)
            if first != index:
                what = f"Safe nonce {safe_tx.nonce} of {safe_tx.safe.checksummed()}"
                found.append(_duplicate(code, what, first, index))
    return found


def _duplicate(code: WarningCode, what: str, first: int, index: int) -> ReviewWarning:
    return ReviewWarning(
        code, severity_of(code), f"{what} is also used by requests[{first}]", f"requests[{index}]"
    )
