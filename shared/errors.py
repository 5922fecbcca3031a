"""The one error tree for everything in ``shared`` that rejects untrusted input.

Every decoder in this package returns a fully validated frozen object or raises
exactly one subclass of :class:`DecodeError`. Each error names the field (or
part, or offset) that was wrong and why, so a user-facing program can print a
one-line reason without a traceback.

    ColdsignError
    └── DecodeError                 untrusted input was refused
        ├── CborError               deterministic CBOR (RFC 8949 §4.2)
        │   ├── CborLimitError      size / depth / item-count limit hit
        │   └── NonCanonicalError   valid CBOR, but not the one canonical form
        ├── URError                 BC-UR (BCR-2020-005, BCR-2024-001)
        │   ├── BytewordsError      bad word, bad length or bad CRC32
        │   ├── URFormatError       malformed ``ur:`` string or part header
        │   ├── URTypeError         a UR of another type than expected
        │   └── FountainError       a part inconsistent with the message so far
        │       └── MixedMessageError  a part of another message
        ├── SchemaError             a CBOR value that breaks an ERC-4527 schema
        ├── EnvelopeError           a compressed envelope that does not inflate exactly
        ├── RLPError                RLP that is malformed or not canonical
        ├── TransactionError        a transaction refused or malformed
        │   └── RefusedTransactionTypeError  a known type refused by name (EIP-4844, EIP-7702)
        ├── AddressError            an address that is malformed or fails EIP-55
        ├── CalldataError           ABI calldata malformed or not canonical
        ├── TypedDataError          EIP-712 typed data malformed
        ├── MnemonicError           a BIP-39 mnemonic: unknown word, wrong length, bad checksum
        └── RegistryFileError       an operator's registry file that does not validate
    └── IncompleteError             a multi-part message is not complete yet

Errors carry structured attributes (``field``, ``reason``, ``offset``) so tests
and interfaces never parse the message text.
"""

from __future__ import annotations


class ColdsignError(Exception):
    """Base of every error raised by the ``shared`` package."""


class DecodeError(ColdsignError):
    """Untrusted input was refused.

    ``field`` names where the problem is (a CBOR path such as ``map[3]``, a
    schema field such as ``sign-data``, a UR part such as ``part 4``);
    ``reason`` says what was wrong; ``offset`` is the byte offset when known.
    """

    def __init__(self, field: str, reason: str, *, offset: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.offset = offset
        where = field if offset is None else f"{field} (at byte {offset})"
        super().__init__(f"{where}: {reason}")


class CborError(DecodeError):
    """Bytes that are not valid, deterministic, schema-allowed CBOR."""


class CborLimitError(CborError):
    """A size, depth or item-count limit was hit before allocating."""


class NonCanonicalError(CborError):
    """Well-formed CBOR that is not in the one deterministic form."""


class URError(DecodeError):
    """A malformed Uniform Resource (BCR-2020-005) or multi-part UR."""


class BytewordsError(URError):
    """Bytewords that do not decode: unknown word, bad length, bad CRC32."""


class URFormatError(URError):
    """A ``ur:`` string or a part header that does not parse."""


class URTypeError(URError):
    """A UR of another type than the one expected here."""


class FountainError(URError):
    """A fountain-coded part that is inconsistent with the message so far."""


class MixedMessageError(FountainError):
    """A part that belongs to another message (seqLen, length or checksum differ)."""


class SchemaError(DecodeError):
    """A CBOR value that does not match its ERC-4527 / coldsign schema."""


class EnvelopeError(DecodeError):
    """A ``coldsign-compressed`` envelope that does not inflate to exactly its declared length."""


class RLPError(DecodeError):
    """RLP bytes that are malformed or not in canonical form."""


class TransactionError(DecodeError):
    """A transaction that is malformed or of a type coldsign refuses."""


class RefusedTransactionTypeError(TransactionError):
    """A recognised transaction type that coldsign refuses (EIP-4844 blob, EIP-7702 set-code).

    ``tx_type`` is the EIP-2718 type byte and ``eip`` names the EIP (``"EIP-4844"``), so a
    policy layer can tell these refusals apart from malformed input without parsing text.
    """

    def __init__(self, field: str, reason: str, *, tx_type: int, eip: str) -> None:
        self.tx_type = tx_type
        self.eip = eip
        super().__init__(field, reason, offset=0)


class AddressError(DecodeError):
    """An address of the wrong length, not hex, or mixed case with a bad EIP-55 checksum."""


class CalldataError(DecodeError):
    """ABI-encoded calldata that is malformed or not canonical."""


class TypedDataError(DecodeError):
    """EIP-712 typed data that is malformed or cannot be hashed."""


class MnemonicError(DecodeError):
    """A BIP-39 mnemonic with an unknown word, a wrong word count or a bad checksum.

    ``field`` is ``mnemonic``, ``word N`` (1-based), ``entropy`` or ``passphrase``; the
    message names the position of a bad word, never the word itself.
    """


class RegistryFileError(DecodeError):
    """An operator's registry file (chains, tokens, Safes, labels) that does not validate."""


class IncompleteError(ColdsignError):
    """A multi-part message was asked for before enough parts arrived."""
