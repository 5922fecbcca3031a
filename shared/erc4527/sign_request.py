"""``eth-sign-request`` (EIP-4527, tag 401): what the watcher asks the signer to sign.
Key 8 is coldsign's extension: an operator attestation, the 65-byte EIP-191 signature by a
pinned operator key over the SHA-256 of this request's CBOR *without* key 8 (the message is
defined in ``signer.policy.attestation``). Other wallets ignore keys they do not know
(Keystone's ``EthSignRequest.fromDataItem`` reads keys 1 to 7); keys 1 to 7 keep their
ERC-4527 meaning.

    eth-sign-request = { ... keys 1 to 7 as in ERC-4527 ...,
                         ? 8: bytes .size 65 }   ; operator-attestation (coldsign)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from shared.address import ADDRESS_LENGTH, Address
from shared.cbor import CborKey, CborLimits, CborValue, EncodedTag, Tag, decode, encode
from shared.erc4527.keypath import KEYPATH_TAG, Keypath, check_key_depth
from shared.erc4527.request_id import UUID_TAG, RequestId
from shared.erc4527.schema import (
    UINT64_MAX,
    as_bytes,
    as_map,
    as_text,
    as_uint,
    check_length,
    check_text,
    check_uint,
    expect_type,
    fingerprint_text,
    renamed,
    require,
    untag,
)
from shared.errors import SchemaError
from shared.ur import UR

SIGN_REQUEST_TYPE = "eth-sign-request"
SIGN_REQUEST_TAG = 401
# The tags an eth-sign-request may contain: the uuid request id and the keypath.
SIGN_REQUEST_INNER_TAGS = frozenset({UUID_TAG, KEYPATH_TAG})

# Largest sign-data accepted, in bytes. It holds EIP-3860's largest init code (49,152
# bytes) in a transaction with room to spare, and any EIP-712 document a person can
# review; beyond it a QR transfer would take minutes anyway.
MAX_SIGN_DATA = 1 << 16
# Room for every other field around sign-data: uuid, keypath of up to 255 steps, address,
# chain id and a 1 KiB origin. The CBOR decoder refuses input beyond this before allocating.
_OVERHEAD = 4096
SIGN_REQUEST_LIMITS = CborLimits(max_size=MAX_SIGN_DATA + _OVERHEAD)

_REQUEST_ID, _SIGN_DATA, _DATA_TYPE, _CHAIN_ID, _DERIVATION_PATH, _ADDRESS, _ORIGIN = range(1, 8)
_ATTESTATION = 8
# r || s || v of an EIP-191 signature.
ATTESTATION_LENGTH = 65
_KEYS = {
    _REQUEST_ID: "request-id",
    _SIGN_DATA: "sign-data",
    _DATA_TYPE: "data-type",
    _CHAIN_ID: "chain-id",
    _DERIVATION_PATH: "derivation-path",
    _ADDRESS: "address",
    _ORIGIN: "origin",
    _ATTESTATION: "operator-attestation",
}


class DataType(IntEnum):
    """EIP-4527 ``data-type``: what ``sign-data`` holds."""

    # RLP of an unsigned legacy transaction (EIP-155 fields when it names a chain).
    TRANSACTION = 1
    # EIP-712 typed data, the UTF-8 bytes of its JSON.
    TYPED_DATA = 2
    # Message bytes for EIP-191 personal_sign.
    PERSONAL_MESSAGE = 3
    # EIP-2718 typed transaction payload: type byte || unsigned payload.
    TYPED_TRANSACTION = 4


_DATA_TYPES = {int(data_type): data_type for data_type in DataType}


class _ReadFrom:
    """The slot where a request read from a batch keeps its map's bytes.

    Outside the dataclass fields on purpose: equality, hash, repr, ``fields()``,
    ``replace()`` and the constructor never see it, so only :meth:`EthSignRequest.from_tagged`
    sets it and any copy made with ``replace()`` encodes afresh.
    """

    __slots__ = ("_encoded",)
    _encoded: bytes


@dataclass(frozen=True, slots=True)
class EthSignRequest(_ReadFrom):
    """One signing request, field for field as Keystone's ``EthSignRequest`` writes it.

    ``data-type`` is required here although EIP-4527 gives it a default: every known
    sender writes it, and a signer does not guess what it is signing. Optional keys that
    were absent stay ``None``; ``chain_id`` is absent in MetaMask's message requests.

    A request read from a batch keeps the exact bytes of its map (``_encoded``, set only by
    :meth:`from_tagged` from the decoder's :class:`~shared.cbor.EncodedTag`; see
    :class:`_ReadFrom`), which :meth:`to_cbor` returns instead of encoding again.
    """

    sign_data: bytes
    data_type: DataType
    derivation_path: Keypath
    request_id: RequestId | None = None
    chain_id: int | None = None
    address: Address | None = None
    origin: str | None = None
    attestation: bytes | None = None

    def __post_init__(self) -> None:
        _check(self, SIGN_REQUEST_TYPE)

    @property
    def source_fingerprint(self) -> int | None:
        """The master fingerprint (xfp) the request names, when given."""
        return self.derivation_path.source_fingerprint

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        entries: dict[CborKey, CborValue] = {}
        if self.request_id is not None:
            entries[_REQUEST_ID] = self.request_id.to_value()
        entries[_SIGN_DATA] = self.sign_data
        entries[_DATA_TYPE] = int(self.data_type)
        if self.chain_id is not None:
            entries[_CHAIN_ID] = self.chain_id
        entries[_DERIVATION_PATH] = self.derivation_path.to_tagged()
        if self.address is not None:
            entries[_ADDRESS] = self.address.raw
        if self.origin is not None:
            entries[_ORIGIN] = self.origin
        if self.attestation is not None:
            entries[_ATTESTATION] = self.attestation
        return entries

    def to_tagged(self) -> Tag:
        """``#6.401(eth-sign-request)``, as it sits in a batch."""
        return Tag(SIGN_REQUEST_TAG, self.to_value())

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> EthSignRequest:
        """Read an untagged ``eth-sign-request`` map; fields in errors start with ``where``."""
        entries = as_map(value, where, _KEYS)
        # Each field is read with the schema helpers only when the common case does not
        # hold (or it is missing), so the field names for errors are built only then.
        request_id = None
        if _REQUEST_ID in entries:
            request_id = RequestId.from_value(entries[_REQUEST_ID], f"{where}.request-id")
        sign_data = entries.get(_SIGN_DATA)
        if type(sign_data) is not bytes:
            sign_data = as_bytes(
                require(entries, _SIGN_DATA, where, "sign-data"), f"{where}.sign-data"
            )
        raw_type = entries.get(_DATA_TYPE)
        data_type = _DATA_TYPES.get(raw_type) if type(raw_type) is int else None
        if data_type is None:
            raw_type = as_uint(
                require(entries, _DATA_TYPE, where, "data-type"), f"{where}.data-type", UINT64_MAX
            )
            data_type = _DATA_TYPES.get(raw_type)
            if data_type is None:
                raise SchemaError(f"{where}.data-type", f"{raw_type} is not one of 1, 2, 3, 4")
        raw_chain = entries.get(_CHAIN_ID)
        chain_id: int | None = None
        if type(raw_chain) is int and 0 <= raw_chain <= UINT64_MAX:
            chain_id = raw_chain
        elif _CHAIN_ID in entries:
            chain_id = as_uint(raw_chain, f"{where}.chain-id", UINT64_MAX)
        path = Keypath.from_tagged(
            require(entries, _DERIVATION_PATH, where, "derivation-path"),
            f"{where}.derivation-path",
        )
        address = None
        if _ADDRESS in entries:
            raw_address = as_bytes(entries[_ADDRESS], f"{where}.address")
            if len(raw_address) != ADDRESS_LENGTH:
                raise SchemaError(
                    f"{where}.address", f"an address is 20 bytes, got {len(raw_address)}"
                )
            address = Address(raw_address)
        origin = as_text(entries[_ORIGIN], f"{where}.origin") if _ORIGIN in entries else None
        attestation = None
        if _ATTESTATION in entries:
            attestation = as_bytes(entries[_ATTESTATION], f"{where}.operator-attestation")
        try:
            return cls(
                sign_data,
                data_type,
                path,
                request_id,
                chain_id,
                address,
                origin,
                attestation,
            )
        except SchemaError as error:
            raise renamed(error, where, SIGN_REQUEST_TYPE) from None

    @classmethod
    def from_tagged(cls, value: CborValue, where: str) -> EthSignRequest:
        """Read ``#6.401(eth-sign-request)``; as an :class:`EncodedTag`, keep its map's bytes."""
        request = cls.from_value(untag(value, where, SIGN_REQUEST_TAG), where)
        if type(value) is EncodedTag:
            # Sound only because decoding is canonical: the decoder accepts a map only in
            # its deterministic encoding and from_value reads every key losslessly, so
            # encode(request.to_value()) == value.encoded (the fuzzer and the property tests
            # assert encode(decode(x)) == x; tests/shared/test_erc4527_properties.py asserts
            # this equality for batches and mutated batches).
            object.__setattr__(request, "_encoded", value.encoded)
        return request

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map (the ``ur:eth-sign-request`` payload).

        For a request read from a batch, the bytes it was read from (equal to a fresh encoding).
        """
        encoded: bytes | None = getattr(self, "_encoded", None)
        return encode(self.to_value()) if encoded is None else encoded

    def attested_cbor(self) -> bytes:
        """The CBOR an operator attestation covers: this request without key 8."""
        return replace(self, attestation=None).to_cbor()

    @classmethod
    def from_cbor(cls, data: bytes) -> EthSignRequest:
        """Decode an ``eth-sign-request`` payload strictly, within :data:`SIGN_REQUEST_LIMITS`."""
        value = decode(data, allowed_tags=SIGN_REQUEST_INNER_TAGS, limits=SIGN_REQUEST_LIMITS)
        return cls.from_value(value, SIGN_REQUEST_TYPE)

    def to_ur(self) -> UR:
        """This request as ``ur:eth-sign-request``."""
        return UR(SIGN_REQUEST_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> EthSignRequest:
        """Decode ``ur:eth-sign-request``; :class:`URTypeError` for any other type."""
        expect_type(ur, SIGN_REQUEST_TYPE)
        return cls.from_cbor(ur.cbor)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: bytes as hex, the address EIP-55 checksummed."""
        fields: dict[str, object] = {
            "request_id": None if self.request_id is None else str(self.request_id),
            "sign_data": self.sign_data.hex(),
            "data_type": int(self.data_type),
            "data_type_name": self.data_type.name.lower(),
            "chain_id": self.chain_id,
            "derivation_path": self.derivation_path.describe(),
            "source_fingerprint": fingerprint_text(self.source_fingerprint),
            "address": None if self.address is None else self.address.checksummed(),
            "origin": self.origin,
        }
        if self.attestation is not None:
            # Listed only when present: coldsign's extension, absent from other describers.
            fields["operator_attestation"] = self.attestation.hex()
        return fields


def _check(request: EthSignRequest, where: str) -> None:
    if not isinstance(request.sign_data, bytes):
        raise SchemaError(f"{where}.sign-data", "must be bytes")
    if len(request.sign_data) > MAX_SIGN_DATA:
        raise SchemaError(
            f"{where}.sign-data",
            f"{len(request.sign_data)} bytes, more than the limit of {MAX_SIGN_DATA}",
        )
    if not isinstance(request.data_type, DataType):
        raise SchemaError(f"{where}.data-type", "must be a DataType")
    path = request.derivation_path
    if not isinstance(path, Keypath):
        raise SchemaError(f"{where}.derivation-path", "must be a Keypath")
    if path.has_wildcard:
        raise SchemaError(f"{where}.derivation-path", "the signing key's path has a wildcard")
    if path.depth is not None:
        check_key_depth(path, f"{where}.derivation-path")
    if request.request_id is not None and not isinstance(request.request_id, RequestId):
        raise SchemaError(f"{where}.request-id", "must be a RequestId")
    chain_id = request.chain_id
    if chain_id is not None and not (type(chain_id) is int and 0 <= chain_id <= UINT64_MAX):
        check_uint(chain_id, f"{where}.chain-id", UINT64_MAX)
    if request.address is not None and not isinstance(request.address, Address):
        raise SchemaError(f"{where}.address", "must be an Address")
    if request.origin is not None:
        check_text(request.origin, f"{where}.origin")
    if request.attestation is not None:
        check_length(request.attestation, f"{where}.operator-attestation", ATTESTATION_LENGTH)
