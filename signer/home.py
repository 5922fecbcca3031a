"""The signer home directory: where the vault, policy, registry, ledger, audit log and limits live.

Layout (default ``~/.coldsign-signer``, or ``--home DIR``)::

    vault.json          the encrypted key vault (0600; written by signer.keys.vault)
    vault.json.attempts its failed-unlock counter
    policy.toml         the signing policy (its SHA-256 is the policy hash)
    .policy.toml.staged a new policy between ``policy install``'s two steps (signer.policy.staged)
    registry.toml       optional: chains, tokens, Safes, labels merged over the defaults
    ledger.sqlite       the nonce ledger (signer.ledger)
    audit.log           the hash-chained audit log, with audit.log.head (signer.audit)
    limits.sqlite       the policy's rolling-window spending store

The directory is created with mode 0700 and refused when group or other users may read or
enter it: everything in it is either secret or evidence.

Once the vault exists, the ledger, the limits store and the audit log must exist too (``init``
creates them before the vault): :meth:`SignerHome.missing_state` names any that disappeared,
and the signer refuses to start without them rather than re-create them empty.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from shared.registry import Registries, default_registries, parse_registry
from signer.errors import HomeError
from signer.keys.atomicfile import write_atomic

DEFAULT_HOME = Path("~/.coldsign-signer")
HOME_MODE = 0o700
# Files the signer reads whole; anything larger is refused before reading it all.
MAX_CONFIG_BYTES = 1 << 20

VAULT_FILE = "vault.json"
POLICY_FILE = "policy.toml"
STAGED_POLICY_FILE = ".policy.toml.staged"
REGISTRY_FILE = "registry.toml"
LEDGER_FILE = "ledger.sqlite"
AUDIT_FILE = "audit.log"
LIMITS_FILE = "limits.sqlite"


@dataclass(frozen=True, slots=True)
class StateFile:
    """A file of the home a protection depends on: ``protects`` names it, ``loss`` explains."""

    name: str
    protects: str
    loss: str


STATE_FILES = (
    StateFile(
        LEDGER_FILE,
        "equivocation protection",
        "the nonce ledger is lost, and with it equivocation protection: a different payload"
        " for a nonce signed before could be signed",
    ),
    StateFile(
        LIMITS_FILE,
        "24-hour window",
        "the limits store is lost, and with it the rolling 24-hour window: what was signed in"
        " the last 24 hours would no longer count toward the limits",
    ),
    StateFile(
        AUDIT_FILE,
        "evidence",
        "the audit log is lost, and with it the evidence of every earlier decision",
    ),
)


@dataclass(frozen=True, slots=True)
class SignerHome:
    """One signer home directory and the paths of everything in it."""

    root: Path

    @classmethod
    def resolve(cls, directory: str | Path | None = None) -> SignerHome:
        """The home at ``directory``, or the default ``~/.coldsign-signer`` (not touched yet)."""
        chosen = DEFAULT_HOME if directory is None else Path(directory)
        return cls(chosen.expanduser().absolute())

    @property
    def vault_path(self) -> Path:
        """The encrypted key vault."""
        return self.root / VAULT_FILE

    @property
    def policy_path(self) -> Path:
        """The policy file."""
        return self.root / POLICY_FILE

    @property
    def staged_policy_path(self) -> Path:
        """Where ``policy install`` stages the new policy until its audit entry is written."""
        return self.root / STAGED_POLICY_FILE

    @property
    def registry_path(self) -> Path:
        """The optional registry file."""
        return self.root / REGISTRY_FILE

    @property
    def ledger_path(self) -> Path:
        """The nonce ledger."""
        return self.root / LEDGER_FILE

    @property
    def audit_path(self) -> Path:
        """The audit log."""
        return self.root / AUDIT_FILE

    @property
    def limits_path(self) -> Path:
        """The rolling-limits store."""
        return self.root / LIMITS_FILE

    def create(self) -> None:
        """Create the directory (0700) if absent; then check it as :meth:`check` does."""
        try:
            self.root.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        except OSError as exc:
            raise HomeError(f"cannot create the signer home {self.root}: {exc.strerror}") from exc
        self.check()

    def check(self) -> None:
        """Refuse a home that is missing, a symlink, not a directory, or open to others."""
        try:
            info = os.lstat(self.root)
        except FileNotFoundError:
            raise HomeError(
                f"there is no signer home at {self.root}; run 'coldsign-signer init' first"
            ) from None
        except OSError as exc:
            raise HomeError(f"cannot read the signer home {self.root}: {exc.strerror}") from exc
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode):
            raise HomeError(f"the signer home {self.root} is not a directory")
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise HomeError(
                f"the signer home {self.root} has mode {mode:04o}; it must be 0700"
                f" (chmod 700 {self.root})"
            )

    def missing_state(self) -> tuple[StateFile, ...]:
        """The ledger, limits store and audit log files absent although the vault exists.

        Empty before the vault exists (a new home). Anything at a path, a symlink included,
        counts as present: opening it is where a wrong file is refused.
        """
        if not os.path.lexists(self.vault_path):
            return ()
        return tuple(state for state in STATE_FILES if not os.path.lexists(self.root / state.name))

    def read_policy(self) -> bytes:
        """The exact bytes of ``policy.toml`` (hashed as they are, then parsed)."""
        data = self._read(self.policy_path)
        if data is None:
            raise HomeError(
                f"there is no policy at {self.policy_path}; write one with"
                " 'coldsign-signer policy new'"
            )
        return data

    def write_policy(self, data: bytes) -> None:
        """Write a new ``policy.toml`` (0600, atomically); an existing one is never replaced."""
        try:
            write_atomic(self.policy_path, data, overwrite=False)
        except FileExistsError:
            raise HomeError(f"a policy already exists at {self.policy_path}") from None
        except OSError as exc:
            raise HomeError(f"cannot write {self.policy_path}: {exc.strerror}") from exc

    def read_staged_policy(self) -> bytes | None:
        """The staged policy's exact bytes, or None when nothing is staged."""
        return self._read(self.staged_policy_path)

    def has_policy(self) -> bool:
        """True when a policy file (or anything else) is at its path."""
        return self.policy_path.exists() or self.policy_path.is_symlink()

    def registries(self) -> Registries:
        """The default registries, with ``registry.toml`` merged over them when present.

        A registry file that does not validate raises :class:`RegistryFileError`.
        """
        defaults = default_registries()
        data = self._read(self.registry_path)
        if data is None:
            return defaults
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise HomeError(f"{self.registry_path} is not UTF-8 text (byte {exc.start})") from None
        return defaults.merged(parse_registry(text))

    def _read(self, path: Path) -> bytes | None:
        """A small file of the home, or None when absent; a symlink is refused."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise HomeError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            with os.fdopen(fd, "rb") as stream:
                data = stream.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise HomeError(f"cannot read {path}: {exc.strerror}") from exc
        if len(data) > MAX_CONFIG_BYTES:
            raise HomeError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes")
        return data
