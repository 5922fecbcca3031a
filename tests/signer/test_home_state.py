"""A home whose vault exists refuses to start without its ledger, limits store or audit log,
unless the operator asks, loudly and on the record, for them to be re-created."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from signerkit import ANVIL, OFFLINE, PASSPHRASE, eip1559, make_home, tx_request

from shared.ur import UREncoder
from signer.audit import AuditLog, verify_log
from signer.cli import EXIT_ERROR, EXIT_OK, Environment, main
from signer.core import SignerCore
from signer.errors import HomeError
from signer.home import SignerHome
from signer.keys.kdf import MIN_PARAMS

STATE = {
    "ledger.sqlite": "equivocation protection",
    "limits.sqlite": "24-hour window",
    "audit.log": "evidence",
}


@pytest.fixture
def home(tmp_path: Path) -> SignerHome:
    return make_home(tmp_path / "home")


def remove(home: SignerHome, name: str) -> None:
    (home.root / name).unlink()
    if name == "audit.log":
        # A lost log goes with its head record (a head alone is a cut log: tampering).
        (home.root / "audit.log.head").unlink()


def kinds(home: SignerHome) -> list[str]:
    with AuditLog.open(home.audit_path) as audit:
        return [entry.kind for entry in audit.entries()]


@pytest.mark.parametrize("name", sorted(STATE))
def test_a_missing_state_file_stops_the_signer(home: SignerHome, name: str) -> None:
    remove(home, name)
    with pytest.raises(HomeError) as refused:
        SignerCore.open(home, probe=OFFLINE)
    message = str(refused.value)
    assert f"{name} is missing" in message and STATE[name] in message
    assert "--reset-missing-state" in message
    assert not (home.root / name).exists()  # nothing was re-created behind the operator


def test_every_missing_file_is_named(home: SignerHome) -> None:
    remove(home, "ledger.sqlite")
    remove(home, "limits.sqlite")
    with pytest.raises(HomeError, match=r"ledger\.sqlite is missing.*limits\.sqlite is missing"):
        SignerCore.open(home, probe=OFFLINE)


@pytest.mark.parametrize("name", sorted(STATE))
def test_the_reset_recreates_the_file_and_is_audited(home: SignerHome, name: str) -> None:
    remove(home, name)
    with SignerCore.open(home, probe=OFFLINE, reset_missing_state=True):
        pass
    assert (home.root / name).exists()
    with AuditLog.open(home.audit_path) as audit:
        (reset,) = [entry for entry in audit.entries() if entry.kind == "state-reset"]
    assert reset.fields["missing"] == (name,)
    assert reset.fields["lost"] == (STATE[name],)
    with SignerCore.open(home, probe=OFFLINE):
        pass  # and from then on the home is whole


def test_a_home_without_a_vault_needs_no_state(tmp_path: Path) -> None:
    home = SignerHome.resolve(tmp_path / "new")
    home.create()
    assert home.missing_state() == ()


def test_init_creates_the_state_before_the_vault(tmp_path: Path) -> None:
    mnemonic = tmp_path / "words.txt"
    mnemonic.write_text(ANVIL + "\n")
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text(PASSPHRASE + "\n")
    home = SignerHome.resolve(tmp_path / "home")
    status, _, _ = cli(
        "init",
        "--home",
        home.root,
        "--mnemonic-file",
        mnemonic,
        "--passphrase-file",
        passphrase,
        "--accounts",
        "1",
    )
    assert status == EXIT_OK
    assert home.missing_state() == ()
    assert all((home.root / name).exists() for name in STATE)


def cli(*argv: str | Path) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdout, stderr, OFFLINE, lambda prompt: PASSPHRASE, kdf=MIN_PARAMS)
    status = main([str(arg) for arg in argv], environment=env)
    return status, stdout.getvalue(), stderr.getvalue()


def request_file(tmp_path: Path) -> Path:
    ur = tx_request(eip1559(0)).to_ur()
    path = tmp_path / "request.txt"
    path.write_text(UREncoder(ur, 400).parts(1)[0] + "\n")
    return path


def test_sign_refuses_and_then_resets_on_request(home: SignerHome, tmp_path: Path) -> None:
    remove(home, "ledger.sqlite")
    asked, out = request_file(tmp_path), tmp_path / "response.txt"
    status, _, stderr = cli("sign", "--home", home.root, "--in", asked, "--out", out)
    assert status == EXIT_ERROR
    assert "ledger.sqlite is missing" in stderr and "equivocation protection" in stderr
    assert not out.exists() and not home.ledger_path.exists()
    status, _, stderr = cli(
        "sign", "--home", home.root, "--in", asked, "--out", out, "--reset-missing-state"
    )
    assert status == EXIT_OK
    assert "WARNING: --reset-missing-state" in stderr
    assert "ledger.sqlite (equivocation protection)" in stderr
    assert kinds(home)[1:3] == ["state-reset", "unlock"]
    assert verify_log(home.audit_path).entries == len(kinds(home))


def test_export_account_refuses_a_lost_audit_log(home: SignerHome, tmp_path: Path) -> None:
    remove(home, "audit.log")
    out = tmp_path / "account.txt"
    status, _, stderr = cli("export-account", "--home", home.root, "--out", out)
    assert status == EXIT_ERROR and "audit.log is missing" in stderr and "evidence" in stderr
    assert not home.audit_path.exists()
    status, _, stderr = cli(
        "export-account", "--home", home.root, "--out", out, "--reset-missing-state"
    )
    assert status == EXIT_OK and "audit.log (evidence)" in stderr
    # A fresh log whose first entry after log-created says why it is fresh.
    assert kinds(home)[:2] == ["log-created", "state-reset"]


def test_audit_verify_still_reads_a_home_with_a_lost_ledger(home: SignerHome) -> None:
    remove(home, "ledger.sqlite")
    status, stdout, _ = cli("audit", "verify", "--home", home.root)
    assert status == EXIT_OK and "audit log OK" in stdout
    assert not home.ledger_path.exists()
