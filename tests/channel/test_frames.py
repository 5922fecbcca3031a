"""Frame sources: each kind read back through opencv, open_source dispatch, every bad input."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from channel.errors import (
    CameraError,
    EmptyFolderError,
    NotAnImageError,
    OutputError,
    SourceNotFoundError,
    UnreadableVideoError,
    UnsupportedSourceError,
)
from channel.frames import (
    CameraSource,
    FrameSource,
    ImageFileSource,
    ImageFolderSource,
    MemorySource,
    VideoFileSource,
    open_source,
)
from channel.output import write_gif, write_mp4, write_png_frames
from channel.render import Image, render_part
from channel.scan import ZbarReader

TEXTS = [f"UR:BYTES/{word}" for word in ("ALPHA", "BRAVO", "CHARLIE", "DELTA")]


@pytest.fixture(scope="module")
def codes() -> list[Image]:
    return [render_part(text) for text in TEXTS]


def read_all(source: FrameSource) -> list[tuple[str, ...]]:
    reader = ZbarReader()
    with source:
        return [reader.read(frame) for frame in source]


def test_memory_source_yields_its_frames_and_closes(codes: list[Image]) -> None:
    source = MemorySource(codes)
    assert read_all(source) == [(text,) for text in TEXTS]
    assert list(source) == []


def test_png_frames_read_back_in_order_as_a_folder(tmp_path: Path, codes: list[Image]) -> None:
    # 11 frames, so name order and number order differ only with zero padding.
    frames = [codes[i % 4] for i in range(11)]
    paths = write_png_frames(frames, tmp_path / "out")
    assert [p.name for p in paths][:2] == ["frame_0001.png", "frame_0002.png"]
    source = open_source(str(tmp_path / "out"))
    assert isinstance(source, ImageFolderSource)
    assert read_all(source) == [(TEXTS[i % 4],) for i in range(11)]


def test_folder_is_read_in_natural_order(tmp_path: Path, codes: list[Image]) -> None:
    for name, image in (("f10.png", codes[2]), ("f2.png", codes[1]), ("f1.png", codes[0])):
        cv2.imwrite(str(tmp_path / name), image)
    (tmp_path / "notes.txt").write_text("not a frame")
    source = ImageFolderSource(tmp_path)
    assert [p.name for p in source.paths] == ["f1.png", "f2.png", "f10.png"]
    assert read_all(source) == [(TEXTS[0],), (TEXTS[1],), (TEXTS[2],)]


def test_single_image_file(tmp_path: Path, codes: list[Image]) -> None:
    path = tmp_path / "code.png"
    cv2.imwrite(str(path), codes[3])
    source = open_source(str(path))
    assert isinstance(source, ImageFileSource)
    assert read_all(source) == [(TEXTS[3],)]


def test_mp4_and_gif_read_back_frame_by_frame(tmp_path: Path, codes: list[Image]) -> None:
    mp4 = write_mp4(codes, tmp_path / "codes.mp4", fps=4)
    gif = write_gif(codes, tmp_path / "codes.gif", fps=4)
    for path in (mp4, gif):
        source = open_source(str(path))
        assert isinstance(source, VideoFileSource)
        assert read_all(source) == [(text,) for text in TEXTS]


def test_missing_file_is_source_not_found(tmp_path: Path) -> None:
    for spec in ("absent.mp4", "absent.png", "absent"):
        with pytest.raises(SourceNotFoundError) as caught:
            open_source(str(tmp_path / spec))
        assert caught.value.where == str(tmp_path / spec)


def test_missing_folder_is_source_not_found(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError):
        ImageFolderSource(tmp_path / "nowhere")


def test_corrupt_video_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(UnreadableVideoError) as caught:
        open_source(str(path))
    assert caught.value.where == str(path)


def test_truncated_video_is_unreadable(tmp_path: Path, codes: list[Image]) -> None:
    whole = write_mp4(codes, tmp_path / "whole.mp4", fps=4).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(UnreadableVideoError):
        VideoFileSource(cut)


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(EmptyFolderError) as caught:
        open_source(str(tmp_path))
    assert caught.value.where == str(tmp_path)


def test_an_image_that_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "fake.png"
    path.write_text("this is text, not a PNG")
    with pytest.raises(NotAnImageError) as caught:
        open_source(str(path))
    assert caught.value.where == str(path)


def test_an_empty_image_file_is_not_an_image(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(NotAnImageError):
        ImageFileSource(path)


def test_a_bad_image_in_a_folder_is_reported_when_reached(
    tmp_path: Path, codes: list[Image]
) -> None:
    cv2.imwrite(str(tmp_path / "a.png"), codes[0])
    (tmp_path / "b.png").write_bytes(b"\x89PNG broken")
    frames = iter(ImageFolderSource(tmp_path))
    assert next(frames).shape == codes[0].shape
    with pytest.raises(NotAnImageError) as caught:
        next(frames)
    assert caught.value.where == str(tmp_path / "b.png")


def test_unknown_extension_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "parts.txt"
    path.write_text("ur:bytes/...")
    with pytest.raises(UnsupportedSourceError):
        open_source(str(path))


@pytest.mark.parametrize("spec", ["camera:", "camera:x", "camera:0:big", "camera:-1"])
def test_malformed_camera_spec_is_unsupported(spec: str) -> None:
    with pytest.raises(UnsupportedSourceError) as caught:
        open_source(spec)
    assert caught.value.where == spec


def test_missing_camera_index_is_a_camera_error() -> None:
    # No test machine has 64 cameras: opencv cannot open the device.
    with pytest.raises(CameraError) as caught:
        open_source("camera:63")
    assert caught.value.where == "camera:63"
    with pytest.raises(CameraError):
        CameraSource(63, 640, 480)


def test_negative_camera_index_is_not_found() -> None:
    with pytest.raises(SourceNotFoundError):
        CameraSource(-1)


def test_writers_refuse_what_they_cannot_write(tmp_path: Path, codes: list[Image]) -> None:
    with pytest.raises(OutputError):
        write_mp4([], tmp_path / "none.mp4")
    with pytest.raises(OutputError):
        write_mp4(codes, tmp_path / "missing" / "x.mp4")
    with pytest.raises(OutputError):
        write_gif(codes, tmp_path / "x.png")
    with pytest.raises(OutputError):
        write_gif(codes, tmp_path / "x.gif", fps=0)
    with pytest.raises(OutputError):
        write_png_frames([codes[0], codes[0][:10]], tmp_path / "mixed")
