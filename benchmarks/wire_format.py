"""Measures the wire format on a realistic load: a 100-withdrawal batch request and its answers.

Prints encode and decode throughput of the CBOR messages (eth-batch-sign-request of 100
EIP-1559 requests, eth-batch-signature of 100 signatures), the UR layer's time per part at
three fragment lengths, and how many parts the decoder needed (as a multiple of the
fragment count) when it gets 70% of 3 x seqLen parts in random order. Frames on screen, with
display order and camera losses, are measured by benchmarks/qr_channel.py.

    .venv/bin/python benchmarks/wire_format.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from shared.erc4527 import EthBatchSignature, EthBatchSignRequest
from shared.ur import URDecoder, UREncoder

# The sample batch is shared with the tests (tests/samples.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from samples import signature_batch, withdrawal_batch


def best_of(repeat: int, action: Callable[[], object]) -> float:
    """The fastest of ``repeat`` runs, in seconds (the least disturbed by the machine)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def report_cbor(name: str, encode: Callable[[], bytes], decode: Callable[[bytes], object]) -> bytes:
    data = encode()
    t_encode = best_of(20, encode)
    t_decode = best_of(20, lambda: decode(data))
    mb = len(data) / 1e6
    print(
        f"{name:<24} {len(data):>8,} B"
        f"   encode {t_encode * 1e3:6.2f} ms ({mb / t_encode:5.1f} MB/s)"
        f"   decode {t_decode * 1e3:6.2f} ms ({mb / t_decode:5.1f} MB/s)"
    )
    return data


def report_ur(name: str, ur_type: str, make_ur: Callable[[], object], fragment: int) -> None:
    ur = make_ur()
    encoder = UREncoder(ur, fragment)  # type: ignore[arg-type]
    seq_len = encoder.seq_len
    count = seq_len * 3
    started = time.perf_counter()
    parts = encoder.parts(count)
    t_encode = (time.perf_counter() - started) / count

    def decode(stream: list[str]) -> tuple[int, float]:
        decoder = URDecoder(frozenset({ur_type}))
        started = time.perf_counter()
        used = 0
        for part in stream:
            used += 1
            decoder.receive(part)
            if decoder.is_complete:
                break
        assert decoder.result() == ur
        return used, (time.perf_counter() - started) / used

    in_order, t_in_order = decode(parts)
    needed = []
    per_part = []
    for trial in range(20):
        rng = random.Random(trial)
        kept = [p for p in parts if rng.random() >= 0.3]
        rng.shuffle(kept)
        used, t = decode(kept)
        needed.append(used / seq_len)
        per_part.append(t)
    print(
        f"{name:<24} frag {fragment:>4}  seqLen {seq_len:>4}  encode {t_encode * 1e6:6.1f} µs/part"
        f"  decode {t_in_order * 1e6:6.1f} µs/part in order ({in_order} parts),"
        f" {statistics.median(per_part) * 1e6:6.1f} µs/part shuffled at 30% loss;"
        f" parts needed / seqLen: median {statistics.median(needed):.2f},"
        f" worst {max(needed):.2f}"
    )


def main() -> None:
    request = withdrawal_batch()
    signatures = signature_batch(request)
    print("CBOR (deterministic, strict decode incl. schema checks)")
    report_cbor("100-request batch", request.to_cbor, EthBatchSignRequest.from_cbor)
    report_cbor("100-signature batch", signatures.to_cbor, EthBatchSignature.from_cbor)
    per_request = best_of(20, lambda: [r.to_cbor() for r in request.requests]) / 100
    print(f"{'single request':<24} encode {per_request * 1e6:.1f} µs each")
    print()
    print("UR parts (BCR-2024-001 fountain codes)")
    for fragment in (100, 200, 400):
        report_ur("100-request batch", "eth-batch-sign-request", request.to_ur, fragment)
    for fragment in (100, 200):
        report_ur("100-signature batch", "eth-batch-signature", signatures.to_ur, fragment)


if __name__ == "__main__":
    main()
