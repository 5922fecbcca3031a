"""The camera's view in the terminal: a downscaled grayscale frame in half-block characters.

Each cell shows two pixels stacked: ``▀`` in the upper pixel's grey on the lower pixel's
grey. The scan worker shrinks each frame to a small grey image off the UI thread
(:func:`shrink_frame`); the widget fits that to its own size whenever either changes, so the
picture is right whatever the terminal size and however early the first frame arrives.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from rich.segment import Segment
from rich.style import Style
from textual.events import Resize
from textual.strip import Strip
from textual.widget import Widget

from channel.scan import to_gray

Image = npt.NDArray[np.uint8]
# The shrunk frame is at most this many pixels (a 240-column, 80-line terminal's worth).
MAX_WIDTH = 240
MAX_HEIGHT = 160
# Greys are rounded to this many levels: fewer distinct styles, no visible loss.
LEVELS = 32
_STEP = 256 // LEVELS
_STYLES = {
    (top, bottom): Style(
        color=f"rgb({top * _STEP},{top * _STEP},{top * _STEP})",
        bgcolor=f"rgb({bottom * _STEP},{bottom * _STEP},{bottom * _STEP})",
    )
    for top in range(LEVELS)
    for bottom in range(LEVELS)
}


def fit(gray: Image, width: int, height: int) -> Image:
    """``gray`` resized (area filter, aspect kept) to at most ``width`` x ``height`` pixels."""
    rows, cols = gray.shape
    scale = min(width / cols, height / rows, 1.0)
    size = (max(1, int(cols * scale)), max(1, int(rows * scale)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def shrink_frame(frame: Image) -> Image:
    """A camera frame (gray, BGR or BGRA) as a small grayscale image for the preview."""
    return fit(to_gray(frame), MAX_WIDTH, MAX_HEIGHT)


class CameraPreview(Widget):
    """The latest frame the scanner looked at (attributes down: call :meth:`show`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._source: Image | None = None
        self._levels: Image | None = None

    def show(self, image: Image | None) -> None:
        """Show an image made by :func:`shrink_frame` (None: blank)."""
        self._source = image
        self._refit()

    def on_resize(self, event: Resize) -> None:
        self._refit()

    def _refit(self) -> None:
        width, height = self.size
        if self._source is None or width < 1 or height < 1:
            self._levels = None
        else:
            small = fit(self._source, width, 2 * height)
            # An even number of rows: each line of text shows two.
            self._levels = (small[: small.shape[0] // 2 * 2] // _STEP).astype(np.uint8)
        self.refresh()

    def render_line(self, y: int) -> Strip:
        levels = self._levels
        width = self.size.width
        if levels is None or 2 * y + 1 >= levels.shape[0]:
            return Strip.blank(width, self.rich_style)
        top, bottom = levels[2 * y], levels[2 * y + 1]
        pad = (width - levels.shape[1]) // 2
        segments = [Segment(" " * pad, self.rich_style)] if pad > 0 else []
        segments.extend(
            Segment("▀", _STYLES[(int(a), int(b))]) for a, b in zip(top, bottom, strict=True)
        )
        return Strip(segments).adjust_cell_length(width, self.rich_style)
