"""``safe import`` with the real ``coldsign-signer``: a home restored from a backup is refused.

One signer device holds the withdrawal account and two owners of a 2-of-3 Safe v1.4.1 on
anvil. It signs a withdrawal and owner 1's approval; then its home is restored from a backup
taken before both, and owner 2's approval from it is refused with both databases unchanged,
until ``reset-head`` records the restore. A copy of the home answering alongside the
original (a clone) is refused as well.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from anvil import CHAIN_ID, MNEMONIC, Anvil
from safe_contracts import create_safe, deploy_safe_contracts, send
from watcherlab import DevKeys, Lab

from shared.address import parse_address

SIGNER = Path(sys.executable).parent / "coldsign-signer"
PASSPHRASE = "correct horse battery staple safe heads"
HEADER = "id,chain,asset,destination,amount,memo\n"
EXIT_INPUT = 2


def _policy(safe: str, payee: str) -> str:
    accounts = [f"[[account]]\npath = \"m/44'/60'/0'/0/{index}\"\n" for index in (0, 1, 2)]
    return "\n".join(
        [
            '[policy]\nname = "safe heads"\nversion = 1\n',
            f'[[chain]]\nid = {CHAIN_ID}\nlabel = "anvil"\nmax_fee_per_gas_gwei = "100"\n'
            'max_total_fee_native = "0.1"\n',
            *accounts,
            f'[[safe]]\nchain = {CHAIN_ID}\naddress = "{safe}"\nlabel = "Treasury"\n'
            'profile = "owner"\n',
            f'[[destination]]\nchain = {CHAIN_ID}\naddress = "{payee}"\nassets = ["native"]\n'
            'label = "payee"\n',
            f'[[limit]]\nchain = {CHAIN_ID}\nasset = "native"\nper_tx = "1000"\nper_24h = "1000"\n',
        ]
    )


class Device:
    """A real signer home holding anvil's dev mnemonic, driven through its CLI."""

    def __init__(self, root: Path) -> None:
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
            "3",
        )
        assert made.returncode == 0, made.stderr
        self.answers = 0

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

    def pair(self, lab: Lab) -> None:
        pairing = self.root / "pairing.txt"
        exported = self.run(
            "export-account", "--out", str(pairing), "--passphrase-file", str(self.passphrase)
        )
        assert exported.returncode == 0, exported.stderr
        lab.ok("pair", str(pairing), "--count", "3")

    def sign(self, request: Path, *, home: Path | None = None) -> Path:
        self.answers += 1
        answer = self.root / f"answer-{self.answers}.txt"
        signed = self.run(
            "sign",
            "--passphrase-file",
            str(self.passphrase),
            "--in",
            str(request),
            "--out",
            str(answer),
            home=home,
        )
        assert signed.returncode == 0, signed.stdout[-2000:] + signed.stderr
        return answer


def _dumps(lab: Lab) -> tuple[str, str]:
    db = sqlite3.connect(lab.home / "safe.db")
    try:
        return "\n".join(db.iterdump()), lab.dump()
    finally:
        db.close()


def _owner_request(lab: Lab, owner: str) -> Path:
    [path] = (lab.home / "requests").glob(f"safe-treasury-nonce-0-owner-{owner}.txt")
    return path


def _head_lines(lab: Lab, fingerprint: str) -> list[str]:
    lines = lab.ok("safe", "status", "--no-track").out.splitlines()
    start = lines.index(next(x for x in lines if x.startswith(f"signer {fingerprint}:")))
    return lines[start:]


class Treasury:
    """A 2-of-3 Safe (owners: dev accounts 1 to 3), a watcher, and one paired device holding
    the withdrawal account and owners 1 and 2, with a copy of its home taken before use."""

    def __init__(self, root: Path, chain: Anvil, keys: DevKeys) -> None:
        self.owners = [keys.address(i) for i in (1, 2, 3)]
        self.payee = keys.address(8)
        deploy_safe_contracts(chain)
        safe = create_safe(chain, self.owners, 2)
        send(chain, safe, value=10**18)
        self.lab = Lab(root / "watcher", chain, keys)
        self.lab.configure()
        (self.lab.home / "safes.toml").write_text(
            f'[[safe]]\nname = "treasury"\nchain = "anvil"\naddress = "{safe}"\n'
        )
        self.device = Device(root)
        self.device.pair(self.lab)
        (self.device.home / "policy.toml").write_text(_policy(safe, self.payee))
        self.copy = root / "copy"
        shutil.copytree(self.device.home, self.copy, symlinks=True)
        self.fingerprint = f"{keys.fingerprint:08x}"

    def propose(self) -> None:
        payout = HEADER + f"s1,anvil,ETH,{self.payee},0.5,\n"
        self.lab.ok("safe", "intake", str(self.lab.write("s.csv", payout)))
        self.lab.ok("safe", "propose")

    def refused(self, answer: Path, says: str) -> str:
        """``safe import`` refuses ``answer`` for owner 2, and neither database changes."""
        before = _dumps(self.lab)
        result = self.lab.cli("safe", "import", str(answer))
        assert result.code == EXIT_INPUT, result
        owner_2 = parse_address(self.owners[1], field="test").checksummed()
        assert result.err.startswith(
            f"coldsign-watcher: safe: owner {owner_2}: signer {self.fingerprint} answered "
            "with audit head "
        )
        assert says in result.err and "Nothing was stored" in result.err
        assert _dumps(self.lab) == before
        assert f"owner {owner_2}: waiting" in self.lab.ok("safe", "status", "--no-track").out
        return result.err


def test_a_signer_restored_from_a_backup_is_refused_until_reset_head(
    tmp_path: Path, chain: Anvil, keys: DevKeys
) -> None:
    t = Treasury(tmp_path, chain, keys)
    lab, device, fingerprint = t.lab, t.device, t.fingerprint
    # The device signs a withdrawal, then owner 1's approval: one signer, one head.
    lab.ok("intake", str(lab.write("w.csv", HEADER + f"w1,anvil,ETH,{t.payee},1,\n")))
    lab.ok("build")
    [withdrawal] = lab.request_files()
    lab.ok("import", str(device.sign(withdrawal)))
    withdrawal_head = lab.ok("status", "--no-track").out.split(f"signer {fingerprint}: ")[1]
    t.propose()
    owner_1 = device.sign(_owner_request(lab, t.owners[0]))
    assert "(1 of 2)" in lab.ok("safe", "import", str(owner_1)).out
    stored = _head_lines(lab, fingerprint)
    seq = int(stored[0].split("audit head ")[1].split(":")[0])
    assert seq > int(withdrawal_head.split("audit head ")[1].split(":")[0])

    # The home comes back from the backup: its log is behind the head of both responses.
    restored = device.sign(_owner_request(lab, t.owners[1]), home=t.copy)
    t.refused(restored, "was rolled back")
    assert _head_lines(lab, fingerprint) == stored

    # The restore is recorded with the watcher's one reset-head; the same answer now counts.
    lab.ok("reset-head", fingerprint, "--by", "carol", "--reason", "owner home restored")
    assert "(2 of 2)" in lab.ok("safe", "import", str(restored)).out
    lines = _head_lines(lab, fingerprint)
    assert lines[0] != stored[0]
    assert lines[2].startswith("  reset ") and "by carol: owner home restored" in lines[2]
    assert f"(dropped {seq}:" in lines[2]
    assert "ready" in lab.ok("safe", "status", "--no-track").out


def test_a_cloned_signer_answering_another_owner_is_refused(
    tmp_path: Path, chain: Anvil, keys: DevKeys
) -> None:
    t = Treasury(tmp_path, chain, keys)
    t.propose()
    # The copy answers owner 2 from the same log position as the original answers owner 1:
    # the same sequence number with another hash.
    original = t.device.sign(_owner_request(t.lab, t.owners[0]))
    cloned = t.device.sign(_owner_request(t.lab, t.owners[1]), home=t.copy)
    t.lab.ok("safe", "import", str(original))
    t.refused(cloned, "a cloned signer")
