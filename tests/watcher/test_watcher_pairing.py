"""Pairing: crypto-hdkey / crypto-account to watch-only addresses, checked against other wallets."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from anvil import MNEMONIC
from eth_account import Account
from vectorfiles import load_vectors
from watcherlab import DevKeys

from shared.erc4527 import CryptoAccount, HDKey, Keypath
from shared.errors import DecodeError, IncompleteError, SchemaError, URTypeError
from shared.ur import UR, UREncoder, format_ur
from signer.keys.bip32 import DerivationPath
from watcher.errors import PairingError
from watcher.pairing import derive_accounts, keypath_of, pair_from_text

ROOT = Path(__file__).resolve().parents[2]
KEYSTONE = load_vectors("bc-ur-and-erc4527")["keystone"]["hdkey"]


def test_the_dev_account_key_gives_eth_accounts_addresses(keys: DevKeys) -> None:
    pairing = pair_from_text([format_ur(keys.hdkey().to_ur())], count=4, source="pair")
    Account.enable_unaudited_hdwallet_features()
    expected = [
        Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").address
        for i in range(4)
    ]
    assert [a.address.checksummed() for a in pairing.accounts] == expected
    assert [a.path for a in pairing.accounts] == [f"m/44'/60'/0'/0/{i}" for i in range(4)]
    assert pairing.master_fingerprint == f"{keys.fingerprint:08x}"


def test_multi_part_pairing_in_any_order(keys: DevKeys) -> None:
    encoder = UREncoder(keys.hdkey().to_ur(), 20)
    parts = encoder.parts(encoder.seq_len + 2)
    pairing = pair_from_text(list(reversed(parts)), count=1, source="pair")
    assert pairing.accounts[0].address.checksummed() == keys.address(0)


def test_a_keystone_made_key_pairs_to_the_addresses_metamask_derives() -> None:
    pairing = pair_from_text([KEYSTONE["ur"]], count=3, source="keystone")
    assert pairing.master_fingerprint == "e9181cf3"
    # BIP-39 "abandon ... about": the widely published first address of m/44'/60'/0'/0/0.
    assert pairing.accounts[0].address.checksummed() == "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"


@pytest.mark.node
def test_keystone_registry_derives_the_same_addresses() -> None:
    script = ROOT / "interop" / "keystone_addresses.mjs"
    answer = json.loads(
        subprocess.run(
            ["node", str(script)],
            input=json.dumps({"cbor": KEYSTONE["cborHex"], "count": 5}),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    )
    pairing = pair_from_text([KEYSTONE["ur"]], count=5, source="keystone")
    assert [a.address.checksummed() for a in pairing.accounts] == answer["addresses"]
    assert pairing.master_fingerprint == answer["xfp"]


def test_a_crypto_account_of_address_keys(keys: DevKeys) -> None:
    # Keystone's Ledger Live export: address-level keys m/44'/60'/i'/0/0 without chain codes.
    entries = []
    for i in range(3):
        path = f"m/44'/60'/{i}'/0/0"
        node = keys.master.derive(DerivationPath.parse(path)).public()
        entries.append(
            HDKey(
                key=node.public_key, origin=Keypath.parse(path, source_fingerprint=keys.fingerprint)
            )
        )
    account = CryptoAccount(keys.fingerprint, tuple(entries))
    pairing = pair_from_text([format_ur(account.to_ur())], count=1, source="account")
    Account.enable_unaudited_hdwallet_features()
    assert [a.address.checksummed() for a in pairing.accounts] == [
        Account.from_mnemonic(MNEMONIC, account_path=f"m/44'/60'/{i}'/0/0").address
        for i in range(3)
    ]
    assert keypath_of(pairing.accounts[2]).source_fingerprint == keys.fingerprint


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"origin": None}, "names no origin path"),
        ({"origin": Keypath.parse("m/44'/0'/0'", source_fingerprint=1)}, "not an Ethereum path"),
        ({"origin": Keypath.parse("m/44'/60'/0'/0", source_fingerprint=1)}, "three hardened"),
    ],
)
def test_keys_that_cannot_be_paired(keys: DevKeys, change: dict[str, object], says: str) -> None:
    base = keys.hdkey()
    key = HDKey(
        key=base.key,
        chain_code=base.chain_code,
        origin=change.get("origin", base.origin),  # type: ignore[arg-type]
    )
    with pytest.raises(PairingError, match=says):
        derive_accounts(key, 1, start=0)


def test_a_key_without_a_master_fingerprint_is_refused(keys: DevKeys) -> None:
    base = keys.hdkey()
    key = HDKey(key=base.key, chain_code=base.chain_code, origin=Keypath.parse("m/44'/60'/0'"))
    with pytest.raises(PairingError, match="no master fingerprint"):
        pair_from_text([format_ur(key.to_ur())], count=1, source="p")


@pytest.mark.parametrize("count", [0, 1001])
def test_the_count_is_bounded(keys: DevKeys, count: int) -> None:
    with pytest.raises(PairingError, match="derive 1 to 1000"):
        derive_accounts(keys.hdkey(), count, start=0)


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        (["ur:eth-signature/aeae"], URTypeError),
        (["ur:crypto-hdkey/lpadaxcfaxhdcx"], DecodeError),
        (["not a ur"], DecodeError),
        ([], IncompleteError),
    ],
)
def test_bad_pairing_text(lines: list[str], error: type[Exception]) -> None:
    with pytest.raises(error):
        pair_from_text(lines, count=1, source="p")


def test_a_private_key_export_is_refused(keys: DevKeys) -> None:
    # A crypto-hdkey that says is-private: true never becomes a watch-only account.
    cbor = bytearray(keys.hdkey().to_cbor())
    assert cbor[0] == 0xA4
    forged = bytes([0xA5, 0x02, 0xF5]) + bytes(cbor[1:])
    with pytest.raises(SchemaError, match="private keys are refused"):
        pair_from_text([format_ur(UR("crypto-hdkey", forged))], count=1, source="p")
