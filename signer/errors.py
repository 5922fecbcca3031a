"""The signer's error tree: every refusal the offline signer raises, apart from decode errors.

Untrusted input (QR parts, request bytes) is refused with ``shared.errors.DecodeError``;
everything the signer itself refuses or fails at is one of these:

    SignerError
    ├── VaultError                  the encrypted key vault
    │   ├── VaultLockedError        a key operation while locked
    │   ├── WrongPassphraseError    unlock failed (the attempt is counted)
    │   ├── BackoffError            too many failures: wait ``retry_after`` seconds
    │   ├── VaultFormatError        a vault file that is malformed, planted or out of bounds
    │   └── VaultExistsError        refusing to overwrite an existing vault
    ├── KeyPathError                a derivation path that is invalid or not enrolled
    ├── PolicyFileError             a policy file that does not parse or validate (has ``line``)
    ├── LimitStoreError             the rolling-window limits store cannot be read or written
    ├── LedgerError                 the nonce ledger refused
    │   ├── EquivocationError       a different payload for a nonce already signed
    │   └── ReplayedRequestError    a request id seen before
    ├── AuditError                  the audit log cannot be written or read
    │   └── AuditTamperedError      verification found an edited/missing/reordered entry
    ├── AirGapError                 a network interface or radio is present
    ├── HomeError                   the signer home directory is unusable or open to others
    └── RestoreAbandonedError       the operator gave up typing a mnemonic (has ``reason``)

No message of any of these ever contains a key, mnemonic or passphrase.
"""

from __future__ import annotations


class SignerError(Exception):
    """Base of every error the signer raises for reasons other than undecodable input."""


class VaultError(SignerError):
    """The encrypted key vault refused or failed."""


class VaultLockedError(VaultError):
    """A key operation was asked for while the vault is locked."""


class WrongPassphraseError(VaultError):
    """The unlock passphrase did not open the vault; the failure was counted."""


class BackoffError(VaultError):
    """Too many failed unlocks: the next attempt is allowed after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed unlock attempts; try again in {retry_after:.0f} s")


class VaultFormatError(VaultError):
    """A vault file that is malformed, planted, or has parameters out of bounds."""


class VaultExistsError(VaultError):
    """Refusing to overwrite a vault that already exists."""


class KeyPathError(SignerError):
    """A derivation path that does not parse or is not enrolled for signing."""


class PolicyFileError(SignerError):
    """A policy file that does not parse or validate; ``line`` is 1-based when known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        self.line = line
        super().__init__(message if line is None else f"line {line}: {message}")


class LimitStoreError(SignerError):
    """The rolling-window spending-limits store could not be opened, read or written."""


class LedgerError(SignerError):
    """The nonce ledger refused a signature."""


class EquivocationError(LedgerError):
    """A different payload for a (chain, account, nonce) or (Safe, nonce) already signed."""


class ReplayedRequestError(LedgerError):
    """A request id that was seen before."""


class AuditError(SignerError):
    """The audit log could not be written or read."""


class AuditTamperedError(AuditError):
    """Verification found an edited, deleted, inserted or reordered entry, or a cut tail."""


class AirGapError(SignerError):
    """A network interface other than loopback is up, or a radio device is present."""


class HomeError(SignerError):
    """The signer home directory is missing, not a directory, or readable by other users."""


class RestoreAbandonedError(SignerError):
    """The operator gave up a restore (or its input ended); ``reason`` says which, never what
    was typed."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
