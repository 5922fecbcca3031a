"""The encrypted vault: round trip, tampering, planted parameters, backoff, atomic writes.

Decision tested here: a file that is malformed, not canonical, of an unknown version or with
scrypt parameters out of bounds raises VaultFormatError before any key derivation; a
well-formed file whose authenticated content was edited fails the GCM tag exactly like a
wrong passphrase and raises WrongPassphraseError (counted).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from Crypto.Cipher import AES

from signer.errors import (
    BackoffError,
    KeyPathError,
    VaultError,
    VaultExistsError,
    VaultFormatError,
    WrongPassphraseError,
)
from signer.keys.atomicfile import FileOps, write_atomic
from signer.keys.backoff import BackoffPolicy, counter_path
from signer.keys.bip32 import DerivationPath
from signer.keys.bip39 import SecretMnemonic
from signer.keys.kdf import MIN_PARAMS, ScryptParams, check_bounds, derive_key
from signer.keys.paths import Scheme, scheme_path
from signer.keys.vault import Vault
from signer.keys.vaultfile import SecretPayload, VaultDocument, decode_document

PASSPHRASE = "correct horse battery"
ANVIL = "test test test test test test test test test test test junk"
ACCOUNTS = (scheme_path(Scheme.STANDARD, 0), scheme_path(Scheme.LEGACY, 1))


class Clock:
    """A settable wall clock."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ScryptSpy:
    """Counts scrypt calls and forwards them to the real function."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args: Any, **kwargs: Any) -> bytes:
        self.calls += 1
        import hashlib

        return hashlib.scrypt(*args, **kwargs)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def spy() -> ScryptSpy:
    return ScryptSpy()


@pytest.fixture
def vault(tmp_path: Path, clock: Clock, spy: ScryptSpy) -> Vault:
    made = Vault(tmp_path / "vault.json", clock=clock, scrypt=spy)
    made.import_mnemonic(PASSPHRASE, SecretMnemonic.from_phrase(ANVIL), ACCOUNTS, kdf=MIN_PARAMS)
    spy.calls = 0
    return made


def _rewrite(path: Path, mutate: Callable[[dict[str, Any]], None]) -> None:
    """Edit the JSON document and store it back canonically (so only the edit differs)."""
    document = json.loads(path.read_bytes())
    mutate(document)
    data = json.dumps(document, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    path.write_bytes(data)


def _flip_hex(text: str, index: int = 0) -> str:
    digit = "1" if text[index] != "1" else "2"
    return text[:index] + digit + text[index + 1 :]


# --- round trip ----------------------------------------------------------------------------


def test_create_lock_unlock_round_trip(tmp_path: Path, clock: Clock) -> None:
    vault = Vault(tmp_path / "vault.json", clock=clock)
    mnemonic = vault.create(PASSPHRASE, ACCOUNTS, kdf=MIN_PARAMS)
    phrase = mnemonic.reveal_phrase()
    session = vault.unlock(PASSPHRASE)
    assert [a.path for a in session.accounts] == list(ACCOUNTS)
    vault.lock()
    assert session.is_locked()
    again = vault.unlock(PASSPHRASE)
    assert again.accounts == session.accounts
    # The stored entropy is the mnemonic that was shown for the backup.
    other = Vault(tmp_path / "copy.json", clock=clock)
    other.import_mnemonic(PASSPHRASE, SecretMnemonic.from_phrase(phrase), ACCOUNTS, kdf=MIN_PARAMS)
    assert other.read_header().accounts == vault.read_header().accounts


def test_header_is_readable_without_the_passphrase(vault: Vault, spy: ScryptSpy) -> None:
    header = vault.read_header()
    assert header.accounts[0].address.checksummed() == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    assert header.paths == ACCOUNTS
    assert header.kdf == MIN_PARAMS
    assert spy.calls == 0


def test_the_bip39_passphrase_is_part_of_the_vault(tmp_path: Path, clock: Clock) -> None:
    plain = Vault(tmp_path / "a.json", clock=clock)
    plain.import_mnemonic(PASSPHRASE, SecretMnemonic.from_phrase(ANVIL), ACCOUNTS, kdf=MIN_PARAMS)
    salted = Vault(tmp_path / "b.json", clock=clock)
    salted.import_mnemonic(
        PASSPHRASE,
        SecretMnemonic.from_phrase(ANVIL),
        ACCOUNTS,
        bip39_passphrase="TREZOR",
        kdf=MIN_PARAMS,
    )
    assert plain.read_header().accounts != salted.read_header().accounts
    assert salted.unlock(PASSPHRASE).accounts == salted.read_header().accounts


def test_file_permissions_are_0600(vault: Vault) -> None:
    vault.unlock(PASSPHRASE)
    assert stat.S_IMODE(os.stat(vault.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(counter_path(vault.path)).st_mode) == 0o600


def test_a_vault_readable_by_others_is_refused(vault: Vault, spy: ScryptSpy) -> None:
    os.chmod(vault.path, 0o644)
    with pytest.raises(VaultFormatError):
        vault.unlock(PASSPHRASE)
    assert spy.calls == 0


def test_a_symlink_at_the_vault_path_is_refused(vault: Vault, tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(vault.path)
    with pytest.raises(VaultFormatError):
        Vault(link).unlock(PASSPHRASE)


def test_a_missing_vault_is_a_vault_error(tmp_path: Path) -> None:
    with pytest.raises(VaultError) as raised:
        Vault(tmp_path / "none.json").unlock(PASSPHRASE)
    assert type(raised.value) is VaultError


def test_a_short_new_passphrase_is_refused(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault.json")
    with pytest.raises(VaultError):
        vault.create("short", ACCOUNTS, kdf=MIN_PARAMS)
    assert not vault.exists()


def test_enrolment_is_validated_on_create(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault.json")
    with pytest.raises(KeyPathError):
        vault.create(PASSPHRASE, [], kdf=MIN_PARAMS)
    with pytest.raises(KeyPathError):
        vault.create(PASSPHRASE, [ACCOUNTS[0], ACCOUNTS[0]], kdf=MIN_PARAMS)
    assert not vault.exists()


# --- wrong passphrase and backoff ----------------------------------------------------------


def test_wrong_passphrase_is_refused_and_counted(vault: Vault, clock: Clock) -> None:
    for expected in (1, 2, 3):
        with pytest.raises(WrongPassphraseError):
            vault.unlock("not the passphrase")
        assert vault.failed_attempts() == expected
    clock.now += BackoffPolicy().delay_after(3)
    vault.unlock(PASSPHRASE)
    assert vault.failed_attempts() == 0


def test_backoff_doubles_and_survives_a_restart(vault: Vault, clock: Clock, spy: ScryptSpy) -> None:
    policy = BackoffPolicy(free_attempts=3, base_delay=30.0, max_delay=100.0)
    vault = Vault(vault.path, clock=clock, backoff=policy, scrypt=spy)
    for _ in range(3):
        with pytest.raises(WrongPassphraseError):
            vault.unlock("wrong passphrase")
    calls = spy.calls
    with pytest.raises(BackoffError) as raised:
        vault.unlock(PASSPHRASE)
    assert raised.value.retry_after == 30.0
    assert spy.calls == calls  # refused before any key derivation
    assert vault.failed_attempts() == 3  # a refused attempt is not counted

    clock.now += 29.5
    # A new Vault object (a restarted signer) reads the persisted counter.
    restarted = Vault(vault.path, clock=clock, backoff=policy, scrypt=spy)
    with pytest.raises(BackoffError) as raised:
        restarted.unlock(PASSPHRASE)
    assert raised.value.retry_after == pytest.approx(0.5)

    clock.now += 0.5
    with pytest.raises(WrongPassphraseError):
        restarted.unlock("wrong again")
    with pytest.raises(BackoffError) as raised:
        restarted.unlock(PASSPHRASE)
    assert raised.value.retry_after == 60.0

    clock.now += 60
    with pytest.raises(WrongPassphraseError):
        restarted.unlock("and again")
    with pytest.raises(BackoffError) as raised:
        restarted.unlock(PASSPHRASE)
    assert raised.value.retry_after == 100.0  # capped by max_delay

    clock.now += 100
    restarted.unlock(PASSPHRASE)
    assert restarted.failed_attempts() == 0


def test_a_clock_that_went_back_never_lengthens_the_wait(vault: Vault, clock: Clock) -> None:
    policy = BackoffPolicy(free_attempts=1, base_delay=10.0, max_delay=10.0)
    vault = Vault(vault.path, clock=clock, backoff=policy)
    with pytest.raises(WrongPassphraseError):
        vault.unlock("wrong passphrase")
    clock.now -= 10_000
    with pytest.raises(BackoffError) as raised:
        vault.unlock(PASSPHRASE)
    assert raised.value.retry_after == 10.0


def test_the_attempt_is_counted_before_the_key_derivation(vault: Vault, clock: Clock) -> None:
    seen: list[int] = []

    def scrypt(*args: Any, **kwargs: Any) -> bytes:
        seen.append(Vault(vault.path).failed_attempts())
        raise KeyboardInterrupt  # the process is killed while scrypt runs

    interrupted = Vault(vault.path, clock=clock, scrypt=scrypt)
    with pytest.raises(KeyboardInterrupt):
        interrupted.unlock(PASSPHRASE)
    assert seen == [1]
    assert vault.failed_attempts() == 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage",
        b'{"failures":1}\n',
        b'{"failures":-1,"last_attempt_ms":0}\n',
        b'{"failures":1.0,"last_attempt_ms":0}\n',
        b'{"failures":true,"last_attempt_ms":0}\n',
        b'{"failures": 1, "last_attempt_ms": 0}\n',
        b'{"failures":1,"last_attempt_ms":0,"x":1}\n',
        b"\xff\xfe",
    ],
)
def test_a_malformed_counter_is_refused_not_reset(vault: Vault, content: bytes) -> None:
    counter_path(vault.path).write_bytes(content)
    with pytest.raises(VaultFormatError):
        vault.unlock(PASSPHRASE)


def test_backoff_policy_delays() -> None:
    policy = BackoffPolicy(free_attempts=3, base_delay=30.0, max_delay=3600.0)
    assert [policy.delay_after(n) for n in range(8)] == [0, 0, 0, 30, 60, 120, 240, 480]
    assert policy.delay_after(10**9) == 3600.0


# --- planted and malformed files: refused before any key derivation ------------------------


@pytest.mark.parametrize(
    ("n", "r", "p"),
    [
        (2**40, 8, 1),
        (2**21, 8, 1),
        (2**13, 8, 1),
        (3 * 2**14, 8, 1),
        (0, 8, 1),
        (-(2**14), 8, 1),
        (2**14, 2**20, 1),
        (2**14, 7, 1),
        (2**14, 17, 1),
        (2**14, 8, 0),
        (2**14, 8, 5),
        (2**14, 8, 2**30),
        (True, 8, 1),
        (2**14, True, 1),
        (float(2**14), 8, 1),
        ("16384", 8, 1),
        (None, 8, 1),
    ],
)
def test_scrypt_bounds_are_checked(n: Any, r: Any, p: Any) -> None:
    with pytest.raises(VaultFormatError):
        check_bounds(n, r, p)
    with pytest.raises(VaultFormatError):
        ScryptParams.checked(n, r, p)


def test_a_hand_built_parameter_set_cannot_reach_scrypt(spy: ScryptSpy) -> None:
    with pytest.raises(VaultFormatError):
        derive_key(ScryptParams(2**40, 8, 1), b"pw", b"salt", scrypt=spy)
    assert spy.calls == 0


@pytest.mark.parametrize("bounds", [(2**14, 8, 1), (2**20, 16, 4), (2**17, 12, 2)])
def test_parameters_within_bounds_are_accepted(bounds: tuple[int, int, int]) -> None:
    assert check_bounds(*bounds) == bounds


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        ("n = 2**40", lambda d: d["header"]["kdf"].update(n=2**40)),
        ("r = 2**20", lambda d: d["header"]["kdf"].update(r=2**20)),
        ("p = 100", lambda d: d["header"]["kdf"].update(p=100)),
        ("n not a power of two", lambda d: d["header"]["kdf"].update(n=20000)),
        ("n as a string", lambda d: d["header"]["kdf"].update(n="16384")),
        ("kdf name", lambda d: d["header"]["kdf"].update(name="pbkdf2")),
        ("kdf extra key", lambda d: d["header"]["kdf"].update(dklen=32)),
        ("version 2", lambda d: d["header"].update(version=2)),
        ("version 0", lambda d: d["header"].update(version=0)),
        ("version true", lambda d: d["header"].update(version=True)),
        ("format", lambda d: d["header"].update(format="other")),
        ("salt too short", lambda d: d["header"].update(salt=d["header"]["salt"][:-2])),
        ("salt upper case", lambda d: d["header"].update(salt=d["header"]["salt"].upper())),
        ("salt not hex", lambda d: d["header"].update(salt="zz" * 32)),
        ("fingerprint length", lambda d: d["header"].update(master_fingerprint="00")),
        ("no accounts", lambda d: d["header"].update(accounts=[])),
        ("accounts not a list", lambda d: d["header"].update(accounts={})),
        (
            "account path malformed",
            lambda d: d["header"]["accounts"][0].update(path="m/44'/60'/0'/0/x"),
        ),
        (
            "account path outside the schemes",
            lambda d: d["header"]["accounts"][0].update(path="m/44'/0'/0'/0/0"),
        ),
        (
            "account address bad checksum",
            lambda d: d["header"]["accounts"][0].update(
                address="0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
            ),
        ),
        (
            "account duplicated",
            lambda d: d["header"]["accounts"].append(d["header"]["accounts"][0]),
        ),
        ("account extra key", lambda d: d["header"]["accounts"][0].update(label="x")),
        ("header extra key", lambda d: d["header"].update(comment="x")),
        ("header missing key", lambda d: d["header"].pop("salt")),
        ("top-level extra key", lambda d: d.update(extra=1)),
        ("top-level missing key", lambda d: d.pop("tag")),
        ("nonce length", lambda d: d.update(nonce=d["nonce"] + "00")),
        ("tag length", lambda d: d.update(tag=d["tag"][:-2])),
        ("ciphertext empty", lambda d: d.update(ciphertext="")),
        ("ciphertext odd length", lambda d: d.update(ciphertext=d["ciphertext"][:-1])),
        ("header not an object", lambda d: d.update(header=[])),
    ],
)
def test_malformed_fields_are_refused_before_any_kdf(
    vault: Vault, spy: ScryptSpy, name: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    _rewrite(vault.path, mutate)
    with pytest.raises(VaultFormatError):
        vault.unlock(PASSPHRASE)
    assert spy.calls == 0, name
    assert vault.failed_attempts() == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty", lambda good: b""),
        ("truncated", lambda good: good[: len(good) // 2]),
        ("missing newline", lambda good: good[:-1]),
        ("trailing bytes", lambda good: good + b"\n"),
        ("garbage", lambda good: os.urandom(300)),
        ("not an object", lambda good: b"[]\n"),
        ("a number", lambda good: b"1\n"),
        ("spaces", lambda good: good.replace(b",", b", ", 1)),
        ("non-ASCII", lambda good: good.replace(b"scrypt", "scr\u00ffpt".encode())),
        ("escaped key", lambda good: good.replace(b'"tag"', b'"\\u0074ag"')),
        ("duplicate key", lambda good: good[:-2] + b',"tag":"00"}\n'),
        ("n with 5000 digits", lambda good: good.replace(b'"n":16384', b'"n":' + b"1" * 5000)),
        ("float", lambda good: good.replace(b'"p":1', b'"p":1.0')),
        ("NaN", lambda good: good.replace(b'"p":1', b'"p":NaN')),
        ("deep nesting", lambda good: b"[" * 100_000 + b"]" * 100_000),
        ("oversized", lambda good: b" " * (200 * 1024)),
    ],
)
def test_malformed_files_are_refused_before_any_kdf(
    vault: Vault, spy: ScryptSpy, name: str, content: Callable[[bytes], bytes]
) -> None:
    vault.path.write_bytes(content(vault.path.read_bytes()))
    with pytest.raises(VaultFormatError):
        vault.unlock(PASSPHRASE)
    with pytest.raises(VaultFormatError):
        vault.read_header()
    assert spy.calls == 0, name


def test_the_decoder_accepts_exactly_its_own_encoding(vault: Vault) -> None:
    data = vault.path.read_bytes()
    assert decode_document(data).encode() == data


# --- authenticated fields: any edit fails like a wrong passphrase --------------------------


@pytest.mark.parametrize(
    ("name", "mutate"),
    [
        ("kdf n", lambda d: d["header"]["kdf"].update(n=2**15)),
        ("kdf r", lambda d: d["header"]["kdf"].update(r=9)),
        ("kdf p", lambda d: d["header"]["kdf"].update(p=2)),
        ("salt", lambda d: d["header"].update(salt=_flip_hex(d["header"]["salt"]))),
        (
            "master fingerprint",
            lambda d: d["header"].update(
                master_fingerprint=_flip_hex(d["header"]["master_fingerprint"])
            ),
        ),
        (
            "enrolled path",
            lambda d: d["header"]["accounts"][0].update(path="m/44'/60'/0'/0/5"),
        ),
        (
            "enrolled address",
            lambda d: d["header"]["accounts"][0].update(
                address="0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
            ),
        ),
        ("accounts reordered", lambda d: d["header"]["accounts"].reverse()),
        ("account removed", lambda d: d["header"]["accounts"].pop()),
        ("nonce", lambda d: d.update(nonce=_flip_hex(d["nonce"]))),
        ("ciphertext first byte", lambda d: d.update(ciphertext=_flip_hex(d["ciphertext"]))),
        ("ciphertext last byte", lambda d: d.update(ciphertext=_flip_hex(d["ciphertext"], -1))),
        ("ciphertext truncated", lambda d: d.update(ciphertext=d["ciphertext"][:-2])),
        ("tag", lambda d: d.update(tag=_flip_hex(d["tag"]))),
    ],
)
def test_edited_authenticated_fields_fail_authentication(
    vault: Vault, name: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    _rewrite(vault.path, mutate)
    with pytest.raises(WrongPassphraseError):
        vault.unlock(PASSPHRASE)
    assert vault.failed_attempts() == 1, name


def test_every_ciphertext_and_tag_byte_is_authenticated(vault: Vault) -> None:
    document = decode_document(vault.path.read_bytes())
    good = vault.path.read_bytes()
    positions = range(0, len(document.ciphertext.hex()) + len(document.tag.hex()), 2)
    # A sample across both fields keeps the test fast (each try runs scrypt once).
    for position in list(positions)[::9]:

        def mutate(d: dict[str, Any], position: int = position) -> None:
            blob = d["ciphertext"] + d["tag"]
            blob = _flip_hex(blob, position)
            split = len(d["ciphertext"])
            d["ciphertext"], d["tag"] = blob[:split], blob[split:]

        vault.path.write_bytes(good)
        _rewrite(vault.path, mutate)
        with pytest.raises(WrongPassphraseError):
            vault.unlock(PASSPHRASE)
        counter_path(vault.path).unlink()


# --- never overwrite; atomic writes --------------------------------------------------------


def test_an_existing_vault_is_not_overwritten(vault: Vault, clock: Clock) -> None:
    before = vault.path.read_bytes()
    with pytest.raises(VaultExistsError):
        vault.create(PASSPHRASE, ACCOUNTS, kdf=MIN_PARAMS)
    with pytest.raises(VaultExistsError):
        Vault(vault.path, clock=clock).import_mnemonic(
            PASSPHRASE, SecretMnemonic.generate(), ACCOUNTS, kdf=MIN_PARAMS
        )
    assert vault.path.read_bytes() == before


def test_a_vault_appearing_during_create_is_not_overwritten(tmp_path: Path) -> None:
    # Another writer wins the race between the existence check and the final link(2).
    target = tmp_path / "vault.json"

    def racing_link(src: str, dst: str) -> None:
        Path(dst).write_bytes(b"theirs")
        os.link(src, dst)

    vault = Vault(target, file_ops=FileOps(link=racing_link))
    with pytest.raises(VaultExistsError):
        vault.create(PASSPHRASE, ACCOUNTS, kdf=MIN_PARAMS)
    assert target.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vault.json"]


def test_a_failed_publish_leaves_no_vault_and_no_temp_file(tmp_path: Path) -> None:
    def failing_link(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    vault = Vault(tmp_path / "vault.json", file_ops=FileOps(link=failing_link))
    with pytest.raises(VaultError):
        vault.create(PASSPHRASE, ACCOUNTS, kdf=MIN_PARAMS)
    assert list(tmp_path.iterdir()) == []


def test_a_crash_before_the_rename_leaves_the_old_vault_intact(vault: Vault, clock: Clock) -> None:
    before = vault.path.read_bytes()
    published: list[bytes] = []

    def crashing_replace(src: str, dst: str) -> None:
        if dst == str(vault.path):
            published.append(Path(src).read_bytes())  # the new vault was fully written...
            raise OSError(5, "Input/output error")  # ...and the machine died before rename
        os.replace(src, dst)

    crashing = Vault(vault.path, clock=clock, file_ops=FileOps(replace=crashing_replace))
    with pytest.raises(VaultError):
        crashing.change_passphrase(PASSPHRASE, "a brand new passphrase")
    assert published and published[0] != before
    assert vault.path.read_bytes() == before
    assert not [p for p in vault.path.parent.iterdir() if ".tmp-" in p.name]
    vault.unlock(PASSPHRASE)


def test_write_atomic_never_shows_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    write_atomic(target, b"old", overwrite=False)
    seen_at_final_path: list[bytes] = []

    def observing_replace(src: str, dst: str) -> None:
        seen_at_final_path.append(Path(dst).read_bytes())
        assert Path(src).read_bytes() == b"new" * 1000  # complete before it is published
        os.replace(src, dst)

    write_atomic(target, b"new" * 1000, overwrite=True, ops=FileOps(replace=observing_replace))
    assert seen_at_final_path == [b"old"]
    assert target.read_bytes() == b"new" * 1000
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


# --- re-encryption -------------------------------------------------------------------------


def test_change_passphrase(vault: Vault) -> None:
    old_salt = vault.read_header().salt
    vault.change_passphrase(PASSPHRASE, "a brand new passphrase")
    assert vault.read_header().salt != old_salt
    with pytest.raises(WrongPassphraseError):
        vault.unlock(PASSPHRASE)
    assert vault.unlock("a brand new passphrase").accounts == vault.read_header().accounts


def test_change_passphrase_is_counted_like_unlock(vault: Vault) -> None:
    with pytest.raises(WrongPassphraseError):
        vault.change_passphrase("wrong passphrase", "a brand new passphrase")
    assert vault.failed_attempts() == 1


def test_set_accounts(vault: Vault) -> None:
    ledger = scheme_path(Scheme.LEDGER_LIVE, 4)
    header = vault.set_accounts(PASSPHRASE, [ledger])
    assert header.paths == (ledger,)
    assert vault.unlock(PASSPHRASE).accounts == header.accounts


def test_the_vault_file_holds_no_secret_in_clear(vault: Vault) -> None:
    data = vault.path.read_bytes()
    seed = SecretMnemonic.from_phrase(ANVIL).seed()
    for secret in (ANVIL.encode(), b"test test", seed.hex().encode(), PASSPHRASE.encode()):
        assert secret not in data


@pytest.fixture(autouse=True)
def _no_leftover_temp_files(tmp_path: Path) -> Iterator[None]:
    yield
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


# --- the authenticated plaintext -----------------------------------------------------------


def _payload(entropy: bytes = bytes(16), passphrase: bytes = b"", paths: bytes = b"") -> bytes:
    # signer/keys/vaultfile.py: 0x01 | len | entropy | u16 len | passphrase | paths
    head = bytes([1, len(entropy)]) + entropy
    return head + len(passphrase).to_bytes(2, "big") + passphrase + paths


def _paths(*paths: DerivationPath) -> bytes:
    # u16 count, then per path: depth byte and depth x u32
    out = len(paths).to_bytes(2, "big")
    for path in paths:
        out += bytes([path.depth]) + b"".join(i.to_bytes(4, "big") for i in path.indices)
    return out


_ONE_PATH = _paths(ACCOUNTS[0])


def test_a_well_formed_payload_decodes_and_re_encodes() -> None:
    data = _payload(bytes(range(16)), b"pass", _ONE_PATH)
    payload = SecretPayload.decode(bytearray(data))
    assert payload.paths == ACCOUNTS[:1]
    assert bytes(payload.encode()) == data
    assert repr(payload) == "<SecretPayload accounts=1>"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("empty", b""),
        ("version 2", b"\x02" + _payload(paths=_ONE_PATH)[1:]),
        ("entropy length 17", _payload(bytes(17), paths=_ONE_PATH)),
        ("entropy truncated", _payload(paths=_ONE_PATH)[:10]),
        ("passphrase length beyond the data", _payload()[:18] + b"\xff\xff"),
        ("passphrase too long", _payload(passphrase=b"x" * 1025, paths=_ONE_PATH)),
        ("no account count", _payload()),
        ("zero accounts", _payload(paths=b"\x00\x00")),
        ("path depth 0", _payload(paths=b"\x00\x01\x00")),
        ("path depth 6", _payload(paths=b"\x00\x01\x06" + bytes(24))),
        ("path truncated", _payload(paths=_ONE_PATH[:-1])),
        ("path outside the schemes", _payload(paths=b"\x00\x01\x01" + bytes(4))),
        ("duplicate path", _payload(paths=b"\x00\x02" + _ONE_PATH[2:] * 2)),
        ("trailing byte", _payload(paths=_ONE_PATH) + b"\x00"),
        ("too many accounts", _payload(paths=b"\xff\xff")),
    ],
)
def test_malformed_payloads_are_refused_and_wiped(name: str, data: bytes) -> None:
    with pytest.raises(VaultFormatError):
        SecretPayload.decode(bytearray(data))


def test_a_forged_payload_whose_accounts_differ_from_the_header_is_refused(vault: Vault) -> None:
    # Someone holding the passphrase writes a header that lists other accounts than the
    # encrypted payload: authentication passes, the consistency check must not.
    document = decode_document(vault.path.read_bytes())
    header = replace(document.header, accounts=document.header.accounts[:1])
    # The real entropy: only the accounts check can notice the forgery.
    entropy = bytes(SecretMnemonic.from_phrase(ANVIL).entropy())
    payload = _payload(entropy, paths=_paths(*ACCOUNTS))
    key = derive_key(header.kdf, PASSPHRASE.encode(), header.salt)
    cipher = AES.new(key, AES.MODE_GCM, nonce=document.nonce, mac_len=16)
    cipher.update(header.associated_data())
    ciphertext, tag = cipher.encrypt_and_digest(payload)
    forged = VaultDocument(header, document.nonce, ciphertext, tag)
    vault.path.write_bytes(forged.encode())
    with pytest.raises(VaultFormatError):
        vault.unlock(PASSPHRASE)
