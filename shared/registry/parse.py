"""Parses an operator's registry file (TOML text) into :class:`Registries`, strictly.

The file is the signer's own, but it is still checked key by key: a typo must not silently
turn a token "unknown" or drop a label. Layout (every table optional, every key listed)::

    [[chain]]   id, name, symbol, decimals?
    [[token]]   chain, address, symbol, decimals, name?
    [[safe]]    chain, version, multisend_call_only, multisend?, sign_message_lib?
    [[label]]   address, label, chain?
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from typing import TypeVar

from shared.address import Address, parse_address
from shared.errors import AddressError, RegistryFileError
from shared.registry.model import AddressLabel, Chain, Registries, SafeDeployment, Token

T = TypeVar("T")

MAX_REGISTRY_BYTES = 1 << 20
MAX_TEXT = 64

_TABLES: dict[str, tuple[set[str], set[str]]] = {
    # table: (required keys, optional keys)
    "chain": ({"id", "name", "symbol"}, {"decimals"}),
    "token": ({"chain", "address", "symbol", "decimals"}, {"name"}),
    "safe": ({"chain", "version", "multisend_call_only"}, {"multisend", "sign_message_lib"}),
    "label": ({"address", "label"}, {"chain"}),
}


def parse_registry(text: str) -> Registries:
    """Parse a registry file; raise :class:`RegistryFileError` naming the entry and key."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_REGISTRY_BYTES:
        raise RegistryFileError("registry", f"file larger than {MAX_REGISTRY_BYTES} bytes")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryFileError("registry", f"not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - set(_TABLES))
    if unknown:
        raise RegistryFileError(unknown[0], f"unknown table (expected one of {sorted(_TABLES)})")
    chains = _entries(document, "chain", _chain)
    tokens = _entries(document, "token", _token)
    safes = _entries(document, "safe", _safe)
    labels = _entries(document, "label", _label)
    return Registries.build(chains=chains, tokens=tokens, safe_deployments=safes, labels=labels)


def _entries(document: Mapping[str, object], table: str, make: Callable[[_Entry], T]) -> list[T]:
    raw = document.get(table, [])
    if not isinstance(raw, list):
        raise RegistryFileError(table, "must be an array of tables: [[" + table + "]]")
    required, optional = _TABLES[table]
    made: list[T] = []
    for index, item in enumerate(raw):
        where = f"{table}[{index}]"
        if not isinstance(item, dict):
            raise RegistryFileError(where, "must be a table")
        missing = sorted(required - set(item))
        if missing:
            raise RegistryFileError(f"{where}.{missing[0]}", "missing")
        extra = sorted(set(item) - required - optional)
        if extra:
            raise RegistryFileError(f"{where}.{extra[0]}", "unknown key")
        made.append(make(_Entry(where, item)))
    return made


class _Entry:
    """One table of the file, with typed accessors that name the key on error."""

    def __init__(self, where: str, values: Mapping[str, object]) -> None:
        self.where = where
        self.values = values

    def has(self, key: str) -> bool:
        return key in self.values

    def integer(self, key: str, *, low: int, high: int) -> int:
        value = self.values[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise RegistryFileError(f"{self.where}.{key}", f"must be a whole number {low}..{high}")
        return value

    def text(self, key: str) -> str:
        value = self.values[key]
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            raise RegistryFileError(
                f"{self.where}.{key}", f"must be non-empty text of at most {MAX_TEXT} characters"
            )
        if not value.isprintable():
            raise RegistryFileError(f"{self.where}.{key}", "contains non-printable characters")
        return value

    def address(self, key: str) -> Address:
        value = self.values[key]
        if not isinstance(value, str):
            raise RegistryFileError(f"{self.where}.{key}", "must be a 0x-prefixed address string")
        try:
            return parse_address(value, field=f"{self.where}.{key}")
        except AddressError as exc:
            raise RegistryFileError(exc.field, exc.reason) from exc


_CHAIN_ID_MAX = (1 << 64) - 1


def _chain(entry: _Entry) -> Chain:
    decimals = entry.integer("decimals", low=0, high=36) if entry.has("decimals") else 18
    return Chain(
        chain_id=entry.integer("id", low=1, high=_CHAIN_ID_MAX),
        name=entry.text("name"),
        native_symbol=entry.text("symbol"),
        native_decimals=decimals,
    )


def _token(entry: _Entry) -> Token:
    return Token(
        chain_id=entry.integer("chain", low=1, high=_CHAIN_ID_MAX),
        address=entry.address("address"),
        symbol=entry.text("symbol"),
        decimals=entry.integer("decimals", low=0, high=36),
        name=entry.text("name") if entry.has("name") else "",
    )


def _safe(entry: _Entry) -> SafeDeployment:
    return SafeDeployment(
        chain_id=entry.integer("chain", low=1, high=_CHAIN_ID_MAX),
        version=entry.text("version"),
        multisend_call_only=entry.address("multisend_call_only"),
        multisend=entry.address("multisend") if entry.has("multisend") else None,
        sign_message_lib=(
            entry.address("sign_message_lib") if entry.has("sign_message_lib") else None
        ),
    )


def _label(entry: _Entry) -> AddressLabel:
    chain = entry.integer("chain", low=1, high=_CHAIN_ID_MAX) if entry.has("chain") else None
    return AddressLabel(address=entry.address("address"), label=entry.text("label"), chain_id=chain)
