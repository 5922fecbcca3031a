"""Policy rules for Safes: payout batches, delegatecalls, admin changes, refunds, old domains."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from vectorfiles import load_vectors

from shared.address import Address
from shared.calls import Operation, pack_transactions
from shared.erc4527 import DataType, EthSignRequest, Keypath
from shared.registry import default_registries
from shared.review import review_request
from shared.tx import DynamicFeeTransaction
from signer.keys.bip32 import DerivationPath
from signer.policy import (
    AssetKey,
    Context,
    Decision,
    Policy,
    RefusalCode,
    Verdict,
    evaluate,
    parse_policy,
)
from signer.policy.verdict import RuleHit

R = RefusalCode
NOW = 1_750_000_000
PATH_TEXT = "m/44'/60'/0'/0/0"
KEYPATH = Keypath.parse(PATH_TEXT)
PATH = DerivationPath.parse(PATH_TEXT)
REGISTRIES = default_registries()
EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"


def a(text: str) -> Address:
    return Address(bytes.fromhex(text.removeprefix("0x")))


TREASURY = a("dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb")
COUNCIL = a("52908400098527886e0f7030069857d2e4169ee7")
PAYROLL = a("d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb")
AUDITOR = a("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
STRANGER = Address(b"\x33" * 20)
ZERO = Address(bytes(20))
USDC = a("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
DAI = a("6b175474e89094c44da98b954eedeac495271d0f")
# safe-global/safe-deployments v1.4.1: multi_send_call_only.json, multi_send.json (canonical).
CALL_ONLY = a("9641d764fc13c8b624c04430c7356c1c7c8102e2")
MULTISEND = a("38869bf66a61cf6bdb996a6ae40d5853fd43b526")
# v1.3.0 eip155 MultiSendCallOnly: in the registry, deliberately not pinned by the policy.
CALL_ONLY_130_EIP155 = a("a1dabef33b3b82c7814b6d82a79e50f4ac44102b")
MIGRATION = a("526643f69b81b008f46d95cd5ced5ec0edffdac6")
USDC_UNIT = 10**6
DAI_UNIT = 10**18

POLICY_TEXT = f"""\
[policy]
name = "Safe rules under test"
version = 1

[[chain]]
id = 1
max_fee_per_gas_gwei = "100"
max_total_fee_native = "0.05"

[[account]]
path = "{PATH_TEXT}"

[[safe]]
chain = 1
address = "{TREASURY}"
label = "Treasury"
profile = "owner"

[[safe]]
chain = 1
address = "{COUNCIL}"
label = "Council"
profile = "governance"
admin_functions = ["enableModule", "addOwnerWithThreshold", "migrateSingleton"]
migration_libraries = ["{MIGRATION}"]
allow_gas_refund = true
allow_pre_1_3 = true

[[multisend_call_only]]
chain = 1
address = "{CALL_ONLY}"
label = "Safe 1.4.1 MultiSendCallOnly"

[[destination]]
chain = 1
address = "{PAYROLL}"
assets = ["{USDC}", "{DAI}"]
label = "Payroll"

[[destination]]
chain = 1
address = "{AUDITOR}"
assets = ["{USDC}", "native"]
label = "Auditor"

[[limit]]
chain = 1
asset = "{USDC}"
decimals = 6
per_tx = "100000"
per_24h = "150000"

[[limit]]
chain = 1
asset = "{DAI}"
decimals = 18
per_tx = "50000"
per_24h = "50000"

[[limit]]
chain = 1
asset = "native"
per_tx = "5"
per_24h = "5"
"""
POLICY = parse_policy(POLICY_TEXT)


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [x.checksummed() if isinstance(x, Address) else x for x in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def transfer(to: Address, amount: int) -> bytes:
    return calldata("transfer(address,uint256)", to, amount)


def batch(entries: list[tuple[Operation, Address, int, bytes]]) -> bytes:
    return calldata("multiSend(bytes)", pack_transactions(entries))


PAYOUTS = batch(
    [
        (Operation.CALL, USDC, 0, transfer(PAYROLL, 40_000 * USDC_UNIT)),
        (Operation.CALL, USDC, 0, transfer(AUDITOR, 15_000 * USDC_UNIT)),
        (Operation.CALL, DAI, 0, transfer(PAYROLL, 20_000 * DAI_UNIT)),
    ]
)


def safe_tx_request(
    to: Address,
    data: bytes,
    operation: int,
    *,
    safe: Address = TREASURY,
    value: int = 0,
    chain_id: int | None = 1,
    gas_price: int = 0,
    refund: Address = ZERO,
) -> EthSignRequest:
    domain_types = [{"name": "verifyingContract", "type": "address"}]
    domain: dict[str, Any] = {"verifyingContract": safe.checksummed()}
    if chain_id is not None:
        domain_types.insert(0, {"name": "chainId", "type": "uint256"})
        domain["chainId"] = chain_id
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
    document = {
        "types": {
            "EIP712Domain": domain_types,
            "SafeTx": [{"name": n, "type": t} for n, t in members],
        },
        "primaryType": "SafeTx",
        "domain": domain,
        "message": {
            "to": to.checksummed(),
            "value": value,
            "data": "0x" + data.hex(),
            "operation": operation,
            "safeTxGas": 0,
            "baseGas": 0,
            "gasPrice": gas_price,
            "gasToken": ZERO.checksummed(),
            "refundReceiver": refund.checksummed(),
            "nonce": 4,
        },
    }
    data_bytes = json.dumps(document, separators=(",", ":")).encode()
    return EthSignRequest(data_bytes, DataType.TYPED_DATA, KEYPATH)


def exec_request(to: Address, data: bytes, operation: int, *, safe: Address) -> EthSignRequest:
    exec_data = calldata(EXEC, to, 0, data, operation, 0, 0, 0, ZERO, ZERO, b"\x11" * 65)
    transaction = DynamicFeeTransaction(
        chain_id=1,
        nonce=12,
        gas_limit=300_000,
        to=safe,
        value=0,
        data=exec_data,
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=30 * 10**9,
        access_list=(),
    )
    return EthSignRequest(
        transaction.unsigned_payload(), DataType.TYPED_TRANSACTION, KEYPATH, chain_id=1
    )


def judge(request: EthSignRequest, policy: Policy = POLICY, **changes: Any) -> Verdict:
    values: dict[str, Any] = {"enrolled": frozenset({PATH}), "now": NOW, "path": PATH}
    values.update(changes)
    review = review_request(request, REGISTRIES)
    return evaluate(review, policy=policy, context=Context(**values))


def refused(verdict: Verdict, code: RefusalCode) -> RuleHit:
    assert verdict.decision is Decision.REFUSE, verdict
    hits = [hit for hit in verdict.refusals if hit.code == code.value]
    assert hits, verdict.refusals
    return hits[0]


def spends(verdict: Verdict) -> dict[AssetKey, int]:
    return {spend.asset: spend.amount for spend in verdict.spends}


# --- payout batches -----------------------------------------------------------------------------


def test_multisend_call_only_payout_batch_signs() -> None:
    verdict = judge(safe_tx_request(CALL_ONLY, PAYOUTS, 1))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    rules = {hit.rule for hit in verdict.allowed_by}
    assert {"safe[0]", "multisend_call_only[0]", "destination[0]", "destination[1]"} <= rules
    assert spends(verdict) == {
        AssetKey(1, USDC): 55_000 * USDC_UNIT,
        AssetKey(1, DAI): 20_000 * DAI_UNIT,
    }


def test_the_same_batch_through_exec_transaction_signs() -> None:
    verdict = judge(exec_request(CALL_ONLY, PAYOUTS, 1, safe=TREASURY))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert spends(verdict)[AssetKey(1, USDC)] == 55_000 * USDC_UNIT


def test_batch_with_one_unlisted_payout_is_refused() -> None:
    data = batch(
        [
            (Operation.CALL, USDC, 0, transfer(PAYROLL, 10 * USDC_UNIT)),
            (Operation.CALL, USDC, 0, transfer(STRANGER, 10 * USDC_UNIT)),
        ]
    )
    verdict = judge(safe_tx_request(CALL_ONLY, data, 1))
    hit = refused(verdict, R.DESTINATION_NOT_ALLOWED)
    assert STRANGER.checksummed() in hit.reason


def test_batch_payouts_count_toward_the_per_transaction_limit() -> None:
    data = batch(
        [(Operation.CALL, USDC, 0, transfer(PAYROLL, 60_000 * USDC_UNIT)) for _ in range(2)]
    )
    assert refused(judge(safe_tx_request(CALL_ONLY, data, 1)), R.PER_TX_LIMIT).rule == (
        "limit[0].per_tx"
    )


def test_batch_entry_with_native_value_is_a_payment() -> None:
    data = batch([(Operation.CALL, STRANGER, 10**18, b"")])
    refused(judge(safe_tx_request(CALL_ONLY, data, 1)), R.DESTINATION_NOT_ALLOWED)
    data = batch([(Operation.CALL, AUDITOR, 10**18, b"")])
    verdict = judge(safe_tx_request(CALL_ONLY, data, 1))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert spends(verdict) == {AssetKey(1, None): 10**18}


def test_inner_delegatecall_is_refused() -> None:
    data = batch(
        [
            (Operation.CALL, USDC, 0, transfer(PAYROLL, 10 * USDC_UNIT)),
            (Operation.DELEGATECALL, STRANGER, 0, b""),
        ]
    )
    verdict = judge(safe_tx_request(CALL_ONLY, data, 1))
    hit = refused(verdict, R.INNER_DELEGATECALL)
    assert hit.rule == "multisend_call_only" and "entry 1" in hit.reason


@pytest.mark.parametrize(
    "target",
    [MULTISEND, CALL_ONLY_130_EIP155, STRANGER, USDC],
    ids=["MultiSend (not call-only)", "unpinned MultiSendCallOnly", "unknown", "a token"],
)
def test_delegatecall_to_a_contract_not_pinned_is_refused(target: Address) -> None:
    verdict = judge(safe_tx_request(target, PAYOUTS, 1))
    hit = refused(verdict, R.DELEGATECALL_NOT_ALLOWED)
    assert target.checksummed() in hit.reason


def test_bybit_parameters_are_refused() -> None:
    # Feb 2025: a SafeTx delegatecalling a contract whose transfer(address,uint256) rewrote
    # the Safe's singleton (slot 0). The selector is a plain transfer; the operation is not.
    bybit = load_vectors("calls")["bybit_delegatecall"]
    args = bybit["inner_args"]
    data = calldata(bybit["inner_signature"], a(args["to"]), args["amount"])
    request = safe_tx_request(a(bybit["to"]), data, bybit["operation"])
    refused(judge(request), R.DELEGATECALL_NOT_ALLOWED)
    refused(judge(exec_request(a(bybit["to"]), data, 1, safe=TREASURY)), R.DELEGATECALL_NOT_ALLOWED)


def test_pinned_multisend_running_something_else_is_refused() -> None:
    data = calldata("enableModule(address)", STRANGER)
    refused(judge(safe_tx_request(CALL_ONLY, data, 1)), R.DELEGATECALL_NOT_ALLOWED)


def test_safe_not_in_policy_is_refused() -> None:
    verdict = judge(safe_tx_request(CALL_ONLY, PAYOUTS, 1, safe=STRANGER))
    assert refused(verdict, R.SAFE_NOT_ALLOWED).rule == "safe"
    verdict = judge(exec_request(CALL_ONLY, PAYOUTS, 1, safe=STRANGER))
    refused(verdict, R.SAFE_NOT_ALLOWED)


# --- admin changes ------------------------------------------------------------------------------


def test_admin_change_refused_in_owner_profile() -> None:
    data = calldata("enableModule(address)", STRANGER)
    verdict = judge(safe_tx_request(TREASURY, data, 0))
    hit = refused(verdict, R.SAFE_ADMIN_CHANGE)
    assert hit.rule == "safe[0].profile"
    assert hit.line == POLICY_TEXT.splitlines().index('profile = "owner"') + 1


def test_admin_change_allowed_in_governance_profile() -> None:
    data = calldata("enableModule(address)", STRANGER)
    verdict = judge(safe_tx_request(COUNCIL, data, 0, safe=COUNCIL))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert "safe[1].admin_functions" in {hit.rule for hit in verdict.allowed_by}


def test_governance_refuses_functions_it_does_not_list() -> None:
    data = calldata("changeThreshold(uint256)", 1)
    verdict = judge(safe_tx_request(COUNCIL, data, 0, safe=COUNCIL))
    assert refused(verdict, R.SAFE_ADMIN_CHANGE).rule == "safe[1].admin_functions"


def test_admin_change_inside_a_batch() -> None:
    # In a MultiSend entry, to = 0 stands for the calling Safe.
    data = batch(
        [(Operation.CALL, ZERO, 0, calldata("addOwnerWithThreshold(address,uint256)", STRANGER, 2))]
    )
    verdict = judge(safe_tx_request(CALL_ONLY, data, 1, safe=COUNCIL))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    refused(judge(safe_tx_request(CALL_ONLY, data, 1)), R.SAFE_ADMIN_CHANGE)


def test_admin_function_on_another_safe_is_just_a_call() -> None:
    data = calldata("enableModule(address)", STRANGER)
    verdict = judge(safe_tx_request(TREASURY, data, 0, safe=COUNCIL))
    refused(verdict, R.CALL_NOT_ALLOWED)


def test_singleton_migration_only_through_a_listed_library() -> None:
    data = calldata("migrateSingleton()")
    verdict = judge(safe_tx_request(MIGRATION, data, 1, safe=COUNCIL))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    refused(judge(safe_tx_request(STRANGER, data, 1, safe=COUNCIL)), R.DELEGATECALL_NOT_ALLOWED)
    refused(judge(safe_tx_request(MIGRATION, data, 1)), R.DELEGATECALL_NOT_ALLOWED)


# --- refunds, versions, messages ----------------------------------------------------------------


def test_refund_receiver_refused() -> None:
    verdict = judge(safe_tx_request(CALL_ONLY, PAYOUTS, 1, refund=STRANGER))
    hit = refused(verdict, R.SAFE_GAS_REFUND)
    assert hit.rule == "safe[0].allow_gas_refund"


def test_gas_price_refused() -> None:
    refused(judge(safe_tx_request(CALL_ONLY, PAYOUTS, 1, gas_price=1)), R.SAFE_GAS_REFUND)


def test_refund_allowed_when_the_safe_allows_it() -> None:
    data = calldata("enableModule(address)", STRANGER)
    request = safe_tx_request(COUNCIL, data, 0, safe=COUNCIL, refund=STRANGER, gas_price=5)
    verdict = judge(request)
    assert verdict.decision is Decision.SIGN, verdict.refusals


def test_safe_before_1_3_needs_explicit_allowance() -> None:
    verdict = judge(safe_tx_request(CALL_ONLY, PAYOUTS, 1, chain_id=None))
    assert refused(verdict, R.SAFE_VERSION).rule == "safe[0].allow_pre_1_3"
    verdict = judge(safe_tx_request(CALL_ONLY, PAYOUTS, 1, chain_id=None, safe=COUNCIL))
    # Without a chain the review cannot name the tokens: a person confirms the base units.
    assert verdict.decision is Decision.NEEDS_CONFIRMATION, verdict.refusals
    assert verdict.confirmation is not None
    assert verdict.confirmation.codes == ("unknown-token",)
    # The payouts still count, on the chain of the Safe's rule.
    assert spends(verdict)[AssetKey(1, USDC)] == 55_000 * USDC_UNIT


def test_safe_before_1_3_payouts_are_still_limited() -> None:
    data = batch([(Operation.CALL, USDC, 0, transfer(PAYROLL, 100_001 * USDC_UNIT))])
    verdict = judge(safe_tx_request(CALL_ONLY, data, 1, chain_id=None, safe=COUNCIL))
    refused(verdict, R.PER_TX_LIMIT)


def safe_message_request(safe: Address, message: bytes) -> EthSignRequest:
    document = {
        "types": {
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "SafeMessage": [{"name": "message", "type": "bytes"}],
        },
        "primaryType": "SafeMessage",
        "domain": {"chainId": 1, "verifyingContract": safe.checksummed()},
        "message": {"message": "0x" + message.hex()},
    }
    data = json.dumps(document, separators=(",", ":")).encode()
    return EthSignRequest(data, DataType.TYPED_DATA, KEYPATH)


def test_safe_messages_need_allow_messages() -> None:
    verdict = judge(safe_message_request(TREASURY, b"quarterly attestation"))
    assert refused(verdict, R.SAFE_MESSAGE).rule == "safe[0].allow_messages"
    text = POLICY_TEXT.replace('profile = "owner"', 'profile = "owner"\nallow_messages = true')
    verdict = judge(safe_message_request(TREASURY, b"quarterly attestation"), parse_policy(text))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    refused(judge(safe_message_request(TREASURY, bytes(32)), parse_policy(text)), R.MESSAGE_IS_HASH)
    refused(judge(safe_message_request(STRANGER, b"hello there")), R.SAFE_NOT_ALLOWED)
