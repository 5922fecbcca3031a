"""``safes.toml`` in the watcher home: the Safes this watcher proposes payouts for.

    [[safe]]
    name = "treasury"                 # how commands and withdrawal files name it
    chain = "mainnet"                 # a chain of watcher.toml
    address = "0x..."                 # the Safe (proxy)
    executor = "0x..."                # a paired account that sends execTransaction
    multisend_call_only = "0x..."     # optional: default from the shipped registry

Kept apart from ``watcher.toml`` so a Safe can be added without touching the hot path's
configuration. The MultiSendCallOnly default is the Safe deployment coldsign ships for the
chain and the Safe's ``VERSION()`` (safe-global/safe-deployments).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.address import Address, parse_address
from shared.errors import AddressError
from shared.messages import SafeVersion
from shared.registry import default_registries
from watcher.config import WatcherConfig
from watcher.safe.errors import SafeConfigError

CONFIG_NAME = "safes.toml"
_KEYS = {"name", "chain", "address", "executor", "multisend_call_only"}


@dataclass(frozen=True, slots=True)
class SafeConfig:
    """One Safe the watcher serves."""

    name: str
    chain: str
    chain_id: int
    address: Address
    executor: Address | None
    multisend_call_only: Address | None

    def call_only_for(self, version: SafeVersion) -> Address:
        """The MultiSendCallOnly to batch through: configured, or shipped for ``version``."""
        if self.multisend_call_only is not None:
            return self.multisend_call_only
        release = f"{version.major}.{version.minor}.{version.patch}"
        for deployment in default_registries().safe_deployments:
            if deployment.chain_id == self.chain_id and deployment.version == release:
                return deployment.multisend_call_only
        raise SafeConfigError(
            f"safe {self.name}.multisend_call_only",
            f"no shipped Safe {release} deployment on chain {self.chain_id}: configure one",
        )


def load_safes(home: Path, config: WatcherConfig) -> tuple[SafeConfig, ...]:
    """Read ``safes.toml`` from the watcher home; no file means no Safes."""
    path = home / CONFIG_NAME
    if not path.exists():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SafeConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise SafeConfigError(str(path), "not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SafeConfigError(str(path), f"not valid TOML: {exc}") from exc
    return parse_safes(data, config)


def parse_safes(data: dict[str, Any], config: WatcherConfig) -> tuple[SafeConfig, ...]:
    """Validate a decoded ``safes.toml`` against the watcher's chains."""
    unknown = sorted(set(data) - {"safe"})
    if unknown:
        raise SafeConfigError(unknown[0], "unknown key")
    tables = data.get("safe", [])
    if not isinstance(tables, list):
        raise SafeConfigError("safe", "must be an array of tables ([[safe]])")
    safes = tuple(_safe(i, table, config) for i, table in enumerate(tables))
    names = [s.name for s in safes]
    if len(set(names)) != len(names):
        raise SafeConfigError("safe", "two Safes have the same name")
    keys = [(s.chain_id, s.address) for s in safes]
    if len(set(keys)) != len(keys):
        raise SafeConfigError("safe", "a Safe is listed twice")
    return safes


def find_safe(safes: tuple[SafeConfig, ...], name: str | None) -> SafeConfig:
    """The Safe called ``name``, or the only one when ``name`` is None."""
    if name is None:
        if len(safes) != 1:
            raise SafeConfigError("--safe", f"{len(safes)} Safes are configured: name one")
        return safes[0]
    for safe in safes:
        if safe.name == name:
            return safe
    raise SafeConfigError("--safe", f"no Safe named {name!r} in {CONFIG_NAME}")


def _safe(index: int, table: object, config: WatcherConfig) -> SafeConfig:
    where = f"safe[{index}]"
    if not isinstance(table, dict):
        raise SafeConfigError(where, "must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise SafeConfigError(f"{where}.{unknown[0]}", "unknown key")
    name = _text(table, "name", where)
    if not all(c.isalnum() or c in "-_" for c in name):
        raise SafeConfigError(f"{where}.name", "letters, digits, - and _ only")
    chain_name = _text(table, "chain", where)
    chain = config.chain(chain_name)
    if chain is None:
        raise SafeConfigError(f"{where}.chain", f"no chain {chain_name!r} in watcher.toml")
    return SafeConfig(
        name=name,
        chain=chain.name,
        chain_id=chain.chain_id,
        address=_address(table, "address", where),
        executor=_address(table, "executor", where) if "executor" in table else None,
        multisend_call_only=(
            _address(table, "multisend_call_only", where)
            if "multisend_call_only" in table
            else None
        ),
    )


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise SafeConfigError(f"{where}.{key}", "must be a non-empty string")
    return value


def _address(table: dict[str, Any], key: str, where: str) -> Address:
    text = _text(table, key, where)
    try:
        return parse_address(text, field=f"{where}.{key}")
    except AddressError as exc:
        raise SafeConfigError(f"{where}.{key}", exc.reason) from exc
