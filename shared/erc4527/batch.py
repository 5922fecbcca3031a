"""Keystone's batches: ``eth-batch-sign-request`` (tag 40404), ``eth-batch-signature`` (40405).

Neither is in EIP-4527. The layout is that of ``@keystonehq/bc-ur-registry-eth``
(src/EthBatchSignRequest.ts and src/EthBatchSignature.ts, 0.22.1) and of Keystone's Rust
``ur-registry`` (src/ethereum/eth_batch_sign_requests.rs): a one-entry map whose key 1
holds an array of tagged single requests or signatures.

``eth-batch-sign-request`` key 2 is coldsign's operator attestation of the whole batch (as key
8 of a single request: an EIP-191 signature over the SHA-256 of the batch's CBOR without key
2). ``eth-batch-signature`` key 2 is coldsign's extension: the signer's audit-log head after the
whole batch (``audit-head`` as in :mod:`shared.erc4527.signature`). Keystone's
``ETHBatchSignature.fromDataItem`` reads key 1 only.

    eth-batch-sign-request = {
      1: [+ #6.401(eth-sign-request)],   ; requests
      ? 2: bytes .size 65,               ; operator-attestation (coldsign)
    }
    eth-batch-signature = {
      1: [+ #6.402(eth-signature)],   ; signatures
      ? 2: audit-head,                ; coldsign extension
    }
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.cbor import CborKey, CborLimits, CborValue, decode, encode
from shared.erc4527.keypath import KEYPATH_TAG
from shared.erc4527.schema import (
    as_array,
    as_bytes,
    as_map,
    check_length,
    expect_type,
    renamed,
    require,
)
from shared.erc4527.sign_request import (
    ATTESTATION_LENGTH,
    SIGN_REQUEST_INNER_TAGS,
    SIGN_REQUEST_TAG,
    EthSignRequest,
)
from shared.erc4527.signature import (
    SIGNATURE_INNER_TAGS,
    SIGNATURE_TAG,
    AuditHead,
    EthSignature,
)
from shared.errors import SchemaError
from shared.ur import UR

BATCH_SIGN_REQUEST_TYPE = "eth-batch-sign-request"
BATCH_SIGN_REQUEST_TAG = 40404
BATCH_SIGNATURE_TYPE = "eth-batch-signature"
BATCH_SIGNATURE_TAG = 40405
# The largest batch accepted, in requests or signatures; an exchange's daily batch is
# 5 to 500 withdrawals. The whole message is further bounded by BATCH_LIMITS.
MAX_BATCH = 1000
# Checked by the CBOR decoder before it allocates: 1 MiB of CBOR holds a thousand token
# transfers several times over.
BATCH_LIMITS = CborLimits(max_size=1 << 20)

# Decoded as shared tags (see shared.cbor.decode): Keypath.from_tagged caches by their bytes.
_SHARED_TAGS = frozenset({KEYPATH_TAG})
# Decoded with their content's bytes: each request keeps its map's CBOR (the audit hashes it).
_KEPT_TAGS = frozenset({SIGN_REQUEST_TAG})
_ITEMS = 1
_AUDIT_HEAD = 2
_ATTESTATION = 2
_REQUEST_KEYS = {_ITEMS: "requests", _ATTESTATION: "operator-attestation"}
_SIGNATURE_KEYS = {_ITEMS: "signatures", _AUDIT_HEAD: "audit-head"}


@dataclass(frozen=True, slots=True)
class EthBatchSignRequest:
    """Several ``eth-sign-request`` messages sent as one: ``{1: [+ #6.401(eth-sign-request)]}``.

    Request ids, where given, must differ: each signature is matched to its request by id.
    ``attestation`` is coldsign's key 2 (see the module docstring).
    """

    requests: tuple[EthSignRequest, ...]
    attestation: bytes | None = None

    def __post_init__(self) -> None:
        _check_items(self.requests, EthSignRequest, f"{BATCH_SIGN_REQUEST_TYPE}.requests")
        if self.attestation is not None:
            check_length(
                self.attestation,
                f"{BATCH_SIGN_REQUEST_TYPE}.operator-attestation",
                ATTESTATION_LENGTH,
            )

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        entries: dict[CborKey, CborValue] = {
            _ITEMS: [request.to_tagged() for request in self.requests]
        }
        if self.attestation is not None:
            entries[_ATTESTATION] = self.attestation
        return entries

    def attested_cbor(self) -> bytes:
        """The CBOR an operator attestation covers: this batch without key 2."""
        return EthBatchSignRequest(self.requests).to_cbor()

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> EthBatchSignRequest:
        """Read an untagged ``eth-batch-sign-request`` map."""
        entries = as_map(value, where, _REQUEST_KEYS)
        field = f"{where}.requests"
        raw = as_array(require(entries, _ITEMS, where, "requests"), field)
        _check_count(len(raw), field)
        requests = tuple(
            [EthSignRequest.from_tagged(item, f"{field}[{i}]") for i, item in enumerate(raw)]
        )
        attestation = None
        if _ATTESTATION in entries:
            attestation = as_bytes(entries[_ATTESTATION], f"{where}.operator-attestation")
        try:
            return cls(requests, attestation)
        except SchemaError as error:
            raise renamed(error, where, BATCH_SIGN_REQUEST_TYPE) from None

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map."""
        return encode(self.to_value())

    @classmethod
    def from_cbor(cls, data: bytes) -> EthBatchSignRequest:
        """Decode an ``eth-batch-sign-request`` payload strictly, within :data:`BATCH_LIMITS`."""
        tags = SIGN_REQUEST_INNER_TAGS | {SIGN_REQUEST_TAG}
        # A batch names one derivation path in every request: shared, it is read once.
        value = decode(
            data,
            allowed_tags=tags,
            limits=BATCH_LIMITS,
            shared_tags=_SHARED_TAGS,
            encoded_tags=_KEPT_TAGS,
        )
        return cls.from_value(value, BATCH_SIGN_REQUEST_TYPE)

    def to_ur(self) -> UR:
        """This batch as ``ur:eth-batch-sign-request``."""
        return UR(BATCH_SIGN_REQUEST_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> EthBatchSignRequest:
        """Decode ``ur:eth-batch-sign-request``; :class:`URTypeError` for any other type."""
        expect_type(ur, BATCH_SIGN_REQUEST_TYPE)
        return cls.from_cbor(ur.cbor)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: one entry per request; the attestation only when present."""
        fields: dict[str, object] = {"requests": [r.describe() for r in self.requests]}
        if self.attestation is not None:
            fields["operator_attestation"] = self.attestation.hex()
        return fields


@dataclass(frozen=True, slots=True)
class EthBatchSignature:
    """The answers to a batch: ``{1: [+ #6.402(eth-signature)]}``, request ids all different.

    ``audit_head`` is coldsign's key 2 (see the module docstring).
    """

    signatures: tuple[EthSignature, ...]
    audit_head: AuditHead | None = None

    def __post_init__(self) -> None:
        _check_items(self.signatures, EthSignature, f"{BATCH_SIGNATURE_TYPE}.signatures")
        if self.audit_head is not None and not isinstance(self.audit_head, AuditHead):
            raise SchemaError(f"{BATCH_SIGNATURE_TYPE}.audit-head", "must be an AuditHead")

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        entries: dict[CborKey, CborValue] = {
            _ITEMS: [signature.to_tagged() for signature in self.signatures]
        }
        if self.audit_head is not None:
            entries[_AUDIT_HEAD] = self.audit_head.to_value()
        return entries

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> EthBatchSignature:
        """Read an untagged ``eth-batch-signature`` map."""
        entries = as_map(value, where, _SIGNATURE_KEYS)
        field = f"{where}.signatures"
        raw = as_array(require(entries, _ITEMS, where, "signatures"), field)
        _check_count(len(raw), field)
        signatures = tuple(
            EthSignature.from_tagged(item, f"{field}[{i}]") for i, item in enumerate(raw)
        )
        audit_head = None
        if _AUDIT_HEAD in entries:
            audit_head = AuditHead.from_value(entries[_AUDIT_HEAD], f"{where}.audit-head")
        try:
            return cls(signatures, audit_head)
        except SchemaError as error:
            raise renamed(error, where, BATCH_SIGNATURE_TYPE) from None

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map."""
        return encode(self.to_value())

    @classmethod
    def from_cbor(cls, data: bytes) -> EthBatchSignature:
        """Decode an ``eth-batch-signature`` payload strictly, within :data:`BATCH_LIMITS`."""
        tags = SIGNATURE_INNER_TAGS | {SIGNATURE_TAG}
        value = decode(data, allowed_tags=tags, limits=BATCH_LIMITS)
        return cls.from_value(value, BATCH_SIGNATURE_TYPE)

    def to_ur(self) -> UR:
        """This batch as ``ur:eth-batch-signature``."""
        return UR(BATCH_SIGNATURE_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> EthBatchSignature:
        """Decode ``ur:eth-batch-signature``; :class:`URTypeError` for any other type."""
        expect_type(ur, BATCH_SIGNATURE_TYPE)
        return cls.from_cbor(ur.cbor)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: one entry per signature; ``audit_head`` only when present."""
        fields: dict[str, object] = {
            "signatures": [signature.describe() for signature in self.signatures]
        }
        if self.audit_head is not None:
            fields["audit_head"] = self.audit_head.describe()
        return fields


def _check_count(count: int, field: str) -> None:
    if not 1 <= count <= MAX_BATCH:
        raise SchemaError(field, f"expected 1 to {MAX_BATCH} entries, got {count}")


def _check_items(
    items: tuple[EthSignRequest, ...] | tuple[EthSignature, ...],
    item_type: type[EthSignRequest] | type[EthSignature],
    field: str,
) -> None:
    if not isinstance(items, tuple):
        raise SchemaError(field, "must be a tuple")
    _check_count(len(items), field)
    # Keyed by the 16 raw bytes (a RequestId is equal exactly when they are): hashing bytes
    # is cheaper than a dataclass's field tuple, a thousand times per batch.
    seen: dict[bytes, int] = {}
    for position, item in enumerate(items):
        if not isinstance(item, item_type):
            raise SchemaError(f"{field}[{position}]", f"must be an {item_type.__name__}")
        request_id = item.request_id
        if request_id is None:
            continue
        raw = request_id.raw
        if raw in seen:
            raise SchemaError(
                f"{field}[{position}].request-id",
                f"request id {request_id} repeats entry {seen[raw]}",
            )
        seen[raw] = position
