"""The signature screen: the signed response as an animated QR code, and what was decided.

The response carries a signature for every item that was signed; the refused ones are listed
with their reasons. ``w`` writes the response as a UR text file for a USB stick.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static

from shared.ur import UR, format_ur
from signer.core import Outcome, SigningResult
from signer.keys.atomicfile import write_atomic
from signer.tui.untrusted import untrusted
from signer.tui.widgets.qr import QRCode


def result_text(result: SigningResult) -> Text:
    """``Signed 2 of 3``, each item's outcome with its reasons, and the audit head."""
    total = len(result.items)
    if result.response is None:
        text = Text.assemble((" NOTHING WAS SIGNED ", "bold white on red"))
    else:
        text = Text.assemble((f" SIGNED {result.signed} OF {total} ", "bold black on green"))
    text.append("\n")
    for item in result.items:
        signed = item.outcome is Outcome.SIGNED
        text.append(f"\n{item.number:>3} ", style="bold")
        text.append("signed" if signed else "refused", style="green" if signed else "bold red")
        if not signed:
            for reason in item.reasons:
                text.append("\n      ")
                text.append_text(untrusted(reason, style="dim"))
    head = result.audit_head
    text.append("\n\nAudit log head ", style="bold")
    text.append(f"#{head.seq} {head.head_hash.hex()[:16]}…", style="cyan")
    if result.response is not None:
        text.append("\nScan this code with the online machine.", style="dim")
    return text


def response_file_text(ur: UR) -> str:
    """The response as one single-part UR line (any coldsign or ERC-4527 reader takes it)."""
    return format_ur(ur) + "\n"


class SignatureScreen(Screen[None]):
    """Shows a :class:`SigningResult`; posts :class:`SignatureScreen.Done` when dismissed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "done", "Done"),
        Binding("left_square_bracket", "slower", "Slower"),
        Binding("right_square_bracket", "faster", "Faster"),
        Binding("minus", "sparser", "Smaller"),
        Binding("plus,equals_sign", "denser", "Larger"),
        Binding("w", "write", "Save"),
        Binding("f1", "app.help", "Help"),
    ]
    AUTO_FOCUS = None

    class Done(Message):
        """The person is finished with this response."""

    def __init__(self, result: SigningResult, *, animate: bool = True) -> None:
        super().__init__()
        self.result = result
        self._playing = animate

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="qr-body"):
            if self.result.response is not None:
                yield QRCode(self.result.response, animate=self._playing, id="signature-qr")
            with Vertical(classes="qr-side", id="signature-side"):
                with VerticalScroll(id="signature-scroll"):
                    yield Static(result_text(self.result), id="signature-text")
                yield Static("", id="signature-density", classes="qr-density")
                yield Static("", id="signature-saved")
        yield Input(placeholder="file to write the response to, then Enter", id="signature-path")
        yield Footer()

    def on_mount(self) -> None:
        path = self.query_one("#signature-path", Input)
        path.display = False
        path.disabled = True
        path.cursor_blink = False
        if self.result.response is not None:
            self.watch(self.query_one(QRCode), "frame", self._describe)

    def _describe(self) -> None:
        self.query_one("#signature-density", Static).update(
            Text(self.query_one(QRCode).describe(), style="dim")
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("slower", "faster", "sparser", "denser", "write"):
            return self.result.response is not None
        return True

    def action_slower(self) -> None:
        self.query_one(QRCode).slower()

    def action_faster(self) -> None:
        self.query_one(QRCode).faster()

    def action_sparser(self) -> None:
        self.query_one(QRCode).sparser()

    def action_denser(self) -> None:
        self.query_one(QRCode).denser()

    def action_write(self) -> None:
        """Ask where to write the response."""
        path = self.query_one("#signature-path", Input)
        path.display = True
        path.disabled = False
        if not path.value:
            path.value = f"coldsign-response-{self.result.audit_head.seq}.txt"
        path.focus()

    def _hide_path(self) -> None:
        path = self.query_one("#signature-path", Input)
        path.display = False
        path.disabled = True
        self.set_focus(None)

    @on(Input.Submitted, "#signature-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        self._hide_path()
        if event.value.strip() and self.result.response is not None:
            self._write(Path(event.value.strip()).expanduser(), self.result.response)

    @work(thread=True, exclusive=True, group="write")
    def _write(self, path: Path, ur: UR) -> None:
        try:
            write_atomic(path, response_file_text(ur).encode("ascii"), overwrite=False)
        except FileExistsError:
            message = untrusted(f"Not written: {path} already exists.", style="bold red")
        except OSError as exc:
            message = untrusted(f"Not written: {path}: {exc.strerror}", style="bold red")
        else:
            message = untrusted(f"Written to {path}", style="bold green")
        self.app.call_from_thread(self.query_one("#signature-saved", Static).update, message)

    def action_done(self) -> None:
        path = self.query_one("#signature-path", Input)
        if path.display:
            self._hide_path()
            return
        self.post_message(self.Done())
