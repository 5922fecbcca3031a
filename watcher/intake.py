"""Withdrawal intake: a CSV or JSON Lines file checked row by row, then stored in one transaction.

Columns: ``id, chain, asset, destination, amount[, memo]``. The id is the idempotency key:
a row whose id is already stored with the same fields is skipped, with other fields it is
refused. Amounts are decimal strings converted to base units with the token's
``decimals()`` read from the chain; they never pass through a float. The first bad row
refuses the whole file and nothing is stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shared.address import Address, is_checksummed, parse_address
from shared.errors import AddressError
from watcher import erc20, jsontext
from watcher.config import ChainConfig, WatcherConfig
from watcher.errors import IntakeError, RPCError
from watcher.rpc import Node
from watcher.state import Store, Withdrawal, addr_text

COLUMNS = ("id", "chain", "asset", "destination", "amount", "memo")
REQUIRED = COLUMNS[:5]
NATIVE = "native"
MAX_ROWS = 100_000
MAX_FILE_BYTES = 64 << 20
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
# Plain decimal: digits, optionally a point and more digits. No sign, exponent or spaces.
_AMOUNT = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_MAX_AMOUNT_CHARS = 100
_MAX_MEMO = 256
_UINT256 = 2**256


@dataclass(frozen=True, slots=True)
class Row:
    """One row as text, with its 1-based line number in the file."""

    line: int
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What one file did: withdrawals added, identical ones skipped, warnings to show."""

    added: tuple[str, ...]
    skipped: tuple[str, ...]
    warnings: tuple[str, ...]


def read_rows(path: Path) -> tuple[Row, ...]:
    """Rows of a ``.csv`` or ``.jsonl`` / ``.ndjson`` file (by extension)."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise IntakeError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise IntakeError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise IntakeError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return parse_csv(text)
    if suffix in (".jsonl", ".ndjson"):
        return parse_jsonl(text)
    raise IntakeError(f"{path}: expected a .csv or .jsonl file")


def parse_csv(text: str) -> tuple[Row, ...]:
    """CSV with a header naming the columns (any order; ``memo`` optional)."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True)
    rows: list[Row] = []
    try:
        header = next(reader, None)
        if header is None:
            raise IntakeError("the file is empty: expected a header line", line=1)
        names = [name.strip() for name in header]
        _check_header(names)
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(names):
                raise IntakeError(f"expected {len(names)} columns, got {len(record)}", line=line)
            rows.append(Row(line, dict(zip(names, record, strict=True))))
            if len(rows) > MAX_ROWS:
                raise IntakeError(f"more than {MAX_ROWS} rows", line=line)
    except csv.Error as exc:
        raise IntakeError(f"malformed CSV: {exc}", line=reader.line_num) from exc
    return tuple(rows)


def _check_header(names: list[str]) -> None:
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        raise IntakeError(f"unknown column {unknown[0]!r}", line=1, field="header")
    if len(set(names)) != len(names):
        raise IntakeError("a column is named twice", line=1, field="header")
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise IntakeError(f"missing column {missing[0]!r}", line=1, field="header")


def parse_jsonl(text: str) -> tuple[Row, ...]:
    """One JSON object per line; every value a string (amounts too: JSON numbers are floats)."""
    rows: list[Row] = []
    for line, raw in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = jsontext.loads(raw, object_pairs_hook=_no_duplicate_keys)
        except (ValueError, RecursionError) as exc:
            raise IntakeError(f"not a JSON object: {exc}", line=line) from exc
        if not isinstance(value, dict):
            raise IntakeError("expected a JSON object", line=line)
        for key, item in value.items():
            if key not in COLUMNS:
                raise IntakeError("unknown key", line=line, field=key)
            if not isinstance(item, str):
                raise IntakeError(
                    "must be a string (amounts are decimal strings, never JSON numbers)",
                    line=line,
                    field=key,
                )
        for key in REQUIRED:
            if key not in value:
                raise IntakeError("missing", line=line, field=key)
        rows.append(Row(line, value))
        if len(rows) > MAX_ROWS:
            raise IntakeError(f"more than {MAX_ROWS} rows", line=line)
    return tuple(rows)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result


def parse_amount(text: str, decimals: int) -> int:
    """A decimal string in whole units to base units, exactly; ValueError says why not."""
    if len(text) > _MAX_AMOUNT_CHARS:
        raise ValueError(f"longer than {_MAX_AMOUNT_CHARS} characters")
    if text.startswith("-"):
        raise ValueError("negative amounts are refused")
    match = _AMOUNT.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a plain decimal number such as 12.5")
    whole, fraction = match[1], match[2] or ""
    if len(fraction) > decimals:
        raise ValueError(f"{text} has {len(fraction)} decimal places; this asset has {decimals}")
    value = int(whole + fraction.ljust(decimals, "0"))
    if value == 0:
        raise ValueError("the amount must be more than zero")
    if value >= _UINT256:
        raise ValueError("does not fit in 256 bits")
    return value


class Intake:
    """Validates withdrawal files against the configuration and the chain, and stores them."""

    def __init__(
        self,
        config: WatcherConfig,
        store: Store,
        nodes: Callable[[ChainConfig], Node],
    ) -> None:
        self._config = config
        self._store = store
        self._nodes = nodes

    def run(self, rows: Sequence[Row], note: str) -> IntakeResult:
        """Check every row, then store all new withdrawals in one transaction (or none)."""
        warnings: list[str] = []
        fresh: list[Withdrawal] = []
        skipped: list[str] = []
        seen: dict[str, int] = {}
        decimals_found: dict[tuple[int, str], int] = {}
        for row in rows:
            withdrawal = self._row(row, warnings, decimals_found)
            if withdrawal.id in seen:
                raise IntakeError(
                    f"duplicate id {withdrawal.id!r} (first on line {seen[withdrawal.id]})",
                    line=row.line,
                    field="id",
                )
            seen[withdrawal.id] = row.line
            stored = self._store.withdrawal(withdrawal.id)
            if stored is None:
                fresh.append(withdrawal)
            elif _same(stored, withdrawal):
                skipped.append(withdrawal.id)
            else:
                raise IntakeError(
                    f"duplicate id {withdrawal.id!r}: already stored with other fields "
                    f"(status {stored.status})",
                    line=row.line,
                    field="id",
                )
        with self._store.transaction():
            for (chain_id, token), places in decimals_found.items():
                self._store.cache_decimals(chain_id, token, places)
            self._store.insert_withdrawals(fresh, note)
        return IntakeResult(tuple(w.id for w in fresh), tuple(skipped), tuple(warnings))

    def _row(
        self, row: Row, warnings: list[str], decimals_found: dict[tuple[int, str], int]
    ) -> Withdrawal:
        line = row.line
        fields = row.fields
        withdrawal_id = fields["id"].strip()
        if _ID.fullmatch(withdrawal_id) is None:
            raise IntakeError(
                "an id is 1 to 128 letters, digits and . _ : @ / - (starting with a letter "
                "or digit)",
                line=line,
                field="id",
            )
        chain = self._config.chain(fields["chain"].strip())
        if chain is None:
            raise IntakeError(
                f"unknown chain {fields['chain'].strip()!r}", line=line, field="chain"
            )
        asset, places = self._asset(chain, fields["asset"].strip(), line, decimals_found)
        destination = _destination(fields["destination"].strip(), line, warnings)
        amount_text = fields["amount"].strip()
        try:
            amount = parse_amount(amount_text, places)
        except ValueError as exc:
            raise IntakeError(str(exc), line=line, field="amount") from exc
        memo = fields.get("memo", "").strip()
        if len(memo) > _MAX_MEMO or not memo.isprintable():
            raise IntakeError(f"at most {_MAX_MEMO} printable characters", line=line, field="memo")
        return Withdrawal(
            withdrawal_id,
            chain.chain_id,
            asset,
            destination,
            amount,
            amount_text,
            memo,
            self._source(chain),
        )

    def _asset(
        self,
        chain: ChainConfig,
        text: str,
        line: int,
        decimals_found: dict[tuple[int, str], int],
    ) -> tuple[str, int]:
        if text == chain.native_symbol or text.lower() == NATIVE:
            return NATIVE, chain.native_decimals
        token_address: Address | None = None
        if text.startswith("0x"):
            try:
                token_address = parse_address(text, field="asset")
            except AddressError as exc:
                raise IntakeError(exc.reason, line=line, field="asset") from exc
        for token in self._config.tokens_on(chain):
            if token.address == token_address or token.symbol == text:
                key = addr_text(token.address)
                places = decimals_found.get((chain.chain_id, key))
                if places is None:
                    places = self._store.cached_decimals(chain.chain_id, key)
                if places is None:
                    try:
                        places = erc20.decimals(self._nodes(chain), token.address)
                    except RPCError as exc:
                        raise IntakeError(
                            f"cannot read decimals() of {token.address}: {exc}",
                            line=line,
                            field="asset",
                        ) from exc
                    decimals_found[(chain.chain_id, key)] = places
                return key, places
        raise IntakeError(
            f"unknown asset {text!r} on chain {chain.name}: use {chain.native_symbol} or a "
            "token listed in the configuration",
            line=line,
            field="asset",
        )

    def _source(self, chain: ChainConfig) -> Address:
        if chain.source is not None:
            if self._store.account(chain.source) is None:
                raise IntakeError(
                    f"chains.{chain.name}.source {chain.source} is not a paired account"
                )
            return chain.source
        accounts = self._store.accounts()
        if not accounts:
            raise IntakeError("no account is paired yet: run coldsign-watcher pair first")
        return accounts[0].address


def _destination(text: str, line: int, warnings: list[str]) -> Address:
    try:
        address = parse_address(text, field="destination")
    except AddressError as exc:
        raise IntakeError(exc.reason, line=line, field="destination") from exc
    if address.raw == bytes(20):
        raise IntakeError("the zero address burns what it receives", line=line, field="destination")
    if not is_checksummed(text):
        warnings.append(
            f"line {line}: destination {text} carries no EIP-55 checksum; "
            f"check it reads {address.checksummed()}"
        )
    return address


def _same(stored: Withdrawal, new: Withdrawal) -> bool:
    return (
        stored.chain_id,
        stored.asset,
        stored.destination,
        stored.amount,
        stored.memo,
    ) == (new.chain_id, new.asset, new.destination, new.amount, new.memo)
