"""Writers for rendered QR frames: one PNG, numbered PNGs in a folder, an animated GIF, an MP4."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from channel.errors import OutputError
from channel.render import Image

DEFAULT_FPS = 8.0
MAX_FPS = 60.0


def _check_frames(frames: Sequence[Image], where: str) -> tuple[int, int]:
    if not frames:
        raise OutputError(where, "no frames to write")
    shape = frames[0].shape
    for number, frame in enumerate(frames, start=1):
        if frame.dtype != np.uint8 or frame.shape != shape or frame.ndim not in (2, 3):
            raise OutputError(
                where, f"frame {number} is not a uint8 image of the first frame's size {shape}"
            )
    return int(shape[0]), int(shape[1])


def _check_fps(fps: float, where: str) -> None:
    if not 0 < fps <= MAX_FPS:
        raise OutputError(where, f"frame rate {fps} is not in (0, {MAX_FPS}]")


def _bgr(frame: Image) -> Image:
    if frame.ndim == 2:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    return frame


def write_png_frames(
    frames: Sequence[Image], folder: str | Path, *, prefix: str = "frame"
) -> list[Path]:
    """Write ``prefix_0001.png``... into ``folder`` (created if needed); return the paths.

    Numbers are zero-padded so any name sort replays them in order.
    """
    target = Path(folder)
    _check_frames(frames, str(target))
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(str(target), f"cannot create the folder: {exc.strerror}") from exc
    width = max(4, len(str(len(frames))))
    paths: list[Path] = []
    for number, frame in enumerate(frames, start=1):
        path = target / f"{prefix}_{number:0{width}d}.png"
        ok, encoded = cv2.imencode(".png", frame)
        if not ok:
            raise OutputError(str(path), "opencv could not encode the frame as PNG")
        try:
            path.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(str(path), f"cannot write: {exc.strerror}") from exc
        paths.append(path)
    return paths


def write_png(frame: Image, path: str | Path) -> Path:
    """One frame as a PNG file (a still QR code: a pairing key, a single-part message)."""
    target = Path(path)
    _check_frames([frame], str(target))
    if target.suffix.lower() != ".png":
        raise OutputError(str(target), "a PNG image's name must end in .png")
    ok, encoded = cv2.imencode(".png", frame)
    if not ok:
        raise OutputError(str(target), "opencv could not encode the frame as PNG")
    try:
        target.write_bytes(encoded.tobytes())
    except OSError as exc:
        raise OutputError(str(target), f"cannot write: {exc.strerror}") from exc
    return target


def write_gif(frames: Sequence[Image], path: str | Path, *, fps: float = DEFAULT_FPS) -> Path:
    """An endlessly looping animated GIF (opencv >= 4.12 writes GIF; no Pillow needed)."""
    target = Path(path)
    _check_frames(frames, str(target))
    _check_fps(fps, str(target))
    if target.suffix.lower() != ".gif":
        raise OutputError(str(target), "an animated GIF's name must end in .gif")
    animation = cv2.Animation()
    animation.loop_count = 0  # GIF NETSCAPE2.0 loop count 0: repeat forever
    animation.frames = [_bgr(frame) for frame in frames]
    # GIF delays are in hundredths of a second; opencv takes milliseconds.
    animation.durations = [max(20, round(1000 / fps / 10) * 10)] * len(frames)
    if not target.parent.is_dir() or not cv2.imwriteanimation(str(target), animation):
        raise OutputError(str(target), "opencv could not write the GIF (folder missing?)")
    return target


def write_mp4(frames: Sequence[Image], path: str | Path, *, fps: float = DEFAULT_FPS) -> Path:
    """An MP4 (MPEG-4 part 2, ``mp4v``) video of the frames at ``fps``."""
    target = Path(path)
    height, width = _check_frames(frames, str(target))
    _check_fps(fps, str(target))
    if not target.parent.is_dir():
        raise OutputError(str(target), "the folder does not exist")
    fourcc = cv2.VideoWriter.fourcc(*"mp4v")
    writer = cv2.VideoWriter(str(target), cv2.CAP_FFMPEG, fourcc, fps, (width, height), True)
    if not writer.isOpened():
        raise OutputError(str(target), "opencv could not open an mp4v video writer")
    try:
        for frame in frames:
            writer.write(_bgr(frame))
    finally:
        writer.release()
    return target
