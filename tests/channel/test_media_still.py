"""channel.media: a single still PNG for a one-code message, and the frames a scan looked at."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from channel.errors import OutputError
from channel.media import receive, write_image, write_message
from channel.output import write_png
from shared import cbor
from shared.ur import UR

SHORT = UR("bytes", cbor.encode(b"pairing key stand-in " * 3))
LONG = UR("bytes", cbor.encode(bytes(i % 251 for i in range(3000))))


def test_a_short_message_is_one_png_image_that_reads_back(tmp_path: Path) -> None:
    path = write_image(SHORT, tmp_path / "code.png")
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    received = receive(str(path), stdin=io.StringIO())
    assert received.ur == SHORT
    assert (received.frames_read, received.parts_read) == (1, 1)


def test_a_message_needing_several_codes_is_refused_as_a_still(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"needs \d+ QR codes") as caught:
        write_image(LONG, tmp_path / "code.png", density="low")
    assert caught.value.where == str(tmp_path / "code.png")
    assert not (tmp_path / "code.png").exists()


def test_a_still_must_be_named_png(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"must end in \.png"):
        write_image(SHORT, tmp_path / "code.jpg")


def test_an_unwritable_still_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="cannot write"):
        write_image(SHORT, tmp_path / "missing" / "code.png")


def test_write_png_refuses_a_frame_that_is_not_an_image(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="not a uint8 image"):
        write_png(np.zeros((4, 4), dtype=np.float32), tmp_path / "x.png")


def test_frames_read_counts_the_frames_a_scan_looked_at(tmp_path: Path) -> None:
    video = write_message(LONG, tmp_path / "long.gif", density="low")
    received = receive(str(video), stdin=io.StringIO())
    assert received.ur == LONG
    # The sender shows fragments 1..seqLen first: a clean video completes on exactly those.
    assert received.frames_read == received.progress.seq_len == received.parts_read
    text = tmp_path / "long.txt"
    write_message(LONG, text, density="low")
    assert receive(str(text), stdin=io.StringIO()).frames_read == 0
