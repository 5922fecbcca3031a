"""The vault file format: a canonical JSON document and the encrypted secret payload inside it.

File (UTF-8, ASCII only, keys sorted, no spaces, one trailing newline; anything else is
refused as not canonical)::

    {"ciphertext": hex, "header": HEADER, "nonce": hex(12 bytes), "tag": hex(16 bytes)}
    HEADER = {"accounts": [{"address": EIP-55, "path": "m/44'/60'/..."}, ...],
              "format": "coldsign-vault", "kdf": {"n": int, "name": "scrypt", "p": int,
              "r": int}, "master_fingerprint": hex(4 bytes), "salt": hex(32 bytes),
              "version": 1}

The AES-256-GCM associated data is ``b"coldsign-vault\\x00" || canonical JSON of HEADER``,
so editing any header field (version, kdf parameters, salt, fingerprint, accounts) makes
authentication fail. The plaintext is the binary :class:`SecretPayload`::

    0x01 | len(entropy) (1 byte) | entropy | len(passphrase) (2 bytes BE) | BIP-39 passphrase
    (NFKD UTF-8) | account count (2 bytes BE) | per account: depth (1 byte) | depth x u32 BE

Every parser here checks lengths before slicing and raises only :class:`VaultFormatError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from shared.address import parse_address
from shared.errors import AddressError
from signer.errors import KeyPathError, VaultFormatError
from signer.keys.accounts import EnrolledAccount
from signer.keys.bip32 import DerivationPath
from signer.keys.bip39 import ENTROPY_BYTES, MAX_PASSPHRASE_BYTES
from signer.keys.kdf import ScryptParams, check_bounds
from signer.keys.paths import MAX_ENROLLED, enrolment

FORMAT_NAME = "coldsign-vault"
VERSION = 1
PAYLOAD_VERSION = 1
SALT_BYTES = 32
NONCE_BYTES = 12  # NIST SP 800-38D §8.2: 96-bit IVs
TAG_BYTES = 16
FINGERPRINT_BYTES = 4
MAX_PATH_DEPTH = 5
# Largest payload: version, entropy, passphrase and MAX_ENROLLED five-level paths.
MAX_PAYLOAD_BYTES = (
    2 + max(ENTROPY_BYTES) + 2 + MAX_PASSPHRASE_BYTES + 2 + MAX_ENROLLED * (1 + 4 * MAX_PATH_DEPTH)
)
# Well above the largest valid file (about 2 x payload in hex plus 256 account entries).
MAX_FILE_BYTES = 128 * 1024
_AAD_PREFIX = FORMAT_NAME.encode("ascii") + b"\x00"
_TOP_KEYS = frozenset({"ciphertext", "header", "nonce", "tag"})
_HEADER_KEYS = frozenset({"accounts", "format", "kdf", "master_fingerprint", "salt", "version"})
_KDF_KEYS = frozenset({"n", "name", "p", "r"})
_ACCOUNT_KEYS = frozenset({"address", "path"})


@dataclass(frozen=True, slots=True)
class VaultHeader:
    """The public, authenticated part of a vault: readable without the passphrase."""

    version: int
    kdf: ScryptParams
    salt: bytes
    master_fingerprint: bytes
    accounts: tuple[EnrolledAccount, ...]

    @property
    def paths(self) -> tuple[DerivationPath, ...]:
        """The enrolled derivation paths, in enrolment order."""
        return tuple(account.path for account in self.accounts)

    def to_json(self) -> dict[str, Any]:
        """The header as the JSON object stored in the file."""
        return {
            "accounts": [
                {"address": account.address.checksummed(), "path": str(account.path)}
                for account in self.accounts
            ],
            "format": FORMAT_NAME,
            "kdf": {"n": self.kdf.n, "name": "scrypt", "p": self.kdf.p, "r": self.kdf.r},
            "master_fingerprint": self.master_fingerprint.hex(),
            "salt": self.salt.hex(),
            "version": self.version,
        }

    def associated_data(self) -> bytes:
        """The GCM associated data: the format name, a NUL, the canonical header JSON."""
        return _AAD_PREFIX + _canonical(self.to_json())


@dataclass(frozen=True, slots=True)
class VaultDocument:
    """A whole vault file: header plus the GCM nonce, ciphertext and tag."""

    header: VaultHeader
    nonce: bytes
    ciphertext: bytes = field(repr=False)
    tag: bytes

    def encode(self) -> bytes:
        """The canonical file bytes."""
        return (
            _canonical(
                {
                    "ciphertext": self.ciphertext.hex(),
                    "header": self.header.to_json(),
                    "nonce": self.nonce.hex(),
                    "tag": self.tag.hex(),
                }
            )
            + b"\n"
        )


def decode_document(data: bytes) -> VaultDocument:
    """Parse untrusted vault bytes; :class:`VaultFormatError` for anything not canonical.

    The version and the scrypt bounds are checked here, before any key derivation.
    """
    if not data:
        raise VaultFormatError("the vault file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise VaultFormatError(f"the vault file is larger than {MAX_FILE_BYTES} bytes")
    if not data.isascii():
        raise VaultFormatError("the vault file is not ASCII JSON")
    try:
        top = json.loads(
            data.decode("ascii"),
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except (ValueError, RecursionError) as exc:
        # json.JSONDecodeError and int-size limits are ValueErrors; deep nesting recurses.
        raise VaultFormatError("the vault file is not valid JSON") from exc
    top = _object(top, _TOP_KEYS, "vault")
    header = decode_header(top["header"])
    document = VaultDocument(
        header,
        _hex(top["nonce"], "nonce", NONCE_BYTES, NONCE_BYTES),
        _hex(top["ciphertext"], "ciphertext", 1, MAX_PAYLOAD_BYTES),
        _hex(top["tag"], "tag", TAG_BYTES, TAG_BYTES),
    )
    if document.encode() != data:
        raise VaultFormatError("the vault file is not in canonical form")
    return document


def decode_header(value: object) -> VaultHeader:
    """Parse the header object: version first, then scrypt bounds, then the rest."""
    if not isinstance(value, dict):
        raise VaultFormatError("header: expected an object")
    if value.get("format") != FORMAT_NAME:
        raise VaultFormatError(f"header.format: expected {FORMAT_NAME!r}")
    version = value.get("version")
    if type(version) is not int or version != VERSION:
        raise VaultFormatError(f"header.version: only version {VERSION} is supported")
    header = _object(value, _HEADER_KEYS, "header")
    kdf = _object(header["kdf"], _KDF_KEYS, "header.kdf")
    if kdf["name"] != "scrypt":
        raise VaultFormatError("header.kdf.name: only scrypt is supported")
    params = ScryptParams(*check_bounds(kdf["n"], kdf["r"], kdf["p"]))
    accounts_value = header["accounts"]
    if not isinstance(accounts_value, list) or not 1 <= len(accounts_value) <= MAX_ENROLLED:
        raise VaultFormatError(f"header.accounts: expected a list of 1..{MAX_ENROLLED}")
    accounts = tuple(
        _account(item, f"header.accounts[{i}]") for i, item in enumerate(accounts_value)
    )
    try:
        enrolment(account.path for account in accounts)
    except KeyPathError as exc:
        raise VaultFormatError(f"header.accounts: {exc}") from exc
    return VaultHeader(
        version,
        params,
        _hex(header["salt"], "header.salt", SALT_BYTES, SALT_BYTES),
        _hex(
            header["master_fingerprint"],
            "header.master_fingerprint",
            FINGERPRINT_BYTES,
            FINGERPRINT_BYTES,
        ),
        accounts,
    )


class SecretPayload:
    """The decrypted secrets: entropy, BIP-39 passphrase and enrolled paths.

    Held in wipeable buffers; ``repr()`` shows nothing secret.
    """

    __slots__ = ("entropy", "passphrase", "paths")

    def __init__(
        self, entropy: bytearray, passphrase: bytearray, paths: tuple[DerivationPath, ...]
    ) -> None:
        self.entropy = entropy
        self.passphrase = passphrase
        self.paths = paths

    def encode(self) -> bytearray:
        """The plaintext layout in the module docstring, in a wipeable buffer."""
        out = bytearray([PAYLOAD_VERSION, len(self.entropy)])
        out += self.entropy
        out += len(self.passphrase).to_bytes(2, "big")
        out += self.passphrase
        out += len(self.paths).to_bytes(2, "big")
        for path in self.paths:
            out.append(path.depth)
            for index in path.indices:
                out += index.to_bytes(4, "big")
        return out

    @classmethod
    def decode(cls, data: bytearray) -> SecretPayload:
        """Parse an authenticated plaintext; :class:`VaultFormatError` if malformed."""
        reader = _Reader(data)
        taken: list[bytearray] = []
        try:
            if reader.byte("payload version") != PAYLOAD_VERSION:
                raise VaultFormatError("payload: unknown version")
            entropy_length = reader.byte("entropy length")
            if entropy_length not in ENTROPY_BYTES:
                raise VaultFormatError("payload: bad entropy length")
            entropy = reader.take(entropy_length, "entropy")
            taken.append(entropy)
            passphrase_length = reader.u16("passphrase length")
            if passphrase_length > MAX_PASSPHRASE_BYTES:
                raise VaultFormatError("payload: passphrase too long")
            passphrase = reader.take(passphrase_length, "passphrase")
            taken.append(passphrase)
            count = reader.u16("account count")
            if count > MAX_ENROLLED:
                raise VaultFormatError("payload: too many accounts")
            paths: list[DerivationPath] = []
            for _ in range(count):
                depth = reader.byte("path depth")
                if not 1 <= depth <= MAX_PATH_DEPTH:
                    raise VaultFormatError("payload: bad path depth")
                paths.append(DerivationPath(tuple(reader.u32("path index") for _ in range(depth))))
            if not reader.at_end():
                raise VaultFormatError("payload: trailing bytes")
            try:
                enrolled = enrolment(paths)
            except KeyPathError as exc:
                raise VaultFormatError(f"payload: {exc}") from exc
            return cls(entropy, passphrase, enrolled)
        except BaseException:
            for buffer in taken:
                buffer[:] = bytes(len(buffer))
            raise

    def wipe(self) -> None:
        """Zero the entropy and passphrase buffers."""
        self.entropy[:] = bytes(len(self.entropy))
        self.passphrase[:] = bytes(len(self.passphrase))

    def __repr__(self) -> str:
        return f"<SecretPayload accounts={len(self.paths)}>"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a SecretPayload cannot be pickled")


class _Reader:
    """Bounds-checked reads over a plaintext buffer."""

    __slots__ = ("_data", "_offset")

    def __init__(self, data: bytearray) -> None:
        self._data = data
        self._offset = 0

    def take(self, length: int, what: str) -> bytearray:
        if length > len(self._data) - self._offset:
            raise VaultFormatError(f"payload: truncated {what}")
        out = bytearray(self._data[self._offset : self._offset + length])
        self._offset += length
        return out

    def byte(self, what: str) -> int:
        return self._int(1, what)

    def u16(self, what: str) -> int:
        return self._int(2, what)

    def u32(self, what: str) -> int:
        return self._int(4, what)

    def at_end(self) -> bool:
        return self._offset == len(self._data)

    def _int(self, size: int, what: str) -> int:
        if size > len(self._data) - self._offset:
            raise VaultFormatError(f"payload: truncated {what}")
        value = int.from_bytes(self._data[self._offset : self._offset + size], "big")
        self._offset += size
        return value


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise VaultFormatError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_float(text: str) -> Any:
    raise VaultFormatError("numbers in a vault file are integers")


def _object(value: object, keys: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise VaultFormatError(f"{where}: expected an object")
    if set(value) != keys:
        missing = sorted(keys - set(value))
        unknown = sorted(set(value) - keys)
        raise VaultFormatError(f"{where}: missing keys {missing}, unknown keys {unknown}")
    return value


def _hex(value: object, where: str, min_bytes: int, max_bytes: int) -> bytes:
    if not isinstance(value, str):
        raise VaultFormatError(f"{where}: expected a hex string")
    if len(value) % 2 or not min_bytes * 2 <= len(value) <= max_bytes * 2:
        raise VaultFormatError(f"{where}: expected {min_bytes}..{max_bytes} bytes of hex")
    if any(ch not in "0123456789abcdef" for ch in value):
        raise VaultFormatError(f"{where}: expected lower-case hex digits")
    return bytes.fromhex(value)


def _account(value: object, where: str) -> EnrolledAccount:
    account = _object(value, _ACCOUNT_KEYS, where)
    if not isinstance(account["path"], str) or not isinstance(account["address"], str):
        raise VaultFormatError(f"{where}: path and address are strings")
    try:
        path = DerivationPath.parse(account["path"])
    except KeyPathError as exc:
        raise VaultFormatError(f"{where}.path: {exc}") from exc
    try:
        address = parse_address(account["address"], field=f"{where}.address")
    except AddressError as exc:
        raise VaultFormatError(f"{where}.address: {exc.reason}") from exc
    return EnrolledAccount(path, address)
