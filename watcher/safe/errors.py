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
    └── OwnerSignatureError             an owner signature that cannot count toward the
                                        threshold (not an owner, duplicate, eth_sign v, ...)
"""

from __future__ import annotations

from watcher.errors import BuildError, ConfigError, IntakeError, ResponseError


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
