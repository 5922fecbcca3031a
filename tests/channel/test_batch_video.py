"""The real thing through real pixels: a 100-withdrawal batch request and its 100 signatures,
rendered as QR video, degraded as a webcam sees it, with 0%, 10% and 30% of frames lost, read
back through opencv and pyzbar and decoded byte for byte into the same typed messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from degrade import VGA, camera_frames
from samples import signature_batch, withdrawal_batch

from channel.density import PRESETS
from channel.frames import open_source
from channel.output import write_mp4
from channel.receiver import Receiver, receive_from
from channel.render import QRStyle, render_parts
from channel.sequence import PartStream
from shared.compressed import compress_ur, decompress_ur
from shared.erc4527 import EthBatchSignature, EthBatchSignRequest

REQUEST = withdrawal_batch()
SIGNATURES = signature_batch(REQUEST)
MESSAGES = {
    "request": REQUEST.to_ur(),
    "request-compressed": compress_ur(REQUEST.to_ur()),
    "signatures": SIGNATURES.to_ur(),
}


@pytest.mark.parametrize("loss", [0.0, 0.1, 0.3], ids=["no-loss", "10%-loss", "30%-loss"])
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_batch_crosses_a_degraded_video_byte_for_byte(
    name: str, loss: float, tmp_path: Path
) -> None:
    ur = MESSAGES[name]
    stream = PartStream(ur, PRESETS["high"])
    # Three times the fragment count: the sender loops; a reader at 30% loss needs ~2x at the
    # 95th percentile (benchmarks/batch_transfer.py), more for short messages.
    parts = stream.take(3 * stream.seq_len)
    codes = render_parts(parts, QRStyle(ec=stream.density.ec), version=stream.version)
    video = tmp_path / f"{name}.mp4"
    write_mp4(camera_frames(codes, VGA.with_(loss=loss), seed=31), video, fps=15)

    receiver = Receiver(frozenset({ur.type}))
    with open_source(str(video)) as source:
        receive_from(source, receiver)
    assert receiver.is_complete, receiver.progress
    assert receiver.result() == ur
    assert receiver.notes == ()
    if name == "signatures":
        assert EthBatchSignature.from_ur(receiver.result()) == SIGNATURES
    else:
        inner = receiver.result()
        if name == "request-compressed":
            inner = decompress_ur(inner, allowed_types=frozenset({"eth-batch-sign-request"}))
        assert EthBatchSignRequest.from_ur(inner) == REQUEST
