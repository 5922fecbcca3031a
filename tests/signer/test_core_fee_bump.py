"""A fee bump or re-sign near the 24-hour limit, end to end through SignerCore and the CLI.

The tests' policy allows 10 ETH per transaction and 12 ETH per 24 hours on chain 1. A request
the limits store already counted under its spend id (the nonce key and the fee-neutral digest)
is judged by what it pays beyond that, so a bump of a 10 ETH transfer is signed; anything
else at the same nonce, or at another nonce, is judged as a new spend.
"""

from __future__ import annotations

import io
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from signerkit import OFFLINE, PASSPHRASE, eip1559, make_home, tx_request

from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from shared.ur import UR, UREncoder
from signer.airgap import check
from signer.audit import AuditLog
from signer.cli import EXIT_OK, Environment, main
from signer.core import Outcome, PreparedRequest, SignerCore, SigningResult, vault_header
from signer.home import SignerHome
from signer.intake import decode_request
from signer.keys.kdf import MIN_PARAMS
from signer.keys.vault import Vault
from signer.ledger import Ledger
from signer.ledger import Outcome as LedgerOutcome
from signer.policy.limits import LimitStore
from signer.policy.model import AssetKey
from signer.policy.verdict import Decision

ETHER = 10**18
GWEI = 10**9
ETH = AssetKey(1, None)
WINDOW_LIMIT = "window-limit"


def _ur(requests: list[EthSignRequest]) -> UR:
    if len(requests) == 1:
        return requests[0].to_ur()
    return EthBatchSignRequest(tuple(requests)).to_ur()


def prepare(core: SignerCore, home: SignerHome, requests: list[EthSignRequest]) -> PreparedRequest:
    return core.prepare(
        decode_request(_ur(requests)),
        policy=core.load_policy(),
        registries=home.registries(),
        header=vault_header(home),
    )


def sign(home: SignerHome, requests: list[EthSignRequest]) -> SigningResult:
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(core, home, requests)
        vault = Vault(home.vault_path)
        return core.sign(prepared, unlock=lambda: vault.unlock(PASSPHRASE))


def spent(home: SignerHome) -> dict[AssetKey, int]:
    with LimitStore.open(home.limits_path) as limits:
        return limits.spent(now=int(time.time()))


def decisions(home: SignerHome) -> list[Mapping[str, Any]]:
    with AuditLog.open(home.audit_path) as audit:
        return [entry.fields for entry in audit.entries() if entry.kind == "decision"]


def transfer(nonce: int, ether: int, **changes: Any) -> EthSignRequest:
    return tx_request(eip1559(nonce, value=ether * ETHER, **changes))


def outcomes(result: SigningResult) -> list[Outcome]:
    return [item.outcome for item in result.items]


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def test_a_fee_bump_at_the_limit_is_signed_and_counted_once(home: SignerHome) -> None:
    assert outcomes(sign(home, [transfer(0, 10)])) == [Outcome.SIGNED]
    # 10 + 10 would cross 12; the bump replaces the 10 it counted, so it adds nothing.
    bumped = sign(home, [transfer(0, 10, maxFeePerGas=45 * GWEI)])
    assert outcomes(bumped) == [Outcome.SIGNED]
    ledger = bumped.items[0].ledger
    assert ledger is not None and ledger.outcome is LedgerOutcome.REPLACEMENT
    # And a bump of the bump, priority fee too.
    again = sign(home, [transfer(0, 10, maxFeePerGas=60 * GWEI, maxPriorityFeePerGas=2 * GWEI)])
    assert outcomes(again) == [Outcome.SIGNED]
    assert spent(home) == {ETH: 10 * ETHER}
    audited = decisions(home)
    assert len({entry["limits"]["spend_id"] for entry in audited}) == 1
    # What remains of the window is still 2 ETH.
    assert outcomes(sign(home, [transfer(1, 3)])) == [Outcome.REFUSED]
    assert outcomes(sign(home, [transfer(1, 2)])) == [Outcome.SIGNED]
    assert spent(home) == {ETH: 12 * ETHER}


def test_the_same_request_again_at_the_limit_is_signed(home: SignerHome) -> None:
    # The response was lost on the way to the watcher: the operator scans the request again.
    asked = [transfer(0, 7), transfer(1, 5)]
    first, second = sign(home, asked), sign(home, asked)
    assert outcomes(first) == outcomes(second) == [Outcome.SIGNED, Outcome.SIGNED]
    assert {item.ledger.outcome for item in second.items if item.ledger} == {
        LedgerOutcome.IDENTICAL
    }
    assert first.response is not None and second.response is not None
    assert spent(home) == {ETH: 12 * ETHER}


def test_a_different_payload_at_the_same_nonce_gets_no_discount(home: SignerHome) -> None:
    sign(home, [transfer(0, 10)])
    # The same value with another gas limit is another transaction: another fee-neutral
    # digest, another spend id, so the policy counts 10 + 10 and refuses it itself.
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(core, home, [transfer(0, 10, gas=30_000)])
    (other,) = prepared.items
    assert other.verdict.refusal_codes() == {WINDOW_LIMIT}
    (hit,) = other.verdict.refusals
    assert "of them by this transaction" not in hit.reason
    assert f"{10 * ETHER} more would exceed" in hit.reason
    result = sign(home, [transfer(0, 10, gas=30_000)])
    assert outcomes(result) == [Outcome.REFUSED]
    assert decisions(home)[-1]["verdict"]["codes"] == (WINDOW_LIMIT,)
    # A smaller payment at that nonce fits the window, and the ledger refuses it.
    smaller = sign(home, [transfer(0, 2)])
    assert outcomes(smaller) == [Outcome.REFUSED]
    assert "different payload" in smaller.items[0].reasons[0]
    assert spent(home) == {ETH: 10 * ETHER}


def test_two_nonces_still_add_up(home: SignerHome) -> None:
    sign(home, [transfer(0, 10)])
    result = sign(home, [transfer(1, 10)])
    assert outcomes(result) == [Outcome.REFUSED]
    assert decisions(home)[-1]["verdict"]["codes"] == (WINDOW_LIMIT,)
    assert spent(home) == {ETH: 10 * ETHER}


def test_in_a_batch_a_bump_adds_nothing_and_other_nonces_add(home: SignerHome) -> None:
    sign(home, [transfer(0, 8)])
    # The bump of nonce 0 adds nothing; nonce 1 adds 4 (8 + 4 = 12); nonce 2 crosses 12.
    batch = [transfer(0, 8, maxFeePerGas=45 * GWEI), transfer(1, 4), transfer(2, 1)]
    result = sign(home, batch)
    assert outcomes(result) == [Outcome.SIGNED, Outcome.SIGNED, Outcome.REFUSED]
    assert decisions(home)[-1]["verdict"]["codes"] == (WINDOW_LIMIT,)
    assert spent(home) == {ETH: 12 * ETHER}


def test_prepare_names_the_spend_id_sign_records_and_asks_the_store_once(
    home: SignerHome,
) -> None:
    sign(home, [transfer(0, 5)])
    asked = [transfer(0, 5, maxFeePerGas=45 * GWEI), transfer(1, 1), transfer(2, 1)]
    calls: list[int] = []

    class CountingLimits(LimitStore):
        def counted(self, spend_ids: Any, *, now: int) -> dict[bytes, dict[AssetKey, int]]:
            calls.append(len(spend_ids))
            return super().counted(spend_ids, now=now)

    core = SignerCore(
        home,
        check(OFFLINE, allow_online=False),
        AuditLog.open(home.audit_path),
        Ledger.open(home.ledger_path),
        CountingLimits.open(home.limits_path),
        clock=time.time,
    )
    with core:
        prepared = prepare(core, home, asked)
        assert calls == [3]
        assert [item.verdict.decision for item in prepared.items] == [Decision.SIGN] * 3
        vault = Vault(home.vault_path)
        result = core.sign(prepared, unlock=lambda: vault.unlock(PASSPHRASE))
    assert calls == [3]
    assert result.signed == 3
    recorded = [entry["limits"]["spend_id"] for entry in decisions(home)[1:]]
    assert recorded == [item.spend_id.hex() for item in prepared.items if item.spend_id]
    # The bump shares the original's spend id; the others have their own.
    assert recorded[0] == decisions(home)[0]["limits"]["spend_id"]
    assert len(set(recorded)) == 3


def test_coldsign_signer_sign_signs_a_fee_bump_at_the_limit(
    home: SignerHome, tmp_path: Path
) -> None:
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_text(PASSPHRASE + "\n")
    for name, asked in (
        ("original", transfer(0, 10)),
        ("bump", transfer(0, 10, maxFeePerGas=45 * GWEI)),
    ):
        source, out = tmp_path / f"{name}.txt", tmp_path / f"{name}-signature.txt"
        encoder = UREncoder(asked.to_ur(), 120)
        source.write_text("\n".join(encoder.parts(encoder.seq_len)) + "\n")
        stdout, stderr = io.StringIO(), io.StringIO()
        environment = Environment(
            stdout, stderr, OFFLINE, lambda prompt: "", kdf=MIN_PARAMS, terminal=False
        )
        argv = ["sign", "--home", str(home.root), "--in", str(source), "--out", str(out)]
        status = main([*argv, "--passphrase-file", str(passphrase)], environment=environment)
        assert status == EXIT_OK, (name, stdout.getvalue(), stderr.getvalue())
        assert "signed 1 of 1" in stdout.getvalue()
        assert out.exists()
    assert spent(home) == {ETH: 10 * ETHER}
    assert [entry["ledger"]["outcome"] for entry in decisions(home)] == ["new", "replacement"]
