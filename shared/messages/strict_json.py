"""A strict JSON reader for untrusted documents: size and depth checked first, no floats or dups."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TypeAlias

from shared.errors import DecodeError

# JSON tokens that matter for nesting: whole strings (skipped, brackets inside do not count)
# and the four brackets. On text json.loads accepts this tokenises exactly as JSON does.
_NESTING_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
# The longest integer literal kept: uint256 needs 78 digits; longer literals are refused at
# their path instead of being converted (int() of thousands of digits is slow, then raises).
_MAX_INT_LITERAL = 80
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")


@dataclass(frozen=True, slots=True)
class RefusedNumber:
    """A JSON number coldsign never accepts: a float, NaN/Infinity, or an over-long integer."""

    literal: str
    reason: str


JsonValue: TypeAlias = (
    dict[str, "JsonValue"] | list["JsonValue"] | str | int | bool | RefusedNumber | None
)


def child_path(path: str, key: str | int) -> str:
    """Extend a field path: ``message`` + ``to`` → ``message.to``; + 3 → ``message[3]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    shown = key if _IDENTIFIER.fullmatch(key) else json.dumps(key)
    if not path:
        return shown
    return f"{path}.{shown}"


def _depth(data: bytes) -> int:
    depth = deepest = 0
    for match in _NESTING_TOKENS.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def load_strict_json(
    data: bytes, *, max_bytes: int, max_depth: int, error: type[DecodeError]
) -> JsonValue:
    """Parse UTF-8 JSON ``data`` or raise ``error`` naming the field path.

    Refused: more than ``max_bytes`` bytes or ``max_depth`` nesting levels (both checked
    before parsing), invalid UTF-8, a byte-order mark, duplicate object keys, floats,
    NaN/Infinity, integer literals over 80 characters, trailing data.
    """
    if len(data) > max_bytes:
        raise error("json", f"document is {len(data)} bytes, the limit is {max_bytes}")
    deepest = _depth(data)
    if deepest > max_depth:
        raise error("json", f"nesting depth {deepest} exceeds the limit of {max_depth}")
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise error("json", "not valid UTF-8", offset=exc.start) from exc
    try:
        value: JsonValue = json.loads(
            text,
            object_pairs_hook=lambda pairs: _object(pairs, error),
            parse_float=lambda literal: RefusedNumber(literal, "floating-point numbers"),
            parse_int=_integer,
            parse_constant=lambda literal: RefusedNumber(literal, "NaN and Infinity"),
        )
    except json.JSONDecodeError as exc:
        raise error("json", exc.msg, offset=len(text[: exc.pos].encode("utf-8"))) from exc
    except RecursionError as exc:
        raise error("json", "nesting too deep") from exc
    _refuse_numbers(value, "", error)
    return value


def _object(pairs: list[tuple[str, JsonValue]], error: type[DecodeError]) -> JsonValue:
    result: dict[str, JsonValue] = {}
    for key, value in pairs:
        if key in result:
            raise error("json", f"duplicate key {json.dumps(key)}")
        result[key] = value
    return result


def _integer(literal: str) -> int | RefusedNumber:
    if len(literal) > _MAX_INT_LITERAL:
        return RefusedNumber(literal, "integer literals longer than 80 characters")
    return int(literal)


def _refuse_numbers(value: JsonValue, path: str, error: type[DecodeError]) -> None:
    # Recursion is bounded: the depth was checked before parsing.
    if isinstance(value, RefusedNumber):
        raise error(path or "json", f"{value.reason} are not allowed")
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_numbers(item, child_path(path, key), error)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_numbers(item, child_path(path, index), error)
