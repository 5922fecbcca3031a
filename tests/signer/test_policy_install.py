"""coldsign-signer policy install: validated first, the changes shown by table, key and line,
the new hash's first digits typed to confirm, an atomic replacement and a ``policy-installed``
audit entry; a file that does not validate, or a wrong confirmation, changes nothing."""

from __future__ import annotations

import hashlib
import io
import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account import Account
from signerkit import OFFLINE, ONLINE, POLICY, make_home

from signer.airgap import NetworkProbe
from signer.audit import AuditLog
from signer.cli import (
    EXIT_BAD_INPUT,
    EXIT_ERROR,
    EXIT_OK,
    PAGE_COLUMNS,
    PAGE_ROWS,
    Environment,
    main,
)
from signer.core import open_audit
from signer.errors import HomeError
from signer.home import SignerHome
from signer.keys.atomicfile import FileOps
from signer.keys.kdf import MIN_PARAMS
from signer.policy.install import ChangeKind, install_policy, plan_install
from signer.policy.staged import Settled, settle_staged_policy, stage_policy

NEW_DESTINATION = """\
[[destination]]
chain = 1
address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
assets = ["native"]
label = "Second hot wallet"

"""
# Version 2: a limit raised, a destination inserted between the two existing ones.
WIDER = (
    POLICY.replace("version = 1", "version = 2")
    .replace('per_tx = "10"', 'per_tx = "8"')
    .replace("[[destination]]\nchain = 137", NEW_DESTINATION + "[[destination]]\nchain = 137")
)


@dataclass(frozen=True, slots=True)
class Run:
    status: int
    stdout: str
    stderr: str


def cli(
    *argv: str | Path,
    lines: list[str] | None = None,
    probe: NetworkProbe = OFFLINE,
    terminal: bool = False,
) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    stdin = io.StringIO("".join(line + "\n" for line in lines or []))

    def no_secret(prompt: str) -> str:
        raise AssertionError(f"policy install asked for a secret: {prompt!r}")

    env = Environment(
        stdout, stderr, probe, no_secret, kdf=MIN_PARAMS, stdin=stdin, terminal=terminal
    )
    status = main([str(arg) for arg in argv], environment=env)
    return Run(status, stdout.getvalue(), stderr.getvalue())


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def write(tmp_path: Path, text: str, name: str = "new-policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    numbers = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return numbers[occurrence - 1]


def entries(home: SignerHome) -> list[dict[str, object]]:
    lines = home.audit_path.read_text().splitlines()
    return [json.loads(line)["body"] for line in lines]


def install(home: SignerHome, path: Path, *extra: str, lines: list[str] | None = None) -> Run:
    return cli("policy", "install", "--home", home.root, path, *extra, lines=lines)


# --- installing --------------------------------------------------------------------------------


def test_install_shows_hashes_and_changes_then_replaces_and_audits(
    home: SignerHome, tmp_path: Path
) -> None:
    new = write(tmp_path, WIDER)
    run = install(home, new, lines=[sha(WIDER)[:20]])
    assert run.status == EXIT_OK, run.stderr
    assert f"installed policy: hash {sha(POLICY)}" in run.stdout
    assert f"new policy:       hash {sha(WIDER)}" in run.stdout
    assert "'tests' version 2" in run.stdout
    # By table and key, with both lines; the inserted table is one addition, key by key.
    assert "changed policy.version: 1 -> 2 (old line 3, new line 3)" in run.stdout
    old_line, new_line = line_of(POLICY, 'per_tx = "10"'), line_of(WIDER, 'per_tx = "8"')
    assert (
        f'changed limit[0].per_tx: "10" -> "8" (old line {old_line}, new line {new_line})'
        in run.stdout
    )
    header = line_of(WIDER, "[[destination]]", 2)
    assert f"added destination[1] (new line {header})\n" in run.stdout
    assert (
        'added destination[1].address = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"'
        f" (new line {header + 2})" in run.stdout
    )
    assert f'added destination[1].label = "Second hot wallet" (new line {header + 4})' in (
        run.stdout
    )
    assert "changes (7):" in run.stdout
    assert "Type the first 20 hex digits of the new policy hash to install it: " in run.stdout
    # The file is the new one, byte for byte, 0600; the entry records both hashes.
    assert home.policy_path.read_text() == WIDER
    assert stat.S_IMODE(home.policy_path.stat().st_mode) == 0o600
    last = entries(home)[-1]
    assert last["kind"] == "policy-installed"
    assert last["fields"] == {
        "old_policy_hash": sha(POLICY),
        "new_policy_hash": sha(WIDER),
        "version": 2,
        "changes": 7,
    }
    assert f"audit entry {len(entries(home)) - 1}" in run.stdout
    verify = cli("audit", "verify", "--home", home.root)
    assert verify.status == EXIT_OK and "audit log OK" in verify.stdout


def many_destinations(count: int) -> str:
    """POLICY with ``count`` more destinations (a header and 4 keys each in the change list)."""
    extra = "".join(
        NEW_DESTINATION.replace("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", address)
        for address in (
            Account.from_key((index + 1000).to_bytes(32, "big")).address for index in range(count)
        )
    )
    return POLICY.replace("[[destination]]\nchain = 137", extra + "[[destination]]\nchain = 137")


def test_a_long_change_list_is_shown_a_page_at_a_time_on_a_terminal(
    home: SignerHome, tmp_path: Path
) -> None:
    # The appliance's Linux console keeps no scrollback: every change must be on the screen
    # at some point before the digits are asked, so the list stops after each page.
    text = many_destinations(10)  # 10 x 5 = 50 changes
    new = write(tmp_path, text)
    run = cli(
        "policy",
        "install",
        "--home",
        home.root,
        new,
        lines=["", "", sha(text)[:20]],
        terminal=True,
    )
    assert run.status == EXIT_OK, run.stderr
    assert "changes (50):" in run.stdout
    pauses = [line for line in run.stdout.splitlines() if "Enter for the next" in line]
    assert len(pauses) == 2
    # Every change is printed once, and no page is taller than PAGE_ROWS console rows (a long
    # line wraps at 80 columns: the address lines take two).
    pages = run.stdout.split("Enter for the next")
    assert sum(page.count("  added ") for page in pages) == 50
    for page in pages:
        shown = [line for line in page.split("\n") if "  added " in line]
        rows = sum(-(-len(line[line.index("  added ") :]) // PAGE_COLUMNS) for line in shown)
        assert 0 < rows <= PAGE_ROWS
    assert home.policy_path.read_text() == text


def test_a_long_change_list_is_not_paged_off_a_terminal_or_with_yes_hash(
    home: SignerHome, tmp_path: Path
) -> None:
    text = many_destinations(10)
    new = write(tmp_path, text)
    piped = install(home, new, lines=[sha(text)[:20]])
    assert piped.status == EXIT_OK, piped.stderr
    assert "Enter for the next" not in piped.stdout
    again = many_destinations(11)
    headless = cli(
        "policy",
        "install",
        "--home",
        home.root,
        write(tmp_path, again, "again.toml"),
        "--yes-hash",
        sha(again)[:20],
        terminal=True,
    )
    assert headless.status == EXIT_OK, headless.stderr
    assert "Enter for the next" not in headless.stdout


def test_input_ending_at_a_page_installs_nothing(home: SignerHome, tmp_path: Path) -> None:
    text = many_destinations(10)
    run = cli(
        "policy", "install", "--home", home.root, write(tmp_path, text), lines=[], terminal=True
    )
    assert run.status == EXIT_BAD_INPUT
    assert home.policy_path.read_text() == POLICY


def test_install_headless_with_yes_hash(home: SignerHome, tmp_path: Path) -> None:
    run = install(home, write(tmp_path, WIDER), "--yes-hash", sha(WIDER).upper())
    assert run.status == EXIT_OK, run.stderr
    assert "Type the first" not in run.stdout
    assert home.policy_path.read_text() == WIDER


def test_removed_tables_and_keys_are_listed(home: SignerHome, tmp_path: Path) -> None:
    narrower = POLICY.replace('label = "Polygon"\n', "")
    start = narrower.index("[[destination]]\nchain = 137")
    end = narrower.index("[[limit]]")
    narrower = narrower[:start] + narrower[end:]
    run = install(home, write(tmp_path, narrower), "--yes-hash", sha(narrower)[:20])
    assert run.status == EXIT_OK, run.stderr
    polygon = line_of(POLICY, 'label = "Polygon"')
    assert f'removed chain[1].label = "Polygon" (old line {polygon})' in run.stdout
    header = line_of(POLICY, "[[destination]]", 2)
    assert f"removed destination[1] (old line {header})" in run.stdout
    assert f"removed destination[1].chain = 137 (old line {header + 1})" in run.stdout


def test_a_comment_only_change_says_so(home: SignerHome, tmp_path: Path) -> None:
    text = "# reviewed by A and B\n" + POLICY
    run = install(home, write(tmp_path, text), "--yes-hash", sha(text)[:20])
    assert run.status == EXIT_OK, run.stderr
    assert "none in tables or keys (comments or layout only)" in run.stdout


def test_the_same_file_is_already_installed(home: SignerHome, tmp_path: Path) -> None:
    before = home.audit_path.read_bytes()
    run = install(home, write(tmp_path, POLICY))
    assert run.status == EXIT_OK
    assert "this policy is already installed; nothing to do" in run.stdout
    assert home.audit_path.read_bytes()[: len(before)] == before
    assert "policy-installed" not in home.audit_path.read_text()


def test_a_home_without_a_policy_gets_one(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    home.policy_path.unlink()
    changes = len(plan_install(home, POLICY.encode()).changes)
    run = install(home, write(tmp_path, POLICY), "--yes-hash", sha(POLICY)[:20])
    assert run.status == EXIT_OK, run.stderr
    assert "installed policy: none" in run.stdout
    assert entries(home)[-1]["fields"] == {
        "old_policy_hash": None,
        "new_policy_hash": sha(POLICY),
        "version": 1,
        "changes": changes,
    }


def test_an_installed_file_that_is_not_toml_is_replaced(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home", policy="this is [not toml\n")
    run = install(home, write(tmp_path, POLICY), "--yes-hash", sha(POLICY)[:20])
    assert run.status == EXIT_OK, run.stderr
    assert "(it is not valid TOML: every line of the new one counts as added)" in run.stdout
    assert 'added policy.name = "tests" (new line 2)' in run.stdout


def test_values_from_the_installed_file_are_shown_escaped(tmp_path: Path) -> None:
    # A terminal control sequence in the old file (it need not validate) reaches the screen
    # only as an escape, never as the bytes that would colour it or move the cursor.
    home = make_home(tmp_path / "home", policy='[policy]\nname = "\\u001b[2Jred"\nversion = 1\n')
    run = install(home, write(tmp_path, POLICY), "--yes-hash", sha(POLICY)[:20])
    assert run.status == EXIT_OK, run.stderr
    assert '"\\u001b[2Jred" -> "tests"' in run.stdout
    assert "\x1b" not in run.stdout


# --- refusals ----------------------------------------------------------------------------------


def test_an_invalid_policy_changes_nothing(home: SignerHome, tmp_path: Path) -> None:
    audit_before = home.audit_path.read_bytes()
    bad = write(tmp_path, POLICY.replace('label = "cold"', 'label = "cold"\ncolour = "blue"'))
    run = install(home, bad, "--yes-hash", "0" * 20)
    assert run.status == EXIT_BAD_INPUT
    line = POLICY.splitlines().index('label = "cold"') + 2
    assert f"{bad}:{line}: account[0].colour: unknown key" in run.stderr
    assert "nothing was installed" in run.stderr
    assert home.policy_path.read_text() == POLICY
    assert home.audit_path.read_bytes() == audit_before


def test_an_invalid_policy_names_its_line(home: SignerHome, tmp_path: Path) -> None:
    bad = write(tmp_path, '[policy]\nname = "x"\nversion = 1\n\n[[chain]]\nid = 0\n')
    run = install(home, bad)
    assert run.status == EXIT_BAD_INPUT
    assert run.stderr.startswith(f"{bad}:6: ")
    assert home.policy_path.read_text() == POLICY


def test_a_wrong_typed_confirmation_changes_nothing(home: SignerHome, tmp_path: Path) -> None:
    audit_before = home.audit_path.read_bytes()
    wrong = "0" * 8 if not sha(WIDER).startswith("0" * 8) else "f" * 8
    for typed in (wrong, sha(WIDER)[:19], sha(POLICY)[:20], ""):
        run = install(home, write(tmp_path, WIDER), lines=[typed])
        assert run.status == EXIT_BAD_INPUT
        assert (
            "the digits typed are not the start of the new policy's hash; nothing was installed"
            in run.stderr
        )
    assert home.policy_path.read_text() == POLICY
    assert "policy-installed" not in home.audit_path.read_text()
    assert home.audit_path.read_bytes()[: len(audit_before)] == audit_before


def test_a_wrong_yes_hash_changes_nothing(home: SignerHome, tmp_path: Path) -> None:
    run = install(home, write(tmp_path, WIDER), "--yes-hash", sha(POLICY)[:20])
    assert run.status == EXIT_BAD_INPUT
    assert "nothing was installed" in run.stderr
    assert home.policy_path.read_text() == POLICY


@pytest.mark.parametrize("value", ["1234567", "xyz12345", "0" * 65, ""])
def test_a_malformed_yes_hash_is_bad_input(home: SignerHome, tmp_path: Path, value: str) -> None:
    run = install(home, write(tmp_path, WIDER), "--yes-hash", value)
    assert run.status == EXIT_BAD_INPUT
    assert "expected the first 20 to 64 hex digits of the policy hash" in run.stderr
    assert home.policy_path.read_text() == POLICY


def test_no_answer_changes_nothing(home: SignerHome, tmp_path: Path) -> None:
    run = install(home, write(tmp_path, WIDER), lines=[])
    assert run.status == EXIT_BAD_INPUT
    assert "the input ended before the answer to a question" in run.stderr
    assert home.policy_path.read_text() == POLICY


def test_an_online_machine_is_refused(home: SignerHome, tmp_path: Path) -> None:
    run = cli("policy", "install", "--home", home.root, write(tmp_path, WIDER), probe=ONLINE)
    assert run.status == EXIT_ERROR
    assert "refusing to run" in run.stderr
    assert home.policy_path.read_text() == POLICY


def test_a_missing_file_or_home(home: SignerHome, tmp_path: Path) -> None:
    run = install(home, tmp_path / "absent.toml")
    assert run.status == EXIT_BAD_INPUT and "cannot read" in run.stderr
    run = cli("policy", "install", "--home", tmp_path / "nohome", write(tmp_path, WIDER))
    assert run.status == EXIT_ERROR and "there is no signer home" in run.stderr


# --- the replacement itself --------------------------------------------------------------------


def _no_space(src: str, dst: str) -> None:
    raise OSError(28, "No space left on device")


def _staged(home: SignerHome) -> list[str]:
    return [p.name for p in home.root.iterdir() if p.name.startswith(".policy")]


def test_a_failed_staging_leaves_the_old_policy_and_no_entry(home: SignerHome) -> None:
    # Staging cannot put its file in place (a directory is in the way): nothing is recorded.
    home.staged_policy_path.mkdir()
    plan = plan_install(home, WIDER.encode())
    with AuditLog.open(home.audit_path) as audit:
        before = audit.head()
        with pytest.raises(HomeError, match="cannot write"):
            install_policy(home, plan, audit)
        assert audit.head() == before
    assert home.policy_path.read_text() == POLICY


def test_a_rename_cut_short_after_the_entry_is_completed_at_the_next_start(
    home: SignerHome,
) -> None:
    plan = plan_install(home, WIDER.encode())
    with AuditLog.open(home.audit_path) as audit:
        with pytest.raises(HomeError, match="recorded in the audit log but could not be put"):
            install_policy(home, plan, audit, ops=FileOps(replace=_no_space))
        installed = audit.head()
    assert entries(home)[-1]["kind"] == "policy-installed"
    assert home.policy_path.read_text() == POLICY
    assert _staged(home) == [".policy.toml.staged"]
    # The next start: the log's last entry names the staged file, so the install completes
    # before anything else is appended, and adds no entry of its own.
    with open_audit(home) as audit:
        assert audit.head() == installed
    assert home.policy_path.read_text() == WIDER
    assert _staged(home) == []


def test_a_staged_file_no_entry_names_is_discarded_at_the_next_start(home: SignerHome) -> None:
    # A power cut after staging, before the entry was durable.
    stage_policy(home, WIDER.encode())
    with AuditLog.open(home.audit_path) as audit:
        before = audit.head()
    with open_audit(home) as audit:
        assert audit.head() == before
    assert home.policy_path.read_text() == POLICY
    assert _staged(home) == []


def test_a_staged_file_is_completed_only_over_the_policy_its_entry_replaced(
    home: SignerHome,
) -> None:
    plan = plan_install(home, WIDER.encode())
    with AuditLog.open(home.audit_path) as audit, pytest.raises(HomeError):
        install_policy(home, plan, audit, ops=FileOps(replace=_no_space))
    # The policy in place is not the one the entry says it replaced: the staged file is not
    # put over it (the log's entry stays, as every entry does; the policy hash of each later
    # decision shows which policy governed it).
    other = POLICY.replace("version = 1", "version = 7")
    home.policy_path.write_text(other)
    with open_audit(home):
        pass
    assert home.policy_path.read_text() == other
    assert _staged(home) == []


def test_a_staged_file_is_completed_only_by_the_last_entry(home: SignerHome) -> None:
    plan = plan_install(home, WIDER.encode())
    with AuditLog.open(home.audit_path) as audit:
        with pytest.raises(HomeError):
            install_policy(home, plan, audit, ops=FileOps(replace=_no_space))
        audit.append("unlock", {})
    with open_audit(home):
        pass
    assert home.policy_path.read_text() == POLICY
    assert _staged(home) == []


def test_settle_reports_what_it_did(home: SignerHome) -> None:
    with AuditLog.open(home.audit_path) as audit:
        assert settle_staged_policy(home, audit) is Settled.NOTHING
        stage_policy(home, WIDER.encode())
        assert settle_staged_policy(home, audit) is Settled.DISCARDED
        plan = plan_install(home, WIDER.encode())
        with pytest.raises(HomeError):
            install_policy(home, plan, audit, ops=FileOps(replace=_no_space))
        assert settle_staged_policy(home, audit) is Settled.COMPLETED
    assert home.policy_path.read_text() == WIDER


def test_a_policy_changed_since_the_plan_is_not_replaced(home: SignerHome) -> None:
    plan = plan_install(home, WIDER.encode())
    other = POLICY.replace("version = 1", "version = 7")
    home.policy_path.write_text(other)
    with AuditLog.open(home.audit_path) as audit, pytest.raises(HomeError, match="changed while"):
        install_policy(home, plan, audit)
    assert home.policy_path.read_text() == other


def test_plan_lists_change_kinds(home: SignerHome) -> None:
    plan = plan_install(home, WIDER.encode())
    kinds = [(change.kind, change.where) for change in plan.changes]
    assert kinds == [
        (ChangeKind.CHANGED, "policy.version"),
        (ChangeKind.ADDED, "destination[1]"),
        (ChangeKind.ADDED, "destination[1].chain"),
        (ChangeKind.ADDED, "destination[1].address"),
        (ChangeKind.ADDED, "destination[1].assets"),
        (ChangeKind.ADDED, "destination[1].label"),
        (ChangeKind.CHANGED, "limit[0].per_tx"),
    ]
    assert plan.confirms(plan.new.hash_hex[:20]) and not plan.confirms(plan.new.hash_hex[:19])


def test_a_version_not_above_the_installed_one_is_warned_about(
    home: SignerHome, tmp_path: Path
) -> None:
    # The runbook raises the version with every change: an equal or lower one may be an old,
    # wider file. Warned, still installable once the operator types the digits.
    same = POLICY.replace('per_tx = "10"', 'per_tx = "9"')
    run = install(home, write(tmp_path, same), lines=[sha(same)[:20]])
    assert run.status == EXIT_OK, run.stderr
    assert "warning: version 1 is not above the installed version 1" in run.stdout
    newer = install(home, write(tmp_path, WIDER), lines=[sha(WIDER)[:20]])
    assert newer.status == EXIT_OK, newer.stderr
    assert "warning: version" not in newer.stdout
