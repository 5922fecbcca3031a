"""Enrolled accounts: a derivation path with its Ethereum address, derived from a master key."""

from __future__ import annotations

from dataclasses import dataclass

from shared.address import Address
from shared.hdpublic import address_of as address_of
from signer.keys.bip32 import DerivationPath, ExtendedPrivateKey


@dataclass(frozen=True, slots=True)
class EnrolledAccount:
    """An account the vault may sign for: its path and (public) address."""

    path: DerivationPath
    address: Address


def derive_accounts(
    master: ExtendedPrivateKey, paths: tuple[DerivationPath, ...]
) -> tuple[EnrolledAccount, ...]:
    """The address of each path below ``master``, in order."""
    return tuple(
        EnrolledAccount(path, address_of(master.derive(path).public().public_key)) for path in paths
    )
