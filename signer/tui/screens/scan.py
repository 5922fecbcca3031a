"""The scan screen: the camera's view, progress towards a complete request, and what was ignored.

Frames are read and decoded in a thread worker; each one is handed to the UI as a message
(the preview already downscaled), so the screen never waits on the camera. Codes of another
type, parts of another message and streams that never converge become notes on screen;
nothing a camera shows can crash or hang the scan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static
from textual.worker import get_current_worker

from channel.errors import ChannelError, ScanNotConvergingError
from channel.frames import FrameSource
from channel.receiver import Note, NoteKind, Receiver
from shared.ur import UR, Progress
from signer.tui.untrusted import untrusted
from signer.tui.widgets.preview import CameraPreview, Image, shrink_frame
from signer.tui.widgets.progress import ScanProgress

FrameSourceFactory = Callable[[str], FrameSource]
CAMERAS = ("camera:0", "camera:1", "camera:2", "camera:3")
NOTES_SHOWN = 6
NOTE_STYLE: dict[NoteKind, str] = {
    NoteKind.NOT_UR: "yellow",
    NoteKind.OTHER_TYPE: "bold yellow",
    NoteKind.OTHER_MESSAGE: "bold yellow",
    NoteKind.BAD_PART: "yellow",
    NoteKind.RESTARTED: "bold red",
    NoteKind.SWITCHED: "bold red",
}


class ScanScreen(Screen[None]):
    """Reads a request from a camera or a file; posts :class:`ScanScreen.Completed` with its UR."""

    # The path input is hidden until asked for; with focus it would swallow the letter keys.
    AUTO_FOCUS = None

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("c", "next_camera", "Next camera"),
        Binding("f", "open_file", "Read a file"),
        Binding("r", "restart", "Restart"),
        Binding("f1", "app.help", "Help"),
    ]

    class Completed(Message):
        """Every part of a request arrived: ``ur`` is the whole (not yet decoded) message.

        ``scan`` is the screen that read it, told by :meth:`ScanScreen.refused` when what
        arrived does not decode.
        """

        def __init__(self, scan: ScanScreen, ur: UR) -> None:
            super().__init__()
            self.scan = scan
            self.ur = ur

    class _FrameRead(Message, bubble=False):
        """One frame looked at (worker to screen)."""

        def __init__(
            self, progress: Progress, frames: int, notes: list[Note], preview: Image | None
        ) -> None:
            super().__init__()
            self.progress = progress
            self.frames = frames
            self.notes = notes
            self.preview = preview

    class _Stopped(Message, bubble=False):
        """The source failed or ended (worker to screen); ``problem`` says why."""

        def __init__(self, problem: str, *, ended: bool) -> None:
            super().__init__()
            self.problem = problem
            self.ended = ended

    def __init__(
        self,
        factory: FrameSourceFactory,
        expected_types: frozenset[str],
        *,
        source: str = CAMERAS[0],
    ) -> None:
        super().__init__()
        self._factory = factory
        self._expected_types = expected_types
        self._source = source
        self._notes: list[Text] = []
        self._frames = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="scan-body"):
            yield CameraPreview(id="scan-preview")
            with Vertical(id="scan-side"):
                yield Static("", id="scan-source")
                yield ScanProgress(id="scan-progress")
                yield Static("", id="scan-state")
                yield Static("", id="scan-notes")
        yield Input(placeholder="video, image or folder to read, then Enter", id="scan-path")
        yield Footer()

    def on_mount(self) -> None:
        path = self.query_one("#scan-path", Input)
        path.display = False
        path.disabled = True
        path.cursor_blink = False
        self._start(self._source)

    def _start(self, source: str) -> None:
        self._source = source
        self._frames = 0
        # A fresh receiver per run: a cancelled worker may still be feeding the previous one.
        receiver = Receiver(self._expected_types)
        self.query_one("#scan-progress", ScanProgress).show(receiver.progress, 0)
        label = Text.assemble(("Reading ", "bold"))
        label.append_text(untrusted(source, style="bold cyan"))
        self.query_one("#scan-source", Static).update(label)
        self._state(Text("Hold the request's QR code in view…", style="dim"))
        self._read(source, receiver)

    def _state(self, text: Text) -> None:
        self.query_one("#scan-state", Static).update(text)

    @work(thread=True, exclusive=True, group="scan")
    def _read(self, spec: str, receiver: Receiver) -> None:
        worker = get_current_worker()
        try:
            source = self._factory(spec)
        except ChannelError as exc:
            self.post_message(self._Stopped(str(exc), ended=False))
            return
        frames = 0
        with source:
            try:
                for frame in source:
                    if worker.is_cancelled:
                        return
                    frames += 1
                    try:
                        notes = receiver.feed_frame(frame)
                    except ScanNotConvergingError as exc:
                        notes = [Note(NoteKind.RESTARTED, exc.reason)]
                    small = shrink_frame(frame)
                    self.post_message(self._FrameRead(receiver.progress, frames, notes, small))
                    if receiver.is_complete:
                        self.post_message(self.Completed(self, receiver.result()))
                        return
            except ChannelError as exc:
                self.post_message(self._Stopped(str(exc), ended=False))
                return
        if not worker.is_cancelled:
            self.post_message(
                self._Stopped(f"{spec} ended before the request was complete", ended=True)
            )

    @on(_FrameRead)
    def frame_read(self, event: _FrameRead) -> None:
        """Show the frame, the progress and any new note."""
        self._frames = event.frames
        self.query_one("#scan-preview", CameraPreview).show(event.preview)
        self.query_one("#scan-progress", ScanProgress).show(event.progress, event.frames)
        if event.notes:
            for note in event.notes:
                self._notes.append(untrusted(note.text, style=NOTE_STYLE[note.kind]))
            self.query_one("#scan-notes", Static).update(
                Text("\n").join(self._notes[-NOTES_SHOWN:])
            )

    @on(_Stopped)
    def stopped(self, event: _Stopped) -> None:
        """Say why reading stopped and what to do next."""
        text = untrusted(event.problem, style="bold red" if not event.ended else "bold yellow")
        text.append("\nPress r to read it again, c for another camera or f for a file.")
        self._state(text)

    @on(Completed)
    def completed(self) -> None:
        self._state(Text("Request received. Decoding and checking it…", style="bold green"))

    def refused(self, reason: str) -> None:
        """What arrived is not a request the signer can read: say so (attribute down).

        Reading does not start again by itself: the same code would only be refused again.
        """
        text = untrusted(f"Refused what was received: {reason}", style="bold red")
        text.append("\nNothing was signed. Press r to scan again, or Esc to go back.")
        self._state(text)

    def action_back(self) -> None:
        path = self.query_one("#scan-path", Input)
        if path.display:
            self._hide_path()
            return
        self.workers.cancel_group(self, "scan")
        self.app.pop_screen()

    def action_next_camera(self) -> None:
        """Try the next camera index (wrapping around)."""
        index = CAMERAS.index(self._source) + 1 if self._source in CAMERAS else 0
        self._start(CAMERAS[index % len(CAMERAS)])

    def action_restart(self) -> None:
        """Forget the parts so far and read the same source again."""
        self._notes.clear()
        self.query_one("#scan-notes", Static).update("")
        self._start(self._source)

    def action_open_file(self) -> None:
        """Ask for a video, image or folder to read instead of a camera."""
        path = self.query_one("#scan-path", Input)
        path.display = True
        path.disabled = False
        path.focus()

    @on(Input.Submitted, "#scan-path")
    def path_submitted(self, event: Input.Submitted) -> None:
        self._hide_path()
        if event.value.strip():
            self._start(event.value.strip())

    def _hide_path(self) -> None:
        path = self.query_one("#scan-path", Input)
        path.display = False
        path.disabled = True
        self.set_focus(None)
