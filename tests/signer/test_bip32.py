"""BIP-32 derivation (test vectors 1-3), path parsing, Ethereum schemes and addresses."""

from __future__ import annotations

import pickle

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from signer.errors import KeyPathError
from signer.keys.accounts import address_of
from signer.keys.bip32 import (
    HARDENED,
    DerivationPath,
    ExtendedPrivateKey,
    base58check_encode,
    key_fingerprint,
    master_key,
)
from signer.keys.bip39 import SecretMnemonic
from signer.keys.paths import (
    ACCOUNT_LEVEL,
    MAX_ENROLLED,
    Scheme,
    classify,
    enrolment,
    scheme_path,
)

VECTORS = load_vectors("bip39-bip32")
BIP32 = VECTORS["bip32"]["vectors"]
ETH = VECTORS["ethereum_addresses"]
CHAINS = [(v["name"], v["seed"], *chain) for v in BIP32 for chain in v["chains"]]


def _xprv(node: ExtendedPrivateKey) -> str:
    # BIP-32 §Serialization format for private keys; built here, the product never does.
    return base58check_encode(
        bytes.fromhex("0488ade4")
        + bytes([node.depth])
        + node.parent_fingerprint
        + node.child_number.to_bytes(4, "big")
        + node.chain_code
        + b"\x00"
        + node.private_key
    )


@pytest.mark.parametrize(
    ("name", "seed", "path", "xpub", "xprv"), CHAINS, ids=[f"{c[0]} {c[2]}" for c in CHAINS]
)
def test_bip32_vector(name: str, seed: str, path: str, xpub: str, xprv: str) -> None:
    node = master_key(bytes.fromhex(seed)).derive(DerivationPath.parse(path))
    assert node.public().to_xpub() == xpub
    assert _xprv(node) == xprv


def test_vectors_1_and_2_are_complete() -> None:
    assert [len(v["chains"]) for v in BIP32] == [6, 6, 2]


def test_ckdpub_walks_the_non_hardened_steps_of_vector_1() -> None:
    # Test vector 1: m/0'/1/2'/2/1000000000 — from the m/0'/1/2' xpub, CKDpub reaches the end.
    master = master_key(bytes.fromhex(BIP32[0]["seed"]))
    account = master.derive(DerivationPath.parse("m/0'/1/2'")).public()
    assert account.derive((2, 1000000000)).to_xpub() == BIP32[0]["chains"][5][1]


def test_fingerprints_chain_parent_to_child() -> None:
    master = master_key(bytes.fromhex(BIP32[0]["seed"]))
    # BIP-32 test vector 1: the master key identifier starts 3442193e.
    assert master.public().fingerprint.hex() == "3442193e"
    child = master.child(HARDENED)
    assert child.parent_fingerprint == master.public().fingerprint
    assert key_fingerprint(child.public().public_key) == child.public().fingerprint


def test_ckdpub_refuses_a_hardened_index() -> None:
    master = master_key(bytes(32)).public()
    with pytest.raises(KeyPathError):
        master.child(HARDENED)


@given(seed=st.binary(min_size=16, max_size=64), index=st.integers(0, HARDENED - 1))
def test_ckdpub_agrees_with_ckdpriv(seed: bytes, index: int) -> None:
    parent = master_key(seed)
    assert parent.public().child(index) == parent.child(index).public()


@pytest.mark.parametrize("size", [0, 15, 65])
def test_a_seed_of_a_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(ValueError):
        master_key(bytes(size))


def test_private_key_repr_hides_key_and_chain_code() -> None:
    node = master_key(bytes.fromhex(BIP32[0]["seed"]))
    for text in (repr(node), str(node)):
        assert node.private_key.hex() not in text
        assert node.chain_code.hex() not in text
        assert text == "<ExtendedPrivateKey depth=0 fingerprint=3442193e>"
    with pytest.raises(TypeError):
        pickle.dumps(node)


# --- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["m", "m/0", "m/0'", "m/44'/60'/0'/0/0", "m/2147483647'/2147483647", "m/1/2/3/4/5/6"]
)
def test_canonical_paths_round_trip(text: str) -> None:
    assert str(DerivationPath.parse(text)) == text


def test_path_indices() -> None:
    path = DerivationPath.parse("m/44'/60'/0'/0/7")
    assert path.indices == (44 + HARDENED, 60 + HARDENED, HARDENED, 0, 7)
    assert path.depth == 5
    assert repr(path) == "DerivationPath.parse(\"m/44'/60'/0'/0/7\")"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "M/0",
        "/0",
        "m/",
        "m//0",
        "0/1",
        "m/01",
        "m/00'",
        "m/-1",
        "m/+1",
        "m/1h",
        "m/1H",
        "m/1''",
        "m/ 1",
        "m/1 ",
        "m/2147483648",
        "m/2147483648'",
        "m/99999999999999999999",
        "m/\u0663",  # an Arabic-Indic digit: isdigit() but not ASCII
        "m/1.5",
        "m" + "/0" * 256,
    ],
)
def test_malformed_paths_are_refused(text: str) -> None:
    with pytest.raises(KeyPathError):
        DerivationPath.parse(text)


def test_a_path_index_out_of_range_is_refused() -> None:
    with pytest.raises(KeyPathError):
        DerivationPath((1 << 32,))
    with pytest.raises(KeyPathError):
        DerivationPath((-1,))


# --- Ethereum schemes and addresses --------------------------------------------------------


def test_anvil_default_accounts() -> None:
    # ETH["source"]: anvil's first two accounts for "test ... junk" at m/44'/60'/0'/0/i.
    seed = SecretMnemonic.from_phrase(ETH["mnemonic"]).seed()
    master = master_key(seed)
    for account in ETH["accounts"]:
        node = master.derive(DerivationPath.parse(account["path"]))
        assert address_of(node.public().public_key).checksummed() == account["address"]


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("index", [0, 1, 2, 9])
def test_addresses_match_eth_account_for_every_scheme(scheme: Scheme, index: int) -> None:
    Account.enable_unaudited_hdwallet_features()
    path = scheme_path(scheme, index)
    for passphrase in ("", "TREZOR"):
        master = master_key(SecretMnemonic.from_phrase(ETH["mnemonic"]).seed(passphrase))
        ours = address_of(master.derive(path).public().public_key).checksummed()
        theirs = Account.from_mnemonic(ETH["mnemonic"], passphrase, account_path=str(path))
        assert ours == theirs.address


def test_scheme_layouts() -> None:
    assert str(scheme_path(Scheme.STANDARD, 3)) == "m/44'/60'/0'/0/3"
    assert str(scheme_path(Scheme.LEDGER_LIVE, 3)) == "m/44'/60'/3'/0/0"
    assert str(scheme_path(Scheme.LEGACY, 3)) == "m/44'/60'/0'/3"
    assert str(ACCOUNT_LEVEL) == "m/44'/60'/0'"


@pytest.mark.parametrize("scheme", list(Scheme))
@pytest.mark.parametrize("index", [1, 5, HARDENED - 1])
def test_classify_inverts_scheme_path(scheme: Scheme, index: int) -> None:
    assert classify(scheme_path(scheme, index)) == (scheme, index)


def test_account_zero_is_shared_by_standard_and_ledger_live() -> None:
    assert scheme_path(Scheme.STANDARD, 0) == scheme_path(Scheme.LEDGER_LIVE, 0)
    assert classify(scheme_path(Scheme.LEDGER_LIVE, 0)) == (Scheme.STANDARD, 0)


@pytest.mark.parametrize(
    "text",
    [
        "m/44'/60'",
        "m/44'/60'/0'",
        "m/44'/61'/0'/0/0",
        "m/49'/60'/0'/0/0",
        "m/44'/60'/0'/1/0",
        "m/44'/60'/1'/0/1",
        "m/44'/60'/0'/0'/0",
        "m/44'/60'/0'/0/0'",
        "m/44'/60'/0'/0/0/0",
        "m/44'/60'/1'/0",
        "m/44'/60'/0'/1'",
    ],
)
def test_paths_outside_the_three_schemes_are_refused(text: str) -> None:
    with pytest.raises(KeyPathError):
        classify(DerivationPath.parse(text))
    with pytest.raises(KeyPathError):
        enrolment([DerivationPath.parse(text)])


@pytest.mark.parametrize("index", [-1, HARDENED, True])
def test_an_account_index_out_of_range_is_refused(index: int) -> None:
    with pytest.raises(KeyPathError):
        scheme_path(Scheme.STANDARD, index)


def test_enrolment_keeps_order_and_refuses_duplicates_and_empty() -> None:
    paths = [scheme_path(Scheme.LEGACY, 2), scheme_path(Scheme.STANDARD, 0)]
    assert enrolment(paths) == tuple(paths)
    with pytest.raises(KeyPathError):
        enrolment([])
    with pytest.raises(KeyPathError):
        enrolment([paths[0], paths[1], paths[0]])
    with pytest.raises(KeyPathError):
        enrolment(scheme_path(Scheme.STANDARD, i) for i in range(MAX_ENROLLED + 1))
    assert len(enrolment(scheme_path(Scheme.STANDARD, i) for i in range(MAX_ENROLLED))) == 256
