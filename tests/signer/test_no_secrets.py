"""No secret leaves the signer: every command runs with logging at DEBUG, and everything it
printed, logged or stored is searched for the mnemonic, the seed, private keys and passphrases.

The one exception is the new mnemonic ``init`` shows once on the terminal: it appears exactly
there, once, and nowhere else.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from signerkit import OFFLINE, POLICY, STANDARD, eip1559, request, tx_request

from shared.erc4527 import DataType, EthBatchSignRequest
from shared.ur import UREncoder
from signer.cli import EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, EXIT_REFUSED, Environment, main
from signer.keys.bip32 import master_key
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import MIN_PARAMS
from signer.keys.paths import ACCOUNT_LEVEL

# BIP-39 reference vector (trezor/python-mnemonic vectors.json, entropy 0x7f * 16): a phrase
# of distinct words, unlike anvil's, so that any run of them in the output is a real leak.
MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"
VAULT_PASSPHRASE = "vault-Pa55phrase-for-no-secrets"
BIP39_PASSPHRASE = "TREZOR-extra-word"
WRONG_PASSPHRASE = "wrong-Pa55phrase-typed-by-someone"


def secrets() -> dict[str, str]:
    """Every secret that must not appear, in the forms it could take."""
    mnemonic = SecretMnemonic.from_phrase(MNEMONIC)
    seed = bytes(mnemonic.seed(BIP39_PASSPHRASE))
    master = master_key(seed)
    found = {
        "seed": seed.hex(),
        "master key": master.private_key.hex(),
        "master chain code": master.chain_code.hex(),
        "account-level key": master.derive(ACCOUNT_LEVEL).private_key.hex(),
        "vault passphrase": VAULT_PASSPHRASE,
        "BIP-39 passphrase": BIP39_PASSPHRASE,
        "wrong passphrase": WRONG_PASSPHRASE,
    }
    for path in STANDARD:
        found[f"private key {path}"] = master.derive(path).private_key.hex()
    words = MNEMONIC.split()
    # Any four consecutive words of the phrase (the phrase itself included).
    for start in range(len(words) - 3):
        found[f"mnemonic words {start + 1}-{start + 4}"] = " ".join(words[start : start + 4])
    return found


class Session:
    """Runs CLI commands against one home and keeps everything they printed."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.captured: list[str] = []

    def file(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text)
        return path

    def run(
        self, *argv: str | Path, answers: list[str] | None = None, terminal: bool = False
    ) -> int:
        stdout, stderr = io.StringIO(), io.StringIO()
        queue = list(answers or [])
        env = Environment(
            stdout, stderr, OFFLINE, lambda _: queue.pop(0), kdf=MIN_PARAMS, terminal=terminal
        )
        status = main([str(arg) for arg in argv], environment=env)
        self.captured += [stdout.getvalue(), stderr.getvalue()]
        return status

    def stored(self) -> Iterator[tuple[str, bytes]]:
        for path in sorted(self.tmp.rglob("*")):
            if path.is_file() and path.name not in {
                "mnemonic.txt",
                "passphrase.txt",
                "bip39.txt",
                "wrong.txt",
            }:
                yield str(path), path.read_bytes()


def _forms(secret: str) -> list[bytes]:
    return [secret.encode(), secret.upper().encode(), secret.lower().encode()]


def test_no_command_leaks_a_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cli = Session(tmp_path)
    mnemonic = cli.file("mnemonic.txt", MNEMONIC + "\n")
    secret = cli.file("passphrase.txt", VAULT_PASSPHRASE + "\n")
    bip39 = cli.file("bip39.txt", BIP39_PASSPHRASE + "\n")
    wrong = cli.file("wrong.txt", WRONG_PASSPHRASE)
    home: list[str | Path] = ["--home", cli.home]

    assert (
        cli.run(
            "init",
            *home,
            "--mnemonic-file",
            mnemonic,
            "--passphrase-file",
            secret,
            "--bip39-passphrase-file",
            bip39,
        )
        == EXIT_OK
    )
    (cli.home / "policy.toml").unlink()
    (cli.home / "policy.toml").write_text(
        POLICY.replace(
            "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        )
    )
    (cli.home / "policy.toml").chmod(0o600)
    assert (
        cli.run(
            "export-account", *home, "--out", tmp_path / "account.txt", "--passphrase-file", secret
        )
        == EXIT_OK
    )
    assert (
        cli.run(
            "export-account", *home, "--out", tmp_path / "account2.txt", answers=[WRONG_PASSPHRASE]
        )
        == EXIT_ERROR
    )

    own = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    asked = [
        tx_request(eip1559(0, to=own)),
        tx_request(eip1559(1)),
        request(b"Sign in to coldsign.example\xe2\x80\x8b", DataType.PERSONAL_MESSAGE),
        request(bytes(32), DataType.PERSONAL_MESSAGE),
    ]
    encoder = UREncoder(EthBatchSignRequest(tuple(asked)).to_ur(), 100)
    source = cli.file("request.txt", "\n".join(encoder.parts(encoder.seq_len)) + "\n")
    sign: list[str | Path] = ["sign", *home, "--in", source, "--out", tmp_path / "response.txt"]
    assert cli.run(*sign, "--passphrase-file", wrong) == EXIT_ERROR
    assert cli.run(*sign, "--passphrase-file", secret) == EXIT_REFUSED
    assert cli.run(*sign, "--ack", "3:abcdef", answers=[VAULT_PASSPHRASE]) == EXIT_REFUSED
    assert cli.run("audit", "verify", *home) == EXIT_OK
    with (cli.home / "audit.log").open("ab") as stream:
        stream.write(b'{"body":')
    assert cli.run("audit", "recover", *home) == EXIT_OK
    assert cli.run("policy", "check", cli.home / "policy.toml") == EXIT_OK
    assert cli.run("policy", "new") == EXIT_OK
    assert (
        cli.run("init", *home, "--mnemonic-file", mnemonic, "--passphrase-file", secret)
        == EXIT_ERROR
    )

    # The run did log at DEBUG (a signature was made), so the search below means something.
    assert any(
        r.levelno == logging.DEBUG and "signed a computed digest" in r.getMessage()
        for r in caplog.records
    )
    everything = [("output", text.encode()) for text in cli.captured]
    everything.append(("log", caplog.text.encode()))
    everything += [(f"log record {r.name}", r.getMessage().encode()) for r in caplog.records]
    everything += list(cli.stored())
    assert any(name.endswith("audit.log") for name, _ in everything)
    assert any(name.endswith("ledger.sqlite") for name, _ in everything)
    for name, value in secrets().items():
        for where, data in everything:
            for form in _forms(value):
                assert form not in data, f"{name} found in {where}"


def test_a_new_mnemonic_is_shown_once_and_only_on_the_terminal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cli = Session(tmp_path)
    status = cli.run("init", "--home", cli.home, answers=[VAULT_PASSPHRASE] * 2, terminal=True)
    assert status == EXIT_OK
    stdout = cli.captured[0]
    words = [
        token
        for line in stdout.splitlines()
        if line.lstrip()[:1].isdigit() and ". " in line
        for token in line.split()
        if not token.rstrip(".").isdigit()
    ]
    assert len(words) == 24
    phrase = " ".join(words)
    SecretMnemonic.from_phrase(phrase)  # what was shown is the valid mnemonic
    seed = bytes(SecretMnemonic.from_phrase(phrase).seed()).hex()
    for word in set(words):
        assert stdout.count(f". {word} ") + stdout.count(f". {word}\n") >= 1
    for where, data in [
        ("stderr", cli.captured[1].encode()),
        ("log", caplog.text.encode()),
        *cli.stored(),
    ]:
        for start in range(len(words) - 3):
            run = " ".join(words[start : start + 4]).encode()
            assert run not in data, f"mnemonic words found in {where}"
        assert seed.encode() not in data, f"seed found in {where}"
        assert VAULT_PASSPHRASE.encode() not in data, f"passphrase found in {where}"
    assert stdout.count("NEW RECOVERY PHRASE") == 1


def test_a_restore_leaks_no_typed_word_or_passphrase(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``init --restore``: the words typed (refused, mistyped, abandoned and accepted), the
    BIP-39 and vault passphrases (mismatched ones too) appear in no output, log, exception
    message or stored file."""
    caplog.set_level(logging.DEBUG)
    words = MNEMONIC.split()
    captured: list[str] = []

    def run(home: Path, lines: list[str], typed_secrets: list[str]) -> int:
        stdout, stderr = io.StringIO(), io.StringIO()
        stdin = io.StringIO("".join(line + "\n" for line in lines))
        queue = list(typed_secrets)
        env = Environment(
            stdout, stderr, OFFLINE, lambda _: queue.pop(0), kdf=MIN_PARAMS, stdin=stdin
        )
        status = main(["init", "--restore", "--home", str(home)], environment=env)
        captured.extend([stdout.getvalue(), stderr.getvalue()])
        return status

    # A word out of the list, a wrong last word (checksum), then given up.
    abandoned = ["12", *words[:3], "legalx", *words[3:11], "abandon", "q"]
    assert run(tmp_path / "abandoned", abandoned, []) == EXIT_BAD_INPUT
    # Not confirmed after the passphrases (a mismatched pair first).
    refused = [*typed_in(words), "no"]
    secrets_typed = [BIP39_PASSPHRASE, WRONG_PASSPHRASE, BIP39_PASSPHRASE, BIP39_PASSPHRASE]
    secrets_typed += [VAULT_PASSPHRASE] * 2
    assert run(tmp_path / "refused", refused, secrets_typed) == EXIT_BAD_INPUT
    # Restored, with words typed as their first four letters.
    prefixes = ["12", *(word[:4] for word in words), "yes"]
    assert run(tmp_path / "restored", prefixes, secrets_typed) == EXIT_OK
    assert (tmp_path / "restored" / "vault.json").exists()

    everything = [("output", text.encode()) for text in captured]
    everything.append(("log", caplog.text.encode()))
    everything += [(f"log record {r.name}", r.getMessage().encode()) for r in caplog.records]
    everything += [
        (str(path), path.read_bytes()) for path in sorted(tmp_path.rglob("*")) if path.is_file()
    ]
    assert any(name.endswith("audit.log") for name, _ in everything)
    leaks = dict(secrets())
    leaks["the mistyped word"] = "legalx"
    for name, value in leaks.items():
        for where, data in everything:
            for form in _forms(value):
                assert form not in data, f"{name} found in {where}"


def typed_in(words: list[str]) -> list[str]:
    return [str(len(words)), *words]
