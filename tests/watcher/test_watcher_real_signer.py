"""The watcher with the real ``coldsign-signer`` on a real anvil: audit heads and nonce gaps.

The signer's audit head travels in every response; the watcher stores it per signer and
refuses a signer whose log went back (a home restored from an old copy) or forked (a copy
used alongside the original). A batch item the signer refuses leaves a nonce gap that holds
back the account's later transactions until ``fill-gap`` re-requests that nonce.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from anvil import Anvil
from watcherlab import CSV_HEADER, DevKeys, Lab, RealSigner, withdrawal_policy

EXIT_INPUT, EXIT_REFUSED = 2, 4


def _cold(root: Path, lab: Lab, destinations: list[str]) -> RealSigner:
    """A real signer allowed to pay ``destinations``, paired with ``lab``."""
    cold = RealSigner(root)
    cold.write_policy(withdrawal_policy("watcher gaps", destinations))
    cold.pair(lab)
    return cold


def _one(lab: Lab, withdrawal: str, dest: str) -> Path:
    """Intake and build one withdrawal; its request file."""
    return lab.build_request(withdrawal, f"{withdrawal},anvil,ETH,{dest},1,\n")


def test_the_watcher_stores_each_head_and_refuses_a_rolled_back_signer(
    tmp_path: Path, lab: Lab, keys: DevKeys
) -> None:
    dest = keys.address(3)
    lab.configure()
    cold = _cold(tmp_path, lab, [dest])
    fingerprint = f"{keys.fingerprint:08x}"
    assert "no audit head stored yet" in lab.head_line(fingerprint)
    backup = cold.copy("backup")

    first = cold.sign(_one(lab, "h1", dest))
    lab.ok("import", str(first))
    after_first = lab.head_line(fingerprint)
    second = cold.sign(_one(lab, "h2", dest))
    lab.ok("import", str(second))
    after_second = lab.head_line(fingerprint)
    seq_first = int(after_first.split("audit head ")[1].split(":")[0])
    seq_second = int(after_second.split("audit head ")[1].split(":")[0])
    assert seq_second > seq_first

    # The home is restored from the backup taken before both: its log is behind the heads.
    third = cold.sign(_one(lab, "h3", dest), home=backup)
    line = lab.refused("import", str(third), code=EXIT_INPUT, says="was rolled back")
    assert f"signer {fingerprint}" in line
    assert lab.statuses()["h3"] == "awaiting-signature"
    assert lab.head_line(fingerprint) == after_second

    # A deliberate rebuild is recorded with who and why; the next response sets the head.
    reset = lab.ok(
        "reset-head", fingerprint, "--by", "alice", "--reason", "home restored from backup"
    ).out
    assert f"{seq_second}:" in reset
    lab.ok("import", str(third))
    status = lab.ok("status", "--no-track").out
    assert "by alice: home restored from backup" in status
    assert lab.statuses()["h3"] == "signed"


def test_a_cloned_signer_is_refused(tmp_path: Path, lab: Lab, keys: DevKeys) -> None:
    dest = keys.address(3)
    lab.configure()
    cold = _cold(tmp_path, lab, [dest])
    clone = cold.copy("clone")
    request = _one(lab, "c1", dest)
    original = cold.sign(request)
    # The clone signs the same request from the same log position: same seq, other hash
    # (the decisions carry the time and the response its own signature digest).
    cloned = cold.sign(_one(lab, "c2", dest), home=clone)
    lab.ok("import", str(original))
    lab.refused("import", str(cloned), code=EXIT_INPUT, says="a cloned signer")


@pytest.mark.parametrize("mode", ["--pay", "--cancel"])
def test_a_refused_item_s_gap_is_filled_and_later_nonces_confirm(
    tmp_path: Path, lab: Lab, chain: Anvil, keys: DevKeys, mode: str
) -> None:
    source = keys.address(0)
    paid, held = keys.address(11), keys.address(12)
    lab.configure()
    cold = _cold(tmp_path, lab, [paid])
    before = {address: chain.balance(address) for address in (paid, held)}
    rows = CSV_HEADER + f"g1,anvil,ETH,{paid},1,\ng2,anvil,ETH,{held},2,\ng3,anvil,ETH,{paid},3,\n"
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
        cold.write_policy(
            withdrawal_policy("watcher gaps", [paid, held])
        )  # the reviewed policy change
    else:
        cold.write_policy(
            withdrawal_policy("watcher gaps", [paid, source])
        )  # a cancel is a zero-value transfer to the account itself
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


def test_a_batch_signed_before_fill_gap_cancel_is_imported_and_pays(
    tmp_path: Path, lab: Lab, chain: Anvil, keys: DevKeys
) -> None:
    source = keys.address(0)
    paid = keys.address(11)
    lab.configure()
    cold = _cold(tmp_path, lab, [paid, source])
    before = chain.balance(paid)
    rows = CSV_HEADER + "".join(f"g{i},anvil,ETH,{paid},{i},\n" for i in (1, 2, 3))
    lab.ok("intake", str(lab.write("late.csv", rows)))
    lab.ok("build")
    [batch] = lab.request_files()
    # The signer signs the whole batch; the response is not imported before fill-gap.
    response = cold.sign(batch)
    lab.ok("fill-gap", "g2", "--cancel")
    [gap_file] = [path for path in lab.request_files() if path.name.endswith("-gap.txt")]
    # Its nonce ledger holds nonce 1 for the payment: it never signs the cancel there.
    refused = cold.run_sign(gap_file, tmp_path / "cancel.txt")
    assert refused.returncode != 0
    assert "a different payload was already signed for this nonce" in refused.stdout
    lab.ok("import", str(response))
    assert lab.statuses() == {"g1": "signed", "g2": "signed", "g3": "signed"}
    lab.ok("broadcast")
    status = lab.ok("status").out
    assert "superseded" in status and "gap:" not in status
    assert lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}
    assert chain.balance(paid) - before == 6 * 10**18
    assert int(chain.rpc("eth_getTransactionCount", source, "latest"), 16) == 3
