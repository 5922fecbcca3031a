"""QR media for the watcher, through ``channel/``: requests as GIF/MP4/PNG, messages from images.

The text parts file is always written first (it is what a crash-restart rewrites and what
the database points at); an animation of the same UR is written beside it for the screen.
Reading accepts UR text, an image, a folder of frames, a video or ``camera:N``; a
``coldsign-compressed`` envelope is opened when the sender used one.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from channel.media import is_media, receive, unwrap, write_message
from shared.compressed import COMPRESSED_TYPE
from shared.errors import IncompleteError, URTypeError
from shared.ur import UR
from watcher.errors import ConfigError
from watcher.parts import TextPartsWriter, read_ur

# What the operator's screen can show: an animated GIF, an MP4 video, or a folder of PNGs.
MEDIA_FORMATS = ("gif", "mp4", "png")


class AnimatedRequestWriter:
    """Writes the text parts, then the same UR as an animation in ``media_format``."""

    def __init__(self, text: TextPartsWriter, media_format: str, density: str) -> None:
        if media_format not in MEDIA_FORMATS:
            raise ConfigError("--qr", f"expected one of {', '.join(MEDIA_FORMATS)}")
        self._text = text
        self._format = media_format
        self._density = density

    def write(self, name: str, ur: UR) -> Path:
        """The animation's path (a folder of frames for ``png``)."""
        text_path = self._text.write(name, ur)
        if self._format == "png":
            target = text_path.with_name(text_path.stem + "-frames")
        else:
            target = text_path.with_suffix(f".{self._format}")
        return write_message(ur, target, density=self._density)


def read_message(
    spec: str,
    expected: frozenset[str],
    stdin: TextIO | None = None,
    *,
    report: TextIO | None = None,
) -> UR:
    """One complete UR of an ``expected`` type from text parts or QR media named by ``spec``.

    With ``report``, a scan of QR media says there what it ignored and how many frames and
    parts it took.
    """
    if spec != "-" and is_media(spec):
        received = receive(spec, stdin=stdin or sys.stdin, expected_types=None)
        if report is not None:
            for note in received.notes:
                print(f"scan note: {note.text}", file=report)
            print(
                f"scanned {spec}: {received.frames_read} frames, {received.parts_read} parts of"
                f" a {received.progress.seq_len}-fragment message",
                file=report,
            )
        if received.ur is None:
            progress = received.progress
            raise IncompleteError(
                f"{spec}: the QR codes do not make a complete message "
                f"({progress.parts_received} parts read, {progress.estimated_remaining} more "
                "needed)"
            )
        return _expected(unwrap(received.ur, expected), expected, spec)
    if spec == "-":
        lines = (stdin or sys.stdin).read().splitlines()
    else:
        try:
            lines = Path(spec).read_text(encoding="ascii").splitlines()
        except OSError as exc:
            raise ConfigError(spec, f"cannot read: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(spec, "UR parts are ASCII text") from exc
    return unwrap(read_ur(lines, expected | {COMPRESSED_TYPE}, source=spec), expected)


def _expected(ur: UR, expected: frozenset[str], spec: str) -> UR:
    if ur.type not in expected:
        raise URTypeError("type", f"{spec}: ur:{ur.type} is not one of {sorted(expected)}")
    return ur
