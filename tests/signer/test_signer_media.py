"""coldsign-signer reading requests from QR images and video, and writing QR codes back.

``sign --in`` takes an image, a folder of frames or a video (through ``channel.media``), and
``--out`` / ``export-account --out`` write an animation (.gif, .mp4) or a still PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from signerkit import OFFLINE, PASSPHRASE, STANDARD, eip1559, make_home, tx_request

from channel.media import receive, write_message
from shared.erc4527 import EthBatchSignature, EthBatchSignRequest, HDKey, RequestId
from shared.ur import UR, URDecoder
from signer.audit import AuditLog
from signer.cli import EXIT_BAD_INPUT, EXIT_OK, EXIT_REFUSED, Environment, main
from signer.home import SignerHome
from signer.keys.kdf import MIN_PARAMS

STRANGER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


class Run:
    """One CLI invocation's status and streams."""

    def __init__(self, status: int, stdout: str, stderr: str) -> None:
        self.status, self.stdout, self.stderr = status, stdout, stderr


def cli(*argv: str | Path) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()

    def no_prompt(prompt: str) -> str:
        raise AssertionError(f"unexpected prompt {prompt!r}")

    env = Environment(stdout, stderr, OFFLINE, no_prompt, kdf=MIN_PARAMS)
    status = main([str(arg) for arg in argv], environment=env)
    return Run(status, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


@pytest.fixture
def passphrase(tmp_path: Path) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(PASSPHRASE + "\n")
    return path


def batch_ur(*txs: dict[str, object]) -> tuple[UR, list[RequestId | None]]:
    requests = tuple(tx_request(tx, STANDARD[0]) for tx in txs)
    return EthBatchSignRequest(requests).to_ur(), [r.request_id for r in requests]


def read_back(path: Path) -> UR:
    received = receive(str(path), stdin=io.StringIO())
    assert received.ur is not None, received.progress
    return received.ur


def decisions(home: SignerHome) -> int:
    with AuditLog.open(home.audit_path) as log:
        return sum(1 for entry in log.entries() if entry.kind == "decision")


def sign(home: SignerHome, source: Path, out: Path, passphrase: Path, *extra: str) -> Run:
    return cli(
        "sign",
        "--home",
        home.root,
        "--in",
        source,
        "--out",
        out,
        "--passphrase-file",
        passphrase,
        *extra,
    )


def test_sign_scans_a_video_and_answers_with_a_video(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    ur, ids = batch_ur(*(eip1559(n) for n in range(8)))
    video = write_message(ur, tmp_path / "batch.mp4", density="low")
    out = tmp_path / "signatures.mp4"
    run = sign(home, video, out, passphrase, "--density", "low")
    assert run.status == EXIT_OK, run.stderr
    scanned = next(line for line in run.stdout.splitlines() if line.startswith("scanned "))
    assert f"scanned {video}: " in scanned and " frames, " in scanned
    assert "signed 8 of 8" in run.stdout
    answer = EthBatchSignature.from_ur(read_back(out))
    assert [s.request_id for s in answer.signatures] == ids


def test_sign_reads_a_folder_of_frames_with_a_decoy_and_answers_with_a_gif(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    ur, ids = batch_ur(eip1559(0), eip1559(1, to=STRANGER))
    frames = write_message(ur, tmp_path / "frames", density="low")
    write_message(UR("x-decoy", b"\x01\x02"), tmp_path / "decoy", density="low", frames=1)
    (frames / "frame_0000a.png").write_bytes((tmp_path / "decoy" / "frame_0001.png").read_bytes())
    out = tmp_path / "signatures.gif"
    run = sign(home, frames, out, passphrase)
    assert run.status == EXIT_REFUSED, run.stderr
    assert "scan note: ignored a code of another type" in run.stdout
    assert "item 2: REFUSED" in run.stdout and "not an allowed destination" in run.stdout
    answer = EthBatchSignature.from_ur(read_back(out))
    assert [s.request_id for s in answer.signatures] == ids[:1]


def test_an_incomplete_video_is_bad_input_and_decides_nothing(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    ur, _ = batch_ur(*(eip1559(n) for n in range(8)))
    video = write_message(ur, tmp_path / "short.mp4", density="low", frames=1)
    out = tmp_path / "signatures.mp4"
    run = sign(home, video, out, passphrase)
    assert run.status == EXIT_BAD_INPUT
    assert "do not make a complete request" in run.stderr and "1 frames" in run.stderr
    assert not out.exists()
    assert decisions(home) == 0


@pytest.mark.parametrize("name", ["missing.mp4", "broken.mp4", "broken.png"])
def test_an_unreadable_source_is_bad_input(
    home: SignerHome, passphrase: Path, tmp_path: Path, name: str
) -> None:
    source = tmp_path / name
    if name.startswith("broken"):
        source.write_bytes(b"not an image or a video")
    run = sign(home, source, tmp_path / "out.mp4", passphrase)
    assert run.status == EXIT_BAD_INPUT
    assert run.stderr.startswith("coldsign-signer: ") and str(source) in run.stderr
    assert decisions(home) == 0


def test_sign_refuses_a_still_png_answer_before_signing(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    ur, _ = batch_ur(eip1559(0))
    video = write_message(ur, tmp_path / "batch.gif", density="low")
    run = sign(home, video, tmp_path / "answer.png", passphrase)
    assert run.status == EXIT_BAD_INPUT and "use .gif or .mp4" in run.stderr
    assert decisions(home) == 0


def test_sign_refuses_an_output_folder_that_does_not_exist_before_signing(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    ur, _ = batch_ur(eip1559(0))
    video = write_message(ur, tmp_path / "batch.gif", density="low")
    run = sign(home, video, tmp_path / "nowhere" / "answer.gif", passphrase)
    assert run.status == EXIT_BAD_INPUT and "does not exist" in run.stderr
    assert decisions(home) == 0


def test_export_account_as_a_still_png_equals_the_text_export(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    png, text = tmp_path / "pairing.png", tmp_path / "pairing.txt"
    for out in (png, text):
        run = cli(
            "export-account", "--home", home.root, "--out", out, "--passphrase-file", passphrase
        )
        assert run.status == EXIT_OK, run.stderr
    assert (
        "a QR code image of ur:crypto-hdkey"
        in cli(
            "export-account", "--home", home.root, "--out", png, "--passphrase-file", passphrase
        ).stdout
    )
    decoder = URDecoder()
    for line in text.read_text().splitlines():
        decoder.receive(line)
    from_image = read_back(png)
    assert from_image == decoder.result()
    assert HDKey.from_ur(from_image).note == "account.standard"


def test_export_account_as_an_animation(home: SignerHome, passphrase: Path, tmp_path: Path) -> None:
    out = tmp_path / "pairing.gif"
    run = cli("export-account", "--home", home.root, "--out", out, "--passphrase-file", passphrase)
    assert run.status == EXIT_OK, run.stderr
    assert HDKey.from_ur(read_back(out)).origin is not None
