"""One item of a batch in full: every field with its provenance, payments, warnings, verdict."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header

from signer.core import PreparedItem
from signer.policy.model import Policy
from signer.tui.widgets.detail import ReviewDetail


class ItemScreen(Screen[None]):
    """Read-only detail of one batch item; Esc returns to the batch."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back to the batch"),
        Binding("f1", "app.help", "Help"),
    ]

    def __init__(self, item: PreparedItem, count: int, policy: Policy) -> None:
        super().__init__()
        self.item = item
        self.policy = policy
        self.sub_title = f"item {item.number} of {count}"

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="item-body"):
            yield ReviewDetail(self.item, self.policy, id="item-detail")
        yield Footer()
