"""An audit entry's fields: the checks that let most values through without a closer look refuse
exactly what the full checks refuse, and the body is the canonical JSON of what the entry holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import IntEnum, StrEnum
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from signer.audit.record import MAX_DEPTH, AuditKind, make_entry, parse_line
from signer.errors import AuditError

PREV = bytes(32)
HEX64 = "ab" * 32
MNEMONIC = " ".join(["abandon"] * 11 + ["about"])
XPRV = "xprv9s21ZrQH143K" + "a" * 95


def reference_body(fields: object, kind: str = "decision", time: int = 7) -> bytes:
    """The body as the format defines it: json.dumps with sorted keys, no spaces, ASCII."""
    return json.dumps(
        {"fields": fields, "kind": kind, "time": time},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        allow_nan=False,
    ).encode("ascii")


def thawed(value: object) -> object:
    if isinstance(value, Mapping):
        return {name: thawed(item) for name, item in value.items()}
    if isinstance(value, tuple):
        return [thawed(item) for item in value]
    return value


def assert_frozen(value: object) -> None:
    assert not isinstance(value, (dict, list))
    if isinstance(value, Mapping):
        assert isinstance(value, MappingProxyType)
        for item in value.values():
            assert_frozen(item)
    elif isinstance(value, tuple):
        for item in value:
            assert_frozen(item)


# Text that stays clear of the secret patterns (no run of hex long enough under a key's name is
# generated: names come from a fixed list without "key").
names = st.sampled_from(["a", "digest", "rules", "note", "request", "item", "spends", "ö"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**255), max_value=2**255)
    | st.text(max_size=120)
    | st.sampled_from([HEX64, "0x" + HEX64, "x" * 103, "x" * 104, "a b " * 30])
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(names, inner, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(names, values, max_size=6))
def test_the_body_is_the_canonical_json_of_the_frozen_fields(fields: dict[str, object]) -> None:
    try:
        entry = make_entry(1, PREV, AuditKind.DECISION, 7, fields)
    except AuditError as exc:
        # Only text the generators can make look like a secret may be refused.
        assert "looks like" in str(exc) or "not valid Unicode" in str(exc)
        return
    assert entry.body() == reference_body(fields)
    assert thawed(entry.fields) == thawed(fields)
    assert_frozen(entry.fields)
    assert parse_line(entry.line()) == entry


def test_changing_the_callers_fields_afterwards_changes_nothing() -> None:
    fields: dict[str, object] = {"request": {"item": 1}, "rules": ["a"]}
    entry = make_entry(1, PREV, AuditKind.DECISION, 7, fields)
    fields["request"]["item"] = 2  # type: ignore[index]
    fields["rules"].append("b")  # type: ignore[attr-defined]
    assert entry.fields["request"] == {"item": 1}
    assert entry.fields["rules"] == ("a",)
    assert entry.body() == reference_body({"request": {"item": 1}, "rules": ["a"]})


class Colour(StrEnum):
    RED = "red"


class Level(IntEnum):
    HIGH = 3


def test_str_and_int_subclasses_are_written_as_their_values() -> None:
    entry = make_entry(1, PREV, AuditKind.DECISION, 7, {"c": Colour.RED, "l": [Level.HIGH]})
    assert entry.body() == reference_body({"c": "red", "l": [3]})


@pytest.mark.parametrize(
    "fields",
    [
        {"signing_key": HEX64},
        {"signing_key": "0x" + HEX64},
        {"keys": {"first": HEX64}},
        {"keys": [["0x" + HEX64]]},
        {"note": XPRV},
        {"notes": ["ok", XPRV]},
        {"note": MNEMONIC},
        {"notes": [{"text": MNEMONIC}]},
        {"note": "\t" + MNEMONIC.replace(" ", "\n")},
    ],
    ids=[
        "hex-under-key",
        "0x-hex-under-key",
        "hex-nested-under-key",
        "hex-in-list-under-key",
        "xprv",
        "xprv-in-list",
        "mnemonic",
        "mnemonic-in-list-of-maps",
        "mnemonic-other-whitespace",
    ],
)
def test_every_secret_pattern_is_refused_wherever_it_sits(fields: dict[str, object]) -> None:
    with pytest.raises(AuditError, match="looks like"):
        make_entry(1, PREV, AuditKind.DECISION, 7, fields)


@pytest.mark.parametrize(
    "fields",
    [
        {"digest": HEX64},
        {"digests": [HEX64, "0x" + HEX64]},
        {"note": "x" * 103},
        {"rule": "destination[0] (line 15): Hot wallet may receive ETH (native coin on chain 1)"},
    ],
    ids=["hex-digest", "hex-digests-in-list", "long-word", "long-sentence"],
)
def test_digests_and_sentences_are_not_secrets(fields: dict[str, object]) -> None:
    assert make_entry(1, PREV, AuditKind.DECISION, 7, fields).body() == reference_body(fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"text": "\udc80"}, "fields.text is not valid Unicode"),
        ({"list": ["ok", "\ud800"]}, r"fields.list\[1\] is not valid Unicode"),
        ({"n": -(2**256)}, "fields.n is an integer beyond 256 bits"),
        ({"list": [2**256]}, r"fields.list\[0\] is an integer beyond 256 bits"),
        ({"\ud800": 1}, "key is not valid Unicode"),
        ({"a": {"seed": 1}}, r"fields.a.seed looks like a secret"),
        ({"a": [{"b": 1.0}]}, r"fields.a\[0\].b is a float"),
    ],
    ids=[
        "surrogate",
        "surrogate-in-list",
        "huge-negative",
        "huge-in-list",
        "surrogate-key",
        "secret-name",
        "float-in-list",
    ],
)
def test_a_refusal_names_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(AuditError, match=message):
        make_entry(1, PREV, AuditKind.DECISION, 7, fields)


def nested_maps(depth: int, leaf: object) -> dict[str, object]:
    value: object = leaf
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[return-value]


@pytest.mark.parametrize("leaf", [1, "x", None, True, HEX64], ids=repr)
def test_a_scalar_past_the_depth_limit_is_refused(leaf: object) -> None:
    make_entry(1, PREV, AuditKind.DECISION, 7, nested_maps(MAX_DEPTH, leaf))
    with pytest.raises(AuditError, match="nested deeper"):
        make_entry(1, PREV, AuditKind.DECISION, 7, nested_maps(MAX_DEPTH, [leaf]))
    with pytest.raises(AuditError, match="nested deeper"):
        make_entry(1, PREV, AuditKind.DECISION, 7, nested_maps(MAX_DEPTH + 1, leaf))


SAMPLE = make_entry(
    4,
    bytes(range(32)),
    AuditKind.DECISION,
    1_700_000_000,
    {
        "decision": "signed",
        "request": {"digest": HEX64, "item": 1, "path": "m/44'/60'/0'/0/0"},
        "rules": ["account[0] (line 11): account cold", "caf\u00e9"],
        "limits": {"spends": [{"amount": 10**18, "token": None}]},
        "acknowledged": False,
    },
).line()


@given(st.integers(min_value=0, max_value=len(SAMPLE) - 1), st.binary(min_size=0, max_size=3))
def test_a_mutated_line_is_read_canonically_or_refused(at: int, replacement: bytes) -> None:
    mutated = SAMPLE[:at] + replacement + SAMPLE[at + 1 :]
    try:
        entry = parse_line(mutated)
    except AuditError:
        return
    assert entry.line() == mutated
    assert_frozen(entry.fields)
