"""Function selectors: the first four bytes of keccak256 of a canonical signature."""

from __future__ import annotations

from collections.abc import Sequence

from shared.abi.types import AbiType, parse_signature
from shared.keccak import keccak256

SELECTOR_LENGTH = 4


def canonical_signature(name: str, types: Sequence[AbiType]) -> str:
    """``name(T1,T2,...)`` with each type in its canonical spelling."""
    return name + "(" + ",".join(t.canonical() for t in types) + ")"


def function_selector(signature: str) -> bytes:
    """Solidity ABI spec: ``bytes4(keccak256(signature))`` of the canonical signature.

    The text must already be canonical (``uint256`` not ``uint``, no spaces or names):
    hashing any other spelling gives a selector no contract has, so it is refused with
    :class:`ValueError`.
    """
    name, types = parse_signature(signature)
    if canonical_signature(name, types) != signature:
        raise ValueError(f"signature is not canonical: {signature!r}")
    return keccak256(signature.encode("ascii"))[:SELECTOR_LENGTH]
