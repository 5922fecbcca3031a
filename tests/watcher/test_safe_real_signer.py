"""``safe import`` with the real ``coldsign-signer``: a home restored from a backup is refused.

One signer device holds the withdrawal account and two owners of a 2-of-3 Safe v1.4.1 on
anvil. It signs a withdrawal and owner 1's approval; then its home is restored from a backup
taken before both, and owner 2's approval from it is refused with both databases unchanged,
until ``reset-head`` records the restore. A copy of the home answering alongside the
original (a clone) is refused as well.
"""

from __future__ import annotations

from pathlib import Path

from anvil import CHAIN_ID, Anvil
from watcherlab import CSV_HEADER, DevKeys, Lab, RealSigner

from shared.address import parse_address

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
        self.lab = Lab(root / "watcher", chain, keys)
        safe = self.lab.add_safe(self.owners)
        self.lab.configure()
        self.device = RealSigner(root, accounts=3)
        self.device.pair(self.lab, count=3)
        self.device.write_policy(_policy(safe, self.payee))
        self.copy = self.device.copy("copy")
        self.fingerprint = f"{keys.fingerprint:08x}"

    def propose(self) -> None:
        payout = CSV_HEADER + f"s1,anvil,ETH,{self.payee},0.5,\n"
        self.lab.ok("safe", "intake", str(self.lab.write("s.csv", payout)))
        self.lab.ok("safe", "propose")

    def refused(self, answer: Path, says: str) -> str:
        """``safe import`` refuses ``answer`` for owner 2, and neither database changes."""
        before = self.lab.dumps()
        result = self.lab.cli("safe", "import", str(answer))
        assert result.code == EXIT_INPUT, result
        owner_2 = parse_address(self.owners[1], field="test").checksummed()
        assert result.err.startswith(
            f"coldsign-watcher: safe: owner {owner_2}: signer {self.fingerprint} answered "
            "with audit head "
        )
        assert says in result.err and "Nothing was stored" in result.err
        assert self.lab.dumps() == before
        assert f"owner {owner_2}: waiting" in self.lab.ok("safe", "status", "--no-track").out
        return result.err


def test_a_signer_restored_from_a_backup_is_refused_until_reset_head(
    tmp_path: Path, chain: Anvil, keys: DevKeys
) -> None:
    t = Treasury(tmp_path, chain, keys)
    lab, device, fingerprint = t.lab, t.device, t.fingerprint
    # The device signs a withdrawal, then owner 1's approval: one signer, one head.
    withdrawal = lab.build_request("w", f"w1,anvil,ETH,{t.payee},1,\n")
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
