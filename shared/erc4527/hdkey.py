"""``crypto-hdkey`` (BCR-2020-007, tag 303): the account public key a signer shares for pairing."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cbor import CborKey, CborValue, Tag, decode, encode
from shared.erc4527.keypath import KEYPATH_TAG, Keypath, check_key_depth
from shared.erc4527.schema import (
    UINT32_MAX,
    as_bool,
    as_bytes,
    as_map,
    as_text,
    as_uint,
    check_length,
    check_text,
    check_uint,
    expect_type,
    fingerprint_text,
    kind,
    renamed,
    require,
    untag,
)
from shared.errors import SchemaError
from shared.ur import UR

HDKEY_TYPE = "crypto-hdkey"
HDKEY_TAG = 303
COIN_INFO_TAG = 305
KEY_LENGTH = 33
CHAIN_CODE_LENGTH = 32
# SLIP-44 coin type of Ether, as Keystone writes it in use-info.
COIN_TYPE_ETH = 60
# The tags a crypto-hdkey may contain: origin and children keypaths, use-info.
HDKEY_INNER_TAGS = frozenset({KEYPATH_TAG, COIN_INFO_TAG})

# SEC 2 §2.4.1: the field prime of secp256k1; points satisfy y^2 = x^3 + 7 (mod p).
_SECP256K1_P = 2**256 - 2**32 - 977

_IS_MASTER, _IS_PRIVATE, _KEY_DATA, _CHAIN_CODE, _USE_INFO = 1, 2, 3, 4, 5
_ORIGIN, _CHILDREN, _PARENT_FINGERPRINT, _NAME, _NOTE = 6, 7, 8, 9, 10
# BCR-2020-007 key names; key 10 is "note" in Keystone's registry ("source" in EIP-4527).
_KEYS = {
    _IS_MASTER: "is-master",
    _IS_PRIVATE: "is-private",
    _KEY_DATA: "key-data",
    _CHAIN_CODE: "chain-code",
    _USE_INFO: "use-info",
    _ORIGIN: "origin",
    _CHILDREN: "children",
    _PARENT_FINGERPRINT: "parent-fingerprint",
    _NAME: "name",
    _NOTE: "note",
}
_COIN_KEYS = {1: "type", 2: "network"}
_INT_MIN = -(2**64)
_INT_MAX = 2**64 - 1


@dataclass(frozen=True, slots=True)
class CoinInfo:
    """``crypto-coin-info`` (tag 305): SLIP-44 ``coin_type`` and ``network``, each optional.

    Absent keys stay ``None`` (BCR-2020-007 defaults are 0 = Bitcoin, 0 = mainnet), so a
    key that was written with its default value is written again.
    """

    coin_type: int | None = None
    network: int | None = None

    def __post_init__(self) -> None:
        _check_coin_info(self.coin_type, self.network, "use-info")

    def to_tagged(self) -> Tag:
        """``#6.305({? 1: type, ? 2: network})``."""
        entries: dict[CborKey, CborValue] = {}
        if self.coin_type is not None:
            entries[1] = self.coin_type
        if self.network is not None:
            entries[2] = self.network
        return Tag(COIN_INFO_TAG, entries)

    @classmethod
    def from_tagged(cls, value: CborValue, where: str) -> CoinInfo:
        """Read ``#6.305(coininfo)``."""
        entries = as_map(untag(value, where, COIN_INFO_TAG), where, _COIN_KEYS)
        coin_type = None
        if 1 in entries:
            coin_type = as_uint(entries[1], f"{where}.type", UINT32_MAX)
        network = None
        if 2 in entries:
            raw = entries[2]
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise SchemaError(f"{where}.network", f"expected an integer, got {kind(raw)}")
            network = raw
        try:
            return cls(coin_type, network)
        except SchemaError as error:
            raise renamed(error, where, "use-info") from None

    def describe(self) -> dict[str, object]:
        """JSON-safe fields."""
        return {"coin_type": self.coin_type, "network": self.network}


def _check_coin_info(coin_type: int | None, network: int | None, where: str) -> None:
    if coin_type is not None:
        check_uint(coin_type, f"{where}.type", UINT32_MAX)
    if network is not None and (
        isinstance(network, bool)
        or not isinstance(network, int)
        or not _INT_MIN <= network <= _INT_MAX
    ):
        raise SchemaError(f"{where}.network", "expected an integer in the CBOR range")


@dataclass(frozen=True, slots=True)
class HDKey:
    """A derived public key with its chain code and where it sits in the BIP-32 tree.

    Only public keys are accepted: an ``is-master`` key or ``is-private: true`` is
    refused. ``is_private`` is ``False`` when the sender wrote ``is-private: false``
    (Keystone's firmware does) and ``None`` when the key was absent.
    """

    key: bytes
    chain_code: bytes | None = None
    origin: Keypath | None = None
    children: Keypath | None = None
    parent_fingerprint: int | None = None
    name: str | None = None
    note: str | None = None
    use_info: CoinInfo | None = None
    is_private: bool | None = None

    def __post_init__(self) -> None:
        _check_hdkey(HDKEY_TYPE, self)

    @property
    def source_fingerprint(self) -> int | None:
        """The master fingerprint (xfp) from the origin keypath, when given."""
        return None if self.origin is None else self.origin.source_fingerprint

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        entries: dict[CborKey, CborValue] = {}
        if self.is_private is not None:
            entries[_IS_PRIVATE] = self.is_private
        entries[_KEY_DATA] = self.key
        if self.chain_code is not None:
            entries[_CHAIN_CODE] = self.chain_code
        if self.use_info is not None:
            entries[_USE_INFO] = self.use_info.to_tagged()
        if self.origin is not None:
            entries[_ORIGIN] = self.origin.to_tagged()
        if self.children is not None:
            entries[_CHILDREN] = self.children.to_tagged()
        if self.parent_fingerprint is not None:
            entries[_PARENT_FINGERPRINT] = self.parent_fingerprint
        if self.name is not None:
            entries[_NAME] = self.name
        if self.note is not None:
            entries[_NOTE] = self.note
        return entries

    def to_tagged(self) -> Tag:
        """``#6.303(crypto-hdkey)``."""
        return Tag(HDKEY_TAG, self.to_value())

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> HDKey:
        """Read an untagged ``crypto-hdkey`` map; fields in errors start with ``where``."""
        entries = as_map(value, where, _KEYS)
        if _IS_MASTER in entries:
            raise SchemaError(
                f"{where}.is-master", "master keys are refused: only derived public keys"
            )
        is_private = None
        if _IS_PRIVATE in entries:
            is_private = as_bool(entries[_IS_PRIVATE], f"{where}.is-private")
        key = as_bytes(require(entries, _KEY_DATA, where, "key-data"), f"{where}.key-data")
        chain_code = None
        if _CHAIN_CODE in entries:
            chain_code = as_bytes(entries[_CHAIN_CODE], f"{where}.chain-code")
        use_info = None
        if _USE_INFO in entries:
            use_info = CoinInfo.from_tagged(entries[_USE_INFO], f"{where}.use-info")
        origin = None
        if _ORIGIN in entries:
            origin = Keypath.from_tagged(entries[_ORIGIN], f"{where}.origin")
        children = None
        if _CHILDREN in entries:
            children = Keypath.from_tagged(entries[_CHILDREN], f"{where}.children")
        parent_fingerprint = None
        if _PARENT_FINGERPRINT in entries:
            parent_fingerprint = as_uint(
                entries[_PARENT_FINGERPRINT], f"{where}.parent-fingerprint", UINT32_MAX
            )
        name = as_text(entries[_NAME], f"{where}.name") if _NAME in entries else None
        note = as_text(entries[_NOTE], f"{where}.note") if _NOTE in entries else None
        try:
            return cls(
                key,
                chain_code,
                origin,
                children,
                parent_fingerprint,
                name,
                note,
                use_info,
                is_private,
            )
        except SchemaError as error:
            raise renamed(error, where, HDKEY_TYPE) from None

    @classmethod
    def from_tagged(cls, value: CborValue, where: str) -> HDKey:
        """Read ``#6.303(crypto-hdkey)``."""
        return cls.from_value(untag(value, where, HDKEY_TAG), where)

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map (the ``ur:crypto-hdkey`` payload)."""
        return encode(self.to_value())

    @classmethod
    def from_cbor(cls, data: bytes) -> HDKey:
        """Decode a ``crypto-hdkey`` payload strictly."""
        return cls.from_value(decode(data, allowed_tags=HDKEY_INNER_TAGS), HDKEY_TYPE)

    def to_ur(self) -> UR:
        """This key as ``ur:crypto-hdkey``."""
        return UR(HDKEY_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> HDKey:
        """Decode ``ur:crypto-hdkey``; :class:`URTypeError` for any other type."""
        expect_type(ur, HDKEY_TYPE)
        return cls.from_cbor(ur.cbor)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields: bytes as hex, fingerprints as 8 hex digits."""
        return {
            "key": self.key.hex(),
            "chain_code": None if self.chain_code is None else self.chain_code.hex(),
            "is_private": self.is_private,
            "use_info": None if self.use_info is None else self.use_info.describe(),
            "origin": None if self.origin is None else self.origin.describe(),
            "children": None if self.children is None else self.children.describe(),
            "parent_fingerprint": fingerprint_text(self.parent_fingerprint),
            "name": self.name,
            "note": self.note,
        }


def _check_hdkey(where: str, fields: HDKey) -> None:
    check_public_key(fields.key, f"{where}.key-data")
    if fields.is_private is not None:
        if not isinstance(fields.is_private, bool):
            raise SchemaError(f"{where}.is-private", "must be a boolean")
        if fields.is_private:
            raise SchemaError(f"{where}.is-private", "private keys are refused")
    if fields.chain_code is not None:
        check_length(fields.chain_code, f"{where}.chain-code", CHAIN_CODE_LENGTH)
    if fields.use_info is not None and not isinstance(fields.use_info, CoinInfo):
        raise SchemaError(f"{where}.use-info", "not a CoinInfo")
    for name, keypath in (("origin", fields.origin), ("children", fields.children)):
        if keypath is not None and not isinstance(keypath, Keypath):
            raise SchemaError(f"{where}.{name}", "not a Keypath")
    origin = fields.origin
    if origin is not None:
        if origin.has_wildcard:
            raise SchemaError(f"{where}.origin", "the path of a key cannot hold a wildcard")
        check_key_depth(origin, f"{where}.origin")
    parent = fields.parent_fingerprint
    if parent is not None:
        check_uint(parent, f"{where}.parent-fingerprint", UINT32_MAX)
        # BCR-2020-007: parent-fingerprint is uint32 .ne 0.
        if parent == 0:
            raise SchemaError(f"{where}.parent-fingerprint", "must not be 0 (BCR-2020-007)")
        # EIP-4527: with a one-step origin that names its source, the parent is that source.
        if (
            origin is not None
            and len(origin.components) == 1
            and origin.depth in (None, 1)
            and origin.source_fingerprint is not None
            and origin.source_fingerprint != parent
        ):
            raise SchemaError(
                f"{where}.parent-fingerprint",
                "differs from the source fingerprint of a one-step origin",
            )
    for name, text in (("name", fields.name), ("note", fields.note)):
        if text is not None:
            check_text(text, f"{where}.{name}")


def check_public_key(key: bytes, field: str) -> None:
    """Refuse anything but a SEC 1 compressed secp256k1 point (33 bytes, 0x02/0x03 prefix)."""
    check_length(key, field, KEY_LENGTH)
    if key[0] not in (2, 3):
        raise SchemaError(field, f"prefix 0x{key[0]:02x} is not a compressed public key")
    x = int.from_bytes(key[1:], "big")
    if x >= _SECP256K1_P:
        raise SchemaError(field, "x coordinate is not below the field prime")
    # Euler's criterion: x^3 + 7 must be a square mod p for a point with this x to exist.
    if pow((x * x * x + 7) % _SECP256K1_P, (_SECP256K1_P - 1) // 2, _SECP256K1_P) != 1:
        raise SchemaError(field, "x coordinate is not on the secp256k1 curve")
