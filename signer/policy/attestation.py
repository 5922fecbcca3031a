"""Operator attestations: an operator key's EIP-191 signature over the SHA-256 of a request.

A policy may pin operator keys (``[[operator]]``); the signer then signs only requests that
carry an attestation by one of them, so a compromised watcher alone cannot get anything
signed. The attestation of a request whose UR payload is the CBOR bytes ``request`` is

    message   = "coldsign operator attestation v1\\nrequest sha256: " || hex(sha256(request))
    signature = personal_sign(message) by the operator key: r (32) || s (32) || v (1 byte),
                v in {27, 28}, s in the lower half of the curve order (EIP-2)

i.e. the key signs ``keccak256(0x19 || "Ethereum Signed Message:\\n" || len || message)``
(EIP-191 version 0x45). Text, not the bare digest: a wallet or HSM shows the operator what is
attested, and the signature can never be replayed as a transaction or a 32-byte hash approval.
"""

from __future__ import annotations

import hashlib

from coincurve import PublicKey

from shared.address import Address
from shared.keccak import keccak256
from shared.messages import personal_message_hash
from signer.policy.model import Policy

ATTESTATION_PREFIX = b"coldsign operator attestation v1\nrequest sha256: "
SIGNATURE_LENGTH = 65
# SEC 2 §2.4.1: the order n of secp256k1; EIP-2 allows only s <= n / 2.
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def attestation_message(request: bytes) -> bytes:
    """The text an operator signs for the request whose CBOR payload is ``request``."""
    return ATTESTATION_PREFIX + hashlib.sha256(request).hexdigest().encode("ascii")


def recover_attester(request: bytes, signature: bytes) -> Address | None:
    """The address whose key made ``signature`` over ``request``'s attestation, or None.

    None for anything that is not a well-formed, low-s, recoverable 65-byte signature.
    """
    if len(signature) != SIGNATURE_LENGTH:
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if not (1 <= r < _N and 1 <= s <= _N // 2) or v not in (27, 28):
        return None
    digest = personal_message_hash(attestation_message(request))
    try:
        key = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except ValueError:
        return None
    # Yellow Paper eq. 284: the last 20 bytes of keccak256 of the 64-byte public point.
    return Address(keccak256(key.format(compressed=False)[1:])[12:])


def attested_by(request: bytes, signature: bytes | None, policy: Policy) -> Address | None:
    """The pinned operator who attested ``request``, or None (no, bad or unpinned signature).

    The result goes into :class:`~signer.policy.judge.Context` as ``attested_by``.
    """
    if signature is None:
        return None
    address = recover_attester(request, signature)
    if address is None or all(rule.address != address for rule in policy.operators):
        return None
    return address
