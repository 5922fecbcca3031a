"""BIP-32 hierarchical deterministic keys on secp256k1: paths, CKDpriv, CKDpub, fingerprints.

Private extended keys are :class:`ExtendedPrivateKey` objects whose ``repr()`` shows only the
public fingerprint; nothing here ever serialises a private key (there is no ``xprv`` export).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from coincurve import PublicKey

from shared.hdpublic import CURVE_ORDER as CURVE_ORDER
from shared.hdpublic import ckd_pub
from shared.hdpublic import key_fingerprint as key_fingerprint
from signer.errors import KeyPathError

# BIP-32 §Extended keys: indices >= 2**31 are hardened.
HARDENED = 0x8000_0000
MAX_INDEX = 0xFFFF_FFFF
# BIP-32 §Serialization format: depth is one byte.
MAX_DEPTH = 255
# BIP-32 §Serialization format: mainnet version bytes for xpub.
XPUB_VERSION = bytes.fromhex("0488b21e")
# BIP-32 §Master key generation: I = HMAC-SHA512(Key = "Bitcoin seed", Data = S).
_MASTER_HMAC_KEY = b"Bitcoin seed"
_MIN_SEED_BYTES = 16
_MAX_SEED_BYTES = 64
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True, order=True)
class DerivationPath:
    """A BIP-32 path as child indices (hardened ones have bit 31 set); ``str()`` is canonical.

    The canonical text is ``m`` followed by ``/i`` or ``/i'`` per level, decimal without
    leading zeros, hardened marked with an apostrophe (BIP-32 §The key tree, BIP-44 notation).
    """

    indices: tuple[int, ...]

    def __post_init__(self) -> None:
        if len(self.indices) > MAX_DEPTH:
            raise KeyPathError(f"a path has at most {MAX_DEPTH} levels")
        for index in self.indices:
            if type(index) is not int or not 0 <= index <= MAX_INDEX:
                raise KeyPathError("a path index must be an integer in [0, 2**32)")

    @classmethod
    def parse(cls, text: str) -> DerivationPath:
        """Parse the canonical text form; :class:`KeyPathError` for anything else."""
        if not isinstance(text, str) or len(text) > 4096:
            raise KeyPathError("a derivation path is a string of at most 4096 characters")
        parts = text.split("/")
        if parts[0] != "m":
            raise KeyPathError(f"derivation path {text!r} must start with 'm'")
        indices: list[int] = []
        for level, part in enumerate(parts[1:], start=1):
            hardened = part.endswith("'")
            digits = part[:-1] if hardened else part
            if not digits or not digits.isascii() or not digits.isdigit():
                raise KeyPathError(f"derivation path {text!r}: level {level} is not a number")
            if len(digits) > 1 and digits[0] == "0":
                raise KeyPathError(f"derivation path {text!r}: level {level} has a leading zero")
            if len(digits) > 10 or int(digits) >= HARDENED:
                raise KeyPathError(f"derivation path {text!r}: level {level} is >= 2**31")
            indices.append(int(digits) + (HARDENED if hardened else 0))
        return cls(tuple(indices))

    @property
    def depth(self) -> int:
        """The number of levels below the master key."""
        return len(self.indices)

    def child(self, index: int) -> DerivationPath:
        """This path extended by one level."""
        return DerivationPath((*self.indices, index))

    def is_prefix_of(self, other: DerivationPath) -> bool:
        """True when ``other`` equals this path or lies below it."""
        return other.indices[: len(self.indices)] == self.indices

    def __repr__(self) -> str:
        return f"DerivationPath.parse({str(self)!r})"

    def __str__(self) -> str:
        return "/".join(
            ["m"] + [f"{i - HARDENED}'" if i >= HARDENED else str(i) for i in self.indices]
        )


@dataclass(frozen=True, slots=True)
class ExtendedPublicKey:
    """A BIP-32 extended public key: everything ``crypto-hdkey`` carries about a node."""

    public_key: bytes  # 33-byte SEC1 compressed point
    chain_code: bytes  # 32 bytes
    depth: int
    parent_fingerprint: bytes  # 4 bytes; zero for the master
    child_number: int

    def __post_init__(self) -> None:
        if len(self.public_key) != 33 or self.public_key[0] not in (2, 3):
            raise ValueError("public_key must be a 33-byte compressed point")
        if len(self.chain_code) != 32 or len(self.parent_fingerprint) != 4:
            raise ValueError("chain_code is 32 bytes and parent_fingerprint 4 bytes")

    @property
    def fingerprint(self) -> bytes:
        """BIP-32 §Key identifiers: the first 4 bytes of HASH160(serP(K))."""
        return key_fingerprint(self.public_key)

    def child(self, index: int) -> ExtendedPublicKey:
        """BIP-32 CKDpub: the non-hardened child ``index``; KeyPathError for hardened."""
        if not 0 <= index < HARDENED:
            raise KeyPathError("CKDpub cannot derive a hardened child")
        try:
            child_key, chain_code = ckd_pub(self.public_key, self.chain_code, index)
        except ValueError as exc:
            raise KeyPathError(str(exc)) from exc
        return ExtendedPublicKey(child_key, chain_code, self.depth + 1, self.fingerprint, index)

    def derive(self, indices: tuple[int, ...]) -> ExtendedPublicKey:
        """Follow non-hardened ``indices`` below this key."""
        node = self
        for index in indices:
            node = node.child(index)
        return node

    def to_xpub(self) -> str:
        """BIP-32 §Serialization format, mainnet ``xpub`` Base58Check string."""
        payload = (
            XPUB_VERSION
            + bytes([self.depth])
            + self.parent_fingerprint
            + self.child_number.to_bytes(4, "big")
            + self.chain_code
            + self.public_key
        )
        return base58check_encode(payload)


@dataclass(frozen=True, slots=True)
class ExtendedPrivateKey:
    """A BIP-32 extended private key. ``repr()`` shows the depth and public fingerprint only.

    The key and chain code are immutable ``bytes``; keep these objects short-lived and copy
    what must persist into a wipeable buffer (see :mod:`signer.keys.session`).
    """

    private_key: bytes = field(repr=False)
    chain_code: bytes = field(repr=False)
    depth: int
    parent_fingerprint: bytes
    child_number: int

    def __post_init__(self) -> None:
        if len(self.private_key) != 32 or len(self.chain_code) != 32:
            raise ValueError("private_key and chain_code are 32 bytes each")
        if not 0 < int.from_bytes(self.private_key, "big") < CURVE_ORDER:
            raise ValueError("private_key is not a valid secp256k1 scalar")

    def __repr__(self) -> str:
        return (
            f"<ExtendedPrivateKey depth={self.depth} fingerprint={self.public().fingerprint.hex()}>"
        )

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("an ExtendedPrivateKey cannot be pickled")

    def public(self) -> ExtendedPublicKey:
        """BIP-32 N((k, c)) = (point(k), c)."""
        return ExtendedPublicKey(
            public_key_of(self.private_key),
            self.chain_code,
            self.depth,
            self.parent_fingerprint,
            self.child_number,
        )

    def child(self, index: int) -> ExtendedPrivateKey:
        """BIP-32 CKDpriv: the child ``index`` (hardened when ``index >= 2**31``)."""
        if not 0 <= index <= MAX_INDEX:
            raise KeyPathError("a child index is in [0, 2**32)")
        if self.depth >= MAX_DEPTH:
            raise KeyPathError(f"BIP-32 depth is at most {MAX_DEPTH}")
        parent_public = public_key_of(self.private_key)
        if index >= HARDENED:
            # I = HMAC-SHA512(Key = c_par, Data = 0x00 || ser256(k_par) || ser32(i))
            data = b"\x00" + self.private_key + index.to_bytes(4, "big")
        else:
            # I = HMAC-SHA512(Key = c_par, Data = serP(point(k_par)) || ser32(i))
            data = parent_public + index.to_bytes(4, "big")
        digest = hmac.digest(self.chain_code, data, "sha512")
        tweak = int.from_bytes(digest[:32], "big")
        # k_i = parse256(I_L) + k_par (mod n); invalid when I_L >= n or k_i = 0 (p < 2**-127).
        child_scalar = (tweak + int.from_bytes(self.private_key, "big")) % CURVE_ORDER
        if tweak >= CURVE_ORDER or child_scalar == 0:
            raise KeyPathError(f"BIP-32: child {index} is invalid; use another index")
        return ExtendedPrivateKey(
            child_scalar.to_bytes(32, "big"),
            digest[32:],
            self.depth + 1,
            key_fingerprint(parent_public),
            index,
        )

    def derive(self, path: DerivationPath) -> ExtendedPrivateKey:
        """Follow every index of ``path`` from this key (normally the master)."""
        node = self
        for index in path.indices:
            node = node.child(index)
        return node


def master_key(seed: bytes | bytearray) -> ExtendedPrivateKey:
    """BIP-32 §Master key generation from a 16..64-byte seed."""
    if not _MIN_SEED_BYTES <= len(seed) <= _MAX_SEED_BYTES:
        raise ValueError("a BIP-32 seed is 16 to 64 bytes")
    digest = hmac.digest(_MASTER_HMAC_KEY, bytes(seed), "sha512")
    scalar = int.from_bytes(digest[:32], "big")
    if not 0 < scalar < CURVE_ORDER:
        raise KeyPathError("BIP-32: this seed gives an invalid master key")
    return ExtendedPrivateKey(digest[:32], digest[32:], 0, bytes(4), 0)


def public_key_of(private_key: bytes | bytearray) -> bytes:
    """The 33-byte compressed public key of a 32-byte secp256k1 private key."""
    return PublicKey.from_secret(bytes(private_key)).format(compressed=True)


def base58check_encode(payload: bytes) -> str:
    """Base58Check: payload || first 4 bytes of SHA256(SHA256(payload)), in Base58."""
    data = payload + hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    number = int.from_bytes(data, "big")
    out: list[str] = []
    while number:
        number, digit = divmod(number, 58)
        out.append(_B58_ALPHABET[digit])
    # Each leading zero byte is written as the digit for zero.
    zeros = len(data) - len(data.lstrip(b"\x00"))
    return "1" * zeros + "".join(reversed(out))
