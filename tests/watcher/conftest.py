"""Watcher test fixtures: one anvil per session, a snapshot per test, a watcher home, test keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anvil import Anvil, running_anvil
from watcherlab import DevKeys, Lab, dev_keys


@pytest.fixture(scope="session")
def anvil_node() -> Iterator[Anvil]:
    """The session's one anvil."""
    with running_anvil() as node:
        yield node


@pytest.fixture
def chain(anvil_node: Anvil) -> Iterator[Anvil]:
    """anvil, reverted to where it was after the test."""
    snapshot = anvil_node.snapshot()
    try:
        yield anvil_node
    finally:
        anvil_node.revert(snapshot)


@pytest.fixture(scope="session")
def keys() -> DevKeys:
    """anvil's dev mnemonic as BIP-32 keys."""
    return dev_keys()


@pytest.fixture
def lab(tmp_path: Path, chain: Anvil, keys: DevKeys) -> Lab:
    return Lab(tmp_path / "home", chain, keys)
