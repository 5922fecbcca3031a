"""Request intake: UR parts (any order, any case) to one strictly decoded request or batch."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.erc4527 import (
    BATCH_SIGN_REQUEST_TYPE,
    SIGN_REQUEST_TYPE,
    EthBatchSignRequest,
    EthSignRequest,
)
from shared.errors import DecodeError, IncompleteError, URFormatError
from shared.ur import UR, URDecoder
from signer.collector import collector_paused

REQUEST_TYPES = frozenset({SIGN_REQUEST_TYPE, BATCH_SIGN_REQUEST_TYPE})
# A thousand transfers in parts of a few hundred bytes: tens of thousands of lines at most.
MAX_PARTS = 100_000


@dataclass(frozen=True, slots=True)
class DecodedRequest:
    """A complete request: its UR, the requests it holds (one, or a batch's), and its digest.

    ``digest`` is the SHA-256 of the UR's CBOR, the exact bytes that were received; the audit
    log records it with every decision. ``attestation`` is the operator attestation the
    message carries (key 8 of a single request, key 2 of a batch), and ``attested_cbor`` the
    bytes it covers (the message without that key).
    """

    ur: UR
    requests: tuple[EthSignRequest, ...]
    batch: bool
    attestation: bytes | None = None
    attested_cbor: bytes = b""
    digest: bytes = field(init=False)

    def __post_init__(self) -> None:
        # Computed once: every audit entry of a thousand-item batch records it.
        object.__setattr__(self, "digest", hashlib.sha256(self.ur.cbor).digest())


def decode_request(ur: UR) -> DecodedRequest:
    """Decode an ``eth-sign-request`` or ``eth-batch-sign-request`` UR strictly."""
    # A batch's thousands of decoded items all stay alive: nothing for the collector to find.
    with collector_paused():
        return _decode_request(ur)


def _decode_request(ur: UR) -> DecodedRequest:
    if ur.type == BATCH_SIGN_REQUEST_TYPE:
        batch = EthBatchSignRequest.from_ur(ur)
        # The decoder accepts only canonical CBOR, so without an attestation key the message
        # re-encodes to the bytes received: no need to encode a thousand items again.
        attested = ur.cbor if batch.attestation is None else batch.attested_cbor()
        return DecodedRequest(ur, batch.requests, True, batch.attestation, attested)
    single = EthSignRequest.from_ur(ur)
    attested = ur.cbor if single.attestation is None else single.attested_cbor()
    return DecodedRequest(ur, (single,), False, single.attestation, attested)


def decode_parts(lines: Iterable[str]) -> DecodedRequest:
    """Reassemble UR parts (blank lines ignored) and decode the request they carry.

    A bad part raises its :class:`DecodeError` with ``field`` prefixed by the line number;
    too few parts raise :class:`IncompleteError` saying how far the decoder got.
    """
    with collector_paused():
        return _decode_parts(lines)


def _decode_parts(lines: Iterable[str]) -> DecodedRequest:
    decoder = URDecoder(REQUEST_TYPES)
    seen = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        seen += 1
        if seen > MAX_PARTS:
            raise URFormatError(f"line {number}", f"more than {MAX_PARTS} parts")
        try:
            decoder.receive(line)
        except DecodeError as exc:
            raise type(exc)(f"line {number}: {exc.field}", exc.reason, offset=exc.offset) from None
        if decoder.is_complete:
            break
    if not decoder.is_complete:
        progress = decoder.progress
        if seen == 0:
            raise IncompleteError("no UR parts in the input")
        raise IncompleteError(
            f"incomplete request: {progress.parts_received} parts read, about"
            f" {progress.estimated_remaining} more needed ({progress.fraction:.0%} recovered)"
        )
    return decode_request(decoder.result())
