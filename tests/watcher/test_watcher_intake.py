"""Intake parsing: exact decimal amounts (never floats), CSV / JSON Lines rows with line numbers."""

from __future__ import annotations

import contextlib
from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watcher.errors import IntakeError
from watcher.intake import parse_amount, parse_csv, parse_jsonl


@given(value=st.integers(1, 2**200), decimals=st.integers(0, 36))
def test_amount_text_round_trips_exactly(value: int, decimals: int) -> None:
    whole, fraction = divmod(value, 10**decimals)
    text = str(whole) if decimals == 0 else f"{whole}.{fraction:0{decimals}d}"
    assert parse_amount(text, decimals) == value
    # Trailing zeros trimmed, the same amount.
    if decimals and fraction:
        assert parse_amount(text.rstrip("0"), decimals) == value


@given(text=st.text(max_size=40), decimals=st.integers(0, 36))
def test_any_text_is_an_amount_or_a_value_error(text: str, decimals: int) -> None:
    try:
        value = parse_amount(text, decimals)
    except ValueError:
        return
    # Whatever is accepted is exactly what Decimal reads, scaled: no float anywhere. (Decimal's
    # default context rounds at 28 digits; the oracle needs room for every digit of the text.)
    with localcontext() as exact:
        exact.prec = 200
        assert value == int(Decimal(text) * 10**decimals)
    assert value > 0


@pytest.mark.parametrize(
    ("text", "decimals", "says"),
    [
        ("-1", 18, "negative"),
        ("1.0000001", 6, "7 decimal places; this asset has 6"),
        ("1.5", 0, "1 decimal places; this asset has 0"),
        ("0.000", 3, "more than zero"),
        ("1e3", 18, "not a plain decimal"),
        ("+1", 18, "not a plain decimal"),
        (".5", 18, "not a plain decimal"),
        ("5.", 18, "not a plain decimal"),
        ("1_000", 18, "not a plain decimal"),
        ("\u0661", 0, "not a plain decimal"),
        ("9" * 101, 0, "longer than 100"),
        ("9" * 80, 0, "256 bits"),
    ],
)
def test_amounts_refused_with_a_reason(text: str, decimals: int, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_amount(text, decimals)


def test_csv_rows_keep_their_file_line_numbers() -> None:
    text = 'id,chain,asset,destination,amount\n\na,1,ETH,0x1,1\n"b\nc",1,ETH,0x1,2\nd,1,ETH,0x1,3\n'
    rows = parse_csv(text)
    assert [(row.line, row.fields["id"]) for row in rows] == [(3, "a"), (5, "b\nc"), (6, "d")]


@pytest.mark.parametrize(
    ("text", "line", "field", "says"),
    [
        ("", 1, None, "empty"),
        ("id,chain,asset,destination\n", 1, "header", "missing column 'amount'"),
        ("id,chain,asset,destination,amount,fee\n", 1, "header", "unknown column 'fee'"),
        ("id,id,chain,asset,destination,amount\n", 1, "header", "named twice"),
        ("id,chain,asset,destination,amount\na,b\n", 2, None, "expected 5 columns, got 2"),
        ('id,chain,asset,destination,amount\na,"b"c,d,e,f\n', 2, None, "malformed CSV"),
    ],
)
def test_bad_csv(text: str, line: int, field: str | None, says: str) -> None:
    with pytest.raises(IntakeError, match=says) as caught:
        parse_csv(text)
    assert (caught.value.line, caught.value.field) == (line, field)


@given(st.text(max_size=300))
def test_any_csv_text_parses_or_raises_intake_error(text: str) -> None:
    with contextlib.suppress(IntakeError):
        parse_csv(text)


@given(st.text(max_size=300))
def test_any_json_lines_text_parses_or_raises_intake_error(text: str) -> None:
    with contextlib.suppress(IntakeError):
        parse_jsonl(text)


def test_json_lines_need_strings_and_known_keys() -> None:
    good = '{"id": "a", "chain": "1", "asset": "ETH", "destination": "0x1", "amount": "1"}'
    assert parse_jsonl(good + "\n\n" + good)[1].line == 3
    with pytest.raises(IntakeError) as caught:
        parse_jsonl(good.replace('"1"}', "1.5}"))
    assert (caught.value.line, caught.value.field) == (1, "amount")
