"""Payouts as one Safe transaction: a single call, or a MultiSendCallOnly batch of plain calls.

One withdrawal is paid by a plain call from the Safe (ETH: ``to = destination``; ERC-20:
``to = token``, ``transfer(destination, amount)``). Several are packed for
``MultiSendCallOnly.multiSend(bytes)`` (safe-global/safe-smart-account v1.4.1
contracts/libraries/MultiSendCallOnly.sol), which the Safe reaches with operation 1
(delegatecall), every entry itself a call (operation 0): the one delegatecall an owner's
policy pins, to the one contract that refuses nested delegatecalls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.abi import encode_values, function_selector, parse_type
from shared.address import Address
from shared.calls import Operation, pack_transactions
from shared.messages import SafeTx
from shared.messages.safe_tx import OPERATION_CALL, OPERATION_DELEGATECALL
from watcher import erc20
from watcher.intake import NATIVE

MULTISEND = "multiSend(bytes)"
_ZERO = Address(bytes(20))


@dataclass(frozen=True, slots=True)
class Payout:
    """One payment out of a Safe: ``asset`` is ``native`` or the token as ``0x`` + 40 hex."""

    asset: str
    destination: Address
    amount: int


def payout_call(payout: Payout) -> tuple[Address, int, bytes]:
    """(to, value, data) of the call that makes ``payout``."""
    if payout.asset == NATIVE:
        return payout.destination, payout.amount, b""
    token = Address(bytes.fromhex(payout.asset[2:]))
    return token, 0, erc20.transfer_data(payout.destination, payout.amount)


def multisend_data(payouts: Sequence[Payout]) -> bytes:
    """``multiSend(packed)`` call data with one plain call per payout."""
    entries = [(Operation.CALL, *payout_call(p)) for p in payouts]
    return function_selector(MULTISEND) + encode_values(
        [parse_type("bytes")], [pack_transactions(entries)]
    )


def payout_tx(
    safe: Address,
    chain_id: int,
    nonce: int,
    payouts: Sequence[Payout],
    multisend_call_only: Address,
) -> SafeTx:
    """The SafeTx paying ``payouts``: no gas refund (every refund field zero)."""
    if not payouts:
        raise ValueError("no payouts")
    if len(payouts) == 1:
        to, value, data = payout_call(payouts[0])
        operation = OPERATION_CALL
    else:
        to, value, data = multisend_call_only, 0, multisend_data(payouts)
        operation = OPERATION_DELEGATECALL
    return SafeTx(
        safe=safe,
        chain_id=chain_id,
        to=to,
        value=value,
        data=data,
        operation=operation,
        safe_tx_gas=0,
        base_gas=0,
        gas_price=0,
        gas_token=_ZERO,
        refund_receiver=_ZERO,
        nonce=nonce,
    )


def totals(payouts: Sequence[Payout]) -> dict[str, int]:
    """What ``payouts`` spend, per asset."""
    spent: dict[str, int] = {}
    for payout in payouts:
        spent[payout.asset] = spent.get(payout.asset, 0) + payout.amount
    return spent
