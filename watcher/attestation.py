"""Operator attestations: the operator key's EIP-191 signature over a request's CBOR.

A signer whose policy pins operator keys (docs/policy.md, ``[[operator]]``) signs only
requests attested by one of them. The attestation is the 65-byte ``r || s || v`` (v 27 or
28, low s) personal_sign signature of::

    coldsign operator attestation v1
    request sha256: <hex SHA-256 of the request's CBOR without the attestation>

carried in ``eth-sign-request`` key 8 or ``eth-batch-sign-request`` key 2. The key is not a
key that can move funds, but whoever holds it can get requests past that policy check: keep
the file on the operator's removable medium, readable by its owner only.
"""

from __future__ import annotations

import hashlib
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path

from coincurve import PrivateKey

from shared.address import Address
from shared.erc4527 import EthBatchSignRequest, EthSignRequest
from shared.hdpublic import address_of
from shared.messages.personal import personal_message_hash
from watcher.errors import ConfigError

# docs/policy.md, [[operator]]: the attested text, then 64 lower-case hex digits.
ATTESTATION_PREFIX = b"coldsign operator attestation v1\nrequest sha256: "
_MAX_KEY_FILE = 256


def attestation_message(attested_cbor: bytes) -> bytes:
    """The text the operator signs for a request whose CBOR (without key 8 / 2) is given."""
    return ATTESTATION_PREFIX + hashlib.sha256(attested_cbor).hexdigest().encode("ascii")


@dataclass(frozen=True, slots=True)
class Attester:
    """Holds the operator key; ``repr()`` shows only its address."""

    secret: bytes = field(repr=False)
    address: Address = field(init=False)

    def __post_init__(self) -> None:
        try:
            public = PrivateKey(self.secret).public_key.format(compressed=True)
        except ValueError as exc:
            raise ConfigError("operator.key_file", "not a valid secp256k1 private key") from exc
        object.__setattr__(self, "address", address_of(public))

    def sign(self, attested_cbor: bytes) -> bytes:
        """The 65-byte attestation (libsecp256k1 signs with RFC 6979 and low s)."""
        digest = personal_message_hash(attestation_message(attested_cbor))
        compact = PrivateKey(self.secret).sign_recoverable(digest, hasher=None)
        return compact[:64] + bytes([27 + compact[64]])

    def attest(
        self, request: EthSignRequest | EthBatchSignRequest
    ) -> EthSignRequest | EthBatchSignRequest:
        """``request`` with its attestation filled in."""
        return replace(request, attestation=self.sign(request.attested_cbor()))


def load_attester(path: Path) -> Attester:
    """Read the operator key file: 64 hex digits (optionally ``0x``), owner-readable only."""
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                str(path), "the operator key file is readable by others: chmod 600 it"
            )
        raw = path.read_bytes()[: _MAX_KEY_FILE + 1]
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read the operator key: {exc.strerror}") from exc
    text = raw.decode("ascii", errors="replace").strip().removeprefix("0x")
    if (
        len(raw) > _MAX_KEY_FILE
        or len(text) != 64
        or any(c not in "0123456789abcdefABCDEF" for c in text)
    ):
        raise ConfigError(str(path), "expected 64 hex digits (a secp256k1 private key)")
    return Attester(bytes.fromhex(text))
