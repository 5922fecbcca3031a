"""signer.core's records: the ledger, the limits store and the audit log stay consistent across
crashes, count each signed item once, and cost a bounded number of writes per batch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from signerkit import (
    OFFLINE,
    PASSPHRASE,
    POLICY,
    STANDARD,
    eip1559,
    make_home,
    tx_request,
)

from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from shared.ur import UR, UREncoder
from signer.airgap import check
from signer.audit import AuditLog
from signer.core import Outcome, SignerCore, SigningResult, vault_header
from signer.errors import LedgerError
from signer.home import SignerHome
from signer.intake import decode_request
from signer.keys.vault import Vault
from signer.ledger import Ledger, LedgerDecision, LedgerEntry
from signer.ledger import Outcome as LedgerOutcome
from signer.nonces import ledger_entry
from signer.policy.limits import LimitStore
from signer.policy.model import AssetKey

ROOT = Path(__file__).resolve().parents[2]
ETHER = 10**18
ETH = AssetKey(1, None)


def _ur(requests: list[EthSignRequest]) -> UR:
    if len(requests) == 1:
        return requests[0].to_ur()
    return EthBatchSignRequest(tuple(requests)).to_ur()


def sign(
    home: SignerHome, requests: list[EthSignRequest], core: SignerCore | None = None
) -> SigningResult:
    opened = core if core is not None else SignerCore.open(home, probe=OFFLINE)
    try:
        prepared = opened.prepare(
            decode_request(_ur(requests)),
            policy=opened.load_policy(),
            registries=home.registries(),
            header=vault_header(home),
        )
        vault = Vault(home.vault_path)
        return opened.sign(prepared, unlock=lambda: vault.unlock(PASSPHRASE))
    finally:
        opened.close()


def spent(home: SignerHome) -> dict[AssetKey, int]:
    with LimitStore.open(home.limits_path) as limits:
        return limits.spent(now=int(time.time()))


def decisions(home: SignerHome) -> list[Mapping[str, Any]]:
    with AuditLog.open(home.audit_path) as audit:
        return [entry.fields for entry in audit.entries() if entry.kind == "decision"]


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


# --- each signed item counted once -----------------------------------------------------------


def test_a_resign_and_a_fee_bump_count_the_spend_once(home: SignerHome) -> None:
    asked = tx_request(eip1559(0, value=5 * ETHER))
    first = sign(home, [asked])
    again = sign(home, [asked])
    bumped = sign(home, [tx_request(eip1559(0, value=5 * ETHER, maxFeePerGas=40 * 10**9))])
    outcomes = [r.items[0].ledger.outcome for r in (first, again, bumped) if r.items[0].ledger]
    assert outcomes == [LedgerOutcome.NEW, LedgerOutcome.IDENTICAL, LedgerOutcome.REPLACEMENT]
    assert spent(home) == {ETH: 5 * ETHER}
    ids = {entry["limits"]["spend_id"] for entry in decisions(home)}
    assert len(ids) == 1
    assert decisions(home)[0]["limits"]["spends"] == (
        {"chain_id": 1, "token": None, "amount": 5 * ETHER},
    )


def test_the_same_transfer_from_two_accounts_counts_twice(tmp_path: Path) -> None:
    policy = POLICY.replace(
        '[[account]]\npath = "m/44\'/60\'/0\'/0/0"\nlabel = "cold"\n',
        '[[account]]\npath = "m/44\'/60\'/0\'/0/0"\nlabel = "cold"\n\n'
        '[[account]]\npath = "m/44\'/60\'/0\'/0/1"\nlabel = "cold 2"\n',
    )
    home = make_home(tmp_path / "two", policy)
    tx = eip1559(3, value=2 * ETHER)
    # One request each (in one batch the repeated payment would need a confirmation).
    results = [sign(home, [tx_request(tx, path)]) for path in STANDARD[:2]]
    assert [result.items[0].outcome for result in results] == [Outcome.SIGNED, Outcome.SIGNED]
    assert spent(home) == {ETH: 4 * ETHER}


def test_refused_items_record_no_spend(home: SignerHome) -> None:
    stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    sign(home, [tx_request(eip1559(0, value=ETHER, to=stranger))])
    assert spent(home) == {}
    assert decisions(home)[0]["limits"] is None


# --- a crash between the records ------------------------------------------------------------

_CRASHING_SIGNER = textwrap.dedent(
    """
    import os
    import sys
    from signer.airgap import InterfaceKind, InterfaceState, check
    from signer.audit import AuditLog
    from signer.core import SignerCore, open_audit, vault_header
    from signer.home import SignerHome
    from signer.intake import decode_parts
    from signer.keys.vault import Vault
    from signer.ledger import Ledger
    from signer.policy.limits import LimitStore

    home_dir, parts_file, passphrase, crash_at = sys.argv[1:5]

    class Loopback:
        def interfaces(self):
            return [InterfaceState("lo", True, InterfaceKind.LOOPBACK)]

        def radios(self):
            return []

    class CrashingLimits(LimitStore):
        # Dies as the process would if killed after the ledger's commit.
        def record(self, *args, **kwargs):
            os._exit(17)

        def record_signed(self, *args, **kwargs):
            if crash_at == "limits":
                os._exit(17)
            return LimitStore.record_signed(self, *args, **kwargs)

    class CrashingAudit(AuditLog):
        def append_many(self, records):
            if crash_at == "audit":
                os._exit(17)
            return AuditLog.append_many(self, records)

    home = SignerHome.resolve(home_dir)
    open_audit(home).close()
    audit = CrashingAudit.open(home.audit_path)
    core = SignerCore(
        home,
        check(Loopback(), allow_online=False),
        audit,
        Ledger.open(home.ledger_path),
        CrashingLimits.open(home.limits_path),
        clock=__import__("time").time,
    )
    with open(parts_file) as stream:
        decoded = decode_parts(stream.read().splitlines())
    prepared = core.prepare(
        decoded, policy=core.load_policy(), registries=home.registries(),
        header=vault_header(home),
    )
    core.sign(prepared, unlock=lambda: Vault(home.vault_path).unlock(passphrase))
    sys.exit(0)
    """
)


def crash_while_signing(home: SignerHome, requests: list[EthSignRequest], at: str) -> None:
    encoder = UREncoder(_ur(requests), 400)
    parts = home.root.parent / "request.txt"
    parts.write_text("\n".join(encoder.parts(encoder.seq_len)) + "\n")
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING_SIGNER, str(home.root), str(parts), PASSPHRASE, at],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 17, done.stderr


@pytest.mark.parametrize("crash_at", ["limits", "audit"])
def test_a_crash_after_the_ledger_commit_is_made_good_by_signing_again(
    home: SignerHome, crash_at: str
) -> None:
    # At the 24-hour limit (12 ETH): 5 signed before, then 4 + 3 in the request that crashes.
    # After a crash at "limits" the store holds 5 and the re-sign is judged as new (5 + 7);
    # after one at "audit" it holds 12, 7 of them under the re-signed items' own spend ids.
    sign(home, [tx_request(eip1559(0, value=5 * ETHER))])
    asked = [tx_request(eip1559(1, value=4 * ETHER)), tx_request(eip1559(2, value=3 * ETHER))]
    crash_while_signing(home, asked, crash_at)
    with Ledger.open(home.ledger_path) as ledger:
        # The ledger committed: both nonces are taken.
        assert ledger.check(_entry_of(home, asked[0])).outcome is LedgerOutcome.IDENTICAL
    expected_before = {ETH: 5 * ETHER} if crash_at == "limits" else {ETH: 12 * ETHER}
    assert spent(home) == expected_before
    assert [entry["decision"] for entry in decisions(home)] == ["signed"]
    # Signing the same request again: identical re-signs, and every record catches up.
    result = sign(home, asked)
    assert [item.outcome for item in result.items] == [Outcome.SIGNED, Outcome.SIGNED]
    assert {item.ledger.outcome for item in result.items if item.ledger} == {
        LedgerOutcome.IDENTICAL
    }
    assert spent(home) == {ETH: 12 * ETHER}
    assert [entry["decision"] for entry in decisions(home)] == ["signed"] * 3
    # So the 24-hour window (12 ETH) is full: one more wei at another nonce is over it.
    late = sign(home, [tx_request(eip1559(3, value=1))])
    assert late.items[0].outcome is Outcome.REFUSED
    assert "per_24h" in " ".join(late.items[0].reasons)


def _entry_of(home: SignerHome, asked: EthSignRequest) -> LedgerEntry:
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = core.prepare(
            decode_request(asked.to_ur()),
            policy=core.load_policy(),
            registries=home.registries(),
            header=vault_header(home),
        )
    item = prepared.items[0]
    assert item.review is not None and item.computed is not None and item.account is not None
    entry = ledger_entry(item.review, item.computed, item.account.address.raw, None)
    assert entry is not None
    return entry


# --- bounded writes per batch ---------------------------------------------------------------


class CountingLedger(Ledger):
    calls: list[str]

    def record(self, entry: LedgerEntry) -> LedgerDecision:
        self.calls.append("record")
        return super().record(entry)

    def record_many(self, entries: Any) -> tuple[LedgerDecision | LedgerError, ...]:
        self.calls.append("record_many")
        return super().record_many(entries)


class CountingLimits(LimitStore):
    calls: list[str]

    def record(self, *args: Any, **kwargs: Any) -> None:
        self.calls.append("record")
        super().record(*args, **kwargs)

    def record_signed(self, items: Any, *, now: int, reference: bytes = b"") -> int:
        self.calls.append("record_signed")
        return super().record_signed(items, now=now, reference=reference)


def writes_for_a_batch(
    home: SignerHome, size: int, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], int, int]:
    """The storage calls, the audit log's fsyncs and the decisions of signing ``size`` items."""
    asked = [tx_request(eip1559(nonce, value=10**12)) for nonce in range(size)]
    calls: list[str] = []
    fsyncs: list[int] = []
    real_fsync: Callable[[int], None] = os.fsync

    def counting(fd: int) -> None:
        fsyncs.append(fd)
        real_fsync(fd)

    audit = AuditLog.open(home.audit_path)
    ledger = CountingLedger.open(home.ledger_path)
    limits = CountingLimits.open(home.limits_path)
    assert isinstance(ledger, CountingLedger) and isinstance(limits, CountingLimits)
    ledger.calls = limits.calls = calls
    core = SignerCore(
        home,
        check(OFFLINE, allow_online=False),
        audit,
        ledger,
        limits,
        clock=lambda: 1_800_000_000.0,
    )
    before = len(decisions(home))
    monkeypatch.setattr(os, "fsync", counting)
    result = sign(home, asked, core)
    monkeypatch.undo()
    assert result.signed == size
    return calls, len(fsyncs), len(decisions(home)) - before


def test_a_batch_costs_the_same_writes_whatever_its_size(
    home: SignerHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = writes_for_a_batch(home, 2, monkeypatch)
    large = writes_for_a_batch(make_home(tmp_path / "large"), 60, monkeypatch)
    # One ledger transaction and one limits transaction per batch, never one per item.
    assert small[0] == large[0] == ["record_many", "record_signed"]
    # The audit log's fsyncs (the unlock entry, the decisions in one write, the lock entry)
    # and the vault's (its failed-unlock counter) do not grow with the batch.
    assert small[1] == large[1] <= 16
    # And still one decision entry per item.
    assert (small[2], large[2]) == (2, 60)
