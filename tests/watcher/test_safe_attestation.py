"""Safe requests under a policy that pins the operator key, with the real ``coldsign-signer``.

One device holds owners 1 and 2 of a 2-of-3 Safe v1.4.1 on anvil and the executor, and its
policy pins the operator's key. A watcher without ``[operator] key_file`` proposes: the
owner's request is refused with the policy's reason, and the device's log records the
refusal. A watcher with the key proposes the same payout: both owners' requests and then
the executor's are attested, signed, imported, and the Safe pays.
"""

from __future__ import annotations

import json
from pathlib import Path

from anvil import CHAIN_ID, Anvil
from eth_account import Account
from safe_contracts import create_safe, deploy_safe_contracts, send
from watcherlab import CSV_HEADER, DevKeys, Lab, RealSigner

from shared.erc4527 import EthSignRequest
from signer.policy.attestation import recover_attester
from watcher.attestation import Attester
from watcher.parts import read_ur

# A test-only operator key (the secp256k1 example key of eth-account's documentation).
OPERATOR_SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OWNERS = (1, 2, 3)
EXECUTOR = 4
REASON = "the policy pins operator keys and the request carries no valid attestation"


def _policy(safe: str, payee: str, operator: str) -> str:
    accounts = [f"[[account]]\npath = \"m/44'/60'/0'/0/{index}\"\n" for index in (1, 2, 4)]
    return "\n".join(
        [
            '[policy]\nname = "treasury, operator pinned"\nversion = 1\n',
            f'[[chain]]\nid = {CHAIN_ID}\nlabel = "anvil"\nmax_fee_per_gas_gwei = "100"\n'
            'max_total_fee_native = "0.1"\n',
            *accounts,
            f'[[safe]]\nchain = {CHAIN_ID}\naddress = "{safe}"\nlabel = "Treasury"\n'
            'profile = "owner"\n',
            f'[[destination]]\nchain = {CHAIN_ID}\naddress = "{payee}"\nassets = ["native"]\n'
            'label = "payee"\n',
            f'[[limit]]\nchain = {CHAIN_ID}\nasset = "native"\nper_tx = "10"\nper_24h = "10"\n',
            f'[[operator]]\naddress = "{operator}"\nlabel = "desk"\n',
        ]
    )


def _watcher(root: Path, chain: Anvil, keys: DevKeys, safe: str, operator_key: Path | None) -> Lab:
    """A watcher home with the Safe configured, its operator key if given."""
    lab = Lab(root, chain, keys)
    extra = "" if operator_key is None else f'\n[operator]\nkey_file = "{operator_key}"\n'
    lab.configure(extra=extra)
    (lab.home / "safes.toml").write_text(
        f'[[safe]]\nname = "treasury"\nchain = "anvil"\naddress = "{safe}"\n'
        f'executor = "{keys.address(EXECUTOR)}"\n'
    )
    return lab


def _propose(lab: Lab, payee: str) -> None:
    rows = CSV_HEADER + f"s1,anvil,ETH,{payee},0.5,\n"
    lab.ok("safe", "intake", str(lab.write("s.csv", rows)))
    assert "1 payouts" in lab.ok("safe", "propose").out


def _request(lab: Lab, kind: str) -> tuple[Path, EthSignRequest]:
    [path] = (lab.home / "requests").glob(f"safe-treasury-nonce-0-{kind}.txt")
    ur = read_ur(path.read_text().splitlines(), frozenset({"eth-sign-request"}), source="r")
    return path, EthSignRequest.from_ur(ur)


def test_a_policy_pinning_the_operator_signs_only_attested_safe_requests(
    tmp_path: Path, chain: Anvil, keys: DevKeys
) -> None:
    owners = [keys.address(i) for i in OWNERS]
    # Fresh payee: dev account 8 deploys and relays for tests/safe_contracts.py.
    payee = Account.from_key((0x3001).to_bytes(32, "big")).address
    operator_key = tmp_path / "operator.key"
    operator_key.write_text(OPERATOR_SECRET.hex() + "\n")
    operator_key.chmod(0o600)
    operator = Attester(OPERATOR_SECRET).address

    deploy_safe_contracts(chain)
    safe = create_safe(chain, owners, 2)
    send(chain, safe, value=10**18)
    unattested = _watcher(tmp_path / "unattested", chain, keys, safe, None)
    device = RealSigner(tmp_path / "device", accounts=5)
    device.write_policy(_policy(safe, payee, operator.checksummed()))
    device.pair(unattested, count=5)

    # Without the operator key the owner's request carries no attestation: refused.
    _propose(unattested, payee)
    path, request = _request(unattested, f"owner-{owners[0]}")
    assert request.attestation is None
    refused = device.run_sign(path, tmp_path / "refused.txt")
    assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr
    assert "signed 0 of 1; refused 1" in refused.stdout and REASON in refused.stdout
    assert not (tmp_path / "refused.txt").exists()
    [decision] = [
        entry["body"]["fields"]
        for entry in map(json.loads, (device.home / "audit.log").read_text().splitlines())
        if entry["body"]["kind"] == "decision"
    ]
    assert decision["decision"] == "refused"
    assert decision["verdict"]["codes"] == ["operator-attestation"], decision["verdict"]

    # With the key (``[operator] key_file``, as build uses it) every Safe request is attested.
    lab = _watcher(tmp_path / "attested", chain, keys, safe, operator_key)
    device.pair(lab, count=5)
    _propose(lab, payee)
    for owner in owners[:2]:
        path, request = _request(lab, f"owner-{owner}")
        assert request.attestation is not None
        assert recover_attester(request.attested_cbor(), request.attestation) == operator
        lab.ok("safe", "import", str(device.sign(path)))
    lab.ok("safe", "execute")
    path, request = _request(lab, "execute")
    assert request.attestation is not None
    assert recover_attester(request.attested_cbor(), request.attestation) == operator
    lab.ok("safe", "import", str(device.sign(path)))
    before = chain.balance(payee)
    assert "1 Safe executions sent" in lab.ok("safe", "broadcast").out
    assert "executed" in lab.ok("safe", "status").out
    assert chain.balance(payee) - before == 10**18 // 2
