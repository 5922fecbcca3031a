"""Whole channel through real pixels: parts -> QR -> degraded camera frames -> MP4 -> opencv ->
pyzbar -> receiver -> the same bytes, with frame loss, a decoy, and an interleaved message."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import message
from degrade import HD, VGA, CameraModel, camera_frames

from channel.density import PRESETS
from channel.frames import open_source
from channel.output import write_mp4
from channel.receiver import NoteKind, Receiver, receive_from
from channel.render import Image, QRStyle, render_part, render_parts
from channel.sequence import PartStream
from shared.ur import UR, UREncoder, for_qr

BYTES = frozenset({"bytes"})


def shown_codes(ur: UR, density: str, factor: float) -> tuple[int, list[Image]]:
    """The sender's QR images: ``factor`` x seqLen parts in the default order."""
    stream = PartStream(ur, PRESETS[density])
    parts = stream.take(round(factor * stream.seq_len))
    images = render_parts(parts, QRStyle(ec=stream.density.ec), version=stream.version)
    return stream.seq_len, images


def scan_video(frames: list[Image], path: Path) -> Receiver:
    write_mp4(frames, path, fps=15)
    receiver = Receiver(BYTES)
    with open_source(str(path)) as source:
        receive_from(source, receiver)
    return receiver


@pytest.fixture(scope="module")
def batch_codes(batch_request: UR) -> tuple[int, list[Image]]:
    # The "high" preset at 640x480: the fewest frames for 40 KB; 3x seqLen shown.
    return shown_codes(batch_request, "high", 3.0)


@pytest.mark.parametrize("loss", [0.0, 0.1, 0.3])
def test_40kb_batch_request_survives_a_degraded_video(
    loss: float, batch_request: UR, batch_codes: tuple[int, list[Image]], tmp_path: Path
) -> None:
    seq_len, codes = batch_codes
    frames = camera_frames(codes, VGA.with_(loss=loss), seed=21)
    receiver = scan_video(frames, tmp_path / "batch.mp4")
    assert receiver.is_complete
    assert receiver.result().cbor == batch_request.cbor
    assert receiver.notes == ()
    assert receiver.progress.seq_len == seq_len


@pytest.mark.parametrize(
    ("model", "loss"), [(VGA, 0.3), (HD, 0.1)], ids=["640x480-30%", "1280x720-10%"]
)
def test_7kb_signatures_survive_a_degraded_video(
    model: CameraModel, loss: float, batch_signatures: UR, tmp_path: Path
) -> None:
    _, codes = shown_codes(batch_signatures, "normal", 3.0)
    frames = camera_frames(codes, model.with_(loss=loss), seed=22)
    receiver = scan_video(frames, tmp_path / "signatures.mp4")
    assert receiver.result().cbor == batch_signatures.cbor


def test_a_decoy_in_the_frame_is_ignored_with_a_note(batch_signatures: UR, tmp_path: Path) -> None:
    _, codes = shown_codes(batch_signatures, "normal", 3.0)
    decoy_ur = UR("crypto-hdkey", message(60, seed=5).cbor)
    decoy = render_part(for_qr(UREncoder(decoy_ur, 500).next_part()), QRStyle(module_px=3))
    frames = camera_frames(codes, VGA.with_(loss=0.1), seed=23, decoy=decoy)
    receiver = scan_video(frames, tmp_path / "decoy.mp4")
    assert receiver.result().cbor == batch_signatures.cbor
    assert [note.kind for note in receiver.notes] == [NoteKind.OTHER_TYPE]
    assert "crypto-hdkey" in receiver.notes[0].text


def test_two_interleaved_messages_note_one_and_finish_the_other(
    batch_signatures: UR, tmp_path: Path
) -> None:
    _, mine = shown_codes(batch_signatures, "normal", 3.0)
    _, other = shown_codes(message(5_000, seed=6), "normal", 3.0)
    # Two senders in turn in front of the camera; ours is seen first.
    interleaved = [code for pair in zip(mine, other, strict=False) for code in pair]
    frames = camera_frames(interleaved, VGA, seed=24)
    receiver = scan_video(frames, tmp_path / "two.mp4")
    assert receiver.result().cbor == batch_signatures.cbor
    assert [note.kind for note in receiver.notes] == [NoteKind.OTHER_MESSAGE]
