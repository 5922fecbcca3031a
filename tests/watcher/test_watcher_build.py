"""Building: fee policy, nonces across batches, batch size, balances, rewrites after a crash."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import pytest
from watcherlab import Lab

from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from shared.tx import DATA_TYPE_TYPED, decode_transaction
from watcher import erc20
from watcher.build import suggest_fees
from watcher.config import FeePolicy
from watcher.errors import FeeCapError
from watcher.parts import read_ur
from watcher.rpc import Node

HEADER = "id,chain,asset,destination,amount,memo\n"


class FeeNode:
    url = "fake"

    def __init__(self, base_fees: list[str], rewards: list[list[str]]) -> None:
        self.reply = {"oldestBlock": "0x1", "baseFeePerGas": base_fees, "reward": rewards}

    def call(self, method: str, params: Sequence[object]) -> object:
        assert method == "eth_feeHistory"
        return self.reply


def test_fees_take_the_median_reward_and_twice_the_next_base_fee() -> None:
    node = Node(FeeNode(["0x10", "0x20", "0x64"], [["0x5"], ["0x9"]]))
    fees = suggest_fees(node, FeePolicy(history_blocks=2, max_priority_fee_per_gas_cap=100))
    assert (fees.max_priority_fee_per_gas, fees.max_fee_per_gas) == (9, 2 * 100 + 9)


def test_fees_are_capped() -> None:
    node = Node(FeeNode(["0x64"], [["0x50"]]))
    policy = FeePolicy(history_blocks=1, max_priority_fee_per_gas_cap=10, max_fee_per_gas_cap=150)
    fees = suggest_fees(node, policy)
    assert (fees.max_priority_fee_per_gas, fees.max_fee_per_gas) == (10, 150)
    with pytest.raises(FeeCapError, match=r"exceeds fees\.max_fee_per_gas_cap = 105"):
        suggest_fees(node, FeePolicy(history_blocks=1, max_fee_per_gas_cap=105))


def test_selectors_are_the_published_ones() -> None:
    # EIP-20 §Methods; the 4-byte values as listed in tests/vectors/calls.json's sources.
    assert (erc20.TRANSFER.hex(), erc20.BALANCE_OF.hex(), erc20.DECIMALS.hex()) == (
        "a9059cbb",
        "70a08231",
        "313ce567",
    )


def _transactions(lab: Lab) -> list[tuple[str, int]]:
    found = []
    for path in lab.request_files():
        ur = read_ur(
            path.read_text().splitlines(),
            frozenset({"eth-batch-sign-request", "eth-sign-request"}),
            source="r",
        )
        if ur.type == "eth-batch-sign-request":
            requests = EthBatchSignRequest.from_ur(ur).requests
        else:
            requests = (EthSignRequest.from_ur(ur),)
        for request in requests:
            tx = decode_transaction(request.sign_data, DATA_TYPE_TYPED)
            found.append((path.name, tx.nonce))
    return found


def test_batches_split_and_nonces_continue_across_builds(lab: Lab) -> None:
    lab.configure(max_batch=2)
    lab.pair()
    dest = lab.keys.address(6)
    rows = "".join(f"b{i},anvil,ETH,{dest},0.01,\n" for i in range(3))
    lab.ok("intake", str(lab.write("a.csv", HEADER + rows)))
    assert "batch 1: 2 requests" in lab.ok("build").out
    lab.ok("intake", str(lab.write("b.csv", HEADER + f"b9,anvil,ETH,{dest},0.01,\n")))
    assert "batch 3: 1 requests" in lab.ok("build").out
    nonce0 = int(lab.node.rpc("eth_getTransactionCount", lab.keys.address(0), "pending"), 16)
    assert [nonce for _, nonce in _transactions(lab)] == [nonce0 + i for i in range(4)]
    assert "nothing to build" in lab.ok("build").out


def test_an_insufficient_balance_builds_nothing(lab: Lab) -> None:
    lab.configure()
    lab.pair()
    rows = HEADER + f"big,anvil,ETH,{lab.keys.address(6)},20000,\n"
    lab.ok("intake", str(lab.write("big.csv", rows)))
    before = lab.dump()
    result = lab.cli("build")
    assert result.code == 4
    assert "holds" in result.err and "but the batch needs" in result.err
    assert lab.dump() == before
    assert lab.request_files() == []


def test_a_token_balance_short_of_the_batch_builds_nothing(lab: Lab) -> None:
    token = lab.deploy_token(lab.keys.address(0), 10 * 10**18)
    lab.configure(tokens=((token, "TKN"),))
    lab.pair()
    rows = HEADER + f"t,anvil,TKN,{lab.keys.address(6)},11,\n"
    lab.ok("intake", str(lab.write("t.csv", rows)))
    before = lab.dump()
    result = lab.cli("build")
    assert result.code == 4, result.err
    assert "estimate" in result.err or "holds" in result.err
    assert lab.dump() == before


def test_a_lost_request_file_is_rewritten_byte_for_byte(lab: Lab) -> None:
    lab.configure()
    lab.pair()
    lab.ok("intake", str(lab.write("a.csv", HEADER + f"x,anvil,ETH,{lab.keys.address(6)},1,\n")))
    lab.ok("build")
    [path] = lab.request_files()
    original = path.read_bytes()
    path.unlink()
    db = sqlite3.connect(lab.home / "watcher.db")
    db.execute("UPDATE batches SET parts_file = NULL")
    db.commit()
    db.close()
    lab.ok("build")
    assert path.read_bytes() == original


def test_decimals_are_read_from_the_chain_and_cached(lab: Lab) -> None:
    token = lab.deploy_token(lab.keys.address(0), 10**24)
    lab.configure(tokens=((token, "TKN"),))
    lab.pair()
    lab.ok("intake", str(lab.write("t.csv", HEADER + f"t1,anvil,TKN,{lab.keys.address(6)},1.5,\n")))
    db = sqlite3.connect(lab.home / "watcher.db")
    try:
        assert db.execute("SELECT decimals FROM token_decimals").fetchall() == [(18,)]
        assert db.execute("SELECT amount FROM withdrawals").fetchall() == [("1500000000000000000",)]
    finally:
        db.close()
