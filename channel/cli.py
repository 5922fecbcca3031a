"""The ``coldsign-ur`` command: decode and encode UR parts, for operators and interop debugging.

    coldsign-ur decode [FILE]        UR parts (one per line, any order) -> JSON on stdout
    coldsign-ur decode --review [FILE]   a sign request or batch -> its plain-text review
    coldsign-ur encode --type T --max-fragment-length N [--parts K]   CBOR hex on stdin -> parts

Exit status: 0 done; 2 invalid input (one line on stderr naming the part); 3 incomplete input
(progress on stderr). The text interface is stable: later versions add image and video input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from shared import cbor
from shared.erc4527 import (
    BATCH_SIGN_REQUEST_TYPE,
    DECODERS,
    SIGN_REQUEST_TYPE,
    EthBatchSignRequest,
    EthSignRequest,
    describe,
)
from shared.errors import DecodeError, SchemaError
from shared.registry import Registries, default_registries, parse_registry
from shared.review import render_batch, render_review, review_batch, review_request
from shared.ur import UR, URDecoder, UREncoder

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_INCOMPLETE = 3


class _UsageError(Exception):
    """A command-line argument that cannot be used (reported like argparse's own errors)."""


def _read_lines(path: str | None, stdin: TextIO) -> list[str]:
    if path is None or path == "-":
        return stdin.read().splitlines()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"cannot read {path}: {exc}") from exc


def feed_lines(decoder: URDecoder, lines: Sequence[str]) -> int:
    """Feed every non-blank line to ``decoder``; return how many parts were read.

    A bad part raises the decoder's ``DecodeError``, re-raised with the line number in
    ``field`` so the operator knows which line to look at.
    """
    seen = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        seen += 1
        try:
            decoder.receive(line)
        except DecodeError as exc:
            raise type(exc)(f"line {number}: {exc.field}", exc.reason, offset=exc.offset) from exc
    return seen


def known_fields(ur: UR) -> dict[str, object] | None:
    """The strictly decoded fields of a known UR type; None for a type coldsign does not know.

    ``ur:bytes`` (BCR-2020-005's generic type) must hold exactly one CBOR byte string.
    Raises ``DecodeError`` when a known type's body does not decode.
    """
    if ur.type in DECODERS:
        fields = describe(ur)
        fields.pop("type", None)
        return fields
    if ur.type == "bytes":
        value = cbor.decode(ur.cbor)
        if not isinstance(value, bytes):
            raise SchemaError("bytes", "ur:bytes must hold one CBOR byte string")
        return {"bytes": value.hex()}
    return None


def _cmd_decode(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    if args.registry is not None and not args.review:
        raise _UsageError("--registry goes with --review")
    # The operator's registry is read first: a bad file fails before any part is decoded.
    registries = _registries(args.registry) if args.review else None
    lines = _read_lines(args.file, stdin)
    decoder = URDecoder()
    try:
        seen = feed_lines(decoder, lines)
    except DecodeError as exc:
        print(f"coldsign-ur: invalid input: {exc}", file=stderr)
        return EXIT_INVALID
    if not decoder.is_complete:
        progress = decoder.progress
        print(
            "coldsign-ur: incomplete: "
            f"{progress.parts_received} of {progress.seq_len or '?'} parts received, "
            f"{progress.fraction:.0%} recovered, about {progress.estimated_remaining} more "
            f"needed ({seen} lines read)",
            file=stderr,
        )
        return EXIT_INCOMPLETE
    ur = decoder.result()
    if registries is not None:
        return _print_review(ur, registries, stdout, stderr)
    document: dict[str, object] = {"type": ur.type, "cbor": ur.cbor.hex()}
    try:
        document["fields"] = known_fields(ur)
    except DecodeError as exc:
        print(f"coldsign-ur: invalid input: {ur.type}: {exc}", file=stderr)
        return EXIT_INVALID
    json.dump(document, stdout, indent=2, sort_keys=False)
    stdout.write("\n")
    return EXIT_OK


def _registries(path: str | None) -> Registries:
    """The shipped registries, with the operator's registry file merged over them if given."""
    registries = default_registries()
    if path is None:
        return registries
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise _UsageError(f"--registry: cannot read {path}: {exc}") from exc
    try:
        return registries.merged(parse_registry(text))
    except DecodeError as exc:
        raise _UsageError(f"--registry: {path}: {exc}") from exc


def _print_review(ur: UR, registries: Registries, stdout: TextIO, stderr: TextIO) -> int:
    """Print the review of a sign request or batch, built with the given registries."""
    try:
        if ur.type == SIGN_REQUEST_TYPE:
            request = EthSignRequest.from_cbor(ur.cbor)
            text = render_review(review_request(request, registries))
        elif ur.type == BATCH_SIGN_REQUEST_TYPE:
            batch = EthBatchSignRequest.from_cbor(ur.cbor)
            text = render_batch(review_batch(batch, registries))
        else:
            print(
                f"coldsign-ur: invalid input: --review needs ur:{SIGN_REQUEST_TYPE} or "
                f"ur:{BATCH_SIGN_REQUEST_TYPE}, got ur:{ur.type}",
                file=stderr,
            )
            return EXIT_INVALID
    except DecodeError as exc:
        print(f"coldsign-ur: invalid input: {ur.type}: {exc}", file=stderr)
        return EXIT_INVALID
    stdout.write(text)
    return EXIT_OK


def _cmd_encode(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    text = "".join(stdin.read().split())
    try:
        message = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        print("coldsign-ur: invalid input: stdin: not hexadecimal CBOR", file=stderr)
        return EXIT_INVALID
    if not message:
        print("coldsign-ur: invalid input: stdin: empty message", file=stderr)
        return EXIT_INVALID
    try:
        ur = UR(args.type, message)
    except ValueError as exc:
        raise _UsageError(f"--type: {exc}") from exc
    try:
        # A known type is checked before it is sent: a malformed request never leaves here.
        known_fields(ur)
    except DecodeError as exc:
        print(f"coldsign-ur: invalid input: {ur.type}: {exc}", file=stderr)
        return EXIT_INVALID
    encoder = UREncoder(ur, args.max_fragment_length)
    count = 1 if encoder.is_single_part else (args.parts or encoder.seq_len)
    for part in encoder.parts(count):
        stdout.write(part + "\n")
    return EXIT_OK


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _fragment_length(text: str) -> int:
    value = _positive(text)
    # BCR-2024-001: fragments shorter than 10 bytes are below the reference minimum.
    if value < 10:
        raise argparse.ArgumentTypeError(f"must be at least 10 bytes: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``coldsign-ur`` (also used by the docs' command checks)."""
    parser = argparse.ArgumentParser(
        prog="coldsign-ur", description="Decode and encode UR parts (BC-UR, ERC-4527)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    decode = commands.add_parser(
        "decode", help="UR parts, one per line in any order, to JSON (stdin if no FILE)"
    )
    decode.add_argument("file", nargs="?", help="a text file of UR parts; - or absent: stdin")
    decode.add_argument(
        "--review",
        action="store_true",
        help="print the plain-text review of an eth-sign-request or eth-batch-sign-request",
    )
    decode.add_argument(
        "--registry",
        metavar="FILE",
        help="with --review: a registry file (tokens, chains, Safes, labels) merged over the "
        "shipped one",
    )
    encode = commands.add_parser("encode", help="message CBOR as hex on stdin to UR parts")
    encode.add_argument("--type", required=True, help="the UR type, e.g. eth-sign-request")
    encode.add_argument(
        "--max-fragment-length", required=True, type=_fragment_length, help="bytes per fragment"
    )
    encode.add_argument(
        "--parts", type=_positive, help="how many parts to print (default: the fragment count)"
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``coldsign-ur``; the one place where its errors become messages and exit codes."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "decode":
            return _cmd_decode(args, stdin, stdout, stderr)
        return _cmd_encode(args, stdin, stdout, stderr)
    except _UsageError as exc:
        print(f"coldsign-ur: {exc}", file=stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
