"""Sending orders: standard parts only, decodable by coldsign and by ngraveio's decoder, and
the chosen order needs no more frames than the standard one under loss."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest
from conftest import message

from channel.density import PRESETS, stable_version
from channel.errors import SettingError
from channel.sequence import (
    DEFAULT_ORDER,
    PartMaker,
    PartStream,
    SendingOrder,
    sending_order,
    seq_numbers,
    simulate_loss,
)
from shared.ur import UR, URDecoder, UREncoder, for_qr
from shared.ur.fountain import choose_fragments

ORACLE = Path(__file__).resolve().parents[2] / "interop" / "bcur.mjs"


def test_part_maker_equals_the_reference_encoder_for_every_number() -> None:
    ur = message(2000, seed=1)
    maker = PartMaker(ur, 150)
    expected = UREncoder(ur, 150).parts(3 * maker.seq_len)
    assert [maker.part(n) for n in range(1, 3 * maker.seq_len + 1)] == expected


def test_orders_start_where_they_say() -> None:
    ur = message(2000, seed=1)
    maker = PartMaker(ur, 150)
    n = maker.seq_len

    def first(order: SendingOrder, count: int) -> list[int]:
        return list(itertools.islice(seq_numbers(order, n, maker.checksum), count))

    assert first(SendingOrder.STANDARD, n + 2) == list(range(1, n + 3))
    assert first(SendingOrder.FOUNTAIN, 3) == [n + 1, n + 2, n + 3]
    mixed = first(SendingOrder.MIXED, 4 * n)
    assert mixed[:n] == list(range(1, n + 1))
    assert mixed[n:] == sorted(mixed[n:]) and mixed[n] > n
    assert all(len(choose_fragments(s, n, maker.checksum)) > 1 for s in mixed[n:])
    # FOUNTAIN is exactly the reference encoder started at seqLen (first_seq_num).
    fountain = [maker.part(s) for s in first(SendingOrder.FOUNTAIN, 5)]
    assert fountain == UREncoder(ur, 150, first_seq_num=n).parts(5)


def test_a_single_part_message_repeats_its_one_part() -> None:
    ur = UR("bytes", bytes.fromhex("43010203"))
    stream = PartStream(ur, PRESETS["normal"])
    assert stream.seq_len == 1
    assert stream.take(3) == [for_qr(UREncoder(ur, 400).next_part())] * 3


@pytest.mark.parametrize("order", list(SendingOrder))
def test_every_order_decodes_with_coldsigns_decoder(order: SendingOrder) -> None:
    ur = message(3000, seed=2)
    stream = PartStream(ur, PRESETS["low"], order)
    decoder = URDecoder(frozenset({"bytes"}))
    for part in itertools.islice(stream, 3 * stream.seq_len):
        assert part == part.upper()
        decoder.receive(part)
        if decoder.is_complete:
            break
    assert decoder.result() == ur


def test_live_density_switch_changes_fragments_and_version() -> None:
    ur = message(40_000, seed=3)
    stream = PartStream(ur, PRESETS["normal"])
    normal = (stream.seq_len, stream.version)
    stream.set_density(PRESETS["high"])
    assert stream.seq_len < normal[0] and stream.version > normal[1]
    assert stream.version == stable_version("bytes", 40_000, PRESETS["high"])
    assert stream.take(1)[0].startswith(f"UR:BYTES/1-{stream.seq_len}/")


def test_unknown_order_is_a_setting_error() -> None:
    with pytest.raises(SettingError) as caught:
        sending_order("random")
    assert caught.value.where == "order"
    assert sending_order("mixed") is SendingOrder.MIXED


def test_without_loss_the_default_order_needs_exactly_seq_len_frames() -> None:
    maker = PartMaker(message(7_000, seed=7), PRESETS["normal"].max_fragment_length)
    stats = simulate_loss(maker, DEFAULT_ORDER, 0.0, runs=1, seed=1)
    assert stats.mean == stats.worst == 1.0


@pytest.mark.parametrize("loss", [0.1, 0.3])
def test_default_order_needs_fewer_frames_than_standard_under_loss(loss: float) -> None:
    maker = PartMaker(message(7_000, seed=7), PRESETS["low"].max_fragment_length)
    standard = simulate_loss(maker, SendingOrder.STANDARD, loss, runs=40, seed=5)
    chosen = simulate_loss(maker, DEFAULT_ORDER, loss, runs=40, seed=5)
    assert chosen.mean < standard.mean
    # Never below the information limit: seqLen received frames out of 1 - loss shown.
    assert chosen.mean >= 1 / (1 - loss) - 0.05


@pytest.mark.node
def test_the_default_order_decodes_with_ngraveio_bc_ur() -> None:
    ur = message(7_000, seed=7)
    stream = PartStream(ur, PRESETS["normal"])
    shown = stream.take(3 * stream.seq_len)
    # The reference decoder (the one wallets embed) gets every part, and every third lost.
    runs = [shown, [p for i, p in enumerate(shown) if i % 3 != 2]]
    request = {"ops": [{"op": "decode", "parts": run} for run in runs]}
    completed = subprocess.run(
        ["node", str(ORACLE)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    results = json.loads(completed.stdout)["results"]
    for result in results:
        assert result["complete"], result["error"]
        assert bytes.fromhex(result["cborHex"]) == ur.cbor
    assert results[0]["partsUsed"] == stream.seq_len
