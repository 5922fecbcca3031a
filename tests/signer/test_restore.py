"""coldsign-signer init --restore: the words typed one at a time (or their first four
letters), each refusal with its message, and a restore of published vectors that gives the
expected master fingerprint and addresses before anything is written."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import coincurve
import pytest
from Crypto.Hash import RIPEMD160
from eth_account import Account
from signerkit import ANVIL, OFFLINE, ONLINE, PASSPHRASE, make_vault
from vectorfiles import load_vectors

from shared.address import parse_address
from signer.audit import verify_log
from signer.cli import CLEAR_SCREEN, EXIT_BAD_INPUT, EXIT_ERROR, EXIT_OK, Environment, main
from signer.home import SignerHome
from signer.keys.bip39 import english_wordlist
from signer.keys.kdf import MIN_PARAMS
from signer.keys.vault import Vault
from signer.policy.template import policy_template
from signer.restore import resolve_word

VECTORS = load_vectors("bip39-bip32")
# trezor/python-mnemonic vectors.json (see the vector file's "source"): 24 words of entropy
# 0x7f * 32, BIP-39 passphrase "TREZOR", with the master xprv it gives.
TREZOR = next(
    v
    for v in VECTORS["bip39_trezor"]["vectors"]
    if v["entropy"] == "7f" * 32 and len(v["mnemonic"].split()) == 24
)
TREZOR_PASSPHRASE = VECTORS["bip39_trezor"]["passphrase"]
VAULT_PASSPHRASE = "a-vault-passphrase"
STANDARD_PATHS = [f"m/44'/60'/0'/0/{i}" for i in range(5)]


@dataclass(frozen=True, slots=True)
class Run:
    status: int
    stdout: str
    stderr: str
    unread_lines: int
    unread_secrets: int


def restore(
    home: Path,
    lines: list[str],
    secrets: list[str],
    *extra: str,
    terminal: bool = False,
    probe: object = OFFLINE,
) -> Run:
    """``init --restore`` with ``lines`` typed with echo and ``secrets`` without."""
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    queue = list(secrets)
    stdout, stderr = io.StringIO(), io.StringIO()

    def getpass(prompt: str) -> str:
        if not queue:
            raise AssertionError(f"unexpected secret prompt {prompt!r}")
        return queue.pop(0)

    env = Environment(
        stdout,
        stderr,
        probe,  # type: ignore[arg-type]
        getpass,
        kdf=MIN_PARAMS,
        terminal=terminal,
        stdin=stdin,
    )
    status = main(["init", "--restore", "--home", str(home), *extra], environment=env)
    unread = len(stdin.read().splitlines())
    return Run(status, stdout.getvalue(), stderr.getvalue(), unread, len(queue))


def typed(mnemonic: str, *, prefixes: bool = False) -> list[str]:
    words = mnemonic.split()
    return [str(len(words)), *(w[:4] if prefixes else w for w in words)]


def both(secret: str) -> list[str]:
    return [secret, secret]


def audit_entries(home: Path) -> list[dict[str, object]]:
    return [json.loads(line)["body"] for line in (home / "audit.log").read_text().splitlines()]


def _b58decode(text: str) -> bytes:
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    number = 0
    for char in text:
        number = number * 58 + alphabet.index(char)
    return number.to_bytes(82, "big")


def fingerprint_of_xprv(xprv: str) -> str:
    """BIP-32 §Key identifiers, computed apart from the signer: the first 4 bytes of
    RIPEMD160(SHA256(serP(K))) of the master key in the vector's xprv (coincurve for K)."""
    raw = _b58decode(xprv)[:-4]  # 78 bytes + 4 of checksum
    private = raw[46:78]
    public = coincurve.PrivateKey(private).public_key.format(compressed=True)
    return RIPEMD160.new(hashlib.sha256(public).digest()).digest()[:4].hex()


def printed_accounts(stdout: str) -> list[tuple[str, str]]:
    rows = [line.split() for line in stdout.splitlines() if line.startswith("  m/")]
    return [(row[0], row[1]) for row in rows]


# --- words -------------------------------------------------------------------------------------


def test_every_word_and_its_four_letters_resolve_to_its_index() -> None:
    for index, word in enumerate(english_wordlist()):
        assert resolve_word(word) == index
        assert resolve_word(word[:4]) == index
        assert resolve_word(f"  {word.upper()} ") == index


@pytest.mark.parametrize("text", ["", "ab", "aba", "abandonx", "abanx", "zzzz", "-", "1234"])
def test_not_a_word_nor_a_prefix(text: str) -> None:
    assert resolve_word(text) is None


def test_a_longer_prefix_of_the_word_is_accepted() -> None:
    assert resolve_word("aband") == english_wordlist().index("abandon")
    assert resolve_word("act") == english_wordlist().index("act")


# --- the published vectors ---------------------------------------------------------------------


def test_restore_of_the_trezor_24_word_vector(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = restore(
        home,
        [*typed(TREZOR["mnemonic"], prefixes=True), "yes"],
        [*both(TREZOR_PASSPHRASE), *both(VAULT_PASSPHRASE)],
    )
    assert run.status == EXIT_OK, run.stderr
    assert run.unread_lines == 0 and run.unread_secrets == 0
    expected = fingerprint_of_xprv(TREZOR["master_xprv"])
    assert f"master fingerprint: {expected}" in run.stdout
    # The shown addresses are eth-account's for the same words and passphrase.
    Account.enable_unaudited_hdwallet_features()
    theirs = [
        (path, Account.from_mnemonic(TREZOR["mnemonic"], TREZOR_PASSPHRASE, path).address)
        for path in STANDARD_PATHS
    ]
    assert printed_accounts(run.stdout) == theirs
    # ... shown before the question, and what was written is what was shown.
    assert run.stdout.index(expected) < run.stdout.index("Type yes to write the vault")
    header = Vault(home / "vault.json").read_header()
    assert header.master_fingerprint.hex() == expected
    assert [(str(a.path), a.address.checksummed()) for a in header.accounts] == theirs
    session = Vault(home / "vault.json").unlock(VAULT_PASSPHRASE)
    session.lock()
    # Audited as init audits, marked as a restore; the log verifies.
    created = [e for e in audit_entries(home) if e["kind"] == "vault-created"]
    assert len(created) == 1
    fields = created[0]["fields"]
    assert isinstance(fields, dict)
    assert fields["restored"] is True and fields["imported"] is True
    assert fields["master_fingerprint"] == expected
    assert verify_log(home / "audit.log").entries == len(audit_entries(home))
    assert (home / "ledger.sqlite").exists() and (home / "limits.sqlite").exists()
    assert (home / "policy.toml").exists()


def test_restore_of_anvil_gives_its_published_addresses(tmp_path: Path) -> None:
    block = VECTORS["ethereum_addresses"]
    run = restore(
        tmp_path / "home",
        [*typed(block["mnemonic"]), "yes"],
        ["", "", *both(VAULT_PASSPHRASE)],
        "--accounts",
        "2",
    )
    assert run.status == EXIT_OK, run.stderr
    assert printed_accounts(run.stdout) == [(a["path"], a["address"]) for a in block["accounts"]]


def test_a_kept_policy_is_named_with_its_hash(tmp_path: Path) -> None:
    # The vault was lost, not the policy: the restored keys are governed by the policy already
    # in the home, and the operator is told which one.
    home = SignerHome.resolve(tmp_path / "home")
    home.create()
    policy = policy_template().encode("utf-8").replace(b'name = "', b'name = "kept ', 1)
    home.write_policy(policy)
    block = VECTORS["ethereum_addresses"]
    run = restore(home.root, [*typed(block["mnemonic"]), "yes"], ["", "", *both(VAULT_PASSPHRASE)])
    assert run.status == EXIT_OK, run.stderr
    kept = hashlib.sha256(policy).hexdigest()
    assert f"policy: {home.policy_path} kept as it was (hash {kept})" in run.stdout
    assert home.read_policy() == policy


def test_enter_means_24_words_and_dash_goes_back(tmp_path: Path) -> None:
    words = TREZOR["mnemonic"].split()
    lines = ["", *words[:5], "-", "-", *words[3:], "yes"]
    run = restore(tmp_path / "home", lines, [*both(TREZOR_PASSPHRASE), *both(VAULT_PASSPHRASE)])
    assert run.status == EXIT_OK, run.stderr
    assert "word 24 of 24: " in run.stdout


def test_a_word_count_bip39_does_not_have_is_asked_again(tmp_path: Path) -> None:
    run = restore(
        tmp_path / "home",
        ["13", "twelve", *typed(ANVIL), "yes"],
        ["", "", *both(VAULT_PASSPHRASE)],
    )
    assert run.status == EXIT_OK, run.stderr
    assert run.stdout.count("a BIP-39 mnemonic has 12, 15, 18, 21 or 24 words") == 2


def test_the_screen_is_cleared_after_the_words_on_a_terminal(tmp_path: Path) -> None:
    run = restore(
        tmp_path / "home",
        [*typed(ANVIL), "yes"],
        ["", "", *both(VAULT_PASSPHRASE)],
        terminal=True,
    )
    assert run.status == EXIT_OK, run.stderr
    assert run.stdout.index(CLEAR_SCREEN) < run.stdout.index("master fingerprint")


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(["12", *ANVIL.split()[:11], "abandon", "q"], id="given-up-at-checksum"),
        pytest.param(["12", *ANVIL.split()[:7]], id="input-ended-mid-words"),
    ],
)
def test_the_screen_is_cleared_when_the_restore_stops_during_the_words(
    tmp_path: Path, lines: list[str]
) -> None:
    # The echoed words must not stay on the console (the appliance then waits to be powered
    # off with tty1 as it was) when the restore stops before the mnemonic is complete.
    run = restore(tmp_path / "home", lines, [], terminal=True)
    assert run.status == EXIT_BAD_INPUT
    last_prompt = run.stdout.rindex("? " if lines[-1] == "q" else "word 8 of 12: ")
    assert CLEAR_SCREEN in run.stdout[last_prompt:]


class _InterruptedInput(io.StringIO):
    """Typed lines, then Ctrl-C at the next question."""

    def readline(self, size: int | None = -1, /) -> str:  # type: ignore[override]
        line = super().readline(-1 if size is None else size)
        if not line:
            raise KeyboardInterrupt
        return line


def test_the_screen_is_cleared_when_the_words_are_interrupted(tmp_path: Path) -> None:
    stdout = io.StringIO()
    env = Environment(
        stdout,
        io.StringIO(),
        OFFLINE,
        lambda prompt: "",
        kdf=MIN_PARAMS,
        terminal=True,
        stdin=_InterruptedInput("12\n" + "\n".join(ANVIL.split()[:5]) + "\n"),
    )
    status = main(["init", "--restore", "--home", str(tmp_path / "home")], environment=env)
    assert status == EXIT_ERROR
    out = stdout.getvalue()
    assert CLEAR_SCREEN in out[out.rindex("word 6 of 12: ") :]
    assert not (tmp_path / "home" / "vault.json").exists()


# --- refusals ----------------------------------------------------------------------------------


def test_unknown_word_is_refused_at_once_by_its_position(tmp_path: Path) -> None:
    words = ANVIL.split()
    lines = ["12", *words[:4], "bitcoinz", words[4], *words[5:], "yes"]
    run = restore(tmp_path / "home", lines, ["", "", *both(VAULT_PASSPHRASE)])
    assert run.status == EXIT_OK, run.stderr
    message = "word 5: not a BIP-39 English word, nor the first 4 letters of one; type it again"
    assert message in run.stdout
    # It is asked again at once (word 5 twice, never word 6 before it), and nothing typed
    # and no other word of the list is suggested.
    assert run.stdout.count("word 5 of 12: ") == 2
    assert run.stdout.index(message) < run.stdout.index("word 6 of 12: ")
    # The refusal is this exact line followed by the prompt again: nothing typed, and no
    # word of the list suggested.
    assert f"word 5 of 12: {message}\nword 5 of 12: " in run.stdout
    assert "bitcoin" not in run.stdout


def test_bad_checksum_names_no_word_and_retypes_from_a_position(tmp_path: Path) -> None:
    words = ANVIL.split()
    wrong = [*words[:11], "zoo"]  # every word in the list, the checksum wrong
    lines = ["12", *wrong, "12", words[11], "yes"]
    run = restore(tmp_path / "home", lines, ["", "", *both(VAULT_PASSPHRASE)])
    assert run.status == EXIT_OK, run.stderr
    assert (
        "These words are not a valid mnemonic: the checksum does not match, so at least one"
        " word is wrong (or out of order)." in run.stdout
    )
    asked = run.stdout.split("vault restored")[0]
    assert "zoo" not in asked and "junk" not in asked and "test" not in asked
    assert "Retype from which word (1-12; 1 starts over; q gives up)? " in run.stdout
    assert run.stdout.count("word 12 of 12: ") == 2 and run.stdout.count("word 1 of 12: ") == 1


def test_bad_checksum_start_over(tmp_path: Path) -> None:
    words = ANVIL.split()
    lines = ["12", *words[:11], "abandon", "0", "x", "1", *words, "yes"]
    run = restore(tmp_path / "home", lines, ["", "", *both(VAULT_PASSPHRASE)])
    assert run.status == EXIT_OK, run.stderr
    assert run.stdout.count("type a word number from 1 to 12, or q") == 2
    assert run.stdout.count("word 1 of 12: ") == 2


def test_bad_checksum_then_giving_up_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    lines = ["12", *ANVIL.split()[:11], "abandon", "q"]
    run = restore(home, lines, [])
    assert run.status == EXIT_BAD_INPUT
    assert "the restore was abandoned; nothing was written" in run.stderr
    assert not (home / "vault.json").exists() and not (home / "ledger.sqlite").exists()


def test_mismatched_bip39_passphrases_are_asked_again(tmp_path: Path) -> None:
    run = restore(
        tmp_path / "home",
        [*typed(ANVIL), "yes"],
        ["extra", "extrA", "extra", "extra", *both(VAULT_PASSPHRASE)],
    )
    assert run.status == EXIT_OK, run.stderr
    assert "the two BIP-39 passphrases differ; type them again" in run.stdout
    Account.enable_unaudited_hdwallet_features()
    first = Account.from_mnemonic(ANVIL, "extra", "m/44'/60'/0'/0/0").address
    assert printed_accounts(run.stdout)[0][1] == first


def test_three_mismatched_vault_passphrases_write_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = restore(
        home,
        typed(ANVIL),
        ["", "", "passphrase-1", "passphrase-2", "short", "passphrase-1", "passphrase-3"],
    )
    assert run.status == EXIT_BAD_INPUT
    assert run.stdout.count("the two vault passphrases differ; type them again") == 2
    assert "a vault passphrase has at least 8 characters; type it again" in run.stdout
    assert (
        "the vault passphrase was not typed the same twice in 3 tries; nothing was written"
        in run.stderr
    )
    assert "passphrase-" not in run.stdout + run.stderr
    assert not (home / "vault.json").exists()


def test_not_confirming_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = restore(home, [*typed(ANVIL), "no"], ["", "", *both(VAULT_PASSPHRASE)])
    assert run.status == EXIT_BAD_INPUT
    assert "master fingerprint: " in run.stdout
    assert "not confirmed; nothing was written" in run.stderr
    assert not (home / "vault.json").exists() and not (home / "ledger.sqlite").exists()
    assert not (home / "policy.toml").exists()
    assert [e["kind"] for e in audit_entries(home)] == ["log-created"]


def test_a_home_with_a_vault_is_refused_before_any_question(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    make_vault(home / "vault.json")
    before = (home / "vault.json").read_bytes()
    run = restore(home, typed(ANVIL), [])
    assert run.status == EXIT_ERROR
    assert "a vault already exists at" in run.stderr and "restore onto a new, empty home" in (
        run.stderr
    )
    assert run.stdout == "" and run.unread_lines == len(typed(ANVIL))
    assert (home / "vault.json").read_bytes() == before


def test_an_online_machine_is_refused_before_any_word(tmp_path: Path) -> None:
    run = restore(tmp_path / "home", typed(ANVIL), [], probe=ONLINE)
    assert run.status == EXIT_ERROR
    assert "refusing to run" in run.stderr
    assert run.unread_lines == len(typed(ANVIL))


def test_restore_does_not_take_a_mnemonic_file(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text(ANVIL + "\n")
    run = restore(tmp_path / "home", [], [], "--mnemonic-file", str(words))
    assert run.status == EXIT_BAD_INPUT
    assert "--restore asks for the words at the terminal; drop --mnemonic-file" in run.stderr


def test_input_ending_early_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = restore(home, ["12", *ANVIL.split()[:7]], [])
    assert run.status == EXIT_BAD_INPUT
    assert "the input ended before the answer to a question; nothing was changed" in run.stderr
    assert not (home / "vault.json").exists()


def test_passphrase_files_are_honoured(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    run = restore(
        tmp_path / "home", [*typed(ANVIL), "yes"], ["", ""], "--passphrase-file", str(secret)
    )
    assert run.status == EXIT_OK, run.stderr
    Vault(tmp_path / "home" / "vault.json").unlock(PASSPHRASE).lock()


def test_restored_addresses_are_checksummed(tmp_path: Path) -> None:
    run = restore(tmp_path / "home", [*typed(ANVIL), "yes"], ["", "", *both(VAULT_PASSPHRASE)])
    for _, address in printed_accounts(run.stdout):
        assert parse_address(address, field="address").checksummed() == address


@pytest.fixture(autouse=True)
def _no_stray_files(tmp_path: Path) -> Iterator[None]:
    yield
    # Nothing the restore wrote lies outside the home (no temp file, no copy of a secret).
    stray = [p for p in tmp_path.iterdir() if p.name not in {"home", "pass.txt", "words.txt"}]
    assert stray == []
