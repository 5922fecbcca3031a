"""Reading a UR message from text, images or video, and writing one as text, PNG, GIF or MP4.

The one place where every program turns a file name into a message and back:
``coldsign-ur``, ``coldsign-signer`` and ``coldsign-watcher`` accept UR text, an image, a
folder of images, a video or a camera (``camera:N``) wherever they read a message, and write
UR text (``.txt``), an animated GIF (``.gif``), an MP4 video (``.mp4``) or a folder of PNG
frames (any other path, created as a folder) wherever they write one; a message that fits one
QR code (a pairing key) can also be written as a single still PNG (:func:`write_image`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self, TextIO

from channel.density import DEFAULT_PRESET, preset
from channel.errors import OutputError, SourceError
from channel.frames import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, FrameSource, Image, open_source
from channel.output import DEFAULT_FPS, write_gif, write_mp4, write_png, write_png_frames
from channel.receiver import Note, Receiver, receive_from
from channel.render import QRStyle, render_parts
from channel.sequence import DEFAULT_ORDER, PartStream, SendingOrder
from shared.compressed import COMPRESSED_TYPE, decompress_ur, smaller_of
from shared.errors import DecodeError
from shared.ur import UR, Progress, URDecoder, UREncoder

TEXT_SUFFIX = ".txt"
# Frames written to a GIF or MP4, as a multiple of the fragment count: enough for a camera
# that misses a third of them (benchmarks/qr_channel.py: ~1.6x at 30% loss), then it loops.
ANIMATION_FRAMES_PER_FRAGMENT = 2


@dataclass(frozen=True, slots=True)
class Received:
    """What reading a message gave: the message (None if incomplete), progress and notes.

    ``frames_read`` is how many camera frames were looked at (0 for text): with
    ``progress.seq_len`` it says how close the scan came to the fountain code's minimum.
    """

    ur: UR | None
    progress: Progress
    notes: tuple[Note, ...]
    parts_read: int
    frames_read: int = 0


class _CountedSource:
    """A frame source that counts the frames taken from it."""

    def __init__(self, source: FrameSource) -> None:
        self._source = source
        self.count = 0

    def __iter__(self) -> Iterator[Image]:
        for frame in self._source:
            self.count += 1
            yield frame

    def close(self) -> None:
        """Close the wrapped source."""
        self._source.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def is_media(spec: str) -> bool:
    """True when ``spec`` names a camera, a folder, an image or a video rather than text."""
    path = Path(spec)
    suffix = path.suffix.lower()
    return (
        spec.startswith("camera:")
        or path.is_dir()
        or suffix in IMAGE_EXTENSIONS
        or suffix in VIDEO_EXTENSIONS
    )


def read_text_parts(decoder: URDecoder, lines: Sequence[str]) -> int:
    """Feed every non-blank line to ``decoder``; return how many parts were read.

    A bad part raises the decoder's ``DecodeError``, re-raised with the line number in
    ``field`` so the operator knows which line to look at.
    """
    seen = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        seen += 1
        try:
            decoder.receive(line)
        except DecodeError as exc:
            raise type(exc)(f"line {number}: {exc.field}", exc.reason, offset=exc.offset) from exc
    return seen


def receive(
    spec: str | None,
    *,
    stdin: TextIO,
    expected_types: frozenset[str] | None = None,
    max_frames: int | None = None,
) -> Received:
    """Read one message from ``spec`` (text file, ``-``/None for ``stdin``, or media).

    Text must be clean: a bad line raises ``DecodeError`` naming it. Media is what a camera
    sees: decoys and parts of other messages are skipped and reported as notes. A source
    that cannot be read raises ``ChannelError``.
    """
    if spec is not None and spec != "-" and is_media(spec):
        receiver = Receiver(expected_types)
        with _CountedSource(open_source(spec)) as source:
            progress = receive_from(source, receiver, max_frames=max_frames)
        ur = receiver.result() if receiver.is_complete else None
        return Received(ur, progress, receiver.notes, progress.parts_received, source.count)
    if spec is None or spec == "-":
        lines = stdin.read().splitlines()
    else:
        try:
            with open(spec, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(spec, f"cannot read: {exc}") from exc
    decoder = URDecoder(expected_types)
    seen = read_text_parts(decoder, lines)
    ur = decoder.result() if decoder.is_complete else None
    return Received(ur, decoder.progress, (), seen)


def unwrap(ur: UR, allowed_types: frozenset[str]) -> UR:
    """The message inside a ``coldsign-compressed`` envelope, or ``ur`` itself."""
    if ur.type == COMPRESSED_TYPE:
        return decompress_ur(ur, allowed_types=allowed_types)
    return ur


def write_message(
    ur: UR,
    out: str | Path,
    *,
    density: str = DEFAULT_PRESET,
    order: SendingOrder = DEFAULT_ORDER,
    fps: float = DEFAULT_FPS,
    frames: int | None = None,
    compress: bool = False,
) -> Path:
    """Write ``ur`` to ``out`` by its suffix: UR text, GIF, MP4 or a folder of PNG frames.

    ``compress`` wraps the message in a ``coldsign-compressed`` envelope when that is smaller
    (only for a coldsign receiver). Text holds the fragment parts once (a file loses
    nothing); animations hold ``frames`` parts (default: twice the fragment count).
    """
    message = smaller_of(ur) if compress else ur
    path = Path(out)
    chosen = preset(density)
    if path.suffix.lower() == TEXT_SUFFIX:
        encoder = UREncoder(message, chosen.max_fragment_length)
        count = 1 if encoder.is_single_part else encoder.seq_len
        try:
            path.write_text("".join(part + "\n" for part in encoder.parts(count)))
        except OSError as exc:
            raise OutputError(str(path), f"cannot write: {exc}") from exc
        return path
    stream = PartStream(message, chosen, order)
    count = frames or max(1, math.ceil(stream.seq_len * ANIMATION_FRAMES_PER_FRAGMENT))
    images = render_parts(stream.take(count), QRStyle(ec=chosen.ec), version=stream.version)
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return write_gif(images, path, fps=fps)
    if suffix == ".mp4":
        return write_mp4(images, path, fps=fps)
    write_png_frames(images, path)
    return path


def write_image(ur: UR, out: str | Path, *, density: str = DEFAULT_PRESET) -> Path:
    """Write ``ur`` as one still QR code in a PNG file (``out`` ends in ``.png``).

    For a message that fits one code at ``density``, such as a pairing key; a longer one is
    refused (it needs an animation or a folder of frames: :func:`write_message`).
    """
    chosen = preset(density)
    stream = PartStream(ur, chosen)
    if stream.seq_len != 1:
        raise OutputError(
            str(out),
            f"ur:{ur.type} needs {stream.seq_len} QR codes at density {chosen.name!r}: write a"
            " .gif or .mp4 animation instead",
        )
    [image] = render_parts(stream.take(1), QRStyle(ec=chosen.ec), version=stream.version)
    return write_png(image, out)
