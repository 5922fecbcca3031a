"""Frames needed to move a 100-withdrawal batch across the air gap, each way, with frame loss.

The forward message is a real eth-batch-sign-request of 100 EIP-1559 withdrawals (half ETH,
half ERC-20, built as the watcher builds them); the return message is the eth-batch-signature
of 100 signatures. Each is sent plain and in a coldsign-compressed envelope, at each density
preset, in the default (mixed) sending order; a real URDecoder receives what survives 10% or
30% random frame loss. Targets (issue 5, at 10% loss): forward batch ≤ 50 frames plain and
≤ 20 compressed, signatures back ≤ 25 frames.

    .venv/bin/python benchmarks/batch_transfer.py
"""

from __future__ import annotations

import sys
from pathlib import Path

# The sample batch is shared with the tests (tests/samples.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from samples import signature_batch, withdrawal_batch

from channel.density import PRESET_ORDER, preset
from channel.sequence import DEFAULT_ORDER, PartMaker, simulate_loss
from shared.compressed import compress_ur
from shared.ur import UR

RUNS = 300
FPS = 10
TARGETS = {("forward", "plain"): 50, ("forward", "compressed"): 20, ("back", "plain"): 25}


def main() -> None:
    request = withdrawal_batch()
    forward = request.to_ur()
    back = signature_batch(request).to_ur()
    messages: dict[tuple[str, str], UR] = {
        ("forward", "plain"): forward,
        ("forward", "compressed"): compress_ur(forward),
        ("back", "plain"): back,
        ("back", "compressed"): compress_ur(back),
    }
    print(f"{RUNS} runs each, order {DEFAULT_ORDER.value}; frames = mean (95th percentile)")
    print(
        f"{'message':24} {'bytes':>7} {'density':>8} {'seqLen':>6}"
        f" {'10% loss':>14} {'30% loss':>14} {'secs@10fps':>10} {'target':>7}"
    )
    for (direction, form), ur in messages.items():
        for name in PRESET_ORDER:
            density = preset(name)
            maker = PartMaker(ur, density.max_fragment_length)
            cells = []
            for loss in (0.1, 0.3):
                stats = simulate_loss(maker, DEFAULT_ORDER, loss, runs=RUNS, seed=5)
                cells.append((stats.mean * maker.seq_len, stats.p95 * maker.seq_len))
            target = TARGETS.get((direction, form))
            verdict = ""
            if target is not None:
                verdict = f"≤{target} {'ok' if cells[0][1] <= target else 'MISSED'}"
            print(
                f"{direction + ' ' + form:24} {len(ur.cbor):>7,} {name:>8} {maker.seq_len:>6}"
                f" {cells[0][0]:>6.1f} ({cells[0][1]:>5.0f})"
                f" {cells[1][0]:>6.1f} ({cells[1][1]:>5.0f})"
                f" {cells[0][1] / FPS:>10.1f} {verdict:>7}"
            )


if __name__ == "__main__":
    main()
