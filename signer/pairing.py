"""Pairing: the account key as ``crypto-hdkey`` (or ``crypto-account``) the way MetaMask reads it.

What MetaMask's QR keyring (``@keystonehq/base-eth-keyring``, ``BaseKeyring.syncKeyring``)
reads from a ``crypto-hdkey``:

- ``origin``: its path becomes ``hdPath`` and its source fingerprint the device's ``xfp``
  (a key without a source fingerprint is rejected); ``getBip32Key()`` rebuilds the xpub from
  ``key-data``, ``chain-code``, ``parent-fingerprint`` and the origin's depth and last step;
- ``children``: the path below ``hdPath`` with ``*`` for the account index (default ``0/*``);
- ``note``: ``account.standard`` (BIP-44, ``m/44'/60'/0'/0/i``) or ``account.ledger_legacy``
  (``m/44'/60'/0'/i``); ``name``: the device name shown in the wallet.

Ledger Live accounts (``m/44'/60'/i'/0/0``) share no xpub, so they travel as a
``crypto-account``: the master fingerprint and one ``crypto-hdkey`` per account carrying its
public key, full origin path and the note ``account.ledger_live``. The keyring accepts only
a multiple of 5 of them (``__readCryptoAccount``), so that is refused here too.

The layout follows Keystone's firmware (keystone3-firmware rust/apps/wallets/src/metamask.rs,
``generate_standard_legacy_hd_key`` and ``generate_ledger_live_hd_key``): ``is-private``
false, ``use-info`` Ethereum mainnet, origin depth equal to its steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from shared.erc4527 import CoinInfo, CryptoAccount, HDKey, Keypath, PathComponent
from shared.erc4527.hdkey import COIN_TYPE_ETH
from shared.ur import UR
from signer.errors import KeyPathError
from signer.keys.bip32 import HARDENED, DerivationPath
from signer.keys.paths import ACCOUNT_LEVEL, Scheme, classify
from signer.keys.session import AccountKey, KeySession

NOTE_STANDARD = "account.standard"
NOTE_LEDGER_LEGACY = "account.ledger_legacy"
NOTE_LEDGER_LIVE = "account.ledger_live"
DEVICE_NAME = "coldsign"
# SLIP-44 / BCR-2020-007 crypto-coin-info: network 0 is mainnet.
NETWORK_MAINNET = 0
# MetaMask's keyring refuses a crypto-account whose output count is not a multiple of 5.
LEDGER_LIVE_GROUP = 5
# BIP-44 external chain below the account level: children "0/*" (standard scheme).
_STANDARD_CHAIN_LEVEL = ACCOUNT_LEVEL.child(0)


def keypath_of(
    path: DerivationPath, *, source_fingerprint: int | None = None, depth: int | None = None
) -> Keypath:
    """A BIP-32 path as a ``crypto-keypath``."""
    return Keypath(
        tuple(PathComponent(index & ~HARDENED, index >= HARDENED) for index in path.indices),
        source_fingerprint,
        depth,
    )


def _wildcard_children(fixed: tuple[int, ...]) -> Keypath:
    """``fixed`` non-hardened steps followed by the wildcard ``*`` (no fingerprint, no depth)."""
    steps = tuple(PathComponent(index, False) for index in fixed)
    return Keypath((*steps, PathComponent(None, False)))


def scheme_of(paths: Sequence[DerivationPath]) -> Scheme:
    """The one derivation scheme all ``paths`` follow; :class:`KeyPathError` when they mix.

    ``m/44'/60'/0'/0/0`` is account 0 of both the standard and the Ledger Live scheme; next to
    other Ledger Live paths it counts as Ledger Live, alone as standard.
    """
    if all(_is_ledger_live(path) for path in paths) and any(
        classify(path)[0] is Scheme.LEDGER_LIVE for path in paths
    ):
        return Scheme.LEDGER_LIVE
    schemes = {classify(path)[0] for path in paths}
    if len(schemes) != 1:
        names = ", ".join(sorted(scheme.value for scheme in schemes))
        raise KeyPathError(f"the enrolled accounts mix derivation schemes ({names}); name one")
    return schemes.pop()


def account_hdkey(key: AccountKey, scheme: Scheme, *, name: str = DEVICE_NAME) -> HDKey:
    """The ``crypto-hdkey`` of an account-level key for the standard or Ledger legacy scheme.

    ``key.path`` is ``m/44'/60'/0'`` (children ``0/*`` standard, ``*`` legacy) or, for the
    standard scheme, ``m/44'/60'/0'/0`` (children ``*``).
    """
    if scheme is Scheme.STANDARD and key.path == ACCOUNT_LEVEL:
        children, note = _wildcard_children((0,)), NOTE_STANDARD
    elif scheme is Scheme.STANDARD and key.path == _STANDARD_CHAIN_LEVEL:
        children, note = _wildcard_children(()), NOTE_STANDARD
    elif scheme is Scheme.LEGACY and key.path == ACCOUNT_LEVEL:
        children, note = _wildcard_children(()), NOTE_LEDGER_LEGACY
    else:
        raise KeyPathError(
            f"a {scheme.value} pairing key is exported at {ACCOUNT_LEVEL}"
            + (f" or {_STANDARD_CHAIN_LEVEL}" if scheme is Scheme.STANDARD else "")
            + f", not {key.path}"
        )
    public = key.key
    return HDKey(
        key=public.public_key,
        chain_code=public.chain_code,
        origin=keypath_of(
            key.path,
            source_fingerprint=int.from_bytes(key.master_fingerprint, "big"),
            depth=key.path.depth,
        ),
        children=children,
        parent_fingerprint=int.from_bytes(public.parent_fingerprint, "big"),
        name=name,
        note=note,
        use_info=CoinInfo(COIN_TYPE_ETH, NETWORK_MAINNET),
        is_private=False,
    )


def ledger_live_account(keys: Sequence[AccountKey], *, name: str = DEVICE_NAME) -> CryptoAccount:
    """The ``crypto-account`` of Ledger Live accounts (``m/44'/60'/i'/0/0``), in order."""
    if not keys or len(keys) % LEDGER_LIVE_GROUP:
        raise KeyPathError(
            f"MetaMask reads Ledger Live accounts in groups of {LEDGER_LIVE_GROUP}; this vault"
            f" enrols {len(keys)} (enrol a multiple of {LEDGER_LIVE_GROUP})"
        )
    fingerprints = {key.master_fingerprint for key in keys}
    if len(fingerprints) != 1:
        raise KeyPathError("the accounts come from different master keys")
    master = int.from_bytes(fingerprints.pop(), "big")
    outputs = []
    for key in keys:
        if not _is_ledger_live(key.path):
            raise KeyPathError(f"{key.path} is not a Ledger Live account path")
        outputs.append(
            HDKey(
                key=key.key.public_key,
                origin=keypath_of(key.path, source_fingerprint=master, depth=key.path.depth),
                name=name,
                note=NOTE_LEDGER_LIVE,
                is_private=False,
            )
        )
    return CryptoAccount(master, tuple(outputs))


def pairing_ur(
    session: KeySession,
    *,
    path: DerivationPath | None = None,
    scheme: Scheme | None = None,
    name: str = DEVICE_NAME,
) -> UR:
    """The pairing UR for the session's enrolled accounts.

    Standard and legacy schemes give ``ur:crypto-hdkey`` of the key at ``path`` (default
    ``m/44'/60'/0'``); Ledger Live gives ``ur:crypto-account`` of every enrolled account.
    """
    paths = tuple(account.path for account in session.accounts)
    chosen = scheme_of(paths) if scheme is None else scheme
    if chosen is Scheme.LEDGER_LIVE:
        if path is not None:
            raise KeyPathError("Ledger Live accounts are exported together; do not give a path")
        live = tuple(p for p in paths if _is_ledger_live(p))
        return ledger_live_account([session.account_key(p) for p in live], name=name).to_ur()
    key = session.account_key(ACCOUNT_LEVEL if path is None else path)
    return account_hdkey(key, chosen, name=name).to_ur()


def _is_ledger_live(path: DerivationPath) -> bool:
    """``m/44'/60'/i'/0/0``: the Ledger Live layout (account 0 included)."""
    indices = path.indices
    return (
        len(indices) == 5
        and indices[:2] == ACCOUNT_LEVEL.indices[:2]
        and indices[2] >= HARDENED
        and indices[3:] == (0, 0)
    )
