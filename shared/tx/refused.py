"""First bytes that are recognised but refused: EIP-4844 and EIP-7702 types, non-transactions."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import RefusedTransactionTypeError, TransactionError

SIGN_DATA = "sign-data"


@dataclass(frozen=True, slots=True)
class RefusedType:
    """An EIP-2718 transaction type that is understood to exist but is not signed."""

    tx_type: int
    eip: str
    name: str
    why: str


# Refused with RefusedTransactionTypeError (tx_type, eip) so that a policy layer can tell
# them apart from malformed input and, one day, allow them by name.
REFUSED_TYPES: dict[int, RefusedType] = {
    # EIP-4844: 0x03 || rlp([..., max_fee_per_blob_gas, blob_versioned_hashes])
    0x03: RefusedType(
        0x03, "EIP-4844", "blob transaction", "blob fees and versioned hashes are not reviewed"
    ),
    # EIP-7702: 0x04 || rlp([..., authorization_list]): delegates the account's code.
    0x04: RefusedType(
        0x04,
        "EIP-7702",
        "set-code transaction",
        "it would let other code act for the account",
    ),
}

# First bytes of payloads that are signed by Ethereum keys but are not transactions;
# reading one as a transaction would sign something else than what is shown.
NOT_TRANSACTIONS: dict[int, str] = {
    # EIP-7702: authority signs keccak256(0x05 || rlp([chain_id, address, nonce])).
    0x05: "0x05 starts an EIP-7702 authorization message (delegation of account code), "
    "not a transaction",
    # EIP-191: 0x19 <version byte> <version-specific data> <data to sign>.
    0x19: "0x19 starts EIP-191 signed data (personal message or EIP-712), not a transaction",
}


def refuse_typed(first: int) -> TransactionError:
    """The error for a data-type 4 payload whose type byte is not 0x01 or 0x02."""
    refused = REFUSED_TYPES.get(first)
    if refused is not None:
        return RefusedTransactionTypeError(
            SIGN_DATA,
            f"{refused.eip} {refused.name} (type 0x{first:02x}) is recognised but refused: "
            f"{refused.why}",
            tx_type=first,
            eip=refused.eip,
        )
    known = NOT_TRANSACTIONS.get(first)
    if known is not None:
        return TransactionError(SIGN_DATA, known, offset=0)
    if first > 0x7F:
        # EIP-2718: TransactionType is in [0, 0x7f].
        return TransactionError(
            SIGN_DATA,
            f"0x{first:02x} is neither an EIP-2718 type byte (0x00-0x7f) nor a legacy list",
            offset=0,
        )
    return TransactionError(SIGN_DATA, f"unknown transaction type 0x{first:02x}", offset=0)


def refuse_legacy_prefix(first: int) -> TransactionError:
    """The error for a data-type 1 payload that does not start with an RLP list."""
    known = NOT_TRANSACTIONS.get(first)
    if known is not None:
        return TransactionError(SIGN_DATA, known, offset=0)
    if first <= 0x7F:
        return TransactionError(
            SIGN_DATA,
            f"data-type 1 (legacy) but the payload starts with EIP-2718 type byte "
            f"0x{first:02x}: typed transactions are sent as data-type 4",
            offset=0,
        )
    return TransactionError(
        SIGN_DATA,
        "data-type 1 (legacy) but the payload is an RLP string, not a list",
        offset=0,
    )
