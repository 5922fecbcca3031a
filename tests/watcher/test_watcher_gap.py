"""fill-gap on a real anvil: the replacement request's payload, its life cycle, and refusals.

The lab's eth-account signer answers; a partial response (one item left out, as the signer
does when its policy refuses it) makes the gap. The real signer's refusal is exercised in
test_watcher_real_signer.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from watcherlab import CSV_HEADER, RESPONSES, Lab, sign_parts, ur_lines

from shared.erc4527 import EthBatchSignature, EthBatchSignRequest, EthSignRequest
from shared.tx import DATA_TYPE_TYPED, DynamicFeeTransaction, decode_transaction
from watcher.parts import read_ur

EXIT_INPUT, EXIT_REFUSED = 2, 4


def _tx(path: Path) -> DynamicFeeTransaction:
    ur = read_ur(path.read_text().splitlines(), frozenset({"eth-sign-request"}), source="req")
    tx = decode_transaction(EthSignRequest.from_ur(ur).sign_data, DATA_TYPE_TYPED)
    assert isinstance(tx, DynamicFeeTransaction)
    return tx


def _batch_txs(path: Path) -> list[DynamicFeeTransaction]:
    ur = read_ur(path.read_text().splitlines(), frozenset({"eth-batch-sign-request"}), source="r")
    txs = []
    for request in EthBatchSignRequest.from_ur(ur).requests:
        tx = decode_transaction(request.sign_data, DATA_TYPE_TYPED)
        assert isinstance(tx, DynamicFeeTransaction)
        txs.append(tx)
    return txs


class Gap:
    """Three withdrawals of one account; the signer answers the first and the third only."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        lab.configure()
        lab.pair()
        self.source = lab.keys.address(0)
        self.dest = lab.keys.address(6)
        self.before = lab.node.balance(self.dest)
        rows = "".join(f"g{i},anvil,ETH,{self.dest},{i},\n" for i in (1, 2, 3))
        self.batch = lab.build_request("g", rows)
        ur = read_ur(
            sign_parts(self.batch.read_text().splitlines(), lab.keys), RESPONSES, source="r"
        )
        signatures = EthBatchSignature.from_ur(ur).signatures
        self.left_out = lab.write("item-2.txt", "\n".join(ur_lines(signatures[1].to_ur())) + "\n")
        partial = EthBatchSignature((signatures[0], signatures[2]))
        lab.ok("import", str(lab.write("partial.txt", "\n".join(ur_lines(partial.to_ur())) + "\n")))
        lab.ok("broadcast")

    def gap_file(self) -> Path:
        [path] = [p for p in self.lab.request_files() if p.name.endswith("-gap.txt")]
        return path

    def sign_gap(self) -> None:
        self.lab.ok("import", str(self.lab.sign(self.gap_file())))
        self.lab.ok("broadcast")

    def mined_nonce(self) -> int:
        return int(self.lab.node.rpc("eth_getTransactionCount", self.source, "latest"), 16)


@pytest.fixture
def gap(lab: Lab) -> Gap:
    return Gap(lab)


def test_the_gap_holds_back_later_nonces_and_status_names_it(gap: Gap) -> None:
    status = gap.lab.ok("status").out
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "awaiting-signature", "g3": "broadcast"}
    assert f"gap: g2 holds nonce 1 of {gap.source} unsigned" in status
    assert gap.mined_nonce() == 1


def test_fill_gap_pay_requests_the_same_call_at_the_same_nonce(gap: Gap) -> None:
    old = _batch_txs(gap.batch)[1]
    out = gap.lab.ok("fill-gap", "g2", "--pay").out
    assert "withdrawal g2: nonce 1 re-requested as the same payment" in out
    new = _tx(gap.gap_file())
    assert (new.nonce, new.to, new.value, new.data, new.gas_limit, new.chain_id) == (
        old.nonce,
        old.to,
        old.value,
        old.data,
        old.gas_limit,
        old.chain_id,
    )
    assert new.max_fee_per_gas >= old.max_fee_per_gas
    assert new.max_priority_fee_per_gas >= old.max_priority_fee_per_gas
    gap.sign_gap()
    status = gap.lab.ok("status").out
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}
    assert "gap:" not in status
    assert gap.lab.node.balance(gap.dest) - gap.before == 6 * 10**18


def test_fill_gap_cancel_sends_nothing_to_anyone_and_cancels_the_withdrawal(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--cancel")
    assert gap.lab.statuses()["g2"] == "cancelled"
    tx = _tx(gap.gap_file())
    assert tx.to is not None
    assert (tx.nonce, tx.to.checksummed(), tx.value, tx.data, tx.gas_limit) == (
        1,
        gap.source,
        0,
        b"",
        21_000,
    )
    gap.sign_gap()
    status = gap.lab.ok("status").out
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "cancelled", "g3": "confirmed"}
    assert "g2" in status and "nonce 1 filled by a self-transfer: confirmed 0x" in status
    assert gap.lab.node.balance(gap.dest) - gap.before == 4 * 10**18
    assert gap.mined_nonce() == 3


def test_a_late_signature_for_the_replaced_request_is_refused(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--pay")
    gap.lab.refused("import", str(gap.left_out), code=EXIT_INPUT, says="is not awaiting")


def test_a_refused_cancel_is_filled_again_with_cancel(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--cancel")
    first = gap.gap_file()
    gap.lab.refused("fill-gap", "g2", "--pay", code=EXIT_REFUSED, says="only be filled with")
    gap.lab.ok("fill-gap", "g2", "--cancel")
    [second] = [p for p in gap.lab.request_files() if p.name.endswith("-gap.txt") and p != first]
    to = _tx(second).to
    assert to is not None and to.checksummed() == gap.source
    gap.lab.ok("import", str(gap.lab.sign(second)))
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "cancelled", "g3": "confirmed"}


@pytest.mark.parametrize(
    ("withdrawal", "says"),
    [
        ("nope", "withdrawal nope: no such withdrawal"),
        ("g1", "withdrawal g1: it is confirmed and none of its requests awaits a signature"),
        ("g3", "withdrawal g3: it is broadcast"),
    ],
)
def test_fill_gap_refuses_a_withdrawal_without_an_unsigned_nonce(
    gap: Gap, withdrawal: str, says: str
) -> None:
    gap.lab.ok("status")
    gap.lab.refused("fill-gap", withdrawal, "--pay", code=EXIT_REFUSED, says=says)


def test_fill_gap_refuses_a_received_withdrawal(gap: Gap) -> None:
    gap.lab.ok("intake", str(gap.lab.write("r.csv", CSV_HEADER + f"r1,anvil,ETH,{gap.dest},1,\n")))
    gap.lab.refused("fill-gap", "r1", "--cancel", code=EXIT_REFUSED, says="it is received")


def test_fill_gap_refuses_a_nonce_the_chain_used_already(gap: Gap) -> None:
    # Another program spends nonce 1 (anvil's dev accounts are unlocked).
    sent = gap.lab.node.rpc(
        "eth_sendTransaction", {"from": gap.source, "to": gap.dest, "value": "0x1", "nonce": "0x1"}
    )
    gap.lab.node.receipt(sent)
    gap.lab.refused("fill-gap", "g2", "--pay", code=EXIT_REFUSED, says="was used on chain already")


@pytest.mark.parametrize("flags", [(), ("--pay", "--cancel")])
def test_fill_gap_needs_exactly_one_mode(gap: Gap, flags: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit) as exited:
        gap.lab.cli("fill-gap", "g2", *flags)
    assert exited.value.code == 2


def test_an_interrupted_fill_gap_writes_its_file_on_the_next_run(gap: Gap) -> None:
    requests = gap.lab.home / "requests"
    aside = gap.lab.home / "requests-aside"
    requests.rename(aside)
    requests.write_text("not a folder: the request file cannot be written")
    with pytest.raises(OSError):
        gap.lab.cli("fill-gap", "g2", "--pay")
    # Committed: the old request is cancelled, the new one built, no file yet.
    assert gap.lab.statuses()["g2"] == "awaiting-signature"
    requests.unlink()
    aside.rename(requests)
    out = gap.lab.ok("fill-gap", "g2", "--pay").out
    assert "an interrupted request file was written" in out
    assert len([p for p in gap.lab.request_files() if p.name.endswith("-gap.txt")]) == 1
    gap.sign_gap()
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}


def test_no_gap_line_when_nothing_later_waits(lab: Lab) -> None:
    lab.configure()
    lab.pair()
    lab.build_request("o", f"o1,anvil,ETH,{lab.keys.address(6)},1,\n")
    assert "gap:" not in lab.ok("status").out
