"""MetaMask's side of the round trip: requests built by Keystone's registry (as MetaMask's QR
keyring builds them) are signed by ``coldsign-signer sign``, the answers decoded by that same
registry, and every signature checked with eth-account."""

from __future__ import annotations

import io
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from signerkit import (
    OFFLINE,
    PASSPHRASE,
    POLICY,
    RECIPIENT,
    STANDARD,
    eip1559,
    eth_key,
    make_home,
    unsigned_payload,
)
from vectorfiles import load_vectors

from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from shared.tx import decode_transaction
from shared.ur import UR
from signer.cli import EXIT_OK, Environment, main
from signer.home import SignerHome
from signer.keys.kdf import MIN_PARAMS
from signer.keys.vault import Vault

pytestmark = pytest.mark.node

SCRIPT = Path(__file__).resolve().parents[2] / "interop" / "metamask_keyring.mjs"
# EIP-712's own Mail example, as published (tests/vectors/eip712.json names the source).
MAIL: dict[str, Any] = load_vectors("eip712")["typed_data"]["mail"]["typed_data"]
INTEROP_POLICY = (
    POLICY
    + """
[[typed_data]]
chain = 1
verifying_contract = "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"
primary_type = "Mail"
label = "EIP-712 example mail"
"""
)
LOGIN = b"Sign in to coldsign.example at 2025-01-01T00:00:00Z"
LEGACY_137 = {
    "chainId": 137,
    "nonce": 3,
    "gasPrice": 40 * 10**9,
    "gas": 21000,
    "to": RECIPIENT,
    "value": 10**17,
    "data": b"",
}
EIP1559 = eip1559(12, value=10**16)
# ERC-4527 data types: 1 legacy transaction, 2 typed data, 3 personal message, 4 typed tx.
CASES: dict[str, dict[str, Any]] = {
    "eip1559": {"signData": unsigned_payload(EIP1559).hex(), "dataType": 4, "chainId": 1},
    "legacy-137": {"signData": unsigned_payload(LEGACY_137).hex(), "dataType": 1, "chainId": 137},
    "personal-sign": {"signData": LOGIN.hex(), "dataType": 3, "chainId": None},
    "eip712": {"signData": json.dumps(MAIL).encode().hex(), "dataType": 2, "chainId": None},
}


def metamask(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        ["node", str(SCRIPT)],
        input=json.dumps({"ops": ops}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=SCRIPT.parent,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)["results"]
    for result in results:
        assert "error" not in result, result
    return results


def request_op(names: list[str], xfp: str, *, batch: bool) -> dict[str, Any]:
    address = eth_key(STANDARD[0]).address
    requests = []
    for name in names:
        case = CASES[name]
        requests.append(
            {
                **case,
                "hdPath": str(STANDARD[0]),
                "requestId": str(uuid.uuid4()),
                # MetaMask names the account for messages (signPersonalMessage and
                # signTypedData pass it), not for transactions.
                "address": address if case["dataType"] in (2, 3) else None,
                "origin": "metamask",
            }
        )
    return {
        "op": "request",
        "xfp": xfp,
        "batch": batch,
        "maxFragmentLength": 90,
        "requests": requests,
    }


def sign(home: SignerHome, parts: list[str], tmp_path: Path) -> list[str]:
    source, out = tmp_path / "request.txt", tmp_path / "response.txt"
    source.write_text("\n".join(parts) + "\n")
    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE)
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdout, stderr, OFFLINE, lambda _: PASSPHRASE, kdf=MIN_PARAMS)
    status = main(
        [
            "sign",
            "--home",
            str(home.root),
            "--in",
            str(source),
            "--out",
            str(out),
            "--passphrase-file",
            str(secret),
        ],
        environment=env,
    )
    assert status == EXIT_OK, stdout.getvalue() + stderr.getvalue()
    return out.read_text().splitlines()


def check(name: str, answer: dict[str, str], request_id: str, asked_id: str) -> None:
    assert request_id == asked_id
    r, s, v = (bytes.fromhex(answer[key]) for key in ("r", "s", "v"))
    signature = r + s + v
    key = eth_key(STANDARD[0])
    if name in ("eip1559", "legacy-137"):
        tx = EIP1559 if name == "eip1559" else LEGACY_137
        case = CASES[name]
        decoded = decode_transaction(bytes.fromhex(case["signData"]), case["dataType"])
        raw = decoded.signed_payload(
            int.from_bytes(v, "big"), int.from_bytes(r, "big"), int.from_bytes(s, "big")
        )
        assert raw == bytes(key.sign_transaction(tx).raw_transaction)
        assert Account.recover_transaction(raw) == key.address
        if name == "legacy-137":
            assert int.from_bytes(v, "big") in (137 * 2 + 35, 137 * 2 + 36)
            assert len(v) == 2
        return
    if name == "personal-sign":
        signable = encode_defunct(primitive=LOGIN)
    else:
        signable = encode_typed_data(full_message=MAIL)
    assert v in (b"\x1b", b"\x1c")
    assert Account.recover_message(signable, signature=signature) == key.address


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home", INTEROP_POLICY)


@pytest.mark.parametrize("name", list(CASES))
def test_metamask_request_is_signed_and_verifies(
    home: SignerHome, tmp_path: Path, name: str
) -> None:
    xfp = Vault(home.vault_path).read_header().master_fingerprint.hex()
    (built,) = metamask([request_op([name], xfp, batch=False)])
    assert built["type"] == "eth-sign-request"
    response_parts = sign(home, built["parts"], tmp_path)
    (answer,) = metamask([{"op": "response", "parts": response_parts}])
    assert answer["type"] == "eth-signature"
    (signature,) = answer["signatures"]
    check(name, signature, signature["requestId"], _request_ids(built)[0])


def test_metamask_batch_is_signed_and_verifies(home: SignerHome, tmp_path: Path) -> None:
    xfp = Vault(home.vault_path).read_header().master_fingerprint.hex()
    names = list(CASES)
    (built,) = metamask([request_op(names, xfp, batch=True)])
    assert built["type"] == "eth-batch-sign-request"
    (answer,) = metamask([{"op": "response", "parts": sign(home, built["parts"], tmp_path)}])
    assert answer["type"] == "eth-batch-signature"
    asked_ids = _request_ids(built)
    assert len(answer["signatures"]) == len(names)
    for name, signature, asked_id in zip(names, answer["signatures"], asked_ids, strict=True):
        check(name, signature, signature["requestId"], asked_id)


def _request_ids(built: dict[str, Any]) -> list[str]:
    """The request ids inside the request MetaMask's library built, read with coldsign."""
    cbor = bytes.fromhex(built["cbor"])
    if built["type"] == "eth-batch-sign-request":
        requests = EthBatchSignRequest.from_ur(UR(built["type"], cbor)).requests
    else:
        requests = (EthSignRequest.from_ur(UR(built["type"], cbor)),)
    return [str(item.request_id) for item in requests]
