"""The audit log's on-disk records: canonical JSON, the entry line and its hash, the head record.

Entry ``i`` is one line of the log file: the canonical JSON (below) of

    {"body": BODY, "hash": HASH, "prev": PREV, "seq": i}

followed by ``\\n``, where ``BODY`` is ``{"fields": {...}, "kind": KIND, "time": UNIX_SECONDS}``,
``PREV`` is the ``HASH`` of entry ``i - 1`` (``GENESIS_PREV`` for ``i = 0``) and

    HASH = SHA-256( u64be(seq) || prev (32 raw bytes) || canonical_json(BODY) )

with hashes written as 64 lowercase hex digits. Canonical JSON is Python's ``json.dumps`` with
``sort_keys=True``, ``separators=(",", ":")`` and ``ensure_ascii=True``: keys sorted by code
point, no whitespace, ASCII only (other characters as ``\\uXXXX`` escapes with lowercase hex).
Values are null, booleans, integers, strings, arrays and objects: no floats (amounts are
integers or decimal strings). A line is accepted only if re-encoding what it decodes to gives
the same bytes, so every edit, even one that keeps the meaning, changes what is hashed.

The head record (``<log>.head``) is the canonical JSON ``{"hash": HASH, "seq": i}`` plus ``\\n``
of the latest entry; it is replaced atomically (write, fsync, rename, fsync the directory).

**Secrets are refused** (belt and braces: the signer never means to pass one). ``make_entry``
raises ``AuditError`` when, at any depth of ``fields``,

- a field name, lower-cased with non-alphanumerics removed, contains ``mnemonic``,
  ``passphrase``, ``password``, ``private``, ``seed``, ``secret``, ``entropy`` or ``xprv``
  (this refuses some innocent names too, such as ``seeded``: rename those);
- a field name contains ``key`` and a string under it is 32 bytes of hex (with or without
  ``0x``), the shape of a secp256k1 private key;
- any string is an extended private key (``xprv``/``tprv``/``yprv``/``zprv``... in base58) or a
  BIP-39 English phrase of 12, 15, 18, 21 or 24 words.

The refusal message names the field, never the value.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from types import MappingProxyType
from typing import TypeAlias, cast

from mnemonic import Mnemonic

from signer.errors import AuditError

# A fixed, documented start of the chain: SHA-256 of this ASCII label.
GENESIS_PREV = hashlib.sha256(b"coldsign audit log genesis v1").digest()
HASH_SIZE = 32
# Limits are checked before parsing: a longer line is refused without being decoded.
MAX_LINE_BYTES = 64 * 1024
MAX_DEPTH = 8
MAX_INT = 1 << 256
MAX_SEQ = (1 << 63) - 1
ENTRY_LINE_PREFIX = b'{"body":{'
# At most this many entries are written by one ``append_many`` (after its ``batch`` entry).
MAX_BATCH_ENTRIES = 4096

JSONValue: TypeAlias = "bool | int | str | tuple[JSONValue, ...] | Mapping[str, JSONValue] | None"

_KIND = re.compile(r"[a-z][a-z0-9-]{0,63}")
_HEX32 = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_HASH_HEX = re.compile(r"[0-9a-f]{64}")
_EXTENDED_PRIVATE = re.compile(r"[tuvxyz]prv[1-9A-HJ-NP-Za-km-z]{100,}")
_SECRET_WORDS = (
    "mnemonic",
    "passphrase",
    "password",
    "private",
    "seed",
    "secret",
    "entropy",
    "xprv",
)
_BIP39_LENGTHS = frozenset({12, 15, 18, 21, 24})


class AuditKind(StrEnum):
    """The kinds of entry the signer writes (``append`` accepts any well-formed kind)."""

    LOG_CREATED = "log-created"
    LOG_RECOVERED = "log-recovered"
    DECISION = "decision"
    UNLOCK = "unlock"
    LOCK = "lock"
    NETWORK_DETECTED = "network-detected"
    ALLOW_ONLINE = "allow-online"
    # Written by ``AuditLog.append_many`` before the entries it writes in one go: "the next
    # ``entries`` entries were written together" (what lets the head record lag by more than
    # one entry after a crash; see ``signer.audit.verify``).
    BATCH = "batch"
    STATE_RESET = "state-reset"
    # ``policy install``: the installed policy file was replaced (old and new hashes).
    POLICY_INSTALLED = "policy-installed"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One hash-chained entry; ``fields`` is deep-frozen (tuples and read-only mappings)."""

    seq: int
    prev: bytes
    kind: str
    time: int
    fields: Mapping[str, JSONValue]
    entry_hash: bytes
    # The body's canonical JSON when already computed (by make_entry or parse_line), else b"".
    encoded_body: bytes = field(default=b"", repr=False, compare=False)

    def body(self) -> bytes:
        """The canonical JSON of the body, as hashed."""
        if self.encoded_body:
            return self.encoded_body
        return canonical_json({"fields": self.fields, "kind": self.kind, "time": self.time})

    def line(self) -> bytes:
        """The entry's line in the log file, newline included."""
        return _line(self.seq, self.prev, self.body(), self.entry_hash)


def announced_batch(entry: AuditEntry) -> int:
    """How many entries a ``batch`` entry says follow it (0 for any other entry)."""
    if entry.kind != AuditKind.BATCH or set(entry.fields) != {"entries"}:
        return 0
    count = entry.fields["entries"]
    if isinstance(count, bool) or not isinstance(count, int):
        return 0
    return count if 2 <= count <= MAX_BATCH_ENTRIES else 0


def canonical_json(value: object) -> bytes:
    """Canonical JSON bytes (sorted keys, no whitespace, ASCII) of a validated value."""
    return _CANONICAL.encode(value).encode("ascii")


def entry_hash(seq: int, prev: bytes, body: bytes) -> bytes:
    """SHA-256( u64be(seq) || prev || body ): the hash that chains entry ``seq``."""
    return hashlib.sha256(seq.to_bytes(8, "big") + prev + body).digest()


def make_entry(
    seq: int, prev: bytes, kind: str, time: int, fields: Mapping[str, object]
) -> AuditEntry:
    """Validate a new entry's parts (refusing secrets) and compute its hash."""
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise AuditError("audit kind must be a lower-case word of at most 64 characters")
    if isinstance(time, bool) or not isinstance(time, int) or not 0 <= time <= MAX_SEQ:
        raise AuditError(f"audit time must be a non-negative int of seconds, not {time!r}")
    if not isinstance(fields, Mapping):
        raise AuditError(f"audit fields must be a mapping, not {type(fields).__name__}")
    frozen, plain = _validated(fields, "fields", 0, secret_check=True, key_named=False)
    body = canonical_json({"fields": plain, "kind": kind, "time": time})
    if len(body) > MAX_LINE_BYTES - 200:
        raise AuditError(f"audit entry body is {len(body)} bytes; the limit is about 64 KiB")
    return AuditEntry(
        seq,
        prev,
        kind,
        time,
        cast("Mapping[str, JSONValue]", frozen),
        entry_hash(seq, prev, body),
        body,
    )


def parse_line(line: bytes) -> AuditEntry:
    """Decode one log line (newline included) strictly; the hash is *not* checked here.

    Raises ``AuditError`` saying what is wrong for anything but a canonical entry line.
    """
    value = _strict_json(line)
    if not isinstance(value, dict) or set(value) != {"body", "hash", "prev", "seq"}:
        raise AuditError("not an object with exactly body, hash, prev and seq")
    seq, body = value["seq"], value["body"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise AuditError(f"seq is not a non-negative integer: {seq!r}"[:120])
    prev, digest = _hash_hex(value["prev"], "prev"), _hash_hex(value["hash"], "hash")
    if not isinstance(body, dict) or set(body) != {"fields", "kind", "time"}:
        raise AuditError("body is not an object with exactly fields, kind and time")
    kind, time, fields = body["kind"], body["time"], body["fields"]
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise AuditError("body.kind is not a lower-case word")
    if isinstance(time, bool) or not isinstance(time, int) or not 0 <= time <= MAX_SEQ:
        raise AuditError("body.time is not a non-negative integer")
    if not isinstance(fields, dict):
        raise AuditError("body.fields is not an object")
    frozen, plain = _validated(fields, "fields", 0, secret_check=False, key_named=False)
    body = canonical_json({"fields": plain, "kind": kind, "time": time})
    if _line(seq, prev, body, digest) != line:
        raise AuditError("not in canonical form (re-encoding gives other bytes)")
    return AuditEntry(seq, prev, kind, time, cast("Mapping[str, JSONValue]", frozen), digest, body)


def head_line(seq: int, digest: bytes) -> bytes:
    """The head record's bytes for the entry ``(seq, digest)``."""
    return canonical_json({"hash": digest.hex(), "seq": seq}) + b"\n"


def parse_head(data: bytes) -> tuple[int, bytes]:
    """Decode a head record strictly; raises ``AuditError``."""
    value = _strict_json(data)
    if not isinstance(value, dict) or set(value) != {"hash", "seq"}:
        raise AuditError("not an object with exactly hash and seq")
    seq = value["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise AuditError("seq is not a non-negative integer")
    digest = _hash_hex(value["hash"], "hash")
    if head_line(seq, digest) != data:
        raise AuditError("not in canonical form")
    return seq, digest


def _line(seq: int, prev: bytes, body: bytes, digest: bytes) -> bytes:
    # Keys in sorted order, so this is exactly canonical_json of the whole entry.
    return (
        b'{"body":'
        + body
        + b',"hash":"'
        + digest.hex().encode()
        + b'","prev":"'
        + prev.hex().encode()
        + b'","seq":'
        + str(seq).encode()
        + b"}\n"
    )


def _hash_hex(value: object, name: str) -> bytes:
    if not isinstance(value, str) or not _HASH_HEX.fullmatch(value):
        raise AuditError(f"{name} is not 64 lower-case hex digits")
    return bytes.fromhex(value)


def _refuse_float(text: str) -> object:
    raise AuditError(f"a non-integer number {text[:20]!r} (floats are not allowed)")


def _refuse_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise AuditError("an object has a duplicate key")
    return result


def _strict_json(data: bytes) -> object:
    if len(data) > MAX_LINE_BYTES:
        raise AuditError(f"longer than {MAX_LINE_BYTES} bytes")
    if not data.endswith(b"\n"):
        raise AuditError("does not end with a newline")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise AuditError(f"a non-ASCII byte at offset {exc.start}") from exc
    try:
        return json.loads(
            text,
            parse_float=_refuse_float,
            parse_constant=_refuse_float,
            object_pairs_hook=_refuse_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise AuditError(f"not JSON: {exc.msg} at offset {exc.pos}") from exc
    except RecursionError as exc:
        raise AuditError("nested too deeply") from exc
    except ValueError as exc:
        # int() refuses integers longer than sys.get_int_max_str_digits().
        raise AuditError("an integer too long to read") from exc


# A field's location, built only when an error names it: the parent chain and a key or index.
_Where: TypeAlias = "tuple[_Where | None, str | int] | str"
# Shortest strings the patterns below can match: 12 BIP-39 words (3 letters or more) and 11
# separators; "xprv" (or another prefix) and 100 base58 characters.
_MIN_MNEMONIC_CHARS = 12 * 3 + 11
_MIN_EXTENDED_KEY_CHARS = 4 + 100
# A private key in hex is 64 digits; no pattern matches a string shorter than all three.
_MIN_SECRET_CHARS = min(_MIN_MNEMONIC_CHARS, _MIN_EXTENDED_KEY_CHARS, 64)


def _path(where: _Where) -> str:
    if isinstance(where, str):
        return where
    parent, step = where
    base = "" if parent is None else _path(parent)
    return f"{base}[{step}]" if isinstance(step, int) else f"{base}.{step}"


def _validated(
    value: object, where: _Where, depth: int, secret_check: bool, key_named: bool
) -> tuple[JSONValue, object]:
    """Check ``value`` is JSON-safe (and holds no secret).

    Returns a deep-frozen copy, and the same copy with plain dicts where the frozen one has
    read-only mappings, which is what the JSON encoder is given (it writes tuples as arrays
    but does not take read-only mappings). The two share everything but the mappings, and
    nothing else holds the plain one, so what is hashed is what the entry holds.
    """
    if depth > MAX_DEPTH:
        raise AuditError(f"audit field {_path(where)} is nested deeper than {MAX_DEPTH}")
    # The cheap built-in checks first; the abstract Mapping and Sequence ones last.
    if isinstance(value, str):
        _check_string(value, where, secret_check=secret_check, key_named=key_named)
        return value, value
    if value is None or isinstance(value, bool):
        return value, value
    if isinstance(value, int):
        if not -MAX_INT < value < MAX_INT:
            raise AuditError(f"audit field {_path(where)} is an integer beyond 256 bits")
        return value, value
    if isinstance(value, (list, tuple)):
        return _validated_items(value, where, depth, secret_check, key_named)
    if isinstance(value, (dict, Mapping)):
        return _validated_mapping(value, where, depth, secret_check, key_named)
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return _validated_items(value, where, depth, secret_check, key_named)
    if isinstance(value, float):
        raise AuditError(
            f"audit field {_path(where)} is a float; use an integer or a decimal string"
        )
    raise AuditError(
        f"audit field {_path(where)} is a {type(value).__name__}, not JSON-safe"
        " (hex-encode bytes as a string)"
    )


def _validated_mapping(
    value: Mapping[object, object], where: _Where, depth: int, secret_check: bool, key_named: bool
) -> tuple[JSONValue, object]:
    frozen: dict[str, JSONValue] = {}
    plain: dict[str, object] = {}
    # A child one level down is still within MAX_DEPTH.
    shallow = depth < MAX_DEPTH
    for name, item in value.items():
        if not isinstance(name, str):
            raise AuditError(f"audit field {_path(where)} has a non-string key")
        text, secretish, keyish = _KEY_FLAGS.get(name) or _key_flags(name)
        if not text:
            raise AuditError(f"audit field {_path(where)} key is not valid Unicode text")
        if secret_check and secretish:
            raise AuditError(f"audit field {_path(where)}.{name} looks like a secret; refused")
        # Most values are scalars that need no closer look (see _plain_scalar), inlined here
        # because an entry has dozens of them.
        if shallow and (
            item is None
            or type(item) is bool
            or (type(item) is int and -MAX_INT < item < MAX_INT)
            or (type(item) is str and _plain_text(item, key_named or keyish))
        ):
            frozen[name] = plain[name] = item
        else:
            frozen[name], plain[name] = _validated(
                item, (where, name), depth + 1, secret_check, key_named or keyish
            )
    return MappingProxyType(frozen), plain


def _validated_items(
    value: Sequence[object], where: _Where, depth: int, secret_check: bool, key_named: bool
) -> tuple[JSONValue, object]:
    if depth < MAX_DEPTH and all(_plain_scalar(item, key_named) for item in value):
        items = tuple(value)
        return items, items  # type: ignore[return-value]
    pairs = [
        _validated(item, (where, i), depth + 1, secret_check, key_named)
        for i, item in enumerate(value)
    ]
    return tuple(pair[0] for pair in pairs), tuple(pair[1] for pair in pairs)


def _plain_scalar(value: object, key_named: bool) -> bool:
    """True for a value ``_validated`` accepts as it is: None, a bool, an int within 256 bits,
    or text ``_plain_text`` passes. Exact types only (subclasses take the full path)."""
    return (
        value is None
        or type(value) is bool
        or (type(value) is int and -MAX_INT < value < MAX_INT)
        or (type(value) is str and _plain_text(value, key_named))
    )


def _plain_text(value: str, key_named: bool) -> bool:
    """True for text no check of ``_check_string`` can refuse: ASCII (so valid UTF-8), and
    shorter than any secret pattern, or without whitespace (so one word, not a phrase),
    shorter than an extended key and not under a key's name (so not a private key in hex).
    Hashes in hex are the last kind."""
    return value.isascii() and (
        len(value) < _MIN_SECRET_CHARS
        or (len(value) < _MIN_EXTENDED_KEY_CHARS and not key_named and value.isalnum())
    )


# The flags (valid text, a secret's name, a key's name) of every field name seen so far: a
# pure function of the name, and the signer writes the same few dozen names in every entry.
# Bounded: past the limit, names are worked out each time.
_KEY_FLAGS: dict[str, tuple[bool, bool, bool]] = {}
_KEY_FLAGS_LIMIT = 1024


def _key_flags(name: str) -> tuple[bool, bool, bool]:
    """Work out ``name``'s flags (and remember them while the table has room)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        flags = (False, False, False)
    else:
        normalized = re.sub(r"[^a-z0-9]", "", name.lower())
        flags = (True, any(word in normalized for word in _SECRET_WORDS), "key" in normalized)
    if len(_KEY_FLAGS) < _KEY_FLAGS_LIMIT:
        _KEY_FLAGS[name] = flags
    return flags


def _check_string(value: str, where: _Where, *, secret_check: bool, key_named: bool) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AuditError(f"audit field {_path(where)} is not valid Unicode text") from exc
    if not secret_check:
        return
    if key_named and _HEX32.fullmatch(value):
        raise AuditError(f"audit field {_path(where)} looks like a private key (32 bytes of hex)")
    if len(value) >= _MIN_EXTENDED_KEY_CHARS and _EXTENDED_PRIVATE.fullmatch(value.strip()):
        raise AuditError(f"audit field {_path(where)} looks like an extended private key")
    if len(value) >= _MIN_MNEMONIC_CHARS:
        words = value.lower().split()
        if len(words) in _BIP39_LENGTHS and all(word in _bip39_words() for word in words):
            raise AuditError(f"audit field {_path(where)} looks like a BIP-39 mnemonic")


@cache
def _bip39_words() -> frozenset[str]:
    return frozenset(Mnemonic("english").wordlist)


def _mapping_as_dict(value: object) -> object:
    """The JSON encoder's fallback: a read-only mapping (a frozen entry's) as a plain dict."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder for every entry (json.dumps with options builds a new one per call). Tuples are
# JSON arrays to it already, and the frozen fields' read-only mappings reach it through
# ``default`` one level at a time, so no thawed copy of a whole entry is built.
_CANONICAL = json.JSONEncoder(
    sort_keys=True,
    separators=(",", ":"),
    ensure_ascii=True,
    allow_nan=False,
    check_circular=False,
    default=_mapping_as_dict,
)
