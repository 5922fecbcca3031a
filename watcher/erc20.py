"""The three ERC-20 calls the watcher makes: ``transfer``, ``balanceOf`` and ``decimals``."""

from __future__ import annotations

from shared.abi import function_selector
from shared.address import Address
from watcher.errors import MalformedReplyError
from watcher.rpc import Node

# EIP-20 §Methods: transfer(address,uint256) = 0xa9059cbb, balanceOf(address) = 0x70a08231,
# decimals() = 0x313ce567 (function_selector computes them; the tests compare the values).
TRANSFER = function_selector("transfer(address,uint256)")
BALANCE_OF = function_selector("balanceOf(address)")
DECIMALS = function_selector("decimals()")
_WORD = 32
# EIP-20 says decimals is a uint8; 10**77 is the largest power of ten below 2**256.
MAX_DECIMALS = 77


def _address_word(address: Address) -> bytes:
    # ABI: an address is left-padded with zeros to 32 bytes.
    return bytes(12) + address.raw


def transfer_data(destination: Address, amount: int) -> bytes:
    """Call data of ``transfer(destination, amount)``."""
    return TRANSFER + _address_word(destination) + amount.to_bytes(_WORD, "big")


def _uint_reply(raw: bytes, method: str) -> int:
    if len(raw) != _WORD:
        raise MalformedReplyError(
            "eth_call", "result", f"{method} returned {len(raw)} bytes, not 32"
        )
    return int.from_bytes(raw, "big")


def balance_of(node: Node, token: Address, owner: Address, block: str = "latest") -> int:
    """``token.balanceOf(owner)`` in base units."""
    return _uint_reply(node.call(token, BALANCE_OF + _address_word(owner), block), "balanceOf")


def decimals(node: Node, token: Address) -> int:
    """``token.decimals()``; a value above 77 (no uint256 amount could use it) is refused."""
    value = _uint_reply(node.call(token, DECIMALS), "decimals")
    if value > MAX_DECIMALS:
        raise MalformedReplyError("eth_call", "result", f"decimals() = {value} is not usable")
    return value
