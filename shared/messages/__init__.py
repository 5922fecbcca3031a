"""Messages an account signs: EIP-191 personal_sign, EIP-712 typed data, schemas, Safe hashes."""

from __future__ import annotations

from shared.messages.eip712 import (
    Domain,
    Member,
    Struct,
    StructType,
    TypedData,
    Value,
    hash_typed_data,
    parse_typed_data,
)
from shared.messages.personal import (
    display_personal_message,
    personal_message_hash,
    personal_message_preimage,
)
from shared.messages.safe_tx import (
    SafeMessage,
    SafeTx,
    SafeVersion,
    parse_safe_version,
    safe_domain_separator,
    safe_message_hash,
    safe_tx_hash,
    safe_tx_struct_hash,
)
from shared.messages.schemas import (
    DaiPermit,
    Permit,
    Permit2Batch,
    Permit2BatchTransferFrom,
    Permit2BatchWitnessTransferFrom,
    Permit2Single,
    Permit2TransferFrom,
    Permit2Witness,
    Permit2WitnessTransferFrom,
    PermitDetails,
    RecognisedMessage,
    TokenPermissions,
    recognise,
)
from shared.messages.text import DisplayText, safe_display

__all__ = [
    "DaiPermit",
    "DisplayText",
    "Domain",
    "Member",
    "Permit",
    "Permit2Batch",
    "Permit2BatchTransferFrom",
    "Permit2BatchWitnessTransferFrom",
    "Permit2Single",
    "Permit2TransferFrom",
    "Permit2Witness",
    "Permit2WitnessTransferFrom",
    "PermitDetails",
    "RecognisedMessage",
    "SafeMessage",
    "SafeTx",
    "SafeVersion",
    "Struct",
    "StructType",
    "TokenPermissions",
    "TypedData",
    "Value",
    "display_personal_message",
    "hash_typed_data",
    "parse_safe_version",
    "parse_typed_data",
    "personal_message_hash",
    "personal_message_preimage",
    "recognise",
    "safe_display",
    "safe_domain_separator",
    "safe_message_hash",
    "safe_tx_hash",
    "safe_tx_struct_hash",
]
