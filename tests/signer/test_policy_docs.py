"""docs/policy.md: every key is documented, and its two examples parse and behave as described."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.abi import function_signature_to_4byte_selector

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
    policy_template,
)
from signer.policy.parse import POLICY_KEYS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
EXAMPLE = re.compile(r"<!-- example: ([a-z-]+) -->\n```toml\n(.*?)```", re.DOTALL)
NOW = 1_750_000_000
PATH_TEXT = "m/44'/60'/0'/0/0"
KEYPATH = Keypath.parse(PATH_TEXT)
PATH = DerivationPath.parse(PATH_TEXT)
REGISTRIES = default_registries()
ETH = 10**18
GWEI = 10**9
ZERO = Address(bytes(20))


def a(text: str) -> Address:
    return Address(bytes.fromhex(text.removeprefix("0x")))


HOT_A = a("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")
HOT_B = a("fb6916095ca1df60bb79ce92ce3ea74c37c5d359")
TREASURY = a("dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb")
PAYROLL = a("d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb")
AUDITOR = HOT_A
CALL_ONLY = a("9641d764fc13c8b624c04430c7356c1c7c8102e2")
USDC = a("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
USDT = a("dac17f958d2ee523a2206206994597c13d831ec7")
DAI = a("6b175474e89094c44da98b954eedeac495271d0f")
STRANGER = Address(b"\x33" * 20)


def examples() -> dict[str, str]:
    found = {name: body for name, body in EXAMPLE.findall(DOC)}
    assert set(found) == {"hot-wallet", "safe-owner"}
    return found


def example(name: str) -> Policy:
    return parse_policy(examples()[name])


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [x.checksummed() if isinstance(x, Address) else x for x in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def tx_request(to: Address, *, value: int = 0, data: bytes = b"") -> EthSignRequest:
    transaction = DynamicFeeTransaction(
        chain_id=1,
        nonce=3,
        gas_limit=21_000 if not data else 90_000,
        to=to,
        value=value,
        data=data,
        max_priority_fee_per_gas=GWEI,
        max_fee_per_gas=40 * GWEI,
        access_list=(),
    )
    return EthSignRequest(
        transaction.unsigned_payload(), DataType.TYPED_TRANSACTION, KEYPATH, chain_id=1
    )


def safe_tx_request(to: Address, data: bytes, operation: int) -> EthSignRequest:
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
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "SafeTx": [{"name": n, "type": t} for n, t in members],
        },
        "primaryType": "SafeTx",
        "domain": {"chainId": 1, "verifyingContract": TREASURY.checksummed()},
        "message": {
            "to": to.checksummed(),
            "value": 0,
            "data": "0x" + data.hex(),
            "operation": operation,
            "safeTxGas": 0,
            "baseGas": 0,
            "gasPrice": 0,
            "gasToken": ZERO.checksummed(),
            "refundReceiver": ZERO.checksummed(),
            "nonce": 17,
        },
    }
    data_bytes = json.dumps(document, separators=(",", ":")).encode()
    return EthSignRequest(data_bytes, DataType.TYPED_DATA, KEYPATH)


def judge(
    request: EthSignRequest, policy: Policy, spent: dict[AssetKey, int] | None = None
) -> Verdict:
    context = Context(enrolled=frozenset({PATH}), now=NOW, path=PATH, spent=spent or {})
    return evaluate(review_request(request, REGISTRIES), policy=policy, context=context)


def refusal_codes(verdict: Verdict) -> set[str]:
    assert verdict.decision is Decision.REFUSE, verdict
    return set(verdict.refusal_codes())


# --- the reference is complete ------------------------------------------------------------


def section(table: str) -> str:
    heading = "### `[policy]`" if table == "policy" else f"### `[[{table}]]`"
    start = DOC.index(heading)
    end = DOC.find("\n### ", start + 1)
    return DOC[start : end if end != -1 else len(DOC)]


@pytest.mark.parametrize("table", sorted(POLICY_KEYS))
def test_every_table_and_key_is_documented(table: str) -> None:
    text = section(table)
    for key in sorted(POLICY_KEYS[table]):
        assert f"| `{key}` |" in text, f"{table}.{key} is not documented"


def test_every_table_appears_in_the_template() -> None:
    template = policy_template()
    for table in POLICY_KEYS:
        assert f"[{table}]" in template, table


# --- the examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hot-wallet", "safe-owner"])
def test_examples_parse(name: str) -> None:
    policy = example(name)
    assert policy.chains and policy.accounts and policy.destinations and policy.limits


def test_hot_wallet_example_signs_allowlisted_refills() -> None:
    policy = example("hot-wallet")
    verdict = judge(tx_request(HOT_A, value=100 * ETH), policy)
    assert verdict.decision is Decision.SIGN, verdict.refusals
    data = calldata("transfer(address,uint256)", HOT_A, 1_000_000 * 10**6)
    verdict = judge(tx_request(USDC, data=data), policy)
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert verdict.spends[0].asset == AssetKey(1, USDC)


def test_hot_wallet_example_refuses_what_it_says() -> None:
    policy = example("hot-wallet")
    assert RefusalCode.DESTINATION_NOT_ALLOWED.value in refusal_codes(
        judge(tx_request(STRANGER, value=ETH), policy)
    )
    usdt_to_b = calldata("transfer(address,uint256)", HOT_B, 10 * 10**6)
    assert RefusalCode.DESTINATION_NOT_ALLOWED.value in refusal_codes(
        judge(tx_request(USDT, data=usdt_to_b), policy)
    )
    four_refills = {AssetKey(1, None): 4 * 250 * ETH}
    assert RefusalCode.WINDOW_LIMIT.value in refusal_codes(
        judge(tx_request(HOT_A, value=250 * ETH), policy, four_refills)
    )
    approve = calldata("approve(address,uint256)", HOT_A, 1)
    assert RefusalCode.APPROVAL_NOT_ALLOWED.value in refusal_codes(
        judge(tx_request(USDC, data=approve), policy)
    )


def payout_batch() -> bytes:
    entries = [
        (Operation.CALL, USDC, 0, calldata("transfer(address,uint256)", PAYROLL, 120_000 * 10**6)),
        (Operation.CALL, DAI, 0, calldata("transfer(address,uint256)", PAYROLL, 80_000 * 10**18)),
        (Operation.CALL, USDC, 0, calldata("transfer(address,uint256)", AUDITOR, 25_000 * 10**6)),
    ]
    return calldata("multiSend(bytes)", pack_transactions(entries))


def test_safe_example_signs_a_multisend_call_only_payout_batch() -> None:
    verdict = judge(safe_tx_request(CALL_ONLY, payout_batch(), 1), example("safe-owner"))
    assert verdict.decision is Decision.SIGN, verdict.refusals
    assert {s.asset.token: s.amount for s in verdict.spends} == {
        USDC: 145_000 * 10**6,
        DAI: 80_000 * 10**18,
    }


def test_safe_example_refuses_enable_module() -> None:
    data = calldata("enableModule(address)", STRANGER)
    verdict = judge(safe_tx_request(TREASURY, data, 0), example("safe-owner"))
    assert RefusalCode.SAFE_ADMIN_CHANGE.value in refusal_codes(verdict)


def test_safe_example_refuses_delegatecall_elsewhere_and_transactions() -> None:
    policy = example("safe-owner")
    verdict = judge(safe_tx_request(STRANGER, payout_batch(), 1), policy)
    assert RefusalCode.DELEGATECALL_NOT_ALLOWED.value in refusal_codes(verdict)
    verdict = judge(tx_request(PAYROLL, value=ETH), policy)
    assert RefusalCode.NO_FEE_CAP.value in refusal_codes(verdict)


def test_every_refusal_code_is_documented() -> None:
    verdicts = DOC[DOC.index("### Verdicts") :]
    missing = [code.value for code in RefusalCode if f"`{code.value}`" not in verdicts]
    assert missing == []
