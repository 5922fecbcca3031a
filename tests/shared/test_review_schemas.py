"""Reviews of DAI-style permits, Permit2 witness transfers and domains without a chain."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from vectorfiles import load_vectors

from shared.errors import TypedDataError
from shared.messages import DaiPermit, Permit2WitnessTransferFrom, parse_typed_data
from shared.registry import default_registries
from shared.review import Review, ReviewKind, Severity, WarningCode, review_typed_data

W = WarningCode
REGISTRIES = default_registries()
TYPED = load_vectors("eip712_schemas")["typed_data"]
SPENDER = "0x5e5E5e5e5E5e5E5E5e5E5E5e5e5E5E5E5e5E5E5e"


def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(TYPED[name]["typed_data"])
    return document


def _review(document: dict[str, Any]) -> Review:
    return review_typed_data(parse_typed_data(json.dumps(document).encode()), REGISTRIES)


def _values(review: Review, section: str | None = None) -> dict[str, str]:
    return {f.label: f.value for f in review.fields if section is None or f.section == section}


def _codes(review: Review) -> set[WarningCode]:
    return {w.code for w in review.warnings}


@pytest.mark.parametrize("name", sorted(TYPED))
def test_review_hash_is_the_vector_hash(name: str) -> None:
    review = _review(_document(name))
    assert "0x" + review.signing_hash.hex() == TYPED[name]["signing_hash"]
    assert _values(review)["Signing hash"] == TYPED[name]["signing_hash"]


# --- DAI-style permit ---------------------------------------------------------------------


def test_dai_unlimited_permit_without_expiry() -> None:
    review = _review(_document("dai_permit_unlimited_no_expiry"))
    assert review.kind is ReviewKind.PERMIT
    assert review.title == "DAI-style permit: an unlimited token allowance"
    assert isinstance(review.subject.recognised, DaiPermit)
    shown = _values(review, "Permit (DAI-style)")
    assert shown["allowed"] == "true"
    assert shown["allowance"].startswith("UNLIMITED")
    assert shown["expiry"] == "0 (never expires)"
    assert shown["nonce"] == "3"
    assert shown["spender"].replace(" ", "") == SPENDER
    assert _codes(review) == {W.UNLIMITED_APPROVAL, W.PERMIT, W.NEVER_EXPIRES}
    assert review.warnings[0].code is W.UNLIMITED_APPROVAL
    assert review.warnings[0].severity is Severity.DANGER
    never = next(w for w in review.warnings if w.code is W.NEVER_EXPIRES)
    assert never.path == "message" and "nonce 3" in never.message
    permit = next(w for w in review.warnings if w.code is W.PERMIT)
    assert "every DAI" in permit.message and "never expires" in permit.message


def test_dai_revocation_with_expiry() -> None:
    review = _review(_document("dai_permit_revoke"))
    assert review.kind is ReviewKind.PERMIT
    assert review.title == "DAI-style permit: revokes an allowance"
    shown = _values(review, "Permit (DAI-style)")
    assert shown["allowed"] == "false"
    assert shown["allowance"] == "0 (revoked)"
    assert shown["expiry"] == "1767225600 (2026-01-01 00:00:00 UTC)"
    assert _codes(review) == {W.PERMIT}
    assert "to 0" in review.warnings[0].message
    assert "2026-01-01" in review.warnings[0].message


def test_dai_unlimited_permit_with_expiry_does_not_warn_never_expires() -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    document["message"]["expiry"] = 1767225600
    review = _review(document)
    assert _codes(review) == {W.UNLIMITED_APPROVAL, W.PERMIT}
    assert _values(review)["expiry"] == "1767225600 (2026-01-01 00:00:00 UTC)"


def test_dai_revocation_without_expiry_is_not_warned_as_lasting() -> None:
    # A revocation that never expires can only set the allowance to 0 again.
    document = _document("dai_permit_revoke")
    document["message"]["expiry"] = 0
    review = _review(document)
    assert _codes(review) == {W.PERMIT}
    assert _values(review)["expiry"] == "0 (never expires)"


def test_dai_permit_of_an_unregistered_token_warns_unknown_token() -> None:
    document = _document("dai_permit_revoke")
    document["domain"]["verifyingContract"] = "0x" + "d1" * 20
    review = _review(document)
    assert W.UNKNOWN_TOKEN in _codes(review)


def test_dai_permit_without_version_is_refused_by_the_review() -> None:
    document = _document("dai_permit_revoke")
    document["types"]["EIP712Domain"] = [
        m for m in document["types"]["EIP712Domain"] if m["name"] != "version"
    ]
    del document["domain"]["version"]
    with pytest.raises(TypedDataError) as caught:
        _review(document)
    assert caught.value.field == "domain"


def test_dai_permit_with_a_member_renamed_is_reviewed_as_unrecognised() -> None:
    document = _document("dai_permit_unlimited_no_expiry")
    document["types"]["Permit"][4]["name"] = "approved"
    document["message"]["approved"] = document["message"].pop("allowed")
    review = _review(document)
    assert review.kind is ReviewKind.TYPED_DATA
    assert W.UNRECOGNISED_TYPED_DATA in _codes(review)
    assert W.PERMIT not in _codes(review)


# --- Permit2 witness transfers ------------------------------------------------------------


def test_witness_transfer_is_reviewed_as_its_transfer_then_the_witness() -> None:
    review = _review(_document("permit2_witness_mock"))
    assert review.kind is ReviewKind.PERMIT2
    assert isinstance(review.subject.recognised, Permit2WitnessTransferFrom)
    assert _values(review, "Permit2")["deadline"] == "1767225600 (2026-01-01 00:00:00 UTC)"
    assert _values(review, "Permit2")["nonce"] == "7"
    transfer = _values(review, "Permit2 transfer message.permitted[0]")
    assert transfer["amount"] == "2,500 USDC"
    witness = _values(review, "Permit2 witness message.witness (MockWitness)")
    assert witness["message.witness.value"] == "42"
    assert witness["message.witness.test"] == "true"
    assert witness["witness hash"].startswith("0x") and len(witness["witness hash"]) == 66
    sections = [f.section for f in review.fields]
    assert sections.index("Permit2 transfer message.permitted[0]") < sections.index(
        "Permit2 witness message.witness (MockWitness)"
    )
    assert _codes(review) == {W.PERMIT2, W.UNRECOGNISED_TYPED_DATA}
    unrecognised = next(w for w in review.warnings if w.code is W.UNRECOGNISED_TYPED_DATA)
    assert unrecognised.path == "message.witness"


def test_batch_witness_transfer_reviews_every_token() -> None:
    review = _review(_document("permit2_batch_witness_mock"))
    assert review.kind is ReviewKind.PERMIT2
    paths = {w.path for w in review.warnings if w.code is W.PERMIT2}
    assert paths == {"message.permitted[0]", "message.permitted[1]"}
    unlimited = [w for w in review.warnings if w.code is W.UNLIMITED_APPROVAL]
    assert [w.path for w in unlimited] == ["message.permitted[1]"]


def test_witness_strings_are_escaped_and_flagged() -> None:
    document = _document("permit2_witness_mock")
    witness = document["types"]["MockWitness"]
    witness.append({"name": "note", "type": "string"})
    document["message"]["witness"]["note"] = "pay\u202eevil"
    review = _review(document)
    note = _values(review)["message.witness.note"]
    assert "\u202e" not in note
    assert W.NON_PRINTABLE_TEXT in _codes(review)


def test_witness_of_uniswapx_order_shows_nested_fields() -> None:
    review = _review(_document("permit2_witness_uniswapx_exclusive_dutch"))
    shown = _values(review)
    assert shown["message.witness.outputs"] == "1 items"
    assert shown["message.witness.outputs[0].startAmount"] == "300000000000000000"
    assert shown["message.witness.info.additionalValidationData"] == "(empty)"


def test_witness_of_an_atomic_type_is_refused_by_the_review() -> None:
    document = _document("permit2_witness_mock")
    document["types"]["PermitWitnessTransferFrom"][4]["type"] = "bytes32"
    del document["types"]["MockWitness"]
    document["message"]["witness"] = "0x" + "11" * 32
    with pytest.raises(TypedDataError) as caught:
        _review(document)
    assert caught.value.field == "types.PermitWitnessTransferFrom[4].type"


def test_witness_transfer_on_another_permit2_is_flagged() -> None:
    document = _document("permit2_witness_mock")
    document["domain"]["verifyingContract"] = "0x" + "00" * 20
    assert W.UNKNOWN_CONTRACT in _codes(_review(document))


# --- domains without a chain --------------------------------------------------------------


def test_salt_only_domain_shows_the_salt_and_warns_no_chain() -> None:
    review = _review(_document("domain_salt_only"))
    assert review.kind is ReviewKind.TYPED_DATA
    assert review.chain_id is None
    shown = _values(review, "EIP-712 domain")
    assert shown["salt"] == "0x" + "f2" * 32
    assert shown["chainId"] == "none: the signature is valid on every chain"
    assert "name" not in shown and "verifyingContract" not in shown
    assert _codes(review) == {W.NO_CHAIN_ID, W.UNRECOGNISED_TYPED_DATA}
    no_chain = next(w for w in review.warnings if w.code is W.NO_CHAIN_ID)
    assert no_chain.severity is Severity.WARNING
    assert no_chain.path == "domain"
    assert "only a salt" in no_chain.message


def test_contract_and_salt_domain_warns_no_chain() -> None:
    review = _review(_document("domain_contract_and_salt"))
    shown = _values(review, "EIP-712 domain")
    assert shown["salt"] == "0x" + "00" * 31 + "89"
    assert shown["verifyingContract"].replace(" ", "").lower() == "0x" + "c0" * 20
    assert W.NO_CHAIN_ID in _codes(review)


def test_domain_without_chain_or_salt_warns_no_chain() -> None:
    document = _document("domain_salt_only")
    document["types"]["EIP712Domain"] = [{"name": "name", "type": "string"}]
    document["domain"] = {"name": "Unbound"}
    review = _review(document)
    no_chain = next(w for w in review.warnings if w.code is W.NO_CHAIN_ID)
    assert "salt" not in no_chain.message


def test_salted_domain_with_a_chain_does_not_warn_no_chain() -> None:
    review = _review(_document("domain_name_chain_salt"))
    assert review.chain_id == 137
    shown = _values(review, "EIP-712 domain")
    assert shown["salt"] == "0x" + "5a" * 32
    assert shown["chainId"] == "137"
    assert W.NO_CHAIN_ID not in _codes(review)


def test_empty_domain_warns_no_chain() -> None:
    document = _document("domain_salt_only")
    document["types"]["EIP712Domain"] = []
    document["domain"] = {}
    review = _review(document)
    assert W.NO_CHAIN_ID in _codes(review)
    assert [f.label for f in review.fields if f.section == "EIP-712 domain"] == [
        "chainId",
        "Signing hash",
    ]
