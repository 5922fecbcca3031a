"""The signing path's caches and shortcuts: each gives what the uncached computation gives, and
the key cache dies with the session (lock, idle auto-lock)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from signerkit import PASSPHRASE, RECIPIENT, STANDARD, eip1559, make_vault, tx_request

from shared.erc4527 import EthBatchSignRequest
from shared.registry import default_registries
from shared.review import review_request
from signer.audit.record import AuditKind, canonical_json, make_entry, parse_line
from signer.errors import VaultLockedError
from signer.intake import decode_request
from signer.keys.session import KeySession
from signer.nonces import ledger_entry
from signer.signing import compute_digest

IDLE = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def session(tmp_path: Path, clock: Clock) -> KeySession:
    vault = make_vault(tmp_path / "vault.json")
    return vault.unlock(PASSPHRASE, idle_timeout=IDLE, session_clock=clock)


# --- the key cache ----------------------------------------------------------------------------


def test_the_cached_key_signs_exactly_as_a_fresh_one(session: KeySession, clock: Clock) -> None:
    digest = bytes(range(32))
    first = session._sign_computed_digest(STANDARD[0], digest)
    assert set(session._signers) == {STANDARD[0]}
    cached = session._signer(STANDARD[0])
    assert session._sign_computed_digest(STANDARD[0], digest) == first
    assert session._signer(STANDARD[0]) is cached  # built once per path
    assert cached.secret == bytes(session._keys[STANDARD[0]])


def test_lock_drops_the_key_cache(session: KeySession) -> None:
    session._sign_computed_digest(STANDARD[0], bytes(32))
    session._sign_computed_digest(STANDARD[1], bytes(32))
    assert len(session._signers) == 2
    session.lock()
    assert session._signers == {} and session._keys == {}
    with pytest.raises(VaultLockedError):
        session._sign_computed_digest(STANDARD[0], bytes(32))
    assert session._signers == {}


def test_the_idle_auto_lock_drops_the_key_cache(session: KeySession, clock: Clock) -> None:
    session._sign_computed_digest(STANDARD[0], bytes(32))
    clock.now += IDLE
    with pytest.raises(VaultLockedError):
        session._sign_computed_digest(STANDARD[0], bytes(32))
    assert session._signers == {} and session._keys == {}


# --- decoding shortcuts -----------------------------------------------------------------------


def test_an_unattested_request_covers_its_received_bytes() -> None:
    requests = (tx_request(eip1559(0)), tx_request(eip1559(1)))
    batch = decode_request(EthBatchSignRequest(requests).to_ur())
    assert batch.attested_cbor == EthBatchSignRequest(batch.requests).attested_cbor()
    single = decode_request(requests[0].to_ur())
    assert single.attested_cbor == single.requests[0].attested_cbor()


LEGACY = {
    "chainId": 1,
    "nonce": 4,
    "gasPrice": 9 * 10**9,
    "gas": 21000,
    "to": RECIPIENT,
    "value": 1,
    "data": b"",
}


@pytest.mark.parametrize(
    "tx",
    [eip1559(3), LEGACY, {**LEGACY, "type": 1, "nonce": 5, "accessList": []}],
    ids=["eip-1559", "legacy", "eip-2930"],
)
def test_the_ledger_entry_from_the_request_bytes_equals_the_encoded_one(tx: dict[str, Any]) -> None:
    asked = tx_request(tx)
    review = review_request(asked, default_registries())
    computed = compute_digest(asked, transaction=review.subject.transaction)
    account = bytes(20)
    assert ledger_entry(
        review, computed, account, None, unsigned_payload=asked.sign_data
    ) == ledger_entry(review, computed, account, None)


# --- the audit entry's body, computed once --------------------------------------------------


def test_an_entry_carries_the_body_it_was_hashed_with() -> None:
    made = make_entry(3, bytes(32), AuditKind.DECISION, 9, {"a": [1, {"b": "c"}], "d": None})
    assert made.body() == canonical_json({"fields": made.fields, "kind": "decision", "time": 9})
    parsed = parse_line(made.line())
    assert parsed == made and parsed.body() == made.body()
    rebuilt = dataclasses.replace(made, encoded_body=b"")
    assert rebuilt == made and rebuilt.body() == made.body()
