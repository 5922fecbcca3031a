"""The README's demo through its own entry point (``scripts/demo.py`` ``run_demo``), so that
``bash scripts/demo.sh`` cannot silently rot: real programs, real QR video both ways, a real
chain, and a summary the demo itself checks against that chain."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from anvil import Anvil

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.append(str(SCRIPTS))

import demo  # noqa: E402
from demo_plan import (  # noqa: E402
    DESTINATIONS,
    MAX_ROWS,
    OUTSIDER,
    SYMBOL,
    demo_address,
    withdrawal_rows,
)
from demo_summary import NATIVE, DemoError, Payment, check_chain  # noqa: E402

ROWS = 6
# ETH and the test token: 18 decimals.
SCALE = 10**18
DECIMALS = 18


def units(text: str) -> int:
    """A decimal string in base units of an 18-decimal asset (no floats)."""
    whole, _, fraction = text.partition(".")
    return int(whole) * SCALE + int(fraction.ljust(DECIMALS, "0"))


def test_the_demo_pays_the_allowed_withdrawals_and_refuses_the_outsider(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    shown: list[str] = []
    summary = demo.run_demo(out, rows=ROWS, say=shown.append)

    plan = withdrawal_rows(ROWS)
    assert [p.id for p in summary.paid] == [row[0] for row in plan[:-1]]
    assert all(p.block > 0 and p.tx_hash.startswith("0x") for p in summary.paid)
    [refused] = summary.refused
    assert (refused.id, refused.code) == (plan[-1][0], "destination-not-allowed")
    assert refused.destination == demo_address(OUTSIDER)
    assert "is not an allowed destination" in refused.reason
    assert refused.watcher_status == "awaiting-signature"
    assert refused.nonce == len(plan) - 1

    # What each destination holds on chain (as checked by the demo) equals the file's rows,
    # summed here independently; the outsider got nothing.
    expected: dict[tuple[str, str], int] = {}
    for _, label, asset, amount, _ in plan[:-1]:
        expected[(label, asset)] = expected.get((label, asset), 0) + units(amount)
    held = {(b.who, b.asset): b.actual for b in summary.balances}
    for label in [*DESTINATIONS, OUTSIDER]:
        for asset in ("ETH", SYMBOL):
            assert held[(label, asset)] == expected.get((label, asset), 0), (label, asset)
    assert all(b.expected == b.actual for b in summary.balances)

    # Both QR legs went through a real video and finished within the frames it holds.
    scans = [leg for leg in summary.legs if leg.frames_shown is not None]
    assert len(scans) == 3
    for leg in scans:
        assert leg.frames_read is not None and leg.fragments is not None
        assert leg.frames_shown is not None
        assert leg.fragments <= leg.frames_read <= leg.frames_shown

    for name in summary.artefacts:
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "summary.json").read_text())["refused"][0]["code"] == (
        "destination-not-allowed"
    )
    text = (out / "summary.txt").read_text()
    assert "REFUSED BY THE SIGNER: 1" in text and f"PAID: {ROWS - 1} withdrawals" in text
    assert any(line.startswith("$ coldsign-signer sign ") for line in shown)

    # Running again into the same folder starts from a clean folder and works.
    again = demo.run_demo(out, rows=2, say=lambda line: None)
    assert (len(again.paid), len(again.refused)) == (1, 1)
    assert len((out / "withdrawals.csv").read_text().splitlines()) == 1 + 2
    assert again.refused[0].id == "wd-002" and again.refused[0].nonce == 1


def test_the_output_folder_is_emptied_only_when_the_demo_made_it(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    with demo.claimed_folder(mine):
        (mine / "left-over.txt").write_text("from the last run")
        (mine / "sub").mkdir()
    with demo.claimed_folder(mine):
        assert sorted(p.name for p in mine.iterdir()) == [demo.MARKER]

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("someone's file")
    with pytest.raises(DemoError, match="did not make"), demo.claimed_folder(theirs):
        pass
    assert (theirs / "notes.txt").read_text() == "someone's file"


def test_a_second_demo_into_the_same_folder_stops_while_the_first_runs(tmp_path: Path) -> None:
    out = tmp_path / "busy"
    with demo.claimed_folder(out):
        (out / "transcript.txt").write_text("the first run's")
        with pytest.raises(DemoError, match="another demo is running"), demo.claimed_folder(out):
            pass
        assert (out / "transcript.txt").read_text() == "the first run's"


def test_the_demo_refuses_a_row_count_it_cannot_make(tmp_path: Path) -> None:
    for rows in (1, MAX_ROWS + 1):
        with pytest.raises(DemoError, match="rows must be"):
            withdrawal_rows(rows)


def test_the_chain_check_fails_loudly_when_a_balance_differs(e2e_chain: Anvil) -> None:
    sender, receiver = e2e_chain.rpc("eth_accounts")[:2]
    before = {
        (receiver, NATIVE): e2e_chain.balance(receiver),
        (sender, NATIVE): e2e_chain.balance(sender),
    }
    tx_hash = e2e_chain.rpc("eth_sendTransaction", {"from": sender, "to": receiver, "value": "0x7"})
    block = int(e2e_chain.receipt(tx_hash)["blockNumber"], 16)
    names = {receiver: "receiver", sender: "sender"}
    assets = {NATIVE: "ETH"}
    honest = Payment(receiver, NATIVE, 7, tx_hash, block)
    checks = check_chain(e2e_chain, sender, names, assets, before, [honest])
    assert [(c.who, c.expected == c.actual) for c in checks] == [
        ("receiver", True),
        ("sender", True),
    ]
    with pytest.raises(DemoError, match=r"receiver holds .* the summary says"):
        check_chain(
            e2e_chain, sender, names, assets, before, [Payment(receiver, NATIVE, 8, tx_hash, block)]
        )
    with pytest.raises(DemoError, match="reported as succeeded in block"):
        check_chain(
            e2e_chain,
            sender,
            names,
            assets,
            before,
            [Payment(receiver, NATIVE, 7, tx_hash, block + 1)],
        )
