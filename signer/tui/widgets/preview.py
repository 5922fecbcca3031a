"""The camera's view in the terminal: a downscaled grayscale frame in half-block characters.

Each cell shows two pixels stacked: ``▀`` in the upper pixel's grey on the lower pixel's
grey. The frame is downscaled (and its aspect kept) off the UI thread by :func:`fit_frame`;
the widget only turns the small image into lines.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip
from textual.widget import Widget

from channel.scan import to_gray

Image = npt.NDArray[np.uint8]
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


def fit_frame(frame: Image, width: int, height: int) -> Image | None:
    """``frame`` as grey levels (0..LEVELS-1), at most ``width`` x ``2 * height`` pixels.

    The aspect ratio is kept (a cell is two pixels tall); None when there is no room.
    """
    if width < 1 or height < 1:
        return None
    gray = to_gray(frame)
    rows, cols = gray.shape
    scale = min(width / cols, 2 * height / rows)
    size = (max(1, int(cols * scale)), max(2, int(rows * scale) // 2 * 2))
    small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return np.asarray(small // _STEP, dtype=np.uint8)


class CameraPreview(Widget):
    """The latest frame the scanner looked at (attributes down: call :meth:`show`)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._image: Image | None = None

    def show(self, image: Image | None) -> None:
        """Show an image made by :func:`fit_frame` (None: blank)."""
        self._image = image
        self.refresh()

    def render_line(self, y: int) -> Strip:
        image = self._image
        width = self.size.width
        if image is None or 2 * y + 1 >= image.shape[0]:
            return Strip.blank(width, self.rich_style)
        top, bottom = image[2 * y], image[2 * y + 1]
        pad = (width - image.shape[1]) // 2
        segments = [Segment(" " * pad, self.rich_style)] if pad > 0 else []
        segments.extend(
            Segment("▀", _STYLES[(int(a), int(b))]) for a, b in zip(top, bottom, strict=True)
        )
        return Strip(segments).adjust_cell_length(width, self.rich_style)
