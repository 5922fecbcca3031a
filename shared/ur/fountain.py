"""BCR-2024-001 fountain-code primitives: fragment sizing, partitioning, fragment choice, parts."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from shared.ur.sampler import RandomSampler
from shared.ur.xoshiro import Xoshiro256

UINT32_MAX = (1 << 32) - 1
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FountainPart:
    """One fountain-coded part: the five fields of the multi-part header (BCR-2024-001).

    ``fragment`` is either fragment ``seq_num - 1`` (for ``seq_num <= seq_len``) or the
    XOR of the fragments :func:`choose_fragments` names for ``seq_num``.
    """

    seq_num: int
    seq_len: int
    message_len: int
    checksum: int
    fragment: bytes


def find_nominal_fragment_length(
    message_length: int, min_fragment_length: int, max_fragment_length: int
) -> int:
    """The fragment length the encoder uses: the fewest equal fragments no longer than the max.

    Tries 1, 2, ... fragments up to ``ceil(message_length / min_fragment_length)`` and
    returns the first ``ceil(message_length / count)`` that fits ``max_fragment_length``
    (or the last one tried). The count limit is rounded up as ``@ngraveio/bc-ur``
    (``fountainEncoder.ts``) does; BC's C++ rounds it down, which asserts for a message
    shorter than ``min_fragment_length`` and gives one byte longer fragments when the
    max is within a few bytes of the min. The two agree whenever a length fits.
    """
    if message_length <= 0:
        raise ValueError("message_length must be positive")
    if min_fragment_length <= 0:
        raise ValueError("min_fragment_length must be positive")
    if max_fragment_length < min_fragment_length:
        raise ValueError("max_fragment_length must be at least min_fragment_length")
    max_fragment_count = -(-message_length // min_fragment_length)
    fragment_length = message_length
    for fragment_count in range(1, max_fragment_count + 1):
        fragment_length = -(-message_length // fragment_count)
        if fragment_length <= max_fragment_length:
            break
    return fragment_length


def partition_message(message: bytes, fragment_length: int) -> tuple[bytes, ...]:
    """Split ``message`` into ``fragment_length`` pieces, zero-padding the last one."""
    count = -(-len(message) // fragment_length)
    padded = message.ljust(count * fragment_length, b"\x00")
    return tuple(padded[i : i + fragment_length] for i in range(0, len(padded), fragment_length))


@functools.lru_cache(maxsize=8)
def _degree_sampler(seq_len: int) -> RandomSampler:
    # BCR-2024-001: degree d in 1..seqLen is drawn with probability proportional to 1/d.
    return RandomSampler.from_weights([1.0 / d for d in range(1, seq_len + 1)])


def choose_degree(seq_len: int, rng: Xoshiro256) -> int:
    """How many fragments a fountain part mixes, drawn from ``rng``."""
    return _degree_sampler(seq_len).next(rng.next_double) + 1


def choose_fragments(seq_num: int, seq_len: int, checksum: int) -> tuple[int, ...]:
    """The indexes (ascending) of the fragments part ``seq_num`` carries XORed together.

    Parts 1..seqLen carry fragment ``seq_num - 1`` alone. Later parts seed xoshiro256**
    with ``sha256(uint32be(seq_num) || uint32be(checksum))``, draw a degree ``d`` and
    take the first ``d`` indexes of a shuffle of ``0..seq_len-1`` (BCR-2024-001).
    """
    if not 1 <= seq_num <= UINT32_MAX or not 0 <= checksum <= UINT32_MAX or seq_len < 1:
        raise ValueError("seq_num and checksum must be uint32, seq_num and seq_len positive")
    if seq_num <= seq_len:
        return (seq_num - 1,)
    rng = Xoshiro256(seq_num.to_bytes(4, "big") + checksum.to_bytes(4, "big"))
    degree = choose_degree(seq_len, rng)
    return tuple(sorted(shuffled(range(seq_len), rng, degree)))


def shuffled(items: Sequence[T], rng: Xoshiro256, count: int | None = None) -> list[T]:
    """The first ``count`` items (default: all) of BC-UR's shuffle of ``items``.

    The reference removes a random remaining item ``len(items)`` times. Each pick
    depends only on the draws before it, so stopping after ``count`` picks gives
    exactly the reference's first ``count`` items while drawing no more than needed.
    """
    remaining = list(items)
    picks = len(remaining) if count is None else count
    return [remaining.pop(rng.next_int(0, len(remaining) - 1)) for _ in range(picks)]


def indexes_mask(indexes: tuple[int, ...]) -> int:
    """The fragment set as a bit mask: bit ``i`` set when fragment ``i`` is mixed in."""
    mask = 0
    for i in indexes:
        mask |= 1 << i
    return mask
