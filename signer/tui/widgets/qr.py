"""A UR as an animated QR code drawn with half-block characters, sized to fit the terminal.

Each character cell shows two modules stacked (``▀``, ``▄``, ``█`` or a space), which makes
modules roughly square in a terminal font. Every part of one message is drawn at one QR
version so the code does not jump in size between frames; the fragment length ("density")
is chosen from those whose version fits the widget, and can be changed live.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.events import Resize
from textual.reactive import reactive
from textual.timer import Timer
from textual.widget import Widget

from channel.density import part_length_bound
from channel.errors import RenderError
from channel.render import ECLevel, qr_modules, version_for_length
from channel.terminal import modules_text
from shared.ur import UR, UREncoder, for_qr

# Light modules around the code, in modules, inside the widget (whose white background
# extends the quiet zone further). ISO/IEC 18004 §6.3.8 asks for 4; the widget's padding
# supplies the rest where the terminal is large enough.
QUIET_ZONE = 2
# Bytes per fragment a person can step through with the density keys.
FRAGMENT_LADDER = (10, 16, 24, 32, 48, 64, 96, 128, 192, 256)
# The default stops here even on a large terminal: smaller codes decode from worse cameras.
DEFAULT_MAX_FRAGMENT = 128
SPEEDS = (1.0, 2.0, 4.0, 6.0, 8.0, 12.0)
DEFAULT_SPEED = 4.0
EC = ECLevel.L
# Dark modules are drawn in the foreground colour, light ones in the background colour.
QR_STYLE = "#000000 on #ffffff"


def side_modules(version: int) -> int:
    """Modules per side of a QR code of ``version`` (ISO/IEC 18004 §5.3.1), quiet zone added."""
    return 17 + 4 * version + 2 * QUIET_ZONE


@dataclass(frozen=True, slots=True)
class Density:
    """One density a message can be shown at: bytes per fragment and the QR version."""

    fragment_length: int
    version: int
    seq_len: int


def densities(ur: UR, width: int, height: int) -> tuple[Density, ...]:
    """The densities of ``ur`` whose code fits ``width`` columns by ``height`` lines."""
    fits: list[Density] = []
    capacity = min(width, 2 * height)
    for fragment in FRAGMENT_LADDER:
        try:
            version = version_for_length(part_length_bound(ur.type, len(ur.cbor), fragment), EC)
        except RenderError:
            break
        if side_modules(version) > capacity:
            break
        seq_len = UREncoder(ur, fragment).seq_len
        if fits and fits[-1].seq_len == seq_len:
            # A larger fragment that does not cut the number of parts only enlarges the code.
            continue
        fits.append(Density(fragment, version, seq_len))
        if seq_len == 1:
            break
    return tuple(fits)


class QRCode(Widget):
    """The parts of one UR, one QR code per frame, cycling on a timer.

    Attributes down: :meth:`slower` / :meth:`faster`, :meth:`sparser` / :meth:`denser`.
    ``animate=False`` holds the first frame (for screenshots); :meth:`advance` steps by hand.
    """

    frame = reactive(0, layout=True)

    def __init__(
        self,
        ur: UR,
        *,
        animate: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.ur = ur
        self.playing = animate
        self.speed = DEFAULT_SPEED
        self.options: tuple[Density, ...] = ()
        self.density: Density | None = None
        self.current_part = ""
        self._lines: list[str] = []
        self._encoder: UREncoder | None = None
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / self.speed, self.advance, pause=not self.playing)

    def on_resize(self, event: Resize) -> None:
        options = densities(self.ur, event.size.width, event.size.height)
        if options == self.options:
            return
        self.options = options
        self._choose(self._default_density())

    def _default_density(self) -> Density | None:
        if not self.options:
            return None
        wanted = self.density.fragment_length if self.density else DEFAULT_MAX_FRAGMENT
        fitting = [d for d in self.options if d.fragment_length <= wanted]
        return fitting[-1] if fitting else self.options[0]

    def _choose(self, density: Density | None) -> None:
        self.density = density
        self._encoder = UREncoder(self.ur, density.fragment_length) if density else None
        self.advance()

    def advance(self) -> None:
        """Show the next part."""
        if self._encoder is None or self.density is None:
            self.current_part = ""
            self._lines = []
        else:
            self.current_part = for_qr(self._encoder.next_part())
            modules = qr_modules(self.current_part, ec=EC, version=self.density.version)
            self._lines = modules_text(modules, quiet_zone=QUIET_ZONE).split("\n")
        self.frame += 1

    def render(self) -> Text:
        if not self._lines:
            return Text("The terminal is too small for this QR code.", style="bold red")
        return Text("\n".join(self._lines), style=QR_STYLE, no_wrap=True, overflow="crop")

    def slower(self) -> None:
        """Fewer frames per second."""
        self._set_speed(max((s for s in SPEEDS if s < self.speed), default=SPEEDS[0]))

    def faster(self) -> None:
        """More frames per second."""
        self._set_speed(min((s for s in SPEEDS if s > self.speed), default=SPEEDS[-1]))

    def _set_speed(self, speed: float) -> None:
        self.speed = speed
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_interval(1 / speed, self.advance, pause=not self.playing)
        self.frame += 1

    def sparser(self) -> None:
        """Smaller fragments: a smaller code, more frames."""
        self._step(-1)

    def denser(self) -> None:
        """Larger fragments: a larger code, fewer frames."""
        self._step(1)

    def _step(self, direction: int) -> None:
        if self.density is None:
            return
        index = self.options.index(self.density) + direction
        if 0 <= index < len(self.options):
            self._choose(self.options[index])

    def describe(self) -> str:
        """``4 fps · 48 bytes per part · 7 parts · QR version 5`` for the screen's status line."""
        if self.density is None:
            return f"{self.speed:g} fps · does not fit"
        return (
            f"{self.speed:g} fps · {self.density.fragment_length} bytes per part · "
            f"{self.density.seq_len} part(s) · QR version {self.density.version}"
        )
