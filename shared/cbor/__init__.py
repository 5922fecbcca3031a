"""Strict deterministic CBOR (RFC 8949 §4.2.1): encode, decode, the value model and limits."""

from __future__ import annotations

from shared.cbor.decoder import decode
from shared.cbor.encoder import encode
from shared.cbor.model import (
    DEFAULT_LIMITS,
    CborKey,
    CborLimits,
    CborValue,
    EncodedTag,
    Tag,
)

__all__ = [
    "DEFAULT_LIMITS",
    "CborKey",
    "CborLimits",
    "CborValue",
    "EncodedTag",
    "Tag",
    "decode",
    "encode",
]
