"""The encrypted key vault: create, import, unlock (with persisted backoff) and lock.

The vault encrypts the BIP-39 entropy, the optional BIP-39 passphrase and the enrolled paths
with AES-256-GCM under a key derived by scrypt from the vault passphrase; the file layout is
in :mod:`signer.keys.vaultfile`.

Refusals, in the order they are checked on unlock:

1. the file is missing, unreadable, too open (group/other permission bits) or a symlink:
   :class:`VaultError` / :class:`VaultFormatError`, nothing counted;
2. the file is malformed, not canonical, an unknown version, or its scrypt parameters are
   out of bounds: :class:`VaultFormatError`, before any key derivation, nothing counted;
3. too many recent failures: :class:`BackoffError` with ``retry_after``, nothing counted;
4. GCM authentication fails: :class:`WrongPassphraseError`, counted. A wrong passphrase and
   an edited-but-well-formed file (salt, kdf parameters, accounts, nonce, ciphertext, tag)
   cannot be told apart, since both fail the same tag check; the message says so.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

from Crypto.Cipher import AES

from signer.errors import (
    BackoffError,
    VaultError,
    VaultExistsError,
    VaultFormatError,
    WrongPassphraseError,
)
from signer.keys.accounts import derive_accounts
from signer.keys.atomicfile import OS_FILE_OPS, FileOps, file_mode, read_limited, write_atomic
from signer.keys.backoff import (
    ZERO,
    AttemptCounter,
    BackoffPolicy,
    counter_path,
    read_counter,
    write_counter,
)
from signer.keys.bip32 import DerivationPath, master_key
from signer.keys.bip39 import SecretMnemonic, normalize_passphrase
from signer.keys.kdf import DEFAULT_PARAMS, ScryptFunction, ScryptParams, derive_key
from signer.keys.kdf import encode_passphrase as encode_vault_passphrase
from signer.keys.paths import enrolment
from signer.keys.session import KeySession
from signer.keys.vaultfile import (
    MAX_FILE_BYTES,
    NONCE_BYTES,
    SALT_BYTES,
    TAG_BYTES,
    VERSION,
    SecretPayload,
    VaultDocument,
    VaultHeader,
    decode_document,
)

log = logging.getLogger(__name__)

MIN_PASSPHRASE_CHARS = 8
DEFAULT_IDLE_TIMEOUT = 300.0


class Vault:
    """One vault file and its failed-unlock counter.

    ``clock`` is wall-clock seconds (the backoff must survive restarts, so it is persisted as
    wall time); ``file_ops`` and ``scrypt`` are injectable for tests.
    """

    __slots__ = ("_backoff", "_clock", "_file_ops", "_path", "_scrypt", "_session")

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        backoff: BackoffPolicy | None = None,
        file_ops: FileOps = OS_FILE_OPS,
        scrypt: ScryptFunction = hashlib.scrypt,
    ) -> None:
        self._path = Path(path)
        self._clock = clock
        self._backoff = backoff if backoff is not None else BackoffPolicy()
        self._file_ops = file_ops
        self._scrypt = scrypt
        self._session: KeySession | None = None

    @property
    def path(self) -> Path:
        """The vault file."""
        return self._path

    def exists(self) -> bool:
        """True when something (valid or not) is at the vault's path."""
        return self._path.exists() or self._path.is_symlink()

    def read_header(self) -> VaultHeader:
        """The public header (accounts, fingerprint, kdf parameters) without unlocking."""
        return self._load().header

    def failed_attempts(self) -> int:
        """Attempts counted since the last successful unlock."""
        return read_counter(counter_path(self._path)).failures

    def create(
        self,
        passphrase: str,
        accounts: Iterable[DerivationPath],
        *,
        bip39_passphrase: str = "",
        entropy_bytes: int = 32,
        kdf: ScryptParams = DEFAULT_PARAMS,
    ) -> SecretMnemonic:
        """Generate a new mnemonic, store it encrypted, and return it for the paper backup.

        The caller shows :meth:`SecretMnemonic.reveal_phrase` once and then wipes it.
        """
        self._refuse_existing()
        mnemonic = SecretMnemonic.generate(entropy_bytes)
        try:
            self.import_mnemonic(
                passphrase, mnemonic, accounts, bip39_passphrase=bip39_passphrase, kdf=kdf
            )
        except BaseException:
            mnemonic.wipe()
            raise
        return mnemonic

    def import_mnemonic(
        self,
        passphrase: str,
        mnemonic: SecretMnemonic,
        accounts: Iterable[DerivationPath],
        *,
        bip39_passphrase: str = "",
        kdf: ScryptParams = DEFAULT_PARAMS,
    ) -> VaultHeader:
        """Store an existing mnemonic (and BIP-39 passphrase) encrypted; never overwrites."""
        self._refuse_existing()
        _check_new_passphrase(passphrase)
        # Validate everything that can fail before the first copy of a secret is made.
        paths = enrolment(accounts)
        salt_suffix = bytearray(normalize_passphrase(bip39_passphrase))
        payload = SecretPayload(mnemonic.entropy(), salt_suffix, paths)
        try:
            document = self._seal(passphrase, payload, kdf)
        finally:
            payload.wipe()
        self._write(document, overwrite=False)
        log.info("vault written at %s with %d account(s)", self._path, len(payload.paths))
        return document.header

    def unlock(
        self,
        passphrase: str,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        session_clock: Callable[[], float] = time.monotonic,
    ) -> KeySession:
        """Open the vault: a :class:`KeySession` that auto-locks after ``idle_timeout`` s.

        See the module docstring for the order of refusals. Any session this vault opened
        before is locked first.
        """
        self.lock()
        document, payload = self._open(passphrase)
        try:
            seed = _seed_of(payload)
        finally:
            payload.wipe()
        session = KeySession(
            seed,
            document.header.accounts,
            document.header.master_fingerprint,
            idle_timeout=idle_timeout,
            clock=session_clock,
        )
        self._session = session
        log.info("vault %s unlocked (%d account(s))", self._path, len(document.header.accounts))
        return session

    def change_passphrase(
        self, passphrase: str, new_passphrase: str, *, kdf: ScryptParams | None = None
    ) -> VaultHeader:
        """Re-encrypt under ``new_passphrase`` (fresh salt and nonce; same kdf unless given).

        The unlock with ``passphrase`` is counted and backed off like :meth:`unlock`; the file
        is replaced atomically, so a crash leaves the old vault or the new one.
        """
        _check_new_passphrase(new_passphrase)
        self.lock()
        document, payload = self._open(passphrase)
        try:
            sealed = self._seal(new_passphrase, payload, kdf or document.header.kdf)
        finally:
            payload.wipe()
        self._write(sealed, overwrite=True)
        log.info("vault %s re-encrypted under a new passphrase", self._path)
        return sealed.header

    def set_accounts(self, passphrase: str, accounts: Iterable[DerivationPath]) -> VaultHeader:
        """Replace the enrolled accounts (atomically, re-encrypted with a fresh salt)."""
        paths = enrolment(accounts)
        self.lock()
        document, payload = self._open(passphrase)
        try:
            payload.paths = paths
            sealed = self._seal(passphrase, payload, document.header.kdf)
        finally:
            payload.wipe()
        self._write(sealed, overwrite=True)
        log.info("vault %s now enrols %d account(s)", self._path, len(paths))
        return sealed.header

    def lock(self) -> None:
        """Lock the session this vault opened last, if any."""
        if self._session is not None:
            self._session.lock()
            self._session = None

    def _open(self, passphrase: str) -> tuple[VaultDocument, SecretPayload]:
        """Load, check backoff, count the attempt, decrypt; reset the counter on success."""
        document = self._load()
        counters = counter_path(self._path)
        counter = read_counter(counters)
        now = self._clock()
        wait = counter.retry_after(now, self._backoff)
        if wait > 0:
            log.warning(
                "unlock refused: %d failed attempt(s), retry in %.0f s", counter.failures, wait
            )
            raise BackoffError(wait)
        # Count the attempt before the slow part, so aborting mid-KDF is still counted.
        attempts = counter.failures + 1
        write_counter(counters, AttemptCounter(attempts, int(now * 1000)), ops=self._file_ops)
        payload = self._decrypt(document, passphrase, attempts)
        if payload.paths != document.header.paths:
            payload.wipe()
            raise VaultFormatError("the vault's encrypted accounts differ from its header")
        write_counter(counters, ZERO, ops=self._file_ops)
        return document, payload

    def _seal(self, passphrase: str, payload: SecretPayload, kdf: ScryptParams) -> VaultDocument:
        """Encrypt ``payload`` under ``passphrase`` with a fresh salt and nonce."""
        seed = _seed_of(payload)
        try:
            master = master_key(seed)
            header = VaultHeader(
                VERSION,
                kdf,
                secrets.token_bytes(SALT_BYTES),
                master.public().fingerprint,
                derive_accounts(master, payload.paths),
            )
        finally:
            seed[:] = bytes(len(seed))
        plaintext = payload.encode()
        password = encode_vault_passphrase(passphrase)
        try:
            key = derive_key(kdf, password, header.salt, scrypt=self._scrypt)
            nonce = secrets.token_bytes(NONCE_BYTES)
            cipher = AES.new(key, AES.MODE_GCM, nonce=nonce, mac_len=TAG_BYTES)
            cipher.update(header.associated_data())
            ciphertext = cipher.encrypt(plaintext)
            tag = cipher.digest()
        finally:
            plaintext[:] = bytes(len(plaintext))
            password[:] = bytes(len(password))
        return VaultDocument(header, nonce, bytes(ciphertext), bytes(tag))

    def _write(self, document: VaultDocument, *, overwrite: bool) -> None:
        try:
            write_atomic(self._path, document.encode(), overwrite=overwrite, ops=self._file_ops)
        except FileExistsError as exc:
            raise VaultExistsError(f"a vault already exists at {self._path}") from exc
        except OSError as exc:
            raise VaultError(f"cannot write the vault {self._path}: {exc.strerror}") from exc

    def _decrypt(self, document: VaultDocument, passphrase: str, attempts: int) -> SecretPayload:
        header = document.header
        password = encode_vault_passphrase(passphrase)
        plaintext = bytearray(len(document.ciphertext))
        try:
            key = derive_key(header.kdf, password, header.salt, scrypt=self._scrypt)
            cipher = AES.new(key, AES.MODE_GCM, nonce=document.nonce, mac_len=TAG_BYTES)
            cipher.update(header.associated_data())
            cipher.decrypt(document.ciphertext, output=plaintext)
            try:
                cipher.verify(document.tag)
            except ValueError:
                log.warning("unlock failed for %s (%d counted attempt(s))", self._path, attempts)
                # from None: the library's exception adds nothing and must not be chained.
                raise WrongPassphraseError(
                    "wrong passphrase, or the vault file was altered "
                    f"({attempts} failed attempt(s) counted)"
                ) from None
            return SecretPayload.decode(plaintext)
        finally:
            plaintext[:] = bytes(len(plaintext))
            password[:] = bytes(len(password))

    def _load(self) -> VaultDocument:
        try:
            mode = file_mode(self._path)
            data = read_limited(self._path, MAX_FILE_BYTES)
        except FileNotFoundError as exc:
            raise VaultError(f"there is no vault at {self._path}") from exc
        except OSError as exc:
            # O_NOFOLLOW on a symlink fails with ELOOP: a planted link is refused here too.
            raise VaultFormatError(f"cannot read the vault {self._path}: {exc.strerror}") from exc
        if mode & 0o077:
            raise VaultFormatError(
                f"the vault {self._path} has mode {mode:04o}; it must be 0600 (chmod 600)"
            )
        return decode_document(data)

    def _refuse_existing(self) -> None:
        if self.exists():
            raise VaultExistsError(f"a vault already exists at {self._path}")

    def __repr__(self) -> str:
        return f"<Vault {self._path}>"


def _check_new_passphrase(passphrase: str) -> None:
    if len(unicodedata.normalize("NFKD", passphrase)) < MIN_PASSPHRASE_CHARS:
        raise VaultError(f"a vault passphrase has at least {MIN_PASSPHRASE_CHARS} characters")


def _seed_of(payload: SecretPayload) -> bytearray:
    """The BIP-39 seed of a decrypted payload (a wipeable buffer the caller owns)."""
    mnemonic = SecretMnemonic(payload.entropy)
    try:
        return mnemonic.seed_normalized(payload.passphrase)
    finally:
        mnemonic.wipe()
