"""End-to-end fixtures: the session's anvil (tests/anvil.py), reverted after each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from anvil import Anvil, running_anvil
from watcherlab import DevKeys, dev_keys


@pytest.fixture(scope="session")
def e2e_anvil() -> Iterator[Anvil]:
    """One anvil for the end-to-end tests."""
    with running_anvil() as node:
        yield node


@pytest.fixture
def e2e_chain(e2e_anvil: Anvil) -> Iterator[Anvil]:
    """anvil, reverted to where it was after the test."""
    snapshot = e2e_anvil.snapshot()
    try:
        yield e2e_anvil
    finally:
        e2e_anvil.revert(snapshot)


@pytest.fixture(scope="session")
def keys() -> DevKeys:
    """anvil's dev mnemonic as BIP-32 keys (the same seed the signer vault imports)."""
    return dev_keys()
