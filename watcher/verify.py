"""Importing a signer's response: every signature checked before anything is stored.

For each ``eth-signature`` the request id must name a request this watcher is waiting for,
``r`` and ``s`` must be in range with ``s`` in the lower half (EIP-2), ``v`` must be a
y-parity, and the public key recovered over keccak256 of the *stored* unsigned payload must
be the request's account. Only then is the raw transaction assembled with
``shared.tx``'s ``signed_payload``. One bad signature refuses the whole response and
nothing changes; a response imported before is refused as a replay. The checks that a
response and its requests are still unanswered run again inside the write transaction
(``BEGIN IMMEDIATE``): a second watcher process importing the same response, or another
carrying one of its signatures, at the same moment gets the same refusal, never a raw
``sqlite3.IntegrityError``, and keeps the signatures the first one stored. A late signature of a
request ``fill-gap`` replaced is taken while no request at its nonce is signed (the
replacement is then superseded); once the replacement is signed it is refused. The
response's audit head must move forward from the one stored for its signer
(:mod:`watcher.heads`); it is stored with the signatures, in the same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from coincurve import PublicKey

from shared.erc4527 import (
    BATCH_SIGNATURE_TYPE,
    SIGNATURE_TYPE,
    AuditHead,
    EthBatchSignature,
    EthSignature,
)
from shared.errors import DecodeError, IncompleteError
from shared.hdpublic import address_of
from shared.keccak import keccak256
from shared.tx import DATA_TYPE_TYPED, decode_transaction
from shared.ur import UR
from watcher.errors import (
    ForeignResponseError,
    MalformedResponseError,
    ReplayedResponseError,
    SignatureMismatchError,
    StateError,
)
from watcher.heads import check_forward, signer_of
from watcher.parts import read_ur
from watcher.state import Purpose, Status, Store, StoredSignature, TxRequest

# SEC 2 §2.4.1: the order n of secp256k1; EIP-2 allows only s <= n / 2.
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2
_PURPOSE_TEXT = {
    Purpose.PAYMENT: "the payment",
    Purpose.CANCEL: "the zero-value self-transfer of fill-gap --cancel",
}


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What one response added: its digest and the verified signatures, in response order."""

    digest: str
    signatures: tuple[StoredSignature, ...]


def response_digest(ur: UR) -> str:
    """SHA-256 over the UR type and its CBOR: the same response however it was split or cased."""
    return hashlib.sha256(ur.type.encode("ascii") + b"\x00" + ur.cbor).hexdigest()


RESPONSE_TYPES = frozenset({SIGNATURE_TYPE, BATCH_SIGNATURE_TYPE})


def read_response(lines: Sequence[str], *, source: str) -> UR:
    """Reassemble an ``eth-signature`` or ``eth-batch-signature`` from part lines."""
    try:
        return read_ur(lines, RESPONSE_TYPES, source=source)
    except DecodeError as exc:
        raise MalformedResponseError(exc.field, exc.reason) from exc
    except IncompleteError as exc:
        raise MalformedResponseError(source, str(exc)) from exc


def decode_response(lines: Sequence[str], *, source: str) -> tuple[UR, tuple[EthSignature, ...]]:
    """Reassemble and decode an ``eth-signature`` or ``eth-batch-signature`` from part lines."""
    ur = read_response(lines, source=source)
    return ur, signatures_of(ur)


def signatures_of(ur: UR) -> tuple[EthSignature, ...]:
    """The signatures of a response UR, decoded strictly."""
    return decode_signatures(ur)[0]


def decode_signatures(ur: UR) -> tuple[tuple[EthSignature, ...], AuditHead | None]:
    """The signatures of a response UR and the signer's audit head it carries, if any."""
    try:
        if ur.type == SIGNATURE_TYPE:
            single = EthSignature.from_ur(ur)
            return (single,), single.audit_head
        batch = EthBatchSignature.from_ur(ur)
        return batch.signatures, batch.audit_head
    except DecodeError as exc:
        raise MalformedResponseError(exc.field, exc.reason) from exc


class Verifier:
    """Checks responses against the stored requests and stores the signatures that pass."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def import_lines(
        self, lines: Sequence[str], *, source: str, note: str = "import"
    ) -> ImportResult:
        """Verify every signature of a response file, then store them all (or nothing)."""
        return self.import_ur(read_response(lines, source=source), source=source, note=note)

    def import_ur(self, ur: UR, *, source: str, note: str = "import") -> ImportResult:
        """Verify every signature of a response and its signer's audit head, then store them
        all (or nothing)."""
        signatures, head = decode_signatures(ur)
        digest = response_digest(ur)
        self._check_new(digest, source)
        verified = tuple(
            self.verify(signature, f"signature {index + 1}")
            for index, signature in enumerate(signatures)
        )
        requests = tuple(self._request_of(s.request_id) for s in verified)
        _one_per_nonce(requests)
        fingerprint = signer_of(requests)
        # The head is checked and stored in the transaction that stores the signatures: a
        # concurrent import cannot slip between the check and the write.
        with self._store.transaction():
            # BEGIN IMMEDIATE waited for any other import that was writing; what it stored
            # since the checks above is refused here with their words, before any write.
            self._check_new(digest, source)
            for index, signature in enumerate(verified):
                self._signable(signature.request_id, f"signature {index + 1}")
            check_forward(fingerprint, self._store.signer_head(fingerprint), head)
            self._store.add_signatures(digest, verified, note)
            if head is not None:
                self._store.save_signer_head(fingerprint, head.seq, head.head_hash, digest)
        return ImportResult(digest, verified)

    def _check_new(self, digest: str, source: str) -> None:
        if self._store.response_seen(digest):
            raise ReplayedResponseError(f"{source}: this response was imported before")

    def _request_of(self, request_id: str) -> TxRequest:
        request = self._store.request(request_id)
        if request is None:
            raise StateError(f"no request {request_id}")
        return request

    def verify(self, signature: EthSignature, where: str) -> StoredSignature:
        """Check one signature against its stored request; return what to store."""
        if signature.request_id is None:
            raise MalformedResponseError(f"{where}.request-id", "missing: cannot match a request")
        request = self._signable(str(uuid.UUID(bytes=signature.request_id.raw)), where)
        return check_signature(request, signature.v, signature.r, signature.s, where)

    def _signable(self, request_id: str, where: str) -> TxRequest:
        """The stored request ``request_id`` if a signature of it may be imported now."""
        request = self._store.request(request_id)
        if request is None:
            raise ForeignResponseError(
                f"{where}: request {request_id} was not made by this watcher"
            )
        if request.status is Status.CANCELLED:
            self._check_late(request, where)
        elif request.status is Status.SUPERSEDED:
            holder = self._store.signed_at_nonce(request)
            held = "another request" if holder is None else f"request {holder.request_id}"
            raise ForeignResponseError(
                f"{where}: request {request_id} was superseded (never to be signed or sent): "
                f"a late signature of the request fill-gap replaced was imported, and {held} "
                f"holds nonce {request.nonce} of {request.source.checksummed()}"
            )
        elif request.status is not Status.AWAITING_SIGNATURE:
            if self._store.signature(request_id) is not None:
                raise ReplayedResponseError(
                    f"{where}: request {request_id} is already signed (status {request.status})"
                )
            raise ForeignResponseError(
                f"{where}: request {request_id} is not awaiting a signature "
                f"(status {request.status})"
            )
        return request

    def _check_late(self, request: TxRequest, where: str) -> None:
        """A cancelled request is still signable when ``fill-gap`` replaced it and no request at
        its nonce is signed: the signer may have signed it before the gap was filled, and
        refusing that signature would leave a signed payment the watcher calls cancelled."""
        replacement = self._store.gap_replacement(request.request_id)
        if replacement is None:
            raise ForeignResponseError(
                f"{where}: request {request.request_id} is not awaiting a signature "
                f"(status {request.status})"
            )
        holder = self._store.signed_at_nonce(request)
        if holder is not None:
            raise ForeignResponseError(
                f"{where}: request {request.request_id} is not awaiting a signature: fill-gap "
                f"replaced it with request {replacement.request_id}, and request "
                f"{holder.request_id} ({_PURPOSE_TEXT[holder.purpose]}, {holder.status}) holds "
                f"nonce {request.nonce} of {request.source.checksummed()}"
            )


def _one_per_nonce(requests: Sequence[TxRequest]) -> None:
    # One nonce is mined once: a response signing two requests at one nonce (a late original
    # and its fill-gap replacement) cannot be stored whole.
    seen: dict[tuple[int, str, int], int] = {}
    for index, request in enumerate(requests):
        key = (request.chain_id, request.source.checksummed(), request.nonce)
        if key in seen:
            raise ForeignResponseError(
                f"signatures {seen[key] + 1} and {index + 1} both sign nonce {request.nonce} of "
                f"{key[1]}: only one of them can be imported"
            )
        seen[key] = index


def check_signature(
    request: TxRequest, v: int, r_bytes: bytes, s_bytes: bytes, where: str
) -> StoredSignature:
    """The checks every stored signature passes (at import and again before broadcast)."""
    r = int.from_bytes(r_bytes, "big")
    s = int.from_bytes(s_bytes, "big")
    if not 1 <= r < SECP256K1_N or not 1 <= s < SECP256K1_N:
        raise SignatureMismatchError(f"{where}: r or s is outside [1, n)")
    if s > _HALF_N:
        raise SignatureMismatchError(f"{where}: s is in the upper half (malleable, EIP-2)")
    if v not in (0, 1):
        raise SignatureMismatchError(
            f"{where}: v = {v}; an EIP-1559 transaction is signed with y-parity 0 or 1"
        )
    if keccak256(request.payload) != request.signing_hash:
        raise StateError(f"request {request.request_id}: stored payload and hash disagree")
    try:
        # secp256k1 recovery: r || s || recovery id, over the 32-byte digest itself.
        public_key = PublicKey.from_signature_and_message(
            r_bytes + s_bytes + bytes([v]), request.signing_hash, hasher=None
        )
    except ValueError as exc:
        raise SignatureMismatchError(f"{where}: no public key recovers from it") from exc
    signer = address_of(public_key.format(compressed=True))
    if signer != request.source:
        raise SignatureMismatchError(
            f"{where}: signed by {signer}, not by {request.source} over the stored transaction "
            f"(request {request.request_id}, nonce {request.nonce})"
        )
    try:
        tx = decode_transaction(request.payload, DATA_TYPE_TYPED, chain_id=request.chain_id)
    except DecodeError as exc:
        raise StateError(f"request {request.request_id}: stored payload does not decode") from exc
    raw = tx.signed_payload(v, r, s)
    return StoredSignature(request.request_id, v, r_bytes, s_bytes, raw, keccak256(raw))
