"""The request's own section of a review: what the requester wrote, shown apart and unverified.

Request id, derivation path, account, chain id and origin are not covered by the signature;
they are shown in their own section, tagged ``request, unverified``, text escaped, with a
warning when the request's chain id is not the one the signature binds.
"""

from __future__ import annotations

from functools import lru_cache

from shared.erc4527 import EthSignRequest, Keypath
from shared.review.draft import Draft
from shared.review.model import ReviewField, Source
from shared.review.warnings import WarningCode

REQUEST_SECTION = "request (written by the requester, not verified)"
_REQUEST = "request"
# A batch repeats the request's derivation path and chain id on every item: those fields
# are pure functions of the frozen keypath or the number (ReviewField is frozen and
# compared by value), so each distinct one is built once. The bound keeps memory flat.
_FIELD_CACHE = 256


def add_request_fields(draft: Draft, request: EthSignRequest, bound_chain: int | None) -> None:
    """Add ``request``'s own fields and their warnings to ``draft``, in their own section.

    ``bound_chain`` is the chain the signature is bound to (None when it names none).
    """
    draft.section = REQUEST_SECTION
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


@lru_cache(maxsize=_FIELD_CACHE)
def _path_field(path: Keypath) -> ReviewField:
    fingerprint = path.source_fingerprint
    text = str(path) + ("" if fingerprint is None else f" (master fingerprint {fingerprint:08x})")
    return ReviewField(REQUEST_SECTION, "Derivation path", text, Source.REQUEST)


@lru_cache(maxsize=_FIELD_CACHE, typed=True)
def _chain_id_field(chain_id: int) -> ReviewField:
    return ReviewField(REQUEST_SECTION, "Chain id", str(chain_id), Source.REQUEST)
