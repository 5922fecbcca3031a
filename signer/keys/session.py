"""An unlocked key session: enrolled-path derivation, idle auto-lock, and the raw signing primitive.

The session owns the BIP-39 seed in a :class:`bytearray` and caches each enrolled path's
private key in its own :class:`bytearray`; :meth:`KeySession.lock` zeroes all of them. What
that does and does not achieve in CPython is written down in ``signer/keys/__init__.py``.

For speed it also keeps, per path it signed with, the coincurve :class:`PrivateKey` built from
that key (building one derives the public key: longer than the signature itself). Its copy of
the key is an immutable ``bytes`` that cannot be zeroed; ``lock`` drops those objects. One
such copy per path for the session's life replaces one per signature, each left behind in
freed memory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from coincurve import PrivateKey

from signer.errors import KeyPathError, VaultFormatError, VaultLockedError
from signer.keys.accounts import EnrolledAccount, derive_accounts
from signer.keys.bip32 import CURVE_ORDER, DerivationPath, ExtendedPublicKey, master_key

log = logging.getLogger(__name__)

DIGEST_BYTES = 32
# The account-level key (m/44'/60'/0' and deeper) is the shallowest one pairing exports.
MIN_EXPORT_DEPTH = 3
# SEC 1 / EIP-2: a signature is accepted only with s <= n/2.
HALF_ORDER = CURVE_ORDER // 2


@dataclass(frozen=True, slots=True)
class DigestSignature:
    """A secp256k1 ECDSA signature: ``r``, low ``s``, and the recovery id (y-parity, 0 or 1)."""

    r: int
    s: int
    recovery_id: int


@dataclass(frozen=True, slots=True)
class AccountKey:
    """What ``crypto-hdkey`` needs to pair a watch-only wallet with one account-level key."""

    path: DerivationPath
    key: ExtendedPublicKey  # public key (33 bytes), chain code, parent fingerprint, depth
    master_fingerprint: bytes  # 4 bytes: BIP-32 fingerprint of the master public key


class KeySession:
    """Keys opened by :meth:`signer.keys.vault.Vault.unlock`; locks itself when idle.

    Every key operation first checks the idle timer against the injected ``clock``: when more
    than ``idle_timeout`` seconds passed since the previous operation, the session locks
    (wiping its secrets) and the operation raises :class:`VaultLockedError`.
    """

    __slots__ = (
        "_accounts",
        "_clock",
        "_idle_timeout",
        "_keys",
        "_last_used",
        "_locked",
        "_master_fingerprint",
        "_seed",
        "_signers",
    )

    def __init__(
        self,
        seed: bytearray,
        accounts: tuple[EnrolledAccount, ...],
        master_fingerprint: bytes,
        *,
        idle_timeout: float,
        clock: Callable[[], float],
    ) -> None:
        """Take ownership of ``seed`` (it is zeroed by :meth:`lock`).

        The master fingerprint and every address are recomputed from the seed and must equal
        the vault header's; otherwise the seed is wiped and :class:`VaultFormatError` raised.
        """
        if not idle_timeout > 0:
            seed[:] = bytes(len(seed))
            raise ValueError("idle_timeout must be positive")
        self._seed = seed
        self._accounts = accounts
        self._master_fingerprint = master_fingerprint
        self._idle_timeout = float(idle_timeout)
        self._clock = clock
        self._keys: dict[DerivationPath, bytearray] = {}
        self._signers: dict[DerivationPath, PrivateKey] = {}
        self._locked = False
        self._last_used = clock()
        master = master_key(self._seed)
        derived = derive_accounts(master, tuple(account.path for account in accounts))
        if master.public().fingerprint != master_fingerprint or derived != accounts:
            self._wipe()
            raise VaultFormatError("the vault header does not match the keys it holds")

    @property
    def accounts(self) -> tuple[EnrolledAccount, ...]:
        """The enrolled accounts (public data; available even when locked)."""
        return self._accounts

    @property
    def master_fingerprint(self) -> bytes:
        """The 4-byte BIP-32 fingerprint of the master key (public)."""
        return self._master_fingerprint

    def is_locked(self) -> bool:
        """True once locked; also locks the session if the idle timeout has passed."""
        if not self._locked and self._clock() - self._last_used >= self._idle_timeout:
            self._lock("idle timeout")
        return self._locked

    def seconds_until_lock(self) -> float:
        """Seconds of idleness left before the auto-lock (0 when locked)."""
        if self.is_locked():
            return 0.0
        return max(0.0, self._idle_timeout - (self._clock() - self._last_used))

    def lock(self) -> None:
        """Zero the seed and every cached private key; every later key operation is refused."""
        if not self._locked:
            self._lock("requested")

    def account_key(self, path: DerivationPath) -> AccountKey:
        """The extended public key at ``path`` for pairing (``crypto-hdkey``).

        ``path`` must be at least three levels deep (m/44'/60'/x') and equal to, or above,
        an enrolled path; anything else is :class:`KeyPathError`.
        """
        self._touch()
        if path.depth < MIN_EXPORT_DEPTH or not any(
            path.is_prefix_of(account.path) for account in self._accounts
        ):
            raise KeyPathError(f"{path} is not an enrolled account or an account level above one")
        node = master_key(self._seed).derive(path)
        return AccountKey(path, node.public(), self._master_fingerprint)

    def _sign_computed_digest(self, path: DerivationPath, digest: bytes) -> DigestSignature:
        """DANGER: sign 32 bytes as-is with the key at ``path``.

        Internal primitive for the signing core, which must only pass a digest it computed
        itself from bytes it decoded and showed (Keccak-256 of an EIP-155 / EIP-2718 payload,
        EIP-191 or EIP-712 preimage). Never call this with a hash received from outside.

        RFC 6979 deterministic nonce and low-s (libsecp256k1 via coincurve): the same key and
        digest always give the same signature. ``path`` must be enrolled (KeyPathError).
        """
        if type(digest) is not bytes or len(digest) != DIGEST_BYTES:
            raise ValueError("the digest must be exactly 32 bytes")
        self._touch()
        signer = self._signers.get(path)
        if signer is None:
            signer = self._signer(path)
        signature = signer.sign_recoverable(digest, hasher=None)
        r = int.from_bytes(signature[:32], "big")
        s = int.from_bytes(signature[32:64], "big")
        recovery_id = signature[64]
        if not (0 < r < CURVE_ORDER and 0 < s <= HALF_ORDER and recovery_id in (0, 1)):
            raise RuntimeError("libsecp256k1 returned a signature outside the expected form")
        log.debug("signed a computed digest with the key at %s", path)
        return DigestSignature(r, s, recovery_id)

    def _signer(self, path: DerivationPath) -> PrivateKey:
        signer = self._signers.get(path)
        if signer is None:
            # coincurve copies the key into an immutable bytes object it keeps for the
            # lifetime of the PrivateKey; lock drops it (see the module docstring).
            signer = PrivateKey(bytes(self._leaf_key(path)))
            self._signers[path] = signer
        return signer

    def _leaf_key(self, path: DerivationPath) -> bytearray:
        cached = self._keys.get(path)
        if cached is not None:
            return cached
        if path not in (account.path for account in self._accounts):
            raise KeyPathError(f"{path} is not an enrolled account")
        node = master_key(self._seed).derive(path)
        key = bytearray(node.private_key)
        self._keys[path] = key
        return key

    def _touch(self) -> None:
        # As is_locked, with one reading of the clock for the check and the new idle start.
        now = self._clock()
        if not self._locked and now - self._last_used >= self._idle_timeout:
            self._lock("idle timeout")
        if self._locked:
            raise VaultLockedError("the key session is locked; unlock the vault again")
        self._last_used = now

    def _lock(self, reason: str) -> None:
        self._wipe()
        log.info("key session locked (%s)", reason)

    def _wipe(self) -> None:
        self._seed[:] = bytes(len(self._seed))
        for key in self._keys.values():
            key[:] = bytes(len(key))
        self._keys.clear()
        self._signers.clear()
        self._locked = True

    def __enter__(self) -> KeySession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.lock()

    def __del__(self) -> None:
        # Best effort: a session dropped without lock() is still wiped when collected.
        if getattr(self, "_seed", None) is not None:
            self._wipe()

    def __repr__(self) -> str:
        state = "locked" if self._locked else "unlocked"
        return (
            f"<KeySession {state} accounts={len(self._accounts)} "
            f"master_fingerprint={self._master_fingerprint.hex()}>"
        )

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a KeySession cannot be pickled")
