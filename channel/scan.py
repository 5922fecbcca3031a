"""QR decoding of camera frames with pyzbar: a fast downscaled pass, then rectified, then full."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt
from pyzbar.pyzbar import ZBarSymbol, decode

from channel.errors import ChannelError

Image = npt.NDArray[np.uint8]

# Shorter side of the fast pass: 720p is halved and VGA scaled by 3/4. Measured in
# benchmarks/qr_channel.py: the same per-frame success as full size up to QR version ~23
# at 4-6 times the speed; frames it misses go on to the full-size passes.
DEFAULT_FAST_SIDE = 360
# A rectified code is redrawn with this much margin on each side (share of its side), so
# zbar still sees a quiet zone.
_RECTIFY_MARGIN = 0.08


class QRReader(Protocol):
    """Anything that finds the QR codes in a frame and returns their texts."""

    def read(self, frame: Image) -> tuple[str, ...]:
        """Every QR code's text in ``frame`` (none: an empty tuple)."""
        ...


@dataclass(slots=True)
class ScanCounts:
    """How frames were decoded, for benchmarks and a scan screen's diagnostics."""

    frames: int = 0
    fast: int = 0
    full: int = 0
    rectified: int = 0
    missed: int = 0


def to_gray(frame: Image) -> Image:
    """A contiguous 8-bit grayscale copy (or view) of a gray, BGR or BGRA frame."""
    if frame.dtype != np.uint8 or frame.size == 0:
        raise ChannelError("frame", f"expected a non-empty uint8 image, got {frame.dtype}")
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 3:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if frame.ndim == 3 and frame.shape[2] == 4:
        return np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGRA2GRAY), dtype=np.uint8)
    raise ChannelError("frame", f"expected a gray, BGR or BGRA image, got shape {frame.shape}")


def zbar_texts(gray: Image) -> tuple[str, ...]:
    """Texts of every QR code zbar finds in a grayscale image, in zbar's order."""
    height, width = gray.shape
    results = decode((gray.tobytes(), width, height), symbols=[ZBarSymbol.QRCODE])
    # zbar hands back bytes; a UR is ASCII, anything else only needs to be shown in a note.
    return tuple(result.data.decode("utf-8", errors="replace") for result in results)


def downscale(gray: Image, shorter_side: int) -> Image:
    """``gray`` shrunk (area filter) so its shorter side is at most ``shorter_side``."""
    height, width = gray.shape
    scale = shorter_side / min(height, width)
    if scale >= 1.0:
        return gray
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


class ZbarReader:
    """The standard :class:`QRReader`: pyzbar restricted to QR codes.

    Three passes, each only when the one before found nothing: the frame downscaled to
    ``fast_side`` (most frames end here); the code opencv's detector locates, cut from the
    full-size frame and warped flat (zbar loses dense codes under perspective skew, and a
    flat redraw brings most of them back); and the full-size frame as it is (small codes).
    """

    def __init__(self, *, fast_side: int = DEFAULT_FAST_SIDE, rectify: bool = True) -> None:
        if fast_side < 32:
            raise ValueError("fast_side must be at least 32 pixels")
        self._fast_side = fast_side
        self._rectify = rectify
        self._detector = cv2.QRCodeDetector() if rectify else None
        self.counts = ScanCounts()

    def read_fast(self, frame: Image) -> tuple[str, ...]:
        """The downscaled pass alone: for a camera loop that would rather skip a frame."""
        return zbar_texts(downscale(to_gray(frame), self._fast_side))

    def read(self, frame: Image) -> tuple[str, ...]:
        """Every QR code's text in ``frame``."""
        gray = to_gray(frame)
        self.counts.frames += 1
        small = downscale(gray, self._fast_side)
        texts = zbar_texts(small)
        if texts:
            self.counts.fast += 1
            return texts
        if self._detector is not None:
            flat = rectified(self._detector, small, gray)
            if flat is not None:
                texts = zbar_texts(flat)
                if texts:
                    self.counts.rectified += 1
                    return texts
        if small is not gray:
            texts = zbar_texts(gray)
            if texts:
                self.counts.full += 1
                return texts
        self.counts.missed += 1
        return ()


def rectified(detector: cv2.QRCodeDetector, small: Image, gray: Image) -> Image | None:
    """The code ``detector`` locates in ``small``, cut from ``gray`` (same picture, full size)
    and warped flat and square; None if no plausible code was found.

    Locating on the downscaled frame costs a fraction of the full-size search (which is
    tried only when that fails); the warp samples the full-size pixels, so no detail is lost.
    """
    corners = None
    for picture in (small, gray) if small is not gray else (gray,):
        found, points = detector.detect(picture)
        if found and points is not None and points.size == 8:
            scale = gray.shape[1] / picture.shape[1]
            corners = (points.reshape(4, 2) * scale).astype(np.float32)
            break
    if corners is None:
        return None
    side = int(
        max(
            np.linalg.norm(corners[0] - corners[1]),
            np.linalg.norm(corners[1] - corners[2]),
            np.linalg.norm(corners[2] - corners[3]),
            np.linalg.norm(corners[3] - corners[0]),
        )
    )
    # Version 1 is 21 modules; a side longer than the frame's diagonal is a bogus detection.
    if not 21 <= side <= gray.shape[0] + gray.shape[1]:
        return None
    margin = int(side * _RECTIFY_MARGIN)
    target = np.array(
        [
            (margin, margin),
            (margin + side, margin),
            (margin + side, margin + side),
            (margin, margin + side),
        ],
        dtype=np.float32,
    )
    matrix = cv2.getPerspectiveTransform(corners, target)
    size = side + 2 * margin
    flat = cv2.warpPerspective(gray, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=255)
    return np.asarray(flat, dtype=np.uint8)
