"""The sending order of UR parts: which standard part to show next, and a frame-loss simulator.

Every part shown is a standard BCR-2024-001 part, byte for byte what ``UREncoder`` gives for
its sequence number; only the choice and order of sequence numbers differ, so any BC-UR
decoder reads the stream. Orders (frames shown until decoded, multiples of seqLen, from
benchmarks/qr_channel.py, 200 runs; 40 KB message in 100 fragments / 7 KB in 18):

    order       0% loss     10% loss      30% loss      ngraveio decoder at 10% / 30%
    standard    1.00/1.00   1.20/1.36     1.58/1.97     1.22/1.41   1.96/2.02
    fountain    1.05/1.11   1.19/1.29     1.52/1.70     2.39/1.56   3.13/2.04
    mixed       1.00/1.00   1.19/1.24     1.54/1.65     1.21/1.28   1.88/1.80

``mixed`` (the default) sends fragments 1..seqLen in order, so a receiver that misses
nothing is done after exactly seqLen frames, and then only fountain parts that mix two or
more fragments: a degree-1 fountain part merely repeats a fragment that most receivers
already hold. ``fountain`` (start at seqLen + 1) is best for coldsign's own elimination
decoder but 2.5x slower for the reference peeling decoders that wallets use.
"""

from __future__ import annotations

import enum
import itertools
import random
import statistics
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from channel.density import MIN_FRAGMENT_LENGTH, DensityPreset, stable_version
from channel.errors import SettingError
from shared.errors import URError
from shared.ur import (
    UR,
    FountainPart,
    URDecoder,
    choose_fragments,
    find_nominal_fragment_length,
    for_qr,
    format_part,
    format_ur,
    partition_message,
)


class SendingOrder(enum.StrEnum):
    """Which sequence numbers are shown, in which order."""

    STANDARD = "standard"
    FOUNTAIN = "fountain"
    MIXED = "mixed"


DEFAULT_ORDER = SendingOrder.MIXED


def sending_order(name: str) -> SendingOrder:
    """The order called ``name`` (an operator setting)."""
    try:
        return SendingOrder(name)
    except ValueError:
        names = ", ".join(order.value for order in SendingOrder)
        raise SettingError("order", f"unknown sending order {name!r}; choose {names}") from None


def seq_numbers(order: SendingOrder, seq_len: int, checksum: int) -> Iterator[int]:
    """The endless sequence numbers ``order`` shows for a message of ``seq_len`` fragments."""
    if seq_len == 1:
        # A single-part UR is the same string whatever the number.
        return itertools.repeat(1)
    if order is SendingOrder.STANDARD:
        return itertools.count(1)
    if order is SendingOrder.FOUNTAIN:
        return itertools.count(seq_len + 1)
    # BCR-2024-001: parts seqLen+1.. mix the fragments choose_fragments names; skip those
    # that name one fragment only.
    mixed = (
        seq_num
        for seq_num in itertools.count(seq_len + 1)
        if len(choose_fragments(seq_num, seq_len, checksum)) > 1
    )
    return itertools.chain(range(1, seq_len + 1), mixed)


class PartMaker:
    """Any standard part of one UR by sequence number (equal to ``UREncoder``'s output)."""

    __slots__ = ("_fragment_length", "_fragments", "_single", "checksum", "seq_len", "ur")

    def __init__(self, ur: UR, max_fragment_length: int) -> None:
        self.ur = ur
        self._fragment_length = find_nominal_fragment_length(
            len(ur.cbor), MIN_FRAGMENT_LENGTH, max_fragment_length
        )
        # Fragments as integers: a fountain part is one big-int XOR per fragment.
        self._fragments = tuple(
            int.from_bytes(fragment, "big")
            for fragment in partition_message(ur.cbor, self._fragment_length)
        )
        self.seq_len = len(self._fragments)
        # BCR-2024-001: the checksum in every part header is the CRC32 of the message.
        self.checksum = zlib.crc32(ur.cbor)
        self._single = format_ur(ur) if self.seq_len == 1 else None

    def part(self, seq_num: int) -> str:
        """The part numbered ``seq_num`` (lower case, as the reference encoders write it)."""
        if self._single is not None:
            return self._single
        mixed = 0
        for index in choose_fragments(seq_num, self.seq_len, self.checksum):
            mixed ^= self._fragments[index]
        fountain_part = FountainPart(
            seq_num,
            self.seq_len,
            len(self.ur.cbor),
            self.checksum,
            mixed.to_bytes(self._fragment_length, "big"),
        )
        return format_part(self.ur.type, fountain_part)


class PartStream:
    """The parts a sender shows, upper case for QR, in a sending order and density.

    ``set_density`` switches live: the message is re-split, so the receiver sees a new
    message (:class:`~channel.receiver.Receiver` follows it after a few frames).
    """

    def __init__(self, ur: UR, density: DensityPreset, order: SendingOrder = DEFAULT_ORDER) -> None:
        self.ur = ur
        self.order = order
        self.set_density(density)

    def set_density(self, density: DensityPreset) -> None:
        """Start over at ``density``: a new fragment length, version and sequence."""
        self.density = density
        self.maker = PartMaker(self.ur, density.max_fragment_length)
        self.version = stable_version(self.ur.type, len(self.ur.cbor), density)
        self._numbers = seq_numbers(self.order, self.maker.seq_len, self.maker.checksum)

    @property
    def seq_len(self) -> int:
        """Fragments of the message at the current density."""
        return self.maker.seq_len

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return for_qr(self.maker.part(next(self._numbers)))

    def take(self, count: int) -> list[str]:
        """The next ``count`` parts."""
        return [next(self) for _ in range(count)]


@dataclass(frozen=True, slots=True)
class LossStats:
    """Frames shown until a receiver decoded, as multiples of seqLen, over many runs."""

    order: SendingOrder
    loss: float
    seq_len: int
    runs: int
    mean: float
    p95: float
    worst: float


def simulate_loss(
    maker: PartMaker,
    order: SendingOrder,
    loss: float,
    *,
    runs: int,
    seed: int,
    limit_factor: int = 20,
) -> LossStats:
    """Show parts in ``order``, drop each with probability ``loss``, decode with a real
    ``URDecoder``; count frames shown (dropped ones included) until complete."""
    if not 0.0 <= loss < 1.0 or runs < 1:
        raise ValueError("loss must be in [0, 1) and runs positive")
    rng = random.Random(seed)  # noqa: S311 - a reproducible loss simulation, not a secret
    cache: dict[int, str] = {}
    limit = limit_factor * maker.seq_len
    needed: list[float] = []
    for _ in range(runs):
        decoder = URDecoder()
        numbers = seq_numbers(order, maker.seq_len, maker.checksum)
        shown = 0
        for seq_num in itertools.islice(numbers, limit):
            shown += 1
            if rng.random() < loss:
                continue
            text = cache.get(seq_num)
            if text is None:
                text = cache[seq_num] = for_qr(maker.part(seq_num))
            try:
                decoder.receive(text)
            except URError as exc:
                raise RuntimeError(f"a standard part was refused: {exc}") from exc
            if decoder.is_complete:
                break
        needed.append(shown / maker.seq_len if decoder.is_complete else float(limit_factor))
    needed.sort()
    return LossStats(
        order=order,
        loss=loss,
        seq_len=maker.seq_len,
        runs=runs,
        mean=statistics.fmean(needed),
        p95=needed[min(len(needed) - 1, int(0.95 * len(needed)))],
        worst=needed[-1],
    )
