"""A 2-of-3 Safe treasury end to end: the watcher and two real ``coldsign-signer`` homes on anvil.

Safe v1.4.1 from the official artifacts at its canonical addresses. Each device has its own
seed (owner 1 and the executor on anvil's dev mnemonic, owner 2 on BIP-39's "abandon … about")
and is paired on its own, so the watcher keeps one audit head per device. 20 withdrawals (ETH
and an ERC-20) → ``safe propose`` → owner 2's device and owner 1's device each sign the SafeTx
typed data (headless ``sign``) → ``safe import`` in any order → ``safe execute`` → owner 1's
device signs the executor's ``execTransaction`` → broadcast → every balance on chain equals
the file. Then a compromised watcher's requests (a Bybit-style delegatecall, admin changes,
a gas refund to a stranger, an inner delegatecall, a bare 32-byte hash) are refused by the
signer with the rule in its output and in its audit log.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from anvil import MNEMONIC, Anvil
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.crypto import keccak
from safe_contracts import (
    MULTISEND_CALL_ONLY,
    create_safe,
    deploy_safe_contracts,
    safe_state,
    send,
)
from watcherlab import DevKeys, Lab, ur_lines

from shared.address import Address, parse_address
from shared.calls import Operation, pack_transactions
from shared.erc4527 import DataType, EthBatchSignRequest, EthSignRequest, Keypath, RequestId
from shared.messages import SafeTx, parse_safe_version, safe_tx_hash
from watcher.safe.typed_data import owner_request

SIGNER = Path(sys.executable).parent / "coldsign-signer"
# Owner 2's device seed: BIP-39's all-zero-entropy test phrase, published in
# trezor/python-mnemonic vectors.json (commit f5a975ab10c035596d65d854d21164266ffed284),
# 'english' list, first entry. A seed of its own gives owner 2's device its own master
# fingerprint, so its audit head is not the one owner 1's device reports.
OWNER_2_MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
OWNER_2_PATH = "m/44'/60'/0'/0/0"
PASSPHRASE = "correct horse battery staple safe"
CHAIN_ID = 31337
PAYOUTS = 20
# Bybit's delegatecall target (tests/vectors/calls.json "bybit_delegatecall").
ATTACKER = "0x96221423681a6d52e184d440a8efcebb105c7242"
ZERO = Address(bytes(20))


def signer(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real signer CLI (development override: this test machine has a network)."""
    return subprocess.run(
        [str(SIGNER), *args[:1], "--home", str(home), "--allow-online", *args[1:]],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def a(text: str) -> Address:
    return parse_address(text, field="test")


def selector(signature: str) -> bytes:
    return bytes(keccak(text=signature)[:4])


def calldata(signature: str, types: list[str], *args: object) -> bytes:
    return selector(signature) + abi_encode(types, list(args))


def owner_policy(name: str, paths: list[str], safe: str, token: str, payees: list[str]) -> str:
    lines = [
        "[policy]",
        f'name = "{name}"',
        "version = 1",
        "",
        "[[chain]]",
        f"id = {CHAIN_ID}",
        'label = "anvil"',
        'max_fee_per_gas_gwei = "100"',
        'max_total_fee_native = "0.1"',
        "",
    ]
    for path in paths:
        lines += ["[[account]]", f'path = "{path}"', ""]
    lines += [
        "[[safe]]",
        f"chain = {CHAIN_ID}",
        f'address = "{safe}"',
        'label = "Treasury"',
        'profile = "owner"',
        "",
        "[[multisend_call_only]]",
        f"chain = {CHAIN_ID}",
        f'address = "{MULTISEND_CALL_ONLY.address}"',
        'label = "Safe 1.4.1 MultiSendCallOnly"',
        "",
    ]
    for index, payee in enumerate(payees):
        lines += [
            "[[destination]]",
            f"chain = {CHAIN_ID}",
            f'address = "{payee}"',
            f'assets = ["native", "{token}"]',
            f'label = "payee {index}"',
            "",
        ]
    for asset, extra in (("native", []), (token, ["decimals = 18", 'label = "TKN"'])):
        lines += [
            "[[limit]]",
            f"chain = {CHAIN_ID}",
            f'asset = "{asset}"',
            *extra,
            'per_tx = "1000"',
            'per_24h = "1000"',
            "",
        ]
    return "\n".join(lines)


def make_signer(tmp_path: Path, name: str, secrets: Path, mnemonic: str) -> Path:
    """A signer home named ``name`` with ``mnemonic`` imported under the shared passphrase."""
    home = tmp_path / name
    (secrets / f"{name}.mnemonic").write_text(mnemonic + "\n")
    made = signer(
        home,
        "init",
        "--mnemonic-file",
        str(secrets / f"{name}.mnemonic"),
        "--passphrase-file",
        str(secrets / "passphrase"),
        "--accounts",
        "5",
    )
    assert made.returncode == 0, made.stderr
    return home


def pair(lab: Lab, home: Path, secrets: Path, count: int) -> None:
    """``export-account`` on the device, then ``pair`` on the watcher."""
    pairing = home.parent / f"{home.name}-pairing.txt"
    exported = signer(
        home,
        "export-account",
        "--out",
        str(pairing),
        "--passphrase-file",
        str(secrets / "passphrase"),
    )
    assert exported.returncode == 0, exported.stderr
    lab.ok("pair", str(pairing), "--count", str(count))


def eth_address(mnemonic: str, path: str) -> str:
    """eth-account's address for ``mnemonic`` at ``path``: independent of the signer's BIP-32."""
    Account.enable_unaudited_hdwallet_features()
    return str(Account.from_mnemonic(mnemonic, account_path=path).address)


def sign(home: Path, secrets: Path, request: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return signer(
        home,
        "sign",
        "--passphrase-file",
        str(secrets / "passphrase"),
        "--in",
        str(request),
        "--out",
        str(out),
    )


def test_a_two_of_three_safe_pays_twenty_withdrawals_and_refuses_a_compromised_watcher(
    tmp_path: Path, e2e_chain: Anvil, keys: DevKeys
) -> None:
    chain = e2e_chain
    deploy_safe_contracts(chain)
    owners = [keys.address(1), eth_address(OWNER_2_MNEMONIC, OWNER_2_PATH), keys.address(3)]
    safe = create_safe(chain, owners, 2)
    send(chain, safe, value=20 * 10**18)
    lab = Lab(tmp_path / "watcher", chain, keys)
    token = lab.deploy_token(safe, 10**6 * 10**18)
    lab.configure(tokens=((token, "TKN"),))
    (lab.home / "safes.toml").write_text(
        "[[safe]]\n"
        'name = "treasury"\n'
        'chain = "anvil"\n'
        f'address = "{safe}"\n'
        f'executor = "{keys.address(4)}"\n'
    )

    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "passphrase").write_text(PASSPHRASE + "\n")
    device_a = make_signer(tmp_path, "owner-1", secrets, MNEMONIC)
    device_b = make_signer(tmp_path, "owner-2", secrets, OWNER_2_MNEMONIC)
    pair(lab, device_a, secrets, 5)
    pair(lab, device_b, secrets, 1)

    payees = [keys.address(10 + i) for i in range(PAYOUTS)]
    for home, paths in (
        (device_a, ["m/44'/60'/0'/0/1", "m/44'/60'/0'/0/4"]),
        (device_b, [OWNER_2_PATH]),
    ):
        (home / "policy.toml").write_text(owner_policy(home.name, paths, safe, token, payees))
        (home / "registry.toml").write_text(
            f'[[token]]\nchain = {CHAIN_ID}\naddress = "{token}"\nsymbol = "TKN"\ndecimals = 18\n'
        )

    rows = ["id,chain,asset,destination,amount,memo"]
    expected: dict[tuple[str, str], int] = {}
    for i, payee in enumerate(payees):
        if i % 2:
            rows.append(f"safe-{i},anvil,ETH,{payee},0.{i + 1:03d},payout {i}")
            expected[("ETH", payee)] = (i + 1) * 10**15
        else:
            rows.append(f"safe-{i},anvil,TKN,{payee},{i + 1}.25,payout {i}")
            expected[("TKN", payee)] = (i + 1) * 10**18 + 25 * 10**16
    eth_before = {payee: chain.balance(payee) for payee in payees}
    lab.ok("safe", "intake", str(lab.write("payouts.csv", "\n".join(rows) + "\n")))
    proposed = lab.ok("safe", "propose").out
    assert f"{PAYOUTS} payouts" in proposed
    requests = {
        path.stem.rsplit("-", 1)[1]: path
        for path in (lab.home / "requests").glob("safe-treasury-nonce-0-owner-*.txt")
    }
    assert sorted(requests) == sorted(owners)

    # Owner 2's device first, then owner 1's: each computes the hash and reviews the batch.
    # Their heads are kept apart (two fingerprints), so neither order is load-bearing.
    answers = {}
    for home, owner in ((device_b, owners[1]), (device_a, owners[0])):
        out = tmp_path / f"{home.name}-signature.txt"
        signed = sign(home, secrets, requests[owner], out)
        assert signed.returncode == 0, signed.stdout[-3000:] + signed.stderr
        answers[owner] = out
    assert "(1 of 2)" in lab.ok("safe", "import", str(answers[owners[1]])).out
    assert "(2 of 2)" in lab.ok("safe", "import", str(answers[owners[0]])).out
    status = lab.ok("safe", "status").out
    assert f"owner {owners[2]}: waiting" in status and "ready" in status
    # Two seeds, two signers: each device's audit head is stored under its own fingerprint.
    heads = [line for line in status.splitlines() if line.startswith("signer ")]
    assert len(heads) == 2 and all(": audit head " in line for line in heads), status

    lab.ok("safe", "execute")
    (exec_request,) = (lab.home / "requests").glob("safe-treasury-nonce-0-execute.txt")
    exec_answer = tmp_path / "executor-signature.txt"
    signed = sign(device_a, secrets, exec_request, exec_answer)
    assert signed.returncode == 0, signed.stdout[-3000:] + signed.stderr
    lab.ok("safe", "import", str(exec_answer))
    lab.ok("safe", "broadcast")
    assert "executed" in lab.ok("safe", "status").out
    assert safe_state(chain, safe)[2] == 1
    for (asset, payee), amount in expected.items():
        if asset == "ETH":
            assert chain.balance(payee) - eth_before[payee] == amount
        else:
            assert lab.token_balance(token, payee) == amount

    # A compromised watcher sends owner 1's device what it must refuse, one item each.
    tampered = tampered_requests(safe, token, payees[0], keys)
    batch_ur = EthBatchSignRequest(tuple(request for request, _, _ in tampered)).to_ur()
    batch = lab.write("tampered.txt", "\n".join(ur_lines(batch_ur)) + "\n")
    refused = sign(device_a, secrets, batch, tmp_path / "tampered-response.txt")
    assert refused.returncode == 3, refused.stdout[-3000:] + refused.stderr
    assert f"signed 0 of {len(tampered)}; refused {len(tampered)}" in refused.stdout
    assert not (tmp_path / "tampered-response.txt").exists()
    decisions = {
        entry["body"]["fields"]["request"]["item"]: entry["body"]["fields"]
        for entry in map(json.loads, (device_a / "audit.log").read_text().splitlines())
        if entry["body"]["kind"] == "decision"
        and entry["body"]["fields"]["request"]["items"] == len(tampered)
    }
    for number, (request, code, reason) in enumerate(tampered, start=1):
        shown = refused.stdout.split(f"item {number}: REFUSED\n", 1)[1].split("\nitem ", 1)[0]
        assert reason in shown, (number, shown)
        logged = decisions[number]
        assert logged["decision"] == "refused" and code in logged["verdict"]["codes"], logged
        assert request.request_id is not None
        assert logged["request"]["id"] == str(uuid.UUID(bytes=request.request_id.raw))
        assert any(reason in line for line in logged["reasons"]), logged["reasons"]


def tampered_requests(
    safe: str, token: str, payee: str, keys: DevKeys
) -> list[tuple[EthSignRequest, str, str]]:
    """(request, refusal code, words of the reason) for what a compromised watcher could send."""
    version = parse_safe_version("1.4.1")
    fingerprint = f"{keys.fingerprint:08x}"

    def safe_tx(
        nonce: int, to: str, data: bytes = b"", operation: int = 0, **refund: str
    ) -> SafeTx:
        return SafeTx(
            safe=a(safe),
            chain_id=CHAIN_ID,
            to=a(to),
            value=0,
            data=data,
            operation=operation,
            safe_tx_gas=0,
            base_gas=0,
            gas_price=10**9 if refund else 0,
            gas_token=ZERO,
            refund_receiver=a(refund.get("receiver", "0x" + "00" * 20)),
            nonce=nonce,
        )

    transfer = calldata("transfer(address,uint256)", ["address", "uint256"], payee, 10**18)
    inner_delegate = calldata(
        "multiSend(bytes)",
        ["bytes"],
        pack_transactions(
            [
                (Operation.CALL, a(token), 0, transfer),
                (Operation.DELEGATECALL, a(ATTACKER), 0, b""),
            ]
        ),
    )
    admin: list[tuple[str, list[str], list[object]]] = [
        ("changeMasterCopy", ["address"], [ATTACKER]),
        ("enableModule", ["address"], [ATTACKER]),
        ("addOwnerWithThreshold", ["address", "uint256"], [ATTACKER, 1]),
        ("setGuard", ["address"], [ATTACKER]),
    ]
    txs = [
        # Bybit, Feb 2025: operation 1 to the attacker's contract, data a plain transfer.
        (
            safe_tx(1, ATTACKER, transfer, 1),
            "delegatecall-not-allowed",
            "which is not a pinned [[multisend_call_only]]",
        ),
        (safe_tx(2, token, transfer, receiver=ATTACKER), "safe-gas-refund", "pays a gas refund"),
        (
            safe_tx(3, MULTISEND_CALL_ONLY.address, inner_delegate, 1),
            "inner-delegatecall",
            "every MultiSendCallOnly entry must be a plain call",
        ),
    ]
    # Each admin change is a call from the Safe to itself.
    for nonce, (name, types, args) in enumerate(admin, start=len(txs) + 1):
        data = calldata(f"{name}({','.join(types)})", types, *args)
        txs.append((safe_tx(nonce, safe, data), "safe-admin-change", f"{name} changes the Safe"))
    requests = [
        (
            owner_request(
                tx,
                version,
                owner=a(keys.address(1)),
                path="m/44'/60'/0'/0/1",
                master_fingerprint=fingerprint,
                request_id=str(uuid.uuid4()),
            ),
            code,
            reason,
        )
        for tx, code, reason in txs
    ]
    # eth_sign of a bare SafeTx hash: a 32-byte personal message is a disguised hash approval.
    digest = safe_tx_hash(txs[0][0], version)
    requests.append(
        (
            EthSignRequest(
                digest,
                DataType.PERSONAL_MESSAGE,
                Keypath.parse("m/44'/60'/0'/0/1", source_fingerprint=keys.fingerprint),
                RequestId(uuid.uuid4().bytes),
            ),
            "message-is-hash",
            "a 32-byte message is a hash in disguise",
        )
    )
    return requests
