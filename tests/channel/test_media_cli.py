"""coldsign-ur with real images and videos: show writes QR frames, decode reads them back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from channel.cli import EXIT_INCOMPLETE, EXIT_INVALID, EXIT_OK, main
from channel.media import receive, write_message
from shared import cbor
from shared.compressed import COMPRESSED_TYPE
from shared.ur import UR

# A message of ~3 KB: several QR frames at the low density.
MESSAGE = cbor.encode(bytes((i * 7 + 3) % 251 for i in range(3000)))


def run(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("name", ["qr.gif", "qr.mp4", "frames", "parts.txt"])
def test_show_then_decode_round_trips_through_each_output(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    code, _, err = run(
        ["show", "--type", "bytes", "--out", str(out), "--density", "low"], MESSAGE.hex()
    )
    assert code == EXIT_OK, err
    code, stdout, err = run(["decode", str(out)])
    assert code == EXIT_OK, err
    document = json.loads(stdout)
    assert (document["type"], document["cbor"]) == ("bytes", MESSAGE.hex())


def test_compressed_show_is_unwrapped_by_decode(tmp_path: Path) -> None:
    out = tmp_path / "qr.gif"
    code, _, err = run(
        ["show", "--type", "bytes", "--out", str(out), "--compress"], cbor.encode(b"a" * 4000).hex()
    )
    assert code == EXIT_OK, err
    code, stdout, err = run(["decode", str(out)])
    assert code == EXIT_OK, err
    document = json.loads(stdout)
    assert document["envelope"] == COMPRESSED_TYPE
    assert document["fields"] == {"bytes": "61" * 4000}


def test_show_in_the_terminal_prints_half_block_frames() -> None:
    code, out, _ = run(["show", "--type", "bytes", "--out", "-", "--frames", "2"], "43010203")
    assert code == EXIT_OK
    assert "\u2580" in out or "\u2584" in out or "\u2588" in out
    assert out.count("UR:BYTES/") == 2


def test_a_video_cut_short_is_incomplete(tmp_path: Path) -> None:
    ur = UR("bytes", MESSAGE)
    folder = write_message(ur, tmp_path / "all", density="low", frames=30)
    frames = sorted(folder.iterdir())
    short = tmp_path / "short"
    short.mkdir()
    for frame in frames[:2]:
        (short / frame.name).write_bytes(frame.read_bytes())
    code, out, err = run(["decode", str(short)])
    assert (code, out) == (EXIT_INCOMPLETE, "")
    assert "incomplete" in err


def test_an_image_without_a_code_and_an_empty_folder_are_clear_errors(tmp_path: Path) -> None:
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160), 255, dtype=np.uint8))
    code, _, err = run(["decode", str(blank)])
    assert code == EXIT_INCOMPLETE and "0 of ? parts" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(["decode", str(empty)])
    assert code == EXIT_INVALID and "Traceback" not in err and str(empty) in err


@pytest.mark.parametrize("name", ["broken.mp4", "broken.png"])
def test_an_unreadable_media_file_is_a_clear_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"not a video or image at all")
    code, out, err = run(["decode", str(path)])
    assert (code, out) == (EXIT_INVALID, "")
    assert err.startswith("coldsign-ur: ") and err.count("\n") == 1


def test_a_code_of_another_type_is_noted_not_merged(tmp_path: Path) -> None:
    ours = write_message(UR("bytes", MESSAGE), tmp_path / "ours", density="low")
    decoy = write_message(UR("x-decoy", b"\x01\x02"), tmp_path / "decoy.png", density="low")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for index, frame in enumerate(sorted(ours.iterdir())):
        (mixed / f"{index:04d}a.png").write_bytes(frame.read_bytes())
        if index == 1:
            for d in sorted(decoy.iterdir()):
                (mixed / f"{index:04d}b.png").write_bytes(d.read_bytes())
    received = receive(str(mixed), stdin=io.StringIO(), expected_types=frozenset({"bytes"}))
    assert received.ur == UR("bytes", MESSAGE)
    assert [n.kind.value for n in received.notes] == ["other-type"]


def test_show_refuses_an_unwritable_output(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(
        ["show", "--type", "bytes", "--out", str(blocker / "sub"), "--frames", "1"], "43010203"
    )
    assert code == EXIT_INVALID and "Traceback" not in err
