"""Scanning frames: every code in a frame, the fast/rectified/full passes, and degraded frames."""

from __future__ import annotations

import random

import numpy as np
import pytest
from degrade import HD, VGA, camera_frames, camera_view

from channel.density import PRESETS
from channel.errors import ChannelError
from channel.render import Image, QRStyle, render_part, render_parts
from channel.scan import ZbarReader, downscale, to_gray
from channel.sequence import PartStream
from shared.ur import UR

TEXT = "UR:BYTES/1-9/LPADASCFADAXHDCLAXFWMDNBYLRPTIBSKBHPTTPKNLYRYLADFZ"


def test_clean_code_is_found_on_the_fast_pass() -> None:
    reader = ZbarReader()
    assert reader.read(render_part(TEXT)) == (TEXT,)
    assert reader.counts.fast == 1


def test_every_code_in_a_frame_is_returned() -> None:
    left, right = render_part(TEXT), render_part("UR:CRYPTO-HDKEY/DECOY")
    height = max(left.shape[0], right.shape[0])
    frame = np.full((height, left.shape[1] + right.shape[1]), 255, dtype=np.uint8)
    frame[: left.shape[0], : left.shape[1]] = left
    frame[: right.shape[0], left.shape[1] :] = right
    assert sorted(ZbarReader().read(frame)) == sorted([TEXT, "UR:CRYPTO-HDKEY/DECOY"])


def test_a_frame_without_codes_gives_nothing() -> None:
    reader = ZbarReader()
    assert reader.read(np.full((480, 640, 3), 128, dtype=np.uint8)) == ()
    assert reader.counts.missed == 1


def test_small_code_lost_by_downscaling_is_found_at_full_size() -> None:
    # Two pixels per module in a 1280x720 frame: the fast pass at half size cannot see it.
    code = render_part(TEXT, QRStyle(module_px=2))
    frame = np.full((720, 1280), 255, dtype=np.uint8)
    frame[100 : 100 + code.shape[0], 100 : 100 + code.shape[1]] = code
    reader = ZbarReader(rectify=False)
    assert reader.read(frame) == (TEXT,)
    assert (reader.counts.fast, reader.counts.full) == (0, 1)


def test_rectifying_recovers_skewed_dense_frames(batch_request: UR) -> None:
    stream = PartStream(batch_request, PRESETS["high"])
    parts = stream.take(12)
    codes = render_parts(parts, QRStyle(ec=stream.density.ec), version=stream.version)
    frames = camera_frames(codes, VGA, seed=11)
    plain, rectifying = ZbarReader(rectify=False), ZbarReader()
    plain_hits = sum(p in plain.read(f) for f, p in zip(frames, parts, strict=True))
    rect_hits = sum(p in rectifying.read(f) for f, p in zip(frames, parts, strict=True))
    assert rectifying.counts.rectified > 0
    assert rect_hits > plain_hits


@pytest.mark.parametrize("model", [VGA, HD], ids=["640x480", "1280x720"])
def test_degraded_camera_frames_mostly_decode(model: object, batch_request: UR) -> None:
    stream = PartStream(batch_request, PRESETS["normal"])
    parts = stream.take(10)
    codes = render_parts(parts, QRStyle(ec=stream.density.ec), version=stream.version)
    frames = camera_frames(codes, model, seed=5)  # type: ignore[arg-type]
    assert frames[0].shape[:2] == (model.height, model.width)  # type: ignore[attr-defined]
    reader = ZbarReader()
    hits = sum(p in reader.read(f) for f, p in zip(frames, parts, strict=True))
    assert hits >= 8


def test_degrade_is_deterministic_in_its_seed() -> None:
    code = render_part(TEXT)
    first = camera_view(code, VGA, random.Random(3))
    again = camera_view(code, VGA, random.Random(3))
    other = camera_view(code, VGA, random.Random(4))
    assert np.array_equal(first, again) and not np.array_equal(first, other)


def test_gray_conversion_accepts_gray_bgr_and_bgra() -> None:
    gray = np.zeros((4, 6), dtype=np.uint8)
    assert to_gray(gray).shape == (4, 6)
    assert to_gray(np.zeros((4, 6, 3), dtype=np.uint8)).shape == (4, 6)
    assert to_gray(np.zeros((4, 6, 4), dtype=np.uint8)).shape == (4, 6)


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((4, 6), dtype=np.float32),
        np.zeros((0, 6), dtype=np.uint8),
        np.zeros((4, 6, 2), dtype=np.uint8),
    ],
    ids=["float", "empty", "two-channels"],
)
def test_frames_that_are_not_images_are_a_channel_error(frame: Image) -> None:
    with pytest.raises(ChannelError) as caught:
        ZbarReader().read(frame)
    assert caught.value.where == "frame"


def test_downscale_keeps_small_frames_and_shrinks_large_ones() -> None:
    small = np.zeros((300, 400), dtype=np.uint8)
    assert downscale(small, 360) is small
    assert downscale(np.zeros((720, 1280), dtype=np.uint8), 360).shape == (360, 640)
