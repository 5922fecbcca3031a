"""Message reviews: personal_sign text and hash, EIP-712 Permit, Permit2, SafeMessage, the rest."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from eth_account.messages import _hash_eip191_message, encode_defunct, encode_typed_data
from vectorfiles import load_vectors

from shared.address import Address
from shared.errors import TypedDataError
from shared.messages import parse_typed_data
from shared.registry import default_registries
from shared.review import (
    Review,
    ReviewKind,
    Severity,
    WarningCode,
    review_personal_message,
    review_typed_data,
)

W = WarningCode
REGISTRIES = default_registries()
TYPED = load_vectors("eip712")["typed_data"]
USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
# Uniswap/permit2-sdk src/constants.ts, PERMIT2_ADDRESS.
PERMIT2 = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
SPENDER = "0x" + "5e" * 20
UINT160_MAX = 2**160 - 1
KINDS = {
    None: ReviewKind.TYPED_DATA,
    "Permit": ReviewKind.PERMIT,
    "Permit2Single": ReviewKind.PERMIT2,
    "Permit2Batch": ReviewKind.PERMIT2,
    "Permit2TransferFrom": ReviewKind.PERMIT2,
    "Permit2BatchTransferFrom": ReviewKind.PERMIT2,
    "SafeTx": ReviewKind.SAFE_TX,
    "SafeMessage": ReviewKind.SAFE_MESSAGE,
}


def values(review: Review) -> dict[str, str]:
    return {f.label: f.value for f in review.fields}


def review_document(document: dict[str, Any]) -> Review:
    return review_typed_data(parse_typed_data(json.dumps(document).encode()), REGISTRIES)


# --- personal_sign ------------------------------------------------------------------------

PERSONAL_CASES = [
    (
        "plain text",
        b"Sign in to example.org\nNonce: 4242",
        set(),
        "Sign in to example.org\nNonce: 4242",
    ),
    ("bidi override", "pay \u202eevil".encode(), {W.NON_PRINTABLE_TEXT}, "pay \\u202eevil"),
    ("ANSI escape", b"ok\x1b[2Jgone", {W.NON_PRINTABLE_TEXT}, "ok\\x1b[2Jgone"),
    ("zero-width space", "a\u200bb".encode(), {W.NON_PRINTABLE_TEXT}, "a\\u200bb"),
    ("not UTF-8", b"\xff\xfe\x00", {W.MESSAGE_NOT_TEXT}, "0xfffe00"),
    (
        "a 32-byte hash",
        bytes(range(0x80, 0xA0)),
        {W.MESSAGE_IS_HASH, W.MESSAGE_NOT_TEXT},
        "0x" + bytes(range(0x80, 0xA0)).hex(),
    ),
    ("32 printable bytes", b"a" * 32, {W.MESSAGE_IS_HASH}, "a" * 32),
]


@pytest.mark.parametrize(
    ("message", "codes", "shown"),
    [c[1:] for c in PERSONAL_CASES],
    ids=[c[0] for c in PERSONAL_CASES],
)
def test_personal_message(message: bytes, codes: set[WarningCode], shown: str) -> None:
    review = review_personal_message(message, REGISTRIES)
    assert review.kind is ReviewKind.PERSONAL_MESSAGE
    assert review.codes() == codes
    assert values(review)["Message"] == shown
    assert review.signing_hash == bytes(_hash_eip191_message(encode_defunct(primitive=message)))
    assert review.chain_id is None and review.fee_cap_wei is None
    assert review.payments == () and review.subject.message == message


def test_hash_message_is_danger() -> None:
    review = review_personal_message(b"\x00" * 32, REGISTRIES)
    assert review.max_severity is Severity.DANGER
    assert review.warnings[0].code is W.MESSAGE_IS_HASH


# --- EIP-712: published and project vectors -------------------------------------------------


@pytest.mark.parametrize("name", sorted(TYPED))
def test_every_typed_data_vector_reviews_with_its_hash(name: str) -> None:
    vector = TYPED[name]
    review = review_document(vector["typed_data"])
    assert review.signing_hash == bytes.fromhex(vector["signing_hash"][2:])
    assert review.kind is KINDS[vector["schema"]]
    assert review.subject.typed_data is not None
    if vector["schema"] is None:
        assert W.UNRECOGNISED_TYPED_DATA in review.codes()


def test_generic_typed_data_shows_every_field() -> None:
    review = review_document(TYPED["mail"]["typed_data"])
    shown = values(review)
    assert shown["message.from.name"] == "Cow"
    assert shown["message.to.wallet"] == Address(b"\xbb" * 20).grouped()
    assert shown["message.contents"] == "Hello, Bob!"
    assert shown["name"] == "Ether Mail"
    assert review.codes() == {W.UNRECOGNISED_TYPED_DATA}
    assert review.title == "EIP-712 typed data: Mail"


def test_nested_arrays_are_flattened() -> None:
    shown = values(review_document(TYPED["nested_structs_and_arrays"]["typed_data"]))
    assert shown["message.members"] == "2 items"
    assert shown["message.members[0].wallets[1]"].startswith("0xDeaD")
    assert shown["message.scores[0][0]"] == "-32768"
    assert shown["message.flags[1]"] == "false"
    assert shown["message.blobs[0]"] == "(empty)"


def test_invisible_characters_in_typed_strings_are_escaped_and_flagged() -> None:
    document = copy.deepcopy(TYPED["mail"]["typed_data"])
    document["message"]["contents"] = "send to \u202eevil"
    document["domain"]["name"] = "Ether\u200bMail"
    review = review_document(document)
    flagged = [w for w in review.warnings if w.code is W.NON_PRINTABLE_TEXT]
    assert {w.path for w in flagged} == {"domain", "message.contents"}
    assert values(review)["message.contents"] == "send to \\u202eevil"


# --- Permit -----------------------------------------------------------------------------------


def permit(value: int | str, token: str = USDC) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(TYPED["permit_usdc"]["typed_data"])
    document["message"]["value"] = str(value)
    document["domain"]["verifyingContract"] = token
    return document


def test_usdc_permit() -> None:
    review = review_document(TYPED["permit_usdc"]["typed_data"])
    shown = values(review)
    assert shown["value"] == "1,000 USDC"
    assert shown["deadline"] == "1735689600 (2025-01-01 00:00:00 UTC)"
    assert shown["token"] == Address(bytes.fromhex(USDC[2:])).grouped()
    assert review.codes() == {W.PERMIT}
    assert review.title.startswith("EIP-2612 Permit")


def test_unlimited_permit_is_danger() -> None:
    review = review_document(permit(2**256 - 1))
    assert review.codes() == {W.PERMIT, W.UNLIMITED_APPROVAL}
    assert review.warnings[0].code is W.UNLIMITED_APPROVAL
    assert values(review)["value"].startswith("UNLIMITED")


def test_permit_of_an_unknown_token_is_in_base_units() -> None:
    review = review_document(permit(5, token="0x" + "77" * 20))
    assert review.codes() == {W.PERMIT, W.UNKNOWN_TOKEN}
    assert values(review)["value"] == "5 base units (unknown token)"


def test_a_known_schema_with_a_foreign_domain_is_refused() -> None:
    document = copy.deepcopy(TYPED["safe_message"]["typed_data"])
    document["types"]["EIP712Domain"].insert(0, {"name": "name", "type": "string"})
    document["domain"]["name"] = "Safe"
    with pytest.raises(TypedDataError) as info:
        review_document(document)
    assert info.value.field == "domain"


# --- Permit2 ----------------------------------------------------------------------------------


def permit2_single(amount: int, verifying: str = PERMIT2) -> dict[str, Any]:
    document: dict[str, Any] = copy.deepcopy(TYPED["permit2_single"]["typed_data"])
    document["domain"]["verifyingContract"] = verifying
    document["message"]["details"] = {
        "token": USDC,
        "amount": str(amount),
        "expiration": "1735689600",
        "nonce": 3,
    }
    document["message"]["spender"] = SPENDER
    document["message"]["sigDeadline"] = "1735689600"
    return document


def test_permit2_single_allowance() -> None:
    document = permit2_single(250 * 10**6)
    review = review_document(document)
    assert review.kind is ReviewKind.PERMIT2
    assert review.codes() == {W.PERMIT2}
    shown = values(review)
    assert shown["amount"] == "250 USDC"
    assert shown["expiration"] == "1735689600 (2025-01-01 00:00:00 UTC)"
    assert review.signing_hash == bytes(
        _hash_eip191_message(encode_typed_data(full_message=document))
    )


def test_permit2_max_uint160_is_unlimited() -> None:
    review = review_document(permit2_single(UINT160_MAX))
    assert review.codes() == {W.PERMIT2, W.UNLIMITED_APPROVAL}


def test_permit2_for_another_contract_is_flagged() -> None:
    review = review_document(permit2_single(1, verifying="0x" + "12" * 20))
    assert W.UNKNOWN_CONTRACT in review.codes()


def test_permit2_batch_transfer_lists_every_token() -> None:
    document = copy.deepcopy(TYPED["permit2_batch_transfer_from"]["typed_data"])
    document["domain"]["verifyingContract"] = PERMIT2
    document["message"]["permitted"] = [
        {"token": USDC, "amount": "1000000"},
        {"token": "0x" + "77" * 20, "amount": "9"},
    ]
    review = review_document(document)
    permit2 = [w for w in review.warnings if w.code is W.PERMIT2]
    assert [w.path for w in permit2] == ["message.permitted[0]", "message.permitted[1]"]
    assert W.UNKNOWN_TOKEN in review.codes()
    assert [f.value for f in review.fields if f.label == "amount"] == [
        "1 USDC",
        "9 base units (unknown token)",
    ]


# --- SafeMessage ------------------------------------------------------------------------------


def test_safe_message_text() -> None:
    review = review_document(TYPED["safe_message"]["typed_data"])
    assert review.kind is ReviewKind.SAFE_MESSAGE
    assert values(review)["Message"] == "Hello, Safe"
    assert review.codes() == set()


def test_safe_message_of_a_hash_is_danger() -> None:
    document = copy.deepcopy(TYPED["safe_message"]["typed_data"])
    document["message"]["message"] = "0x" + "ab" * 32
    review = review_document(document)
    assert W.MESSAGE_IS_HASH in review.codes()
    assert review.max_severity is Severity.DANGER
