"""The screen shown when the signer must not start: the reason in plain words, and a way out."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from signer.tui.untrusted import untrusted


class BlockedScreen(Screen[None]):
    """A start-up refusal (air gap broken, no vault, unusable home or policy)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "app.quit", "Quit", show=False),
        Binding("f1", "app.help", "Help"),
    ]

    def __init__(self, title: str, reason: str, advice: str) -> None:
        super().__init__()
        self._title = title
        self._reason = reason
        self._advice = advice

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="blocked-box"):
            yield Static(Text(f" {self._title} ", style="bold white on red"), id="blocked-title")
            yield Static(untrusted(self._reason, style="bold"), id="blocked-reason")
            yield Static(Text(self._advice), id="blocked-advice")
        yield Footer()
