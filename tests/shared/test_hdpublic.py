"""shared.hdpublic: BIP-32 CKDpub, fingerprints and addresses, against independent code."""

from __future__ import annotations

import pytest
from coincurve import PrivateKey
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from shared.hdpublic import CURVE_ORDER, HARDENED, address_of, ckd_pub, key_fingerprint
from signer.keys.bip32 import master_key

KEY = bytes.fromhex("0339a36013301597daef41fbe593a02cc513d0b55527ec2df1050e2e8ff49c85c2")
CHAIN_CODE = bytes.fromhex("873dff81c02f525623fd1fe5167eac3a55a049de3d314bb42ee227ffed37d508")


@given(secret=st.integers(1, CURVE_ORDER - 1))
def test_addresses_agree_with_eth_account(secret: int) -> None:
    private = secret.to_bytes(32, "big")
    key = PrivateKey(private).public_key
    expected = Account.from_key(private).address
    assert address_of(key.format(compressed=True)).checksummed() == expected
    assert address_of(key.format(compressed=False)).checksummed() == expected


@given(seed=st.binary(min_size=16, max_size=64), index=st.integers(0, HARDENED - 1))
def test_ckd_pub_agrees_with_private_derivation(seed: bytes, index: int) -> None:
    parent = master_key(seed)
    child_key, child_chain = ckd_pub(parent.public().public_key, parent.chain_code, index)
    expected = parent.child(index)
    assert child_key == expected.public().public_key
    assert child_chain == expected.chain_code


def test_bip32_vector_1_master_fingerprint() -> None:
    # BIP-32 test vector 1: master key m has identifier 3442193e...
    assert key_fingerprint(KEY).hex() == "3442193e"


@pytest.mark.parametrize(
    ("key", "chain_code", "index"),
    [
        (KEY, CHAIN_CODE, HARDENED),
        (KEY, CHAIN_CODE, -1),
        (KEY[:32], CHAIN_CODE, 0),
        (KEY, CHAIN_CODE[:31], 0),
    ],
)
def test_ckd_pub_refuses_what_it_cannot_derive(key: bytes, chain_code: bytes, index: int) -> None:
    with pytest.raises(ValueError):
        ckd_pub(key, chain_code, index)
