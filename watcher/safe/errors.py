"""Errors of the watcher's Safe side, each under the watcher's own error tree.

WatcherError                            (watcher.errors)
├── ConfigError
│   └── SafeConfigError                 ``safes.toml`` or a ``safe`` flag is unusable
├── IntakeError
│   └── SafeIntakeError                 a Safe withdrawal file row was refused
├── BuildError
│   └── SafeBuildError                  no Safe transaction can be built or executed now
│       └── SafeHashMismatchError       the Safe's getTransactionHash differs from ours
└── ResponseError
    ├── OwnerSignatureError             an owner signature that cannot count toward the
    │                                   threshold (not an owner, duplicate, eth_sign v, ...)
    └── SignerRollbackError             (watcher.errors)
        └── SafeSignerRollbackError     an owner's or the executor's signer answered with
                                        an audit head behind, beside or without the stored one
"""

from __future__ import annotations

from shared.address import Address
from watcher.errors import (
    BuildError,
    ConfigError,
    IntakeError,
    ResponseError,
    SignerRollbackError,
)


class SafeConfigError(ConfigError):
    """``safes.toml`` (or a flag naming a Safe) is unusable; ``where`` names the key."""


class SafeIntakeError(IntakeError):
    """A Safe withdrawal row was refused; ``line`` and ``field`` say where."""


class SafeBuildError(BuildError):
    """A Safe transaction cannot be built, or executed, now."""


class SafeHashMismatchError(SafeBuildError):
    """The Safe's own ``getTransactionHash`` differs from the hash coldsign computed.

    Nothing is written: owners would be asked to sign something the Safe would not execute
    (a wrong version, domain or chain, or a node that lies).
    """

    def __init__(self, ours: bytes, theirs: bytes) -> None:
        self.ours = ours
        self.theirs = theirs
        super().__init__(
            f"the Safe's getTransactionHash is 0x{theirs.hex()}, coldsign computed "
            f"0x{ours.hex()}: refusing to ask owners to sign"
        )


class OwnerSignatureError(ResponseError):
    """An owner signature that does not count: nothing from its response was stored."""


class SafeSignerRollbackError(SignerRollbackError):
    """A Safe response whose signer's audit head does not move forward from the stored one.

    The same check, and the same head (in ``watcher.db``), as a withdrawal response's;
    ``accounts`` are the owners (and the executor) whose requests the response answered, so
    the message names them as well as the signer's master fingerprint. Nothing was stored in
    either database.
    """

    def __init__(
        self,
        fingerprint: str,
        known: tuple[int, bytes],
        got: tuple[int, bytes] | None,
        accounts: tuple[tuple[str, Address], ...],
    ) -> None:
        super().__init__(fingerprint, known, got)
        self.accounts = accounts

    def __str__(self) -> str:
        named = ", ".join(f"{role} {address.checksummed()}" for role, address in self.accounts)
        return f"{named}: {super().__str__()}"
