"""Transaction reviews: each transaction type and call kind, with fields, payments and warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account._utils.legacy_transactions import serializable_unsigned_transaction_from_dict
from eth_utils.abi import function_signature_to_4byte_selector

from shared.address import Address
from shared.calls import UnexplainedCall
from shared.registry import AddressLabel, Registries, default_registries
from shared.review import (
    Review,
    ReviewKind,
    Severity,
    Source,
    WarningCode,
    review_transaction,
)
from shared.tx import (
    AccessListEntry,
    AccessListTransaction,
    DynamicFeeTransaction,
    LegacyTransaction,
    Transaction,
    decode_transaction,
)

W = WarningCode
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
DAI = Address(bytes.fromhex("6b175474e89094c44da98b954eedeac495271d0f"))
# safe-deployments v1.4.1 multi_send_call_only.json, canonical address.
CALL_ONLY = Address(bytes.fromhex("9641d764fc13c8b624c04430c7356c1c7c8102e2"))
ALICE = Address(b"\xa1" * 20)
BOB = Address(b"\xb0" * 20)
CONTRACT = Address(b"\xcc" * 20)
TREASURY = Address(bytes.fromhex("1234" + "56" * 16 + "abcd"))
POISON = Address(bytes.fromhex("1234" + "ff" * 16 + "abcd"))
MAX = 2**256 - 1
ETH = 10**18
REGISTRIES = default_registries().merged(
    Registries.build(
        labels=[AddressLabel(BOB, "Bob (cold storage)"), AddressLabel(TREASURY, "Treasury")]
    )
)


def calldata(signature: str, *args: Any) -> bytes:
    """Call data encoded by eth_abi, independently of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [a.checksummed() if isinstance(a, Address) else a for a in args]
    return function_signature_to_4byte_selector(signature) + abi_encode(type_list, converted)


def eip1559(
    to: Address | None, data: bytes = b"", value: int = 0, chain_id: int = 1
) -> Transaction:
    return DynamicFeeTransaction(
        chain_id=chain_id,
        nonce=7,
        gas_limit=100_000,
        to=to,
        value=value,
        data=data,
        max_priority_fee_per_gas=2 * 10**9,
        max_fee_per_gas=40 * 10**9,
        access_list=(),
    )


def eth_account_hash(tx: Transaction) -> bytes:
    """The signing hash computed by eth-account from the same fields."""
    fields: dict[str, Any] = {
        "chainId": tx.chain_id,
        "nonce": tx.nonce,
        "gas": tx.gas_limit,
        "value": tx.value,
        "data": tx.data,
    }
    if tx.to is not None:
        fields["to"] = tx.to.checksummed()
    if isinstance(tx, LegacyTransaction):
        fields["gasPrice"] = tx.gas_price
    elif isinstance(tx, AccessListTransaction):
        fields.update(type=1, gasPrice=tx.gas_price, accessList=_access_list(tx))
    else:
        fields.update(
            type=2,
            maxFeePerGas=tx.max_fee_per_gas,
            maxPriorityFeePerGas=tx.max_priority_fee_per_gas,
            accessList=_access_list(tx),
        )
    return bytes(serializable_unsigned_transaction_from_dict(fields).hash())


def _access_list(tx: AccessListTransaction | DynamicFeeTransaction) -> list[dict[str, Any]]:
    return [
        {
            "address": e.address.checksummed(),
            "storageKeys": ["0x" + k.hex() for k in e.storage_keys],
        }
        for e in tx.access_list
    ]


@dataclass(frozen=True)
class Case:
    name: str
    tx: Transaction
    warnings: frozenset[WarningCode]
    # (destination, asset symbol, amount in base units, path, sender)
    payments: tuple[tuple[Address | None, str, int, str, Address | None], ...] = ()
    fields: dict[str, str] = field(default_factory=dict)


CASES = [
    Case(
        "legacy ETH transfer",
        LegacyTransaction(
            chain_id=1, nonce=0, gas_price=20 * 10**9, gas_limit=21_000, to=BOB, value=ETH, data=b""
        ),
        frozenset(),
        ((BOB, "ETH", ETH, "value", None),),
        {"Type": "EIP-155 (legacy)", "Value": "1 ETH", "Gas price": "20 gwei"},
    ),
    Case(
        "EIP-2930 ETH transfer with an access list",
        AccessListTransaction(
            chain_id=1,
            nonce=1,
            gas_price=10**9,
            gas_limit=30_000,
            to=ALICE,
            value=ETH // 4,
            data=b"",
            access_list=(AccessListEntry(CONTRACT, (bytes(32),)),),
        ),
        frozenset(),
        ((ALICE, "ETH", ETH // 4, "value", None),),
        {"Type": "EIP-2930 (type 1)", "Access list": "1 entries", "access_list[0] keys": "1"},
    ),
    Case(
        "EIP-1559 USDC transfer",
        eip1559(USDC, calldata("transfer(address,uint256)", BOB, 1_500_000)),
        frozenset(),
        ((BOB, "USDC", 1_500_000, "transfer", None),),
        {"amount": "1.5 USDC", "Max fee": "0.004 ETH", "Max fee per gas": "40 gwei"},
    ),
    Case(
        "DAI transferFrom pays from the owner",
        eip1559(DAI, calldata("transferFrom(address,address,uint256)", ALICE, BOB, 3 * ETH)),
        frozenset(),
        ((BOB, "DAI", 3 * ETH, "transferFrom", ALICE),),
        {"amount": "3 DAI"},
    ),
    Case(
        "bounded USDC approval",
        eip1559(USDC, calldata("approve(address,uint256)", CONTRACT, 10**6)),
        frozenset({W.TOKEN_APPROVAL}),
        fields={"amount": "1 USDC"},
    ),
    Case(
        "unlimited USDC approval",
        eip1559(USDC, calldata("approve(address,uint256)", CONTRACT, MAX)),
        frozenset({W.TOKEN_APPROVAL, W.UNLIMITED_APPROVAL}),
    ),
    Case(
        "increaseAllowance by 2**255 is unlimited",
        eip1559(DAI, calldata("increaseAllowance(address,uint256)", CONTRACT, 2**255)),
        frozenset({W.TOKEN_APPROVAL, W.UNLIMITED_APPROVAL}),
    ),
    Case(
        "decreaseAllowance warns of nothing",
        eip1559(DAI, calldata("decreaseAllowance(address,uint256)", CONTRACT, ETH)),
        frozenset(),
        fields={"subtractedValue": "1 DAI"},
    ),
    Case(
        "approve 0 revokes",
        eip1559(USDC, calldata("approve(address,uint256)", CONTRACT, 0)),
        frozenset(),
    ),
    Case(
        "submitting an EIP-2612 permit",
        eip1559(
            USDC,
            calldata(
                "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
                ALICE,
                CONTRACT,
                MAX,
                2**40,
                27,
                b"\x01" * 32,
                b"\x02" * 32,
            ),
        ),
        frozenset({W.PERMIT, W.UNLIMITED_APPROVAL}),
    ),
    Case(
        "unknown token transfer in base units",
        eip1559(CONTRACT, calldata("transfer(address,uint256)", BOB, 12_345)),
        frozenset({W.UNKNOWN_TOKEN}),
        ((BOB, "?", 12_345, "transfer", None),),
        {"amount": "12,345 base units (unknown token)"},
    ),
    Case(
        "setApprovalForAll(true)",
        eip1559(CONTRACT, calldata("setApprovalForAll(address,bool)", ALICE, True)),
        frozenset({W.NFT_APPROVAL_FOR_ALL, W.UNKNOWN_CONTRACT}),
        fields={"approved": "true"},
    ),
    Case(
        "setApprovalForAll(false) revokes",
        eip1559(CONTRACT, calldata("setApprovalForAll(address,bool)", ALICE, False)),
        frozenset({W.UNKNOWN_CONTRACT}),
    ),
    Case(
        "ERC-721 safeTransferFrom",
        eip1559(CONTRACT, calldata("safeTransferFrom(address,address,uint256)", ALICE, BOB, 42)),
        frozenset({W.UNKNOWN_CONTRACT}),
        fields={"tokenId": "42"},
    ),
    Case(
        "ERC-1155 safeBatchTransferFrom",
        eip1559(
            CONTRACT,
            calldata(
                "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
                ALICE,
                BOB,
                [1, 2],
                [10, 20],
                b"",
            ),
        ),
        frozenset({W.UNKNOWN_CONTRACT}),
        fields={"ids": "2 items", "ids[1]": "2", "values[0]": "10", "data": "(empty)"},
    ),
    Case(
        "transferOwnership",
        eip1559(CONTRACT, calldata("transferOwnership(address)", ALICE)),
        frozenset({W.OWNERSHIP_CHANGE, W.UNKNOWN_CONTRACT}),
    ),
    Case(
        "upgradeToAndCall runs its init call as the proxy",
        eip1559(
            CONTRACT,
            calldata(
                "upgradeToAndCall(address,bytes)",
                ALICE,
                calldata("transferOwnership(address)", BOB),
            ),
        ),
        frozenset({W.UPGRADE, W.OWNERSHIP_CHANGE, W.UNKNOWN_CONTRACT}),
        fields={"data": "36 bytes, decoded below"},
    ),
    Case(
        "grantRole of DEFAULT_ADMIN_ROLE",
        eip1559(CONTRACT, calldata("grantRole(bytes32,address)", bytes(32), ALICE)),
        frozenset({W.ROLE_CHANGE, W.UNKNOWN_CONTRACT}),
    ),
    Case(
        "unknown selector",
        eip1559(CONTRACT, bytes.fromhex("deadbeef") + bytes(32)),
        frozenset({W.UNEXPLAINED_CALL}),
        fields={"Call data": "36 bytes, selector 0xdeadbeef: NOT UNDERSTOOD"},
    ),
    Case(
        "contract creation with value",
        eip1559(None, bytes.fromhex("6080604052"), value=5),
        frozenset({W.CONTRACT_CREATION}),
        ((None, "ETH", 5, "value", None),),
        {"To": "nobody: contract creation", "Init code": "5 bytes (not explained)"},
    ),
    Case(
        "value sent with a contract call",
        eip1559(CONTRACT, calldata("transferOwnership(address)", ALICE), value=ETH),
        frozenset({W.VALUE_TO_CONTRACT, W.OWNERSHIP_CHANGE, W.UNKNOWN_CONTRACT}),
        ((CONTRACT, "ETH", ETH, "value", None),),
    ),
    Case(
        "plain ETH to a registry token contract",
        eip1559(USDC, value=ETH),
        frozenset({W.VALUE_TO_CONTRACT}),
        ((USDC, "ETH", ETH, "value", None),),
    ),
    Case(
        "unknown chain: amounts in wei",
        eip1559(BOB, value=ETH, chain_id=999_999),
        frozenset({W.UNKNOWN_CHAIN}),
        ((BOB, "?", ETH, "value", None),),
        {"Value": "1,000,000,000,000,000,000 wei (native coin of unknown chain 999999)"},
    ),
    Case(
        "lookalike of an address-book entry",
        eip1559(POISON, value=ETH),
        frozenset({W.LOOKALIKE_ADDRESS}),
        ((POISON, "ETH", ETH, "value", None),),
    ),
    Case(
        "Safe admin call made directly",
        eip1559(TREASURY, calldata("addOwnerWithThreshold(address,uint256)", ALICE, 2)),
        frozenset({W.SAFE_ADMIN_CHANGE}),
    ),
    Case(
        "approveHash",
        eip1559(TREASURY, calldata("approveHash(bytes32)", b"\x11" * 32)),
        frozenset({W.SAFE_HASH_APPROVAL}),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_transaction_review(case: Case) -> None:
    review = review_transaction(case.tx, REGISTRIES)
    assert review.kind is ReviewKind.TRANSACTION
    assert review.codes() == case.warnings
    got = tuple(
        (p.destination, p.asset.symbol, p.amount, p.path, p.sender) for p in review.payments
    )
    assert got == case.payments
    values = {f.label: f.value for f in review.fields}
    for label, value in case.fields.items():
        assert values[label] == value, label
    assert review.signing_hash == eth_account_hash(case.tx)
    assert review.fee_cap_wei == case.tx.max_fee_cost()
    assert review.chain_id == case.tx.chain_id
    assert review.subject.transaction == case.tx


def test_decoded_payload_reviews_like_the_object() -> None:
    tx = eip1559(USDC, calldata("transfer(address,uint256)", BOB, 7))
    decoded = decode_transaction(tx.unsigned_payload(), 4)
    assert review_transaction(decoded, REGISTRIES) == review_transaction(tx, REGISTRIES)


def fields_by_label(review: Review) -> dict[str, Any]:
    return {f.label: f for f in review.fields}


def test_provenance_of_transaction_fields() -> None:
    review = review_transaction(
        eip1559(USDC, calldata("transfer(address,uint256)", BOB, 1)), REGISTRIES
    )
    fields = fields_by_label(review)
    assert fields["Chain"].source is Source.DECODED
    assert (fields["Chain"].note, fields["Chain"].note_source) == ("Ethereum", Source.REGISTRY)
    assert fields["To"].value == USDC.grouped()
    assert (fields["To"].note, fields["To"].note_source) == ("USDC token", Source.REGISTRY)
    assert fields["to"].value == BOB.grouped()
    assert fields["to"].note_source is Source.ADDRESS_BOOK
    assert fields["Max fee"].source is Source.COMPUTED
    assert fields["Signing hash"].source is Source.COMPUTED
    assert review.payments[0].label == "Bob (cold storage)"


def test_unexplained_call_is_never_shown_as_understood() -> None:
    data = bytes.fromhex("12345678") + b"\x00" * 64
    review = review_transaction(eip1559(CONTRACT, data), REGISTRIES)
    assert isinstance(review.subject.call, UnexplainedCall)
    assert review.max_severity is Severity.DANGER
    assert review.warnings[0].code is W.UNEXPLAINED_CALL
    assert "Function" not in fields_by_label(review)
    assert "UNEXPLAINED" in review.title


def test_lookalike_message_names_the_imitated_address() -> None:
    review = review_transaction(eip1559(POISON, value=1), REGISTRIES)
    (warning,) = review.warnings
    assert warning.severity is Severity.DANGER
    assert TREASURY.checksummed() in warning.message and "Treasury" in warning.message


def test_role_field_names_the_default_admin_role() -> None:
    tx = eip1559(CONTRACT, calldata("grantRole(bytes32,address)", bytes(32), ALICE))
    role = fields_by_label(review_transaction(tx, REGISTRIES))["role"]
    assert role.note == "DEFAULT_ADMIN_ROLE"


def test_warnings_are_sorted_worst_first() -> None:
    tx = eip1559(CONTRACT, calldata("transferOwnership(address)", ALICE), value=1)
    severities = [w.severity for w in review_transaction(tx, REGISTRIES).warnings]
    assert severities == sorted(severities, reverse=True)
