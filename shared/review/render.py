"""Plain-text rendering of reviews, at most 100 columns, for the CLI and the headless signer.

Every field line ends with its provenance in brackets; values written by the requester are
tagged ``[request, unverified]``. Text is wrapped by display width (wide characters count
two columns), and every line, however long its value, fits the width.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from shared.address import Address
from shared.review.amounts import amount_text, group_thousands
from shared.review.model import (
    Asset,
    AssetTotal,
    BatchReview,
    Payment,
    Review,
    ReviewField,
    ReviewWarning,
)
from shared.review.warnings import explain

WIDTH = 100
_INDENT = "  "
_LABEL_WIDTH = 22
_VALUE_COLUMN = len(_INDENT) + _LABEL_WIDTH + 1
_TAB = "    "


def char_width(ch: str) -> int:
    """Columns a character takes in a terminal: 2 for wide East Asian, 0 for combining marks."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Columns ``text`` takes on one line."""
    return sum(char_width(ch) for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Split ``text`` into lines of at most ``width`` columns, at spaces where possible.

    Line breaks in ``text`` are kept, and a line's leading spaces repeat on its continuation
    lines; a word longer than a line is cut. Nothing is dropped except the spaces a line is
    broken at.
    """
    lines: list[str] = []
    for paragraph in text.replace("\t", _TAB).split("\n"):
        body = paragraph.lstrip(" ")
        indent = paragraph[: len(paragraph) - len(body)]
        if len(indent) >= width // 2:
            indent, body = "", paragraph
        lines.extend(indent + line for line in _wrap_paragraph(body, width - len(indent)))
    return lines


def _wrap_paragraph(paragraph: str, width: int) -> list[str]:
    lines: list[str] = []
    current, used = "", 0
    for word in paragraph.split(" "):
        size = text_width(word)
        gap = 1 if current else 0
        if used + gap + size <= width:
            current, used = current + " " * gap + word, used + gap + size
            continue
        if current:
            lines.append(current)
            current, used = "", 0
        while size > width:
            head, word = _cut(word, width)
            lines.append(head)
            size = text_width(word)
        current, used = word, size
    lines.append(current)
    return lines


def _cut(word: str, width: int) -> tuple[str, str]:
    used = 0
    for index, ch in enumerate(word):
        used += char_width(ch)
        if used > width:
            # Always make progress, even with a character wider than the line.
            index = max(index, 1)
            return word[:index], word[index:]
    return word, ""


class _Page:
    """Lines being written, each checked against :data:`WIDTH`."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        self.lines.extend(wrap(text, WIDTH))

    def block(self, first: str, text: str, *, indent: int) -> None:
        """``first`` then ``text`` wrapped to start at column ``indent`` on every line."""
        width = WIDTH - indent
        wrapped = wrap(text, width)
        if text_width(first) + 1 > indent:
            self.line(first)
            self.lines.extend(" " * indent + piece for piece in wrapped)
            return
        pad = " " * (indent - text_width(first))
        self.lines.append(first + pad + wrapped[0])
        self.lines.extend(" " * indent + piece for piece in wrapped[1:])

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _tagged(value: str, tag: str) -> str:
    return f"{value} [{tag}]"


def _field(page: _Page, field: ReviewField) -> None:
    value = _tagged(field.value, str(field.source))
    page.block(_INDENT + field.label, value, indent=_VALUE_COLUMN)
    if field.note:
        note = field.note if field.note_source is None else _tagged(field.note, field.note_source)
        page.block("", "= " + note, indent=_VALUE_COLUMN)


def _warning_lines(page: _Page, warning: ReviewWarning, *, explain_code: bool) -> None:
    head = f"{_INDENT}{warning.severity.name:<8} {warning.code}"
    where = f" at {warning.path}" if warning.path else ""
    page.line(head + where)
    page.block("", warning.message, indent=len(_INDENT) + 9)
    if explain_code:
        page.block("", "(" + explain(warning.code) + ")", indent=len(_INDENT) + 9)


def _address_text(address: Address | None, label: str | None) -> str:
    if address is None:
        return "a new contract (creation)"
    shown = address.grouped()
    return f"{shown} ({label})" if label else shown


def _asset_text(asset: Asset, amount: int) -> str:
    text = amount_text(asset, amount)
    if not asset.known and asset.token is not None:
        text += f" of token {asset.token.grouped()}"
    return text


def _payment(page: _Page, number: int, payment: Payment) -> None:
    page.block(f"{_INDENT}{number}.", _asset_text(payment.asset, payment.amount), indent=8)
    page.block("", "to " + _address_text(payment.destination, payment.label), indent=8)
    origin = f"by {payment.path}"
    if payment.sender is not None:
        origin += f", paid by {payment.sender.grouped()}"
    page.block("", origin, indent=8)


def _totals(page: _Page, heading: str, totals: Iterable[AssetTotal], noun: str) -> None:
    rows = list(totals)
    if not rows:
        return
    page.line()
    page.line(heading)
    for total in rows:
        count = f"{group_thousands(str(total.count))} {noun}{'' if total.count == 1 else 's'}"
        page.block(_INDENT, f"{_asset_text(total.asset, total.amount)} ({count})", indent=4)


def render_review(review: Review) -> str:
    """One review as plain text, at most :data:`WIDTH` columns per line."""
    page = _Page()
    _render_review(page, review)
    return page.text()


def _render_review(page: _Page, review: Review) -> None:
    page.line(f"== {review.title} ==")
    worst = review.max_severity
    page.line(f"Signing hash: 0x{review.signing_hash.hex()} [computed]")
    page.line("Highest warning: " + ("none" if worst is None else worst.name))
    if review.warnings:
        page.line()
        page.line(f"WARNINGS ({len(review.warnings)})")
        for warning in review.warnings:
            _warning_lines(page, warning, explain_code=True)
    section = None
    for field in review.fields:
        if field.section != section:
            section = field.section
            page.line()
            page.line(f"-- {section or 'details'} --")
        _field(page, field)
    if review.payments:
        page.line()
        page.line(f"PAYMENTS ({len(review.payments)})")
        for number, payment in enumerate(review.payments, start=1):
            _payment(page, number, payment)
    _totals(page, "TOTALS", review.totals, "payment")


def render_batch(batch: BatchReview, *, details: bool = True) -> str:
    """A batch review as plain text: totals, destinations, fee caps, warnings, then each item."""
    page = _Page()
    worst = batch.max_severity
    page.line(f"== Batch of {len(batch.items)} requests ==")
    page.line("Highest warning: " + ("none" if worst is None else worst.name))
    _totals(page, "TOTALS PER ASSET", batch.totals, "payment")
    if batch.destinations:
        page.line()
        page.line(f"DESTINATIONS ({len(batch.destinations)})")
        for row in batch.destinations:
            page.block(_INDENT, _address_text(row.destination, row.label), indent=4)
            count = f"{row.count} payment{'' if row.count == 1 else 's'}"
            page.block("", f"{count}, {_asset_text(row.asset, row.amount)}", indent=6)
    _totals(page, "FEE CAPS (most the transactions can pay in fees)", batch.fee_caps, "tx")
    if batch.warnings:
        page.line()
        page.line(f"WARNINGS ({len(batch.warnings)})")
        _grouped_warnings(page, batch.warnings)
    if details:
        for index, review in enumerate(batch.items):
            page.line()
            page.line(f"--- requests[{index}] ---")
            _render_review(page, review)
    return page.text()


def _grouped_warnings(page: _Page, warnings: tuple[ReviewWarning, ...]) -> None:
    groups: dict[tuple[int, str], list[ReviewWarning]] = {}
    for warning in warnings:
        groups.setdefault((-warning.severity, warning.code), []).append(warning)
    for items in groups.values():
        first = items[0]
        page.line(f"{_INDENT}{first.severity.name:<8} {first.code} x{len(items)}")
        page.block("", "(" + explain(first.code) + ")", indent=len(_INDENT) + 9)
        paths = ", ".join(w.path for w in items)
        page.block("", "at " + paths, indent=len(_INDENT) + 9)
