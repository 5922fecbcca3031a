"""SafeTx and SafeMessage hashes: published Safe transactions, both domains, eth-account parity."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data
from hypothesis import given
from hypothesis import strategies as st
from vectorfiles import load_vectors

from shared.address import Address, parse_address
from shared.errors import TypedDataError
from shared.keccak import keccak256
from shared.messages.safe_tx import (
    DOMAIN_WITH_CHAIN_ID,
    DOMAIN_WITHOUT_CHAIN_ID,
    SAFE_TX_TYPE,
    SafeMessage,
    SafeTx,
    SafeVersion,
    parse_safe_version,
    safe_domain_separator,
    safe_message_hash,
    safe_tx_hash,
    safe_tx_struct_hash,
)

PUBLISHED = load_vectors("eip712")["safe_transactions"]


def _address(text: str) -> Address:
    return parse_address(text, field="test")


def _safe_tx(vector: dict[str, Any]) -> SafeTx:
    return SafeTx(
        safe=_address(vector["safe"]),
        chain_id=vector["chain_id"],
        to=_address(vector["to"]),
        value=vector["value"],
        data=bytes.fromhex(vector["data"][2:]),
        operation=vector["operation"],
        safe_tx_gas=vector["safe_tx_gas"],
        base_gas=vector["base_gas"],
        gas_price=vector["gas_price"],
        gas_token=_address(vector["gas_token"]),
        refund_receiver=_address(vector["refund_receiver"]),
        nonce=vector["nonce"],
    )


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_safe_tx_hash(name: str) -> None:
    vector = PUBLISHED[name]
    tx = _safe_tx(vector)
    version = parse_safe_version(vector["version"])
    assert "0x" + safe_tx_hash(tx, version).hex() == vector["safe_tx_hash"]


@pytest.mark.parametrize("name", [n for n in sorted(PUBLISHED) if "struct_hash" in PUBLISHED[n]])
def test_published_domain_separator_and_struct_hash(name: str) -> None:
    vector = PUBLISHED[name]
    tx = _safe_tx(vector)
    version = parse_safe_version(vector["version"])
    separator = safe_domain_separator(tx.safe, tx.chain_id, version)
    assert "0x" + separator.hex() == vector["domain_separator"]
    assert "0x" + safe_tx_struct_hash(tx).hex() == vector["struct_hash"]


def test_type_hashes_match_the_safe_contracts() -> None:
    # Constants in safe-smart-account contracts/Safe.sol and GnosisSafe.sol (< 1.3.0).
    assert keccak256(SAFE_TX_TYPE.encode()).hex() == (
        "bb8310d486368db6bd6f849402fdd73ad53d316b5a4b2644ad6efe0f941286d8"
    )
    assert keccak256(DOMAIN_WITH_CHAIN_ID.encode()).hex() == (
        "47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218"
    )
    assert keccak256(DOMAIN_WITHOUT_CHAIN_ID.encode()).hex() == (
        "035aff83d86937d35b32e04f0ddc6ff469290eef2f1b692d8a815c89404d4749"
    )


def test_pre_1_3_0_domain_ignores_the_chain_id() -> None:
    tx = _safe_tx(PUBLISHED["legacy_domain_cancellation"])
    legacy = parse_safe_version("1.2.0")
    on_mainnet = SafeTx(**{**_fields(tx), "chain_id": 1})
    assert safe_tx_hash(on_mainnet, legacy) == safe_tx_hash(tx, legacy)


def test_1_3_0_domain_depends_on_the_chain_id() -> None:
    tx = _safe_tx(PUBLISHED["base_erc20_transfer"])
    other_chain = SafeTx(**{**_fields(tx), "chain_id": 1})
    version = parse_safe_version("1.3.0")
    assert safe_tx_hash(other_chain, version) != safe_tx_hash(tx, version)


def test_1_3_0_domain_without_a_chain_id_is_a_programming_error() -> None:
    tx = _safe_tx(PUBLISHED["legacy_domain_cancellation"])
    with pytest.raises(ValueError, match="chain id"):
        safe_tx_hash(tx, parse_safe_version("1.4.1"))


def _fields(tx: SafeTx) -> dict[str, Any]:
    return {name: getattr(tx, name) for name in SafeTx.__dataclass_fields__}


@pytest.mark.parametrize(
    ("text", "expected", "with_chain"),
    [
        ("1.0.0", SafeVersion(1, 0, 0), False),
        ("1.1.1", SafeVersion(1, 1, 1), False),
        ("1.2.0", SafeVersion(1, 2, 0), False),
        ("1.3.0", SafeVersion(1, 3, 0), True),
        ("1.3.0+L2", SafeVersion(1, 3, 0), True),
        ("1.4.1", SafeVersion(1, 4, 1), True),
    ],
)
def test_safe_versions(text: str, expected: SafeVersion, with_chain: bool) -> None:
    version = parse_safe_version(text)
    assert version == expected
    assert version.domain_has_chain_id is with_chain


@pytest.mark.parametrize("text", ["0.1.0", "1.3", "v1.3.0", "1.3.0-rc1", "01.3.0", "", "1.3.0+L3"])
def test_unsupported_or_malformed_safe_versions_are_refused(text: str) -> None:
    with pytest.raises(TypedDataError) as caught:
        parse_safe_version(text, field="safe.version")
    assert caught.value.field == "safe.version"


def test_safe_tx_rejects_values_out_of_range() -> None:
    tx = _safe_tx(PUBLISHED["base_erc20_transfer"])
    with pytest.raises(ValueError, match="nonce"):
        SafeTx(**{**_fields(tx), "nonce": 2**256})
    with pytest.raises(ValueError, match="operation"):
        SafeTx(**{**_fields(tx), "operation": 2})
    with pytest.raises(TypeError, match="value"):
        SafeTx(**{**_fields(tx), "value": True})


_SAFE_TX_MEMBERS = [
    {"name": "to", "type": "address"},
    {"name": "value", "type": "uint256"},
    {"name": "data", "type": "bytes"},
    {"name": "operation", "type": "uint8"},
    {"name": "safeTxGas", "type": "uint256"},
    {"name": "baseGas", "type": "uint256"},
    {"name": "gasPrice", "type": "uint256"},
    {"name": "gasToken", "type": "address"},
    {"name": "refundReceiver", "type": "address"},
    {"name": "nonce", "type": "uint256"},
]


def _eth_account_safe_tx_hash(tx: SafeTx, with_chain: bool) -> bytes:
    domain_members = [{"name": "verifyingContract", "type": "address"}]
    domain: dict[str, Any] = {"verifyingContract": tx.safe.checksummed()}
    if with_chain:
        domain_members.insert(0, {"name": "chainId", "type": "uint256"})
        domain["chainId"] = tx.chain_id
    document = {
        "types": {"EIP712Domain": domain_members, "SafeTx": _SAFE_TX_MEMBERS},
        "primaryType": "SafeTx",
        "domain": domain,
        "message": {
            "to": tx.to.checksummed(),
            "value": tx.value,
            "data": "0x" + tx.data.hex(),
            "operation": tx.operation,
            "safeTxGas": tx.safe_tx_gas,
            "baseGas": tx.base_gas,
            "gasPrice": tx.gas_price,
            "gasToken": tx.gas_token.checksummed(),
            "refundReceiver": tx.refund_receiver.checksummed(),
            "nonce": tx.nonce,
        },
    }
    return bytes(_hash_eip191_message(encode_typed_data(full_message=document)))


_addresses = st.binary(min_size=20, max_size=20).map(Address)
_uint256 = st.integers(min_value=0, max_value=2**256 - 1)
_safe_txs = st.builds(
    SafeTx,
    safe=_addresses,
    chain_id=st.integers(min_value=0, max_value=2**64),
    to=_addresses,
    value=_uint256,
    data=st.binary(max_size=200),
    operation=st.sampled_from([0, 1]),
    safe_tx_gas=_uint256,
    base_gas=_uint256,
    gas_price=_uint256,
    gas_token=_addresses,
    refund_receiver=_addresses,
    nonce=_uint256,
)


@given(_safe_txs, st.booleans())
def test_safe_tx_hash_equals_eth_account(tx: SafeTx, with_chain: bool) -> None:
    version = SafeVersion(1, 4, 1) if with_chain else SafeVersion(1, 1, 1)
    assert safe_tx_hash(tx, version) == _eth_account_safe_tx_hash(tx, with_chain)


@given(_addresses, st.integers(min_value=0, max_value=2**64), st.binary(max_size=200))
def test_safe_message_hash_equals_eth_account(safe: Address, chain_id: int, body: bytes) -> None:
    document = {
        "types": {
            "EIP712Domain": [
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "SafeMessage": [{"name": "message", "type": "bytes"}],
        },
        "primaryType": "SafeMessage",
        "domain": {"chainId": chain_id, "verifyingContract": safe.checksummed()},
        "message": {"message": "0x" + body.hex()},
    }
    expected = bytes(_hash_eip191_message(encode_typed_data(full_message=document)))
    message = SafeMessage(safe=safe, chain_id=chain_id, message=body)
    assert safe_message_hash(message, SafeVersion(1, 3, 0)) == expected
