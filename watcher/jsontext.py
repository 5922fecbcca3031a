"""JSON parsing with a nesting bound checked first, for node replies and withdrawal files.

``json.loads`` recurses in C and relies on the interpreter's recursion limit; a library
that raises that limit (some do, to 100,000) lets deeply nested input overflow the C stack
and kill the process. Untrusted JSON is therefore measured without recursion first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

MAX_DEPTH = 32
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting(text: str) -> int:
    """The deepest bracket nesting of JSON text, brackets inside strings skipped."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return text.count("[") + text.count("{")
    depth = deepest = 0
    for token in _TOKEN.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in ("]", "}"):
            depth -= 1
    return deepest


def loads(
    text: str,
    *,
    max_depth: int = MAX_DEPTH,
    object_pairs_hook: Callable[[list[tuple[str, object]]], object] | None = None,
) -> object:
    """``json.loads`` of untrusted text; ValueError when nested deeper than ``max_depth``."""
    if nesting(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    value: object = json.loads(text, object_pairs_hook=object_pairs_hook)
    return value
