"""Keccak-256 (the pre-standard SHA-3 variant Ethereum uses for hashes and addresses)."""

from __future__ import annotations

from Crypto.Hash import keccak


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte Keccak-256 digest of ``data`` (original Keccak padding, not FIPS 202)."""
    return bytes(keccak.new(data=data, digest_bits=256).digest())
