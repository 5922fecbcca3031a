"""Xoshiro256** 1.0 seeded from a SHA-256 digest, the PRNG BC-UR uses to pick fountain fragments."""

from __future__ import annotations

import hashlib

_MASK64 = (1 << 64) - 1
_TWO_64 = 1 << 64


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & _MASK64


class Xoshiro256:
    """Blackman and Vigna's xoshiro256** generator, seeded as BC-UR seeds it.

    BCR-2024-001 §"The Fountain Encoder": the state is ``sha256(seed)`` read as four
    big-endian 64-bit words. The same seed always gives the same stream, on every
    implementation, which is what lets the decoder recompute an encoder's choices.
    """

    __slots__ = ("_s0", "_s1", "_s2", "_s3")

    def __init__(self, seed: bytes) -> None:
        digest = hashlib.sha256(seed).digest()
        self._s0 = int.from_bytes(digest[0:8], "big")
        self._s1 = int.from_bytes(digest[8:16], "big")
        self._s2 = int.from_bytes(digest[16:24], "big")
        self._s3 = int.from_bytes(digest[24:32], "big")

    def next(self) -> int:
        """The next 64-bit output."""
        s0, s1, s2, s3 = self._s0, self._s1, self._s2, self._s3
        result = (_rotl((s1 * 5) & _MASK64, 7) * 9) & _MASK64
        t = (s1 << 17) & _MASK64
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        self._s0, self._s1, self._s2, self._s3 = s0, s1, s2, _rotl(s3, 45)
        return result

    def next_double(self) -> float:
        """A double in [0, 1): ``next() / 2**64``.

        The reference computes ``double(next()) / (double(UINT64_MAX) + 1)``; rounding the
        integer to a double and then dividing by a power of two gives the same double as
        Python's correctly rounded ``int / int`` division. (@ngraveio/bc-ur divides with
        BigNumber at 20 decimal places, which can move the last bit; the integers drawn
        from these doubles agree, as tests/shared/test_ur_interop.py checks.)
        """
        return self.next() / _TWO_64

    def next_int(self, low: int, high: int) -> int:
        """An integer in [low, high], as ``floor(next_double() * (high - low + 1)) + low``."""
        return int(self.next_double() * (high - low + 1)) + low

    def next_byte(self) -> int:
        """An integer in [0, 255]."""
        return self.next_int(0, 255)

    def next_data(self, count: int) -> bytes:
        """``count`` bytes from :meth:`next_byte`; BC's test messages are made this way."""
        return bytes(self.next_byte() for _ in range(count))
