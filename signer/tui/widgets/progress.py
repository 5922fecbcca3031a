"""Scan progress: a bar of the fragments recovered, parts seen and an estimate of what is left."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from shared.ur import Progress


def progress_text(progress: Progress, frames: int) -> Text:
    """One line: parts accepted, fragments recovered, and the fewest parts still needed."""
    text = Text()
    if progress.complete:
        text.append("Complete", style="bold green")
        text.append(f" after {progress.parts_received} part(s) in {frames} frame(s)")
        return text
    if progress.seq_len == 0:
        text.append("Waiting for a QR code", style="bold")
        text.append(f" ({frames} frame(s) looked at)")
        return text
    solved = round(progress.fraction * progress.seq_len)
    text.append(f"{progress.parts_received} part(s) seen", style="bold")
    text.append(f" · {solved} of {progress.seq_len} fragments")
    text.append(f" · at least {progress.estimated_remaining} more", style="bold")
    return text


class ScanProgress(Vertical):
    """The progress bar and its line of numbers (attributes down: call :meth:`show`)."""

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=1, show_eta=False, id="scan-bar")
        yield Static(progress_text(Progress(0, 0, 0.0, 0, False), 0), id="scan-numbers")

    def show(self, progress: Progress, frames: int) -> None:
        """Show ``progress`` after ``frames`` camera frames."""
        bar = self.query_one("#scan-bar", ProgressBar)
        total = max(progress.seq_len, 1)
        bar.update(total=total, progress=round(progress.fraction * total))
        self.query_one("#scan-numbers", Static).update(progress_text(progress, frames))
