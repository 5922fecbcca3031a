"""``eth-signature`` (EIP-4527, tag 402): the signer's answer, ``r || s || v``, and its request.

Key 4 is coldsign's extension: the signer's audit-log head ``[seq, head-hash]`` after the
decision, so the watcher can notice the log being rolled back. Other wallets ignore keys they
do not know (Keystone's ``ETHSignature.fromDataItem`` reads keys 1 to 3 only); keys 1 to 3
keep their ERC-4527 meaning.

    eth-signature = {
      ? 1: uuid,                   ; request-id
      2: bytes,                    ; signature: r || s || v
      ? 3: text,                   ; origin
      ? 4: audit-head,             ; coldsign extension
    }
    audit-head = [seq: uint64, head-hash: bytes .size 32]
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.cbor import CborKey, CborLimits, CborValue, Tag, decode, encode
from shared.erc4527.request_id import UUID_TAG, RequestId
from shared.erc4527.schema import (
    UINT64_MAX,
    as_array,
    as_bytes,
    as_map,
    as_text,
    as_uint,
    check_length,
    check_text,
    check_uint,
    expect_type,
    renamed,
    require,
    untag,
)
from shared.errors import SchemaError
from shared.ur import UR

SIGNATURE_TYPE = "eth-signature"
SIGNATURE_TAG = 402
SIGNATURE_INNER_TAGS = frozenset({UUID_TAG})
SCALAR_LENGTH = 32
# EIP-155: v = chain_id * 2 + 35 + y_parity. With chain ids up to 2**64 - 1 (the range
# eth-sign-request carries) v stays below 2**66, which takes at most 9 bytes.
MAX_V_BYTES = 9
MAX_V = (1 << (8 * MAX_V_BYTES)) - 1
MIN_SIGNATURE_LENGTH = 2 * SCALAR_LENGTH + 1
MAX_SIGNATURE_LENGTH = 2 * SCALAR_LENGTH + MAX_V_BYTES
# A signature, a uuid and a 1 KiB origin fit well inside this.
SIGNATURE_LIMITS = CborLimits(max_size=2048)

_REQUEST_ID, _SIGNATURE, _ORIGIN, _AUDIT_HEAD = 1, 2, 3, 4
_KEYS = {
    _REQUEST_ID: "request-id",
    _SIGNATURE: "signature",
    _ORIGIN: "origin",
    _AUDIT_HEAD: "audit-head",
}
# SHA-256: the audit log's entry hashes are 32 bytes.
AUDIT_HASH_LENGTH = 32


@dataclass(frozen=True, slots=True)
class AuditHead:
    """The signer's audit-log head after a decision: entry ``seq`` and its 32-byte hash."""

    seq: int
    head_hash: bytes

    def __post_init__(self) -> None:
        check_uint(self.seq, "audit-head.seq", UINT64_MAX)
        check_length(self.head_hash, "audit-head.head-hash", AUDIT_HASH_LENGTH)

    def to_value(self) -> list[CborValue]:
        """``[seq, head-hash]``."""
        return [self.seq, self.head_hash]

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> AuditHead:
        """Read ``[seq, head-hash]``; fields in errors start with ``where``."""
        items = as_array(value, where)
        if len(items) != 2:
            raise SchemaError(where, f"expected [seq, head-hash], got {len(items)} items")
        seq = as_uint(items[0], f"{where}.seq", UINT64_MAX)
        head_hash = as_bytes(items[1], f"{where}.head-hash")
        check_length(head_hash, f"{where}.head-hash", AUDIT_HASH_LENGTH)
        return cls(seq, head_hash)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: the hash as hex."""
        return {"seq": self.seq, "head_hash": self.head_hash.hex()}


@dataclass(frozen=True, slots=True)
class EthSignature:
    """A signature as ``r``, ``s`` (32 bytes each) and ``v``, with the request it answers.

    ``v`` is the y-parity (0 or 1) for typed transactions and messages signed as
    Keystone does, 27/28 for personal messages, and the EIP-155 value for legacy
    transactions, which needs more than one byte once the chain id exceeds 109. On the
    wire it follows ``s`` as a big-endian integer in the fewest bytes (at least one).
    ``request_id`` is optional as in Keystone's registry (EIP-4527 requires it; coldsign's
    watcher insists on it when it matches answers to requests). ``audit_head`` is coldsign's
    key 4 (see the module docstring).
    """

    r: bytes
    s: bytes
    v: int
    request_id: RequestId | None = None
    origin: str | None = None
    audit_head: AuditHead | None = None

    def __post_init__(self) -> None:
        # The signer builds one per item of a batch: the common case is checked with plain
        # comparisons, and the schema helpers (which name the field) run only when it fails,
        # to raise the same error they always did.
        r, s, v = self.r, self.s, self.v
        if type(r) is not bytes or len(r) != SCALAR_LENGTH:
            check_length(r, f"{SIGNATURE_TYPE}.signature.r", SCALAR_LENGTH)
        if type(s) is not bytes or len(s) != SCALAR_LENGTH:
            check_length(s, f"{SIGNATURE_TYPE}.signature.s", SCALAR_LENGTH)
        if type(v) is not int or not 0 <= v <= MAX_V:
            check_uint(v, f"{SIGNATURE_TYPE}.signature.v", MAX_V)
        if self.request_id is not None and not isinstance(self.request_id, RequestId):
            raise SchemaError(f"{SIGNATURE_TYPE}.request-id", "must be a RequestId")
        if self.origin is not None:
            check_text(self.origin, f"{SIGNATURE_TYPE}.origin")
        if self.audit_head is not None and not isinstance(self.audit_head, AuditHead):
            raise SchemaError(f"{SIGNATURE_TYPE}.audit-head", "must be an AuditHead")

    @property
    def signature(self) -> bytes:
        """``r || s || v`` as it travels: v big-endian in the fewest bytes, at least one."""
        v = self.v
        # One byte for y-parity and 27/28; more only for EIP-155 v of chain ids above 109.
        length = 1 if v < 0x100 else (v.bit_length() + 7) // 8
        return self.r + self.s + v.to_bytes(length, "big")

    @classmethod
    def from_signature_bytes(
        cls,
        signature: bytes,
        request_id: RequestId | None = None,
        origin: str | None = None,
        *,
        where: str = SIGNATURE_TYPE,
        audit_head: AuditHead | None = None,
    ) -> EthSignature:
        """Split ``r || s || v``; :class:`SchemaError` for a bad length or a padded ``v``."""
        field = f"{where}.signature"
        if not MIN_SIGNATURE_LENGTH <= len(signature) <= MAX_SIGNATURE_LENGTH:
            raise SchemaError(
                field,
                f"expected {MIN_SIGNATURE_LENGTH} to {MAX_SIGNATURE_LENGTH} bytes "
                f"(r, s and a v of 1 to {MAX_V_BYTES} bytes), got {len(signature)}",
            )
        v_bytes = signature[2 * SCALAR_LENGTH :]
        if len(v_bytes) > 1 and v_bytes[0] == 0:
            raise SchemaError(f"{field}.v", "v has a leading zero byte (not minimal)")
        try:
            return cls(
                signature[:SCALAR_LENGTH],
                signature[SCALAR_LENGTH : 2 * SCALAR_LENGTH],
                int.from_bytes(v_bytes, "big"),
                request_id,
                origin,
                audit_head,
            )
        except SchemaError as error:
            raise renamed(error, where, SIGNATURE_TYPE) from None

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        entries: dict[CborKey, CborValue] = {}
        if self.request_id is not None:
            entries[_REQUEST_ID] = self.request_id.to_value()
        entries[_SIGNATURE] = self.signature
        if self.origin is not None:
            entries[_ORIGIN] = self.origin
        if self.audit_head is not None:
            entries[_AUDIT_HEAD] = self.audit_head.to_value()
        return entries

    def to_tagged(self) -> Tag:
        """``#6.402(eth-signature)``, as it sits in a batch."""
        return Tag(SIGNATURE_TAG, self.to_value())

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> EthSignature:
        """Read an untagged ``eth-signature`` map; fields in errors start with ``where``."""
        entries = as_map(value, where, _KEYS)
        request_id = None
        if _REQUEST_ID in entries:
            request_id = RequestId.from_value(entries[_REQUEST_ID], f"{where}.request-id")
        signature = as_bytes(require(entries, _SIGNATURE, where, "signature"), f"{where}.signature")
        origin = as_text(entries[_ORIGIN], f"{where}.origin") if _ORIGIN in entries else None
        audit_head = None
        if _AUDIT_HEAD in entries:
            audit_head = AuditHead.from_value(entries[_AUDIT_HEAD], f"{where}.audit-head")
        return cls.from_signature_bytes(
            signature, request_id, origin, where=where, audit_head=audit_head
        )

    @classmethod
    def from_tagged(cls, value: CborValue, where: str) -> EthSignature:
        """Read ``#6.402(eth-signature)``."""
        return cls.from_value(untag(value, where, SIGNATURE_TAG), where)

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map (the ``ur:eth-signature`` payload)."""
        return encode(self.to_value())

    @classmethod
    def from_cbor(cls, data: bytes) -> EthSignature:
        """Decode an ``eth-signature`` payload strictly."""
        value = decode(data, allowed_tags=SIGNATURE_INNER_TAGS, limits=SIGNATURE_LIMITS)
        return cls.from_value(value, SIGNATURE_TYPE)

    def to_ur(self) -> UR:
        """This signature as ``ur:eth-signature``."""
        return UR(SIGNATURE_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> EthSignature:
        """Decode ``ur:eth-signature``; :class:`URTypeError` for any other type."""
        expect_type(ur, SIGNATURE_TYPE)
        return cls.from_cbor(ur.cbor)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: bytes as hex, ``v`` as an integer.

        ``audit_head`` is listed only when present: it is coldsign's extension, and the ERC-4527
        fields keep the shape other implementations describe.
        """
        fields: dict[str, object] = {
            "request_id": None if self.request_id is None else str(self.request_id),
            "signature": self.signature.hex(),
            "r": self.r.hex(),
            "s": self.s.hex(),
            "v": self.v,
            "origin": self.origin,
        }
        if self.audit_head is not None:
            fields["audit_head"] = self.audit_head.describe()
        return fields
