"""Walker/Vose alias-method sampler with BC-UR's exact table construction (the fountain degree)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RandomSampler:
    """An alias table: draw an index with probability proportional to its weight in O(1).

    The table must be built exactly as BC-UR builds it (BlockchainCommons/bc-ur
    ``src/random-sampler.cpp``): the same sampler on both ends turns the same two random
    doubles into the same index, and that is what makes encoder and decoder agree on
    which fragments a part mixes.
    """

    probs: tuple[float, ...]
    aliases: tuple[int, ...]

    @classmethod
    def from_weights(cls, weights: Sequence[float]) -> RandomSampler:
        """Build the table for non-negative ``weights`` with a positive sum."""
        if not weights:
            raise ValueError("RandomSampler needs at least one weight")
        if any(w < 0 for w in weights):
            raise ValueError("RandomSampler weights must be non-negative")
        # Left-to-right double addition, as std::accumulate does. Not sum(): from
        # Python 3.12 sum() compensates rounding and would give a different last bit.
        total = 0.0
        for w in weights:
            total += w
        if not total > 0:
            raise ValueError("RandomSampler weights must have a positive sum")
        n = len(weights)
        scaled = [w * n / total for w in weights]
        # Schwarz's small/large work lists, filled from the highest index down (BC's
        # variation), popped from the back.
        small: list[int] = []
        large: list[int] = []
        for i in range(n - 1, -1, -1):
            (small if scaled[i] < 1 else large).append(i)
        probs = [0.0] * n
        aliases = [0] * n
        while small and large:
            less = small.pop()
            more = large.pop()
            probs[less] = scaled[less]
            aliases[less] = more
            # random-sampler.cpp: P[g] += P[a] - 1, in this grouping. The JavaScript port
            # (@keystonehq/alias-sampling) computes (P[g] + P[a]) - 1, which can differ in
            # the last bits of a probability (not in any alias for seqLen <= 3000); a draw
            # would have to land within ~1e-12 of a threshold for the two to disagree.
            scaled[more] += scaled[less] - 1
            (small if scaled[more] < 1 else large).append(more)
        while large:
            probs[large.pop()] = 1.0
        while small:
            # Only reachable through rounding error; BC sets these to 1 as well.
            probs[small.pop()] = 1.0
        return cls(tuple(probs), tuple(aliases))

    def next(self, rng: Callable[[], float]) -> int:
        """Draw one index using two doubles in [0, 1) from ``rng`` (column, then coin)."""
        r1 = rng()
        r2 = rng()
        column = int(len(self.probs) * r1)
        return column if r2 < self.probs[column] else self.aliases[column]
