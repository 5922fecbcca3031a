"""watcher.toml: every mistake named by its key; --rpc overrides; the home's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from watcher.config import load_config, override_rpc, parse_config
from watcher.errors import ConfigError
from watcher.home import resolve_home

GOOD = {
    "chains": {"main": {"chain_id": 1, "rpc": "https://node.example", "confirmations": 3}},
    "fees": {"percentile": 60, "max_fee_per_gas_cap": 10**11},
    "tokens": [
        {"chain": "main", "address": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "symbol": "USDC"}
    ],
    "operator": {"key_file": "operator.key"},
}


def _with(path: tuple[str, ...], value: object) -> dict[str, object]:
    document: dict[str, object] = {
        "chains": {"main": dict(GOOD["chains"]["main"])},  # type: ignore[index]
        "fees": dict(GOOD["fees"]),  # type: ignore[arg-type]
        "tokens": [dict(GOOD["tokens"][0])],  # type: ignore[index]
    }
    target: object = document
    for key in path[:-1]:
        target = target[key]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    return document


def test_a_good_file_is_read(tmp_path: Path) -> None:
    config = parse_config(GOOD, base=tmp_path)
    chain = config.chain("main")
    assert chain is not None and chain is config.chain("1")
    assert (chain.chain_id, chain.confirmations, chain.native_symbol) == (1, 3, "ETH")
    assert config.fees.percentile == 60
    assert config.operator_key == tmp_path / "operator.key"
    assert [t.symbol for t in config.tokens_on(chain)] == ["USDC"]


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("chains", "main", "chain_id"), 0, "chains.main.chain_id"),
        (("chains", "main", "chain_id"), "1", "chains.main.chain_id"),
        (("chains", "main", "rpc"), "ftp://node", "chains.main.rpc"),
        (("chains", "main", "confirmations"), 0, "chains.main.confirmations"),
        (("chains", "main", "colour"), "red", "chains.main.colour"),
        (
            ("chains", "main", "source"),
            "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB4",
            "chains.main.source",
        ),
        (("fees", "percentile"), 101, "fees.percentile"),
        (("fees", "bump_percent"), 5, "fees.bump_percent"),
        (("fees", "cap"), 1, "fees.cap"),
        (("fees", "gas_margin_percent"), True, "fees.gas_margin_percent"),
        (("tokens",), {"a": 1}, "tokens"),
        (("tokens", 0, "chain"), "other", "tokens[0].chain"),
        (
            ("tokens", 0, "address"),
            "0xa0B86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
            "tokens[0].address",
        ),
        (("requests",), {"max_batch": 0}, "requests.max_batch"),
        (("extra",), 1, "extra"),
        (("chains",), {}, "chains"),
    ],
)
def test_every_mistake_names_its_key(path: tuple[str, ...], value: object, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_with(path, value), base=Path())
    assert caught.value.where == where


def test_an_unreadable_or_invalid_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "watcher.toml"
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)
    path.write_text("[chains\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_rpc_overrides() -> None:
    config = parse_config(GOOD, base=Path())
    assert override_rpc(config, "http://127.0.0.1:1").chains[0].rpc_url == "http://127.0.0.1:1"
    assert override_rpc(config, "main=http://x:2").chains[0].rpc_url == "http://x:2"
    with pytest.raises(ConfigError, match="no chain named 'other'"):
        override_rpc(config, "other=http://x:2")
    with pytest.raises(ConfigError, match="not an http"):
        override_rpc(config, "ws://x")
    two = parse_config(
        {
            "chains": {
                "a": {"chain_id": 1, "rpc": "http://a"},
                "b": {"chain_id": 2, "rpc": "http://b"},
            }
        },
        base=Path(),
    )
    with pytest.raises(ConfigError, match="use --rpc NAME=URL"):
        override_rpc(two, "http://x")


def test_two_chains_with_one_id_are_refused() -> None:
    with pytest.raises(ConfigError, match="same chain_id"):
        parse_config(
            {
                "chains": {
                    "a": {"chain_id": 1, "rpc": "http://a"},
                    "b": {"chain_id": 1, "rpc": "http://b"},
                }
            },
            base=Path(),
        )


def test_the_home_comes_from_the_flag_then_the_environment(tmp_path: Path) -> None:
    assert resolve_home(str(tmp_path), {}).root == tmp_path
    assert resolve_home(None, {"COLDSIGN_WATCHER_HOME": str(tmp_path)}).root == tmp_path
    assert resolve_home(None, {}).root.name == "watcher"
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_home(str(tmp_path / "missing"), {}).check()
    with pytest.raises(ConfigError, match=r"no watcher\.toml"):
        resolve_home(str(tmp_path), {}).check()
