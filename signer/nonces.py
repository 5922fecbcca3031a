"""Nonce-ledger entries for what the signer is about to sign: account nonces and Safe nonces.

- A transaction is keyed by (chain id, signing account, account nonce). Its payload digest is
  SHA-256 of the exact unsigned payload; its fee-neutral digest is SHA-256 of the same
  transaction with its fee fields set to zero (``maxFeePerGas`` and ``maxPriorityFeePerGas``
  for EIP-1559, ``gasPrice`` otherwise), so that a fee bump of an otherwise identical
  transaction is recognised as a replacement and anything else as equivocation.
- An EIP-712 ``SafeTx`` is keyed by (chain id, Safe, Safe nonce). Its payload is the SafeTx
  hash the owner signs; it has no fee bump (the fee-neutral digest is the payload digest), so
  any other SafeTx for a Safe nonce already signed is equivocation. A Safe whose domain names
  no chain (before Safe 1.3.0) has no chain to key on and gets no entry; the policy refuses
  such Safes unless it names them.
- Messages (personal_sign, other typed data) have no nonce and get no entry.

The *spend id* (:func:`spend_id`) names what an item moves for the limits store, which counts
each id once: the ledger key plus the fee-neutral digest, so that a re-sign and a fee bump of
a transaction share the id of the first signature, and (for a Safe) so do the signatures of
two owners held by one signer; without a ledger entry, the signing account and the digest.
"""

from __future__ import annotations

import hashlib

from shared.review import Review
from shared.tx import DynamicFeeTransaction, Transaction
from shared.tx.rlp import read_span, read_top
from signer.ledger import LedgerEntry, NonceKind, payload_digest
from signer.signing import ComputedDigest


def fee_values(transaction: Transaction) -> tuple[int, int]:
    """(max fee, priority fee) per gas as the ledger compares them."""
    if isinstance(transaction, DynamicFeeTransaction):
        return transaction.max_fee_per_gas, transaction.max_priority_fee_per_gas
    return transaction.gas_price, transaction.gas_price


# The fee fields of every transaction layout: EIP-1559's two, and gasPrice of the others.
FEE_FIELDS = frozenset({"max_fee_per_gas", "max_priority_fee_per_gas", "gas_price"})
# Yellow Paper, Appendix B: RLP of the integer 0 is the empty string, 0x80.
_RLP_ZERO = b"\x80"
# Yellow Paper, Appendix B: a list whose payload is shorter than 56 bytes has the one-byte
# header 0xc0 + length; a longer one has 0xf7 + len(BE(length)), then BE(length).
_SHORT_LIST = 0xC0
_LONG_LIST = 0xF7
_SHORT_LIMIT = 56
# Each transaction class's layout as the splice needs it: the length of its EIP-2718 type
# prefix (none for legacy) and where its fee fields sit in its RLP list (FIELDS order).
# Found once per class: a pure function of the class's constant layout.
_FEE_LAYOUTS: dict[type[Transaction], tuple[int, tuple[int, ...]]] = {}


def fee_neutral_payload(transaction: Transaction, unsigned_payload: bytes | None = None) -> bytes:
    """The unsigned payload of ``transaction`` with every fee field set to zero.

    ``unsigned_payload`` may be the transaction's exact unsigned bytes when the caller has
    them (else the transaction is encoded). The result is those bytes with each fee field's
    item replaced by RLP of 0 and the list header rewritten for the new length: the payload a
    copy of the transaction with zero fees would encode to, without building that copy and
    checking its fields once more. Only the items up to the last fee field are walked; the
    rest is copied as it is.
    """
    payload = transaction.unsigned_payload() if unsigned_payload is None else unsigned_payload
    layout = _FEE_LAYOUTS.get(type(transaction))
    if layout is None:
        layout = _FEE_LAYOUTS[type(transaction)] = _fee_layout(transaction)
    prefix_length, positions = layout
    # EIP-2718: type || rlp(fields) for a typed transaction; rlp(fields) for legacy.
    _, start, end, _ = read_top(payload, prefix_length, "sign-data")
    parts = []
    copied = position = start
    for index in range(positions[-1] + 1):
        header, _, item_end, _ = read_span(payload, position, end, "sign-data", index, 2)
        if index in positions:
            parts.append(payload[copied:header])
            parts.append(_RLP_ZERO)
            copied = item_end
        position = item_end
    parts.append(payload[copied:end])
    body = b"".join(parts)
    return payload[:prefix_length] + _list_header(len(body)) + body


def _fee_layout(transaction: Transaction) -> tuple[int, tuple[int, ...]]:
    positions = tuple(
        index for index, spec in enumerate(transaction.FIELDS) if spec.name in FEE_FIELDS
    )
    return len(transaction.type_prefix()), positions


def _list_header(length: int) -> bytes:
    if length < _SHORT_LIMIT:
        return bytes((_SHORT_LIST + length,))
    length_bytes = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((_LONG_LIST + len(length_bytes),)) + length_bytes


def ledger_entry(
    review: Review,
    computed: ComputedDigest,
    account: bytes,
    request_id: bytes | None,
    *,
    unsigned_payload: bytes | None = None,
) -> LedgerEntry | None:
    """The ledger entry for signing ``computed`` with ``account`` (20 bytes), or None.

    ``unsigned_payload`` may be the transaction's exact unsigned bytes when the caller has
    them (the core passes the request's sign-data, which the canonical-only decoder turned into
    this transaction, so encoding it again gives the same bytes); otherwise the transaction is
    encoded.
    """
    transaction = computed.transaction
    if transaction is not None:
        max_fee, priority_fee = fee_values(transaction)
        payload = transaction.unsigned_payload() if unsigned_payload is None else unsigned_payload
        return LedgerEntry(
            kind=NonceKind.ACCOUNT,
            chain_id=transaction.chain_id,
            account=account,
            nonce=transaction.nonce,
            payload_digest=payload_digest(payload),
            fee_neutral_digest=payload_digest(fee_neutral_payload(transaction, payload)),
            max_fee=max_fee,
            priority_fee=priority_fee,
            request_id=request_id,
        )
    safe_tx = review.subject.safe_tx
    if safe_tx is None or not safe_tx.chain_id:
        return None
    digest = payload_digest(computed.digest)
    return LedgerEntry(
        kind=NonceKind.SAFE,
        chain_id=safe_tx.chain_id,
        account=safe_tx.safe.raw,
        nonce=safe_tx.nonce,
        payload_digest=digest,
        fee_neutral_digest=digest,
        max_fee=0,
        priority_fee=0,
        request_id=request_id,
    )


# A label that keeps spend ids apart from every other SHA-256 the signer computes.
SPEND_ID_DOMAIN = b"coldsign spend id v1"
# The preimages' constant starts: domain || 0x00 || u8(kind) for each nonce kind, and
# domain || 0x01 (see spend_id), written out once.
_KEYED_PREFIX = {kind: SPEND_ID_DOMAIN + b"\x00" + bytes((int(kind),)) for kind in NonceKind}
_UNKEYED_PREFIX = SPEND_ID_DOMAIN + b"\x01"


def spend_id(entry: LedgerEntry | None, digest: bytes, signer: bytes) -> bytes:
    """The id under which one signed item's spends are counted once (32 bytes).

    With a ledger entry: SHA-256(domain || 0x00 || u8(kind) || u256(chain_id) || account ||
    u256(nonce) || fee_neutral_digest). Without one (messages, a Safe whose domain names no
    chain): SHA-256(domain || 0x01 || signer || digest), ``digest`` being the signed digest
    and ``signer`` the 20-byte signing address.
    """
    if entry is None:
        return hashlib.sha256(_UNKEYED_PREFIX + signer + digest).digest()
    return hashlib.sha256(
        b"".join(
            (
                _KEYED_PREFIX[entry.kind],
                entry.chain_id.to_bytes(32, "big"),
                entry.account,
                entry.nonce.to_bytes(32, "big"),
                entry.fee_neutral_digest,
            )
        )
    ).digest()
