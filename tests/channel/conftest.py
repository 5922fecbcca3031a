"""Fixtures for the channel tests: the two stand-in messages, and degrade.py on the import path."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

# degrade.py (test support) sits beside these tests; importlib mode does not put it on the path.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from shared.cbor import encode
from shared.ur import UR


def message(size: int, seed: int) -> UR:
    """A ``bytes`` UR whose CBOR is ``size`` bytes long, deterministic in ``seed``."""
    # A CBOR byte string of n >= 256 bytes has a 3-byte head (RFC 8949 §3.1, argument 25).
    body = random.Random(seed).randbytes(size - 3)
    return UR("bytes", encode(body))


@pytest.fixture(scope="session")
def batch_request() -> UR:
    """~40 KB: stand-in for a 100-withdrawal batch sign request."""
    return message(40_000, seed=100)


@pytest.fixture(scope="session")
def batch_signatures() -> UR:
    """~7 KB: stand-in for 100 signatures coming back."""
    return message(7_000, seed=7)
