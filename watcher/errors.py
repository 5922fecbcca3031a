"""The watcher's error tree: every failure of the online watcher other than undecodable UR bytes.

Undecodable QR/UR input raises ``shared.errors.DecodeError``; the watcher wraps it where
it reads a signer's response (:class:`MalformedResponseError`). Everything else is one of:

    ColdsignError                           (shared.errors)
    └── WatcherError                        the watcher refused or failed
        ├── ConfigError                     the home, its TOML file or a flag is unusable
        ├── StateError                      the SQLite state cannot be opened or is inconsistent
        │   └── StateConflictError          a write collided with a row already stored
        │                                   (``what``, ``key``); rolled back
        ├── RPCError                        talking to an Ethereum node
        │   ├── NodeUnreachableError        no answer after the bounded retries
        │   ├── ChainMismatchError          the node serves another chain than configured
        │   ├── MalformedReplyError         a reply that is not what JSON-RPC promises
        │   └── NodeRejectedError           a JSON-RPC error object (``code``, ``message``)
        ├── PairingError                    a pairing export that cannot become watch-only accounts
        ├── IntakeError                     a withdrawal file row (``line``, ``field``)
        ├── BuildError                      batches cannot be built
        │   ├── InsufficientBalanceError    values plus maximum fees exceed the balance
        │   ├── FeeCapError                 the node's fees exceed the configured cap
        │   └── NoGapError                  fill-gap named a withdrawal whose nonce is not open
        ├── ResponseError                   a signer's response was refused; nothing changed
        │   ├── MalformedResponseError      not a complete, decodable eth-(batch-)signature
        │   ├── ForeignResponseError        names a request this watcher is not waiting for
        │   ├── SignatureMismatchError      a signature that does not sign the stored payload
        │   │                               with the expected account, or is malleable
        │   ├── ReplayedResponseError       a response or signature imported before
        │   └── SignerRollbackError         the signer's audit head is behind (or forks from)
        │                                   the last one stored: a rolled-back or cloned signer
        └── BroadcastError                  a signed transaction the node would not take

Errors carry structured attributes so tests never parse message text.
"""

from __future__ import annotations

from shared.errors import ColdsignError


class WatcherError(ColdsignError):
    """Base of every error the watcher raises for reasons other than undecodable UR bytes."""


class ConfigError(WatcherError):
    """The watcher home, its configuration file or a command-line flag is unusable.

    ``where`` names the file, table key or flag; ``reason`` says what is wrong.
    """

    def __init__(self, where: str, reason: str) -> None:
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class StateError(WatcherError):
    """The SQLite state cannot be opened, is from a newer version, or is inconsistent."""


class StateConflictError(StateError):
    """A write that would break a uniqueness or reference rule of the state (SQLite's
    ``IntegrityError``): ``what`` names the kind of row (``response``), ``key`` the row that
    collided, ``reason`` SQLite's words. The transaction is rolled back: nothing is stored."""

    def __init__(self, what: str, key: str, reason: str) -> None:
        self.what = what
        self.key = key
        self.reason = reason
        super().__init__(
            f"{what} {key}: the write collides with what is stored ({reason}); nothing was stored"
        )


class RPCError(WatcherError):
    """Talking to an Ethereum node failed; ``method`` names the JSON-RPC method when known."""

    def __init__(self, message: str, *, method: str | None = None) -> None:
        self.method = method
        super().__init__(message)


class NodeUnreachableError(RPCError):
    """The node did not answer (connection, timeout or HTTP errors) after bounded retries."""


class ChainMismatchError(RPCError):
    """The node's ``eth_chainId`` differs from the chain id the configuration names."""

    def __init__(self, expected: int, got: int, url: str) -> None:
        self.expected = expected
        self.got = got
        super().__init__(
            f"the node at {url} serves chain {got}, but the configuration says {expected}",
            method="eth_chainId",
        )


class MalformedReplyError(RPCError):
    """A node reply that is not valid JSON-RPC or not the type the method promises.

    ``field`` names the part of the reply (``result``, ``result.blockNumber``).
    """

    def __init__(self, method: str, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{method} reply, {field}: {reason}", method=method)


class NodeRejectedError(RPCError):
    """The node answered with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str) -> None:
        self.code = code
        self.node_message = message
        super().__init__(f"{method}: node error {code}: {message}", method=method)


class PairingError(WatcherError):
    """A pairing export that cannot be turned into watch-only accounts."""


class IntakeError(WatcherError):
    """A withdrawal file that was refused as a whole; ``line`` is 1-based when known."""

    def __init__(self, reason: str, *, line: int | None = None, field: str | None = None) -> None:
        self.line = line
        self.field = field
        self.reason = reason
        where = [] if line is None else [f"line {line}"]
        if field is not None:
            where.append(field)
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


class BuildError(WatcherError):
    """Pending withdrawals cannot be built into transactions."""


class InsufficientBalanceError(BuildError):
    """The source account cannot cover the values plus the maximum fees of a batch."""

    def __init__(self, asset: str, needed: int, available: int, account: str) -> None:
        self.asset = asset
        self.needed = needed
        self.available = available
        super().__init__(
            f"{account} holds {available} base units of {asset} (after transactions still "
            f"in flight) but the batch needs {needed}"
        )


class FeeCapError(BuildError):
    """The fees the node suggests exceed the configured cap."""


class NoGapError(BuildError):
    """``fill-gap`` named a withdrawal that holds no unsigned nonce to fill (``withdrawal_id``)."""

    def __init__(self, withdrawal_id: str, reason: str) -> None:
        self.withdrawal_id = withdrawal_id
        self.reason = reason
        super().__init__(f"withdrawal {withdrawal_id}: {reason}")


class ResponseError(WatcherError):
    """A signer's response was refused as a whole; nothing was stored."""


class MalformedResponseError(ResponseError):
    """A response that does not decode as a complete ``eth-signature`` or batch of them."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class ForeignResponseError(ResponseError):
    """A signature whose request id is not one this watcher is waiting for."""


class SignatureMismatchError(ResponseError):
    """A signature that does not recover to the expected account over the stored payload."""


class ReplayedResponseError(ResponseError):
    """A response file, or a signature in it, that was imported before."""


class BroadcastError(WatcherError):
    """A signed transaction the node would not accept after bounded retries."""


class SignerRollbackError(ResponseError):
    """A response whose audit head does not move forward from the one last stored for its signer.

    ``fingerprint`` is the signer's master fingerprint (8 hex digits); ``known`` the stored
    ``(seq, head_hash)``; ``got`` the response's, or None when it carries no head at all.
    A lower sequence number is a rolled-back log, the same number with another hash a cloned
    (forked) signer. Nothing is stored; ``reset-head`` records a deliberate rebuild.
    """

    def __init__(
        self, fingerprint: str, known: tuple[int, bytes], got: tuple[int, bytes] | None
    ) -> None:
        self.fingerprint = fingerprint
        self.known = known
        self.got = got
        last = f"{known[0]}:{known[1].hex()}"
        if got is None:
            what = (
                f"the response carries no audit head, but signer {fingerprint} reported "
                f"head {last} before"
            )
        elif got[0] < known[0]:
            what = (
                f"signer {fingerprint} answered with audit head {got[0]}:{got[1].hex()}, behind "
                f"the head {last} it reported before: its audit log was rolled back, or this "
                "response is older than one imported already (sign its request again)"
            )
        else:
            what = (
                f"signer {fingerprint} answered with audit head {got[0]}:{got[1].hex()}, the "
                f"same sequence number as the head {last} it reported before with another "
                "hash: a cloned signer, or a log rewritten from that point"
            )
        super().__init__(
            f"{what}. Nothing was stored. Stop signing with it and compare its log with the "
            "recorded heads; after a deliberate rebuild record it with reset-head"
        )
