"""Keccak-256 (the pre-standard SHA-3 variant Ethereum uses for hashes and addresses)."""

from __future__ import annotations

# safe-pysha3 is the maintained release of pysha3 (the Keccak Code Package's reference code
# behind CPython's own hashlib.sha3_*), and unlike hashlib it still offers the original
# Keccak padding. It is one C call per digest (~0.6 us against ~3.2 us through
# pycryptodome's ctypes wrapper), and the signer hashes every request at least twice.
# tests/shared/test_keccak.py checks it against pycryptodome's Keccak and published vectors.
from sha3 import keccak_256


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte Keccak-256 digest of ``data`` (original Keccak padding, not FIPS 202)."""
    digest: bytes = keccak_256(data).digest()
    return digest
