"""Safe reviews: execTransaction and EIP-712 SafeTx reviewed as what they do, delegatecall shown."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils.abi import function_signature_to_4byte_selector
from vectorfiles import load_vectors

from shared.address import Address, parse_address
from shared.calls import KnownCall, Operation, pack_transactions
from shared.messages import SafeTx, parse_safe_version, parse_typed_data, safe_tx_hash
from shared.registry import AddressLabel, Registries, default_registries
from shared.review import (
    Review,
    ReviewKind,
    Severity,
    WarningCode,
    review_transaction,
    review_typed_data,
)
from shared.tx import DynamicFeeTransaction

W = WarningCode
EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
DAI = Address(bytes.fromhex("6b175474e89094c44da98b954eedeac495271d0f"))
# safe-deployments v1.4.1 multi_send_call_only.json and multi_send.json, canonical addresses.
CALL_ONLY = Address(bytes.fromhex("9641d764fc13c8b624c04430c7356c1c7c8102e2"))
MULTISEND = Address(bytes.fromhex("38869bf66a61cf6bdb996a6ae40d5853fd43b526"))
SAFE = Address(bytes.fromhex("5afe" * 10))
ZERO = Address(bytes(20))
ALICE = Address(b"\xa1" * 20)
BOB = Address(b"\xb0" * 20)
CAROL = Address(b"\xc0" * 20)
OTHER = Address(b"\xee" * 20)
REGISTRIES = default_registries().merged(
    Registries.build(
        labels=[
            AddressLabel(SAFE, "Treasury Safe"),
            AddressLabel(ALICE, "Alice"),
            AddressLabel(BOB, "Bob"),
            AddressLabel(CAROL, "Carol"),
        ]
    )
)
CALLS = load_vectors("calls")
EIP712 = load_vectors("eip712")


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [a.checksummed() if isinstance(a, Address) else a for a in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def transfer(to: Address, amount: int) -> bytes:
    return calldata("transfer(address,uint256)", to, amount)


PAYOUTS = [(USDC, ALICE, 1_000 * 10**6), (USDC, BOB, 2_500_500_000), (DAI, CAROL, 10 * 10**18)]
BATCH = calldata(
    "multiSend(bytes)",
    pack_transactions(
        [(Operation.CALL, token, 0, transfer(to, amount)) for token, to, amount in PAYOUTS]
    ),
)


def exec_tx(
    to: Address, data: bytes, operation: int, *, gas_price: int = 0, refund: Address = ZERO
) -> DynamicFeeTransaction:
    exec_data = calldata(EXEC, to, 0, data, operation, 0, 0, gas_price, ZERO, refund, b"\x11" * 65)
    return DynamicFeeTransaction(
        chain_id=1,
        nonce=12,
        gas_limit=300_000,
        to=SAFE,
        value=0,
        data=exec_data,
        max_priority_fee_per_gas=10**9,
        max_fee_per_gas=30 * 10**9,
        access_list=(),
    )


def safe_tx_document(
    to: Address,
    data: bytes,
    operation: int,
    *,
    nonce: int = 4,
    chain_id: int | None = 1,
    gas_price: int = 0,
) -> dict[str, Any]:
    domain_types = [{"name": "verifyingContract", "type": "address"}]
    domain: dict[str, Any] = {"verifyingContract": SAFE.checksummed()}
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
    return {
        "types": {
            "EIP712Domain": domain_types,
            "SafeTx": [{"name": n, "type": t} for n, t in members],
        },
        "primaryType": "SafeTx",
        "domain": domain,
        "message": {
            "to": to.checksummed(),
            "value": 0,
            "data": "0x" + data.hex(),
            "operation": operation,
            "safeTxGas": 0,
            "baseGas": 0,
            "gasPrice": gas_price,
            "gasToken": ZERO.checksummed(),
            "refundReceiver": ZERO.checksummed(),
            "nonce": nonce,
        },
    }


def review_document(document: dict[str, Any]) -> Review:
    return review_typed_data(parse_typed_data(json.dumps(document).encode()), REGISTRIES)


def payouts(review: Review) -> list[tuple[Address | None, Address | None, int, Address | None]]:
    return [(p.asset.token, p.destination, p.amount, p.sender) for p in review.payments]


def test_exec_of_multisend_call_only_batch_reviews_as_three_payouts() -> None:
    review = review_transaction(exec_tx(CALL_ONLY, BATCH, 1), REGISTRIES)
    assert review.warnings == ()
    assert payouts(review) == [(token, to, amount, SAFE) for token, to, amount in PAYOUTS]
    assert [p.path for p in review.payments] == [
        f"execTransaction.multiSend[{i}].transfer" for i in range(3)
    ]
    assert [p.label for p in review.payments] == ["Alice", "Bob", "Carol"]
    totals = {t.asset.symbol: (t.amount, t.count) for t in review.totals}
    assert totals == {"USDC": (3_500_500_000, 2), "DAI": (10 * 10**18, 1)}
    (safe_tx,) = review.subject.safe_transactions
    assert (safe_tx.safe, safe_tx.nonce, safe_tx.operation) == (SAFE, None, 1)
    assert "multiSend of 3 calls" in review.title


@pytest.mark.parametrize(
    "target",
    [MULTISEND, OTHER, USDC],
    ids=["registry MultiSend (not call-only)", "unknown contract", "a token"],
)
def test_same_safe_tx_delegatecalling_any_other_contract_is_danger(target: Address) -> None:
    review = review_transaction(exec_tx(target, BATCH, 1), REGISTRIES)
    first = review.warnings[0]
    assert (first.code, first.severity) == (W.DELEGATECALL, Severity.DANGER)
    assert first.path == "execTransaction"
    assert review.max_severity is Severity.DANGER


def test_delegatecall_to_call_only_running_something_else_is_danger() -> None:
    review = review_transaction(exec_tx(CALL_ONLY, transfer(BOB, 1), 1), REGISTRIES)
    assert review.warnings[0].code is W.DELEGATECALL
    assert "something else than multiSend" in review.warnings[0].message


def test_delegatecall_entry_inside_a_multisend_is_danger() -> None:
    packed = pack_transactions(
        [
            (Operation.CALL, USDC, 0, transfer(ALICE, 1)),
            (Operation.DELEGATECALL, OTHER, 0, transfer(BOB, 1)),
        ]
    )
    review = review_transaction(
        exec_tx(CALL_ONLY, calldata("multiSend(bytes)", packed), 1), REGISTRIES
    )
    delegatecalls = [w for w in review.warnings if w.code is W.DELEGATECALL]
    assert [w.path for w in delegatecalls] == ["execTransaction.multiSend[1]"]
    assert review.warnings[0].code is W.DELEGATECALL


def test_same_safe_tx_as_eip712_typed_data_gives_the_same_payouts() -> None:
    by_exec = review_transaction(exec_tx(CALL_ONLY, BATCH, 1), REGISTRIES)
    document = safe_tx_document(CALL_ONLY, BATCH, 1, nonce=4)
    by_typed = review_document(document)
    assert by_typed.kind is ReviewKind.SAFE_TX
    assert payouts(by_typed) == payouts(by_exec)
    assert by_typed.totals == by_exec.totals
    assert [p.path for p in by_typed.payments] == [
        f"safeTx.multiSend[{i}].transfer" for i in range(3)
    ]
    assert by_typed.warnings == ()
    expected = _hash_eip191_message(encode_typed_data(full_message=document))
    assert by_typed.signing_hash == bytes(expected)
    version = parse_safe_version("1.4.1")
    safe_tx = by_typed.subject.safe_tx
    assert isinstance(safe_tx, SafeTx)
    assert by_typed.signing_hash == safe_tx_hash(safe_tx, version)
    fields = {f.label: f.value for f in by_typed.fields if f.section.startswith("Safe transaction")}
    assert fields["Safe nonce"] == "4"
    assert fields["safeTxHash"] == "0x" + by_typed.signing_hash.hex()
    assert fields["Operation"] == "DELEGATECALL (1)"


def test_typed_safe_tx_delegatecall_to_other_contract_is_danger() -> None:
    review = review_document(safe_tx_document(OTHER, BATCH, 1))
    assert review.warnings[0].code is W.DELEGATECALL
    assert review.warnings[0].path == "safeTx"


def test_bybit_delegatecall_is_the_first_danger() -> None:
    vector = CALLS["bybit_delegatecall"]
    attacker = parse_address(vector["to"], field="to")
    args = vector["inner_args"]
    inner = transfer(parse_address(args["to"], field="to"), args["amount"])
    review = review_transaction(exec_tx(attacker, inner, vector["operation"]), REGISTRIES)
    assert review.warnings[0].code is W.DELEGATECALL
    assert review.max_severity is Severity.DANGER
    operations = [f.value for f in review.fields if f.label == "Operation"]
    assert operations == ["DELEGATECALL (1)"]


def test_gas_refund_fields_are_flagged() -> None:
    review = review_transaction(exec_tx(CALL_ONLY, BATCH, 1, gas_price=1, refund=OTHER), REGISTRIES)
    refund = [w for w in review.warnings if w.code is W.SAFE_GAS_REFUND]
    assert len(refund) == 1
    assert OTHER.checksummed() in refund[0].message
    typed = review_document(safe_tx_document(CALL_ONLY, BATCH, 1, gas_price=10**9))
    assert W.SAFE_GAS_REFUND in typed.codes()


def test_domain_without_chain_id_is_an_old_safe() -> None:
    review = review_document(safe_tx_document(CALL_ONLY, BATCH, 1, chain_id=None))
    assert review.chain_id is None
    # No chain: no registry entry applies, so the MultiSendCallOnly and the tokens are unknown,
    # but every payout is still listed, in base units.
    assert review.codes() == {
        W.OLD_SAFE_VERSION,
        W.DELEGATECALL,
        W.UNKNOWN_TOKEN,
        W.UNKNOWN_CONTRACT,
    }
    assert [(p.destination, p.amount) for p in review.payments] == [
        (to, amount) for _, to, amount in PAYOUTS
    ]
    assert {(p.asset.chain_id, p.asset.known) for p in review.payments} == {(None, False)}


def test_safe_admin_change_inside_a_safe_tx() -> None:
    data = calldata("addOwnerWithThreshold(address,uint256)", OTHER, 1)
    review = review_transaction(exec_tx(SAFE, data, 0), REGISTRIES)
    admin = [w for w in review.warnings if w.code is W.SAFE_ADMIN_CHANGE]
    assert [w.path for w in admin] == ["execTransaction.addOwnerWithThreshold"]


def test_nested_safe_exec_inside_a_batch_is_unpacked() -> None:
    inner_exec = calldata(EXEC, USDC, 0, transfer(BOB, 5), 0, 0, 0, 0, ZERO, ZERO, b"\x22" * 65)
    packed = pack_transactions([(Operation.CALL, SAFE, 0, inner_exec)])
    review = review_transaction(
        exec_tx(CALL_ONLY, calldata("multiSend(bytes)", packed), 1), REGISTRIES
    )
    assert [(p.destination, p.amount, p.sender) for p in review.payments] == [(BOB, 5, SAFE)]
    assert len(review.subject.safe_transactions) == 2


@pytest.mark.parametrize(
    ("name", "codes", "kind"),
    [
        ("safe_tx_gnosis_chain", {W.SAFE_ADMIN_CHANGE, W.UNKNOWN_CONTRACT}, ReviewKind.SAFE_TX),
        ("safe_tx_legacy_domain", {W.OLD_SAFE_VERSION}, ReviewKind.SAFE_TX),
    ],
)
def test_published_safe_transactions(name: str, codes: set[WarningCode], kind: ReviewKind) -> None:
    vector = EIP712["typed_data"][name]
    review = review_typed_data(
        parse_typed_data(json.dumps(vector["typed_data"]).encode()), default_registries()
    )
    assert review.kind is kind
    assert review.signing_hash == bytes.fromhex(vector["signing_hash"][2:])
    assert review.codes() == codes
    nonce = {f.label: f.value for f in review.fields}["Safe nonce"]
    assert nonce == str(vector["fields"]["nonce"])


def test_inner_call_of_an_exec_is_a_known_call() -> None:
    review = review_transaction(exec_tx(CALL_ONLY, BATCH, 1), REGISTRIES)
    call = review.subject.safe_transactions[0].call
    assert isinstance(call, KnownCall) and call.name == "multiSend"
