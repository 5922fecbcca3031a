"""The failed-unlock counter: exponential backoff persisted in a file beside the vault.

The counter lives on disk so that restarting the signer does not reset it. An attempt is
counted *before* the key derivation starts and reset only after a successful unlock, so
killing the process while scrypt runs does not earn a free guess.

This slows down a person at the keyboard. It does not stop someone who copies the vault
file: against that, only the passphrase's strength and scrypt's cost help.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from signer.errors import VaultError, VaultFormatError
from signer.keys.atomicfile import OS_FILE_OPS, FileOps, read_limited, write_atomic

_MAX_FILE_BYTES = 256
_KEYS = frozenset({"failures", "last_attempt_ms"})
# 2**32 failures cannot happen by hand; a larger count is a planted file.
_MAX_FAILURES = 1 << 32
_MAX_DOUBLINGS = 32


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    """``free_attempts`` tries without waiting, then waits of ``base_delay`` seconds doubling
    per further failure, never more than ``max_delay``."""

    free_attempts: int = 3
    base_delay: float = 30.0
    max_delay: float = 3600.0

    def delay_after(self, failures: int) -> float:
        """The wait required after ``failures`` counted attempts."""
        if failures < self.free_attempts:
            return 0.0
        doublings = min(failures - self.free_attempts, _MAX_DOUBLINGS)
        return float(min(self.base_delay * (1 << doublings), self.max_delay))


@dataclass(frozen=True, slots=True)
class AttemptCounter:
    """Counted unlock attempts since the last success, and when the last one started."""

    failures: int
    last_attempt_ms: int

    def retry_after(self, now: float, policy: BackoffPolicy) -> float:
        """Seconds until the next attempt is allowed (0 if allowed now).

        A clock that went backwards counts as no time elapsed, so the wait is never longer
        than the policy's delay.
        """
        delay = policy.delay_after(self.failures)
        elapsed = max(0.0, now - self.last_attempt_ms / 1000)
        return max(0.0, delay - elapsed)


ZERO = AttemptCounter(0, 0)


def counter_path(vault_path: Path) -> Path:
    """Where the counter of ``vault_path`` lives: ``<vault>.attempts`` beside it."""
    return vault_path.with_name(vault_path.name + ".attempts")


def read_counter(path: Path) -> AttemptCounter:
    """The stored counter; :data:`ZERO` when there is no file yet.

    A malformed counter file is refused (:class:`VaultFormatError`), not treated as zero:
    corrupting it must not reset the backoff.
    """
    try:
        data = read_limited(path, _MAX_FILE_BYTES)
    except FileNotFoundError:
        return ZERO
    except OSError as exc:
        raise VaultError(f"cannot read the unlock counter {path}: {exc.strerror}") from exc
    try:
        value = json.loads(data.decode("ascii"), parse_float=_refuse, parse_constant=_refuse)
    except (ValueError, RecursionError, VaultFormatError) as exc:
        raise VaultFormatError(f"the unlock counter {path} is malformed") from exc
    if not isinstance(value, dict) or set(value) != _KEYS:
        raise VaultFormatError(f"the unlock counter {path} is malformed")
    failures, last = value["failures"], value["last_attempt_ms"]
    if type(failures) is not int or type(last) is not int:
        raise VaultFormatError(f"the unlock counter {path} is malformed")
    if not 0 <= failures <= _MAX_FAILURES or last < 0:
        raise VaultFormatError(f"the unlock counter {path} is out of range")
    counter = AttemptCounter(failures, last)
    if _encode(counter) != data:
        raise VaultFormatError(f"the unlock counter {path} is not in canonical form")
    return counter


def write_counter(path: Path, counter: AttemptCounter, *, ops: FileOps = OS_FILE_OPS) -> None:
    """Store ``counter`` atomically (mode 0600)."""
    try:
        write_atomic(path, _encode(counter), overwrite=True, ops=ops)
    except OSError as exc:
        raise VaultError(f"cannot write the unlock counter {path}: {exc.strerror}") from exc


def _encode(counter: AttemptCounter) -> bytes:
    body = {"failures": counter.failures, "last_attempt_ms": counter.last_attempt_ms}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n"


def _refuse(text: str) -> object:
    raise VaultFormatError("the unlock counter holds only integers")
