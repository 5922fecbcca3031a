"""Known ERC-721 and ERC-1155 calls: transfers and operator approvals for a whole collection."""

from __future__ import annotations

from shared.calls.catalog import FunctionSpec
from shared.calls.model import CallKind

_EIP721 = "EIP-721 (eips.ethereum.org/EIPS/eip-721), interface ERC721"
_EIP1155 = "EIP-1155 (eips.ethereum.org/EIPS/eip-1155), interface ERC1155"

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        "safeTransferFrom(address,address,uint256)",
        "0x42842e0e",
        CallKind.NFT_TRANSFER,
        ("from", "to", "tokenId"),
        _EIP721,
    ),
    FunctionSpec(
        "safeTransferFrom(address,address,uint256,bytes)",
        "0xb88d4fde",
        CallKind.NFT_TRANSFER,
        ("from", "to", "tokenId", "data"),
        _EIP721,
    ),
    FunctionSpec(
        "setApprovalForAll(address,bool)",
        "0xa22cb465",
        CallKind.NFT_APPROVAL_FOR_ALL,
        ("operator", "approved"),
        _EIP721,
        note="same signature in ERC-1155: approves every token of the collection",
    ),
    FunctionSpec(
        "safeTransferFrom(address,address,uint256,uint256,bytes)",
        "0xf242432a",
        CallKind.NFT_TRANSFER,
        ("from", "to", "id", "value", "data"),
        _EIP1155,
    ),
    FunctionSpec(
        "safeBatchTransferFrom(address,address,uint256[],uint256[],bytes)",
        "0x2eb2c2d6",
        CallKind.NFT_TRANSFER,
        ("from", "to", "ids", "values", "data"),
        _EIP1155,
    ),
)
