"""Fuzzes every decoder of the wire format with mutated and random inputs and prints the counts.

Each input must either decode — and, where the format has an encoder, re-encode to exactly the
same bytes — or raise ``shared.errors.DecodeError``. Anything else (another exception, or an
accepted input that is not canonical) is a failure: it is printed and the exit status is 1.

    .venv/bin/python benchmarks/fuzz_decoders.py                 # 100,000 inputs per decoder
    .venv/bin/python benchmarks/fuzz_decoders.py --count 5000 --only cbor
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from shared import cbor
from shared.address import Address
from shared.calls import decode_call
from shared.compressed import COMPRESSED_TYPE, compress_ur, decompress_ur
from shared.erc4527 import (
    CryptoAccount,
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    EthSignRequest,
    HDKey,
    RequestId,
)
from shared.errors import DecodeError, URFormatError
from shared.messages import parse_typed_data
from shared.tx import decode_transaction
from shared.ur import UR, Style, URDecoder, bytewords_decode, bytewords_encode, parse_ur

VECTORS = Path(__file__).resolve().parent.parent / "tests" / "vectors"
ERC4527_TAGS = frozenset({37, 303, 304, 305, 308, 311, 401, 402, 40404, 40405})
UR_ALPHABET = b"abcdefghijklmnopqrstuvwxyz0123456789:/-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
INTERESTING = [
    0x00,
    0x01,
    0x17,
    0x18,
    0x19,
    0x1B,
    0x1F,
    0x20,
    0x3F,
    0x40,
    0x5F,
    0x7F,
    0x80,
    0x81,
    0x9F,
    0xA0,
    0xB7,
    0xB8,
    0xBF,
    0xC0,
    0xF7,
    0xF8,
    0xFF,
]


@dataclass(frozen=True)
class Target:
    """One decoder under fuzz: its seeds, how to call it, and how to check canonicity."""

    name: str
    seeds: list[bytes]
    decode: Callable[[bytes], object]
    canonical: Callable[[bytes, object], bool] | None = None
    text: bool = False


@dataclass
class Outcome:
    """What one target did with its inputs."""

    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _mutate(rng: random.Random, seeds: list[bytes], text: bool) -> bytes:
    data = bytearray(rng.choice(seeds))
    alphabet = UR_ALPHABET if text else None
    for _ in range(rng.choice((1, 1, 1, 2, 3, 8))):
        choice = rng.randrange(9)
        position = rng.randrange(len(data) + 1)
        if choice == 0 and data:  # flip a bit
            index = rng.randrange(len(data))
            data[index] ^= 1 << rng.randrange(8)
        elif choice == 1 and data:  # replace a byte
            index = rng.randrange(len(data))
            data[index] = rng.choice(alphabet) if alphabet else rng.choice(INTERESTING)
        elif choice == 2:  # insert
            data[position:position] = bytes(
                [rng.choice(alphabet) if alphabet else rng.randrange(256)]
            )
        elif choice == 3 and data:  # delete a run
            del data[position : position + rng.randrange(1, 9)]
        elif choice == 4:  # truncate
            del data[position:]
        elif choice == 5 and data:  # duplicate a run
            end = min(len(data), position + rng.randrange(1, 33))
            data[position:position] = data[position:end]
        elif choice == 6:  # splice with another seed
            other = rng.choice(seeds)
            cut = rng.randrange(len(other) + 1)
            data = data[:position] + bytearray(other[cut:])
        elif choice == 7:  # append trailing bytes
            data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5)))
        else:  # swap case of a text run, or an interesting byte at the start
            if alphabet:
                data = bytearray(bytes(data).swapcase())
            elif data:
                data[0] = rng.choice(INTERESTING)
    return bytes(data)


def _inputs(target: Target, count: int, seed: int) -> Iterator[bytes]:
    rng = random.Random(f"{seed}:{target.name}")
    for index in range(count):
        if index % 10 == 9:  # one in ten is plain random data
            length = rng.randrange(0, 200)
            if target.text:
                yield bytes(rng.choice(UR_ALPHABET) for _ in range(length))
            else:
                yield bytes(rng.randrange(256) for _ in range(length))
        else:
            yield _mutate(rng, target.seeds, target.text)


def run_target(target: Target, count: int, seed: int) -> Outcome:
    """Feed ``count`` inputs to one decoder and tally what happened."""
    outcome = Outcome()
    started = time.perf_counter()
    for data in _inputs(target, count, seed):
        try:
            value = target.decode(data)
        except DecodeError as exc:
            outcome.refused[type(exc).__name__] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - the fuzzer's job is to catch anything else
            outcome.failures.append(f"{type(exc).__name__}: {exc} <- {data.hex()}")
            continue
        if target.canonical is not None and not target.canonical(data, value):
            outcome.failures.append(f"accepted but not canonical <- {data.hex()}")
            continue
        outcome.accepted += 1
    outcome.seconds = time.perf_counter() - started
    return outcome


def _vectors(name: str) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((VECTORS / f"{name}.json").read_text())
    return loaded


def _strings(node: object, key: str) -> Iterator[str]:
    """Every string stored under ``key`` anywhere in a vector document."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _strings(v, key)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item, key)


def _ur_part(data: bytes) -> object:
    return URDecoder().receive(data.decode("latin-1"))


def _bytewords(data: bytes) -> bytes:
    return bytewords_decode(data.decode("latin-1"), Style.MINIMAL)


def _typed_tx(data: bytes) -> object:
    return decode_transaction(data, 4)


def _legacy_tx(data: bytes) -> object:
    return decode_transaction(data, 1)


CALL_TARGET = Address(bytes.fromhex("9641d764fc13c8B624c04430C7356C1C7C8102e2"))


def _compressed(data: bytes) -> object:
    if not data:
        # An empty body never reaches the envelope: the UR layer refuses it first.
        raise URFormatError("body", "empty message")
    return decompress_ur(
        UR(COMPRESSED_TYPE, data), allowed_types=frozenset({"eth-batch-sign-request"})
    )


def _call(data: bytes) -> object:
    return decode_call(CALL_TARGET, 0, data)


def erc4527_seeds(
    bcur: dict[str, object],
) -> dict[str, tuple[list[bytes], Callable[[bytes], object]]]:
    """Seeds for each ERC-4527 type: the published Keystone vectors, and batches built of them."""
    keystone = bcur["keystone"]
    requests = [
        EthSignRequest.from_ur(parse_ur(keystone[k]["ur"]))  # type: ignore[index]
        for k in ("signRequestWithOrigin", "signRequestNoOrigin")
    ]
    signature = EthSignature.from_ur(parse_ur(keystone["signature"]["ur"]))  # type: ignore[index]
    hdkey = bytes.fromhex(keystone["hdkey"]["cborHex"])  # type: ignore[index]
    other = RequestId(bytes(range(16)))
    batch = EthBatchSignRequest((requests[0], replace(requests[1], request_id=other)))
    signatures = EthBatchSignature(
        (signature, EthSignature(signature.r, signature.s, 28, other, None))
    )
    account = CryptoAccount(0xE9181CF3, (HDKey.from_cbor(hdkey),))
    return {
        "sign-request": ([r.to_cbor() for r in requests], EthSignRequest.from_cbor),
        "signature": ([signature.to_cbor()], EthSignature.from_cbor),
        "batch-request": ([batch.to_cbor()], EthBatchSignRequest.from_cbor),
        "batch-signature": ([signatures.to_cbor()], EthBatchSignature.from_cbor),
        "hdkey": ([hdkey], HDKey.from_cbor),
        "account": ([account.to_cbor()], CryptoAccount.from_cbor),
    }


def targets() -> list[Target]:
    """Every decoder of untrusted input, with seeds taken from the project's test vectors."""
    bcur = _vectors("bc-ur-and-erc4527")
    keystone_urs = list(_strings(bcur["keystone"], "ur"))
    keystone_cbor = [parse_ur(u).cbor for u in keystone_urs]
    parts = [p.encode() for p in _strings(bcur["bcur"], "ur")] + [
        p.encode()
        for p in bcur["bcur"]["multiPart"]["parts"]  # type: ignore[index]
    ]
    minimal = [bcur["bcur"]["bytewords"]["minimal"].encode()]  # type: ignore[index]
    txs = _vectors("transactions")
    unsigned = [bytes.fromhex(h.removeprefix("0x")) for h in _strings(txs, "unsigned")]
    typed = [u for u in unsigned if u and u[0] < 0xC0]
    legacy = [u for u in unsigned if u and u[0] >= 0xC0]
    calls = _vectors("calls")
    calldata = [
        bytes.fromhex(h.removeprefix("0x"))
        for key in ("calldata", "data")
        for h in _strings(calls, key)
        if h.startswith("0x") and len(h) >= 10
    ]
    typed_data = [
        json.dumps(block["typed_data"]).encode()
        for block in _vectors("eip712")["typed_data"].values()  # type: ignore[attr-defined]
        if isinstance(block, dict) and "typed_data" in block
    ]
    erc4527 = erc4527_seeds(bcur)
    return [
        Target(
            "cbor",
            keystone_cbor,
            lambda b: cbor.decode(b, allowed_tags=ERC4527_TAGS),
            lambda b, v: cbor.encode(v) == b,  # type: ignore[arg-type]
        ),
        Target(
            "bytewords",
            minimal,
            _bytewords,
            lambda b, v: bytewords_encode(v, Style.MINIMAL) == b.decode("latin-1").lower(),  # type: ignore[arg-type]
            text=True,
        ),
        Target("ur-part", parts + [u.encode() for u in keystone_urs], _ur_part, text=True),
        Target(
            "tx-typed",
            typed,
            _typed_tx,
            lambda b, v: v.unsigned_payload() == b,  # type: ignore[attr-defined]
        ),
        Target(
            "tx-legacy",
            legacy,
            _legacy_tx,
            lambda b, v: v.unsigned_payload() == b,  # type: ignore[attr-defined]
        ),
        *(
            Target(name, seeds, decode, lambda b, v: v.to_cbor() == b)  # type: ignore[attr-defined]
            for name, (seeds, decode) in erc4527.items()
        ),
        Target(
            "compressed",
            [
                compress_ur(UR("eth-batch-sign-request", seed)).cbor
                for seed in erc4527["batch-request"][0]
            ],
            _compressed,
        ),
        Target("calldata", calldata, _call),
        Target("eip712", typed_data, parse_typed_data),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per decoder")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", action="append", help="fuzz only this decoder (repeatable)")
    args = parser.parse_args(argv)
    failed = False
    header = ("decoder", "inputs", "accepted", "refused", "failures", "µs/input")
    print("{:<16} {:>9} {:>9} {:>9} {:>8} {:>9}".format(*header))
    for target in targets():
        if args.only and target.name not in args.only:
            continue
        if not target.seeds:
            print(f"{target.name:<16} no seeds found in tests/vectors", file=sys.stderr)
            failed = True
            continue
        outcome = run_target(target, args.count, args.seed)
        refused = sum(outcome.refused.values())
        per_input = outcome.seconds / args.count * 1e6
        print(
            f"{target.name:<16} {args.count:>9,} {outcome.accepted:>9,} {refused:>9,} "
            f"{len(outcome.failures):>8} {per_input:>9.1f}"
        )
        for failure in outcome.failures[:5]:
            print(f"    FAIL {failure[:300]}")
        failed = failed or bool(outcome.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
