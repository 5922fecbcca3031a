"""fill-gap on a real anvil: the replacement request's payload, its life cycle, and refusals.

The lab's eth-account signer answers; a partial response (one item left out, as the signer
does when its policy refuses it) makes the gap. The real signer's refusal is exercised in
test_watcher_real_signer.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from watcherlab import CSV_HEADER, RESPONSES, Lab, sign_parts, ur_lines

from shared.erc4527 import EthBatchSignature, EthBatchSignRequest, EthSignature, EthSignRequest
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
    [line] = [x for x in status.splitlines() if x.startswith("gap:")]
    assert line.startswith(f"gap: g2 holds nonce 1 of {gap.source} unsigned")
    assert line.endswith("(no signature imported yet; import any pending response first)")
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


def test_a_late_original_after_cancel_is_taken_and_the_withdrawal_is_paid(gap: Gap) -> None:
    # The signer signed g2 after all; its response turns up only after fill-gap --cancel.
    gap.lab.ok("fill-gap", "g2", "--cancel")
    assert gap.lab.statuses()["g2"] == "cancelled"
    gap.lab.ok("import", str(gap.left_out))
    assert gap.lab.statuses()["g2"] == "signed"
    status = gap.lab.ok("status", "--no-track").out
    assert "superseded: the late signature of the request it replaced was imported" in status
    assert "gap:" not in status
    gap.lab.ok("broadcast")
    status = gap.lab.ok("status").out
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}
    assert gap.lab.node.balance(gap.dest) - gap.before == 6 * 10**18
    assert gap.mined_nonce() == 3
    # The superseded cancel is never written again, and the next batch takes nonce 3.
    gap.lab.ok("build")
    assert [p.name.endswith("-gap.txt") for p in gap.lab.request_files()].count(True) == 1
    later = gap.lab.build_request("later", f"g4,anvil,ETH,{gap.dest},4,\n")
    assert _tx(later).nonce == 3
    gap.lab.ok("import", str(gap.lab.sign(later)))
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses()["g4"] == "confirmed"
    assert gap.mined_nonce() == 4


def test_the_superseded_cancel_s_signature_is_refused_afterwards(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--cancel")
    cancel = gap.lab.sign(gap.gap_file())
    gap.lab.ok("import", str(gap.left_out))
    gap.lab.refused("import", str(cancel), code=EXIT_INPUT, says="was superseded")
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}


def test_a_late_original_is_refused_once_the_cancel_is_signed(gap: Gap) -> None:
    out = gap.lab.ok("fill-gap", "g2", "--cancel").out
    cancel_id = out.split("(request ")[1].split(" ")[0]
    gap.lab.ok("import", str(gap.lab.sign(gap.gap_file())))
    line = gap.lab.refused("import", str(gap.left_out), code=EXIT_INPUT, says="holds nonce 1")
    assert f"request {cancel_id} (the zero-value self-transfer of fill-gap --cancel" in line
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "cancelled", "g3": "confirmed"}


def test_a_late_original_after_pay_is_taken_and_pays_once(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--pay")
    pay = gap.lab.sign(gap.gap_file())
    gap.lab.ok("import", str(gap.left_out))
    gap.lab.refused("import", str(pay), code=EXIT_INPUT, says="was superseded")
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}
    assert gap.lab.node.balance(gap.dest) - gap.before == 6 * 10**18


def test_a_late_original_after_two_cancels_supersedes_the_open_one(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--cancel")
    first = gap.lab.sign(gap.gap_file(), name="first-cancel.txt")
    gap.lab.ok("fill-gap", "g2", "--cancel")
    gap.lab.ok("import", str(gap.left_out))
    # The first cancel was cancelled by the second, which is superseded: neither imports.
    gap.lab.refused("import", str(first), code=EXIT_INPUT, says="is not awaiting a signature")
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}
    assert gap.lab.node.balance(gap.dest) - gap.before == 6 * 10**18


def test_a_response_signing_the_original_and_its_replacement_is_refused(gap: Gap) -> None:
    gap.lab.ok("fill-gap", "g2", "--cancel")
    lines = gap.lab.sign(gap.gap_file()).read_text().splitlines()
    cancel = EthSignature.from_ur(read_ur(lines, RESPONSES, source="c"))
    left_out = gap.left_out.read_text().splitlines()
    late = EthSignature.from_ur(read_ur(left_out, RESPONSES, source="l"))
    both = gap.lab.write("both.txt", "\n".join(ur_lines(EthBatchSignature((late, cancel)).to_ur())))
    gap.lab.refused("import", str(both), code=EXIT_INPUT, says="both sign nonce 1")


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
    failed = gap.lab.cli("fill-gap", "g2", "--pay")
    assert failed.code == EXIT_INPUT
    [line] = failed.err.strip().splitlines()
    assert "cannot write the request file" in line and "run build (or fill-gap)" in line
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


def test_a_late_original_supersedes_an_unwritten_cancel(gap: Gap) -> None:
    requests = gap.lab.home / "requests"
    aside = gap.lab.home / "requests-aside"
    requests.rename(aside)
    requests.write_text("not a folder")
    assert gap.lab.cli("fill-gap", "g2", "--cancel").code == EXIT_INPUT
    gap.lab.ok("import", str(gap.left_out))
    requests.unlink()
    aside.rename(requests)
    # The cancel was superseded while built: no request file is ever written for it.
    assert "nothing to build" in gap.lab.ok("build").out
    assert not [p for p in gap.lab.request_files() if p.name.endswith("-gap.txt")]
    gap.lab.refused("fill-gap", "g2", "--cancel", code=EXIT_REFUSED, says="it is signed")
    gap.lab.ok("broadcast")
    gap.lab.ok("status")
    assert gap.lab.statuses() == {"g1": "confirmed", "g2": "confirmed", "g3": "confirmed"}


def test_no_gap_line_when_nothing_later_waits(lab: Lab) -> None:
    lab.configure()
    lab.pair()
    lab.build_request("o", f"o1,anvil,ETH,{lab.keys.address(6)},1,\n")
    assert "gap:" not in lab.ok("status").out
