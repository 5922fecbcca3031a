"""The account export screen: the pairing QR code for a watch-only wallet, and the fingerprint."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from shared.ur import UR
from signer.keys.accounts import EnrolledAccount
from signer.tui.widgets.qr import QRCode


def export_text(ur: UR, fingerprint: bytes, accounts: tuple[EnrolledAccount, ...]) -> Text:
    """What the wallet should show after pairing: the fingerprint and the first addresses."""
    text = Text.assemble(("Pair a watch-only wallet\n", "bold"))
    text.append("Scan this code with the online machine (coldsign-watcher pair) or a ")
    text.append("QR hardware-wallet connection (MetaMask, Rabby).\n\n")
    text.append("Master fingerprint ", style="bold")
    text.append(fingerprint.hex(), style="bold cyan")
    text.append(f"\nType ur:{ur.type}\n\n", style="dim")
    text.append("After pairing the wallet must show:\n", style="bold")
    for account in accounts:
        text.append(f"{account.path}\n", style="dim")
        text.append(account.address.grouped(), style="bold")
        text.append("\n")
    return text


class ExportScreen(Screen[None]):
    """Shows the account key (``crypto-hdkey`` or ``crypto-account``) as an animated QR code."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("left_square_bracket", "slower", "Slower"),
        Binding("right_square_bracket", "faster", "Faster"),
        Binding("minus", "sparser", "Smaller"),
        Binding("plus,equals_sign", "denser", "Larger"),
        Binding("f1", "app.help", "Help"),
    ]

    def __init__(
        self,
        ur: UR,
        fingerprint: bytes,
        accounts: tuple[EnrolledAccount, ...],
        *,
        animate: bool = True,
    ) -> None:
        super().__init__()
        self.ur = ur
        self._fingerprint = fingerprint
        self._accounts = accounts
        self._playing = animate

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="qr-body"):
            yield QRCode(self.ur, animate=self._playing, id="export-qr")
            with Vertical(classes="qr-side"):
                yield Static(
                    export_text(self.ur, self._fingerprint, self._accounts), id="export-text"
                )
                yield Static("", id="export-density", classes="qr-density")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.query_one(QRCode), "frame", self._describe)

    def _describe(self) -> None:
        self.query_one("#export-density", Static).update(
            Text(self.query_one(QRCode).describe(), style="dim")
        )

    def action_slower(self) -> None:
        self.query_one(QRCode).slower()

    def action_faster(self) -> None:
        self.query_one(QRCode).faster()

    def action_sparser(self) -> None:
        self.query_one(QRCode).sparser()

    def action_denser(self) -> None:
        self.query_one(QRCode).denser()
