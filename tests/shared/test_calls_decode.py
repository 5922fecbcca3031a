"""decode_call: Safe transactions, MultiSend batches, delegatecalls, nesting, unexplained calls."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode as eth_abi_encode
from eth_utils.abi import function_signature_to_4byte_selector
from vectorfiles import load_vectors

from shared.address import Address
from shared.calls import (
    MAX_NESTING,
    CallKind,
    InnerCall,
    KnownCall,
    Operation,
    PlainTransfer,
    UnexplainedCall,
    decode_call,
    pack_transactions,
    walk,
)

VECTORS = load_vectors("calls")
EXEC = "execTransaction(address,uint256,bytes,uint8,uint256,uint256,uint256,address,address,bytes)"
EXEC_TYPES = EXEC[len("execTransaction(") : -1].split(",")
ZERO = "0x" + "00" * 20
SAFE = Address(bytes.fromhex("1db92e2eebc8e0c075a02bea49a2935bcd2dfcf4"))
# safe-deployments v1.4.1 multi_send_call_only.json, canonical address.
CALL_ONLY = Address(bytes.fromhex("9641d764fc13c8b624c04430c7356c1c7c8102e2"))
USDC = Address(bytes.fromhex("a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
USDT = Address(bytes.fromhex("dac17f958d2ee523a2206206994597c13d831ec7"))
DAI = Address(bytes.fromhex("6b175474e89094c44da98b954eedeac495271d0f"))
ALICE = Address(b"\xa1" * 20)
BOB = Address(b"\xb0" * 20)
CAROL = Address(b"\xc0" * 20)


def calldata(signature: str, *args: Any) -> bytes:
    """Call data built by eth_abi, an implementation independent of shared.abi."""
    types = signature[signature.index("(") + 1 : -1]
    type_list = types.split(",") if types else []
    converted = [_eth_abi(a) for a in args]
    return function_signature_to_4byte_selector(signature) + eth_abi_encode(type_list, converted)


def _eth_abi(value: Any) -> Any:
    if isinstance(value, Address):
        return value.checksummed()
    if isinstance(value, list | tuple):
        return [_eth_abi(v) for v in value]
    return value


def exec_transaction(to: Address, data: bytes, operation: int, value: int = 0) -> bytes:
    signatures = b"\x11" * 65
    return calldata(EXEC, to, value, data, operation, 0, 0, 0, ZERO, ZERO, signatures)


def transfer(to: Address, amount: int) -> bytes:
    return calldata("transfer(address,uint256)", to, amount)


def three_transfers(middle_operation: Operation = Operation.CALL) -> bytes:
    batch = pack_transactions(
        [
            (Operation.CALL, USDC, 0, transfer(ALICE, 1_000_000)),
            (middle_operation, USDT, 0, transfer(BOB, 2_500_000)),
            (Operation.CALL, DAI, 0, transfer(CAROL, 3 * 10**18)),
        ]
    )
    return calldata("multiSend(bytes)", batch)


def test_safe_exec_of_multisend_of_three_erc20_transfers() -> None:
    data = exec_transaction(CALL_ONLY, three_transfers(), operation=1)
    call = decode_call(SAFE, 0, data)
    assert isinstance(call, KnownCall)
    assert (call.name, call.kind) == ("execTransaction", CallKind.SAFE_EXEC)
    (outer,) = call.inner
    # A Safe reaches MultiSendCallOnly by delegatecall: that is how batches run.
    assert (outer.operation, outer.to) == (Operation.DELEGATECALL, CALL_ONLY)
    batch = outer.call
    assert isinstance(batch, KnownCall)
    assert (batch.name, batch.kind) == ("multiSend", CallKind.MULTISEND)
    got = []
    for entry in batch.inner:
        assert entry.operation == Operation.CALL
        assert isinstance(entry.call, KnownCall)
        assert (entry.call.name, entry.call.kind) == ("transfer", CallKind.TOKEN_TRANSFER)
        got.append((entry.to, entry.call.arg("to"), entry.call.arg("amount")))
    assert got == [(USDC, ALICE, 1_000_000), (USDT, BOB, 2_500_000), (DAI, CAROL, 3 * 10**18)]
    assert call.calldata() == data


def test_delegatecall_inside_a_multisend_is_exposed() -> None:
    data = exec_transaction(CALL_ONLY, three_transfers(Operation.DELEGATECALL), operation=1)
    call = decode_call(SAFE, 0, data)
    assert isinstance(call, KnownCall)
    batch = call.inner[0].call
    assert isinstance(batch, KnownCall)
    assert [e.operation for e in batch.inner] == [
        Operation.CALL,
        Operation.DELEGATECALL,
        Operation.CALL,
    ]
    # A policy "delegatecall only to MultiSendCallOnly, every inner call a plain call"
    # finds the inner delegatecall by walking the tree.
    delegated = [
        (chain[-1].to, c)
        for chain, c in walk(call)
        if len(chain) > 1 and chain[-1].operation == Operation.DELEGATECALL
    ]
    assert len(delegated) == 1
    assert delegated[0][0] == USDT
    assert call.calldata() == data


def test_bybit_style_delegatecall_disguised_as_a_transfer() -> None:
    vector = VECTORS["bybit_delegatecall"]
    target = Address(bytes.fromhex(vector["to"][2:]))
    recipient = Address(bytes.fromhex(vector["inner_args"]["to"][2:]))
    inner = calldata(vector["inner_signature"], recipient, vector["inner_args"]["amount"])
    data = exec_transaction(target, inner, operation=vector["operation"])
    call = decode_call(SAFE, 0, data)
    assert isinstance(call, KnownCall)
    (step,) = call.inner
    assert step.operation == Operation.DELEGATECALL
    assert step.to == target
    assert isinstance(step.call, KnownCall)
    # What looked like "transfer 0 tokens" runs the target's code in the Safe's storage.
    assert step.call.name == "transfer"
    assert step.call.arg("amount") == 0
    assert call.arg("operation") == 1


@pytest.mark.parametrize(
    "case", VECTORS["multisend_published"]["cases"], ids=lambda c: str(c["name"])
)
def test_published_multisend_call_data(case: dict[str, Any]) -> None:
    data = bytes.fromhex(case["calldata"][2:])
    call = decode_call(CALL_ONLY, 0, data)
    assert isinstance(call, KnownCall)
    assert call.kind == CallKind.MULTISEND
    assert len(call.inner) == len(case["entries"])
    for entry, expected in zip(call.inner, case["entries"], strict=True):
        assert entry.operation == expected["operation"]
        assert entry.to == Address(bytes.fromhex(expected["to"][2:]))
        assert entry.value == expected["value"]
        if expected["call"] is None:
            assert entry.call == PlainTransfer(entry.to, expected["value"])
            continue
        assert isinstance(entry.call, KnownCall)
        assert entry.call.name == expected["call"]
        assert entry.call.arg("to") == Address(bytes.fromhex(expected["args"]["to"][2:]))
        assert entry.call.arg("amount") == expected["args"]["amount"]
    assert call.calldata() == data


def test_unknown_selector_is_unexplained_not_an_error() -> None:
    data = bytes.fromhex("d0e30db0")  # WETH deposit(): not in the catalogue
    call = decode_call(USDC, 10**18, data)
    assert call == UnexplainedCall(data[:4], data, "unknown selector 0xd0e30db0")
    assert call.calldata() == data


def test_unknown_selector_inside_a_batch_is_unexplained() -> None:
    batch = pack_transactions([(Operation.CALL, USDC, 0, b"\x12\x34\x56\x78\x00")])
    call = decode_call(CALL_ONLY, 0, calldata("multiSend(bytes)", batch))
    assert isinstance(call, KnownCall)
    assert isinstance(call.inner[0].call, UnexplainedCall)
    assert any(isinstance(c, UnexplainedCall) for _, c in walk(call))


def test_empty_data_is_a_plain_transfer() -> None:
    assert decode_call(ALICE, 5, b"") == PlainTransfer(ALICE, 5)


def test_contract_creation_is_unexplained() -> None:
    call = decode_call(None, 0, b"\x60\x80\x60\x40")
    assert isinstance(call, UnexplainedCall)
    assert "creation" in call.reason


def test_nesting_beyond_the_limit_is_unexplained() -> None:
    data = transfer(ALICE, 1)
    for _ in range(MAX_NESTING + 2):
        data = exec_transaction(SAFE, data, operation=0)
    call = decode_call(SAFE, 0, data)
    depth = 0
    current: Any = call
    while isinstance(current, KnownCall) and current.inner:
        current = current.inner[0].call
        depth += 1
    assert isinstance(current, UnexplainedCall)
    assert "nested" in current.reason
    assert depth == MAX_NESTING + 1
    assert call.calldata() == data


def test_upgrade_to_and_call_exposes_the_initialisation_delegatecall() -> None:
    impl = Address(b"\x1f" * 20)
    init = calldata("transferOwnership(address)", BOB)
    call = decode_call(SAFE, 0, calldata("upgradeToAndCall(address,bytes)", impl, init))
    assert isinstance(call, KnownCall)
    assert call.kind == CallKind.UPGRADE
    (inner,) = call.inner
    assert (inner.operation, inner.to) == (Operation.DELEGATECALL, impl)
    assert isinstance(inner.call, KnownCall)
    assert inner.call.kind == CallKind.OWNERSHIP_CHANGE
    empty = decode_call(SAFE, 0, calldata("upgradeToAndCall(address,bytes)", impl, b""))
    assert isinstance(empty, KnownCall)
    assert empty.inner == ()


def test_safe_setup_delegatecall_only_when_a_target_is_given() -> None:
    signature = "setup(address[],uint256,address,bytes,address,address,uint256,address)"
    module_setup = calldata("enableModule(address)", CAROL)
    with_target = calldata(signature, [ALICE, BOB], 2, CAROL, module_setup, ZERO, ZERO, 0, ZERO)
    call = decode_call(SAFE, 0, with_target)
    assert isinstance(call, KnownCall)
    (inner,) = call.inner
    assert inner.operation == Operation.DELEGATECALL
    assert isinstance(inner.call, KnownCall)
    assert inner.call.kind == CallKind.SAFE_ADMIN
    without = calldata(signature, [ALICE], 1, ZERO, b"", ZERO, ZERO, 0, ZERO)
    plain = decode_call(SAFE, 0, without)
    assert isinstance(plain, KnownCall)
    assert plain.inner == ()


def test_safe_admin_change_hidden_in_a_batch_is_named_by_kind() -> None:
    # MultiSend treats a zero `to` as the Safe itself in current sources: the admin call
    # is still named by its selector whatever the target.
    admin = calldata("addOwnerWithThreshold(address,uint256)", CAROL, 1)
    batch = pack_transactions([(Operation.CALL, Address(bytes(20)), 0, admin)])
    call = decode_call(CALL_ONLY, 0, calldata("multiSend(bytes)", batch))
    kinds = [c.kind for _, c in walk(call) if isinstance(c, KnownCall)]
    assert kinds == [CallKind.MULTISEND, CallKind.SAFE_ADMIN]


def test_walk_yields_outermost_first_with_chains() -> None:
    data = exec_transaction(CALL_ONLY, three_transfers(), operation=1)
    call = decode_call(SAFE, 0, data)
    walked = list(walk(call))
    assert [len(chain) for chain, _ in walked] == [0, 1, 2, 2, 2]
    names = [c.name for _, c in walked if isinstance(c, KnownCall)]
    assert names == ["execTransaction", "multiSend", "transfer", "transfer", "transfer"]
    assert all(isinstance(step, InnerCall) for chain, _ in walked for step in chain)
