"""The UR types coldsign understands: type name → strict decoder, and ``describe`` for the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TypeAlias

from shared.erc4527.account import ACCOUNT_TYPE, CryptoAccount
from shared.erc4527.batch import (
    BATCH_SIGN_REQUEST_TYPE,
    BATCH_SIGNATURE_TYPE,
    EthBatchSignature,
    EthBatchSignRequest,
)
from shared.erc4527.hdkey import HDKEY_TYPE, HDKey
from shared.erc4527.keypath import KEYPATH_TYPE, Keypath
from shared.erc4527.sign_request import SIGN_REQUEST_TYPE, EthSignRequest
from shared.erc4527.signature import SIGNATURE_TYPE, EthSignature
from shared.errors import URTypeError
from shared.ur import UR

Message: TypeAlias = (
    EthSignRequest
    | EthSignature
    | EthBatchSignRequest
    | EthBatchSignature
    | HDKey
    | CryptoAccount
    | Keypath
)

DECODERS: Mapping[str, Callable[[bytes], Message]] = MappingProxyType(
    {
        SIGN_REQUEST_TYPE: EthSignRequest.from_cbor,
        SIGNATURE_TYPE: EthSignature.from_cbor,
        BATCH_SIGN_REQUEST_TYPE: EthBatchSignRequest.from_cbor,
        BATCH_SIGNATURE_TYPE: EthBatchSignature.from_cbor,
        HDKEY_TYPE: HDKey.from_cbor,
        ACCOUNT_TYPE: CryptoAccount.from_cbor,
        KEYPATH_TYPE: Keypath.from_cbor,
    }
)


def decode_ur(ur: UR) -> Message:
    """Decode a UR of any known type; :class:`URTypeError` (field ``ur.type``) otherwise."""
    decoder = DECODERS.get(ur.type)
    if decoder is None:
        known = ", ".join(sorted(DECODERS))
        raise URTypeError("ur.type", f"ur:{ur.type} is not a known type ({known})")
    return decoder(ur.cbor)


def describe(ur: UR) -> dict[str, object]:
    """The decoded fields of ``ur`` as JSON-safe values, with its ``type`` first.

    Bytes are lower-case hex, fingerprints 8 hex digits, addresses EIP-55, request ids
    8-4-4-4-12 UUID text, keypaths their steps as text (``44'/60'/0'``); absent optional
    keys are ``null``. Raises what :func:`decode_ur` raises.
    """
    return {"type": ur.type, **decode_ur(ur).describe()}
