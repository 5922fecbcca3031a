"""The common base of every transaction type: decoding, checks and encoding driven by its layout."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Self

from shared.address import ADDRESS_LENGTH, Address
from shared.errors import TransactionError
from shared.keccak import keccak256
from shared.tx.fields import (
    ACCESS_LIST_ENTRY_NAMES,
    DESTINATION_LENGTHS,
    STORAGE_KEY_LENGTH,
    FieldSpec,
    Kind,
)
from shared.tx.rlp import (
    MAX_UINT_BYTES,
    RLPValue,
    Span,
    encode_list,
    encode_uint,
    item_path,
    read_top,
    scan_list,
    span_bytes,
    span_uint,
)

# The root of every field path in errors: ``tx.nonce``, ``tx.access_list[0].address``.
ROOT = "tx"
_ACCESS_LIST = f"{ROOT}.access_list"
# The kinds as module names: reading an Enum member as a class attribute goes through the
# enum machinery on every access, and the decoder tests a field's kind for every field.
_UINT, _DESTINATION, _BYTES, _ZERO = Kind.UINT, Kind.DESTINATION, Kind.BYTES, Kind.ZERO
_ACCESS_LIST_KIND = Kind.ACCESS_LIST
# SEC 2 §2.4.1: the order of the secp256k1 group; r and s lie in [1, n).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, slots=True)
class AccessListEntry:
    """One EIP-2930 access list entry: an address and the storage keys it pre-warms."""

    address: Address
    storage_keys: tuple[bytes, ...]


AccessList = tuple[AccessListEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionBase(ABC):
    """Fields every transaction type has; subclasses add theirs and name their layout.

    Constructing a transaction checks every field against its layout, so an object
    of this type is always within bounds whether decoded or built by a program.
    """

    # EIP-2718 type byte, or None for a legacy transaction (no type byte on the wire).
    TX_TYPE: ClassVar[int | None]
    # The EIP that defines the signing payload, for display: "EIP-155", "EIP-1559".
    EIP: ClassVar[str]
    # ERC-4527 eth-sign-request data-type: 1 legacy transaction, 4 EIP-2718 typed payload.
    DATA_TYPE: ClassVar[int]
    FIELDS: ClassVar[tuple[FieldSpec, ...]]
    # The FIELDS' names in wire order (the RLP list's item names).
    FIELD_NAMES: ClassVar[tuple[str, ...]]
    # Pairs of fields where the first may not exceed the second: (lower, upper, reason).
    FIELD_ORDER: ClassVar[tuple[tuple[str, str, str], ...]] = ()

    chain_id: int
    nonce: int
    gas_limit: int
    to: Address | None
    value: int
    data: bytes

    def __post_init__(self) -> None:
        for spec in self.FIELDS:
            if spec.kind is not _ZERO:
                check_value(spec, getattr(self, spec.name), f"{ROOT}.{spec.name}")
        self._check_order()

    def _check_order(self) -> None:
        for lower, upper, rule in self.FIELD_ORDER:
            low, high = getattr(self, lower), getattr(self, upper)
            if low > high:
                raise TransactionError(f"{ROOT}.{lower}", f"{rule}: {low} > {high}")

    @abstractmethod
    def fee_cap_per_gas(self) -> int:
        """The most the sender can pay per unit of gas (gas price, or EIP-1559 max fee)."""

    def max_fee_cost(self) -> int:
        """The most this transaction can cost in fees, in wei: gas_limit * fee cap."""
        return self.gas_limit * self.fee_cap_per_gas()

    def type_prefix(self) -> bytes:
        """The EIP-2718 type byte that precedes the RLP, or nothing for legacy."""
        return b"" if self.TX_TYPE is None else bytes([self.TX_TYPE])

    def rlp_fields(self) -> tuple[RLPValue, ...]:
        """The unsigned fields as RLP values, in the layout's wire order."""
        # Every value was checked against its spec when the object was built, so each kind
        # is written directly: integers minimal big-endian (0 is the empty string), no
        # destination the empty string (creation), the EIP-155 placeholders 0.
        values: list[RLPValue] = []
        for spec in self.FIELDS:
            kind = spec.kind
            if kind is _UINT:
                number: int = getattr(self, spec.name)
                values.append(number.to_bytes((number.bit_length() + 7) // 8, "big"))
            elif kind is _BYTES:
                values.append(getattr(self, spec.name))
            elif kind is _DESTINATION:
                to: Address | None = getattr(self, spec.name)
                values.append(b"" if to is None else to.raw)
            elif kind is _ZERO:
                values.append(b"")
            else:
                entries: AccessList = getattr(self, spec.name)
                values.append(tuple((entry.address.raw, entry.storage_keys) for entry in entries))
        return tuple(values)

    def unsigned_payload(self) -> bytes:
        """The exact bytes that are hashed for signing (equal to the decoded input)."""
        return self.type_prefix() + encode_list(self.rlp_fields())

    def signing_hash(self) -> bytes:
        """keccak256 of :meth:`unsigned_payload`: the digest the signer signs."""
        return keccak256(self.unsigned_payload())

    @abstractmethod
    def signed_payload(self, v: int, r: int, s: int) -> bytes:
        """The raw signed transaction for broadcast, given the signature values."""

    @classmethod
    def decode_rlp(cls, data: bytes, offset: int) -> Self:
        """Decode the transaction list at ``data[offset:]``, which must end the input."""
        span = read_top(data, offset, ROOT)
        return cls.from_spans(data, cls.scan_fields(data, span))

    @classmethod
    def scan_fields(cls, data: bytes, span: Span) -> list[Span]:
        """The list ``span``'s items, exactly one per layout field, headers checked."""
        return scan_list(data, span, ROOT, 1, cls.FIELD_NAMES)

    @classmethod
    def from_spans(cls, data: bytes, spans: Sequence[Span]) -> Self:
        """Build the transaction from exactly one located item per layout field.

        Each field is checked once, here, against its :class:`FieldSpec` (the same rule
        ``__post_init__`` applies to a transaction built by a program, but with the field's
        byte offset); so the object is assembled without running those checks again, and
        only the cross-field :attr:`FIELD_ORDER` rules remain.
        """
        transaction = object.__new__(cls)
        for spec, span in zip(cls.FIELDS, spans, strict=True):
            kind = spec.kind
            _, start, end, is_list = span
            # The common integer read inline: a byte string of at most 32 bytes with no
            # leading zero byte, within the field's bounds. Anything else goes through
            # decode_field, which makes the same checks and raises the error.
            if (
                kind is _UINT
                and not is_list
                and end - start <= MAX_UINT_BYTES
                and (start == end or data[start])
            ):
                number = int.from_bytes(data[start:end], "big")
                if spec.minimum <= number < spec.limit:
                    object.__setattr__(transaction, spec.name, number)
                    continue
            value = decode_field(data, spec, span)
            if kind is not _ZERO:
                object.__setattr__(transaction, spec.name, value)
        transaction._check_order()
        return transaction


def check_signature_values(r: int, s: int) -> None:
    """Refuse r or s outside [1, n): such a signature cannot be valid on secp256k1."""
    for name, number in (("r", r), ("s", s)):
        if not 1 <= number < SECP256K1_N:
            raise TransactionError(f"signature.{name}", "must be in [1, secp256k1 order)")


def decode_field(data: bytes, spec: FieldSpec, span: Span) -> object:
    """Decode one field from its located item, checking its kind and bounds.

    The field's path (``tx.nonce``) is only built for an error.
    """
    kind = spec.kind
    offset, start, end, is_list = span
    if kind is _UINT:
        # No field allows more than 256 bits: refuse longer integers as out of bounds.
        if not is_list and end - start > MAX_UINT_BYTES:
            raise TransactionError(
                item_path(ROOT, spec.name),
                f"{spec.rule}, got a {end - start}-byte integer",
                offset=offset,
            )
        value = span_uint(data, span, ROOT, spec.name)
        if not spec.minimum <= value < spec.limit:
            raise TransactionError(
                item_path(ROOT, spec.name), f"{spec.rule}, got {value}", offset=offset
            )
        return value
    if kind is _DESTINATION:
        raw = span_bytes(data, span, ROOT, spec.name)
        if not raw:
            return None
        _check_destination_length(len(raw), item_path(ROOT, spec.name), offset)
        return Address(raw)
    if kind is _BYTES:
        # Checked from the header, before the payload is copied.
        if not is_list and end - start > spec.limit:
            raise TransactionError(
                item_path(ROOT, spec.name), f"{spec.rule}, got {end - start}", offset=offset
            )
        return span_bytes(data, span, ROOT, spec.name)
    if kind is _ZERO:
        if span_uint(data, span, ROOT, spec.name) != 0:
            raise TransactionError(
                item_path(ROOT, spec.name),
                f"an EIP-155 signing payload ends with chainId, 0, 0 but {spec.name} is not 0 "
                "(a signed or pre-EIP-155 transaction?)",
                offset=offset,
            )
        return 0
    return _decode_access_list(data, span)


def _decode_access_list(data: bytes, span: Span) -> AccessList:
    # EIP-2930: [[address, [storage_key, ...]], ...], the list itself at depth 2.
    entries: list[AccessListEntry] = []
    for index, entry in enumerate(scan_list(data, span, _ACCESS_LIST, 2)):
        entry_path = f"{_ACCESS_LIST}[{index}]"
        address, keys = scan_list(data, entry, entry_path, 3, ACCESS_LIST_ENTRY_NAMES)
        raw = span_bytes(data, address, entry_path, "address")
        if len(raw) != ADDRESS_LENGTH:
            raise TransactionError(
                f"{entry_path}.address",
                f"an address is 20 bytes, got {len(raw)}",
                offset=address[0],
            )
        keys_path = f"{entry_path}.storage_keys"
        storage_keys: list[bytes] = []
        for key_index, key_span in enumerate(scan_list(data, keys, keys_path, 4)):
            key = span_bytes(data, key_span, keys_path, key_index)
            if len(key) != STORAGE_KEY_LENGTH:
                raise TransactionError(
                    f"{keys_path}[{key_index}]",
                    f"a storage key is 32 bytes, got {len(key)}",
                    offset=key_span[0],
                )
            storage_keys.append(key)
        entries.append(AccessListEntry(Address(raw), tuple(storage_keys)))
    return tuple(entries)


def _check_uint(spec: FieldSpec, value: int, path: str, offset: int | None) -> None:
    if not spec.minimum <= value < spec.limit:
        raise TransactionError(path, f"{spec.rule}, got {value}", offset=offset)


def _check_destination_length(length: int, path: str, offset: int | None) -> None:
    if length not in DESTINATION_LENGTHS:
        raise TransactionError(
            path,
            f"must be a 20-byte address or empty (contract creation), got {length} bytes",
            offset=offset,
        )


def check_value(spec: FieldSpec, value: object, path: str) -> None:
    """Check a field value held by a transaction object against its spec.

    Values of the wrong Python type are a programmer error (TypeError); values of
    the right type outside the bounds are refused with :class:`TransactionError`.
    """
    if spec.kind is _UINT:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{path} must be an int")
        _check_uint(spec, value, path, None)
    elif spec.kind is _DESTINATION:
        if value is not None and not isinstance(value, Address):
            raise TypeError(f"{path} must be an Address or None")
    elif spec.kind is _BYTES:
        if not isinstance(value, bytes):
            raise TypeError(f"{path} must be bytes")
        if len(value) > spec.limit:
            raise TransactionError(path, f"{spec.rule}, got {len(value)}")
    elif spec.kind is _ACCESS_LIST_KIND:
        _check_access_list(value, path)


def _check_access_list(value: object, path: str) -> None:
    if not isinstance(value, tuple):
        raise TypeError(f"{path} must be a tuple of AccessListEntry")
    for index, entry in enumerate(value):
        if not isinstance(entry, AccessListEntry) or not isinstance(entry.address, Address):
            raise TypeError(f"{path}[{index}] must be an AccessListEntry with an Address")
        if not isinstance(entry.storage_keys, tuple):
            raise TypeError(f"{path}[{index}].storage_keys must be a tuple")
        for key_index, key in enumerate(entry.storage_keys):
            if not isinstance(key, bytes) or len(key) != STORAGE_KEY_LENGTH:
                raise TransactionError(
                    f"{path}[{index}].storage_keys[{key_index}]", "a storage key is 32 bytes"
                )


class TypedTransactionBase(TransactionBase):
    """An EIP-2718 typed transaction: ``type || rlp(fields)``, signed with y-parity."""

    __slots__ = ()
    DATA_TYPE: ClassVar[int] = 4

    def signed_payload(self, v: int, r: int, s: int) -> bytes:
        """EIP-2718: ``type || rlp([...unsigned fields, y_parity, r, s])``; ``v`` is 0 or 1."""
        if v not in (0, 1):
            raise TransactionError(
                "signature.v", f"a typed transaction needs y-parity 0 or 1, got {v}"
            )
        check_signature_values(r, s)
        signature = (encode_uint(v), encode_uint(r), encode_uint(s))
        return self.type_prefix() + encode_list(self.rlp_fields() + signature)
