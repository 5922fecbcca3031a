"""Loads the project's JSON test vectors (tests/vectors/*.json); every block names its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).parent / "vectors"


def load_vectors(name: str) -> dict[str, Any]:
    """Return the vector file ``tests/vectors/NAME.json``, checking every block names a source."""
    data: dict[str, Any] = json.loads((VECTORS_DIR / f"{name}.json").read_text())
    for key, block in data.items():
        if key.startswith("_"):
            continue
        _require_source(f"{name}.{key}", block)
    return data


def _require_source(where: str, block: Any) -> None:
    if isinstance(block, dict) and "source" not in block:
        # A group of blocks: each child must name its source.
        for key, child in block.items():
            if not isinstance(child, dict) or "source" not in child:
                raise AssertionError(f"vector block {where}.{key} names no source")
