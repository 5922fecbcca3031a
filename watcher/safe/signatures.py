"""Owner signatures over a SafeTx hash: checked one by one, then packed as the Safe reads them.

Safe v1.4.1 ``checkNSignatures`` (contracts/Safe.sol) reads ``threshold`` 65-byte entries
``r || s || v`` and requires the recovered owners in strictly ascending address order. Its
``v`` selects the scheme: 0 contract signature (EIP-1271), 1 pre-approved hash, 27/28 ECDSA
over the SafeTx hash itself, above 30 ECDSA over the ``eth_sign`` (EIP-191) hash of it.

Only ECDSA over the typed-data hash is accepted: ``v`` 27/28 as coldsign and MetaMask write
it, or the bare y-parity 0/1 some ERC-4527 signers write (packed as 27/28). In a Safe's own
signature bytes, 0 and 1 would not prove anything by themselves (the Safe checks them against
contract state instead), and ``v > 30`` means an owner signed a bare 32-byte hash as a
personal message: a signature made without seeing the transaction, which is what a
coldsign signer refuses to make (``message-is-hash``), so the watcher refuses to use one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from coincurve import PublicKey

from shared.address import Address
from shared.erc4527 import EthSignature
from shared.hdpublic import address_of
from watcher.safe.errors import OwnerSignatureError
from watcher.verify import SECP256K1_N

_HALF_N = SECP256K1_N // 2
# Yellow Paper Appendix F: v = 27 + y-parity for a signature over a digest.
_V_OFFSET = 27
SIGNATURE_LENGTH = 65


def y_parity(signature: EthSignature, where: str) -> int:
    """The recovery id of an ECDSA signature over the digest itself (v 27/28, or 0/1)."""
    if signature.v > 30:
        raise OwnerSignatureError(
            f"{where}: v = {signature.v} is an eth_sign signature over the bare hash; an owner "
            "must sign the SafeTx typed data"
        )
    if signature.v in (_V_OFFSET, _V_OFFSET + 1):
        return signature.v - _V_OFFSET
    if signature.v in (0, 1):
        return signature.v
    raise OwnerSignatureError(
        f"{where}: v = {signature.v}; a SafeTx typed-data signature has v 27 or 28"
    )


def recover_owner(digest: bytes, signature: EthSignature, where: str) -> Address:
    """The address whose key made ``signature`` over ``digest`` (ECDSA, low s, v 27/28 or 0/1)."""
    r = int.from_bytes(signature.r, "big")
    s = int.from_bytes(signature.s, "big")
    if not 1 <= r < SECP256K1_N or not 1 <= s < SECP256K1_N:
        raise OwnerSignatureError(f"{where}: r or s is outside [1, n)")
    if s > _HALF_N:
        raise OwnerSignatureError(f"{where}: s is in the upper half (malleable, EIP-2)")
    parity = y_parity(signature, where)
    try:
        # secp256k1 recovery over the 32-byte EIP-712 digest itself: r || s || recovery id.
        public_key = PublicKey.from_signature_and_message(
            signature.r + signature.s + bytes([parity]), digest, hasher=None
        )
    except ValueError as exc:
        raise OwnerSignatureError(f"{where}: no public key recovers from it") from exc
    return address_of(public_key.format(compressed=True))


def check_owner_signature(
    digest: bytes,
    signature: EthSignature,
    *,
    expected: Address,
    owners: Iterable[Address],
    already: Mapping[Address, bytes],
    where: str,
) -> bytes:
    """The 65-byte Safe signature of ``expected`` over ``digest``, after every check.

    Refuses a signature by anyone but ``expected`` (the owner the request was sent to), by
    a key that is not an owner now, or by an owner whose signature is already stored.
    """
    signer = recover_owner(digest, signature, where)
    if signer not in set(owners):
        raise OwnerSignatureError(f"{where}: signed by {signer}, who is not an owner of the Safe")
    if signer != expected:
        raise OwnerSignatureError(
            f"{where}: signed by {signer}, but the request was sent to owner {expected}"
        )
    if signer in already:
        raise OwnerSignatureError(f"{where}: owner {signer} has already signed this transaction")
    return signature.r + signature.s + bytes([_V_OFFSET + y_parity(signature, where)])


def pack_signatures(signatures: Mapping[Address, bytes], threshold: int) -> bytes:
    """The first ``threshold`` signatures in ascending owner order, concatenated."""
    if len(signatures) < threshold:
        raise ValueError(f"{len(signatures)} signatures, threshold {threshold}")
    ordered = sorted(signatures.items(), key=lambda item: item[0].raw)
    return b"".join(sig for _, sig in ordered[:threshold])
