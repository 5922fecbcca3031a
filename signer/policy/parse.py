"""``parse_policy``: policy TOML text to a validated :class:`Policy`, every mistake with its line.

Strict by design: an unknown table or key, a value of the wrong type, an address that is not
EIP-55 checksummed, an amount that is not a decimal string, a rule for a chain the policy does
not list, or the same entry twice is a :class:`PolicyFileError` naming the line. A typo must
never silently widen or narrow what the signer signs. The file format is docs/policy.md.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from coincurve import PublicKey

from shared.address import Address, is_checksummed
from shared.calls import DEFAULT_CATALOG, CallKind
from shared.keccak import keccak256
from signer.errors import KeyPathError, PolicyFileError
from signer.keys.bip32 import DerivationPath
from signer.keys.paths import classify
from signer.policy.locate import Entry, LineIndex
from signer.policy.model import (
    AccountRule,
    ApprovalRule,
    ApprovalVia,
    AssetKey,
    CallRule,
    ChainRule,
    DestinationRule,
    LimitRule,
    MultiSendRule,
    OperatorRule,
    PersonalMessageRule,
    Policy,
    RuleRef,
    SafeProfile,
    SafeRule,
    TypedDataRule,
    asset_key,
)

T = TypeVar("T")

# A policy is a page or two of TOML; anything far larger is not one.
MAX_POLICY_BYTES = 1 << 20
MAX_LABEL = 64
MAX_PREFIX = 256
# A personal-message prefix shorter than this would match nearly any message.
MIN_PREFIX = 8
MAX_DECIMALS = 36
CHAIN_ID_MAX = (1 << 64) - 1
UINT256_LIMIT = 1 << 256
# The word ``native`` names a chain's own coin (ETH, POL, xDAI) wherever an asset is named.
NATIVE = "native"
GWEI_DECIMALS = 9
WEI_DECIMALS = 18

_AMOUNT = re.compile(r"(0|[1-9][0-9]*)(?:\.([0-9]+))?")
_HEX = re.compile(r"[0-9a-fA-F]*")
_SELECTOR = re.compile(r"0x[0-9a-fA-F]{8}")
# EIP-712 §Definition of typed structured data: a struct name is a Solidity identifier.
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]{0,63}")
_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")
# tomllib puts this in the message when the error is at the very end of the text.
_TOML_AT_END = "(at end of document)"

SAFE_ADMIN_FUNCTIONS = frozenset(
    spec.name
    for spec in DEFAULT_CATALOG
    if spec.kind in (CallKind.SAFE_ADMIN, CallKind.SAFE_SINGLETON_CHANGE)
)

# Every table: (is an array of tables, required keys, optional keys).
_SCHEMA: dict[str, tuple[bool, frozenset[str], frozenset[str]]] = {
    "policy": (False, frozenset({"name", "version"}), frozenset()),
    "chain": (
        True,
        frozenset({"id"}),
        frozenset({"label", "max_fee_per_gas_gwei", "max_total_fee_native"}),
    ),
    "account": (True, frozenset({"path"}), frozenset({"label"})),
    "destination": (True, frozenset({"chain", "address", "assets", "label"}), frozenset()),
    "limit": (
        True,
        frozenset({"chain", "asset", "per_tx", "per_24h"}),
        frozenset({"decimals", "label"}),
    ),
    "call": (True, frozenset({"chain", "to", "selector"}), frozenset({"label"})),
    "approval": (
        True,
        frozenset({"chain", "token", "spender"}),
        frozenset({"via", "max_amount", "decimals", "allow_unlimited", "label"}),
    ),
    "typed_data": (
        True,
        frozenset({"chain", "verifying_contract", "primary_type"}),
        frozenset({"label"}),
    ),
    "personal_message": (True, frozenset({"prefix"}), frozenset({"label"})),
    "multisend_call_only": (True, frozenset({"chain", "address"}), frozenset({"label"})),
    "safe": (
        True,
        frozenset({"chain", "address", "profile"}),
        frozenset(
            {
                "label",
                "admin_functions",
                "migration_libraries",
                "allow_gas_refund",
                "allow_pre_1_3",
                "allow_messages",
            }
        ),
    ),
    "operator": (True, frozenset(), frozenset({"public_key", "address", "label"})),
}

# Every table and the keys it may hold (documented in docs/policy.md; a test checks).
POLICY_KEYS: Mapping[str, frozenset[str]] = MappingProxyType(
    {name: required | optional for name, (_, required, optional) in _SCHEMA.items()}
)


def load_policy(path: Path) -> Policy:
    """Read and parse the policy file at ``path``; the hash is of its exact bytes."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyFileError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_policy_bytes(data)


def parse_policy_bytes(data: bytes) -> Policy:
    """Parse policy file bytes, which must be UTF-8; the policy hash is SHA-256 of ``data``."""
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyFileError(f"larger than {MAX_POLICY_BYTES} bytes", line=1)
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyFileError("not valid UTF-8", line=line) from exc
    return parse_policy(text)


def parse_policy(text: str) -> Policy:
    """Parse and validate policy TOML; :class:`PolicyFileError` with ``line`` for any mistake.

    The policy's ``sha256`` is of the UTF-8 encoding of ``text``, which equals the file's
    bytes when the text was decoded from them without newline translation.
    """
    encoded = text.encode("utf-8", errors="surrogatepass")
    if len(encoded) > MAX_POLICY_BYTES:
        raise PolicyFileError(f"larger than {MAX_POLICY_BYTES} bytes", line=1)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(f"not valid TOML: {exc}", line=_toml_error_line(exc, text)) from exc
    return _Parser(document, LineIndex(text)).policy(hashlib.sha256(encoded).digest())


def _toml_error_line(exc: tomllib.TOMLDecodeError, text: str) -> int:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    if match is not None:
        return int(match.group(1))
    if _TOML_AT_END in message:
        return max(1, len(text.splitlines()))
    return 1


class _Table:
    """One table of the document with typed accessors that raise with the key's line."""

    def __init__(self, entry: Entry, values: Mapping[str, object], lines: LineIndex) -> None:
        self.entry = entry
        self.values = values
        self.lines = lines
        name, index = entry
        self.path = name if index is None else f"{name}[{index}]"
        self.ref = RuleRef(
            self.path,
            lines.header(entry),
            tuple((key, lines.key(entry, key)) for key in values),
        )

    def fail(self, key: str | None, message: str) -> PolicyFileError:
        where = self.path if key is None else f"{self.path}.{key}"
        line = self.lines.header(self.entry) if key is None else self.lines.key(self.entry, key)
        return PolicyFileError(f"{where}: {message}", line=line)

    def fail_element(
        self, key: str, literal: str, message: str, occurrence: int = 1
    ) -> PolicyFileError:
        line = self.lines.element(self.entry, key, literal, occurrence)
        return PolicyFileError(f"{self.path}.{key}: {message}", line=line)

    def has(self, key: str) -> bool:
        return key in self.values

    def integer(self, key: str, *, low: int, high: int) -> int:
        value = self.values[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {_kind(value)}")
        if not low <= value <= high:
            raise self.fail(key, f"must be between {low} and {high}, got {value}")
        return value

    def chain(self, key: str = "chain") -> int:
        return self.integer(key, low=1, high=CHAIN_ID_MAX)

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.values:
            return default
        value = self.values[key]
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {_kind(value)}")
        return value

    def text(self, key: str, *, limit: int = MAX_LABEL, default: str | None = None) -> str:
        if key not in self.values and default is not None:
            return default
        value = self.values[key]
        if not isinstance(value, str):
            raise self.fail(key, f"must be a string, got {_kind(value)}")
        if not value.strip():
            raise self.fail(key, "must not be empty")
        if len(value) > limit:
            raise self.fail(key, f"must be at most {limit} characters, got {len(value)}")
        # Labels are shown on the signer's screen: no control, bidi or zero-width characters.
        if not value.isprintable():
            raise self.fail(key, "contains non-printable characters")
        return value

    def strings(self, key: str) -> list[str]:
        value = self.values[key]
        if not isinstance(value, list):
            raise self.fail(key, f"must be an array of strings, got {_kind(value)}")
        if not value:
            raise self.fail(key, "must not be empty")
        seen: set[str] = set()
        for item in value:
            if not isinstance(item, str):
                raise self.fail(key, f"must be an array of strings, found {_kind(item)}")
            if item in seen:
                raise self.fail_element(key, f'"{item}"', f'"{item}" is listed twice', 2)
            seen.add(item)
        return [str(item) for item in value]

    def address_text(self, text: str, key: str, literal: str | None = None) -> Address:
        def fail(message: str) -> PolicyFileError:
            if literal is None:
                return self.fail(key, message)
            return self.fail_element(key, literal, message)

        digits = text[2:]
        if not text.startswith("0x") or len(digits) != 40 or not _HEX.fullmatch(digits):
            raise fail(f"{text!r} is not an address (0x and 40 hex digits)")
        address = Address(bytes.fromhex(digits))
        if not is_checksummed(text):
            if digits in (digits.lower(), digits.upper()):
                raise fail(f"write addresses in EIP-55 checksummed form: {address.checksummed()}")
            raise fail(f"{text} has a wrong EIP-55 checksum (a typo?)")
        return address

    def address(self, key: str) -> Address:
        value = self.values[key]
        if not isinstance(value, str):
            raise self.fail(key, f"must be an address string, got {_kind(value)}")
        return self.address_text(value, key)

    def amount(self, key: str, decimals: int) -> int:
        value = self.values[key]
        if isinstance(value, float):
            raise self.fail(key, 'amounts are decimal strings such as "10.5", never floats')
        if isinstance(value, int) and not isinstance(value, bool):
            raise self.fail(key, f'write amounts as decimal strings in whole units, e.g. "{value}"')
        if not isinstance(value, str):
            raise self.fail(key, f"must be a decimal string, got {_kind(value)}")
        match = _AMOUNT.fullmatch(value)
        if match is None:
            raise self.fail(key, f'{value!r} is not a decimal amount such as "10" or "0.25"')
        whole, fraction = match.group(1), match.group(2) or ""
        if len(fraction) > decimals:
            raise self.fail(
                key, f"{value} has {len(fraction)} decimal places; this asset has {decimals}"
            )
        if len(whole) > 80:
            raise self.fail(key, f"{value} is out of range")
        scale: int = 10**decimals
        base = int(whole) * scale + int(fraction.ljust(decimals, "0") or "0")
        if base >= UINT256_LIMIT:
            raise self.fail(key, f"{value} is out of range")
        return base

    def asset_text(self, text: str, chain_id: int, key: str, literal: str | None) -> AssetKey:
        if text == NATIVE:
            return asset_key(chain_id, None)
        if not text.startswith("0x"):
            message = f'{text!r}: an asset is "native" or a token contract address'
            if literal is None:
                raise self.fail(key, message)
            raise self.fail_element(key, literal, message)
        return asset_key(chain_id, self.address_text(text, key, literal))


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class _Parser:
    """Builds a :class:`Policy` from a decoded TOML document, table by table."""

    def __init__(self, document: Mapping[str, object], lines: LineIndex) -> None:
        self.document = document
        self.lines = lines
        self.chain_ids: set[int] = set()

    def policy(self, sha256: bytes) -> Policy:
        for name, value in self.document.items():
            if name not in _SCHEMA:
                raise PolicyFileError(
                    f"unknown table [{name}] (known: {', '.join(sorted(_SCHEMA))})",
                    line=self.lines.header((name, None))
                    if not isinstance(value, list)
                    else self.lines.header((name, 0)),
                )
        header = self._single("policy")
        chains = self._entries("chain", self._chain, key=lambda r: r.chain_id)
        self.chain_ids = {rule.chain_id for rule in chains}
        return Policy(
            name=header.text("name"),
            version=header.integer("version", low=1, high=CHAIN_ID_MAX),
            sha256=sha256,
            chains=chains,
            accounts=self._entries("account", self._account, key=lambda r: r.path),
            destinations=self._entries(
                "destination", self._destination, key=lambda r: (r.chain_id, r.address)
            ),
            limits=self._entries("limit", self._limit, key=lambda r: r.asset),
            calls=self._entries("call", self._call, key=lambda r: (r.chain_id, r.to, r.selector)),
            approvals=self._entries(
                "approval", self._approval, key=lambda r: (r.chain_id, r.token, r.spender)
            ),
            typed_data=self._entries(
                "typed_data",
                self._typed_data,
                key=lambda r: (r.chain_id, r.verifying_contract, r.primary_type),
            ),
            personal_messages=self._entries(
                "personal_message", self._personal_message, key=lambda r: r.prefix
            ),
            multisend_call_only=self._entries(
                "multisend_call_only", self._multisend, key=lambda r: (r.chain_id, r.address)
            ),
            safes=self._entries("safe", self._safe, key=lambda r: (r.chain_id, r.address)),
            operators=self._entries("operator", self._operator, key=lambda r: r.address),
        )

    def _checked(self, table: _Table, name: str) -> _Table:
        _, required, optional = _SCHEMA[name]
        for key in table.values:
            if key not in required and key not in optional:
                known = ", ".join(sorted(required | optional))
                raise table.fail(key, f"unknown key (known: {known})")
        for key in sorted(required):
            if key not in table.values:
                raise table.fail(None, f"missing required key {key!r}")
        return table

    def _single(self, name: str) -> _Table:
        raw = self.document.get(name)
        if raw is None:
            raise PolicyFileError(f"missing the [{name}] table", line=1)
        if not isinstance(raw, dict):
            raise PolicyFileError(
                f"[{name}] must be a table, not {_kind(raw)}", line=self.lines.header((name, None))
            )
        return self._checked(_Table((name, None), raw, self.lines), name)

    def _entries(
        self, name: str, make: Callable[[_Table], T], *, key: Callable[[T], Hashable]
    ) -> tuple[T, ...]:
        raw = self.document.get(name, [])
        if not isinstance(raw, list):
            raise PolicyFileError(
                f"{name} must be an array of tables written [[{name}]]",
                line=self.lines.header((name, None)),
            )
        made: list[T] = []
        seen: dict[Hashable, str] = {}
        for index, item in enumerate(raw):
            entry: Entry = (name, index)
            if not isinstance(item, dict):
                raise PolicyFileError(
                    f"{name}[{index}] must be a table", line=self.lines.header(entry)
                )
            table = self._checked(_Table(entry, item, self.lines), name)
            rule = make(table)
            identity = key(rule)
            if identity in seen:
                raise table.fail(None, f"duplicate entry: the same as {seen[identity]}")
            seen[identity] = table.path
            made.append(rule)
        return tuple(made)

    def _listed_chain(self, table: _Table, key: str = "chain") -> int:
        chain_id = table.chain(key)
        if chain_id not in self.chain_ids:
            raise table.fail(key, f"chain {chain_id} is not listed in a [[chain]] table")
        return chain_id

    def _chain(self, table: _Table) -> ChainRule:
        per_gas = (
            table.amount("max_fee_per_gas_gwei", GWEI_DECIMALS)
            if table.has("max_fee_per_gas_gwei")
            else None
        )
        total = (
            table.amount("max_total_fee_native", WEI_DECIMALS)
            if table.has("max_total_fee_native")
            else None
        )
        return ChainRule(
            ref=table.ref,
            chain_id=table.chain("id"),
            label=table.text("label", default=""),
            max_fee_per_gas=per_gas,
            max_total_fee=total,
        )

    def _account(self, table: _Table) -> AccountRule:
        raw = table.values["path"]
        if not isinstance(raw, str):
            raise table.fail("path", f"must be a derivation path string, got {_kind(raw)}")
        try:
            path = DerivationPath.parse(raw)
            classify(path)
        except KeyPathError as exc:
            raise table.fail("path", str(exc)) from exc
        return AccountRule(table.ref, path, table.text("label", default=""))

    def _destination(self, table: _Table) -> DestinationRule:
        chain_id = self._listed_chain(table)
        assets = tuple(
            table.asset_text(text, chain_id, "assets", f'"{text}"')
            for text in table.strings("assets")
        )
        if len(set(assets)) != len(assets):
            raise table.fail("assets", "the same asset is listed twice")
        return DestinationRule(
            ref=table.ref,
            chain_id=chain_id,
            address=table.address("address"),
            assets=assets,
            label=table.text("label"),
        )

    def _limit(self, table: _Table) -> LimitRule:
        chain_id = self._listed_chain(table)
        raw = table.values["asset"]
        if not isinstance(raw, str):
            raise table.fail("asset", f"must be a string, got {_kind(raw)}")
        asset = table.asset_text(raw, chain_id, "asset", None)
        if table.has("decimals"):
            decimals = table.integer("decimals", low=0, high=MAX_DECIMALS)
        elif asset.token is None:
            decimals = WEI_DECIMALS
        else:
            raise table.fail(None, "a token limit must state the token's decimals")
        per_tx = table.amount("per_tx", decimals)
        per_24h = table.amount("per_24h", decimals)
        if per_tx > per_24h:
            raise table.fail("per_tx", "is larger than per_24h, so it could never be reached")
        return LimitRule(
            table.ref, asset, decimals, per_tx, per_24h, table.text("label", default="")
        )

    def _call(self, table: _Table) -> CallRule:
        chain_id = self._listed_chain(table)
        raw = table.values["selector"]
        if not isinstance(raw, str) or _SELECTOR.fullmatch(raw) is None:
            raise table.fail("selector", "must be a 4-byte selector written 0x and 8 hex digits")
        return CallRule(
            ref=table.ref,
            chain_id=chain_id,
            to=table.address("to"),
            selector=bytes.fromhex(raw[2:]),
            label=table.text("label", default=""),
        )

    def _approval(self, table: _Table) -> ApprovalRule:
        chain_id = self._listed_chain(table)
        via: set[ApprovalVia] = set()
        if table.has("via"):
            for text in table.strings("via"):
                try:
                    via.add(ApprovalVia(text))
                except ValueError as exc:
                    known = ", ".join(v.value for v in ApprovalVia)
                    raise table.fail_element(
                        "via", f'"{text}"', f'"{text}" is not one of {known}'
                    ) from exc
        else:
            via.add(ApprovalVia.APPROVE)
        allow_unlimited = table.boolean("allow_unlimited", False)
        max_amount: int | None = None
        if table.has("max_amount"):
            if allow_unlimited:
                raise table.fail("max_amount", "contradicts allow_unlimited = true")
            if not table.has("decimals"):
                raise table.fail(None, "max_amount needs the token's decimals")
            decimals = table.integer("decimals", low=0, high=MAX_DECIMALS)
            max_amount = table.amount("max_amount", decimals)
        elif table.has("decimals"):
            raise table.fail("decimals", "is only used with max_amount")
        return ApprovalRule(
            ref=table.ref,
            chain_id=chain_id,
            token=table.address("token"),
            spender=table.address("spender"),
            via=frozenset(via),
            max_amount=max_amount,
            allow_unlimited=allow_unlimited,
            label=table.text("label", default=""),
        )

    def _typed_data(self, table: _Table) -> TypedDataRule:
        chain_id = self._listed_chain(table)
        primary = table.values["primary_type"]
        if not isinstance(primary, str) or _IDENTIFIER.fullmatch(primary) is None:
            raise table.fail("primary_type", "must be an EIP-712 struct name such as Order")
        return TypedDataRule(
            ref=table.ref,
            chain_id=chain_id,
            verifying_contract=table.address("verifying_contract"),
            primary_type=primary,
            label=table.text("label", default=""),
        )

    def _personal_message(self, table: _Table) -> PersonalMessageRule:
        prefix = table.text("prefix", limit=MAX_PREFIX)
        if len(prefix) < MIN_PREFIX:
            raise table.fail("prefix", f"must be at least {MIN_PREFIX} characters")
        return PersonalMessageRule(table.ref, prefix, table.text("label", default=""))

    def _multisend(self, table: _Table) -> MultiSendRule:
        return MultiSendRule(
            ref=table.ref,
            chain_id=self._listed_chain(table),
            address=table.address("address"),
            label=table.text("label", default=""),
        )

    def _safe(self, table: _Table) -> SafeRule:
        chain_id = self._listed_chain(table)
        raw = table.values["profile"]
        try:
            profile = SafeProfile(raw) if isinstance(raw, str) else None
        except ValueError:
            profile = None
        if profile is None:
            raise table.fail("profile", 'must be "owner" or "governance"')
        functions: frozenset[str] = frozenset()
        libraries: tuple[Address, ...] = ()
        if profile is SafeProfile.GOVERNANCE:
            if not table.has("admin_functions"):
                raise table.fail(None, "a governance profile must list its admin_functions")
            names = table.strings("admin_functions")
            for name in names:
                if name not in SAFE_ADMIN_FUNCTIONS:
                    raise table.fail_element(
                        "admin_functions",
                        f'"{name}"',
                        f"{name!r} is not a Safe admin function "
                        f"({', '.join(sorted(SAFE_ADMIN_FUNCTIONS))})",
                    )
            functions = frozenset(names)
            if table.has("migration_libraries"):
                libraries = tuple(
                    table.address_text(text, "migration_libraries", f'"{text}"')
                    for text in table.strings("migration_libraries")
                )
        else:
            for key in ("admin_functions", "migration_libraries"):
                if table.has(key):
                    raise table.fail(key, 'is only allowed with profile = "governance"')
        return SafeRule(
            ref=table.ref,
            chain_id=chain_id,
            address=table.address("address"),
            label=table.text("label", default=""),
            profile=profile,
            admin_functions=functions,
            migration_libraries=libraries,
            allow_gas_refund=table.boolean("allow_gas_refund", False),
            allow_pre_1_3=table.boolean("allow_pre_1_3", False),
            allow_messages=table.boolean("allow_messages", False),
        )

    def _operator(self, table: _Table) -> OperatorRule:
        has_key, has_address = table.has("public_key"), table.has("address")
        if has_key == has_address:
            raise table.fail(None, "give exactly one of public_key or address")
        address = table.address("address") if has_address else _operator_address(table)
        return OperatorRule(table.ref, address, table.text("label", default=""))


def _operator_address(table: _Table) -> Address:
    raw = table.values["public_key"]
    if not isinstance(raw, str) or not raw.startswith("0x"):
        raise table.fail("public_key", "must be a 0x-prefixed hex secp256k1 public key")
    try:
        data = bytes.fromhex(raw[2:])
    except ValueError as exc:
        raise table.fail("public_key", "is not hex") from exc
    # SEC 1 §2.3.3: 33-byte compressed (02/03 || x) or 65-byte uncompressed (04 || x || y).
    if len(data) not in (33, 65):
        raise table.fail("public_key", f"must be 33 or 65 bytes, got {len(data)}")
    try:
        point = PublicKey(data).format(compressed=False)
    except ValueError as exc:
        raise table.fail("public_key", "is not a point on secp256k1") from exc
    # Yellow Paper eq. 284: the address is the last 20 bytes of keccak256(x || y).
    return Address(keccak256(point[1:])[12:])
