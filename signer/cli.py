"""The ``coldsign-signer`` command: the offline signer without its screen (headless).

    coldsign-signer init [--mnemonic-file F | --restore] [--passphrase-file F]
                         [--bip39-passphrase-file F] [--accounts N]
                         [--scheme standard|ledger-live|legacy]
    coldsign-signer export-account [--path P] [--scheme S] --out FILE|IMAGE.png|ANIMATION
    coldsign-signer sign --in FILE|MEDIA --out FILE|ANIMATION [--ack ITEM:TEXT ...]
    (export-account and sign also take --reset-missing-state: see below)
    coldsign-signer audit verify [--known-head SEQ:HASH] | audit recover
    coldsign-signer policy check FILE | policy new [--out FILE]
    coldsign-signer policy install FILE [--yes-hash HEX]

``init --restore`` asks for a paper mnemonic word by word (``signer/restore.py``) and writes
the vault only after the operator has compared the fingerprint and addresses; ``policy
install`` shows what a validated file changes and replaces the policy once the new hash's
first digits are typed (``signer/policy/install.py``).

Messages travel as UR text parts (one per line) or as QR codes through ``channel/``: ``sign
--in`` also reads an image, a folder of frames, a video or ``camera:N``; ``--out`` writes an
animated QR code when it ends in ``.gif`` or ``.mp4`` (and ``export-account`` a still one for
``.png``), and UR text otherwise.

Every command takes ``--home DIR`` (default ``~/.coldsign-signer``) and ``--allow-online``
(development only: warned about on every command and written to the audit log).

``export-account`` and ``sign`` refuse a home whose vault exists but whose nonce ledger,
limits store or audit log is missing. ``--reset-missing-state`` re-creates them empty instead,
with a warning and a ``state-reset`` audit entry: only when no backup of them exists.

Exit status: 0 done (for ``sign``: everything asked was signed); 1 the signer could not run
(air gap, vault, wrong passphrase, audit log, home); 2 bad input (one line naming the part,
field or line); 3 something was refused (``sign``: the reasons are printed, and the response
still carries the signatures of the items that were approved).

:func:`main` is the only place where errors become messages and exit codes.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from channel.density import DEFAULT_PRESET, PRESET_ORDER
from channel.errors import ChannelError, ScanNotConvergingError, SourceError
from channel.media import is_media, receive, unwrap, write_image, write_message
from shared.compressed import COMPRESSED_TYPE
from shared.errors import DecodeError, IncompleteError
from shared.review import render_batch, render_review
from shared.ur import UR, UREncoder
from signer.airgap import NetworkProbe, SysfsProbe
from signer.audit import AuditKind, AuditLog, verify_log
from signer.buildinfo import version_text
from signer.core import (
    Outcome,
    PreparedRequest,
    SignerCore,
    SigningResult,
    checked_air_gap,
    create_state,
    open_audit,
    vault_header,
)
from signer.errors import (
    AirGapError,
    HomeError,
    PolicyFileError,
    RestoreAbandonedError,
    SignerError,
    VaultError,
    VaultExistsError,
)
from signer.home import SignerHome
from signer.intake import REQUEST_TYPES, DecodedRequest, decode_parts, decode_request
from signer.keys.accounts import EnrolledAccount
from signer.keys.bip32 import DerivationPath
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import DEFAULT_PARAMS, ScryptParams
from signer.keys.paths import MAX_ENROLLED, Scheme, scheme_path
from signer.keys.session import KeySession
from signer.keys.vault import Vault
from signer.keys.vaultfile import VaultHeader
from signer.pairing import pairing_ur
from signer.policy.install import CONFIRM_DIGITS, PolicyPlan, install_policy, plan_install
from signer.policy.parse import MAX_POLICY_BYTES, parse_policy_bytes
from signer.policy.template import policy_template
from signer.policy.verdict import Decision
from signer.restore import (
    bip39_passphrase,
    preview,
    read_mnemonic,
    vault_passphrase,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3

PROGRAM = "coldsign-signer"
# The appliance image's build identity (images/signer/manifest.py): 64 lower-case hex digits.
# Bytes per fountain fragment in written UR parts: dense enough for a good camera.
DEFAULT_FRAGMENT_LENGTH = 200
MAX_SECRET_FILE_BYTES = 4096
# A typed answer (a word, a number, hex digits) is short; a longer line is refused unread.
MAX_ANSWER_CHARS = 256
MAX_INPUT_BYTES = 16 << 20
DEFAULT_ACCOUNTS = 5
# --out suffixes written as QR codes (channel.media); any other name gets UR text parts.
ANIMATION_SUFFIXES = frozenset({".gif", ".mp4"})
STILL_SUFFIX = ".png"
# The Linux console keeps no scrollback (removed in Linux 5.9; the appliance runs 6.1): on a
# terminal, a change list longer than a page stops after each page, so that every change is on
# the screen at some point. A page is what an 80x25 console holds below the hashes, counted in
# 80-column rows (a long value wraps); a wider console only stops more often than it must.
PAGE_ROWS = 20
PAGE_COLUMNS = 80
# ECMA-48: erase the scrollback (CSI 3 J, Linux console and xterm), home, erase the screen.
CLEAR_SCREEN = "\x1b[3J\x1b[H\x1b[2J"
ONLINE_WARNING = (
    f"{PROGRAM}: WARNING: --allow-online is for development only; this machine is not"
    " treated as air-gapped and the override is written to the audit log"
)


class InputError(Exception):
    """A command-line value or input file that cannot be used (exit 2)."""


@dataclass(frozen=True, slots=True)
class Environment:
    """What the commands touch outside the home directory, injectable for tests.

    ``terminal`` says ``stdout`` is a terminal a person reads: a new mnemonic is shown only
    there. ``kdf`` is the scrypt cost for new vaults. ``stdin`` gives the answers typed with
    echo (the words of ``init --restore``, a policy hash's digits); ``getpass`` the secrets
    typed without. None stands for no input at all.
    """

    stdout: TextIO
    stderr: TextIO
    probe: NetworkProbe
    getpass: Callable[[str], str]
    kdf: ScryptParams = DEFAULT_PARAMS
    clock: Callable[[], float] = time.time
    terminal: bool = False
    stdin: TextIO | None = None

    def read_line(self, prompt: str) -> str:
        """One answer typed at ``prompt`` (written to ``stdout``), without its newline.

        The end of the input is an :class:`InputError` (the answer is never quoted in it).
        """
        self.stdout.write(prompt)
        self.stdout.flush()
        line = "" if self.stdin is None else self.stdin.readline(MAX_ANSWER_CHARS + 1)
        if not line:
            raise InputError("the input ended before the answer to a question; nothing was changed")
        if len(line) > MAX_ANSWER_CHARS:
            raise InputError(f"an answer is longer than {MAX_ANSWER_CHARS} characters")
        return line.rstrip("\r\n")

    def say(self, text: str) -> None:
        """A line for the operator on ``stdout``."""
        print(text, file=self.stdout)

    @classmethod
    def default(cls) -> Environment:
        """The real machine: the process's streams, sysfs, a terminal prompt."""
        return cls(
            sys.stdout,
            sys.stderr,
            SysfsProbe(),
            getpass.getpass,
            terminal=sys.stdout.isatty(),
            stdin=sys.stdin,
        )


def main(argv: Sequence[str] | None = None, *, environment: Environment | None = None) -> int:
    """Run one command; return its exit status (see the module docstring)."""
    env = environment if environment is not None else Environment.default()
    parser = build_parser()
    try:
        with redirect_stdout(env.stdout), redirect_stderr(env.stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.allow_online:
        print(ONLINE_WARNING, file=env.stderr)
    command: Callable[[argparse.Namespace, Environment], int] | None = getattr(
        args, "command", None
    )
    if command is None:
        if not env.terminal:
            # No terminal to draw the screen on (a pipe, a test): say what there is.
            parser.print_help(env.stdout)
            return EXIT_OK
        # Imported here so that the headless commands never load Textual.
        from signer.tui.launch import run_screen

        return run_screen(
            SignerHome.resolve(args.home),
            probe=env.probe,
            allow_online=args.allow_online,
            clock=env.clock,
        )
    try:
        return command(args, env)
    except (DecodeError, IncompleteError, InputError) as exc:
        print(f"{PROGRAM}: bad input: {exc}", file=env.stderr)
        return EXIT_BAD_INPUT
    except AirGapError as exc:
        print(f"{PROGRAM}: refusing to run: {exc}", file=env.stderr)
        return EXIT_ERROR
    except PolicyFileError as exc:
        print(f"{PROGRAM}: the policy does not validate: {exc}", file=env.stderr)
        return EXIT_ERROR
    except ChannelError as exc:
        # A source that cannot be read or a scan that never completes is the input's fault;
        # an output that cannot be written is this machine's.
        print(f"{PROGRAM}: {exc}", file=env.stderr)
        bad_input = isinstance(exc, SourceError | ScanNotConvergingError)
        return EXIT_BAD_INPUT if bad_input else EXIT_ERROR
    except SignerError as exc:
        print(f"{PROGRAM}: {exc}", file=env.stderr)
        return EXIT_ERROR
    except OSError as exc:
        # What the commands do not translate themselves: a vanished working directory, a
        # disk error in a library. The message names the file when the system gave one.
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"{PROGRAM}: {exc.strerror or exc}{where}", file=env.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=env.stderr)
        return EXIT_ERROR


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (global options work before or after the command)."""
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, suppress=True)
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="coldsign's offline signer, headless. With no command the screen starts.",
    )
    _common_options(parser, suppress=False)
    parser.add_argument(
        "--version", action=_VersionAction, help="show the version and the image's build id"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    init = commands.add_parser("init", parents=[common], help="create or import the key vault")
    init.add_argument("--mnemonic-file", type=Path, help="import this BIP-39 mnemonic")
    init.add_argument(
        "--restore",
        action="store_true",
        help="restore from a paper mnemonic: type the words one at a time, compare the"
        " fingerprint and addresses, then write the vault",
    )
    init.add_argument("--passphrase-file", type=Path, help="the new vault passphrase")
    init.add_argument("--bip39-passphrase-file", type=Path, help="the BIP-39 passphrase")
    init.add_argument("--accounts", type=_account_count, default=DEFAULT_ACCOUNTS)
    init.add_argument(
        "--scheme", type=Scheme, choices=list(Scheme), default=Scheme.STANDARD, metavar="SCHEME"
    )
    init.set_defaults(command=cmd_init)

    export = commands.add_parser(
        "export-account", parents=[common], help="write the pairing key (crypto-hdkey) as UR"
    )
    export.add_argument("--path", type=_derivation_path, help="default m/44'/60'/0'")
    export.add_argument("--scheme", type=Scheme, choices=list(Scheme), metavar="SCHEME")
    export.add_argument(
        "--out",
        type=Path,
        required=True,
        help="UR parts, one per line; or a QR code: NAME.png (still), NAME.gif or NAME.mp4",
    )
    export.add_argument("--passphrase-file", type=Path)
    export.add_argument("--fragment-length", type=_fragment_length, default=DEFAULT_FRAGMENT_LENGTH)
    _density_option(export)
    _reset_option(export)
    export.set_defaults(command=cmd_export_account)

    sign = commands.add_parser("sign", parents=[common], help="review and sign a request")
    sign.add_argument(
        "--in",
        dest="input",
        type=Path,
        required=True,
        help="UR parts, or QR codes: an image, a folder of frames, a video or camera:N",
    )
    sign.add_argument(
        "--out",
        type=Path,
        required=True,
        help="where the response goes: UR parts, or an animated QR code NAME.gif or NAME.mp4",
    )
    sign.add_argument(
        "--ack",
        action="append",
        default=[],
        metavar="ITEM:TEXT",
        help="acknowledge item ITEM's confirmation by typing TEXT",
    )
    sign.add_argument("--passphrase-file", type=Path)
    sign.add_argument("--fragment-length", type=_fragment_length, default=DEFAULT_FRAGMENT_LENGTH)
    _density_option(sign)
    _reset_option(sign)
    sign.set_defaults(command=cmd_sign)

    audit = commands.add_parser("audit", help="check or repair the audit log")
    audit_commands = audit.add_subparsers(title="audit commands", metavar="COMMAND")
    verify = audit_commands.add_parser("verify", parents=[common], help="check the hash chain")
    verify.add_argument(
        "--known-head", type=_known_head, metavar="SEQ:HASH", help="a head received earlier"
    )
    verify.set_defaults(command=cmd_audit_verify)
    recover = audit_commands.add_parser(
        "recover", parents=[common], help="remove a half-written last entry after a crash"
    )
    recover.set_defaults(command=cmd_audit_recover)
    audit.set_defaults(command=_usage(audit))

    policy = commands.add_parser("policy", help="check or write a policy file")
    policy_commands = policy.add_subparsers(title="policy commands", metavar="COMMAND")
    check = policy_commands.add_parser("check", parents=[common], help="validate a policy")
    check.add_argument("file", type=Path)
    check.set_defaults(command=cmd_policy_check)
    new = policy_commands.add_parser("new", parents=[common], help="write a default-deny policy")
    new.add_argument("--out", type=Path, help="default: standard output")
    new.set_defaults(command=cmd_policy_new)
    install = policy_commands.add_parser(
        "install",
        parents=[common],
        help="replace the home's policy with FILE: shows the changes, asks for the new hash",
    )
    install.add_argument("file", type=Path)
    install.add_argument(
        "--yes-hash",
        type=_hash_prefix,
        metavar="HEX",
        help=f"confirm without a question: the first {CONFIRM_DIGITS} (or more) hex digits of"
        " FILE's policy hash, as reviewed",
    )
    install.set_defaults(command=cmd_policy_install)
    policy.set_defaults(command=_usage(policy))
    return parser


class _VersionAction(argparse.Action):
    """``--version``: print :func:`version_text` on one line (argparse's own would wrap it)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(version_text())
        parser.exit(EXIT_OK)


def _common_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    parser.add_argument(
        "--home",
        type=Path,
        default=argparse.SUPPRESS if suppress else None,
        help="the signer home directory (default ~/.coldsign-signer)",
    )
    parser.add_argument(
        "--allow-online",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="development only: run even if a network interface or radio is present",
    )


def _density_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--density",
        choices=PRESET_ORDER,
        default=DEFAULT_PRESET,
        help="bytes per QR code when --out is an image or animation (default: %(default)s)",
    )


def _reset_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reset-missing-state",
        action="store_true",
        help="DANGER: re-create a missing nonce ledger, limits store or audit log empty"
        " (audited); restore them from the home backup instead whenever one exists",
    )


def _reset_requested(args: argparse.Namespace, home: SignerHome, env: Environment) -> bool:
    """``--reset-missing-state``, warned about loudly (what is missing and what that loses)."""
    if not args.reset_missing_state:
        return False
    missing = home.missing_state()
    lost = "; ".join(f"{state.name} ({state.protects})" for state in missing) or "nothing"
    print(
        f"{PROGRAM}: WARNING: --reset-missing-state: missing state is re-created empty and"
        f" what it protected is lost: {lost}. The reset is written to the audit log.",
        file=env.stderr,
    )
    return True


def _usage(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace, Environment], int]:
    def show(args: argparse.Namespace, env: Environment) -> int:
        parser.print_usage(env.stderr)
        print(f"{parser.prog}: a command is required", file=env.stderr)
        return EXIT_BAD_INPUT

    return show


# --- init ------------------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, env: Environment) -> int:
    """Create the home, the vault (new or imported) and a default-deny policy if none."""
    if args.restore:
        return _restore(args, env)
    home = SignerHome.resolve(args.home)
    home.create()
    vault = Vault(home.vault_path)
    if vault.exists():
        raise VaultExistsError(f"a vault already exists at {vault.path}")
    if args.mnemonic_file is None and not env.terminal:
        raise InputError(
            "a new mnemonic is shown once, on a terminal only: run init on a terminal,"
            " or import one with --mnemonic-file"
        )
    accounts = tuple(scheme_path(args.scheme, index) for index in range(args.accounts))
    audit = open_audit(home)
    try:
        checked_air_gap(audit, env.probe, allow_online=args.allow_online)
        # Before the vault: a home with a vault always has its ledger and limits store.
        create_state(home)
        bip39_passphrase = ""
        if args.bip39_passphrase_file is not None:
            bip39_passphrase = _read_secret(args.bip39_passphrase_file, "--bip39-passphrase-file")
        imported = None
        if args.mnemonic_file is not None:
            imported = SecretMnemonic.from_phrase(
                _read_secret(args.mnemonic_file, "--mnemonic-file")
            )
        passphrase = _new_passphrase(args.passphrase_file, env)
        if imported is not None:
            try:
                header = vault.import_mnemonic(
                    passphrase,
                    imported,
                    accounts,
                    bip39_passphrase=bip39_passphrase,
                    kdf=env.kdf,
                )
            finally:
                imported.wipe()
        else:
            created = vault.create(
                passphrase, accounts, bip39_passphrase=bip39_passphrase, kdf=env.kdf
            )
            try:
                _show_new_mnemonic(created, env)
            finally:
                created.wipe()
            header = vault.read_header()
        wrote_policy = False
        if not home.has_policy():
            home.write_policy(policy_template().encode("utf-8"))
            wrote_policy = True
        _record_vault_created(
            audit,
            header,
            args.scheme,
            imported=imported is not None,
            restored=False,
            wrote_policy=wrote_policy,
        )
    finally:
        audit.close()
    out = env.stdout
    print(f"vault: {vault.path}", file=out)
    _print_keys(header.master_fingerprint, header.accounts, args.scheme, out)
    if wrote_policy:
        print(f"policy: {home.policy_path} (default deny: edit it to allow anything)", file=out)
    return EXIT_OK


def _print_keys(
    fingerprint: bytes, accounts: Sequence[EnrolledAccount], scheme: Scheme, out: TextIO
) -> None:
    print(f"master fingerprint: {fingerprint.hex()}", file=out)
    print(f"accounts ({scheme.value}):", file=out)
    for account in accounts:
        print(f"  {account.path}  {account.address.checksummed()}", file=out)


def _restore(args: argparse.Namespace, env: Environment) -> int:
    """``init --restore``: the words typed one at a time, checked, compared, then written.

    Nothing is written to the home but the audit log's opening entries until the operator has
    seen the master fingerprint and addresses the words give and typed ``yes``.
    """
    if args.mnemonic_file is not None:
        raise InputError("--restore asks for the words at the terminal; drop --mnemonic-file")
    home = SignerHome.resolve(args.home)
    home.create()
    vault = Vault(home.vault_path)
    if vault.exists():
        raise VaultExistsError(
            f"a vault already exists at {vault.path}: restore onto a new, empty home"
        )
    accounts = tuple(scheme_path(args.scheme, index) for index in range(args.accounts))
    audit = open_audit(home)
    try:
        # Before the first word is typed: never on a machine that is online.
        checked_air_gap(audit, env.probe, allow_online=args.allow_online)
        try:
            header, wrote_policy = _restore_vault(args, env, home, vault, accounts)
        except RestoreAbandonedError as exc:
            raise InputError(exc.reason) from None
        _record_vault_created(
            audit, header, args.scheme, imported=True, restored=True, wrote_policy=wrote_policy
        )
    finally:
        audit.close()
    print(f"vault restored: {vault.path}", file=env.stdout)
    if wrote_policy:
        print(
            f"policy: {home.policy_path} (default deny: install the reviewed policy with"
            " 'coldsign-signer policy install FILE')",
            file=env.stdout,
        )
    else:
        # A home that kept its policy (the vault was lost, not the stick): say which one
        # now governs the restored keys, so it is checked against the reviewers' note.
        kept = hashlib.sha256(home.read_policy()).hexdigest()
        print(f"policy: {home.policy_path} kept as it was (hash {kept})", file=env.stdout)
    return EXIT_OK


def _restore_vault(
    args: argparse.Namespace,
    env: Environment,
    home: SignerHome,
    vault: Vault,
    accounts: tuple[DerivationPath, ...],
) -> tuple[VaultHeader, bool]:
    env.say("Restoring a signer from its BIP-39 mnemonic (English words).")
    try:
        mnemonic = read_mnemonic(env.read_line, env.say)
    finally:
        if env.terminal:
            # The words were echoed as typed: wipe them from the screen and its scrollback,
            # also when the restore stops here (given up, input ended, Ctrl-C), since the
            # appliance then leaves tty1 as it is until it is powered off.
            env.stdout.write(CLEAR_SCREEN)
            env.stdout.flush()
    try:
        env.say(f"The {mnemonic.word_count} words are a valid mnemonic.")
        if args.bip39_passphrase_file is not None:
            extra = _read_secret(args.bip39_passphrase_file, "--bip39-passphrase-file")
        else:
            extra = bip39_passphrase(env.getpass, env.say)
        if args.passphrase_file is not None:
            passphrase = _read_secret(args.passphrase_file, "--passphrase-file")
        else:
            passphrase = vault_passphrase(env.getpass, env.say)
        shown = preview(mnemonic, extra, accounts)
        env.say("These words and passphrase give:")
        _print_keys(shown.master_fingerprint, shown.accounts, args.scheme, env.stdout)
        env.say(
            "Compare them with the watcher's pairing (its master fingerprint and addresses)."
            " A BIP-39 passphrase typed differently gives other accounts."
        )
        answer = env.read_line("Type yes to write the vault to this home, anything else to stop: ")
        if answer.strip().lower() != "yes":
            raise RestoreAbandonedError("not confirmed; nothing was written")
        # Before the vault: a home with a vault always has its ledger and limits store.
        create_state(home)
        header = vault.import_mnemonic(
            passphrase, mnemonic, accounts, bip39_passphrase=extra, kdf=env.kdf
        )
    finally:
        mnemonic.wipe()
    wrote_policy = False
    if not home.has_policy():
        home.write_policy(policy_template().encode("utf-8"))
        wrote_policy = True
    return header, wrote_policy


def _record_vault_created(
    audit: AuditLog,
    header: VaultHeader,
    scheme: Scheme,
    *,
    imported: bool,
    restored: bool,
    wrote_policy: bool,
) -> None:
    """The ``vault-created`` audit entry: public data only (fingerprint, paths, addresses)."""
    audit.append(
        "vault-created",
        {
            "imported": imported,
            "restored": restored,
            "master_fingerprint": header.master_fingerprint.hex(),
            "scheme": scheme.value,
            "accounts": [
                {"path": str(account.path), "address": account.address.checksummed()}
                for account in header.accounts
            ],
            "default_policy_written": wrote_policy,
        },
    )


def _show_new_mnemonic(mnemonic: SecretMnemonic, env: Environment) -> None:
    out = env.stdout
    rule = "=" * 78
    print(rule, file=out)
    print("NEW RECOVERY PHRASE - shown this once. Write it on paper and keep it offline.", file=out)
    print(
        "Anyone who reads it controls these accounts. It is not stored in clear anywhere.", file=out
    )
    print(rule, file=out)
    words = mnemonic.reveal_phrase().split()
    for start in range(0, len(words), 6):
        row = words[start : start + 6]
        print(
            "  " + "  ".join(f"{start + i + 1:2d}. {word:<9}" for i, word in enumerate(row)),
            file=out,
        )
    del words
    print(rule, file=out)
    out.flush()


def _new_passphrase(path: Path | None, env: Environment) -> str:
    if path is not None:
        return _read_secret(path, "--passphrase-file")
    first = env.getpass("New vault passphrase: ")
    if env.getpass("Repeat the passphrase: ") != first:
        raise InputError("the two passphrases differ")
    return first


def _passphrase(path: Path | None, env: Environment) -> str:
    if path is not None:
        return _read_secret(path, "--passphrase-file")
    return env.getpass("Vault passphrase: ")


def _read_secret(path: Path, option: str) -> str:
    """A secret from a file: UTF-8, one trailing newline removed. Errors never quote it."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_SECRET_FILE_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{option}: cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_SECRET_FILE_BYTES:
        raise InputError(f"{option}: {path} is longer than {MAX_SECRET_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{option}: {path} is not UTF-8 text") from None
    if text.endswith("\r\n"):
        return text[:-2]
    return text.removesuffix("\n")


# --- export-account --------------------------------------------------------------------------


def cmd_export_account(args: argparse.Namespace, env: Environment) -> int:
    """Write the pairing key as UR parts (one per line)."""
    home = SignerHome.resolve(args.home)
    home.check()
    audit = open_audit(home, reset_missing_state=_reset_requested(args, home, env))
    try:
        checked_air_gap(audit, env.probe, allow_online=args.allow_online)
        session = _unlock(Vault(home.vault_path), args.passphrase_file, env, audit_log=audit)
        with session:
            ur = pairing_ur(session, path=args.path, scheme=args.scheme)
        _check_out_folder(args.out)
        written = _write_message(ur, args)
        audit.append(
            "account-exported",
            {
                "type": ur.type,
                "path": None if args.path is None else str(args.path),
                "digest": hashlib.sha256(ur.cbor).hexdigest(),
            },
        )
    finally:
        audit.close()
    print(f"wrote {written} of ur:{ur.type} to {args.out}", file=env.stdout)
    return EXIT_OK


def _unlock(
    vault: Vault, passphrase_file: Path | None, env: Environment, *, audit_log: AuditLog
) -> KeySession:
    passphrase = _passphrase(passphrase_file, env)
    try:
        session = vault.unlock(passphrase)
    except VaultError as exc:
        audit_log.append(AuditKind.UNLOCK, {"result": "failed", "error": type(exc).__name__})
        raise
    audit_log.append(
        AuditKind.UNLOCK,
        {"result": "unlocked", "master_fingerprint": session.master_fingerprint.hex()},
    )
    return session


# --- sign ------------------------------------------------------------------------------------


def cmd_sign(args: argparse.Namespace, env: Environment) -> int:
    """Review a request, sign what the policy allows, write the response."""
    home = SignerHome.resolve(args.home)
    home.check()
    acks = _acks(args.ack)
    _check_out_folder(args.out)
    if args.out.suffix.lower() == STILL_SUFFIX:
        raise InputError(
            f"--out {args.out}: a response may need several QR codes: use .gif or .mp4"
        )
    with SignerCore.open(
        home,
        probe=env.probe,
        allow_online=args.allow_online,
        clock=env.clock,
        reset_missing_state=_reset_requested(args, home, env),
    ) as core:
        decoded = _read_request(args.input, env.stdout)
        policy = core.load_policy()
        prepared = core.prepare(
            decoded, policy=policy, registries=home.registries(), header=vault_header(home)
        )
        for number in acks:
            if not 1 <= number <= len(prepared.items):
                raise InputError(
                    f"--ack {number}: there are {len(prepared.items)} item(s), numbered from 1"
                )
        _print_review(prepared, env.stdout)
        vault = Vault(home.vault_path)
        result = core.sign(
            prepared,
            unlock=lambda: vault.unlock(_passphrase(args.passphrase_file, env)),
            acknowledgements=acks,
        )
        if result.response is not None:
            _write_message(result.response, args)
    _print_result(prepared, result, args.out, env.stdout)
    return EXIT_OK if result.refused == 0 else EXIT_REFUSED


def _acks(values: Sequence[str]) -> dict[int, str]:
    acks: dict[int, str] = {}
    for value in values:
        number, colon, text = value.partition(":")
        if not colon or not number.isdigit() or not text:
            raise InputError(f"--ack {value!r}: expected ITEM:TEXT, e.g. --ack 1:3f9a2c")
        acks[int(number)] = text
    return acks


def _read_request(source: Path, out: TextIO) -> DecodedRequest:
    """The request from UR text parts, or from QR codes read through ``channel/``.

    A camera is untrusted like the text: codes of other types and parts of other messages are
    ignored and noted, and the request is decoded as strictly as from text.
    """
    spec = str(source)
    if not is_media(spec):
        return decode_parts(_read_lines(source))
    received = receive(spec, stdin=sys.stdin, expected_types=REQUEST_TYPES | {COMPRESSED_TYPE})
    for note in received.notes:
        print(f"scan note: {note.text}", file=out)
    progress = received.progress
    if received.ur is None:
        raise IncompleteError(
            f"--in {spec}: the QR codes do not make a complete request ({received.frames_read}"
            f" frames, {progress.parts_received} parts read; about"
            f" {progress.estimated_remaining} more needed)"
        )
    print(
        f"scanned {spec}: {received.frames_read} frames, {received.parts_read} parts of a"
        f" {progress.seq_len}-fragment message",
        file=out,
    )
    return decode_request(unwrap(received.ur, REQUEST_TYPES))


def _read_lines(path: Path) -> list[str]:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"--in: cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"--in: {path} is larger than {MAX_INPUT_BYTES} bytes")
    try:
        return data.decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"--in: line {line}: a UR part is ASCII text") from None


def _print_review(prepared: PreparedRequest, out: TextIO) -> None:
    if prepared.batch_review is not None:
        print(render_batch(prepared.batch_review), file=out)
    for item in prepared.items:
        if item.review is None:
            print(
                f"--- item {item.number}: could not be decoded: {item.decode_error} ---", file=out
            )
        elif prepared.batch_review is None:
            print(render_review(item.review), file=out)
    print(file=out)
    print(f"POLICY {prepared.policy.name!r} (hash {prepared.policy.hash_hex})", file=out)
    total = len(prepared.items)
    for item in prepared.items:
        verdict = item.verdict
        label = verdict.decision.value.upper().replace("-", " ")
        print(f"item {item.number} of {total}: {label}", file=out)
        for hit in verdict.deciding:
            print(f"    {hit}", file=out)
        if verdict.decision is Decision.NEEDS_CONFIRMATION and verdict.confirmation is not None:
            for message in verdict.confirmation.messages:
                print(f"    ! {message}", file=out)
            print(f"    confirm: {verdict.confirmation.prompt}", file=out)
            print(f"    (headless: --ack {item.number}:TEXT)", file=out)
        if item.key_refusal is not None:
            print(f"    key: {item.key_refusal}", file=out)


def _print_result(
    prepared: PreparedRequest, result: SigningResult, out_path: Path, out: TextIO
) -> None:
    print(file=out)
    for item in result.items:
        if item.outcome is Outcome.SIGNED:
            ledger = "" if item.ledger is None else f" (nonce ledger: {item.ledger.outcome.value})"
            print(f"item {item.number}: SIGNED{ledger}", file=out)
        else:
            print(f"item {item.number}: REFUSED", file=out)
            for reason in item.reasons:
                print(f"    {reason}", file=out)
    total = len(prepared.items)
    print(f"signed {result.signed} of {total}; refused {result.refused}", file=out)
    if result.response is None:
        print(f"nothing was signed: no response written ({out_path} untouched)", file=out)
    elif result.refused:
        print(
            f"response written to {out_path}: it carries the signatures of the"
            f" {result.signed} approved item(s) only",
            file=out,
        )
    else:
        print(f"response written to {out_path}", file=out)
    head = result.audit_head
    print(f"audit head: {head.seq}:{head.head_hash.hex()}", file=out)


def _check_out_folder(path: Path) -> None:
    # Checked before anything is signed, so that approved signatures are never lost to a typo.
    if not path.parent.is_dir():
        raise InputError(f"--out {path}: the folder {path.parent} does not exist")


def _write_message(ur: UR, args: argparse.Namespace) -> str:
    """Write ``ur`` to ``--out`` by its suffix; say what was written."""
    suffix = args.out.suffix.lower()
    if suffix in ANIMATION_SUFFIXES:
        write_message(ur, args.out, density=args.density)
        return "an animated QR code"
    if suffix == STILL_SUFFIX:
        write_image(ur, args.out, density=args.density)
        return "a QR code image"
    parts = _parts(ur, args.fragment_length)
    _write_parts(args.out, parts)
    return f"{len(parts)} UR part(s)"


def _parts(ur: UR, fragment_length: int) -> list[str]:
    encoder = UREncoder(ur, fragment_length)
    return encoder.parts(1 if encoder.is_single_part else encoder.seq_len)


def _write_parts(path: Path, parts: Sequence[str]) -> None:
    try:
        with path.open("w", encoding="ascii") as stream:
            for part in parts:
                stream.write(part.upper() + "\n")
    except OSError as exc:
        raise HomeError(f"cannot write {path}: {exc.strerror}") from exc


# --- audit -----------------------------------------------------------------------------------


def cmd_audit_verify(args: argparse.Namespace, env: Environment) -> int:
    """Check the audit log's whole chain (and a head received earlier)."""
    home = SignerHome.resolve(args.home)
    home.check()
    report = verify_log(home.audit_path, known_head=args.known_head)
    print(
        f"audit log OK: {report.entries} entries; head {report.head_seq}:"
        f"{report.head_hash.hex()}"
        + (_lag_text(report.entries_past_head) if report.head_lagging else ""),
        file=env.stdout,
    )
    return EXIT_OK


def _lag_text(entries: int) -> str:
    behind = "one entry" if entries == 1 else f"{entries} entries"
    return f" (head record was {behind} behind)"


def cmd_audit_recover(args: argparse.Namespace, env: Environment) -> int:
    """Remove a half-written last entry (after a crash) and log the removal."""
    home = SignerHome.resolve(args.home)
    home.check()
    with AuditLog.open(home.audit_path) as audit:
        entry = audit.recover_torn_tail()
        if args.allow_online:
            audit.append(AuditKind.ALLOW_ONLINE, {"command": "audit recover"})
    print(
        f"removed a half-written entry of {entry.fields['removed_bytes']} bytes;"
        f" recorded as entry {entry.seq}",
        file=env.stdout,
    )
    return EXIT_OK


# --- policy ----------------------------------------------------------------------------------


def cmd_policy_check(args: argparse.Namespace, env: Environment) -> int:
    """Validate a policy file; explain a mistake by its line."""
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror}") from None
    try:
        policy = parse_policy_bytes(data)
    except PolicyFileError as exc:
        _print_policy_error(args.file, exc, env)
        return EXIT_BAD_INPUT
    rules = sum(
        len(group)
        for group in (
            policy.chains,
            policy.accounts,
            policy.destinations,
            policy.limits,
            policy.calls,
            policy.approvals,
            policy.typed_data,
            policy.personal_messages,
            policy.multisend_call_only,
            policy.safes,
            policy.operators,
        )
    )
    print(
        f"{args.file}: policy {policy.name!r} version {policy.version} is valid;"
        f" {rules} rule(s); hash {policy.hash_hex}",
        file=env.stdout,
    )
    return EXIT_OK


def cmd_policy_install(args: argparse.Namespace, env: Environment) -> int:
    """Replace the home's policy with a validated file, after the operator confirmed its hash."""
    home = SignerHome.resolve(args.home)
    home.check()
    data = _read_policy_file(args.file)
    try:
        plan = plan_install(home, data)
    except PolicyFileError as exc:
        _print_policy_error(args.file, exc, env)
        print(f"{PROGRAM}: nothing was installed", file=env.stderr)
        return EXIT_BAD_INPUT
    audit = open_audit(home)
    try:
        checked_air_gap(audit, env.probe, allow_online=args.allow_online)
        # Paged only when the digits are asked: with --yes-hash nobody is there to press Enter.
        paged = env.terminal and args.yes_hash is None
        _print_plan(args.file, plan, env.stdout, env.read_line if paged else None)
        if plan.unchanged:
            print("this policy is already installed; nothing to do", file=env.stdout)
            return EXIT_OK
        typed = args.yes_hash
        if typed is None:
            typed = env.read_line(
                f"Type the first {CONFIRM_DIGITS} hex digits of the new policy hash to install it: "
            )
        if not plan.confirms(typed):
            raise InputError(
                "the digits typed are not the start of the new policy's hash; nothing was installed"
            )
        entry = install_policy(home, plan, audit)
    finally:
        audit.close()
    print(
        f"installed {home.policy_path}: hash {plan.new.hash_hex}; audit entry {entry.seq}",
        file=env.stdout,
    )
    return EXIT_OK


def _read_policy_file(path: Path) -> bytes:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_POLICY_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > MAX_POLICY_BYTES:
        raise InputError(f"{path} is larger than {MAX_POLICY_BYTES} bytes")
    return data


def _print_policy_error(path: Path, exc: PolicyFileError, env: Environment) -> None:
    where = f"{path}:{exc.line}" if exc.line is not None else str(path)
    message = str(exc).removeprefix(f"line {exc.line}: ") if exc.line else str(exc)
    print(f"{where}: {message}", file=env.stderr)


def _print_plan(
    path: Path, plan: PolicyPlan, out: TextIO, ask: Callable[[str], str] | None
) -> None:
    """The hashes and the change list; with ``ask``, a pause after every page of changes."""
    new = plan.new
    if plan.old_hash is None:
        print("installed policy: none", file=out)
    else:
        print(f"installed policy: hash {plan.old_hash}", file=out)
        if not plan.old_parses:
            print("  (it is not valid TOML: every line of the new one counts as added)", file=out)
    print(
        f"new policy:       hash {new.hash_hex}  ({path}: {new.name!r} version {new.version})",
        file=out,
    )
    if plan.unchanged:
        return
    if plan.not_newer:
        print(
            f"warning: version {new.version} is not above the installed version"
            f" {plan.old_version}: is this an older file? (each change raises the version)",
            file=out,
        )
    total = len(plan.changes)
    print(f"changes ({total}):", file=out)
    rows = 0
    for index, change in enumerate(plan.changes):
        line = f"  {change}"
        height = max(1, -(-len(line) // PAGE_COLUMNS))
        if ask is not None and rows and rows + height > PAGE_ROWS:
            ask(f"-- {index} of {total} changes shown; Enter for the next --")
            rows = 0
        rows += height
        print(line, file=out)
    if not plan.changes:
        print("  none in tables or keys (comments or layout only)", file=out)


def cmd_policy_new(args: argparse.Namespace, env: Environment) -> int:
    """Write the commented default-deny policy template."""
    text = policy_template()
    if args.out is None:
        env.stdout.write(text)
        return EXIT_OK
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError(f"--out: {args.out} exists; not overwriting it") from None
    except OSError as exc:
        raise InputError(f"--out: cannot create {args.out}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        stream.write(text)
    print(f"wrote a default-deny policy to {args.out}", file=env.stdout)
    return EXIT_OK


# --- argument types --------------------------------------------------------------------------


def _account_count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_ENROLLED:
        raise argparse.ArgumentTypeError(f"a number of accounts from 1 to {MAX_ENROLLED}")
    return int(text)


def _fragment_length(text: str) -> int:
    if not text.isdigit() or not 10 <= int(text) <= 10_000:
        raise argparse.ArgumentTypeError("a fragment length from 10 to 10000 bytes")
    return int(text)


def _derivation_path(text: str) -> DerivationPath:
    try:
        return DerivationPath.parse(text)
    except SignerError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _hash_prefix(text: str) -> str:
    digits = text.strip().lower()
    if not CONFIRM_DIGITS <= len(digits) <= 64 or not all(c in "0123456789abcdef" for c in digits):
        raise argparse.ArgumentTypeError(
            f"expected the first {CONFIRM_DIGITS} to 64 hex digits of the policy hash"
        )
    return digits


def _known_head(text: str) -> tuple[int, bytes]:
    seq, colon, digest = text.partition(":")
    try:
        head = (int(seq), bytes.fromhex(digest))
    except ValueError:
        head = (-1, b"")
    if not colon or head[0] < 0 or len(head[1]) != 32:
        raise argparse.ArgumentTypeError("expected SEQ:HASH, HASH 64 hex digits")
    return head
