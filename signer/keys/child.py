"""Unlock, derive and sign in a short-lived child process, so key material dies with it.

The parent sends the vault path, the passphrase and the digests over a pipe to a process
started with the ``spawn`` method (a fresh interpreter, not a fork of the parent's memory);
the child unlocks, signs, locks, replies and exits. The parent never holds the seed or a
private key. What the parent still holds is the passphrase ``str`` it was given.

Errors come back as (class name, message, retry_after); only the signer's own vault and key
errors are rebuilt, anything else becomes :class:`VaultError`. Messages carry no secrets by
construction (see :mod:`signer.errors`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from signer.errors import (
    BackoffError,
    KeyPathError,
    SignerError,
    VaultError,
    VaultExistsError,
    VaultFormatError,
    VaultLockedError,
    WrongPassphraseError,
)
from signer.keys.bip32 import DerivationPath
from signer.keys.session import DigestSignature
from signer.keys.vault import Vault

DEFAULT_TIMEOUT = 120.0
_REBUILT: dict[str, type[SignerError]] = {
    cls.__name__: cls
    for cls in (
        KeyPathError,
        VaultError,
        VaultExistsError,
        VaultFormatError,
        VaultLockedError,
        WrongPassphraseError,
    )
}
_Request = tuple[str, bytes]
_Reply = tuple[str, object]


def _sign_computed_digests_in_child(
    vault_path: Path,
    passphrase: str,
    requests: Sequence[tuple[DerivationPath, bytes]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[DigestSignature, ...]:
    """DANGER: sign each 32-byte digest as-is, in a child process (see
    :meth:`signer.keys.session.KeySession._sign_computed_digest` for what may be passed).

    One unlock (counted by the vault's backoff like any other) serves the whole batch.
    Raises the same errors as :meth:`Vault.unlock` and ``_sign_computed_digest``; a child
    that dies or exceeds ``timeout`` seconds is stopped and reported as :class:`VaultError`.
    """
    encoded: list[_Request] = [(str(path), bytes(digest)) for path, digest in requests]
    context = multiprocessing.get_context("spawn")
    parent_end, child_end = context.Pipe(duplex=True)
    process = context.Process(target=_child_main, args=(child_end,), daemon=True)
    process.start()
    child_end.close()
    try:
        parent_end.send((str(vault_path), passphrase, encoded))
        if not parent_end.poll(timeout):
            raise VaultError(f"the signing child did not answer within {timeout:.0f} s")
        try:
            kind, value = parent_end.recv()
        except EOFError as exc:
            raise VaultError("the signing child exited without answering") from exc
    finally:
        parent_end.close()
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
            process.join()
    if kind == "ok" and isinstance(value, list):
        return tuple(DigestSignature(r, s, v) for r, s, v in value)
    raise _rebuild(value)


def _rebuild(value: object) -> SignerError:
    if not (isinstance(value, tuple) and len(value) == 3):
        return VaultError("the signing child sent a malformed reply")
    name, message, retry_after = value
    if name == "BackoffError" and isinstance(retry_after, float):
        return BackoffError(retry_after)
    cls = _REBUILT.get(name) if isinstance(name, str) else None
    if cls is None or not isinstance(message, str):
        return VaultError("the signing child failed unexpectedly")
    return cls(message)


def _child_main(conn: Connection) -> None:
    """The child's whole life: one request, one reply, exit."""
    try:
        vault_path, passphrase, encoded = conn.recv()
        reply: _Reply
        try:
            reply = ("ok", _sign_all(Path(vault_path), passphrase, encoded))
        except BackoffError as exc:
            reply = ("error", ("BackoffError", str(exc), float(exc.retry_after)))
        except SignerError as exc:
            reply = ("error", (type(exc).__name__, str(exc), None))
        except ValueError:
            reply = ("error", ("KeyPathError", "a request is malformed", None))
        conn.send(reply)
    finally:
        conn.close()


def _sign_all(
    vault_path: Path, passphrase: str, encoded: list[_Request]
) -> list[tuple[int, int, int]]:
    with Vault(vault_path).unlock(passphrase) as session:
        signatures = []
        for text, digest in encoded:
            signature = session._sign_computed_digest(DerivationPath.parse(text), digest)
            signatures.append((signature.r, signature.s, signature.recovery_id))
        return signatures
