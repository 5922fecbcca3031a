"""fill-gap checks funds as build does: in flight (the replaced request once, not twice) plus
the replacement's value, token amount and maximum fee, against the node's balance; a refusal
stores and writes nothing.

Each test makes a gap on the real anvil: three withdrawals of 1, 2 and 3 (ETH or a token) from
one account, the signer answers the first and the third only; the first is mined and the third
waits in the node's pool behind the unsigned nonce of the second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from watcherlab import RESPONSES, Lab, sign_parts, ur_lines

from shared.address import parse_address
from shared.erc4527 import EthBatchSignature
from shared.keccak import keccak256
from watcher.config import load_config
from watcher.errors import InsufficientBalanceError
from watcher.gap import FillMode, GapFiller
from watcher.parts import TextPartsWriter, read_ur
from watcher.requestkit import RequestKit
from watcher.rpc import HttpTransport, Node
from watcher.state import Status, Store, TxRequest

EXIT_REFUSED = 4
ETHER = 10**18
# ERC20PresetFixedSupply (OpenZeppelin v4): ``_balances`` is the contract's first state
# variable, so a holder's balance sits at keccak256(pad32(holder) || pad32(0)) (Solidity
# storage layout, mappings).
BALANCES_SLOT = 0
NEEDS = re.compile(r"holds (\d+) base units of (\w+) .* needs (\d+)")


class FundsGap:
    """The gap at g2 (nonce 1) of dev account 0, in ETH or in a token holding exactly 6."""

    def __init__(self, lab: Lab, *, token: bool) -> None:
        self.lab = lab
        self.source = lab.keys.address(0)
        self.token = lab.deploy_token(self.source, 6 * ETHER) if token else None
        lab.configure(tokens=() if self.token is None else ((self.token, "TKN"),))
        lab.pair()
        asset = "ETH" if self.token is None else "TKN"
        dest = lab.keys.address(6)
        rows = "".join(f"g{i},anvil,{asset},{dest},{i},\n" for i in (1, 2, 3))
        batch = lab.build_request("g", rows)
        ur = read_ur(sign_parts(batch.read_text().splitlines(), lab.keys), RESPONSES, source="r")
        first, _, third = EthBatchSignature.from_ur(ur).signatures
        partial = EthBatchSignature((first, third))
        lab.ok("import", str(lab.write("partial.txt", "\n".join(ur_lines(partial.to_ur())) + "\n")))
        lab.ok("broadcast")
        lab.ok("status")
        assert lab.statuses() == {"g1": "confirmed", "g2": "awaiting-signature", "g3": "broadcast"}

    def set_balance(self, wei: int) -> None:
        self.lab.node.rpc("anvil_setBalance", self.source, hex(wei))
        assert self.lab.node.balance(self.source) == wei

    def set_token_balance(self, units: int) -> None:
        assert self.token is not None
        slot = keccak256(
            parse_address(self.source, field="source").raw.rjust(32, b"\0")
            + BALANCES_SLOT.to_bytes(32, "big")
        )
        self.lab.node.rpc(
            "anvil_setStorageAt", self.token, "0x" + slot.hex(), "0x" + units.to_bytes(32).hex()
        )
        assert self.lab.token_balance(self.token, self.source) == units

    def request(self, withdrawal_id: str) -> TxRequest:
        """The request of ``withdrawal_id`` that may still be mined (not cancelled)."""
        store = Store.open(self.lab.home / "watcher.db")
        try:
            [live] = [
                r for r in store.requests_for(withdrawal_id) if r.status is not Status.CANCELLED
            ]
        finally:
            store.close()
        return live

    def refused(self, *args: str) -> tuple[int, str, int]:
        """The CLI refuses with build's exit status, one line, Store.dump() and the request
        files as they were; (balance, asset, needed) from that line."""
        before = (_store_dump(self.lab), self.lab.request_files())
        result = self.lab.cli(*args)
        assert result.code == EXIT_REFUSED, (result.code, result.out, result.err)
        [line] = result.err.strip().splitlines()
        assert (_store_dump(self.lab), self.lab.request_files()) == before
        found = NEEDS.search(line)
        assert found is not None, line
        return int(found[1]), found[2], int(found[3])


def _store_dump(lab: Lab) -> str:
    store = Store.open(lab.home / "watcher.db")
    try:
        return store.dump()
    finally:
        store.close()


def _cost(request: TxRequest) -> int:
    """Wei a request may spend if mined: its value plus its maximum fee."""
    return request.value + request.gas_limit * request.max_fee_per_gas


@pytest.fixture
def eth_gap(lab: Lab) -> FundsGap:
    return FundsGap(lab, token=False)


@pytest.fixture
def token_gap(lab: Lab) -> FundsGap:
    return FundsGap(lab, token=True)


def test_pay_is_refused_below_exactly_what_it_needs_and_accepted_at_it(eth_gap: FundsGap) -> None:
    eth_gap.set_balance(4 * ETHER)
    balance, asset, needed = eth_gap.refused("fill-gap", "g2", "--pay")
    assert (balance, asset) == (4 * ETHER, "ETH")
    # g3 (3 ETH, in flight) and the new g2 (2 ETH) plus their maximum fees.
    assert 5 * ETHER < needed < 5 * ETHER + ETHER // 100
    eth_gap.set_balance(needed - 1)
    assert eth_gap.refused("fill-gap", "g2", "--pay") == (needed - 1, "ETH", needed)
    eth_gap.set_balance(needed)
    eth_gap.lab.ok("fill-gap", "g2", "--pay")
    assert [p.name.endswith("-gap.txt") for p in eth_gap.lab.request_files()].count(True) == 1
    # Exactly what may be spent once the replacement is stored: g3 and the new g2, nothing else.
    assert needed == _cost(eth_gap.request("g3")) + _cost(eth_gap.request("g2"))


def test_the_replaced_request_is_not_counted_twice(eth_gap: FundsGap) -> None:
    # Counting the replaced g2 as well would need over 7 ETH.
    eth_gap.set_balance(5 * ETHER + ETHER // 100)
    eth_gap.lab.ok("fill-gap", "g2", "--pay")
    assert eth_gap.request("g2").value == 2 * ETHER


def test_cancel_is_refused_when_its_fee_is_not_covered(eth_gap: FundsGap) -> None:
    in_flight = _cost(eth_gap.request("g3"))
    eth_gap.set_balance(in_flight)
    balance, asset, needed = eth_gap.refused("fill-gap", "g2", "--cancel")
    assert (balance, asset) == (in_flight, "ETH")
    fee = needed - in_flight
    assert 0 < fee < ETHER // 100 and fee % 21_000 == 0
    assert eth_gap.lab.statuses()["g2"] == "awaiting-signature"
    # The fee alone, not the cancelled 2 ETH, on top of what is in flight.
    eth_gap.set_balance(needed)
    eth_gap.lab.ok("fill-gap", "g2", "--cancel")
    assert eth_gap.lab.statuses()["g2"] == "cancelled"
    cancel = eth_gap.request("g2")
    assert (cancel.value, cancel.gas_limit * cancel.max_fee_per_gas) == (0, fee)


def test_a_token_pay_needs_the_tokens_in_flight_plus_its_own(token_gap: FundsGap) -> None:
    assert token_gap.token is not None
    # The account holds 5 TKN after g1: g3 in flight and g2 again use them all; counting the
    # replaced g2 twice would need 7.
    assert token_gap.lab.token_balance(token_gap.token, token_gap.source) == 5 * ETHER
    token_gap.set_token_balance(5 * ETHER - 1)
    assert token_gap.refused("fill-gap", "g2", "--pay") == (5 * ETHER - 1, "TKN", 5 * ETHER)
    token_gap.set_token_balance(5 * ETHER)
    token_gap.lab.ok("fill-gap", "g2", "--pay")
    assert token_gap.lab.statuses()["g2"] == "awaiting-signature"


def test_a_token_cancel_needs_only_the_tokens_in_flight(token_gap: FundsGap) -> None:
    # g3's 3 TKN are still in flight; the cancelled g2's 2 TKN are not needed.
    token_gap.set_token_balance(3 * ETHER - 1)
    assert token_gap.refused("fill-gap", "g2", "--cancel") == (3 * ETHER - 1, "TKN", 3 * ETHER)
    token_gap.set_token_balance(3 * ETHER)
    token_gap.lab.ok("fill-gap", "g2", "--cancel")
    assert token_gap.lab.statuses()["g2"] == "cancelled"


def test_the_refusal_is_builds_error_class(eth_gap: FundsGap) -> None:
    eth_gap.set_balance(ETHER)
    home = eth_gap.lab.home
    config = load_config(home / "watcher.toml")
    store = Store.open(home / "watcher.db")
    transport = HttpTransport(eth_gap.lab.node.url)
    try:
        before = store.dump()
        kit = RequestKit(
            config,
            store,
            lambda chain: Node(transport),
            TextPartsWriter(home / "requests", config.max_fragment_length),
        )
        with pytest.raises(InsufficientBalanceError) as caught:
            GapFiller(kit).fill("g2", FillMode.PAY)
        assert (caught.value.asset, caught.value.available) == ("ETH", ETHER)
        assert caught.value.needed > 5 * ETHER
        assert store.dump() == before
    finally:
        transport.close()
        store.close()


def test_requests_folder_untouched_by_refusals(eth_gap: FundsGap) -> None:
    files = {p: p.read_bytes() for p in eth_gap.lab.request_files()}
    eth_gap.set_balance(0)
    eth_gap.refused("fill-gap", "g2", "--pay")
    eth_gap.refused("fill-gap", "g2", "--cancel")
    assert {p: p.read_bytes() for p in eth_gap.lab.request_files()} == files
    assert sorted(Path(eth_gap.lab.home / "requests").iterdir()) == sorted(files)
