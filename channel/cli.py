"""The ``coldsign-ur`` command: decode and encode UR parts, for operators and interop debugging.

    coldsign-ur decode [SOURCE]          UR text, image, folder, video or camera -> JSON
    coldsign-ur decode --review [SOURCE]   a sign request or batch -> its plain-text review
    coldsign-ur encode --type T --max-fragment-length N [--parts K]   CBOR hex on stdin -> parts
    coldsign-ur show --type T --out FILE|DIR|-   CBOR hex on stdin -> GIF/MP4/PNG/terminal QR

Exit status: 0 done; 2 invalid input (one line on stderr naming the part, or the file that
cannot be read); 3 incomplete input (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from channel.density import DEFAULT_PRESET, PRESET_ORDER, preset
from channel.errors import ChannelError
from channel.media import receive, unwrap, write_message
from channel.output import DEFAULT_FPS
from channel.sequence import DEFAULT_ORDER, PartStream, SendingOrder
from channel.terminal import qr_text
from shared import cbor
from shared.compressed import COMPRESSED_TYPE
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
from shared.ur import UR, UREncoder

# Types a compressed envelope may hold: every message type coldsign knows.
ENVELOPE_INNER_TYPES = frozenset(DECODERS) | {"bytes"}

EXIT_OK = 0
EXIT_INVALID = 2
EXIT_INCOMPLETE = 3


class _UsageError(Exception):
    """A command-line argument that cannot be used (reported like argparse's own errors)."""


class _InvalidInput(Exception):
    """Input that cannot be used, reported on one line with exit status 2."""


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
    try:
        received = receive(args.file, stdin=stdin)
        for note in received.notes:
            print(f"coldsign-ur: note: {note.text}", file=stderr)
        if received.ur is None:
            progress = received.progress
            print(
                "coldsign-ur: incomplete: "
                f"{progress.parts_received} of {progress.seq_len or '?'} parts received, "
                f"{progress.fraction:.0%} recovered, about {progress.estimated_remaining} more "
                f"needed ({received.parts_read} parts read)",
                file=stderr,
            )
            return EXIT_INCOMPLETE
        ur = unwrap(received.ur, ENVELOPE_INNER_TYPES)
    except DecodeError as exc:
        print(f"coldsign-ur: invalid input: {exc}", file=stderr)
        return EXIT_INVALID
    if registries is not None:
        return _print_review(ur, registries, stdout, stderr)
    document: dict[str, object] = {"type": ur.type, "cbor": ur.cbor.hex()}
    if ur is not received.ur:
        document["envelope"] = COMPRESSED_TYPE
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


def _read_message(args: argparse.Namespace, stdin: TextIO) -> UR:
    """The message given as CBOR hex on stdin, of type ``--type``, checked if the type is known.

    Raises ``_UsageError`` for a bad ``--type`` and ``_InvalidInput`` for a bad message.
    """
    text = "".join(stdin.read().split())
    try:
        message = bytes.fromhex(text.removeprefix("0x"))
    except ValueError:
        raise _InvalidInput("stdin: not hexadecimal CBOR") from None
    if not message:
        raise _InvalidInput("stdin: empty message")
    try:
        ur = UR(args.type, message)
    except ValueError as exc:
        raise _UsageError(f"--type: {exc}") from exc
    try:
        # A known type is checked before it is sent: a malformed request never leaves here.
        known_fields(ur)
    except DecodeError as exc:
        raise _InvalidInput(f"{ur.type}: {exc}") from exc
    return ur


def _cmd_encode(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    encoder = UREncoder(_read_message(args, stdin), args.max_fragment_length)
    count = 1 if encoder.is_single_part else (args.parts or encoder.seq_len)
    for part in encoder.parts(count):
        stdout.write(part + "\n")
    return EXIT_OK


def _cmd_show(args: argparse.Namespace, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    ur = _read_message(args, stdin)
    order = SendingOrder(args.order)
    if args.out != "-":
        path = write_message(
            ur,
            args.out,
            density=args.density,
            order=order,
            fps=args.fps,
            frames=args.frames,
            compress=args.compress,
        )
        print(f"coldsign-ur: wrote {path}", file=stderr)
        return EXIT_OK
    # The terminal: each frame as half-block text, then its part, one after another.
    if args.compress:
        raise _UsageError("--compress writes files only; use --out FILE")
    density = preset(args.density)
    stream = PartStream(ur, density, order)
    for part in stream.take(args.frames or stream.seq_len):
        stdout.write(qr_text(part, ec=density.ec, version=stream.version) + "\n" + part + "\n\n")
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
    decode.add_argument(
        "file",
        nargs="?",
        metavar="SOURCE",
        help="UR parts as text (- or absent: stdin), an image, a folder of images, a video, "
        "or camera:N",
    )
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
    show = commands.add_parser(
        "show", help="message CBOR as hex on stdin to QR codes: GIF, MP4, PNG frames or terminal"
    )
    show.add_argument("--type", required=True, help="the UR type, e.g. eth-batch-sign-request")
    show.add_argument(
        "--out",
        required=True,
        help="FILE.gif, FILE.mp4, FILE.txt (UR text), a folder for PNG frames, or - (terminal)",
    )
    show.add_argument(
        "--density",
        choices=PRESET_ORDER,
        default=DEFAULT_PRESET,
        help="bytes per QR code: low for poor cameras, high for good ones (default: %(default)s)",
    )
    show.add_argument(
        "--order",
        choices=[o.value for o in SendingOrder],
        default=DEFAULT_ORDER.value,
        help="sending order of the parts (default: %(default)s)",
    )
    show.add_argument("--fps", type=_positive, default=int(DEFAULT_FPS), help="frames per second")
    show.add_argument(
        "--frames", type=_positive, help="frames to write (default: twice the fragment count)"
    )
    show.add_argument(
        "--compress",
        action="store_true",
        help="wrap in a coldsign-compressed envelope when smaller (coldsign receivers only)",
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
    commands = {"decode": _cmd_decode, "encode": _cmd_encode, "show": _cmd_show}
    try:
        return commands[args.command](args, stdin, stdout, stderr)
    except _InvalidInput as exc:
        print(f"coldsign-ur: invalid input: {exc}", file=stderr)
        return EXIT_INVALID
    except (_UsageError, ChannelError) as exc:
        print(f"coldsign-ur: {exc}", file=stderr)
        return EXIT_INVALID


if __name__ == "__main__":
    sys.exit(main())
