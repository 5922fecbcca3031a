"""Pair, intake, build, sign (eth-account), import, broadcast and track against a real anvil."""

from __future__ import annotations

import sqlite3

from watcherlab import Lab

HEADER = "id,chain,asset,destination,amount,memo\n"


def test_native_withdrawals_round_trip(lab: Lab) -> None:
    lab.configure()
    lab.pair()
    dest = lab.keys.address(1)
    before = lab.node.balance(dest)
    rows = "id,chain,asset,destination,amount,memo\n"
    rows += f"w1,anvil,ETH,{dest},1.5,first\nw2,anvil,ETH,{dest},0.25,\n"
    lab.ok("intake", str(lab.write("w.csv", rows)))
    out = lab.ok("build").out
    assert "batch 1: 2 requests" in out
    [request] = lab.request_files()
    response = lab.sign(request)
    lab.ok("import", str(response))
    lab.ok("broadcast")
    status = lab.ok("status").out
    assert lab.statuses() == {"w1": "confirmed", "w2": "confirmed"}, status
    assert lab.node.balance(dest) - before == 1_750_000_000_000_000_000


def _tx_hashes(lab: Lab) -> list[str]:
    db = sqlite3.connect(lab.home / "watcher.db")
    try:
        return ["0x" + bytes(h).hex() for (h,) in db.execute("SELECT tx_hash FROM signatures")]
    finally:
        db.close()


def _one_withdrawal(lab: Lab, confirmations: int = 1) -> str:
    lab.configure(confirmations=confirmations)
    lab.pair()
    dest = lab.keys.address(4)
    lab.ok("intake", str(lab.write("w.csv", HEADER + f"r1,anvil,ETH,{dest},1,\n")))
    lab.ok("build")
    [request] = lab.request_files()
    lab.ok("import", str(lab.sign(request)))
    return dest


def test_erc20_and_native_withdrawals(lab: Lab) -> None:
    source = lab.keys.address(0)
    token = lab.deploy_token(source, 1_000_000 * 10**18)
    lab.configure(tokens=((token, "TKN"),))
    lab.pair()
    dest = lab.keys.address(5)
    rows = HEADER + f"t1,anvil,TKN,{dest},12.5,\nt2,anvil,{token},{dest},0.000000000000000001,\n"
    rows += f"e1,anvil,ETH,{dest},0.1,\n"
    lab.ok("intake", str(lab.write("t.csv", rows)))
    lab.ok("build")
    [request] = lab.request_files()
    lab.ok("import", str(lab.sign(request)))
    lab.ok("broadcast")
    lab.ok("status")
    assert set(lab.statuses().values()) == {"confirmed"}
    assert lab.token_balance(token, dest) == 12_500_000_000_000_000_001


def test_a_transaction_the_pool_dropped_is_sent_again(lab: Lab) -> None:
    _one_withdrawal(lab)
    lab.node.automine(False)
    lab.ok("broadcast")
    [tx_hash] = _tx_hashes(lab)
    lab.node.rpc("anvil_dropTransaction", tx_hash)
    assert lab.node.rpc("eth_getTransactionByHash", tx_hash) is None
    assert "1 sent again" in lab.ok("status").out
    lab.node.mine()
    lab.ok("status")
    assert lab.statuses() == {"r1": "confirmed"}


def test_a_reorged_confirmation_goes_back_to_broadcast(lab: Lab) -> None:
    dest = _one_withdrawal(lab, confirmations=3)
    before = lab.node.balance(dest)
    lab.ok("broadcast")
    [tx_hash] = _tx_hashes(lab)
    assert "1 pending" in lab.ok("status").out
    lab.node.mine(2)
    lab.ok("status")
    assert lab.statuses() == {"r1": "confirmed"}
    # anvil_reorg replaces the last 3 blocks with empty ones: the transaction is gone.
    lab.node.rpc("anvil_reorg", 3, [])
    assert lab.node.rpc("eth_getTransactionReceipt", tx_hash) is None
    out = lab.ok("status").out
    assert "1 reorged" in out and "1 sent again" in out
    assert lab.statuses() == {"r1": "broadcast"}
    lab.node.mine(3)
    lab.ok("status")
    assert lab.statuses() == {"r1": "confirmed"}
    assert lab.node.balance(dest) - before == 10**18
    history = [to for _, to, _ in _history(lab, "r1")]
    assert history[-3:] == ["confirmed", "broadcast", "confirmed"]


def test_a_reorg_that_moves_the_transaction_is_followed(lab: Lab) -> None:
    _one_withdrawal(lab, confirmations=2)
    lab.node.automine(False)
    lab.ok("broadcast")
    [tx_hash] = _tx_hashes(lab)
    raw = lab.node.rpc("eth_getRawTransactionByHash", tx_hash)
    lab.node.mine(2)
    lab.ok("status")
    assert lab.statuses() == {"r1": "confirmed"}
    old_block = lab.node.rpc("eth_getTransactionReceipt", tx_hash)["blockHash"]
    # Re-include the same transaction in the second of two replacement blocks.
    lab.node.rpc("anvil_reorg", 2, [[raw, 1]])
    moved = lab.node.rpc("eth_getTransactionReceipt", tx_hash)
    assert moved is not None and moved["blockHash"] != old_block
    assert "1 reorged" in lab.ok("status").out
    lab.node.mine()
    lab.ok("status")
    assert lab.statuses() == {"r1": "confirmed"}


def test_a_stuck_transaction_is_fee_bumped_signed_and_mined(lab: Lab) -> None:
    dest = _one_withdrawal(lab)
    before = lab.node.balance(dest)
    lab.node.automine(False)
    lab.ok("broadcast")
    [stuck] = _tx_hashes(lab)
    # The base fee jumps above the transaction's max fee: it cannot be mined any more.
    lab.node.rpc("anvil_setNextBlockBaseFeePerGas", hex(50 * 10**9))
    lab.node.mine()
    assert lab.node.rpc("eth_getTransactionReceipt", stuck) is None
    lab.ok("status")
    assert lab.statuses() == {"r1": "broadcast"}
    out = lab.ok("bump").out
    assert "batch 2: 1 requests" in out
    bump_file = lab.request_files()[-1]
    assert "bump" in bump_file.name
    lab.ok("import", str(lab.sign(bump_file)))
    lab.ok("broadcast")
    lab.node.mine()
    lab.ok("status")
    assert lab.statuses() == {"r1": "confirmed"}
    assert lab.node.balance(dest) - before == 10**18
    db = sqlite3.connect(lab.home / "watcher.db")
    try:
        rows = db.execute("SELECT replaces IS NULL, status FROM requests ORDER BY rowid").fetchall()
    finally:
        db.close()
    assert rows == [(1, "replaced"), (0, "confirmed")]


def _history(lab: Lab, withdrawal_id: str) -> list[tuple[str | None, str, str]]:
    db = sqlite3.connect(lab.home / "watcher.db")
    try:
        return db.execute(
            "SELECT from_status, to_status, note FROM history WHERE withdrawal_id = ? ORDER BY seq",
            (withdrawal_id,),
        ).fetchall()
    finally:
        db.close()


def test_the_rpc_flag_replaces_the_configured_node(lab: Lab) -> None:
    lab.configure(rpc="http://127.0.0.1:9")
    lab.pair()
    assert lab.cli("build").code == 3
    assert "nothing to build" in lab.ok("--rpc", lab.node.url, "build").out
    assert "nothing to build" in lab.ok("--rpc", f"anvil={lab.node.url}", "build").out


def test_a_nonce_spent_elsewhere_fails_the_withdrawal(lab: Lab) -> None:
    _one_withdrawal(lab)
    # Someone else spends the source account's nonce first (anvil's unlocked dev account).
    lab.node.rpc(
        "eth_sendTransaction",
        {"from": lab.keys.address(0), "to": lab.keys.address(8), "value": "0x1"},
    )
    result = lab.cli("broadcast")
    assert result.code == 4
    assert "was used by a transaction this watcher did not make" in result.err
    assert lab.statuses() == {"r1": "failed"}
