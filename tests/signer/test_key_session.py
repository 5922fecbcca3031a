"""Key sessions: enrolled-only derivation, idle auto-lock, wiping, signing, secret hygiene."""

from __future__ import annotations

import logging
import pickle
import traceback
from pathlib import Path

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st
from mnemonic import Mnemonic

from shared.errors import MnemonicError
from signer.errors import (
    BackoffError,
    KeyPathError,
    VaultError,
    VaultExistsError,
    VaultFormatError,
    VaultLockedError,
    WrongPassphraseError,
)
from signer.keys.accounts import EnrolledAccount, address_of, derive_accounts
from signer.keys.bip32 import CURVE_ORDER, DerivationPath, master_key
from signer.keys.bip39 import SecretMnemonic
from signer.keys.child import _rebuild, _sign_computed_digests_in_child
from signer.keys.kdf import MIN_PARAMS
from signer.keys.paths import Scheme, scheme_path
from signer.keys.session import DigestSignature, KeySession
from signer.keys.vault import Vault
from signer.keys.vaultfile import decode_document

PASSPHRASE = "correct horse battery"
ANVIL = "test test test test test test test test test test test junk"
ENROLLED = (
    scheme_path(Scheme.STANDARD, 0),
    scheme_path(Scheme.STANDARD, 1),
    scheme_path(Scheme.LEDGER_LIVE, 2),
    scheme_path(Scheme.LEGACY, 3),
)
IDLE = 60.0


class Clock:
    """A settable clock for both the backoff (wall) and the session (monotonic)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def vault(tmp_path: Path, clock: Clock) -> Vault:
    made = Vault(tmp_path / "vault.json", clock=clock)
    made.import_mnemonic(PASSPHRASE, SecretMnemonic.from_phrase(ANVIL), ENROLLED, kdf=MIN_PARAMS)
    return made


@pytest.fixture
def session(vault: Vault, clock: Clock) -> KeySession:
    return vault.unlock(PASSPHRASE, idle_timeout=IDLE, session_clock=clock)


def _eth_key(path: DerivationPath, passphrase: str = "") -> bytes:
    Account.enable_unaudited_hdwallet_features()
    return bytes(Account.from_mnemonic(ANVIL, passphrase, account_path=str(path)).key)


# --- signing -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ENROLLED, ids=str)
def test_signature_recovers_to_the_account_and_matches_eth_account(
    session: KeySession, path: DerivationPath
) -> None:
    digest = bytes(range(32))
    signature = session._sign_computed_digest(path, digest)
    address = next(a.address for a in session.accounts if a.path == path).checksummed()
    vrs = (signature.recovery_id, signature.r, signature.s)
    assert Account._recover_hash(digest, vrs=vrs) == address
    theirs = Account.unsafe_sign_hash(digest, _eth_key(path))
    assert (theirs.r, theirs.s, theirs.v) == (signature.r, signature.s, signature.recovery_id + 27)


@settings(max_examples=40)
@given(digest=st.binary(min_size=32, max_size=32))
def test_signatures_are_deterministic_low_s_and_equal_to_eth_account(digest: bytes) -> None:
    # One session for all examples: hypothesis does not mix with function-scoped fixtures.
    first = _SHARED.session._sign_computed_digest(ENROLLED[0], digest)
    second = _SHARED.session._sign_computed_digest(ENROLLED[0], digest)
    assert first == second
    assert 0 < first.s <= CURVE_ORDER // 2
    theirs = Account.unsafe_sign_hash(digest, _SHARED.key)
    assert (theirs.r, theirs.s, theirs.v - 27) == (first.r, first.s, first.recovery_id)


class _Shared:
    """A session built without fixtures for the property test above."""

    def __init__(self) -> None:
        seed = SecretMnemonic.from_phrase(ANVIL).seed()
        master = master_key(seed)
        accounts = derive_accounts(master, ENROLLED[:1])
        self.session = KeySession(
            seed,
            accounts,
            master.public().fingerprint,
            idle_timeout=1e9,
            clock=lambda: 0.0,
        )
        self.key = _eth_key(ENROLLED[0])


_SHARED = _Shared()


@pytest.mark.parametrize(
    "path",
    [
        scheme_path(Scheme.STANDARD, 2),
        scheme_path(Scheme.LEDGER_LIVE, 1),
        scheme_path(Scheme.LEGACY, 0),
        DerivationPath.parse("m/44'/60'/0'"),
        DerivationPath.parse("m"),
        DerivationPath.parse("m/44'/60'/0'/0/0/0"),
    ],
    ids=str,
)
def test_only_enrolled_paths_sign(session: KeySession, path: DerivationPath) -> None:
    with pytest.raises(KeyPathError):
        session._sign_computed_digest(path, bytes(32))


@pytest.mark.parametrize("digest", [b"", bytes(31), bytes(33), bytearray(32), "00" * 32, 0])
def test_a_digest_must_be_32_bytes(session: KeySession, digest: object) -> None:
    with pytest.raises(ValueError):
        session._sign_computed_digest(ENROLLED[0], digest)  # type: ignore[arg-type]


# --- pairing data (crypto-hdkey) -----------------------------------------------------------


def test_account_key_for_the_standard_account_level(session: KeySession) -> None:
    path = DerivationPath.parse("m/44'/60'/0'")
    exported = session.account_key(path)
    master = master_key(SecretMnemonic.from_phrase(ANVIL).seed())
    assert exported.path == path
    assert exported.master_fingerprint == master.public().fingerprint == session.master_fingerprint
    assert len(exported.key.public_key) == 33 and len(exported.key.chain_code) == 32
    assert exported.key.depth == 3
    parent = master.derive(DerivationPath.parse("m/44'/60'"))
    assert exported.key.parent_fingerprint == parent.public().fingerprint
    assert exported.key == master.derive(path).public()
    # A watch-only wallet derives the enrolled addresses from this key with CKDpub.
    for account in session.accounts[:2]:
        child = exported.key.derive(account.path.indices[3:])
        assert address_of(child.public_key) == account.address


def test_account_key_for_a_ledger_live_account(session: KeySession) -> None:
    path = DerivationPath.parse("m/44'/60'/2'")
    assert session.account_key(path).key.depth == 3
    assert session.account_key(ENROLLED[2]).key.depth == 5


@pytest.mark.parametrize(
    "text", ["m", "m/44'", "m/44'/60'", "m/44'/60'/1'", "m/44'/60'/0'/1", "m/44'/60'/0'/0/9"]
)
def test_account_key_refuses_what_is_not_enrolled(session: KeySession, text: str) -> None:
    with pytest.raises(KeyPathError):
        session.account_key(DerivationPath.parse(text))


# --- locking -------------------------------------------------------------------------------


def test_idle_timeout_locks_and_wipes(session: KeySession, clock: Clock) -> None:
    session._sign_computed_digest(ENROLLED[0], bytes(32))
    seed, keys = session._seed, list(session._keys.values())
    clock.now += IDLE - 1
    session._sign_computed_digest(ENROLLED[1], bytes(32))  # activity restarts the timer
    keys = list(session._keys.values())
    clock.now += IDLE - 1
    assert session.seconds_until_lock() == pytest.approx(1.0)
    assert not session.is_locked()
    clock.now += 1
    with pytest.raises(VaultLockedError):
        session._sign_computed_digest(ENROLLED[0], bytes(32))
    assert session.is_locked()
    assert session.seconds_until_lock() == 0.0
    assert seed == bytearray(64)
    assert len(keys) == 2 and all(key == bytearray(32) for key in keys)


def test_lock_wipes_and_refuses_every_key_operation(session: KeySession) -> None:
    session._sign_computed_digest(ENROLLED[0], bytes(32))
    seed, key = session._seed, session._keys[ENROLLED[0]]
    assert any(seed) and any(key)
    session.lock()
    assert seed == bytearray(64) and key == bytearray(32)
    with pytest.raises(VaultLockedError):
        session._sign_computed_digest(ENROLLED[0], bytes(32))
    with pytest.raises(VaultLockedError):
        session.account_key(DerivationPath.parse("m/44'/60'/0'"))
    assert len(session.accounts) == 4  # public metadata stays readable
    session.lock()  # idempotent


def test_vault_lock_and_a_second_unlock_lock_the_previous_session(
    vault: Vault, clock: Clock
) -> None:
    first = vault.unlock(PASSPHRASE, session_clock=clock)
    second = vault.unlock(PASSPHRASE, session_clock=clock)
    assert first.is_locked() and not second.is_locked()
    vault.lock()
    assert second.is_locked()


def test_context_manager_locks_on_exit(vault: Vault, clock: Clock) -> None:
    with vault.unlock(PASSPHRASE, session_clock=clock) as session:
        session._sign_computed_digest(ENROLLED[0], bytes(32))
    assert session.is_locked()


def test_a_header_that_does_not_match_the_seed_is_refused() -> None:
    seed = SecretMnemonic.from_phrase(ANVIL).seed()
    master = master_key(seed)
    accounts = derive_accounts(master, ENROLLED)
    with pytest.raises(VaultFormatError):
        KeySession(seed, accounts, b"\x00\x00\x00\x00", idle_timeout=IDLE, clock=lambda: 0.0)
    assert seed == bytearray(64)
    seed = SecretMnemonic.from_phrase(ANVIL).seed()
    # An address that belongs to another path.
    wrong = (EnrolledAccount(accounts[0].path, accounts[1].address), *accounts[1:])
    with pytest.raises(VaultFormatError):
        KeySession(seed, wrong, master.public().fingerprint, idle_timeout=IDLE, clock=lambda: 0.0)


def test_sessions_cannot_be_pickled_and_repr_is_safe(session: KeySession) -> None:
    with pytest.raises(TypeError):
        pickle.dumps(session)
    assert repr(session).startswith("<KeySession unlocked accounts=4 master_fingerprint=")
    session.lock()
    assert repr(session).startswith("<KeySession locked")


# --- child process -------------------------------------------------------------------------


def test_child_process_signs_like_the_session(vault: Vault, clock: Clock) -> None:
    requests = [(ENROLLED[0], bytes(32)), (ENROLLED[3], bytes(range(32)))]
    signatures = _sign_computed_digests_in_child(vault.path, PASSPHRASE, requests)
    session = vault.unlock(PASSPHRASE, session_clock=clock)
    assert signatures == tuple(session._sign_computed_digest(p, d) for p, d in requests)


def test_child_process_reports_refusals(vault: Vault) -> None:
    with pytest.raises(KeyPathError):
        _sign_computed_digests_in_child(
            vault.path, PASSPHRASE, [(scheme_path(Scheme.STANDARD, 7), bytes(32))]
        )
    with pytest.raises(WrongPassphraseError):
        _sign_computed_digests_in_child(vault.path, "not the passphrase", [])
    assert vault.failed_attempts() == 1


def test_child_process_reports_a_missing_vault(tmp_path: Path) -> None:
    with pytest.raises(VaultError) as raised:
        _sign_computed_digests_in_child(tmp_path / "none.json", PASSPHRASE, [])
    assert type(raised.value) is VaultError


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (("BackoffError", "wait", 12.0), BackoffError),
        (("KeyPathError", "not enrolled", None), KeyPathError),
        (("WrongPassphraseError", "wrong", None), WrongPassphraseError),
        (("SystemExit", "odd", None), VaultError),
        (("KeyPathError", 3, None), VaultError),
        ("garbage", VaultError),
        ((1, 2), VaultError),
    ],
)
def test_child_replies_are_rebuilt_only_into_signer_errors(
    reply: object, expected: type[Exception]
) -> None:
    rebuilt = _rebuild(reply)
    assert type(rebuilt) is expected
    if expected is BackoffError:
        assert isinstance(rebuilt, BackoffError) and rebuilt.retry_after == 12.0


# --- secrets never reach logs, errors or reprs ---------------------------------------------


def test_no_secret_in_logs_errors_or_reprs(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bip39_passphrase = "ninth hidden wallet"
    wrong = "wrong guess 4711"
    errors: list[BaseException] = []

    def expect(kind: type[BaseException], action: object) -> None:
        assert callable(action)
        with pytest.raises(kind) as raised:
            action()
        errors.append(raised.value)

    vault = Vault(tmp_path / "vault.json", clock=clock)
    mnemonic = vault.create(PASSPHRASE, ENROLLED, bip39_passphrase=bip39_passphrase, kdf=MIN_PARAMS)
    phrase = mnemonic.reveal_phrase()
    words = phrase.split()
    expect(VaultExistsError, lambda: vault.create(PASSPHRASE, ENROLLED, kdf=MIN_PARAMS))
    expect(WrongPassphraseError, lambda: vault.unlock(wrong))
    session = vault.unlock(PASSPHRASE, idle_timeout=IDLE, session_clock=clock)
    signature = session._sign_computed_digest(ENROLLED[0], bytes(32))
    exported = session.account_key(DerivationPath.parse("m/44'/60'/0'"))
    expect(
        KeyPathError,
        lambda: session._sign_computed_digest(scheme_path(Scheme.LEGACY, 9), bytes(32)),
    )
    expect(ValueError, lambda: session._sign_computed_digest(ENROLLED[0], bytes(31)))
    bad_checksum = " ".join([*words[:-1], words[0] if words[-1] != words[0] else words[1]])
    expect(MnemonicError, lambda: SecretMnemonic.from_phrase(bad_checksum))
    expect(MnemonicError, lambda: SecretMnemonic.from_phrase(" ".join([*words[:-1], "xyzzy"])))
    master = master_key(SecretMnemonic.from_phrase(phrase).seed(bip39_passphrase))
    objects: list[object] = [
        vault,
        session,
        mnemonic,
        signature,
        exported,
        master,
        master.derive(ENROLLED[0]),
        vault.read_header(),
        decode_document(vault.path.read_bytes()),
        *session.accounts,
    ]
    clock.now += IDLE
    expect(VaultLockedError, lambda: session._sign_computed_digest(ENROLLED[0], bytes(32)))
    for _ in range(3):
        expect(WrongPassphraseError, lambda: vault.unlock(wrong))
    expect(BackoffError, lambda: vault.unlock(PASSPHRASE))

    seed = Mnemonic.to_seed(phrase, bip39_passphrase)
    private_keys = [_private_key(phrase, bip39_passphrase, path) for path in ENROLLED]
    secrets = [phrase, PASSPHRASE, bip39_passphrase, wrong, seed.hex(), master.private_key.hex()]
    secrets += [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    for raw in (seed, master.private_key, *private_keys):
        secrets += [raw.hex(), raw.hex().upper(), repr(raw)[2:-1]]
    secrets.append(bytes(mnemonic.entropy()).hex())

    corpus = [caplog.text]
    corpus += [record.getMessage() for record in caplog.records]
    for error in errors:
        corpus += [str(error), repr(error), repr(error.args)]
        corpus += traceback.format_exception(error)
    for item in objects:
        corpus += [repr(item), str(item), f"{item}"]
    text = "\n".join(corpus)
    assert "unlock failed" in text and "KeySession" in text  # the corpus is not empty
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []


def _private_key(phrase: str, passphrase: str, path: DerivationPath) -> bytes:
    Account.enable_unaudited_hdwallet_features()
    return bytes(Account.from_mnemonic(phrase, passphrase, account_path=str(path)).key)


def test_signature_object_holds_only_public_values() -> None:
    assert DigestSignature.__slots__ == ("r", "s", "recovery_id")
