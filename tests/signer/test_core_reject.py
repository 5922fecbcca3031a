"""SignerCore.reject: an operator's rejection of a whole request is audited item by item, and
nothing is signed, unlocked, or recorded in the nonce ledger or the limits store."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from signerkit import OFFLINE, PASSPHRASE, eip1559, make_home, request, tx_request

from shared.erc4527 import DataType, EthBatchSignRequest, EthSignRequest
from shared.ur import UR
from signer.audit import AuditEntry, AuditKind, AuditLog
from signer.core import (
    OPERATOR_REJECTION,
    Outcome,
    PreparedRequest,
    SignerCore,
    vault_header,
)
from signer.errors import AuditError
from signer.home import SignerHome
from signer.intake import decode_request
from signer.keys.session import KeySession
from signer.keys.vault import Vault
from signer.ledger import Outcome as LedgerOutcome

ETHER = 10**18
STRANGER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
REASON = "rejected on the review screen"


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def prepare(home: SignerHome, core: SignerCore, requests: list[EthSignRequest]) -> PreparedRequest:
    ur: UR = (
        EthBatchSignRequest(tuple(requests)).to_ur() if len(requests) > 1 else requests[0].to_ur()
    )
    return core.prepare(
        decode_request(ur),
        policy=core.load_policy(),
        registries=home.registries(),
        header=vault_header(home),
    )


def entries(home: SignerHome) -> list[AuditEntry]:
    with AuditLog.open(home.audit_path) as audit:
        return list(audit.entries())


def decisions(home: SignerHome) -> list[Mapping[str, Any]]:
    return [entry.fields for entry in entries(home) if entry.kind == AuditKind.DECISION]


def unlock(home: SignerHome) -> KeySession:
    return Vault(home.vault_path).unlock(PASSPHRASE)


def never_unlock() -> KeySession:
    raise AssertionError("a rejection must not unlock the vault")


def test_a_rejected_batch_is_audited_item_by_item_and_nothing_signed(home: SignerHome) -> None:
    asked = [
        tx_request(eip1559(0, value=ETHER)),
        tx_request(eip1559(1, to=STRANGER)),
        request(b"\x04\xc0", DataType.TYPED_TRANSACTION, chain_id=1),
    ]
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(home, core, asked)
        assert prepared.items[0].signable
        result = core.reject(prepared, REASON)
        head = core.audit.head()
    assert result.signed == 0 and result.refused == 3 and result.response is None
    assert [item.outcome for item in result.items] == [Outcome.REFUSED] * 3
    assert all(item.signature is None and item.ledger is None for item in result.items)
    assert {item.reasons for item in result.items} == {(f"{OPERATOR_REJECTION}: {REASON}",)}
    assert (result.audit_head.seq, result.audit_head.head_hash) == head
    logged = entries(home)
    assert [entry.kind for entry in logged] == ["log-created", "batch", *["decision"] * 3]
    assert [item.audit_seq for item in result.items] == [entry.seq for entry in logged[2:]]
    audited = decisions(home)
    assert [entry["decision"] for entry in audited] == ["refused"] * 3
    assert [entry["reasons"] for entry in audited] == [(f"rejected by operator: {REASON}",)] * 3
    assert [entry["request"]["item"] for entry in audited] == [1, 2, 3]
    # The policy's own verdict on each item stays on record.
    assert [entry["verdict"]["decision"] for entry in audited] == ["sign", "refuse", "refuse"]
    assert audited[1]["verdict"]["codes"] == ("destination-not-allowed",)
    assert audited[2]["undecodable"] is not None
    assert all(entry["acknowledged"] is False for entry in audited)
    assert all(
        entry["ledger"] is None and entry["signature_digest"] is None and entry["limits"] is None
        for entry in audited
    )


def test_a_rejection_has_the_fields_of_every_other_decision(home: SignerHome) -> None:
    with SignerCore.open(home, probe=OFFLINE) as core:
        core.reject(prepare(home, core, [tx_request(eip1559(0))]), REASON)
        core.sign(prepare(home, core, [tx_request(eip1559(1))]), unlock=lambda: unlock(home))
        core.sign(prepare(home, core, [tx_request(eip1559(2, to=STRANGER))]), unlock=never_unlock)
    rejected, signed, refused = decisions(home)
    assert set(rejected) == set(signed) == set(refused)
    for name in ("request", "review", "verdict"):
        assert set(rejected[name]) == set(signed[name])


def test_a_rejection_unlocks_nothing_and_leaves_no_nonce_or_spend(home: SignerHome) -> None:
    with SignerCore.open(home, probe=OFFLINE) as core:
        core.reject(prepare(home, core, [tx_request(eip1559(7, value=8 * ETHER))]), REASON)
        assert core._limits.spent(now=int(time.time())) == {}
        # Another payload for the same nonce and the full window are still free.
        result = core.sign(
            prepare(home, core, [tx_request(eip1559(7, value=9 * ETHER))]),
            unlock=lambda: unlock(home),
        )
    assert result.signed == 1
    assert result.items[0].ledger is not None
    assert result.items[0].ledger.outcome is LedgerOutcome.NEW
    kinds = [entry.kind for entry in entries(home)]
    assert kinds == ["log-created", "decision", "unlock", "decision", "lock"]


def test_a_single_request_is_one_entry_without_a_batch_marker(home: SignerHome) -> None:
    with SignerCore.open(home, probe=OFFLINE) as core:
        result = core.reject(prepare(home, core, [tx_request(eip1559(0))]), REASON)
    assert [entry.kind for entry in entries(home)] == ["log-created", "decision"]
    assert result.items[0].audit_seq == 1


def test_a_reason_the_log_cannot_hold_is_refused_and_nothing_written(home: SignerHome) -> None:
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(home, core, [tx_request(eip1559(0)), tx_request(eip1559(1))])
        with pytest.raises(AuditError, match=r"fields.reasons\[0\] is not valid Unicode"):
            core.reject(prepared, "bad \ud800")
    assert [entry.kind for entry in entries(home)] == ["log-created"]
