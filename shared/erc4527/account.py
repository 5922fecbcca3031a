"""``crypto-account`` (BCR-2020-015, tag 311): several account keys under one master fingerprint."""

from __future__ import annotations

from dataclasses import dataclass

from shared.cbor import CborKey, CborValue, decode, encode
from shared.erc4527.hdkey import HDKEY_INNER_TAGS, HDKEY_TAG, HDKey
from shared.erc4527.schema import (
    UINT32_MAX,
    as_array,
    as_map,
    as_uint,
    check_uint,
    expect_type,
    fingerprint_text,
    renamed,
    require,
)
from shared.errors import SchemaError
from shared.ur import UR

ACCOUNT_TYPE = "crypto-account"
ACCOUNT_TAG = 311
ACCOUNT_INNER_TAGS = HDKEY_INNER_TAGS | {HDKEY_TAG}
# Keystone's Ledger Live export holds 10 accounts; a hundred leaves room and bounds the work.
MAX_OUTPUTS = 100

_MASTER_FINGERPRINT, _OUTPUT_DESCRIPTORS = 1, 2
_KEYS = {_MASTER_FINGERPRINT: "master-fingerprint", _OUTPUT_DESCRIPTORS: "output-descriptors"}


@dataclass(frozen=True, slots=True)
class CryptoAccount:
    """A master fingerprint and the account keys under it, as Keystone exports Ethereum.

    BCR-2020-015 wraps each key in output-descriptor script tags (``#6.403`` pkh and
    friends), which mean nothing for Ethereum: Keystone's firmware writes each entry as
    a bare ``#6.303(crypto-hdkey)`` (a crypto-output with no script expression), and
    that is the only form accepted here.
    """

    master_fingerprint: int
    output_descriptors: tuple[HDKey, ...]

    def __post_init__(self) -> None:
        where = ACCOUNT_TYPE
        check_uint(self.master_fingerprint, f"{where}.master-fingerprint", UINT32_MAX)
        if not isinstance(self.output_descriptors, tuple):
            raise SchemaError(f"{where}.output-descriptors", "must be a tuple")
        if not 1 <= len(self.output_descriptors) <= MAX_OUTPUTS:
            raise SchemaError(
                f"{where}.output-descriptors",
                f"expected 1 to {MAX_OUTPUTS} entries, got {len(self.output_descriptors)}",
            )
        for position, key in enumerate(self.output_descriptors):
            field = f"{where}.output-descriptors[{position}]"
            if not isinstance(key, HDKey):
                raise SchemaError(field, "must be an HDKey")
            source = key.source_fingerprint
            if source is not None and source != self.master_fingerprint:
                raise SchemaError(
                    f"{field}.origin.source-fingerprint",
                    f"{source:08x} is not the master fingerprint {self.master_fingerprint:08x}",
                )

    def to_value(self) -> dict[CborKey, CborValue]:
        """The untagged CBOR map."""
        outputs: list[CborValue] = [key.to_tagged() for key in self.output_descriptors]
        return {_MASTER_FINGERPRINT: self.master_fingerprint, _OUTPUT_DESCRIPTORS: outputs}

    @classmethod
    def from_value(cls, value: CborValue, where: str) -> CryptoAccount:
        """Read an untagged ``crypto-account`` map; fields in errors start with ``where``."""
        entries = as_map(value, where, _KEYS)
        fingerprint = as_uint(
            require(entries, _MASTER_FINGERPRINT, where, "master-fingerprint"),
            f"{where}.master-fingerprint",
            UINT32_MAX,
        )
        field = f"{where}.output-descriptors"
        raw = as_array(require(entries, _OUTPUT_DESCRIPTORS, where, "output-descriptors"), field)
        if not 1 <= len(raw) <= MAX_OUTPUTS:
            raise SchemaError(field, f"expected 1 to {MAX_OUTPUTS} entries, got {len(raw)}")
        # Script-expression tags (400-409) never get this far: the CBOR decoder refuses
        # any tag outside ACCOUNT_INNER_TAGS and names the entry's path.
        keys = [HDKey.from_tagged(item, f"{field}[{i}]") for i, item in enumerate(raw)]
        try:
            return cls(fingerprint, tuple(keys))
        except SchemaError as error:
            raise renamed(error, where, ACCOUNT_TYPE) from None

    def to_cbor(self) -> bytes:
        """The deterministic CBOR of the untagged map (the ``ur:crypto-account`` payload)."""
        return encode(self.to_value())

    @classmethod
    def from_cbor(cls, data: bytes) -> CryptoAccount:
        """Decode a ``crypto-account`` payload strictly."""
        return cls.from_value(decode(data, allowed_tags=ACCOUNT_INNER_TAGS), ACCOUNT_TYPE)

    def to_ur(self) -> UR:
        """This account as ``ur:crypto-account``."""
        return UR(ACCOUNT_TYPE, self.to_cbor())

    @classmethod
    def from_ur(cls, ur: UR) -> CryptoAccount:
        """Decode ``ur:crypto-account``; :class:`URTypeError` for any other type."""
        expect_type(ur, ACCOUNT_TYPE)
        return cls.from_cbor(ur.cbor)

    def describe(self) -> dict[str, object]:
        """JSON-safe fields."""
        return {
            "master_fingerprint": fingerprint_text(self.master_fingerprint),
            "output_descriptors": [key.describe() for key in self.output_descriptors],
        }
