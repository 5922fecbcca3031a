"""Pairing: a signer's ``crypto-hdkey`` or ``crypto-account`` becomes watch-only accounts.

This is what MetaMask does with a Keystone: the account-level key (``m/44'/60'/0'`` with its
chain code) is exported once, and every address ``m/44'/60'/0'/0/i`` is derived from it with
BIP-32 CKDpub. A key without a chain code (Keystone's Ledger Live export) is an address key
itself: its path is its origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.erc4527 import ACCOUNT_TYPE, HDKEY_TYPE, CryptoAccount, HDKey
from shared.erc4527.keypath import Keypath
from shared.hdpublic import address_of, ckd_pub
from shared.ur import UR
from watcher.errors import PairingError
from watcher.parts import read_ur
from watcher.state import Account

# SLIP-44 coin type 60 (Ether) under BIP-44 purpose 44'.
_ETH_PREFIX = ((44, True), (60, True))
MAX_DERIVED = 1000


@dataclass(frozen=True, slots=True)
class Pairing:
    """What a pairing export yields: the master fingerprint and the accounts it covers."""

    master_fingerprint: str  # 8 hex digits
    accounts: tuple[Account, ...]


PAIRING_TYPES = frozenset({HDKEY_TYPE, ACCOUNT_TYPE})


def pair_from_text(lines: Sequence[str], *, count: int, source: str) -> Pairing:
    """Read a ``ur:crypto-hdkey`` / ``ur:crypto-account`` (single or multi-part) and derive."""
    return pair_from_ur(read_ur(lines, PAIRING_TYPES, source=source), count=count)


def pair_from_ur(ur: UR, *, count: int) -> Pairing:
    """The watch-only accounts of a decoded pairing UR."""
    if ur.type == HDKEY_TYPE:
        key = HDKey.from_ur(ur)
        if key.source_fingerprint is None:
            raise PairingError(
                "the crypto-hdkey names no master fingerprint (origin.source-fingerprint): "
                "the signer could not check which seed a request is for"
            )
        return Pairing(f"{key.source_fingerprint:08x}", derive_accounts(key, count, start=0))
    account = CryptoAccount.from_ur(ur)
    accounts: list[Account] = []
    for key in account.output_descriptors:
        accounts.extend(derive_accounts(key, count, start=len(accounts)))
    fingerprint = f"{account.master_fingerprint:08x}"
    for found in accounts:
        if found.master_fingerprint != fingerprint:
            raise PairingError(f"{found.path}: its origin names another master fingerprint")
    return Pairing(fingerprint, tuple(accounts))


def derive_accounts(key: HDKey, count: int, *, start: int) -> tuple[Account, ...]:
    """The first ``count`` addresses under an account key, or the one address of an address key."""
    if not 1 <= count <= MAX_DERIVED:
        raise PairingError(f"derive 1 to {MAX_DERIVED} addresses, not {count}")
    origin = key.origin
    if origin is None:
        raise PairingError("the key names no origin path: its addresses cannot be signed for")
    steps = tuple((c.index, c.hardened) for c in origin.components)
    if steps[:2] != _ETH_PREFIX:
        raise PairingError(f"m/{origin.path_text} is not an Ethereum path (m/44'/60'/...)")
    fingerprint = f"{key.source_fingerprint or 0:08x}"
    if key.chain_code is None:
        # An address-level key (Ledger Live layout m/44'/60'/i'/0/0): nothing to derive.
        return (Account(address_of(key.key), str(origin), fingerprint, start),)
    if len(steps) != 3 or not all(hardened for _, hardened in steps):
        raise PairingError(
            f"m/{origin.path_text}: an account key for pairing is m/44'/60'/N' "
            "(three hardened steps)"
        )
    # EIP-4527 / BIP-44: the external chain 0, then the address index.
    accounts: list[Account] = []
    try:
        change_key, change_chain = ckd_pub(key.key, key.chain_code, 0)
        for index in range(count):
            child_key, _ = ckd_pub(change_key, change_chain, index)
            path = f"m/{origin.path_text}/0/{index}"
            accounts.append(Account(address_of(child_key), path, fingerprint, start + index))
    except ValueError as exc:
        # BIP-32 invalid child (probability below 2**-127): say so rather than skip silently.
        raise PairingError(str(exc)) from exc
    return tuple(accounts)


def keypath_of(account: Account) -> Keypath:
    """The ``crypto-keypath`` a sign request carries for ``account`` (with the fingerprint)."""
    return Keypath.parse(account.path, source_fingerprint=int(account.master_fingerprint, 16))
