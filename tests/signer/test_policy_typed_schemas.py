"""The policy on DAI-style permits, Permit2 witness transfers and chainless domains, unchanged.

These schemas reach the existing rules through their base classes (a DaiPermit is a Permit, a
witness transfer is a Permit2 transfer), so each is refused unless an ``[[approval]]`` names
its token and spender with the right ``via``; a domain without chainId is never allowed.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from vectorfiles import load_vectors

from shared.address import Address
from shared.erc4527 import DataType, EthSignRequest, Keypath
from shared.registry import default_registries
from shared.review import review_request
from signer.keys.bip32 import DerivationPath
from signer.policy import (
    Context,
    Decision,
    RefusalCode,
    Verdict,
    evaluate,
    parse_policy,
)
from signer.policy.verdict import RuleHit

R = RefusalCode
NOW = 1_750_000_000
PATH_TEXT = "m/44'/60'/0'/0/0"
PATH = DerivationPath.parse(PATH_TEXT)
REGISTRIES = default_registries()
TYPED = load_vectors("eip712_schemas")["typed_data"]


def a(text: str) -> Address:
    return Address(bytes.fromhex(text.removeprefix("0x")))


DAI = a("6b175474e89094c44da98b954eedeac495271d0f")
USDC = a("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
WETH = a("c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
ROUTER = a("d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb")
CAPPED = a("1111111254eeb25477b68fb85ed929f73a960582")
REACTOR = a("6000da47483062a0d734ba3dc7576ce6a0b645c4")
STRANGER = Address(b"\x33" * 20)
MARKET = a("00000000000000adc04c56bf30ac9d3c0aaf14dc")

POLICY = parse_policy(f"""\
[policy]
name = "typed schemas under test"
version = 1

[[chain]]
id = 1

[[account]]
path = "{PATH_TEXT}"

[[approval]]
chain = 1
token = "{DAI}"
spender = "{ROUTER}"
via = ["permit"]
allow_unlimited = true

[[approval]]
chain = 1
token = "{DAI}"
spender = "{CAPPED}"
via = ["permit"]

[[approval]]
chain = 1
token = "{DAI}"
spender = "{REACTOR}"
via = ["approve"]

[[approval]]
chain = 1
token = "{USDC}"
spender = "{REACTOR}"
via = ["permit2"]

[[approval]]
chain = 1
token = "{WETH}"
spender = "{REACTOR}"
via = ["permit2"]

[[typed_data]]
chain = 1
verifying_contract = "{MARKET}"
primary_type = "Order"
""")


def document(name: str) -> dict[str, Any]:
    copied: dict[str, Any] = copy.deepcopy(TYPED[name]["typed_data"])
    return copied


def dai(spender: Address, *, allowed: bool = True, expiry: int = NOW + 3600) -> dict[str, Any]:
    doc = document("dai_permit_unlimited_no_expiry")
    doc["message"].update(spender=spender.checksummed(), allowed=allowed, expiry=expiry)
    return doc


def witness(spender: Address = REACTOR, *, batch: bool = False, **changes: Any) -> dict[str, Any]:
    doc = document("permit2_batch_witness_mock" if batch else "permit2_witness_mock")
    doc["message"].update({"spender": spender.checksummed(), "deadline": NOW + 600, **changes})
    return doc


def judge(doc: dict[str, Any]) -> Verdict:
    data = json.dumps(doc, separators=(",", ":")).encode()
    request = EthSignRequest(data, DataType.TYPED_DATA, Keypath.parse(PATH_TEXT))
    review = review_request(request, REGISTRIES)
    context = Context(enrolled=frozenset({PATH}), now=NOW, path=PATH)
    return evaluate(review, policy=POLICY, context=context)


def refused(verdict: Verdict, code: RefusalCode) -> RuleHit:
    assert verdict.decision is Decision.REFUSE, verdict
    hits = [hit for hit in verdict.refusals if hit.code == code.value]
    assert hits, verdict.refusals
    return hits[0]


# --- DAI-style permit ---------------------------------------------------------------------


def test_dai_permit_refused_unless_named() -> None:
    hit = refused(judge(dai(STRANGER)), R.APPROVAL_NOT_ALLOWED)
    assert hit.rule == "approval"


def test_dai_permit_named_with_unlimited_needs_confirmation() -> None:
    verdict = judge(dai(ROUTER))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None and "permit" in verdict.confirmation.codes
    assert "unlimited-approval" not in verdict.confirmation.codes
    assert "approval[0]" in {hit.rule for hit in verdict.allowed_by}


def test_dai_permit_is_unlimited_so_needs_allow_unlimited() -> None:
    hit = refused(judge(dai(CAPPED)), R.UNLIMITED_APPROVAL)
    assert hit.rule == "approval[1].allow_unlimited"


def test_dai_permit_by_a_rule_without_permit_in_via() -> None:
    hit = refused(judge(dai(REACTOR)), R.APPROVAL_NOT_ALLOWED)
    assert hit.rule == "approval[2].via"


def test_dai_permit_past_its_expiry_is_refused() -> None:
    refused(judge(dai(ROUTER, expiry=NOW - 1)), R.EXPIRED)


def test_dai_permit_with_expiry_zero_is_not_expired_and_asks_about_it() -> None:
    verdict = judge(dai(ROUTER, expiry=0))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None
    assert "never-expires" in verdict.confirmation.codes


def test_dai_revocation_to_a_capped_spender_is_allowed_with_confirmation() -> None:
    verdict = judge(dai(CAPPED, allowed=False))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals


def test_dai_revocation_is_still_refused_unless_named() -> None:
    # A revocation sets an allowance too: the policy has no rule that allows revocations
    # alone, so an unnamed spender is refused like any approval.
    refused(judge(dai(STRANGER, allowed=False)), R.APPROVAL_NOT_ALLOWED)


# --- Permit2 witness transfers ------------------------------------------------------------


def test_named_witness_transfer_is_judged_like_permit_transfer_from() -> None:
    verdict = judge(witness())
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None and "permit2" in verdict.confirmation.codes
    assert "approval[3]" in {hit.rule for hit in verdict.allowed_by}


def test_batch_witness_transfer_with_an_unlimited_token_is_refused() -> None:
    # The batch vector permits uint256 max of WETH: no rule allows that unlimited.
    hit = refused(judge(witness(batch=True)), R.UNLIMITED_APPROVAL)
    assert hit.rule == "approval[4].allow_unlimited"


def test_witness_transfer_refused_unless_named() -> None:
    refused(judge(witness(STRANGER)), R.APPROVAL_NOT_ALLOWED)


def test_witness_transfer_past_its_deadline_is_refused() -> None:
    refused(judge(witness(deadline=NOW - 1)), R.EXPIRED)


def test_witness_transfer_on_another_permit2_is_refused() -> None:
    doc = witness()
    doc["domain"]["verifyingContract"] = STRANGER.checksummed()
    hit = refused(judge(doc), R.APPROVAL_NOT_ALLOWED)
    assert "not the Permit2 deployment" in hit.reason


# --- domains without a chain --------------------------------------------------------------


@pytest.mark.parametrize("name", ["domain_salt_only", "domain_contract_and_salt"])
def test_typed_data_without_chain_id_is_refused(name: str) -> None:
    doc = document(name)
    if "verifyingContract" in doc["domain"]:
        doc["domain"]["verifyingContract"] = MARKET.checksummed()
    hit = refused(judge(doc), R.MESSAGE_NOT_ALLOWED)
    assert "chainId" in hit.reason
