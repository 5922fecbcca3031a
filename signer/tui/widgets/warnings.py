"""Review warnings coloured by severity, worst first, each with its stable code."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from shared.review.model import ReviewWarning
from shared.review.warnings import Severity, explain
from signer.tui.untrusted import untrusted

# Colour and a word for each severity: the word keeps the meaning without colour.
SEVERITY_STYLE: dict[Severity, tuple[str, str]] = {
    Severity.DANGER: ("DANGER ", "bold white on red"),
    Severity.WARNING: ("WARNING", "bold black on yellow"),
    Severity.CAUTION: ("CAUTION", "bold black on cyan"),
    Severity.INFO: ("INFO   ", "bold white on blue"),
}


def severity_badge(severity: Severity) -> Text:
    """The severity as a coloured word of fixed width."""
    word, style = SEVERITY_STYLE[severity]
    return Text.assemble((f" {word} ", style))


def warning_line(warning: ReviewWarning) -> Text:
    """``DANGER  delegatecall  message (path)`` with the badge coloured."""
    line = severity_badge(warning.severity)
    line.append(" ")
    line.append(str(warning.code), style="bold")
    line.append("  ")
    line.append_text(untrusted(warning.message))
    if warning.path:
        line.append("  at ", style="dim")
        line.append_text(untrusted(warning.path, style="dim"))
    return line


def warnings_text(warnings: Iterable[ReviewWarning]) -> Text:
    """Every warning on its own line, worst first; a calm line when there is none."""
    ordered = sorted(warnings, key=lambda w: -int(w.severity))
    if not ordered:
        return Text("No warnings.", style="green")
    return Text("\n").join(warning_line(w) for w in ordered)


def grouped_warnings_text(warnings: Iterable[ReviewWarning]) -> Text:
    """One line per warning code, worst first: badge, code, count, and what the code means."""
    groups: dict[tuple[int, str], list[ReviewWarning]] = {}
    for warning in warnings:
        groups.setdefault((-int(warning.severity), str(warning.code)), []).append(warning)
    if not groups:
        return Text("No warnings.", style="green")
    lines = []
    for key in sorted(groups):
        first = groups[key][0]
        line = severity_badge(first.severity)
        line.append(f" {first.code}", style="bold")
        line.append(f" x{len(groups[key])}  ")
        line.append(explain(first.code), style="dim")
        lines.append(line)
    return Text("\n").join(lines)


class WarningList(Static):
    """The warnings of a review or a batch (attributes down: call :meth:`show`)."""

    def __init__(
        self,
        warnings: Iterable[ReviewWarning] = (),
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(warnings_text(warnings), id=id, classes=classes, markup=False)

    def show(self, warnings: Iterable[ReviewWarning]) -> None:
        """Replace the warnings shown."""
        self.update(warnings_text(warnings))
