"""The receiver: progress, notes given once for decoys and strays, switching, the flood limit."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from conftest import message

from channel.errors import ScanNotConvergingError
from channel.frames import MemorySource
from channel.receiver import DEFAULT_SWITCH_AFTER, NoteKind, Receiver, receive_from
from channel.render import Image
from channel.sequence import PartMaker
from shared.errors import IncompleteError
from shared.ur import UR, UREncoder, for_qr
from shared.ur.fountain import FountainPart
from shared.ur.multipart import format_part

BYTES = frozenset({"bytes"})


def _blank() -> Image:
    return np.zeros((8, 8), dtype=np.uint8)


def parts(ur: UR, count: int, *, fragment: int = 100, first: int = 0) -> list[str]:
    return [for_qr(p) for p in UREncoder(ur, fragment, first_seq_num=first).parts(count)]


class ScriptedReader:
    """A QR reader that returns prepared payloads, one tuple per frame."""

    def __init__(self, script: Sequence[tuple[str, ...]]) -> None:
        self._script = iter(script)

    def read(self, frame: Image) -> tuple[str, ...]:
        return next(self._script)


def kinds(receiver: Receiver) -> list[NoteKind]:
    return [note.kind for note in receiver.notes]


def test_parts_in_order_complete_the_message_with_progress() -> None:
    ur = message(1000, seed=1)
    receiver = Receiver(BYTES)
    stream = parts(ur, 10)
    receiver.feed(stream[:3])
    progress = receiver.progress
    assert (progress.parts_received, progress.seq_len, progress.complete) == (3, 10, False)
    assert 0 < progress.fraction < 1
    receiver.feed(stream[3:])
    assert receiver.is_complete and receiver.result() == ur
    assert receiver.notes == ()


def test_result_before_completion_is_incomplete() -> None:
    receiver = Receiver(BYTES)
    receiver.feed(parts(message(1000, seed=1), 2))
    with pytest.raises(IncompleteError):
        receiver.result()


def test_a_single_part_ur_completes_at_once() -> None:
    ur = message(60, seed=2)
    receiver = Receiver(BYTES)
    receiver.feed(parts(ur, 1, fragment=500))
    assert receiver.result() == ur


def test_repeated_frames_count_once() -> None:
    ur = message(1000, seed=1)
    receiver = Receiver(BYTES)
    first = parts(ur, 1)[0]
    receiver.feed([first] * 30)
    assert receiver.progress.parts_received == 1


def test_a_payload_that_is_not_a_ur_is_noted_once() -> None:
    receiver = Receiver(BYTES)
    receiver.feed(["https://example.com/wifi", "WIFI:S:home;;", "https://example.com/wifi"])
    receiver.feed(["\u00e9t\u00e9"])
    assert kinds(receiver) == [NoteKind.NOT_UR]
    assert "not a UR" in receiver.notes[0].text


def test_a_decoy_of_another_type_is_noted_once_per_type() -> None:
    decoy = message(50, seed=3)
    receiver = Receiver(BYTES)
    new = receiver.feed(parts(UR("crypto-hdkey", decoy.cbor), 1, fragment=500) * 3)
    assert [note.kind for note in new] == [NoteKind.OTHER_TYPE]
    assert receiver.feed(parts(UR("crypto-hdkey", decoy.cbor), 1, fragment=500)) == []
    receiver.feed(parts(UR("eth-signature", decoy.cbor), 1, fragment=500))
    assert kinds(receiver) == [NoteKind.OTHER_TYPE, NoteKind.OTHER_TYPE]
    assert "crypto-hdkey" in receiver.notes[0].text


def test_interleaved_messages_note_the_stranger_and_finish_the_first() -> None:
    mine, stranger = message(1000, seed=1), message(1500, seed=9)
    receiver = Receiver(BYTES)
    mixed = [p for pair in zip(parts(mine, 12), parts(stranger, 12), strict=True) for p in pair]
    receiver.feed(mixed)
    assert receiver.is_complete and receiver.result() == mine
    assert kinds(receiver) == [NoteKind.OTHER_MESSAGE]
    assert "not merged" in receiver.notes[0].text


def test_a_sender_that_changed_message_is_followed_without_losing_parts() -> None:
    # A live density switch: the same UR re-split, so a new seqLen and checksum stream.
    ur = message(3000, seed=4)
    receiver = Receiver(BYTES)
    receiver.feed(parts(ur, 5, fragment=100))
    denser = parts(ur, 40, fragment=250)
    receiver.feed(denser[: DEFAULT_SWITCH_AFTER - 1])
    assert not receiver.is_complete
    assert kinds(receiver) == [NoteKind.OTHER_MESSAGE]
    receiver.feed(denser[DEFAULT_SWITCH_AFTER - 1 :])
    assert kinds(receiver) == [NoteKind.OTHER_MESSAGE, NoteKind.SWITCHED]
    assert receiver.is_complete and receiver.result() == ur
    # 3000 bytes in 250-byte fragments: 12 parts were enough, and those already seen count.
    assert receiver.progress.seq_len == 12


def test_malformed_parts_are_noted_and_skipped() -> None:
    ur = message(1000, seed=1)
    receiver = Receiver(BYTES)
    good = parts(ur, 10)
    broken = good[0][:-6] + "AAAAAA"  # bytewords CRC no longer matches
    receiver.feed([broken, *good])
    assert receiver.result() == ur
    assert kinds(receiver) == [NoteKind.BAD_PART]


def test_a_corrupt_message_starts_over_and_then_completes() -> None:
    ur = message(1000, seed=1)
    maker = PartMaker(ur, 100)
    good = [for_qr(maker.part(n)) for n in range(1, 11)]
    # Part 3 with a flipped fragment byte but a valid header: the rebuilt CRC32 fails.
    fragment = bytearray(ur.cbor[200:300])
    fragment[0] ^= 1
    forged = for_qr(
        format_part("bytes", FountainPart(3, 10, 1000, maker.checksum, bytes(fragment)))
    )
    receiver = Receiver(BYTES)
    receiver.feed([forged, *good[:2], *good[3:]])
    assert kinds(receiver) == [NoteKind.RESTARTED]
    assert not receiver.is_complete
    receiver.feed(good)
    assert receiver.result() == ur


def test_a_flood_that_never_converges_stops_with_a_channel_error() -> None:
    receiver = Receiver(BYTES)
    garbage = [f"UR:BYTES/{n}-3/LPADAXCFAXHLCYYNESOXFGHD" for n in range(1, 200)]
    with pytest.raises(ScanNotConvergingError) as caught:
        receiver.feed(garbage)
    assert caught.value.where == "scan"
    assert "101 new parts" in caught.value.reason


def test_a_flood_of_another_message_is_bounded_too() -> None:
    mine, stranger = message(1000, seed=1), message(1000, seed=2)
    receiver = Receiver(BYTES, switch_after=10_000)
    receiver.feed(parts(mine, 1))
    with pytest.raises(ScanNotConvergingError):
        receiver.feed(parts(stranger, 400, first=20))
    # The receiver started over and takes a message again.
    receiver.feed(parts(mine, 10))
    assert receiver.result() == mine


def test_frames_go_through_the_injected_reader() -> None:
    ur = message(1000, seed=1)
    stream = parts(ur, 10)
    script = [(), ("NOT A UR",), *[(p, "UR:CRYPTO-HDKEY/DECOY") for p in stream]]
    receiver = Receiver(BYTES, reader=ScriptedReader(script))
    source = MemorySource([_blank()] * len(script))
    progress = receive_from(source, receiver)
    assert progress.complete and receiver.result() == ur
    assert kinds(receiver) == [NoteKind.NOT_UR, NoteKind.OTHER_TYPE]


def test_receive_from_stops_at_max_frames() -> None:
    ur = message(1000, seed=1)
    script = [(p,) for p in parts(ur, 10)]
    receiver = Receiver(BYTES, reader=ScriptedReader(script))
    progress = receive_from(MemorySource([_blank()] * 10), receiver, max_frames=4)
    assert progress.parts_received == 4 and not progress.complete


def test_reset_forgets_the_message_in_progress() -> None:
    receiver = Receiver(BYTES)
    receiver.feed(parts(message(1000, seed=1), 3))
    receiver.reset()
    assert receiver.progress.parts_received == 0
