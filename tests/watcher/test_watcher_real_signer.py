"""The watcher with the real ``coldsign-signer`` on a real anvil: audit heads and nonce gaps.

The signer's audit head travels in every response; the watcher stores it per signer and
refuses a signer whose log went back (a home restored from an old copy) or forked (a copy
used alongside the original). A batch item the signer refuses leaves a nonce gap that holds
back the account's later transactions until ``fill-gap`` re-requests that nonce.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from anvil import CHAIN_ID, MNEMONIC, Anvil
from watcherlab import DevKeys, Lab

SIGNER = Path(sys.executable).parent / "coldsign-signer"
PASSPHRASE = "correct horse battery staple watcher"
HEADER = "id,chain,asset,destination,amount,memo\n"
EXIT_INPUT, EXIT_REFUSED = 2, 4


def _policy(destinations: list[str]) -> str:
    lines = [
        "[policy]",
        'name = "watcher gaps"',
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
        "[[limit]]",
        f"chain = {CHAIN_ID}",
        'asset = "native"',
        'per_tx = "1000"',
        'per_24h = "1000"',
        "",
    ]
    for index, address in enumerate(destinations):
        lines += [
            "[[destination]]",
            f"chain = {CHAIN_ID}",
            f'address = "{address}"',
            'assets = ["native"]',
            f'label = "payee {index}"',
            "",
        ]
    return "\n".join(lines)


class ColdSigner:
    """A real signer home holding anvil's dev mnemonic, driven through its CLI."""

    def __init__(self, root: Path, destinations: list[str]) -> None:
        self.root = root
        self.home = root / "signer"
        secrets = root / "secrets"
        secrets.mkdir(parents=True)
        (secrets / "mnemonic").write_text(MNEMONIC + "\n")
        self.passphrase = secrets / "passphrase"
        self.passphrase.write_text(PASSPHRASE + "\n")
        made = self.run(
            "init",
            "--mnemonic-file",
            str(secrets / "mnemonic"),
            "--passphrase-file",
            str(self.passphrase),
            "--accounts",
            "1",
        )
        assert made.returncode == 0, made.stderr
        self.allow(destinations)
        self.responses = 0

    def run(
        self, command: str, *args: str, home: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        # --allow-online: the development override, this test machine has a network.
        return subprocess.run(
            [str(SIGNER), command, "--home", str(home or self.home), "--allow-online", *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def allow(self, destinations: list[str]) -> None:
        """Install a policy (the operator's reviewed change) naming these destinations."""
        (self.home / "policy.toml").write_text(_policy(destinations))

    def pair(self, lab: Lab) -> None:
        pairing = self.root / "pairing.txt"
        exported = self.run(
            "export-account", "--out", str(pairing), "--passphrase-file", str(self.passphrase)
        )
        assert exported.returncode == 0, exported.stderr
        lab.ok("pair", str(pairing), "--count", "1")

    def sign(self, request: Path, *, home: Path | None = None, refused: int = 0) -> Path:
        """Sign ``request``; ``refused`` items are expected to be refused by the policy."""
        self.responses += 1
        response = self.root / f"response-{self.responses}.txt"
        signed = self.run(
            "sign",
            "--passphrase-file",
            str(self.passphrase),
            "--in",
            str(request),
            "--out",
            str(response),
            home=home,
        )
        assert signed.returncode == (3 if refused else 0), signed.stdout[-2000:] + signed.stderr
        assert f"refused {refused}" in signed.stdout
        return response

    def copy(self, name: str) -> Path:
        """A byte-for-byte copy of the signer home (a backup, or a clone)."""
        target = self.root / name
        shutil.copytree(self.home, target, symlinks=True)
        return target


def _watcher(tmp_path: Path, chain: Anvil, keys: DevKeys) -> Lab:
    lab = Lab(tmp_path / "watcher", chain, keys)
    lab.configure()
    return lab


def _one(lab: Lab, withdrawal: str, dest: str) -> Path:
    """Intake and build one withdrawal; its request file."""
    before = set(lab.request_files())
    lab.ok(
        "intake",
        str(lab.write(f"{withdrawal}.csv", HEADER + f"{withdrawal},anvil,ETH,{dest},1,\n")),
    )
    lab.ok("build")
    [request] = sorted(set(lab.request_files()) - before)
    return request


def _refused(lab: Lab, *args: str, code: int, says: str) -> str:
    before = lab.dump()
    result = lab.cli(*args)
    assert result.code == code, (result.code, result.out, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.err
    assert lab.dump() == before
    return lines[0]


def _head_line(lab: Lab, fingerprint: str) -> str:
    out = lab.ok("status", "--no-track").out
    [line] = [line for line in out.splitlines() if line.startswith(f"signer {fingerprint}:")]
    return line


def test_the_watcher_stores_each_head_and_refuses_a_rolled_back_signer(
    tmp_path: Path, chain: Anvil, keys: DevKeys
) -> None:
    dest = keys.address(3)
    lab = _watcher(tmp_path, chain, keys)
    cold = ColdSigner(tmp_path, [dest])
    cold.pair(lab)
    fingerprint = f"{keys.fingerprint:08x}"
    assert "no audit head stored yet" in _head_line(lab, fingerprint)
    backup = cold.copy("backup")

    first = cold.sign(_one(lab, "h1", dest))
    lab.ok("import", str(first))
    after_first = _head_line(lab, fingerprint)
    second = cold.sign(_one(lab, "h2", dest))
    lab.ok("import", str(second))
    after_second = _head_line(lab, fingerprint)
    seq_first = int(after_first.split("audit head ")[1].split(":")[0])
    seq_second = int(after_second.split("audit head ")[1].split(":")[0])
    assert seq_second > seq_first

    # The home is restored from the backup taken before both: its log is behind the heads.
    third = cold.sign(_one(lab, "h3", dest), home=backup)
    line = _refused(lab, "import", str(third), code=EXIT_INPUT, says="was rolled back")
    assert f"signer {fingerprint}" in line
    assert lab.statuses()["h3"] == "awaiting-signature"
    assert _head_line(lab, fingerprint) == after_second

    # A deliberate rebuild is recorded with who and why; the next response sets the head.
    reset = lab.ok(
        "reset-head", fingerprint, "--by", "alice", "--reason", "home restored from backup"
    ).out
    assert f"{seq_second}:" in reset
    lab.ok("import", str(third))
    status = lab.ok("status", "--no-track").out
    assert "by alice: home restored from backup" in status
    assert lab.statuses()["h3"] == "signed"


def test_a_cloned_signer_is_refused(tmp_path: Path, chain: Anvil, keys: DevKeys) -> None:
    dest = keys.address(3)
    lab = _watcher(tmp_path, chain, keys)
    cold = ColdSigner(tmp_path, [dest])
    cold.pair(lab)
    clone = cold.copy("clone")
    request = _one(lab, "c1", dest)
    original = cold.sign(request)
    # The clone signs the same request from the same log position: same seq, other hash
    # (the decisions carry the time and the response its own signature digest).
    cloned = cold.sign(_one(lab, "c2", dest), home=clone)
    lab.ok("import", str(original))
    _refused(lab, "import", str(cloned), code=EXIT_INPUT, says="a cloned signer")


@pytest.mark.parametrize("mode", ["--pay", "--cancel"])
def test_a_refused_item_s_gap_is_filled_and_later_nonces_confirm(
    tmp_path: Path, chain: Anvil, keys: DevKeys, mode: str
) -> None:
    source = keys.address(0)
    paid, held = keys.address(11), keys.address(12)
    lab = _watcher(tmp_path, chain, keys)
    cold = ColdSigner(tmp_path, [paid])
    cold.pair(lab)
    before = {address: chain.balance(address) for address in (paid, held)}
    rows = HEADER + f"g1,anvil,ETH,{paid},1,\ng2,anvil,ETH,{held},2,\ng3,anvil,ETH,{paid},3,\n"
    lab.ok("intake", str(lab.write("gap.csv", rows)))
    lab.ok("build")
    [batch] = lab.request_files()
    # The policy does not name the second destination: the signer refuses item 2 only.
    lab.ok("import", str(cold.sign(batch, refused=1)))
    lab.ok("broadcast")
    status = lab.ok("status").out
    assert lab.statuses() == {"g1": "confirmed", "g2": "awaiting-signature", "g3": "broadcast"}
    assert "gap: g2 holds nonce 1 of" in status
    assert chain.balance(paid) - before[paid] == 10**18

    if mode == "--pay":
        cold.allow([paid, held])  # the reviewed policy change
    else:
        cold.allow([paid, source])  # a cancel is a zero-value transfer to the account itself
    out = lab.ok("fill-gap", "g2", mode).out
    assert "nonce 1 re-requested" in out
    [gap_file] = [path for path in lab.request_files() if path.name.endswith("-gap.txt")]
    lab.ok("import", str(cold.sign(gap_file)))
    lab.ok("broadcast")
    status = lab.ok("status").out
    assert "gap:" not in status
    assert int(chain.rpc("eth_getTransactionCount", source, "latest"), 16) == 3
    assert chain.balance(paid) - before[paid] == 4 * 10**18
    if mode == "--pay":
        assert lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}
        assert chain.balance(held) - before[held] == 2 * 10**18
    else:
        assert lab.statuses() == {"g1": "confirmed", "g2": "cancelled", "g3": "confirmed"}
        assert chain.balance(held) == before[held]
        assert "nonce 1 filled by a self-transfer: confirmed 0x" in status
