"""Watcher test fixtures: one anvil per session, a snapshot per test, a watcher home, test keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from anvil import MNEMONIC, Anvil, running_anvil
from watcherlab import ACCOUNT_PATH, Lab, TestKeys

from signer.keys.bip32 import DerivationPath, master_key
from signer.keys.bip39 import SecretMnemonic


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
def keys() -> TestKeys:
    mnemonic = SecretMnemonic.from_phrase(MNEMONIC)
    master = master_key(mnemonic.seed())
    return TestKeys(master, master.derive(DerivationPath.parse(ACCOUNT_PATH)))


@pytest.fixture
def lab(tmp_path: Path, chain: Anvil, keys: TestKeys) -> Lab:
    return Lab(tmp_path / "home", chain, keys)
