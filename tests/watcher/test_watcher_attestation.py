"""Operator attestations: checked by the signer's own recovery code; the key file's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from watcherlab import Lab

from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from signer.policy.attestation import recover_attester
from watcher.attestation import Attester, load_attester
from watcher.errors import ConfigError
from watcher.media import read_message

HEADER = "id,chain,asset,destination,amount,memo\n"
SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def _key_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "operator.key"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("count", [1, 3])
def test_built_requests_carry_an_attestation_the_signer_recovers(lab: Lab, count: int) -> None:
    key = _key_file(lab.home.parent, SECRET.hex() + "\n")
    lab.configure(extra=f'\n[operator]\nkey_file = "{key}"\n')
    lab.pair()
    rows = "".join(f"a{i},anvil,ETH,{lab.keys.address(2)},1,\n" for i in range(count))
    lab.ok("intake", str(lab.write("a.csv", HEADER + rows)))
    lab.ok("build")
    [path] = lab.request_files()
    ur = read_message(str(path), frozenset({"eth-sign-request", "eth-batch-sign-request"}))
    message: EthSignRequest | EthBatchSignRequest
    message = EthSignRequest.from_ur(ur) if count == 1 else EthBatchSignRequest.from_ur(ur)
    assert message.attestation is not None
    attester = Attester(SECRET)
    assert recover_attester(message.attested_cbor(), message.attestation) == attester.address
    assert "secret" not in repr(attester) and SECRET.hex() not in repr(attester)


@pytest.mark.parametrize(
    ("text", "mode", "says"),
    [
        (SECRET.hex(), 0o644, "readable by others"),
        ("0x" + SECRET.hex()[:-2], 0o600, "expected 64 hex digits"),
        ("zz" * 32, 0o600, "expected 64 hex digits"),
        ("00" * 32, 0o600, "not a valid secp256k1 private key"),
    ],
)
def test_a_bad_operator_key_file_is_refused(
    tmp_path: Path, text: str, mode: int, says: str
) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        load_attester(_key_file(tmp_path, text, mode))
    assert SECRET.hex() not in str(caught.value)


def test_a_missing_operator_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the operator key"):
        load_attester(tmp_path / "missing.key")
