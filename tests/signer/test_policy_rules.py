"""Policy rules on real decoded requests: each rule that allows, and each reason to refuse."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

from shared.address import Address
from shared.erc4527 import DataType, EthSignRequest, Keypath
from shared.errors import DecodeError, RefusedTransactionTypeError
from shared.registry import default_registries
from shared.review import Review, review_request
from shared.tx import DynamicFeeTransaction, LegacyTransaction
from shared.tx.rlp import encode as rlp_encode
from signer.keys.bip32 import DerivationPath
from signer.policy import (
    AssetKey,
    Context,
    Decision,
    Policy,
    RefusalCode,
    Verdict,
    derivation_path,
    evaluate,
    parse_policy,
    refuse_undecodable,
)
from signer.policy.verdict import Confirmation, RuleHit

R = RefusalCode
GWEI = 10**9
ETH = 10**18
NOW = 1_750_000_000
PATH_TEXT = "m/44'/60'/0'/0/0"
KEYPATH = Keypath.parse(PATH_TEXT)
PATH = DerivationPath.parse(PATH_TEXT)
OTHER_PATH = DerivationPath.parse("m/44'/60'/0'/0/1")
REGISTRIES = default_registries()


def a(text: str) -> Address:
    return Address(bytes.fromhex(text.removeprefix("0x")))


HOT = a("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
GAS_FLOAT = a("fb6916095ca1df60bb79ce92ce3ea74c37c5d359")
STRANGER = Address(b"\x33" * 20)
USDC = a("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
USDT = a("dac17f958d2ee523a2206206994597c13d831ec7")
WETH = a("c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2")
PERMIT2 = a("000000000022d473030f116ddee9f6b43ac78ba3")
ROUTER = a("d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb")
COLLECTION = a("dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb")
OWNED = a("52908400098527886e0f7030069857d2e4169ee7")
MARKET = a("00000000000000adc04c56bf30ac9d3c0aaf14dc")
# Not in the registry: amounts in base units, flagged unknown-token.
ODD_TOKEN = a("8617e340b3d01fa5f11f306f4090fd50e238070d")
# First and last four hex digits of USDC: address poisoning bait.
USDC_LOOKALIKE = a("a0b8" + "11" * 16 + "eb48")
MAX = (1 << 256) - 1

POLICY_TEXT = f"""\
[policy]
name = "rules under test"
version = 1

[[chain]]
id = 1
max_fee_per_gas_gwei = "100"
max_total_fee_native = "0.01"

[[chain]]
id = 8453
label = "Base (messages only)"

[[account]]
path = "{PATH_TEXT}"

[[account]]
path = "m/44'/60'/0'/0/1"
label = "allowed but not enrolled"

[[destination]]
chain = 1
address = "{HOT}"
assets = ["native", "{USDC}", "{ODD_TOKEN}"]
label = "Hot wallet"

[[destination]]
chain = 1
address = "{GAS_FLOAT}"
assets = ["native"]
label = "Gas float"

[[destination]]
chain = 1
address = "{WETH}"
assets = ["native"]
label = "WETH (deposits)"

[[destination]]
chain = 1
address = "{USDC_LOOKALIKE}"
assets = ["native"]
label = "Poisoned entry"

[[limit]]
chain = 1
asset = "native"
per_tx = "10"
per_24h = "30"

[[limit]]
chain = 1
asset = "{USDC}"
decimals = 6
per_tx = "1000000"
per_24h = "2000000"

[[limit]]
chain = 1
asset = "{ODD_TOKEN}"
decimals = 0
per_tx = "500"
per_24h = "1000"

[[limit]]
chain = 1
asset = "{USDT}"
decimals = 18
per_tx = "1"
per_24h = "1"

[[call]]
chain = 1
to = "{WETH}"
selector = "0xd0e30db0"
label = "WETH deposit()"

[[call]]
chain = 1
to = "{OWNED}"
selector = "0xf2fde38b"
label = "hand over OWNED"

[[approval]]
chain = 1
token = "{USDC}"
spender = "{ROUTER}"
via = ["approve", "permit"]
decimals = 6
max_amount = "5000"

[[approval]]
chain = 1
token = "{USDC}"
spender = "{PERMIT2}"
allow_unlimited = true

[[approval]]
chain = 1
token = "{USDT}"
spender = "{ROUTER}"
via = ["permit2"]

[[approval]]
chain = 1
token = "{COLLECTION}"
spender = "{ROUTER}"
via = ["set-approval-for-all"]

[[typed_data]]
chain = 1
verifying_contract = "{MARKET}"
primary_type = "Order"

[[personal_message]]
prefix = "Sign in to example.com"
"""
POLICY = parse_policy(POLICY_TEXT)


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [x.checksummed() if isinstance(x, Address) else x for x in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def tx_request(
    to: Address | None,
    *,
    value: int = 0,
    data: bytes = b"",
    chain_id: int = 1,
    max_fee: int = 30 * GWEI,
    gas_limit: int = 100_000,
    request_chain: int | None = None,
) -> EthSignRequest:
    transaction = DynamicFeeTransaction(
        chain_id=chain_id,
        nonce=7,
        gas_limit=gas_limit,
        to=to,
        value=value,
        data=data,
        max_priority_fee_per_gas=GWEI,
        max_fee_per_gas=max_fee,
        access_list=(),
    )
    return EthSignRequest(
        transaction.unsigned_payload(),
        DataType.TYPED_TRANSACTION,
        KEYPATH,
        chain_id=chain_id if request_chain is None else request_chain,
    )


def typed_request(document: dict[str, Any]) -> EthSignRequest:
    data = json.dumps(document, separators=(",", ":")).encode()
    return EthSignRequest(data, DataType.TYPED_DATA, KEYPATH)


def message_request(message: bytes) -> EthSignRequest:
    return EthSignRequest(message, DataType.PERSONAL_MESSAGE, KEYPATH)


def context(**changes: Any) -> Context:
    values: dict[str, Any] = {"enrolled": frozenset({PATH}), "now": NOW, "path": PATH}
    values.update(changes)
    return Context(**values)


def judge(request: EthSignRequest, policy: Policy = POLICY, **changes: Any) -> Verdict:
    review = review_request(request, REGISTRIES)
    path = derivation_path(request.derivation_path)
    return evaluate(review, policy=policy, context=context(path=path, **changes))


def refused(verdict: Verdict, code: RefusalCode) -> RuleHit:
    assert verdict.decision is Decision.REFUSE, verdict
    hits = [hit for hit in verdict.refusals if hit.code == code.value]
    assert hits, verdict.refusals
    return hits[0]


def line_of(text: str) -> int:
    """The 1-based line of POLICY_TEXT that is exactly ``text``."""
    return POLICY_TEXT.splitlines().index(text) + 1


# --- the plain case and who may sign --------------------------------------------------------


def test_allowlisted_native_transfer_signs_and_names_its_rules() -> None:
    verdict = judge(tx_request(HOT, value=2 * ETH, gas_limit=21_000))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    rules = {hit.rule for hit in verdict.allowed_by}
    assert {"account[0]", "chain[0]", "destination[0]", "limit[0]"} <= rules
    assert verdict.spends[0].asset == AssetKey(1, None)
    assert verdict.spends[0].amount == 2 * ETH
    assert verdict.policy_hash == POLICY.sha256
    assert verdict.deciding == verdict.allowed_by


def test_evaluation_is_a_pure_function() -> None:
    request = tx_request(HOT, value=ETH, gas_limit=21_000)
    assert judge(request) == judge(request)


def test_chain_not_allowed() -> None:
    verdict = judge(tx_request(HOT, value=ETH, chain_id=10, gas_limit=21_000))
    hit = refused(verdict, R.CHAIN_NOT_ALLOWED)
    assert hit.rule == "chain" and hit.line is None
    assert "chain 10" in hit.reason


def test_path_not_in_policy() -> None:
    other = DerivationPath.parse("m/44'/60'/0'/0/9")
    verdict = evaluate(
        review_request(tx_request(HOT, value=ETH, gas_limit=21_000), REGISTRIES),
        policy=POLICY,
        context=context(path=other, enrolled=frozenset({other})),
    )
    assert refused(verdict, R.ACCOUNT_NOT_ALLOWED).rule == "account"


def test_path_allowed_but_not_enrolled() -> None:
    review = review_request(tx_request(HOT, value=ETH, gas_limit=21_000), REGISTRIES)
    verdict = evaluate(review, policy=POLICY, context=context(path=OTHER_PATH))
    hit = refused(verdict, R.ACCOUNT_NOT_ENROLLED)
    assert hit.rule == "account[1]"
    assert hit.line == line_of("[[account]]") + 3


def test_request_without_a_concrete_path() -> None:
    review = review_request(tx_request(HOT, value=ETH, gas_limit=21_000), REGISTRIES)
    verdict = evaluate(review, policy=POLICY, context=context(path=None))
    refused(verdict, R.ACCOUNT_NOT_ALLOWED)
    assert derivation_path(Keypath.parse("m/44'/60'/0'/0/*")) is None


# --- destinations and limits ----------------------------------------------------------------


def test_destination_not_in_allowlist() -> None:
    verdict = judge(tx_request(STRANGER, value=ETH, gas_limit=21_000))
    hit = refused(verdict, R.DESTINATION_NOT_ALLOWED)
    assert hit.rule == "destination" and STRANGER.checksummed() in hit.reason


def test_destination_listed_for_other_assets_only() -> None:
    data = calldata("transfer(address,uint256)", GAS_FLOAT, 10 * 10**6)
    verdict = judge(tx_request(USDC, data=data))
    hit = refused(verdict, R.DESTINATION_NOT_ALLOWED)
    assert hit.rule == "destination[1].assets"
    assert hit.line == POLICY_TEXT.splitlines().index('assets = ["native"]') + 1
    assert "USDC" in hit.reason


def test_erc20_refill_signs() -> None:
    data = calldata("transfer(address,uint256)", HOT, 250_000 * 10**6)
    verdict = judge(tx_request(USDC, data=data))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert [(s.asset, s.amount) for s in verdict.spends] == [(AssetKey(1, USDC), 250_000 * 10**6)]


def test_per_transaction_limit() -> None:
    verdict = judge(tx_request(HOT, value=11 * ETH, gas_limit=21_000))
    hit = refused(verdict, R.PER_TX_LIMIT)
    assert hit.rule == "limit[0].per_tx"
    assert hit.line == line_of('per_tx = "10"')
    assert verdict.spends == ()


def test_asset_without_a_limit() -> None:
    data = calldata("transfer(address,uint256)", HOT, 5)
    dai = a("6b175474e89094c44da98b954eedeac495271d0f")
    verdict = judge(tx_request(dai, data=data))
    assert refused(verdict, R.NO_LIMIT).rule == "limit"


def test_limit_decimals_must_match_the_registry() -> None:
    data = calldata("transfer(address,uint256)", HOT, 5)
    verdict = judge(tx_request(USDT, data=data))
    assert refused(verdict, R.DECIMALS_MISMATCH).rule == "limit[3].decimals"


# --- fees -------------------------------------------------------------------------------------


def test_fee_cap_per_gas() -> None:
    verdict = judge(tx_request(HOT, value=ETH, max_fee=101 * GWEI, gas_limit=21_000))
    hit = refused(verdict, R.FEE_PER_GAS)
    assert hit.rule == "chain[0].max_fee_per_gas_gwei"
    assert R.FEE_TOTAL.value not in verdict.refusal_codes()


def test_fee_cap_total() -> None:
    # 50 gwei x 300,000 gas = 0.015 ETH > 0.01 ETH.
    verdict = judge(tx_request(HOT, value=ETH, max_fee=50 * GWEI, gas_limit=300_000))
    assert refused(verdict, R.FEE_TOTAL).rule == "chain[0].max_total_fee_native"
    assert R.FEE_PER_GAS.value not in verdict.refusal_codes()


def test_transactions_need_fee_caps_on_their_chain() -> None:
    verdict = judge(tx_request(HOT, value=ETH, chain_id=8453, gas_limit=21_000))
    assert refused(verdict, R.NO_FEE_CAP).rule == "chain[1]"


def test_legacy_transaction_gas_price_is_its_fee_cap() -> None:
    transaction = LegacyTransaction(
        chain_id=1, nonce=1, gas_limit=21_000, to=HOT, value=ETH, data=b"", gas_price=150 * GWEI
    )
    request = EthSignRequest(
        transaction.unsigned_payload(), DataType.TRANSACTION, KEYPATH, chain_id=1
    )
    refused(judge(request), R.FEE_PER_GAS)


# --- contract calls ---------------------------------------------------------------------------


def test_unknown_contract_call_is_refused() -> None:
    verdict = judge(tx_request(ROUTER, data=bytes.fromhex("deadbeef") + bytes(32)))
    hit = refused(verdict, R.CALL_NOT_ALLOWED)
    assert hit.rule == "call" and "0xdeadbeef" in hit.reason
    # The walk's refusal stands for the review's unexplained-call warning at the same place.
    assert R.DANGER_WARNING.value not in verdict.refusal_codes()


def test_allowed_contract_call_signs() -> None:
    deposit = function_signature_to_4byte_selector("deposit()")
    verdict = judge(tx_request(WETH, value=ETH, data=deposit))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert "call[0]" in {hit.rule for hit in verdict.allowed_by}
    assert verdict.spends[0].amount == ETH


def test_allowed_selector_on_another_contract_is_refused() -> None:
    deposit = function_signature_to_4byte_selector("deposit()")
    refused(judge(tx_request(USDC, data=deposit)), R.CALL_NOT_ALLOWED)


def test_known_admin_call_needs_a_call_rule() -> None:
    data = calldata("transferOwnership(address)", STRANGER)
    assert judge(tx_request(OWNED, data=data)).decision is Decision.SIGN
    refused(judge(tx_request(WETH, data=data)), R.CALL_NOT_ALLOWED)


def test_contract_creation_is_refused() -> None:
    verdict = judge(tx_request(None, data=bytes.fromhex("6080604052")))
    refused(verdict, R.CONTRACT_CREATION)


# --- approvals and permits ----------------------------------------------------------------------


def test_approval_refused_unless_named() -> None:
    data = calldata("approve(address,uint256)", STRANGER, 10 * 10**6)
    hit = refused(judge(tx_request(USDC, data=data)), R.APPROVAL_NOT_ALLOWED)
    assert hit.rule == "approval"


def test_named_approval_needs_confirmation() -> None:
    data = calldata("approve(address,uint256)", ROUTER, 10 * 10**6)
    verdict = judge(tx_request(USDC, data=data))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    confirmation = verdict.confirmation
    assert isinstance(confirmation, Confirmation)
    assert confirmation.codes == ("token-approval",)
    assert confirmation.expected == ROUTER.checksummed()[-6:]
    assert ROUTER.checksummed() in confirmation.prompt
    assert "approval[0]" in {hit.rule for hit in verdict.allowed_by}


def test_approval_above_max_amount() -> None:
    data = calldata("approve(address,uint256)", ROUTER, 5_001 * 10**6)
    assert refused(judge(tx_request(USDC, data=data)), R.APPROVAL_OVER_MAX).rule == (
        "approval[0].max_amount"
    )


def test_unlimited_approval_refused_unless_allowed() -> None:
    data = calldata("approve(address,uint256)", ROUTER, MAX)
    hit = refused(judge(tx_request(USDC, data=data)), R.UNLIMITED_APPROVAL)
    assert hit.rule == "approval[0].allow_unlimited"
    data = calldata("approve(address,uint256)", PERMIT2, MAX)
    verdict = judge(tx_request(USDC, data=data))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None
    assert "unlimited-approval" not in verdict.confirmation.codes


def test_approval_by_a_way_the_rule_does_not_list() -> None:
    data = calldata("approve(address,uint256)", ROUTER, 1)
    hit = refused(judge(tx_request(USDT, data=data)), R.APPROVAL_NOT_ALLOWED)
    assert hit.rule == "approval[2].via"


def permit_document(spender: Address, value: int, deadline: int) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {
            "name": "USD Coin",
            "version": "2",
            "chainId": 1,
            "verifyingContract": USDC.checksummed(),
        },
        "message": {
            "owner": HOT.checksummed(),
            "spender": spender.checksummed(),
            "value": value,
            "nonce": 0,
            "deadline": deadline,
        },
    }


def test_permit_refused_unless_named() -> None:
    document = permit_document(STRANGER, 10**6, NOW + 3600)
    refused(judge(typed_request(document)), R.APPROVAL_NOT_ALLOWED)


def test_named_permit_needs_confirmation() -> None:
    verdict = judge(typed_request(permit_document(ROUTER, 10**6, NOW + 3600)))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None and "permit" in verdict.confirmation.codes


def test_expired_permit_is_refused() -> None:
    refused(judge(typed_request(permit_document(ROUTER, 10**6, NOW - 1))), R.EXPIRED)


def test_unlimited_permit_is_refused() -> None:
    refused(judge(typed_request(permit_document(ROUTER, MAX, NOW + 60))), R.UNLIMITED_APPROVAL)


def permit2_document(token: Address, amount: int, *, permit2: Address = PERMIT2) -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "PermitSingle": [
                {"name": "details", "type": "PermitDetails"},
                {"name": "spender", "type": "address"},
                {"name": "sigDeadline", "type": "uint256"},
            ],
            "PermitDetails": [
                {"name": "token", "type": "address"},
                {"name": "amount", "type": "uint160"},
                {"name": "expiration", "type": "uint48"},
                {"name": "nonce", "type": "uint48"},
            ],
        },
        "primaryType": "PermitSingle",
        "domain": {"name": "Permit2", "chainId": 1, "verifyingContract": permit2.checksummed()},
        "message": {
            "details": {
                "token": token.checksummed(),
                "amount": amount,
                "expiration": NOW + 86_400,
                "nonce": 0,
            },
            "spender": ROUTER.checksummed(),
            "sigDeadline": NOW + 600,
        },
    }


def test_permit2_refused_unless_named() -> None:
    hit = refused(judge(typed_request(permit2_document(USDC, 10**6))), R.APPROVAL_NOT_ALLOWED)
    assert hit.rule == "approval[0].via"


def test_named_permit2_needs_confirmation() -> None:
    verdict = judge(typed_request(permit2_document(USDT, 10**6)))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None and "permit2" in verdict.confirmation.codes


def test_permit2_unlimited_uint160_is_refused() -> None:
    document = permit2_document(USDT, (1 << 160) - 1)
    refused(judge(typed_request(document)), R.UNLIMITED_APPROVAL)


def test_permit2_on_another_contract_is_refused() -> None:
    document = permit2_document(USDT, 10**6, permit2=STRANGER)
    hit = refused(judge(typed_request(document)), R.APPROVAL_NOT_ALLOWED)
    assert "not the Permit2 deployment" in hit.reason


def test_set_approval_for_all_refused_unless_named() -> None:
    data = calldata("setApprovalForAll(address,bool)", STRANGER, True)
    refused(judge(tx_request(COLLECTION, data=data)), R.APPROVAL_NOT_ALLOWED)
    data = calldata("setApprovalForAll(address,bool)", ROUTER, True)
    verdict = judge(tx_request(COLLECTION, data=data))
    assert verdict.decision is Decision.SIGN, verdict.refusals


# --- refused transaction types and messages -----------------------------------------------------


@pytest.mark.parametrize(("tx_type", "eip"), [(0x03, "EIP-4844"), (0x04, "EIP-7702")])
def test_blob_and_set_code_transactions_are_refused(tx_type: int, eip: str) -> None:
    # type || rlp([chain_id, nonce, ...]): the decoder refuses on the type byte.
    payload = bytes([tx_type]) + rlp_encode((b"\x01", b"", b"\x01", b"\x02"))
    request = EthSignRequest(payload, DataType.TYPED_TRANSACTION, KEYPATH, chain_id=1)
    with pytest.raises(RefusedTransactionTypeError) as caught:
        review_request(request, REGISTRIES)
    verdict = refuse_undecodable(caught.value, policy=POLICY)
    hit = refused(verdict, R.TRANSACTION_TYPE)
    assert hit.rule == "transaction-type" and eip in hit.reason


def test_undecodable_request_is_refused() -> None:
    request = EthSignRequest(b"\xc1", DataType.TRANSACTION, KEYPATH, chain_id=1)
    with pytest.raises(DecodeError) as caught:
        review_request(request, REGISTRIES)
    refused(refuse_undecodable(caught.value, policy=POLICY), R.UNDECODABLE)


def test_message_is_hash_is_always_refused() -> None:
    # 32 bytes that even start with an allowed prefix: still a hash in disguise.
    message = b"Sign in to example.com 123456789"
    assert len(message) == 32
    verdict = judge(message_request(message))
    hit = refused(verdict, R.MESSAGE_IS_HASH)
    assert hit.rule == "personal_message"
    refused(judge(message_request(bytes(range(32)))), R.MESSAGE_IS_HASH)


def test_personal_message_allowed_only_by_prefix() -> None:
    verdict = judge(message_request(b"Sign in to example.com\nnonce: 8812"))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert verdict.allowed_by[-1].rule == "personal_message[0]"
    refused(judge(message_request(b"Sign in to evil.example\nnonce: 12345")), R.MESSAGE_NOT_ALLOWED)
    refused(judge(message_request(b"\xff\xfe not text at all, 40 bytes...")), R.MESSAGE_NOT_ALLOWED)


def test_personal_message_with_hidden_characters_needs_confirmation() -> None:
    verdict = judge(message_request("Sign in to example.com \u202eevil".encode()))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION
    assert verdict.confirmation is not None
    assert verdict.confirmation.codes == ("non-printable-text",)
    assert verdict.confirmation.prompt.startswith("Type the last 6 characters of the signing hash")


def order_document(contract: Address, primary: str = "Order") -> dict[str, Any]:
    return {
        "types": {
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary: [{"name": "maker", "type": "address"}, {"name": "amount", "type": "uint256"}],
        },
        "primaryType": primary,
        "domain": {"chainId": 1, "verifyingContract": contract.checksummed()},
        "message": {"maker": HOT.checksummed(), "amount": 5},
    }


def test_typed_data_allowed_only_when_named() -> None:
    verdict = judge(typed_request(order_document(MARKET)))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert verdict.allowed_by[-1].rule == "typed_data[0]"
    refused(judge(typed_request(order_document(STRANGER))), R.MESSAGE_NOT_ALLOWED)
    refused(judge(typed_request(order_document(MARKET, "Cancel"))), R.MESSAGE_NOT_ALLOWED)


# --- warnings -----------------------------------------------------------------------------------


def test_warning_needs_confirmation_of_the_destination() -> None:
    data = calldata("transfer(address,uint256)", HOT, 400)
    verdict = judge(tx_request(ODD_TOKEN, data=data))
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    confirmation = verdict.confirmation
    assert confirmation is not None
    assert confirmation.codes == ("unknown-token",)
    assert confirmation.expected == HOT.checksummed()[-6:]
    assert confirmation.accepts(" " + HOT.checksummed()[-6:].upper() + " ")
    assert not confirmation.accepts(HOT.checksummed()[-5:])
    assert verdict.spends[0].amount == 400


def test_danger_warning_no_rule_allows_is_refused() -> None:
    # The request claims chain 8453 but the transaction is bound to chain 1.
    verdict = judge(tx_request(HOT, value=ETH, gas_limit=21_000, request_chain=8453))
    hit = refused(verdict, R.DANGER_WARNING)
    assert hit.rule == "default-deny" and "chain-mismatch" in hit.reason


def test_lookalike_destination_is_refused_even_when_allowlisted() -> None:
    verdict = judge(tx_request(USDC_LOOKALIKE, value=ETH, gas_limit=21_000))
    hit = refused(verdict, R.DANGER_WARNING)
    assert "lookalike-address" in hit.reason
    assert R.DESTINATION_NOT_ALLOWED.value not in verdict.refusal_codes()


def test_every_refusal_is_reported() -> None:
    verdict = judge(tx_request(STRANGER, value=11 * ETH, max_fee=101 * GWEI, gas_limit=21_000))
    assert {
        R.FEE_PER_GAS.value,
        R.DESTINATION_NOT_ALLOWED.value,
        R.PER_TX_LIMIT.value,
    } <= verdict.refusal_codes()


def test_verdicts_are_consistent_by_construction() -> None:
    hit = RuleHit("chain", "no", None, R.CHAIN_NOT_ALLOWED.value)
    with pytest.raises(ValueError):
        Verdict(Decision.SIGN, b"", refusals=(hit,))
    with pytest.raises(ValueError):
        Verdict(Decision.REFUSE, b"")
    with pytest.raises(ValueError):
        Verdict(Decision.NEEDS_CONFIRMATION, b"")
    assert str(RuleHit("limit[0].per_tx", "too much", 12)) == "limit[0].per_tx (line 12): too much"


def test_operator_attestation_required_when_keys_are_pinned() -> None:
    text = POLICY_TEXT + f'\n[[operator]]\naddress = "{GAS_FLOAT}"\nlabel = "ops"\n'
    policy = parse_policy(text)
    request = tx_request(HOT, value=ETH, gas_limit=21_000)
    refused(judge(request, policy), R.OPERATOR_ATTESTATION)
    refused(judge(request, policy, attested_by=STRANGER), R.OPERATOR_ATTESTATION)
    verdict = judge(request, policy, attested_by=GAS_FLOAT)
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert "operator[0]" in {hit.rule for hit in verdict.allowed_by}


def test_review_objects_are_what_the_policy_reads() -> None:
    review: Review = review_request(tx_request(HOT, value=ETH, gas_limit=21_000), REGISTRIES)
    assert review.subject.transaction is not None
