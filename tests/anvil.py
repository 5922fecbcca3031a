"""A real anvil node for tests: a free loopback port, a bounded readiness poll, always stopped.

The code lives in ``scripts/demo_chain.py`` (the demo starts the same node outside pytest);
this module puts it on the tests' import path under its old name.
"""

from __future__ import annotations

import sys
from pathlib import Path

_SCRIPTS = str(Path(__file__).resolve().parent.parent / "scripts")
if _SCRIPTS not in sys.path:
    sys.path.append(_SCRIPTS)

from demo_chain import (  # noqa: E402
    ANVIL,
    CHAIN_ID,
    MNEMONIC,
    ROOT,
    TOKEN_ARTIFACT,
    Anvil,
    AnvilError,
    deploy_token,
    free_port,
    running_anvil,
)

__all__ = [
    "ANVIL",
    "CHAIN_ID",
    "MNEMONIC",
    "ROOT",
    "TOKEN_ARTIFACT",
    "Anvil",
    "AnvilError",
    "deploy_token",
    "free_port",
    "running_anvil",
]
