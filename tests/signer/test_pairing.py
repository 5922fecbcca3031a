"""signer.pairing: the crypto-hdkey / crypto-account MetaMask's QR keyring reads; refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from signerkit import PASSPHRASE, STANDARD, eth_key, make_vault

from shared.erc4527 import CryptoAccount, HDKey, decode_ur
from shared.ur import UREncoder
from signer.errors import KeyPathError
from signer.keys.accounts import address_of
from signer.keys.bip32 import DerivationPath, ExtendedPublicKey
from signer.keys.paths import ACCOUNT_LEVEL, Scheme, scheme_path
from signer.keys.session import KeySession
from signer.pairing import (
    DEVICE_NAME,
    NOTE_LEDGER_LEGACY,
    NOTE_LEDGER_LIVE,
    NOTE_STANDARD,
    account_hdkey,
    ledger_live_account,
    pairing_ur,
    scheme_of,
)

SCRIPT = Path(__file__).resolve().parents[2] / "interop" / "metamask_keyring.mjs"
LEGACY = tuple(scheme_path(Scheme.LEGACY, index) for index in range(3))
LIVE = tuple(scheme_path(Scheme.LEDGER_LIVE, index) for index in range(5))


def _session(tmp_path: Path, accounts: tuple[DerivationPath, ...]) -> KeySession:
    return make_vault(tmp_path / "vault.json", accounts).unlock(PASSPHRASE)


def _address(path: DerivationPath) -> str:
    return str(eth_key(path).address)


def _derived_address(key: HDKey, children: tuple[int, ...]) -> str:

    assert key.chain_code is not None and key.origin is not None
    node = ExtendedPublicKey(key.key, key.chain_code, 3, bytes(4), 0)
    return address_of(node.derive(children).public_key).checksummed()


def test_standard_hdkey_has_what_metamask_reads(tmp_path: Path) -> None:
    session = _session(tmp_path, STANDARD)
    ur = pairing_ur(session)
    assert ur.type == "crypto-hdkey"
    key = decode_ur(ur)
    assert isinstance(key, HDKey)
    assert key.origin is not None and str(key.origin) == "m/44'/60'/0'"
    assert key.origin.depth == 3
    assert key.origin.source_fingerprint == int.from_bytes(session.master_fingerprint, "big")
    assert key.children is not None and key.children.path_text == "0/*"
    assert key.note == NOTE_STANDARD and key.name == DEVICE_NAME
    assert key.is_private is False
    assert key.use_info is not None and key.use_info.coin_type == 60
    account = session.account_key(ACCOUNT_LEVEL)
    assert key.key == account.key.public_key and key.chain_code == account.key.chain_code
    assert key.parent_fingerprint == int.from_bytes(account.key.parent_fingerprint, "big")
    for index in range(5):
        assert _derived_address(key, (0, index)) == _address(STANDARD[index])


def test_legacy_hdkey_uses_the_ledger_legacy_note(tmp_path: Path) -> None:
    key = decode_ur(pairing_ur(_session(tmp_path, LEGACY)))
    assert isinstance(key, HDKey)
    assert key.note == NOTE_LEDGER_LEGACY
    assert key.children is not None and key.children.path_text == "*"
    for index in range(3):
        assert _derived_address(key, (index,)) == _address(LEGACY[index])


def test_standard_hdkey_at_the_external_chain_level(tmp_path: Path) -> None:
    session = _session(tmp_path, STANDARD)
    key = decode_ur(pairing_ur(session, path=ACCOUNT_LEVEL.child(0)))
    assert isinstance(key, HDKey)
    assert key.origin is not None and str(key.origin) == "m/44'/60'/0'/0"
    assert key.children is not None and key.children.path_text == "*"


def test_ledger_live_is_a_crypto_account(tmp_path: Path) -> None:
    session = _session(tmp_path, LIVE)
    ur = pairing_ur(session)
    assert ur.type == "crypto-account"
    account = decode_ur(ur)
    assert isinstance(account, CryptoAccount)
    assert account.master_fingerprint == int.from_bytes(session.master_fingerprint, "big")
    assert len(account.output_descriptors) == 5
    for path, key in zip(LIVE, account.output_descriptors, strict=True):
        assert key.note == NOTE_LEDGER_LIVE
        assert key.origin is not None and str(key.origin) == str(path)
        assert address_of(key.key).checksummed() == _address(path)


def test_ledger_live_needs_a_multiple_of_five(tmp_path: Path) -> None:
    session = _session(tmp_path, LIVE[:3])
    with pytest.raises(KeyPathError, match="groups of 5"):
        pairing_ur(session)
    with pytest.raises(KeyPathError, match="groups of 5"):
        ledger_live_account([])


def test_ledger_live_takes_no_path(tmp_path: Path) -> None:
    with pytest.raises(KeyPathError, match="do not give a path"):
        pairing_ur(_session(tmp_path, LIVE), path=ACCOUNT_LEVEL)


def test_mixed_schemes_are_refused_unless_named(tmp_path: Path) -> None:
    mixed = (STANDARD[0], LEGACY[1])
    with pytest.raises(KeyPathError, match="mix"):
        scheme_of(mixed)
    session = _session(tmp_path, mixed)
    key = decode_ur(pairing_ur(session, scheme=Scheme.LEGACY))
    assert isinstance(key, HDKey) and key.note == NOTE_LEDGER_LEGACY


def test_scheme_detection() -> None:
    assert scheme_of(STANDARD) is Scheme.STANDARD
    assert scheme_of((STANDARD[0],)) is Scheme.STANDARD
    assert scheme_of(LIVE) is Scheme.LEDGER_LIVE
    assert scheme_of(LEGACY) is Scheme.LEGACY


def test_wrong_level_is_refused(tmp_path: Path) -> None:
    session = _session(tmp_path, STANDARD)
    with pytest.raises(KeyPathError, match="exported at"):
        account_hdkey(session.account_key(STANDARD[0]), Scheme.STANDARD)
    with pytest.raises(KeyPathError, match="exported at"):
        account_hdkey(session.account_key(ACCOUNT_LEVEL.child(0)), Scheme.LEGACY)
    with pytest.raises(KeyPathError):
        pairing_ur(session, path=DerivationPath.parse("m/44'/60'/1'"))


def _metamask_pair(parts: list[str], count: int) -> dict[str, Any]:
    completed = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps({"ops": [{"op": "pair", "parts": parts, "count": count}]}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=SCRIPT.parent,
    )
    result: dict[str, Any] = json.loads(completed.stdout)["results"][0]
    assert "error" not in result, result
    return result


@pytest.mark.node
@pytest.mark.parametrize(
    ("accounts", "mode", "note"),
    [
        (STANDARD, "hd", NOTE_STANDARD),
        (LEGACY, "hd", NOTE_LEDGER_LEGACY),
        (LIVE, "pubkey", NOTE_LEDGER_LIVE),
    ],
    ids=["standard", "ledger-legacy", "ledger-live"],
)
def test_metamask_keyring_derives_the_enrolled_addresses(
    tmp_path: Path, accounts: tuple[DerivationPath, ...], mode: str, note: str
) -> None:
    session = _session(tmp_path, accounts)
    ur = pairing_ur(session)
    # Multi-part as a camera would see it, to exercise the keyring's own UR decoder too.
    encoder = UREncoder(ur, 60)
    parts = encoder.parts(encoder.seq_len)
    view = _metamask_pair(parts, len(accounts))
    assert view["mode"] == mode and view["note"] == note and view["name"] == DEVICE_NAME
    assert view["xfp"] == session.master_fingerprint.hex()
    assert view["addresses"] == [_address(path) for path in accounts]
    if mode == "hd":
        assert view["paths"] == [str(path) for path in accounts]
