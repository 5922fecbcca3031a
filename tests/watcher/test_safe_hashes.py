"""coldsign's SafeTx hash equals the Safe contract's own ``getTransactionHash`` on a real Safe.

A 2-of-3 Safe v1.4.1 (official build artifacts, canonical addresses) on anvil; every case
hashed by ``shared.messages.safe_tx_hash`` and by the contract through ``eth_call``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anvil import Anvil
from safe_contracts import (
    FALLBACK_HANDLER,
    MULTISEND,
    MULTISEND_CALL_ONLY,
    SAFE,
    SAFE_L2,
    ZERO,
    SafeTxFields,
    calldata,
    code_hash,
    create_safe,
    deploy_safe_contracts,
    get_transaction_hash,
    safe_state,
)

from shared.address import Address, parse_address
from shared.calls import Operation, pack_transactions
from shared.messages import SafeTx, parse_safe_version, safe_tx_hash
from shared.registry import default_registries

CHAIN_ID = 31337
OWNERS = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
]
PAYEE = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
# Bybit's delegatecall target (tests/vectors/calls.json "bybit_delegatecall"); lower case.
ATTACKER = "0x96221423681a6d52e184d440a8efcebb105c7242"
TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
GUARD = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
UINT256_MAX = 2**256 - 1


def a(text: str) -> Address:
    return parse_address(text, field="test")


def transfer(to: str, amount: int) -> bytes:
    return calldata("transfer(address,uint256)", to, amount)


PAYOUT_BATCH = calldata(
    "multiSend(bytes)",
    pack_transactions(
        [
            (Operation.CALL, a(PAYEE), 10**18, b""),
            (Operation.CALL, a(TOKEN), 0, transfer(PAYEE, 2_500 * 10**6)),
            (Operation.CALL, a(OWNERS[0]), 1, b""),
        ]
    ),
)

CASES: dict[str, SafeTxFields] = {
    "payout batch via MultiSendCallOnly": SafeTxFields(
        MULTISEND_CALL_ONLY.address, data=PAYOUT_BATCH, operation=1
    ),
    "the same batch via MultiSend": SafeTxFields(MULTISEND.address, data=PAYOUT_BATCH, operation=1),
    "single ETH payment": SafeTxFields(PAYEE, value=3 * 10**17),
    "single ERC-20 transfer": SafeTxFields(TOKEN, data=transfer(PAYEE, 12_345)),
    "Bybit-style delegatecall": SafeTxFields(
        ATTACKER, data=transfer(ATTACKER, 0), operation=1, nonce=71
    ),
    "addOwnerWithThreshold": SafeTxFields(
        "SAFE", data=calldata("addOwnerWithThreshold(address,uint256)", ATTACKER, 1)
    ),
    "changeThreshold": SafeTxFields("SAFE", data=calldata("changeThreshold(uint256)", 1)),
    "enableModule": SafeTxFields("SAFE", data=calldata("enableModule(address)", ATTACKER)),
    "setGuard": SafeTxFields("SAFE", data=calldata("setGuard(address)", GUARD)),
    "setFallbackHandler": SafeTxFields(
        "SAFE", data=calldata("setFallbackHandler(address)", ATTACKER)
    ),
    "changeMasterCopy (pre-1.3 admin call)": SafeTxFields(
        "SAFE", data=calldata("changeMasterCopy(address)", ATTACKER)
    ),
    "gas refund in ETH to a receiver": SafeTxFields(
        PAYEE,
        value=1,
        safe_tx_gas=100_000,
        base_gas=50_000,
        gas_price=30 * 10**9,
        refund_receiver=ATTACKER,
    ),
    "gas refund in a token": SafeTxFields(
        PAYEE, safe_tx_gas=1, base_gas=2, gas_price=3, gas_token=TOKEN, refund_receiver=GUARD
    ),
    "nonce 1": SafeTxFields(PAYEE, value=1, nonce=1),
    "nonce 2": SafeTxFields(PAYEE, value=1, nonce=2),
    "largest nonce and value": SafeTxFields(PAYEE, value=UINT256_MAX, nonce=UINT256_MAX),
    "large call data": SafeTxFields(TOKEN, data=bytes(range(256)) * 40),
}


@pytest.fixture
def treasury(chain: Anvil) -> Iterator[str]:
    """A 2-of-3 Safe v1.4.1 (the chain is reverted after each test)."""
    deploy_safe_contracts(chain)
    yield create_safe(chain, OWNERS, 2)


def coldsign_hash(safe: str, fields: SafeTxFields, version: str) -> bytes:
    tx = SafeTx(
        safe=a(safe),
        chain_id=CHAIN_ID,
        to=a(fields.to),
        value=fields.value,
        data=fields.data,
        operation=fields.operation,
        safe_tx_gas=fields.safe_tx_gas,
        base_gas=fields.base_gas,
        gas_price=fields.gas_price,
        gas_token=a(fields.gas_token),
        refund_receiver=a(fields.refund_receiver),
        nonce=fields.nonce,
    )
    return safe_tx_hash(tx, parse_safe_version(version))


def _resolved(fields: SafeTxFields, safe: str) -> SafeTxFields:
    if fields.to != "SAFE":
        return fields
    return SafeTxFields(**{**fields.__dict__, "to": safe})


@pytest.mark.parametrize("name", list(CASES))
def test_safe_tx_hash_equals_get_transaction_hash(chain: Anvil, treasury: str, name: str) -> None:
    owners, threshold, nonce, version = safe_state(chain, treasury)
    assert (owners, threshold, nonce, version) == (OWNERS, 2, 0, "1.4.1")
    fields = _resolved(CASES[name], treasury)
    assert coldsign_hash(treasury, fields, version) == get_transaction_hash(chain, treasury, fields)


def test_every_case_hashes_differently(chain: Anvil, treasury: str) -> None:
    hashes = {get_transaction_hash(chain, treasury, _resolved(f, treasury)) for f in CASES.values()}
    assert len(hashes) == len(CASES)


def test_an_l2_safe_and_another_safe_hash_alike_only_through_their_own_domain(
    chain: Anvil, treasury: str
) -> None:
    l2 = create_safe(chain, OWNERS, 2, salt_nonce=7, singleton=SAFE_L2.address)
    assert safe_state(chain, l2)[3] == "1.4.1"
    fields = CASES["payout batch via MultiSendCallOnly"]
    on_l2 = get_transaction_hash(chain, l2, fields)
    assert coldsign_hash(l2, fields, "1.4.1") == on_l2
    assert on_l2 != get_transaction_hash(chain, treasury, fields)


def test_contracts_sit_at_the_canonical_addresses_coldsign_ships(chain: Anvil) -> None:
    deploy_safe_contracts(chain)
    shipped = [d for d in default_registries().safe_deployments if d.chain_id == CHAIN_ID]
    v141 = next(d for d in shipped if d.version == "1.4.1")
    assert v141.multisend_call_only == a(MULTISEND_CALL_ONLY.address)
    assert v141.multisend == a(MULTISEND.address)
    for artifact in (SAFE, SAFE_L2, FALLBACK_HANDLER):
        assert code_hash(chain, artifact.address) == artifact.code_hash
    assert ZERO == "0x" + "00" * 20
