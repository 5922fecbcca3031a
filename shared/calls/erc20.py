"""Known ERC-20 calls: transfers, approvals, allowance changes and EIP-2612 permits."""

from __future__ import annotations

from shared.calls.catalog import FunctionSpec
from shared.calls.model import CallKind

_EIP20 = "EIP-20 (eips.ethereum.org/EIPS/eip-20), section Methods"
_OZ_4 = "OpenZeppelin/openzeppelin-contracts v4.9.0 contracts/token/ERC20/ERC20.sol"
_EIP2612 = "EIP-2612 (eips.ethereum.org/EIPS/eip-2612), section Specification"
# ERC-721's transferFrom(address,address,uint256) and approve(address,uint256) have the
# same signatures, hence the same selectors: which standard a call means is decided by
# what the target is (the token registry), not by the call data.
_SHARED_WITH_721 = "same selector as ERC-721's; the third argument is a token id for an NFT"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "transfer(address,uint256)",
        "0xa9059cbb",
        CallKind.TOKEN_TRANSFER,
        ("to", "amount"),
        _EIP20,
    ),
    FunctionSpec(
        "transferFrom(address,address,uint256)",
        "0x23b872dd",
        CallKind.TOKEN_TRANSFER,
        ("from", "to", "amount"),
        _EIP20,
        note=_SHARED_WITH_721,
    ),
    FunctionSpec(
        "approve(address,uint256)",
        "0x095ea7b3",
        CallKind.TOKEN_APPROVAL,
        ("spender", "amount"),
        _EIP20,
        note="same selector as ERC-721 approve(to, tokenId)",
    ),
    FunctionSpec(
        "increaseAllowance(address,uint256)",
        "0x39509351",
        CallKind.TOKEN_APPROVAL,
        ("spender", "addedValue"),
        _OZ_4,
    ),
    FunctionSpec(
        "decreaseAllowance(address,uint256)",
        "0xa457c2d7",
        CallKind.TOKEN_APPROVAL,
        ("spender", "subtractedValue"),
        _OZ_4,
    ),
    FunctionSpec(
        "permit(address,address,uint256,uint256,uint8,bytes32,bytes32)",
        "0xd505accf",
        CallKind.TOKEN_APPROVAL,
        ("owner", "spender", "value", "deadline", "v", "r", "s"),
        _EIP2612,
    ),
)
