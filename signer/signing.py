"""Signatures over the hash the signer computes itself from a decoded request, never a given one.

For each ERC-4527 data type the digest is recomputed from ``sign-data`` after a strict decode:

- 1 legacy transaction: keccak256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]))
  (EIP-155), signed with ``v = chain_id * 2 + 35 + y_parity``;
- 4 typed transaction: keccak256(type || rlp(fields)) (EIP-2718, EIP-2930, EIP-1559), signed
  with ``v = y_parity`` (0 or 1);
- 3 personal message: keccak256(0x19 || "Ethereum Signed Message:\\n" || len || message)
  (EIP-191 version 0x45), ``v = 27 + y_parity``;
- 2 typed data: keccak256(0x19 || 0x01 || domainSeparator || hashStruct(message)) (EIP-712),
  ``v = 27 + y_parity``.

``v`` for messages follows what MetaMask's keyring returns to dapps (``r || s || v`` with
v 27/28, as eth_sign and ``personal_sign`` always have); Keystone signs them the same way.

The request's key is checked before anything is signed: its path must be complete (no
wildcard, depth equal to its steps) and enrolled, its source fingerprint (when given) must be
this signer's master fingerprint, and its ``address`` (when given) must be the address of the
key at that path. Any mismatch is a :class:`KeyPathError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.erc4527 import DataType, EthSignature, EthSignRequest, Keypath
from shared.errors import TransactionError
from shared.keccak import keccak256
from shared.messages import hash_typed_data, personal_message_hash
from shared.tx import Transaction, decode_transaction
from shared.tx.legacy import LegacyTransaction
from signer.errors import KeyPathError
from signer.keys.accounts import EnrolledAccount
from signer.keys.bip32 import HARDENED, DerivationPath
from signer.keys.session import DigestSignature, KeySession

# EIP-155: v = chain_id * 2 + 35 + y_parity.
EIP155_V_OFFSET = 35
# Yellow Paper Appendix F / eth_sign: v = 27 + y_parity for messages.
MESSAGE_V_OFFSET = 27
SCALAR_BYTES = 32


class SignedKind(StrEnum):
    """What a digest was computed from, which fixes how ``v`` is written."""

    LEGACY_TRANSACTION = "legacy-transaction"
    TYPED_TRANSACTION = "typed-transaction"
    PERSONAL_MESSAGE = "personal-message"
    TYPED_DATA = "typed-data"


@dataclass(frozen=True, slots=True)
class ComputedDigest:
    """The digest the signer computed from a request's decoded bytes, and what it covers.

    ``transaction`` is the decoded transaction for data types 1 and 4 (None for messages).
    """

    kind: SignedKind
    digest: bytes
    transaction: Transaction | None = None


def compute_digest(
    request: EthSignRequest, *, transaction: Transaction | None = None
) -> ComputedDigest:
    """Decode ``request.sign_data`` strictly and compute the digest to sign.

    ``transaction`` may be the transaction the review already decoded from this very
    ``sign-data`` (the core passes it, then checks the result against the review's signing
    hash). Either way the transaction must re-encode to exactly ``sign-data``, so the bytes
    hashed here are the bytes whose fields were shown. Raises the
    decoders' :class:`~shared.errors.DecodeError` subclasses for anything that does not
    decode, and :class:`TransactionError` for a transaction of another chain than the
    request names.
    """
    data_type = request.data_type
    if data_type is DataType.TYPED_TRANSACTION or data_type is DataType.TRANSACTION:
        sign_data = request.sign_data
        if transaction is None:
            transaction = decode_transaction(sign_data, int(data_type))
        elif data_type != transaction.DATA_TYPE:
            raise TransactionError("data-type", "the transaction given is of another data type")
        # What is shown is the decoded fields; what is signed is the hash of sign-data. The
        # decoders accept only the canonical encoding, so the fields re-encode to exactly
        # sign-data; checked here at run time as well (~2 us), because this one equality is
        # what makes the shown transaction the signed one (a decoder bug would be refused
        # here, not signed).
        if transaction.unsigned_payload() != sign_data:
            raise TransactionError("sign-data", "does not re-encode to the same bytes")
        chain_id = request.chain_id
        if chain_id is not None and transaction.chain_id != chain_id:
            raise TransactionError(
                "tx.chain_id",
                f"the request is for chain {chain_id} but the transaction is for"
                f" chain {transaction.chain_id}",
            )
        kind = (
            SignedKind.LEGACY_TRANSACTION
            if isinstance(transaction, LegacyTransaction)
            else SignedKind.TYPED_TRANSACTION
        )
        # EIP-155 / EIP-2718: the digest is keccak256 of exactly these (canonical) bytes.
        return ComputedDigest(kind, keccak256(sign_data), transaction)
    if data_type is DataType.PERSONAL_MESSAGE:
        return ComputedDigest(SignedKind.PERSONAL_MESSAGE, personal_message_hash(request.sign_data))
    return ComputedDigest(SignedKind.TYPED_DATA, hash_typed_data(request.sign_data))


def request_path(keypath: Keypath) -> DerivationPath:
    """The full BIP-32 path a request names; :class:`KeyPathError` for a partial path."""
    if keypath.has_wildcard:
        raise KeyPathError(f"the request's path {keypath} has a wildcard")
    if keypath.depth is not None and keypath.depth != len(keypath.components):
        raise KeyPathError(
            f"the request's path {keypath} says depth {keypath.depth} but lists"
            f" {len(keypath.components)} steps; the full path from the master key is needed"
        )
    indices: list[int] = []
    for component in keypath.components:
        if component.index is None:
            raise KeyPathError(f"the request's path {keypath} has a wildcard")
        indices.append(component.index + (HARDENED if component.hardened else 0))
    return DerivationPath(tuple(indices))


def request_account(
    request: EthSignRequest,
    accounts: tuple[EnrolledAccount, ...],
    master_fingerprint: bytes,
) -> EnrolledAccount:
    """The enrolled account a request asks to sign with, after every key check.

    Refuses (:class:`KeyPathError`) a source fingerprint of another device, a path that is
    not enrolled, and an ``address`` that is not the address of the key at the path.
    """
    fingerprint = request.source_fingerprint
    if fingerprint is not None and fingerprint.to_bytes(4, "big") != master_fingerprint:
        raise KeyPathError(
            f"the request is for the device with master fingerprint {fingerprint:08x}; this"
            f" signer's is {master_fingerprint.hex()}"
        )
    path = request_path(request.derivation_path)
    account = next((item for item in accounts if item.path == path), None)
    if account is None:
        raise KeyPathError(f"{path} is not an enrolled account of this signer")
    if request.address is not None and request.address != account.address:
        raise KeyPathError(
            f"the request names address {request.address.checksummed()} but the key at"
            f" {path} has address {account.address.checksummed()}"
        )
    return account


def signature_v(computed: ComputedDigest, recovery_id: int) -> int:
    """``v`` for a signature with y-parity ``recovery_id`` over ``computed``."""
    if recovery_id != 0 and recovery_id != 1:
        raise ValueError("a recovery id is 0 or 1")
    kind = computed.kind
    if kind is SignedKind.TYPED_TRANSACTION:
        return recovery_id
    if kind is SignedKind.LEGACY_TRANSACTION:
        if computed.transaction is None:
            raise ValueError("a legacy transaction digest carries its transaction")
        return computed.transaction.chain_id * 2 + EIP155_V_OFFSET + recovery_id
    return MESSAGE_V_OFFSET + recovery_id


def to_eth_signature(
    computed: ComputedDigest, raw: DigestSignature, request: EthSignRequest
) -> EthSignature:
    """The ``eth-signature`` answering ``request``: r, s and the ``v`` its kind calls for."""
    return EthSignature(
        raw.r.to_bytes(SCALAR_BYTES, "big"),
        raw.s.to_bytes(SCALAR_BYTES, "big"),
        signature_v(computed, raw.recovery_id),
        request.request_id,
    )


def sign_request(
    session: KeySession, request: EthSignRequest, computed: ComputedDigest | None = None
) -> EthSignature:
    """Check the request's key and sign the digest computed from its bytes.

    ``computed`` may be passed when the caller already computed it with
    :func:`compute_digest` for this very request (the core does, to cross-check the review);
    anything else would defeat the point, so the digest is recomputed when it is absent.
    """
    account = request_account(request, session.accounts, session.master_fingerprint)
    digest = compute_digest(request) if computed is None else computed
    # The signing core is the one caller allowed to use the raw primitive: the digest was
    # computed above (or by compute_digest for this request) from decoded bytes.
    raw = session._sign_computed_digest(account.path, digest.digest)
    return to_eth_signature(digest, raw, request)
