"""coldsign-signer: every command, its output and its exit status (0 done, 1 cannot run,
2 bad input, 3 refused)."""

from __future__ import annotations

import io
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account
from signerkit import (
    ANVIL,
    OFFLINE,
    ONLINE,
    PASSPHRASE,
    POLICY,
    STANDARD,
    eip1559,
    eth_key,
    make_home,
    request,
    tx_request,
)

from shared.erc4527 import (
    DataType,
    EthBatchSignature,
    EthBatchSignRequest,
    EthSignature,
    HDKey,
)
from shared.ur import UR, URDecoder, UREncoder
from signer.airgap import NetworkProbe
from signer.audit import AuditLog
from signer.cli import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_REFUSED,
    Environment,
    main,
)
from signer.home import SignerHome
from signer.keys.kdf import MIN_PARAMS
from signer.keys.vault import Vault
from signer.policy.parse import parse_policy

STRANGER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


class Terminal(io.StringIO):
    """Captured output."""


class Run:
    """One CLI invocation's streams and status."""

    def __init__(self, status: int, stdout: str, stderr: str) -> None:
        self.status, self.stdout, self.stderr = status, stdout, stderr


def cli(
    *argv: str | Path,
    probe: NetworkProbe = OFFLINE,
    answers: list[str] | None = None,
    terminal: bool = False,
) -> Run:
    stdout, stderr = Terminal(), Terminal()
    queue = list(answers or [])

    def ask(prompt: str) -> str:
        return queue.pop(0)

    env = Environment(stdout, stderr, probe, ask, kdf=MIN_PARAMS, terminal=terminal)
    status = main([str(arg) for arg in argv], environment=env)
    return Run(status, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def files(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


@pytest.fixture
def passphrase(files: Callable[[str, str], Path]) -> Path:
    return files("passphrase.txt", PASSPHRASE + "\n")


def write_parts(path: Path, ur: UR, fragment: int = 120) -> Path:
    encoder = UREncoder(ur, fragment)
    path.write_text("\n".join(encoder.parts(encoder.seq_len + 1)) + "\n")
    return path


def read_response(path: Path) -> UR:
    decoder = URDecoder()
    for line in path.read_text().splitlines():
        decoder.receive(line)
    return decoder.result()


# --- no command, init ------------------------------------------------------------------------


def test_no_command_prints_help() -> None:
    run = cli()
    assert run.status == EXIT_OK
    assert "usage: coldsign-signer" in run.stdout and "sign" in run.stdout


def test_init_imports_a_mnemonic(
    tmp_path: Path, files: Callable[[str, str], Path], passphrase: Path
) -> None:
    mnemonic = files("mnemonic.txt", ANVIL + "\n")
    root = tmp_path / "new-home"
    run = cli(
        "init",
        "--home",
        root,
        "--mnemonic-file",
        mnemonic,
        "--passphrase-file",
        passphrase,
        "--accounts",
        "3",
    )
    assert run.status == EXIT_OK, run.stderr
    header = Vault(root / "vault.json").read_header()
    assert f"master fingerprint: {header.master_fingerprint.hex()}" in run.stdout
    for path in STANDARD[:3]:
        assert eth_key(path).address in run.stdout
    assert ANVIL.split()[0] + " " + ANVIL.split()[1] not in run.stdout
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    policy = parse_policy((root / "policy.toml").read_text())
    assert policy.accounts == () and policy.destinations == ()
    with AuditLog.open(root / "audit.log") as audit:
        kinds = [entry.kind for entry in audit.entries()]
    assert kinds == ["log-created", "vault-created"]


def test_init_with_a_bip39_passphrase_derives_other_accounts(
    tmp_path: Path, files: Callable[[str, str], Path], passphrase: Path
) -> None:
    mnemonic = files("mnemonic.txt", ANVIL)
    extra = files("bip39.txt", "extra words\n")
    run = cli(
        "init",
        "--home",
        tmp_path / "h",
        "--mnemonic-file",
        mnemonic,
        "--passphrase-file",
        passphrase,
        "--bip39-passphrase-file",
        extra,
        "--accounts",
        "1",
    )
    assert run.status == EXIT_OK, run.stderr
    Account.enable_unaudited_hdwallet_features()
    expected = Account.from_mnemonic(ANVIL, "extra words", account_path=str(STANDARD[0]))
    assert expected.address in run.stdout
    assert eth_key(STANDARD[0]).address not in run.stdout


def test_init_shows_a_new_mnemonic_once_on_a_terminal(tmp_path: Path) -> None:
    root = tmp_path / "h"
    run = cli(
        "init", "--home", root, "--scheme", "ledger-live", answers=[PASSPHRASE] * 2, terminal=True
    )
    assert run.status == EXIT_OK, run.stderr
    assert "NEW RECOVERY PHRASE" in run.stdout
    numbered = [line for line in run.stdout.splitlines() if line.startswith("   1. ")]
    assert len(numbered) == 1
    assert "24. " in run.stdout
    assert "m/44'/60'/4'/0/0" in run.stdout
    assert Vault(root / "vault.json").unlock(PASSPHRASE).accounts[4].path.depth == 5


def test_init_refuses_to_show_a_mnemonic_off_terminal(tmp_path: Path) -> None:
    run = cli("init", "--home", tmp_path / "h", answers=[PASSPHRASE] * 2)
    assert run.status == EXIT_BAD_INPUT
    assert "terminal" in run.stderr
    assert not (tmp_path / "h" / "vault.json").exists()


def test_init_twice_is_refused(
    home: SignerHome, passphrase: Path, files: Callable[[str, str], Path]
) -> None:
    mnemonic = files("mnemonic.txt", ANVIL)
    run = cli(
        "init", "--home", home.root, "--mnemonic-file", mnemonic, "--passphrase-file", passphrase
    )
    assert run.status == EXIT_ERROR
    assert "already exists" in run.stderr


def test_init_names_a_bad_word_by_position_only(
    tmp_path: Path, files: Callable[[str, str], Path], passphrase: Path
) -> None:
    words = ANVIL.split()
    words[2] = "tset"
    mnemonic = files("mnemonic.txt", " ".join(words))
    run = cli(
        "init",
        "--home",
        tmp_path / "h",
        "--mnemonic-file",
        mnemonic,
        "--passphrase-file",
        passphrase,
    )
    assert run.status == EXIT_BAD_INPUT
    assert "word 3" in run.stderr and "tset" not in run.stderr
    assert run.stderr.count("\n") == 1


def test_init_passphrases_must_match(tmp_path: Path, files: Callable[[str, str], Path]) -> None:
    mnemonic = files("mnemonic.txt", ANVIL)
    run = cli(
        "init",
        "--home",
        tmp_path / "h",
        "--mnemonic-file",
        mnemonic,
        answers=[PASSPHRASE, PASSPHRASE + "x"],
    )
    assert run.status == EXIT_BAD_INPUT and "differ" in run.stderr


def test_init_refuses_a_short_passphrase(tmp_path: Path, files: Callable[[str, str], Path]) -> None:
    mnemonic = files("mnemonic.txt", ANVIL)
    short = files("short.txt", "abc\n")
    run = cli(
        "init", "--home", tmp_path / "h", "--mnemonic-file", mnemonic, "--passphrase-file", short
    )
    assert run.status == EXIT_ERROR and "at least 8" in run.stderr


def test_missing_passphrase_file_is_bad_input(
    tmp_path: Path, files: Callable[[str, str], Path]
) -> None:
    mnemonic = files("mnemonic.txt", ANVIL)
    run = cli(
        "init",
        "--home",
        tmp_path / "h",
        "--mnemonic-file",
        mnemonic,
        "--passphrase-file",
        tmp_path / "absent",
    )
    assert run.status == EXIT_BAD_INPUT and "--passphrase-file" in run.stderr


# --- export-account --------------------------------------------------------------------------


def test_export_account_writes_the_pairing_key(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    out = tmp_path / "account.txt"
    run = cli("export-account", "--home", home.root, "--out", out, "--passphrase-file", passphrase)
    assert run.status == EXIT_OK, run.stderr
    key = HDKey.from_ur(read_response(out))
    assert key.note == "account.standard"
    assert key.origin is not None and str(key.origin) == "m/44'/60'/0'"
    assert all(line == line.upper() for line in out.read_text().splitlines())


def test_export_account_at_another_level(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    out = tmp_path / "account.txt"
    run = cli(
        "export-account",
        "--home",
        home.root,
        "--out",
        out,
        "--passphrase-file",
        passphrase,
        "--path",
        "m/44'/60'/0'/0",
    )
    assert run.status == EXIT_OK, run.stderr
    key = HDKey.from_ur(read_response(out))
    assert key.children is not None and key.children.path_text == "*"


def test_export_account_refusals(home: SignerHome, passphrase: Path, tmp_path: Path) -> None:
    out = tmp_path / "account.txt"
    run = cli(
        "export-account",
        "--home",
        home.root,
        "--out",
        out,
        "--passphrase-file",
        passphrase,
        "--path",
        "m/44'/60'/x'",
    )
    assert run.status == EXIT_BAD_INPUT and "--path" in run.stderr
    run = cli(
        "export-account",
        "--home",
        home.root,
        "--out",
        out,
        "--passphrase-file",
        passphrase,
        "--scheme",
        "ledger-live",
    )
    assert run.status == EXIT_ERROR and "groups of 5" in run.stderr
    assert not out.exists()


# --- sign ------------------------------------------------------------------------------------


def test_sign_everything_allowed_exits_0(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    asked = [tx_request(eip1559(0)), tx_request(eip1559(1))]
    source = write_parts(tmp_path / "in.txt", EthBatchSignRequest(tuple(asked)).to_ur())
    out = tmp_path / "out.txt"
    run = cli(
        "sign", "--home", home.root, "--in", source, "--out", out, "--passphrase-file", passphrase
    )
    assert run.status == EXIT_OK, run.stderr
    assert "== Batch of 2 requests ==" in run.stdout
    assert "item 1 of 2: SIGN" in run.stdout and "destination[0] (line" in run.stdout
    assert "signed 2 of 2" in run.stdout
    batch = EthBatchSignature.from_ur(read_response(out))
    assert [s.request_id for s in batch.signatures] == [r.request_id for r in asked]
    assert batch.audit_head is not None
    assert f"audit head: {batch.audit_head.seq}:{batch.audit_head.head_hash.hex()}" in run.stdout


def test_sign_with_refusals_exits_3_and_keeps_the_approved(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    asked = [tx_request(eip1559(0)), tx_request(eip1559(1, to=STRANGER))]
    source = write_parts(tmp_path / "in.txt", EthBatchSignRequest(tuple(asked)).to_ur())
    out = tmp_path / "out.txt"
    run = cli(
        "sign", "--home", home.root, "--in", source, "--out", out, "--passphrase-file", passphrase
    )
    assert run.status == EXIT_REFUSED
    assert "item 2 of 2: REFUSE" in run.stdout
    assert "item 2: REFUSED" in run.stdout and "not an allowed destination" in run.stdout
    assert "signatures of the 1 approved item(s) only" in run.stdout
    batch = EthBatchSignature.from_ur(read_response(out))
    assert [s.request_id for s in batch.signatures] == [asked[0].request_id]


def test_sign_nothing_allowed_writes_nothing(home: SignerHome, tmp_path: Path) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0, to=STRANGER)).to_ur())
    out = tmp_path / "out.txt"
    # No passphrase is asked for: nothing is to be signed.
    run = cli("sign", "--home", home.root, "--in", source, "--out", out, answers=[])
    assert run.status == EXIT_REFUSED
    assert "no response written" in run.stdout
    assert not out.exists()


def test_sign_asks_for_the_passphrase(home: SignerHome, tmp_path: Path) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    out = tmp_path / "out.txt"
    run = cli("sign", "--home", home.root, "--in", source, "--out", out, answers=[PASSPHRASE])
    assert run.status == EXIT_OK, run.stderr
    assert EthSignature.from_ur(read_response(out)).audit_head is not None


def test_sign_wrong_passphrase_exits_1(
    home: SignerHome, tmp_path: Path, files: Callable[[str, str], Path]
) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    wrong = files("wrong.txt", "not the passphrase")
    run = cli(
        "sign",
        "--home",
        home.root,
        "--in",
        source,
        "--out",
        tmp_path / "o.txt",
        "--passphrase-file",
        wrong,
    )
    assert run.status == EXIT_ERROR and "wrong passphrase" in run.stderr
    assert not (tmp_path / "o.txt").exists()


def test_sign_needs_confirmation_and_ack(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    message = "Sign in to coldsign.example\u200b".encode()
    asked = request(message, DataType.PERSONAL_MESSAGE)
    source = write_parts(tmp_path / "in.txt", asked.to_ur())
    out = tmp_path / "out.txt"
    run = cli(
        "sign", "--home", home.root, "--in", source, "--out", out, "--passphrase-file", passphrase
    )
    assert run.status == EXIT_REFUSED
    assert "NEEDS CONFIRMATION" in run.stdout and "--ack 1:TEXT" in run.stdout
    prompt = next(line for line in run.stdout.splitlines() if "confirm: Type the last" in line)
    expected = prompt.rsplit(" ", 1)[1][-6:]
    run = cli(
        "sign",
        "--home",
        home.root,
        "--in",
        source,
        "--out",
        out,
        "--passphrase-file",
        passphrase,
        "--ack",
        "1:wrong!",
    )
    assert run.status == EXIT_REFUSED and "does not match" in run.stdout
    run = cli(
        "sign",
        "--home",
        home.root,
        "--in",
        source,
        "--out",
        out,
        "--passphrase-file",
        passphrase,
        "--ack",
        f"1:{expected}",
    )
    assert run.status == EXIT_OK, run.stdout
    assert EthSignature.from_ur(read_response(out)).v in (27, 28)


@pytest.mark.parametrize("ack", ["1", "x:abc", "1:", ":abc"])
def test_malformed_ack_is_bad_input(home: SignerHome, tmp_path: Path, ack: str) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    run = cli("sign", "--home", home.root, "--in", source, "--out", tmp_path / "o", "--ack", ack)
    assert run.status == EXIT_BAD_INPUT and "--ack" in run.stderr


def test_ack_for_a_missing_item_is_bad_input(home: SignerHome, tmp_path: Path) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    run = cli(
        "sign", "--home", home.root, "--in", source, "--out", tmp_path / "o", "--ack", "2:abcdef"
    )
    assert run.status == EXIT_BAD_INPUT and "--ack 2" in run.stderr


def test_corrupt_part_is_bad_input_naming_the_line(home: SignerHome, tmp_path: Path) -> None:
    ur = EthBatchSignRequest(tuple(tx_request(eip1559(i)) for i in range(4))).to_ur()
    source = write_parts(tmp_path / "in.txt", ur, fragment=60)
    lines = source.read_text().splitlines()
    lines[2] = lines[2][:-6] + ("a" if lines[2][-6] != "a" else "b") + lines[2][-5:]
    source.write_text("\n".join(lines) + "\n")
    run = cli("sign", "--home", home.root, "--in", source, "--out", tmp_path / "o")
    assert run.status == EXIT_BAD_INPUT
    assert "line 3" in run.stderr and run.stderr.count("\n") == 1


def test_incomplete_request_is_bad_input(home: SignerHome, tmp_path: Path) -> None:
    ur = EthBatchSignRequest(tuple(tx_request(eip1559(i)) for i in range(4))).to_ur()
    encoder = UREncoder(ur, 60)
    source = tmp_path / "in.txt"
    source.write_text(encoder.parts(1)[0] + "\n")
    run = cli("sign", "--home", home.root, "--in", source, "--out", tmp_path / "o")
    assert run.status == EXIT_BAD_INPUT and "incomplete" in run.stderr


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"ur:crypto-hdkey/aeadaolazmjendeoti\n", "line 1"),
        (b"\xff\xfe\n", "line 1"),
        (b"", "no UR parts"),
        (b"not a ur\n", "line 1"),
    ],
    ids=["wrong-type", "not-ascii", "empty", "not-ur"],
)
def test_bad_request_files(home: SignerHome, tmp_path: Path, content: bytes, needle: str) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(content)
    run = cli("sign", "--home", home.root, "--in", source, "--out", tmp_path / "o")
    assert run.status == EXIT_BAD_INPUT
    assert needle in run.stderr


def test_missing_request_file_is_bad_input(home: SignerHome, tmp_path: Path) -> None:
    run = cli("sign", "--home", home.root, "--in", tmp_path / "absent", "--out", tmp_path / "o")
    assert run.status == EXIT_BAD_INPUT and "--in" in run.stderr


def test_missing_required_option_is_bad_input(home: SignerHome) -> None:
    run = cli("sign", "--home", home.root)
    assert run.status == EXIT_BAD_INPUT and "--in" in run.stderr


def test_sign_without_a_home_exits_1(tmp_path: Path) -> None:
    run = cli("sign", "--home", tmp_path / "none", "--in", tmp_path / "x", "--out", tmp_path / "o")
    assert run.status == EXIT_ERROR and "coldsign-signer init" in run.stderr


def test_too_open_home_is_refused(home: SignerHome, tmp_path: Path) -> None:
    home.root.chmod(0o755)
    run = cli("audit", "verify", "--home", home.root)
    assert run.status == EXIT_ERROR and "0700" in run.stderr


def test_broken_policy_stops_signing(home: SignerHome, tmp_path: Path) -> None:
    home.policy_path.write_text(POLICY + "\nunknown = 1\n")
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    run = cli("sign", "--home", home.root, "--in", source, "--out", tmp_path / "o")
    assert run.status == EXIT_ERROR and "policy" in run.stderr


# --- air gap and --allow-online --------------------------------------------------------------


def test_online_machine_is_refused(home: SignerHome, tmp_path: Path) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    run = cli("sign", "--home", home.root, "--in", source, "--out", tmp_path / "o", probe=ONLINE)
    assert run.status == EXIT_ERROR
    assert "refusing to run" in run.stderr and "eth0" in run.stderr
    with AuditLog.open(home.audit_path) as audit:
        assert [entry.kind for entry in audit.entries()][-1] == "network-detected"


def test_allow_online_warns_on_every_command_and_is_audited(
    home: SignerHome, passphrase: Path, tmp_path: Path
) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    runs = [
        cli(
            "sign",
            "--home",
            home.root,
            "--in",
            source,
            "--out",
            tmp_path / "o",
            "--passphrase-file",
            passphrase,
            "--allow-online",
            probe=ONLINE,
        ),
        cli(
            "--allow-online",
            "export-account",
            "--home",
            home.root,
            "--out",
            tmp_path / "a.txt",
            "--passphrase-file",
            passphrase,
            probe=ONLINE,
        ),
        cli("audit", "verify", "--home", home.root, "--allow-online", probe=ONLINE),
        cli("policy", "new", "--allow-online", probe=ONLINE),
    ]
    for run in runs:
        assert run.status == EXIT_OK, run.stderr
        assert "WARNING: --allow-online is for development only" in run.stderr
    with AuditLog.open(home.audit_path) as audit:
        kinds = [entry.kind for entry in audit.entries()]
    assert kinds.count("allow-online") == 2


# --- audit -----------------------------------------------------------------------------------


def test_audit_verify_and_known_head(home: SignerHome, passphrase: Path, tmp_path: Path) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    out = tmp_path / "o.txt"
    cli("sign", "--home", home.root, "--in", source, "--out", out, "--passphrase-file", passphrase)
    head = EthSignature.from_ur(read_response(out)).audit_head
    assert head is not None
    known = f"{head.seq}:{head.head_hash.hex()}"
    run = cli("audit", "verify", "--home", home.root, "--known-head", known)
    assert run.status == EXIT_OK and f"head {known}" in run.stdout
    forged = f"{head.seq}:{'00' * 32}"
    run = cli("audit", "verify", "--home", home.root, "--known-head", forged)
    assert run.status == EXIT_ERROR
    run = cli("audit", "verify", "--home", home.root, "--known-head", "nonsense")
    assert run.status == EXIT_BAD_INPUT


def test_audit_verify_reports_tampering(home: SignerHome, passphrase: Path, tmp_path: Path) -> None:
    source = write_parts(tmp_path / "in.txt", tx_request(eip1559(0)).to_ur())
    cli(
        "sign",
        "--home",
        home.root,
        "--in",
        source,
        "--out",
        tmp_path / "o",
        "--passphrase-file",
        passphrase,
    )
    data = home.audit_path.read_bytes()
    home.audit_path.write_bytes(data.replace(b'"item":1', b'"item":2'))
    run = cli("audit", "verify", "--home", home.root)
    assert run.status == EXIT_ERROR and "audit log entry" in run.stderr


def test_audit_recover_removes_a_torn_tail(home: SignerHome, tmp_path: Path) -> None:
    home.audit_path.unlink()
    home.audit_path.with_name("audit.log.head").unlink()
    run = cli("audit", "verify", "--home", home.root)
    assert run.status == EXIT_ERROR  # no audit log
    with AuditLog.open(home.audit_path):
        pass
    run = cli("audit", "recover", "--home", home.root)
    assert run.status == EXIT_ERROR and "no half-written entry" in run.stderr
    with home.audit_path.open("ab") as stream:
        stream.write(b'{"body":{"fie')
    assert cli("audit", "verify", "--home", home.root).status == EXIT_ERROR
    run = cli("audit", "recover", "--home", home.root)
    assert run.status == EXIT_OK and "13 bytes" in run.stdout
    assert cli("audit", "verify", "--home", home.root).status == EXIT_OK


def test_audit_without_a_subcommand_is_bad_input(home: SignerHome) -> None:
    run = cli("audit", "--home", home.root)
    assert run.status == EXIT_BAD_INPUT


# --- policy ----------------------------------------------------------------------------------


def test_policy_check_valid(files: Callable[[str, str], Path]) -> None:
    path = files("policy.toml", POLICY)
    run = cli("policy", "check", path)
    assert run.status == EXIT_OK
    assert "valid" in run.stdout and parse_policy(POLICY).hash_hex in run.stdout


def test_policy_check_explains_by_line(files: Callable[[str, str], Path]) -> None:
    lines = POLICY.splitlines()
    lines.insert(9, 'colour = "blue"')
    path = files("policy.toml", "\n".join(lines) + "\n")
    run = cli("policy", "check", path)
    assert run.status == EXIT_BAD_INPUT
    assert run.stderr.startswith(f"{path}:10: ")
    run = cli("policy", "check", files("empty.toml", ""))
    assert run.status == EXIT_BAD_INPUT


def test_policy_new(tmp_path: Path) -> None:
    run = cli("policy", "new")
    assert run.status == EXIT_OK and "[policy]" in run.stdout
    parse_policy(run.stdout)
    out = tmp_path / "p.toml"
    assert cli("policy", "new", "--out", out).status == EXIT_OK
    assert parse_policy(out.read_text()).destinations == ()
    run = cli("policy", "new", "--out", out)
    assert run.status == EXIT_BAD_INPUT and "not overwriting" in run.stderr


def test_vanished_working_directory_is_an_error_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    run = cli("audit", "verify", "--home", "relative-home")
    assert run.status == EXIT_ERROR
    assert run.stderr.startswith("coldsign-signer: ") and run.stderr.count("\n") == 1
