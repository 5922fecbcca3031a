"""ERC-4527 message types as MetaMask and Keystone encode them (crypto-* names, BCR tags)."""

from __future__ import annotations

from shared.erc4527.account import ACCOUNT_TYPE, CryptoAccount
from shared.erc4527.batch import (
    BATCH_SIGN_REQUEST_TYPE,
    BATCH_SIGNATURE_TYPE,
    MAX_BATCH,
    EthBatchSignature,
    EthBatchSignRequest,
)
from shared.erc4527.hdkey import HDKEY_TYPE, CoinInfo, HDKey
from shared.erc4527.keypath import KEYPATH_TYPE, Keypath, PathComponent
from shared.erc4527.known import DECODERS, Message, decode_ur, describe
from shared.erc4527.request_id import RequestId
from shared.erc4527.schema import MAX_TEXT_BYTES
from shared.erc4527.sign_request import (
    MAX_SIGN_DATA,
    SIGN_REQUEST_TYPE,
    DataType,
    EthSignRequest,
)
from shared.erc4527.signature import SIGNATURE_TYPE, AuditHead, EthSignature

__all__ = [
    "ACCOUNT_TYPE",
    "BATCH_SIGNATURE_TYPE",
    "BATCH_SIGN_REQUEST_TYPE",
    "DECODERS",
    "HDKEY_TYPE",
    "KEYPATH_TYPE",
    "MAX_BATCH",
    "MAX_SIGN_DATA",
    "MAX_TEXT_BYTES",
    "SIGNATURE_TYPE",
    "SIGN_REQUEST_TYPE",
    "AuditHead",
    "CoinInfo",
    "CryptoAccount",
    "DataType",
    "EthBatchSignRequest",
    "EthBatchSignature",
    "EthSignRequest",
    "EthSignature",
    "HDKey",
    "Keypath",
    "Message",
    "PathComponent",
    "RequestId",
    "decode_ur",
    "describe",
]
