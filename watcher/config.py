"""The watcher's TOML configuration: chains and their nodes, fee policy, tokens, operator key."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from shared.address import Address, parse_address
from shared.errors import AddressError
from watcher.errors import ConfigError

# A hundred withdrawals a batch keeps one animated QR transfer to seconds (design §9).
DEFAULT_MAX_BATCH = 100
# Bytes per UR fragment: a version-15-ish QR code in alphanumeric mode, readable by phones.
DEFAULT_FRAGMENT_LENGTH = 200
_MAX_CONFIRMATIONS = 10_000
_UINT256 = 2**256


@dataclass(frozen=True, slots=True)
class ChainConfig:
    """One chain: the node to ask, its native asset and how deep a receipt must be."""

    name: str
    chain_id: int
    rpc_url: str
    native_symbol: str = "ETH"
    native_decimals: int = 18
    confirmations: int = 12
    # The paired account that pays for this chain's withdrawals (default: the first paired).
    source: Address | None = None


@dataclass(frozen=True, slots=True)
class FeePolicy:
    """EIP-1559 fee and gas policy applied when building and bumping."""

    # eth_feeHistory reward percentile for the priority fee.
    percentile: int = 50
    history_blocks: int = 10
    max_fee_per_gas_cap: int = 500 * 10**9
    max_priority_fee_per_gas_cap: int = 5 * 10**9
    # eth_estimateGas result plus this many percent.
    gas_margin_percent: int = 20
    # A replacement must raise both fees by at least this much (geth's txpool wants 10 %).
    bump_percent: int = 15


@dataclass(frozen=True, slots=True)
class TokenConfig:
    """An ERC-20 token withdrawals may name; its decimals are read from the chain."""

    chain: str
    address: Address
    symbol: str


@dataclass(frozen=True, slots=True)
class WatcherConfig:
    """Everything in ``watcher.toml``."""

    chains: tuple[ChainConfig, ...]
    fees: FeePolicy = FeePolicy()
    tokens: tuple[TokenConfig, ...] = ()
    operator_key: Path | None = None
    max_batch: int = DEFAULT_MAX_BATCH
    max_fragment_length: int = DEFAULT_FRAGMENT_LENGTH

    def chain(self, key: str) -> ChainConfig | None:
        """The chain named ``key`` (its name, or its id in decimal), or None."""
        for chain in self.chains:
            if key in (chain.name, str(chain.chain_id)):
                return chain
        return None

    def chain_by_id(self, chain_id: int) -> ChainConfig:
        """The configured chain with this id (it must exist)."""
        for chain in self.chains:
            if chain.chain_id == chain_id:
                return chain
        raise ConfigError("chains", f"no chain with id {chain_id} is configured")

    def tokens_on(self, chain: ChainConfig) -> tuple[TokenConfig, ...]:
        """The tokens configured for ``chain``."""
        return tuple(token for token in self.tokens if token.chain == chain.name)


def load_config(path: Path) -> WatcherConfig:
    """Read and validate ``watcher.toml``; :class:`ConfigError` names the key that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    return parse_config(data, base=path.parent)


def parse_config(data: dict[str, Any], *, base: Path) -> WatcherConfig:
    """Validate a decoded TOML document; relative paths are taken from ``base``."""
    _only(data, "", {"chains", "fees", "tokens", "operator", "requests"})
    chains_table = _table(data.get("chains"), "chains")
    if not chains_table:
        raise ConfigError("chains", "configure at least one chain")
    chains = tuple(_chain(name, body) for name, body in chains_table.items())
    ids = [chain.chain_id for chain in chains]
    if len(set(ids)) != len(ids):
        raise ConfigError("chains", "two chains have the same chain_id")
    fees = _fees(_table(data.get("fees", {}), "fees"))
    raw_tokens = data.get("tokens", [])
    if not isinstance(raw_tokens, list):
        raise ConfigError("tokens", "must be an array of tables ([[tokens]])")
    tokens = tuple(_token(i, body, chains) for i, body in enumerate(raw_tokens))
    seen = {(token.chain, token.address) for token in tokens}
    if len(seen) != len(tokens):
        raise ConfigError("tokens", "a token is listed twice")
    operator = _table(data.get("operator", {}), "operator")
    _only(operator, "operator", {"key_file"})
    operator_key = None
    if "key_file" in operator:
        operator_key = base / _text(operator["key_file"], "operator.key_file")
    requests = _table(data.get("requests", {}), "requests")
    _only(requests, "requests", {"max_batch", "max_fragment_length"})
    max_batch = _int(requests.get("max_batch", DEFAULT_MAX_BATCH), "requests.max_batch", 1, 1000)
    fragment = _int(
        requests.get("max_fragment_length", DEFAULT_FRAGMENT_LENGTH),
        "requests.max_fragment_length",
        10,
        10_000,
    )
    return WatcherConfig(chains, fees, tokens, operator_key, max_batch, fragment)


def override_rpc(config: WatcherConfig, spec: str) -> WatcherConfig:
    """Apply ``--rpc URL`` (every chain, for a one-chain setup) or ``--rpc NAME=URL``."""
    name, sep, url = spec.partition("=")
    if not sep:
        if len(config.chains) != 1:
            raise ConfigError("--rpc", "several chains are configured: use --rpc NAME=URL")
        return replace(config, chains=(replace(config.chains[0], rpc_url=_url(spec, "--rpc")),))
    chain = config.chain(name)
    if chain is None:
        raise ConfigError("--rpc", f"no chain named {name!r} is configured")
    chains = tuple(
        replace(c, rpc_url=_url(url, "--rpc")) if c == chain else c for c in config.chains
    )
    return replace(config, chains=chains)


def _chain(name: str, body: object) -> ChainConfig:
    where = f"chains.{name}"
    table = _table(body, where)
    _only(
        table,
        where,
        {"chain_id", "rpc", "native_symbol", "native_decimals", "confirmations", "source"},
    )
    if not name or not all(c.isalnum() or c in "-_" for c in name) or name.isdigit():
        raise ConfigError(where, "a chain name is letters, digits, - and _ (not only digits)")
    chain_id = _int(_require(table, "chain_id", where), f"{where}.chain_id", 1, 2**64 - 1)
    rpc = _url(_text(_require(table, "rpc", where), f"{where}.rpc"), f"{where}.rpc")
    symbol = _text(table.get("native_symbol", "ETH"), f"{where}.native_symbol")
    decimals = _int(table.get("native_decimals", 18), f"{where}.native_decimals", 0, 36)
    confirmations = _int(
        table.get("confirmations", 12), f"{where}.confirmations", 1, _MAX_CONFIRMATIONS
    )
    source = None
    if "source" in table:
        source = _address(table["source"], f"{where}.source")
    return ChainConfig(name, chain_id, rpc, symbol, decimals, confirmations, source)


def _fees(table: dict[str, Any]) -> FeePolicy:
    defaults = FeePolicy()
    _only(table, "fees", set(FeePolicy.__dataclass_fields__))
    return FeePolicy(
        percentile=_int(table.get("percentile", defaults.percentile), "fees.percentile", 0, 100),
        history_blocks=_int(
            table.get("history_blocks", defaults.history_blocks), "fees.history_blocks", 1, 1024
        ),
        max_fee_per_gas_cap=_int(
            table.get("max_fee_per_gas_cap", defaults.max_fee_per_gas_cap),
            "fees.max_fee_per_gas_cap",
            1,
            _UINT256 - 1,
        ),
        max_priority_fee_per_gas_cap=_int(
            table.get("max_priority_fee_per_gas_cap", defaults.max_priority_fee_per_gas_cap),
            "fees.max_priority_fee_per_gas_cap",
            0,
            _UINT256 - 1,
        ),
        gas_margin_percent=_int(
            table.get("gas_margin_percent", defaults.gas_margin_percent),
            "fees.gas_margin_percent",
            0,
            1000,
        ),
        bump_percent=_int(
            table.get("bump_percent", defaults.bump_percent), "fees.bump_percent", 10, 1000
        ),
    )


def _token(index: int, body: object, chains: tuple[ChainConfig, ...]) -> TokenConfig:
    where = f"tokens[{index}]"
    table = _table(body, where)
    _only(table, where, {"chain", "address", "symbol"})
    chain = _text(_require(table, "chain", where), f"{where}.chain")
    if chain not in {c.name for c in chains}:
        raise ConfigError(f"{where}.chain", f"no chain named {chain!r} is configured")
    address = _address(_require(table, "address", where), f"{where}.address")
    symbol = _text(_require(table, "symbol", where), f"{where}.symbol")
    return TokenConfig(chain, address, symbol)


def _table(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(where, "must be a table")
    return value


def _only(table: dict[str, Any], where: str, allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise ConfigError(f"{prefix}{unknown[0]}", "unknown key")


def _require(table: dict[str, Any], key: str, where: str) -> object:
    if key not in table:
        raise ConfigError(f"{where}.{key}", "missing")
    return table[key]


def _int(value: object, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, "must be an integer")
    if not low <= value <= high:
        raise ConfigError(where, f"must be in [{low}, {high}], got {value}")
    return value


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(where, "must be a non-empty string")
    return value


def _url(value: str, where: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ConfigError(where, f"{value!r} is not an http:// or https:// URL")
    return value


def _address(value: object, where: str) -> Address:
    try:
        return parse_address(_text(value, where), field=where)
    except AddressError as exc:
        raise ConfigError(where, exc.reason) from exc
