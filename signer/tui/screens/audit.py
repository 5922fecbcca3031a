"""The audit log viewer: every entry, newest first, and the result of verifying the chain."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from signer.audit import AuditEntry, VerifyReport
from signer.errors import AuditError, AuditTamperedError
from signer.tui.untrusted import untrusted

# Entries listed at most; the verification still reads every one.
MAX_LISTED = 2000
SUMMARY_CHARS = 160


class AuditReader(Protocol):
    """What the viewer reads: the log's entries in order, and a full verification."""

    def entries(self) -> Iterator[AuditEntry]:
        """Every entry in order, each checked against the chain before it."""
        ...

    def verify(self) -> VerifyReport:
        """Verify the whole log; raises ``AuditTamperedError`` naming the first bad entry."""
        ...


def utc(seconds: int) -> str:
    """``2026-11-24 04:12:05Z``."""
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))


def field_value(value: object) -> str:
    """A field as compact JSON (strings without quotes)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), default=_thawed)


def _thawed(value: object) -> object:
    # Entries are deep-frozen: tuples dump as lists already, read-only mappings do not.
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def summary(entry: AuditEntry) -> Text:
    """``key=value`` pairs of an entry, shortened to one line."""
    line = "  ".join(f"{k}={field_value(v)}" for k, v in sorted(entry.fields.items()))
    if len(line) > SUMMARY_CHARS:
        line = line[: SUMMARY_CHARS - 1] + "…"
    return untrusted(line)


def decision_summary(entry: AuditEntry) -> Text:
    """``signed  item 1 of 3  transaction on chain 1  request 7316b012-…`` from a decision."""
    fields = entry.fields
    decision = fields.get("decision")
    if not isinstance(decision, str):
        return summary(entry)
    text = Text.assemble((decision, "bold green" if decision == "signed" else "bold red"))
    request = fields.get("request")
    if isinstance(request, Mapping):
        text.append(f"  item {request.get('item')} of {request.get('items')}")
    review = fields.get("review")
    if isinstance(review, Mapping):
        text.append("  ")
        text.append_text(untrusted(str(review.get("kind"))))
        if review.get("chain_id") is not None:
            text.append(f" on chain {review.get('chain_id')}")
    if isinstance(request, Mapping) and isinstance(request.get("id"), str):
        text.append("  request ", style="dim")
        text.append_text(untrusted(str(request.get("id")), style="dim"))
    reasons = fields.get("reasons")
    if decision != "signed" and isinstance(reasons, tuple) and reasons:
        text.append("\n      ")
        text.append_text(untrusted(str(reasons[0]), style="red"))
    return text


def detail(entry: AuditEntry) -> Text:
    """Every field of an entry on its own line, with its hash and the one before it."""
    text = Text()
    text.append(f"Entry {entry.seq}  {entry.kind}  {utc(entry.time)}\n", style="bold")
    text.append(f"hash {entry.entry_hash.hex()}\nprev {entry.prev.hex()}\n", style="dim")
    for key, value in sorted(entry.fields.items()):
        text.append(f"{key}: ", style="bold")
        text.append_text(untrusted(field_value(value)))
        text.append("\n")
    return text


class AuditScreen(Screen[None]):
    """Lists the audit log (newest first) and verifies its hash chain in a thread worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("v", "verify", "Verify again"),
        Binding("f1", "app.help", "Help"),
    ]

    def __init__(self, reader: AuditReader) -> None:
        super().__init__()
        self._reader = reader
        self._entries: dict[int, AuditEntry] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text("Verifying the audit log…", style="bold"), id="audit-status")
        table: DataTable[Text | str] = DataTable(id="audit-table", cursor_type="row")
        table.add_columns("#", "time (UTC)", "kind", "fields")
        yield table
        yield Static("", id="audit-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.action_verify()

    def action_verify(self) -> None:
        """Read and verify the log again."""
        self.query_one("#audit-status", Static).update(
            Text("Verifying the audit log…", style="bold")
        )
        self._load()

    @work(thread=True, exclusive=True, group="audit")
    def _load(self) -> None:
        entries: list[AuditEntry] = []
        problem: str | None = None
        report: VerifyReport | None = None
        try:
            for entry in self._reader.entries():
                entries.append(entry)
                if len(entries) > MAX_LISTED:
                    entries.pop(0)
            report = self._reader.verify()
        except AuditTamperedError as exc:
            problem = f"TAMPERED: {exc}"
        except AuditError as exc:
            problem = f"Cannot read the audit log: {exc}"
        self.app.call_from_thread(self._show, entries, report, problem)

    def _show(
        self, entries: list[AuditEntry], report: VerifyReport | None, problem: str | None
    ) -> None:
        status = self.query_one("#audit-status", Static)
        if problem is not None:
            status.update(untrusted(problem, style="bold white on red"))
        elif report is not None:
            status.update(verified_text(report))
        table: DataTable[Text | str] = self.query_one("#audit-table", DataTable)
        table.clear()
        self._entries = {entry.seq: entry for entry in entries}
        for entry in reversed(entries):
            table.add_row(
                str(entry.seq),
                utc(entry.time),
                entry.kind,
                decision_summary(entry),
                key=str(entry.seq),
            )
        if entries:
            self.query_one("#audit-detail", Static).update(detail(entries[-1]))

    @on(DataTable.RowHighlighted, "#audit-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show every field of the highlighted entry."""
        key = event.row_key.value
        entry = self._entries.get(int(key)) if key is not None else None
        if entry is not None:
            self.query_one("#audit-detail", Static).update(detail(entry))


def verified_text(report: VerifyReport) -> Text:
    """``Verified: 42 entries, head #41 3f9a…, 2026-11-20 … to …``."""
    text = Text.assemble(("Verified", "bold green"))
    text.append(
        f": {report.entries} entries, head #{report.head_seq} {report.head_hash.hex()[:16]}…, "
        f"{utc(report.first_time)} to {utc(report.last_time)}"
    )
    if report.head_lagging:
        text.append(" (head record was one entry behind)", style="yellow")
    return text
