"""The public half of BIP-32 (CKDpub, key fingerprints) and the address of a secp256k1 key."""

from __future__ import annotations

import hashlib
import hmac

from coincurve import PublicKey
from Crypto.Hash import RIPEMD160

from shared.address import Address
from shared.keccak import keccak256

# BIP-32 §Extended keys: indices >= 2**31 are hardened and need the private key.
HARDENED = 0x8000_0000
# secp256k1 group order (SEC 2 §2.4.1).
CURVE_ORDER = 0xFFFFFFFF_FFFFFFFF_FFFFFFFF_FFFFFFFE_BAAEDCE6_AF48A03B_BFD25E8C_D0364141
PUBLIC_KEY_LENGTH = 33
CHAIN_CODE_LENGTH = 32


def ckd_pub(public_key: bytes, chain_code: bytes, index: int) -> tuple[bytes, bytes]:
    """BIP-32 CKDpub: the compressed public key and chain code of non-hardened child ``index``.

    ``public_key`` is a 33-byte SEC 1 compressed point and ``chain_code`` 32 bytes (callers
    decode untrusted keys first). Raises ``ValueError`` for a hardened index, and for the
    invalid children BIP-32 says to skip (I_L >= n or the point at infinity, probability
    below 2**-127).
    """
    if len(public_key) != PUBLIC_KEY_LENGTH or len(chain_code) != CHAIN_CODE_LENGTH:
        raise ValueError("CKDpub takes a 33-byte compressed key and a 32-byte chain code")
    if not 0 <= index < HARDENED:
        raise ValueError("CKDpub cannot derive a hardened child")
    # I = HMAC-SHA512(Key = c_par, Data = serP(K_par) || ser32(i))
    digest = hmac.digest(chain_code, public_key + index.to_bytes(4, "big"), "sha512")
    tweak, child_chain_code = digest[:32], digest[32:]
    if int.from_bytes(tweak, "big") >= CURVE_ORDER:
        raise ValueError(f"BIP-32: child {index} is invalid (I_L >= n); use another index")
    try:
        # K_i = point(parse256(I_L)) + K_par
        child_key = PublicKey(public_key).add(tweak).format(compressed=True)
    except ValueError as exc:
        raise ValueError(f"BIP-32: child {index} is the point at infinity") from exc
    return child_key, child_chain_code


def key_fingerprint(public_key: bytes) -> bytes:
    """BIP-32 §Key identifiers: first 4 bytes of RIPEMD160(SHA256(serP(K)))."""
    sha = hashlib.sha256(public_key).digest()
    return bytes(RIPEMD160.new(sha).digest()[:4])


def address_of(public_key: bytes) -> Address:
    """The Ethereum address of a secp256k1 public key (compressed or not).

    Yellow Paper §7 / eq. 284: the last 20 bytes of keccak256(x || y), the 64-byte
    uncompressed point without its 0x04 prefix.
    """
    uncompressed = PublicKey(public_key).format(compressed=False)
    return Address(keccak256(uncompressed[1:])[12:])
