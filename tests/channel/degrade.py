"""Test support (not a test): renders QR frames the way a webcam pointed at a screen sees them.

Each clean QR image is placed in a camera frame (640x480 or 1280x720, BGR like a real
camera) with perspective skew, rotation, blur, sensor noise, dim and uneven light and a
moiré-like interference pattern; frames can be dropped and a decoy QR can sit elsewhere in
the picture. Everything is drawn from one seed, so a failing test replays exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class CameraModel:
    """How badly the camera sees the screen. Ranges are drawn per frame from the seed."""

    width: int = 640
    height: int = 480
    # Side of the code (quiet zone included) as a share of the frame height.
    fill: float = 0.82
    # Corner jitter of the perspective warp, as a share of the code side.
    skew: float = 0.04
    rotation_deg: float = 6.0
    blur_sigma: tuple[float, float] = (0.4, 0.9)
    noise_sigma: float = 5.0
    # Overall brightness (1 = full white) and how much darker the far side is.
    brightness: tuple[float, float] = (0.55, 0.9)
    uneven: float = 0.3
    moire: float = 0.06
    # Share of frames dropped (never delivered), like a camera missing display refreshes.
    loss: float = 0.0
    background: int = 40

    def with_(self, **changes: object) -> CameraModel:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


VGA = CameraModel()
HD = CameraModel(width=1280, height=720, fill=0.78)


def _code_corners(
    model: CameraModel, side: float, centre: tuple[float, float], rng: random.Random
) -> npt.NDArray[np.float32]:
    angle = math.radians(rng.uniform(-model.rotation_deg, model.rotation_deg))
    cos, sin = math.cos(angle), math.sin(angle)
    half = side / 2
    corners = []
    for dx, dy in ((-half, -half), (half, -half), (half, half), (-half, half)):
        jx = rng.uniform(-model.skew, model.skew) * side
        jy = rng.uniform(-model.skew, model.skew) * side
        corners.append((centre[0] + dx * cos - dy * sin + jx, centre[1] + dx * sin + dy * cos + jy))
    return np.array(corners, dtype=np.float32)


def _place(
    canvas: npt.NDArray[np.float32],
    code: Image,
    corners: npt.NDArray[np.float32],
) -> None:
    size = code.shape[0]
    source = np.array([(0, 0), (size, 0), (size, size), (0, size)], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners)
    height, width = canvas.shape
    warped = cv2.warpPerspective(
        code.astype(np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=-1
    )
    inside = warped >= 0
    canvas[inside] = warped[inside]


def camera_view(
    code: Image,
    model: CameraModel,
    rng: random.Random,
    *,
    decoy: Image | None = None,
) -> Image:
    """One BGR camera frame showing the grayscale QR image ``code`` (and ``decoy``, if any)."""
    height, width = model.height, model.width
    canvas = np.full((height, width), float(model.background), dtype=np.float32)
    side = model.fill * height
    if decoy is None:
        centre = (width / 2, height / 2)
    else:
        # The message on the left, a smaller decoy on the right, as on a cluttered desk.
        centre = (side / 2 + 0.04 * width, height / 2)
        decoy_side = min(0.9 * (width - side - 0.08 * width), 0.5 * height)
        decoy_centre = (width - decoy_side / 2 - 0.03 * width, height / 2)
        _place(canvas, decoy, _code_corners(model, decoy_side, decoy_centre, rng))
    _place(canvas, code, _code_corners(model, side, centre, rng))

    sigma = rng.uniform(*model.blur_sigma)
    if sigma > 0:
        canvas = np.asarray(cv2.GaussianBlur(canvas, (0, 0), sigma), dtype=np.float32)
    # Dim, uneven light: a linear fall-off across the frame in a random direction.
    level = rng.uniform(*model.brightness)
    direction = rng.uniform(0, 2 * math.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp = (xs / width - 0.5) * math.cos(direction) + (ys / height - 0.5) * math.sin(direction)
    light = level * (1.0 - model.uneven * (ramp + 0.5))
    # Moiré: a fine sinusoid beating against the screen's pixel grid.
    if model.moire > 0:
        fx, fy = rng.uniform(0.2, 0.45), rng.uniform(0.2, 0.45)
        phase = rng.uniform(0, 2 * math.pi)
        light = light * (1.0 + model.moire * np.sin(2 * math.pi * (fx * xs + fy * ys) + phase))
    frame = canvas * light
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, model.noise_sigma, frame.shape)
    gray = np.clip(frame + noise, 0, 255).astype(np.uint8)
    # A colour camera: a slight tint per channel, so scanners must convert to gray.
    tint = np.array([0.95, 1.0, 0.9], dtype=np.float32)
    colour: Image = np.clip(gray[:, :, None].astype(np.float32) * tint, 0, 255).astype(np.uint8)
    return colour


def camera_frames(
    codes: Iterable[Image],
    model: CameraModel,
    *,
    seed: int,
    decoy: Image | None = None,
) -> list[Image]:
    """The frames a camera delivers while ``codes`` are shown, dropped ones left out."""
    rng = random.Random(seed)
    frames: list[Image] = []
    for code in codes:
        if rng.random() < model.loss:
            continue
        frames.append(camera_view(code, model, rng, decoy=decoy))
    return frames


def drop_frames(frames: Sequence[Image], loss: float, *, seed: int) -> list[Image]:
    """Keep each frame with probability ``1 - loss`` (deterministic in ``seed``)."""
    rng = random.Random(seed)
    return [frame for frame in frames if rng.random() >= loss]
