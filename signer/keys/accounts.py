"""Enrolled accounts: a derivation path with its Ethereum address, derived from a master key."""

from __future__ import annotations

from dataclasses import dataclass

from coincurve import PublicKey

from shared.address import Address
from shared.keccak import keccak256
from signer.keys.bip32 import DerivationPath, ExtendedPrivateKey


@dataclass(frozen=True, slots=True)
class EnrolledAccount:
    """An account the vault may sign for: its path and (public) address."""

    path: DerivationPath
    address: Address


def address_of(public_key: bytes) -> Address:
    """The Ethereum address of a secp256k1 public key (compressed or not).

    Yellow Paper §7 / eq. 284: the last 20 bytes of keccak256(x || y), the 64-byte
    uncompressed point without its 0x04 prefix.
    """
    uncompressed = PublicKey(public_key).format(compressed=False)
    return Address(keccak256(uncompressed[1:])[12:])


def derive_accounts(
    master: ExtendedPrivateKey, paths: tuple[DerivationPath, ...]
) -> tuple[EnrolledAccount, ...]:
    """The address of each path below ``master``, in order."""
    return tuple(
        EnrolledAccount(path, address_of(master.derive(path).public().public_key)) for path in paths
    )
