"""Pair, intake, build, sign (eth-account), import, broadcast and track against a real anvil."""

from __future__ import annotations

from watcherlab import Lab


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
