"""Frame sources behind one interface: a camera, a video file, an image, a folder, or memory."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

import cv2
import numpy as np
import numpy.typing as npt

from channel.errors import (
    CameraError,
    EmptyFolderError,
    NotAnImageError,
    SourceNotFoundError,
    UnreadableVideoError,
    UnsupportedSourceError,
)

Image = npt.NDArray[np.uint8]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm"})
# Animated GIFs go through opencv's video reader (ffmpeg), like any clip.
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".gif"})
_CAMERA_SPEC = re.compile(r"camera:(\d{1,3})(?::(\d{2,5})x(\d{2,5}))?")


class FrameSource(Protocol):
    """Frames (uint8, gray or BGR) one after another; close it, or use it as a context."""

    def __iter__(self) -> Iterator[Image]:
        """Frames until the source ends (a camera never does)."""
        ...

    def close(self) -> None:
        """Release the device or file; iterating afterwards yields nothing."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class _Closing:
    """Context-manager behaviour shared by the sources: ``with`` closes."""

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class MemorySource(_Closing):
    """Frames already in memory (tests, rendered previews)."""

    def __init__(self, frames: Iterable[Image]) -> None:
        self._frames: tuple[Image, ...] | None = tuple(frames)

    def __iter__(self) -> Iterator[Image]:
        return iter(self._frames or ())

    def close(self) -> None:
        """Forget the frames."""
        self._frames = None


def read_image(path: Path) -> Image:
    """One image file as a BGR (or gray) uint8 array.

    Raises :class:`SourceNotFoundError` if there is no such file and
    :class:`NotAnImageError` if opencv cannot decode its bytes.
    """
    if not path.is_file():
        raise SourceNotFoundError(str(path), "no such image file")
    # imdecode rather than imread: it never prints to stderr and handles any file name.
    data = np.fromfile(path, dtype=np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None or image.size == 0:
        raise NotAnImageError(str(path), "not a readable image (PNG, JPEG, BMP, TIFF, WebP)")
    if image.dtype == np.uint16:
        # 16-bit PNGs and TIFFs: keep the high byte, which is all a scanner needs.
        return np.asarray(np.right_shift(image, 8), dtype=np.uint8)
    if image.dtype != np.uint8:
        raise NotAnImageError(str(path), f"pixel type {image.dtype} is neither 8 nor 16 bits")
    return np.asarray(image, dtype=np.uint8)


class ImageFileSource(_Closing):
    """One image file, as a single frame."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        # Read now, so a bad file is reported when the source is opened, not mid-scan.
        self._image: Image | None = read_image(self._path)

    def __iter__(self) -> Iterator[Image]:
        if self._image is not None:
            yield self._image

    def close(self) -> None:
        """Drop the image."""
        self._image = None


def _natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    # frame_2.png sorts before frame_10.png, as a person numbering frames means.
    return tuple(
        (0, int(piece)) if piece.isdigit() else (1, piece)
        for piece in re.split(r"(\d+)", path.name)
        if piece
    )


class ImageFolderSource(_Closing):
    """Every image file in a folder, in natural name order (``frame_2`` before ``frame_10``)."""

    def __init__(self, path: str | Path) -> None:
        folder = Path(path)
        if not folder.is_dir():
            raise SourceNotFoundError(str(folder), "no such folder")
        self._paths: Sequence[Path] = sorted(
            (p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS),
            key=_natural_key,
        )
        if not self._paths:
            raise EmptyFolderError(
                str(folder), f"no image files ({', '.join(sorted(IMAGE_EXTENSIONS))})"
            )

    @property
    def paths(self) -> tuple[Path, ...]:
        """The image files, in the order they are read."""
        return tuple(self._paths)

    def __iter__(self) -> Iterator[Image]:
        for path in self._paths:
            yield read_image(path)

    def close(self) -> None:
        """Forget the file list."""
        self._paths = ()


class _CaptureSource(_Closing):
    """Frames from an opencv ``VideoCapture`` (device or file)."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self._capture: cv2.VideoCapture | None = capture

    def _read(self) -> Image | None:
        if self._capture is None:
            return None
        ok, frame = self._capture.read()
        if not ok or frame is None or frame.size == 0:
            return None
        return np.asarray(frame, dtype=np.uint8)

    def close(self) -> None:
        """Release the capture."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class VideoFileSource(_CaptureSource):
    """Every frame of a video file (MP4, AVI, MKV, WebM, MOV, animated GIF) via ffmpeg."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        if not self._path.is_file():
            raise SourceNotFoundError(str(self._path), "no such video file")
        capture = cv2.VideoCapture(str(self._path), cv2.CAP_FFMPEG)
        super().__init__(capture)
        if not capture.isOpened():
            self.close()
            raise UnreadableVideoError(str(self._path), "opencv cannot open it as a video")
        # A truncated or corrupt file may open and then give nothing: find out now.
        self._first = self._read()
        if self._first is None:
            self.close()
            raise UnreadableVideoError(str(self._path), "the video has no readable frame")

    def __iter__(self) -> Iterator[Image]:
        first, self._first = self._first, None
        if first is not None:
            yield first
        while (frame := self._read()) is not None:
            yield frame


class CameraSource(_CaptureSource):
    """Live frames from camera ``index`` at the requested size (the driver may pick another)."""

    def __init__(self, index: int = 0, width: int = 1280, height: int = 720) -> None:
        if index < 0:
            raise SourceNotFoundError(f"camera:{index}", "a camera index is 0 or more")
        self.index = index
        capture = cv2.VideoCapture(index)
        super().__init__(capture)
        if not capture.isOpened():
            self.close()
            raise CameraError(
                f"camera:{index}", "no camera at this index, or it is in use by another program"
            )
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)

    def __iter__(self) -> Iterator[Image]:
        while self._capture is not None:
            frame = self._read()
            if frame is None:
                if self._capture is None:
                    return
                raise CameraError(f"camera:{self.index}", "the camera stopped delivering frames")
            yield frame


def open_source(spec: str) -> FrameSource:
    """The frame source ``spec`` names.

    ``camera:N`` or ``camera:N:WxH`` (device N, default 1280x720); a folder (its images,
    in name order); a file by extension: an image (one frame) or a video (every frame).
    """
    match = _CAMERA_SPEC.fullmatch(spec)
    if match is not None:
        width, height = (int(match[2]), int(match[3])) if match[2] else (1280, 720)
        return CameraSource(int(match[1]), width, height)
    if spec.startswith("camera:"):
        raise UnsupportedSourceError(spec, "expected camera:N or camera:N:WIDTHxHEIGHT")
    path = Path(spec)
    if path.is_dir():
        return ImageFolderSource(path)
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return ImageFileSource(path)
    if suffix in VIDEO_EXTENSIONS:
        return VideoFileSource(path)
    if not path.exists():
        raise SourceNotFoundError(spec, "no such file, folder or camera")
    raise UnsupportedSourceError(
        spec, f"unknown extension {suffix or '(none)'!r}: not an image or a video"
    )
