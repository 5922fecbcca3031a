"""Ethereum derivation schemes (BIP-44 standard, Ledger Live, legacy) and the enrolment list."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from signer.errors import KeyPathError
from signer.keys.bip32 import HARDENED, DerivationPath

# SLIP-44 coin type 60 = Ethereum; BIP-44 purpose 44'.
PURPOSE = 44 + HARDENED
COIN_ETHEREUM = 60 + HARDENED
# An account index in any scheme is below 2**31 (hardened ones carry the bit on top).
MAX_ACCOUNT_INDEX = HARDENED - 1
# The signer holds a handful of accounts; a vault listing more is refused as planted.
MAX_ENROLLED = 256


class Scheme(enum.Enum):
    """The three derivation layouts Ethereum wallets use for account ``i``."""

    # m/44'/60'/0'/0/i: BIP-44 external chain; MetaMask, Keystone, anvil, most wallets.
    STANDARD = "standard"
    # m/44'/60'/i'/0/0: Ledger Live, one hardened account per address.
    LEDGER_LIVE = "ledger-live"
    # m/44'/60'/0'/i: the pre-BIP-44 layout of MyEtherWallet and the Ledger Chrome app.
    LEGACY = "legacy"


# The account-level key each scheme exports for pairing (crypto-hdkey): every address of the
# scheme lies below it, so a watch-only wallet derives the addresses from its xpub.
ACCOUNT_LEVEL = DerivationPath((PURPOSE, COIN_ETHEREUM, HARDENED))


def scheme_path(scheme: Scheme, index: int) -> DerivationPath:
    """The path of account ``index`` (0-based) in ``scheme``."""
    if type(index) is not int or not 0 <= index <= MAX_ACCOUNT_INDEX:
        raise KeyPathError(f"an account index is an integer in [0, {MAX_ACCOUNT_INDEX}]")
    if scheme is Scheme.STANDARD:
        return DerivationPath((PURPOSE, COIN_ETHEREUM, HARDENED, 0, index))
    if scheme is Scheme.LEDGER_LIVE:
        return DerivationPath((PURPOSE, COIN_ETHEREUM, HARDENED + index, 0, 0))
    return DerivationPath((PURPOSE, COIN_ETHEREUM, HARDENED, index))


def classify(path: DerivationPath) -> tuple[Scheme, int]:
    """The scheme and account index of ``path``; :class:`KeyPathError` if it fits none.

    ``m/44'/60'/0'/0/0`` is account 0 of both STANDARD and LEDGER_LIVE; it is reported as
    STANDARD.
    """
    indices = path.indices
    if indices[:2] != (PURPOSE, COIN_ETHEREUM):
        raise KeyPathError(f"{path} is not below m/44'/60'")
    if len(indices) == 5 and indices[2:4] == (HARDENED, 0) and indices[4] <= MAX_ACCOUNT_INDEX:
        return Scheme.STANDARD, indices[4]
    if len(indices) == 5 and indices[2] >= HARDENED and indices[3:] == (0, 0):
        return Scheme.LEDGER_LIVE, indices[2] - HARDENED
    if len(indices) == 4 and indices[2] == HARDENED and indices[3] <= MAX_ACCOUNT_INDEX:
        return Scheme.LEGACY, indices[3]
    raise KeyPathError(f"{path} is not a standard, Ledger Live or legacy Ethereum path")


def enrolment(paths: Iterable[DerivationPath]) -> tuple[DerivationPath, ...]:
    """Validate an enrolment list: 1..MAX_ENROLLED known-scheme paths, no duplicates.

    Order is kept: it is the order the operator enrolled the accounts in and the order the
    vault lists them.
    """
    result: list[DerivationPath] = []
    seen: set[DerivationPath] = set()
    for path in paths:
        if not isinstance(path, DerivationPath):
            raise KeyPathError("enrolled accounts are DerivationPath values")
        classify(path)
        if path in seen:
            raise KeyPathError(f"{path} is enrolled twice")
        seen.add(path)
        result.append(path)
        if len(result) > MAX_ENROLLED:
            raise KeyPathError(f"at most {MAX_ENROLLED} accounts can be enrolled")
    if not result:
        raise KeyPathError("at least one account must be enrolled")
    return tuple(result)
