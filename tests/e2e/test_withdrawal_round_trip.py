"""Watcher and the real ``coldsign-signer`` CLI on a real anvil: 50 ETH and ERC-20 withdrawals.

pair (signer export-account → watcher pair) → intake 50 withdrawals → build → the signer's
headless ``sign`` → import → broadcast → confirmed, every balance equal to the file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from anvil import MNEMONIC, Anvil
from watcherlab import DevKeys, Lab

from watcher.attestation import Attester

SIGNER = Path(sys.executable).parent / "coldsign-signer"
PASSPHRASE = "correct horse battery staple e2e"
CHAIN_ID = 31337
WITHDRAWALS = 50
# A test-only operator key (the secp256k1 example key of eth-account's documentation).
OPERATOR_SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def signer(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the real signer CLI (development override: this test machine has a network)."""
    return subprocess.run(
        [str(SIGNER), *args[:1], "--home", str(home), "--allow-online", *args[1:]],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _policy(destinations: list[str], token: str | None) -> str:
    assets = ["native"] if token is None else ["native", token]
    lines = [
        "[policy]",
        'name = "e2e withdrawals"',
        "version = 1",
        "",
        "[[chain]]",
        f"id = {CHAIN_ID}",
        'label = "anvil"',
        'max_fee_per_gas_gwei = "100"',
        'max_total_fee_native = "0.01"',
        "",
        "[[account]]",
        "path = \"m/44'/60'/0'/0/0\"",
        'label = "cold"',
        "",
    ]
    for index, address in enumerate(destinations):
        lines += [
            "[[destination]]",
            f"chain = {CHAIN_ID}",
            f'address = "{address}"',
            "assets = [" + ", ".join(f'"{asset}"' for asset in assets) + "]",
            f'label = "customer {index}"',
            "",
        ]
    limits: list[tuple[str, list[str]]] = [("native", [])]
    if token is not None:
        limits.append((token, ["decimals = 18", 'label = "TKN"']))
    for asset, extra in limits:
        lines += [
            "[[limit]]",
            f"chain = {CHAIN_ID}",
            f'asset = "{asset}"',
            *extra,
            'per_tx = "100000"',
            'per_24h = "100000"',
            "",
        ]
    return "\n".join(lines)


def _registry(token: str) -> str:
    return "\n".join(
        [
            "[[chain]]",
            f"id = {CHAIN_ID}",
            'name = "anvil"',
            'symbol = "ETH"',
            "",
            "[[token]]",
            f"chain = {CHAIN_ID}",
            f'address = "{token}"',
            'symbol = "TKN"',
            "decimals = 18",
            "",
        ]
    )


class SignerHome:
    """A real signer home: the dev mnemonic imported, a policy and a registry written."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "signer"
        secrets = tmp_path / "secrets"
        secrets.mkdir()
        (secrets / "mnemonic").write_text(MNEMONIC + "\n")
        (secrets / "passphrase").write_text(PASSPHRASE + "\n")
        self.passphrase = str(secrets / "passphrase")
        made = signer(
            self.home,
            "init",
            "--mnemonic-file",
            str(secrets / "mnemonic"),
            "--passphrase-file",
            self.passphrase,
            "--accounts",
            "1",
        )
        assert made.returncode == 0, made.stderr

    def pair(self, lab: Lab, tmp_path: Path) -> None:
        """The signer exports its account key; the watcher derives its watch-only address."""
        pairing = tmp_path / "pairing.txt"
        exported = signer(
            self.home, "export-account", "--out", str(pairing), "--passphrase-file", self.passphrase
        )
        assert exported.returncode == 0, exported.stderr
        lab.ok("pair", str(pairing), "--count", "1")

    def sign(self, request: Path, response: Path) -> subprocess.CompletedProcess[str]:
        return signer(
            self.home,
            "sign",
            "--passphrase-file",
            self.passphrase,
            "--in",
            str(request),
            "--out",
            str(response),
        )


def test_fifty_withdrawals_through_the_real_signer(
    tmp_path: Path, e2e_chain: Anvil, keys: DevKeys
) -> None:
    lab = Lab(tmp_path / "watcher", e2e_chain, keys)
    source = keys.address(0)
    token = lab.deploy_token(source, 10**9 * 10**18)
    lab.configure(tokens=((token, "TKN"),))
    cold = SignerHome(tmp_path)
    cold.pair(lab, tmp_path)
    destinations = [keys.address(10 + i) for i in range(5)]
    (cold.home / "policy.toml").write_text(_policy(destinations, token))
    (cold.home / "registry.toml").write_text(_registry(token))

    rows = ["id,chain,asset,destination,amount,memo"]
    expected_eth = dict.fromkeys(destinations, 0)
    expected_tkn = dict.fromkeys(destinations, 0)
    for i in range(WITHDRAWALS):
        dest = destinations[i % len(destinations)]
        if i % 2:
            rows.append(f"e2e-{i},anvil,ETH,{dest},0.{i + 1:03d},payout {i}")
            expected_eth[dest] += (i + 1) * 10**15
        else:
            rows.append(f"e2e-{i},anvil,TKN,{dest},{i + 1}.5,payout {i}")
            expected_tkn[dest] += (i + 1) * 10**18 + 5 * 10**17
    eth_before = {d: e2e_chain.balance(d) for d in destinations}
    lab.ok("intake", str(lab.write("withdrawals.csv", "\n".join(rows) + "\n")))
    lab.ok("build")
    [request] = lab.request_files()

    response = tmp_path / "response.txt"
    signed = cold.sign(request, response)
    assert signed.returncode == 0, signed.stdout[-3000:] + signed.stderr
    lab.ok("import", str(response))
    lab.ok("broadcast")
    lab.ok("status")
    assert set(lab.statuses().values()) == {"confirmed"}
    assert len(lab.statuses()) == WITHDRAWALS
    for dest in destinations:
        assert e2e_chain.balance(dest) - eth_before[dest] == expected_eth[dest]
        assert lab.token_balance(token, dest) == expected_tkn[dest]


def test_a_policy_pinning_the_operator_signs_only_attested_requests(
    tmp_path: Path, e2e_chain: Anvil, keys: DevKeys
) -> None:
    lab = Lab(tmp_path / "watcher", e2e_chain, keys)
    operator_key = tmp_path / "operator.key"
    operator_key.write_text(OPERATOR_SECRET.hex() + "\n")
    operator_key.chmod(0o600)
    lab.configure()
    cold = SignerHome(tmp_path)
    cold.pair(lab, tmp_path)
    dest = keys.address(10)
    operator = Attester(OPERATOR_SECRET).address.checksummed()
    (cold.home / "policy.toml").write_text(
        _policy([dest], None) + f'\n[[operator]]\naddress = "{operator}"\nlabel = "desk"\n'
    )
    lab.ok(
        "intake",
        str(lab.write("one.csv", f"id,chain,asset,destination,amount\nx1,anvil,ETH,{dest},1\n")),
    )
    lab.ok("build")
    [unattested] = lab.request_files()
    refused = cold.sign(unattested, tmp_path / "refused.txt")
    assert refused.returncode == 3, refused.stdout[-2000:] + refused.stderr

    # The same withdrawal, attested this time (a second watcher home with the operator key).
    attested_lab = Lab(tmp_path / "watcher2", e2e_chain, keys)
    attested_lab.configure(extra=f'\n[operator]\nkey_file = "{operator_key}"\n')
    cold.pair(attested_lab, tmp_path)
    attested_lab.ok(
        "intake",
        str(
            attested_lab.write(
                "one2.csv", f"id,chain,asset,destination,amount\nx2,anvil,ETH,{dest},1\n"
            )
        ),
    )
    attested_lab.ok("build")
    [attested] = attested_lab.request_files()
    response = tmp_path / "attested.txt"
    signed = cold.sign(attested, response)
    assert signed.returncode == 0, signed.stdout[-2000:] + signed.stderr
    attested_lab.ok("import", str(response))
    attested_lab.ok("broadcast")
    attested_lab.ok("status")
    assert attested_lab.statuses() == {"x2": "confirmed"}
