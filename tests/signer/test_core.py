"""signer.core: the pipeline's decisions, the ledger and limits wiring, and the audit trail."""

from __future__ import annotations

import gc
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st
from signerkit import (
    OFFLINE,
    ONLINE,
    PASSPHRASE,
    POLICY,
    STANDARD,
    FakeProbe,
    eip1559,
    eth_key,
    make_home,
    request,
    tx_request,
)

from shared.address import Address
from shared.erc4527 import (
    DataType,
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    EthSignRequest,
)
from shared.errors import DecodeError
from shared.tx import decode_transaction
from shared.ur import UR, UREncoder
from signer.audit import AuditEntry, AuditLog
from signer.core import Outcome, PreparedRequest, SignerCore, SigningResult, vault_header
from signer.errors import AirGapError, AuditTamperedError, WrongPassphraseError
from signer.evidence import review_digest
from signer.home import SignerHome
from signer.intake import decode_parts, decode_request
from signer.keys.paths import Scheme, scheme_path
from signer.keys.session import KeySession
from signer.keys.vault import Vault
from signer.ledger import Outcome as LedgerOutcome
from signer.ledger import payload_digest
from signer.policy.attestation import attestation_message
from signer.policy.verdict import Decision

ETHER = 10**18
LOGIN = "Sign in to coldsign.example"


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


class Unlocker:
    """Unlocks the home's vault when called, and remembers the sessions it opened."""

    def __init__(self, home: SignerHome, passphrase: str = PASSPHRASE) -> None:
        self.vault = Vault(home.vault_path)
        self.passphrase = passphrase
        self.sessions: list[KeySession] = []

    def __call__(self) -> KeySession:
        session = self.vault.unlock(self.passphrase)
        self.sessions.append(session)
        return session


def _ur(requests: list[EthSignRequest], batch: bool) -> UR:
    if batch:
        return EthBatchSignRequest(tuple(requests)).to_ur()
    return requests[0].to_ur()


def prepare(home: SignerHome, core: SignerCore, ur: UR) -> PreparedRequest:
    return core.prepare(
        decode_request(ur),
        policy=core.load_policy(),
        registries=home.registries(),
        header=vault_header(home),
    )


def run(
    home: SignerHome,
    requests: list[EthSignRequest],
    *,
    batch: bool = False,
    acks: Mapping[int, str] | None = None,
    unlock: Unlocker | None = None,
) -> tuple[PreparedRequest, SigningResult]:
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(home, core, _ur(requests, batch))
        result = core.sign(prepared, unlock=unlock or Unlocker(home), acknowledgements=acks)
    return prepared, result


def entries(home: SignerHome) -> list[AuditEntry]:
    with AuditLog.open(home.audit_path) as audit:
        return list(audit.entries())


def decisions(home: SignerHome) -> list[Mapping[str, Any]]:
    return [entry.fields for entry in entries(home) if entry.kind == "decision"]


def _raw(requested: EthSignRequest, signature: EthSignature) -> bytes:
    tx = decode_transaction(requested.sign_data, int(requested.data_type))
    r, s = int.from_bytes(signature.r, "big"), int.from_bytes(signature.s, "big")
    return tx.signed_payload(signature.v, r, s)


# --- signing and the response ----------------------------------------------------------------


def test_allowed_transfer_is_signed_and_answered(home: SignerHome) -> None:
    tx = eip1559(0, value=ETHER)
    asked = tx_request(tx)
    _, result = run(home, [asked])
    assert [item.outcome for item in result.items] == [Outcome.SIGNED]
    assert result.response is not None and result.response.type == "eth-signature"
    response = EthSignature.from_ur(result.response)
    assert response.request_id == asked.request_id
    assert response.audit_head == result.audit_head
    expected = eth_key(STANDARD[0]).sign_transaction(tx)
    assert _raw(asked, response) == bytes(expected.raw_transaction)
    with AuditLog.open(home.audit_path) as audit:
        assert audit.head() == (result.audit_head.seq, result.audit_head.head_hash)


def test_signed_decision_is_audited_with_every_digest(home: SignerHome) -> None:
    asked = tx_request(eip1559(0))
    prepared, result = run(home, [asked])
    (entry,) = decisions(home)
    signature = EthSignature.from_ur(result.response) if result.response else None
    assert signature is not None
    assert entry["decision"] == "signed"
    assert entry["request"]["digest"] == hashlib.sha256(prepared.decoded.ur.cbor).hexdigest()
    assert entry["request"]["item_digest"] == hashlib.sha256(asked.to_cbor()).hexdigest()
    assert entry["request"]["id"] == str(asked.request_id)
    review = prepared.items[0].review
    assert review is not None
    assert entry["review"]["signing_hash"] == review.signing_hash.hex()
    assert len(entry["review"]["digest"]) == 64
    assert entry["verdict"]["decision"] == "sign"
    rules = " ".join(entry["verdict"]["rules"])
    assert "account[0] (line" in rules and "destination[0] (line" in rules
    assert entry["signature_digest"] == hashlib.sha256(signature.signature).hexdigest()
    assert entry["policy_hash"] == hashlib.sha256(home.read_policy()).hexdigest()
    assert entry["ledger"] == {"outcome": "new", "replaces": None}
    kinds = [entry.kind for entry in entries(home)]
    assert kinds == ["log-created", "unlock", "decision", "lock"]


def test_refused_decision_is_audited_and_nothing_unlocks(home: SignerHome) -> None:
    stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    unlock = Unlocker(home)
    _, result = run(home, [tx_request(eip1559(0, to=stranger))], unlock=unlock)
    assert result.response is None and result.refused == 1
    assert unlock.sessions == []
    (entry,) = decisions(home)
    assert entry["decision"] == "refused"
    assert entry["signature_digest"] is None
    assert entry["verdict"]["decision"] == "refuse"
    assert entry["verdict"]["codes"] == ("destination-not-allowed",)
    assert entry["reasons"] and "not an allowed destination" in entry["reasons"][0]
    assert "unlock" not in [e.kind for e in entries(home)]


def test_session_is_locked_after_the_batch(home: SignerHome) -> None:
    unlock = Unlocker(home)
    run(home, [tx_request(eip1559(0)), tx_request(eip1559(1))], batch=True, unlock=unlock)
    assert len(unlock.sessions) == 1
    assert unlock.sessions[0].is_locked()


# --- batches ---------------------------------------------------------------------------------


def test_batch_signs_the_approved_items_and_refuses_the_rest(home: SignerHome) -> None:
    stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    asked = [
        tx_request(eip1559(0)),
        tx_request(eip1559(1, to=stranger)),
        tx_request(eip1559(2)),
        request(b"\x04\xc0", DataType.TYPED_TRANSACTION, chain_id=1),
    ]
    prepared, result = run(home, asked, batch=True)
    assert [item.outcome for item in result.items] == [
        Outcome.SIGNED,
        Outcome.REFUSED,
        Outcome.SIGNED,
        Outcome.REFUSED,
    ]
    assert prepared.items[3].review is None
    assert "EIP-7702" in result.items[3].reasons[0]
    assert result.response is not None and result.response.type == "eth-batch-signature"
    batch = EthBatchSignature.from_ur(result.response)
    assert batch.audit_head == result.audit_head
    assert [s.request_id for s in batch.signatures] == [asked[0].request_id, asked[2].request_id]
    for requested, signature in zip((asked[0], asked[2]), batch.signatures, strict=True):
        assert (
            Account.recover_transaction(_raw(requested, signature)) == eth_key(STANDARD[0]).address
        )
    audited = decisions(home)
    assert [entry["decision"] for entry in audited] == ["signed", "refused", "signed", "refused"]
    assert [entry["request"]["item"] for entry in audited] == [1, 2, 3, 4]
    assert audited[3]["undecodable"] is not None
    assert audited[3]["verdict"]["codes"] == ("transaction-type",)


def test_batch_counts_earlier_items_toward_the_window(home: SignerHome) -> None:
    # per_24h is 12 ETH: 8 + 8 crosses it, so the second is refused and the third (3) fits.
    asked = [
        tx_request(eip1559(0, value=8 * ETHER)),
        tx_request(eip1559(1, value=8 * ETHER)),
        tx_request(eip1559(2, value=3 * ETHER)),
    ]
    _, result = run(home, asked, batch=True)
    assert [item.outcome for item in result.items] == [
        Outcome.SIGNED,
        Outcome.REFUSED,
        Outcome.SIGNED,
    ]
    assert decisions(home)[1]["verdict"]["codes"] == ("window-limit",)


def test_spends_are_recorded_for_the_next_request(home: SignerHome) -> None:
    run(home, [tx_request(eip1559(0, value=8 * ETHER))])
    _, result = run(home, [tx_request(eip1559(1, value=8 * ETHER))])
    assert result.items[0].outcome is Outcome.REFUSED
    assert decisions(home)[1]["verdict"]["codes"] == ("window-limit",)


# --- the nonce ledger ------------------------------------------------------------------------


def test_equivocation_is_refused_and_audited(home: SignerHome) -> None:
    run(home, [tx_request(eip1559(4, value=1))])
    _, result = run(home, [tx_request(eip1559(4, value=2))])
    (item,) = result.items
    assert item.outcome is Outcome.REFUSED and result.response is None
    assert "nonce ledger" in item.reasons[0] and "different payload" in item.reasons[0]
    audited = decisions(home)
    assert audited[1]["decision"] == "refused"
    assert audited[1]["verdict"]["decision"] == "sign"
    assert "nonce ledger" in audited[1]["reasons"][0]


def test_same_request_again_is_an_identical_resign(home: SignerHome) -> None:
    asked = tx_request(eip1559(5))
    _, first = run(home, [asked])
    _, second = run(home, [asked])
    assert second.items[0].ledger is not None
    assert second.items[0].ledger.outcome is LedgerOutcome.IDENTICAL
    assert first.response is not None and second.response is not None
    one, two = EthSignature.from_ur(first.response), EthSignature.from_ur(second.response)
    assert (one.r, one.s, one.v) == (two.r, two.s, two.v)
    assert two.audit_head is not None and one.audit_head is not None
    assert two.audit_head.seq > one.audit_head.seq


def test_fee_bump_is_signed_and_marked_as_replacement(home: SignerHome) -> None:
    original = tx_request(eip1559(6))
    run(home, [original])
    bumped_tx = eip1559(6, maxFeePerGas=45 * 10**9, maxPriorityFeePerGas=2 * 10**9)
    _, result = run(home, [tx_request(bumped_tx)])
    (item,) = result.items
    assert item.outcome is Outcome.SIGNED
    assert item.ledger is not None and item.ledger.outcome is LedgerOutcome.REPLACEMENT
    assert item.ledger.replaces == payload_digest(original.sign_data)
    entry = decisions(home)[1]
    assert entry["ledger"] == {
        "outcome": "replacement",
        "replaces": payload_digest(original.sign_data).hex(),
    }


def test_fee_decrease_is_equivocation(home: SignerHome) -> None:
    run(home, [tx_request(eip1559(7))])
    _, result = run(home, [tx_request(eip1559(7, maxFeePerGas=20 * 10**9))])
    assert result.items[0].outcome is Outcome.REFUSED


def test_request_id_reused_for_another_payload_is_refused(home: SignerHome) -> None:
    rid = uuid.uuid4().bytes
    run(home, [tx_request(eip1559(8), request_id=rid)])
    _, result = run(home, [tx_request(eip1559(9), request_id=rid)])
    assert result.items[0].outcome is Outcome.REFUSED
    assert "already used" in result.items[0].reasons[0]


def test_each_batch_item_records_its_own_request_id(home: SignerHome) -> None:
    first, second = tx_request(eip1559(10)), tx_request(eip1559(11))
    run(home, [first, second], batch=True)
    # Each id is bound to its own payload: reusing the second's id for the first's payload
    # is a replay, which it could not be if only the batch had been recorded.
    assert second.request_id is not None
    reused = tx_request(eip1559(10), request_id=second.request_id.raw)
    _, result = run(home, [reused])
    assert result.items[0].outcome is Outcome.REFUSED


# --- the request's key -----------------------------------------------------------------------


def test_address_of_another_key_is_refused_and_audited(home: SignerHome) -> None:
    other = Address(bytes.fromhex(eth_key(STANDARD[1]).address[2:]))
    unlock = Unlocker(home)
    prepared, result = run(home, [tx_request(eip1559(0), address=other)], unlock=unlock)
    assert prepared.items[0].key_refusal is not None
    assert result.items[0].outcome is Outcome.REFUSED
    assert "names address" in result.items[0].reasons[0]
    assert unlock.sessions == []
    assert decisions(home)[0]["account"] is None


def test_batch_items_sharing_a_keypath_are_each_checked_with_their_own_address(
    home: SignerHome,
) -> None:
    # prepare asks the key check once per distinct (keypath, address): the decoded items
    # share one keypath object, so the address must still tell their answers apart.
    own = Address(bytes.fromhex(eth_key(STANDARD[0]).address[2:]))
    other = Address(bytes.fromhex(eth_key(STANDARD[1]).address[2:]))
    asked = [
        tx_request(eip1559(0)),
        tx_request(eip1559(1), address=other),
        tx_request(eip1559(2), address=own),
        tx_request(eip1559(3), address=other),
        tx_request(eip1559(4), scheme_path(Scheme.STANDARD, 7)),
    ]
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(home, core, _ur(asked, batch=True))
    items = prepared.items
    assert items[0].request.derivation_path is items[1].request.derivation_path
    assert [item.account is not None for item in items] == [True, False, True, False, False]
    assert items[1].key_refusal == items[3].key_refusal
    assert items[1].key_refusal is not None and "names address" in items[1].key_refusal
    assert items[4].key_refusal is not None and "not an enrolled account" in items[4].key_refusal


def test_path_not_enrolled_is_refused(home: SignerHome) -> None:
    _, result = run(home, [tx_request(eip1559(0), scheme_path(Scheme.STANDARD, 7))])
    assert result.items[0].outcome is Outcome.REFUSED
    assert decisions(home)[0]["verdict"]["decision"] == "refuse"


def test_enrolled_path_the_policy_does_not_name_is_refused(home: SignerHome) -> None:
    _, result = run(home, [tx_request(eip1559(0), STANDARD[1])])
    assert result.items[0].outcome is Outcome.REFUSED
    codes = decisions(home)[0]["verdict"]["codes"]
    assert "account-not-allowed" in codes


# --- confirmations ---------------------------------------------------------------------------


def _login() -> EthSignRequest:
    # A zero-width space: the review warns non-printable-text (WARNING), so a person confirms.
    return request(f"{LOGIN}\u200b nonce 41".encode(), DataType.PERSONAL_MESSAGE)


def test_needs_confirmation_is_refused_without_an_acknowledgement(home: SignerHome) -> None:
    prepared, result = run(home, [_login()])
    assert prepared.items[0].verdict.decision is Decision.NEEDS_CONFIRMATION
    assert result.items[0].outcome is Outcome.REFUSED
    assert "not acknowledged" in result.items[0].reasons[0]
    entry = decisions(home)[0]
    assert entry["verdict"]["decision"] == "needs-confirmation"
    assert entry["acknowledged"] is False


def test_needs_confirmation_is_signed_with_the_right_acknowledgement(home: SignerHome) -> None:
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(home, core, _login().to_ur())
        confirmation = prepared.items[0].verdict.confirmation
        assert confirmation is not None
        result = core.sign(
            prepared, unlock=Unlocker(home), acknowledgements={1: confirmation.expected}
        )
    assert result.items[0].outcome is Outcome.SIGNED
    assert result.response is not None
    signature = EthSignature.from_ur(result.response)
    message = encode_defunct(primitive=f"{LOGIN}\u200b nonce 41".encode())
    assert Account.recover_message(message, signature=signature.signature) == (
        eth_key(STANDARD[0]).address
    )
    assert decisions(home)[0]["acknowledged"] is True


def test_needs_confirmation_with_a_wrong_acknowledgement_is_refused(home: SignerHome) -> None:
    _, result = run(home, [_login()], acks={1: "nope"})
    assert result.items[0].outcome is Outcome.REFUSED
    assert "does not match" in result.items[0].reasons[0]


def test_hash_sized_message_is_refused(home: SignerHome) -> None:
    _, result = run(home, [request(bytes(32), DataType.PERSONAL_MESSAGE)])
    assert result.items[0].outcome is Outcome.REFUSED
    assert decisions(home)[0]["verdict"]["codes"] == ("message-is-hash",)


# --- start-up: air gap, audit log, passphrase ------------------------------------------------


def test_air_gap_refusal_is_audited(home: SignerHome) -> None:
    with pytest.raises(AirGapError, match="eth0"):
        SignerCore.open(home, probe=ONLINE)
    last = entries(home)[-1]
    assert last.kind == "network-detected"
    assert "eth0" in str(last.fields["detail"])


def test_radio_refuses_too(home: SignerHome) -> None:
    with pytest.raises(AirGapError, match="bluetooth hci0"):
        SignerCore.open(home, probe=FakeProbe(radios=["bluetooth hci0"]))


def test_allow_online_is_audited(home: SignerHome) -> None:
    with SignerCore.open(home, probe=ONLINE, allow_online=True) as core:
        assert core.status.online_override
        prepared = prepare(home, core, tx_request(eip1559(0)).to_ur())
        result = core.sign(prepared, unlock=Unlocker(home))
    assert result.items[0].outcome is Outcome.SIGNED
    override = [entry for entry in entries(home) if entry.kind == "allow-online"]
    assert len(override) == 1
    assert override[0].fields["findings"] == ("eth0 (ethernet, up)",)


def test_wrong_passphrase_decides_nothing(home: SignerHome) -> None:
    with SignerCore.open(home, probe=OFFLINE) as core:
        prepared = prepare(home, core, tx_request(eip1559(0)).to_ur())
        with pytest.raises(WrongPassphraseError):
            core.sign(prepared, unlock=Unlocker(home, "not the passphrase"))
    kinds = [entry.kind for entry in entries(home)]
    assert "decision" not in kinds
    failed = [entry for entry in entries(home) if entry.kind == "unlock"]
    assert failed[0].fields["result"] == "failed"
    assert failed[0].fields["error"] == "WrongPassphraseError"


def test_tampered_audit_log_stops_the_signer(home: SignerHome) -> None:
    run(home, [tx_request(eip1559(0))])
    data = home.audit_path.read_bytes()
    home.audit_path.write_bytes(data.replace(b'"decision":"signed"', b'"decision":"refused"'))
    with pytest.raises(AuditTamperedError):
        SignerCore.open(home, probe=OFFLINE)


def test_torn_audit_tail_needs_recovery(home: SignerHome) -> None:
    run(home, [tx_request(eip1559(0))])
    with home.audit_path.open("ab") as stream:
        stream.write(b'{"body":{"fields":{"deci')
    with pytest.raises(AuditTamperedError):
        SignerCore.open(home, probe=OFFLINE)
    with AuditLog.open(home.audit_path) as audit:
        audit.recover_torn_tail()
    _, result = run(home, [tx_request(eip1559(1))])
    assert result.items[0].outcome is Outcome.SIGNED


# --- intake ----------------------------------------------------------------------------------


def test_parts_in_any_order_and_case() -> None:
    asked = [tx_request(eip1559(index)) for index in range(8)]
    ur = EthBatchSignRequest(tuple(asked)).to_ur()
    encoder = UREncoder(ur, 60)
    parts = encoder.parts(encoder.seq_len + 3)
    shuffled = [part.upper() for part in reversed(parts)]
    decoded = decode_parts(["", *shuffled, ""])
    assert decoded.batch and decoded.requests == tuple(asked)
    assert decoded.digest == hashlib.sha256(ur.cbor).digest()


# --- operator attestation --------------------------------------------------------------------

OPERATOR = STANDARD[3]


def _attest(message: bytes, path: Any = OPERATOR) -> bytes:
    signed = eth_key(path).sign_message(encode_defunct(primitive=attestation_message(message)))
    return bytes(signed.signature)


@pytest.fixture
def attested_home(tmp_path: Path) -> SignerHome:
    operator = eth_key(OPERATOR).address
    policy = POLICY + f'\n[[operator]]\naddress = "{operator}"\nlabel = "ops laptop"\n'
    return make_home(tmp_path / "attested", policy)


def test_pinned_operator_refuses_an_unattested_request(attested_home: SignerHome) -> None:
    _, result = run(attested_home, [tx_request(eip1559(0))])
    assert result.items[0].outcome is Outcome.REFUSED
    assert decisions(attested_home)[0]["verdict"]["codes"] == ("operator-attestation",)


def test_attested_request_is_signed(attested_home: SignerHome) -> None:
    asked = tx_request(eip1559(0))
    attested = replace(asked, attestation=_attest(asked.attested_cbor()))
    _, result = run(attested_home, [attested])
    assert result.items[0].outcome is Outcome.SIGNED
    assert decisions(attested_home)[0]["attested_by"] == eth_key(OPERATOR).address


def test_attestation_by_another_key_is_refused(attested_home: SignerHome) -> None:
    asked = tx_request(eip1559(0))
    forged = replace(asked, attestation=_attest(asked.attested_cbor(), STANDARD[2]))
    _, result = run(attested_home, [forged])
    assert result.items[0].outcome is Outcome.REFUSED
    assert decisions(attested_home)[0]["attested_by"] is None


def test_attestation_of_another_request_is_refused(attested_home: SignerHome) -> None:
    asked, other = tx_request(eip1559(0)), tx_request(eip1559(1))
    moved = replace(asked, attestation=_attest(other.attested_cbor()))
    _, result = run(attested_home, [moved])
    assert result.items[0].outcome is Outcome.REFUSED


def test_attested_batch_is_signed(attested_home: SignerHome) -> None:
    batch = EthBatchSignRequest((tx_request(eip1559(0)), tx_request(eip1559(1))))
    attested = replace(batch, attestation=_attest(batch.attested_cbor()))
    with SignerCore.open(attested_home, probe=OFFLINE) as core:
        prepared = prepare(attested_home, core, attested.to_ur())
        result = core.sign(prepared, unlock=Unlocker(attested_home))
    assert prepared.attested_by is not None
    assert [item.outcome for item in result.items] == [Outcome.SIGNED, Outcome.SIGNED]


def test_chain_mismatch_is_refused_and_audited(home: SignerHome) -> None:
    mismatched = replace(tx_request(eip1559(0)), chain_id=137)
    prepared, result = run(home, [mismatched])
    assert prepared.items[0].computed is None
    assert "chain" in (prepared.items[0].digest_problem or "")
    assert result.items[0].outcome is Outcome.REFUSED
    assert decisions(home)[0]["decision"] == "refused"


def test_review_digest_is_recorded_and_tracks_the_content(home: SignerHome) -> None:
    prepared, _ = run(home, [tx_request(eip1559(0))])
    review = prepared.items[0].review
    assert review is not None
    assert decisions(home)[0]["review"]["digest"] == review_digest(review).hex()
    assert review_digest(review) == review_digest(replace(review))
    assert review_digest(replace(review, title=review.title + " ")) != review_digest(review)
    assert review_digest(replace(review, payments=())) != review_digest(review)


# --- Safe nonces -----------------------------------------------------------------------------

TREASURY = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
SAFE_POLICY = POLICY + f'\n[[safe]]\nchain = 1\naddress = "{TREASURY}"\nprofile = "owner"\n'


def _safe_tx(value: int, nonce: int) -> EthSignRequest:
    members = [
        ("to", "address"),
        ("value", "uint256"),
        ("data", "bytes"),
        ("operation", "uint8"),
        ("safeTxGas", "uint256"),
        ("baseGas", "uint256"),
        ("gasPrice", "uint256"),
        ("gasToken", "address"),
        ("refundReceiver", "address"),
        ("nonce", "uint256"),
    ]
    zero = "0x" + "00" * 20
    document = {
        "types": {
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "SafeTx": [{"name": name, "type": kind} for name, kind in members],
        },
        "primaryType": "SafeTx",
        "domain": {"chainId": 1, "verifyingContract": TREASURY},
        "message": {
            "to": "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
            "value": value,
            "data": "0x",
            "operation": 0,
            "safeTxGas": 0,
            "baseGas": 0,
            "gasPrice": 0,
            "gasToken": zero,
            "refundReceiver": zero,
            "nonce": nonce,
        },
    }
    return request(json.dumps(document).encode(), DataType.TYPED_DATA)


def test_safe_nonce_equivocation_is_refused(tmp_path: Path) -> None:
    home = make_home(tmp_path / "safe", SAFE_POLICY)
    first = _safe_tx(ETHER, 7)
    _, signed = run(home, [first])
    assert signed.items[0].outcome is Outcome.SIGNED, signed.items[0].reasons
    _, again = run(home, [first])
    assert again.items[0].ledger is not None
    assert again.items[0].ledger.outcome is LedgerOutcome.IDENTICAL
    _, other = run(home, [_safe_tx(2 * ETHER, 7)])
    assert other.items[0].outcome is Outcome.REFUSED
    assert "different payload" in other.items[0].reasons[0]
    _, next_nonce = run(home, [_safe_tx(2 * ETHER, 8)])
    assert next_nonce.items[0].outcome is Outcome.SIGNED


# --- property: the response answers exactly the approved items --------------------------------


@settings(max_examples=12, deadline=None)
@given(allowed=st.lists(st.booleans(), min_size=1, max_size=6))
def test_response_answers_exactly_the_approved_items(
    tmp_path_factory: pytest.TempPathFactory, allowed: list[bool]
) -> None:
    home = make_home(tmp_path_factory.mktemp("property") / "home")
    stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    asked = [
        tx_request(eip1559(nonce) if ok else eip1559(nonce, to=stranger))
        for nonce, ok in enumerate(allowed)
    ]
    _, result = run(home, asked, batch=True)
    assert [item.outcome is Outcome.SIGNED for item in result.items] == allowed
    assert [entry["decision"] == "signed" for entry in decisions(home)] == allowed
    if not any(allowed):
        assert result.response is None
        return
    assert result.response is not None
    answered = [s.request_id for s in EthBatchSignature.from_ur(result.response).signatures]
    assert answered == [r.request_id for r, ok in zip(asked, allowed, strict=True) if ok]


# --- the cyclic garbage collector -------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_prepare_and_sign_pause_the_collector_and_restore_its_state(
    home: SignerHome, enabled: bool
) -> None:
    # The core reads its clock inside prepare and sign: each reading notes the collector's state.
    seen: list[bool] = []

    def clock() -> float:
        seen.append(gc.isenabled())
        return 1_700_000_000.0

    was_enabled = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        with SignerCore.open(home, probe=OFFLINE, clock=clock) as core:
            seen.clear()
            prepared = prepare(home, core, _ur([tx_request(eip1559(0))], batch=False))
            assert seen and not any(seen) and gc.isenabled() is enabled
            seen.clear()
            result = core.sign(prepared, unlock=Unlocker(home))
            assert seen and not any(seen) and gc.isenabled() is enabled
        assert result.signed == 1
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_intake_restores_the_collector_state_after_a_request_and_after_bad_parts(
    enabled: bool,
) -> None:
    encoder = UREncoder(_ur([tx_request(eip1559(n)) for n in range(3)], batch=True), 60)
    parts = encoder.parts(encoder.seq_len)
    was_enabled = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        assert len(decode_parts(parts).requests) == 3
        assert gc.isenabled() is enabled
        with pytest.raises(DecodeError):
            decode_parts(["ur:eth-sign-request/not-bytewords"])
        assert gc.isenabled() is enabled
    finally:
        if was_enabled:
            gc.enable()


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "disabled"])
def test_the_collector_state_is_restored_when_sign_fails_and_after_reject(
    home: SignerHome, enabled: bool
) -> None:
    was_enabled = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        with SignerCore.open(home, probe=OFFLINE) as core:
            prepared = prepare(home, core, _ur([tx_request(eip1559(0))], batch=False))
            # A failed unlock leaves sign by an exception, from inside the paused section.
            with pytest.raises(WrongPassphraseError):
                core.sign(prepared, unlock=Unlocker(home, "not the passphrase"))
            assert gc.isenabled() is enabled
            rejected = core.reject(prepared, "not today")
            assert gc.isenabled() is enabled
        assert [item.outcome for item in rejected.items] == [Outcome.REFUSED]
    finally:
        if was_enabled:
            gc.enable()
