"""Keccak-256 (shared/keccak.py) against published digests and an independent implementation."""

from __future__ import annotations

from Crypto.Hash import keccak as reference
from hypothesis import given
from hypothesis import strategies as st

from shared.keccak import keccak256

# go-ethereum core/types/hashes.go: EmptyCodeHash = crypto.Keccak256Hash(nil).
EMPTY = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
# The first four bytes of keccak256("transfer(address,uint256)") are ERC-20's transfer
# selector (EIP-20; 0xa9059cbb in every token's ABI).
TRANSFER_SELECTOR = "a9059cbb"
# Keccak's block (rate) for a 256-bit digest is 136 bytes: inputs around one and two blocks
# exercise the padding that differs from FIPS 202's SHA3-256.
RATE = 136


def _pycryptodome(data: bytes) -> bytes:
    return reference.new(data=data, digest_bits=256).digest()


def test_empty_input_is_the_empty_code_hash() -> None:
    assert keccak256(b"").hex() == EMPTY


def test_function_signature_gives_the_erc20_transfer_selector() -> None:
    assert keccak256(b"transfer(address,uint256)")[:4].hex() == TRANSFER_SELECTOR


def test_is_keccak_padding_not_sha3_256() -> None:
    import hashlib

    assert keccak256(b"") != hashlib.sha3_256(b"").digest()


def test_digest_is_32_bytes_of_type_bytes() -> None:
    digest = keccak256(b"abc")
    assert type(digest) is bytes
    assert len(digest) == 32


def test_block_boundaries_match_pycryptodome() -> None:
    for size in (RATE - 1, RATE, RATE + 1, 2 * RATE - 1, 2 * RATE, 2 * RATE + 1):
        data = bytes(range(256))[:size] if size <= 256 else bytes(size)
        assert keccak256(data) == _pycryptodome(data), size


@given(st.binary(max_size=1024))
def test_matches_pycryptodome(data: bytes) -> None:
    assert keccak256(data) == _pycryptodome(data)
