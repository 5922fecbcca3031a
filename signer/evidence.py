"""The review digest the audit log records: what the operator was shown, whatever the screen.

    review digest = SHA-256( canonical JSON of [kind, title, chain_id, signing_hash,
                             fields, payments, totals, fee_cap_wei, warnings] )

Canonical JSON as the audit log writes it (sorted keys, no whitespace, ASCII). Each field is
``[section, label, value, source, note, note source]``; each payment ``[destination, label,
asset, amount, path, sender]`` with the asset ``[chain_id, token, symbol, decimals, known]``;
each total ``[asset, amount, count]``; each warning ``[code, severity, message, path]``.
Addresses and hashes are lower-case hex with ``0x`` for addresses, amounts integers in base
units.

The digest covers the review's content rather than one rendering of it: the headless CLI
and the TUI lay the same review out differently, and both showed this content. (Rendering
the text for a thousand-item batch would also cost more than signing it.)
"""

from __future__ import annotations

import hashlib
import json

from shared.address import Address
from shared.review import Asset, Review

# One encoder for every review (json.dumps with options builds a new one per call). The content
# holds no objects, so sort_keys changes nothing; it is kept to match the audit log's form.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def review_digest(review: Review) -> bytes:
    """SHA-256 of the canonical JSON of ``review``'s displayed content."""
    # Tuples are JSON arrays, and Source and WarningCode are StrEnums (str subclasses), which
    # JSON writes as their values: the same text as lists and ``.value`` give.
    content = (
        review.kind,
        review.title,
        review.chain_id,
        review.signing_hash.hex(),
        [
            (field.section, field.label, field.value, field.source, field.note, field.note_source)
            for field in review.fields
        ],
        [
            (
                _address(payment.destination),
                payment.label,
                _asset(payment.asset),
                payment.amount,
                payment.path,
                _address(payment.sender),
            )
            for payment in review.payments
        ],
        [(_asset(total.asset), total.amount, total.count) for total in review.totals],
        review.fee_cap_wei,
        [
            (warning.code, warning.severity.name, warning.message, warning.path)
            for warning in review.warnings
        ],
    )
    return hashlib.sha256(_CANONICAL.encode(content).encode("ascii")).digest()


def _address(address: Address | None) -> str | None:
    return None if address is None else "0x" + address.raw.hex()


def _asset(asset: Asset) -> tuple[object, ...]:
    return (asset.chain_id, _address(asset.token), asset.symbol, asset.decimals, asset.known)
