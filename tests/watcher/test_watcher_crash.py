"""kill -9 of the watcher CLI at each step, then a restart: every withdrawal paid exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys

import pytest
from watcherlab import Lab

HEADER = "id,chain,asset,destination,amount,memo\n"
AMOUNTS = {"c1": 10**18, "c2": 2 * 10**18, "c3": 3 * 10**18}


def killed_at(lab: Lab, point: str, *args: str) -> None:
    """Run the CLI in a child process, wait until it reaches ``point``, then SIGKILL it."""
    env = dict(os.environ, COLDSIGN_WATCHER_CRASH_AT=point)
    child = subprocess.Popen(
        [sys.executable, "-m", "watcher.cli", "--home", str(lab.home), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stderr is not None
        line = child.stderr.readline()
        assert line.strip() == f"crash-point {point.partition('#')[0]}", line
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        if child.stderr is not None:
            child.stderr.close()


def _setup(lab: Lab) -> dict[str, str]:
    lab.configure()
    lab.pair()
    dests = {wid: lab.keys.address(3 + i) for i, wid in enumerate(AMOUNTS)}
    rows = "".join(f"{wid},anvil,ETH,{dests[wid]},{AMOUNTS[wid] // 10**18},\n" for wid in AMOUNTS)
    lab.ok("intake", str(lab.write("w.csv", HEADER + rows)))
    return dests


def _sign_and_import(lab: Lab) -> None:
    [request] = lab.request_files()
    lab.ok("import", str(lab.sign(request)))


def _exactly_once(lab: Lab, dests: dict[str, str], before: dict[str, int], nonce0: int) -> None:
    lab.ok("status")
    assert lab.statuses() == dict.fromkeys(AMOUNTS, "confirmed")
    for wid, dest in dests.items():
        assert lab.node.balance(dest) - before[wid] == AMOUNTS[wid]
    source = lab.keys.address(0)
    assert int(lab.node.rpc("eth_getTransactionCount", source, "latest"), 16) == nonce0 + 3
    db = sqlite3.connect(lab.home / "watcher.db")
    try:
        per_withdrawal = db.execute(
            "SELECT withdrawal_id, COUNT(*) FROM requests WHERE status = 'confirmed' "
            "GROUP BY withdrawal_id"
        ).fetchall()
        assert dict(per_withdrawal) == dict.fromkeys(AMOUNTS, 1)
        assert db.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 1
    finally:
        db.close()


def _start(lab: Lab) -> tuple[dict[str, str], dict[str, int], int]:
    dests = _setup(lab)
    before = {wid: lab.node.balance(dest) for wid, dest in dests.items()}
    nonce0 = int(lab.node.rpc("eth_getTransactionCount", lab.keys.address(0), "latest"), 16)
    return dests, before, nonce0


@pytest.mark.parametrize("point", ["build.committed", "build.written"])
def test_killed_after_build(lab: Lab, point: str) -> None:
    dests, before, nonce0 = _start(lab)
    killed_at(lab, point, "build")
    assert set(lab.statuses().values()) == {
        "built" if point == "build.committed" else "awaiting-signature"
    }
    # The restart writes the missing request file (or finds nothing to do) and builds no more.
    lab.ok("build")
    assert len(lab.request_files()) == 1
    _sign_and_import(lab)
    lab.ok("broadcast")
    _exactly_once(lab, dests, before, nonce0)


def test_killed_after_import(lab: Lab) -> None:
    dests, before, nonce0 = _start(lab)
    lab.ok("build")
    [request] = lab.request_files()
    response = lab.sign(request)
    killed_at(lab, "import.committed", "import", str(response))
    assert set(lab.statuses().values()) == {"signed"}
    # Importing again is refused as a replay and changes nothing; broadcasting goes on.
    assert lab.cli("import", str(response)).code == 2
    lab.ok("broadcast")
    _exactly_once(lab, dests, before, nonce0)


@pytest.mark.parametrize("point", ["broadcast.sent#1", "broadcast.sent#2", "broadcast.recorded#2"])
def test_killed_mid_broadcast(lab: Lab, point: str) -> None:
    dests, before, nonce0 = _start(lab)
    lab.ok("build")
    _sign_and_import(lab)
    killed_at(lab, point, "broadcast")
    # The node has the transaction the killed run sent; the restart must not pay it twice.
    lab.ok("broadcast")
    _exactly_once(lab, dests, before, nonce0)


def test_killed_mid_broadcast_with_a_held_pool(lab: Lab) -> None:
    dests, before, nonce0 = _start(lab)
    lab.ok("build")
    _sign_and_import(lab)
    lab.node.automine(False)
    killed_at(lab, "broadcast.sent#2", "broadcast")
    lab.ok("broadcast")
    lab.node.mine()
    _exactly_once(lab, dests, before, nonce0)
