"""BIP-39: Trezor's published vectors, strict parsing of typed mnemonics, secret hygiene."""

from __future__ import annotations

import pickle
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from mnemonic import Mnemonic
from vectorfiles import load_vectors

from shared.errors import MnemonicError
from signer.keys.bip32 import base58check_encode, master_key
from signer.keys.bip39 import (
    ENTROPY_BYTES,
    MAX_PASSPHRASE_BYTES,
    SecretMnemonic,
    english_wordlist,
)

VECTORS = load_vectors("bip39-bip32")["bip39_trezor"]
CASES = VECTORS["vectors"]
REFERENCE = Mnemonic("english")


def _xprv(seed: bytes) -> str:
    # BIP-32 §Serialization format, built here so the product has no xprv export.
    node = master_key(seed)
    payload = (
        bytes.fromhex("0488ade4")
        + bytes([node.depth])
        + node.parent_fingerprint
        + node.child_number.to_bytes(4, "big")
        + node.chain_code
        + b"\x00"
        + node.private_key
    )
    return base58check_encode(payload)


@pytest.mark.parametrize(
    "case", CASES, ids=[c["entropy"][:8] + str(len(c["entropy"])) for c in CASES]
)
def test_trezor_vector(case: dict[str, str]) -> None:
    mnemonic = SecretMnemonic(bytes.fromhex(case["entropy"]))
    assert mnemonic.reveal_phrase() == case["mnemonic"]
    parsed = SecretMnemonic.from_phrase(case["mnemonic"])
    assert bytes(parsed.entropy()) == bytes.fromhex(case["entropy"])
    seed = parsed.seed(VECTORS["passphrase"])
    assert seed.hex() == case["seed"]
    assert _xprv(bytes(seed)) == case["master_xprv"]


def test_the_vector_file_covers_every_length() -> None:
    assert {len(bytes.fromhex(c["entropy"])) for c in CASES} == {16, 24, 32}
    assert len(CASES) == 24


def test_wordlist_is_the_bip39_english_list() -> None:
    words = english_wordlist()
    assert len(words) == 2048 and words[0] == "abandon" and words[-1] == "zoo"
    assert list(words) == sorted(words)


@pytest.mark.parametrize("size", ENTROPY_BYTES)
def test_generate_gives_a_valid_mnemonic_of_each_size(size: int) -> None:
    mnemonic = SecretMnemonic.generate(size)
    phrase = mnemonic.reveal_phrase()
    assert len(phrase.split()) == mnemonic.word_count == size * 3 // 4
    assert REFERENCE.check(phrase)
    assert bytes(SecretMnemonic.from_phrase(phrase).entropy()) == bytes(mnemonic.entropy())


def test_generate_draws_fresh_entropy() -> None:
    drawn = {bytes(SecretMnemonic.generate().entropy()) for _ in range(16)}
    assert len(drawn) == 16


def test_whitespace_between_words_is_not_part_of_the_seed() -> None:
    case = CASES[0]
    messy = "  " + case["mnemonic"].replace(" ", " \t ") + "\n"
    assert SecretMnemonic.from_phrase(messy).seed("TREZOR").hex() == case["seed"]


def test_passphrase_is_nfkd_normalised() -> None:
    mnemonic = SecretMnemonic(bytes(16))
    composed = "caf\u00e9"
    decomposed = unicodedata.normalize("NFKD", composed)
    assert composed != decomposed
    assert mnemonic.seed(composed) == mnemonic.seed(decomposed)
    assert bytes(mnemonic.seed(composed)) == Mnemonic.to_seed(mnemonic.reveal_phrase(), composed)


@pytest.mark.parametrize(
    ("phrase", "field"),
    [
        ("", "mnemonic"),
        ("abandon " * 11 + "about extra", "mnemonic"),  # 13 words
        ("abandon " * 10 + "about", "mnemonic"),  # 11 words
        ("abandon " * 11 + "abandon", "mnemonic"),  # checksum
        ("zoo " * 11 + "zoo", "mnemonic"),  # checksum
        ("abandon abandon notaword " + "abandon " * 8 + "about", "word 3"),
        ("Abandon " + "abandon " * 10 + "about", "word 1"),  # not lower case
        ("abandon " * 11 + "abou", "word 12"),  # no abbreviations
        ("abandon " * 11 + "ab\u00f6ut", "word 12"),
    ],
)
def test_invalid_mnemonic_is_refused_naming_the_field(phrase: str, field: str) -> None:
    with pytest.raises(MnemonicError) as raised:
        SecretMnemonic.from_phrase(phrase)
    assert raised.value.field == field


def test_an_unknown_word_is_never_echoed() -> None:
    with pytest.raises(MnemonicError) as raised:
        SecretMnemonic.from_phrase("abandon abandon sekritword " + "abandon " * 8 + "about")
    assert "sekritword" not in str(raised.value)
    assert "sekritword" not in repr(raised.value)
    assert raised.value.reason == "not in the BIP-39 English wordlist"


@pytest.mark.parametrize("size", [0, 15, 17, 33, 64])
def test_entropy_of_a_wrong_size_is_refused(size: int) -> None:
    with pytest.raises(MnemonicError) as raised:
        SecretMnemonic(bytes(size))
    assert raised.value.field == "entropy"
    with pytest.raises(MnemonicError):
        SecretMnemonic.generate(size)


def test_an_overlong_passphrase_is_refused() -> None:
    mnemonic = SecretMnemonic(bytes(16))
    with pytest.raises(MnemonicError) as raised:
        mnemonic.seed("x" * (MAX_PASSPHRASE_BYTES + 1))
    assert raised.value.field == "passphrase"


def test_repr_and_str_show_only_the_word_count() -> None:
    mnemonic = SecretMnemonic.from_phrase(CASES[0]["mnemonic"])
    for text in (repr(mnemonic), str(mnemonic), f"{mnemonic}"):
        assert text == "<SecretMnemonic 12 words>"
        assert "abandon" not in text


def test_wipe_zeroes_and_disables() -> None:
    mnemonic = SecretMnemonic(bytes.fromhex("7f" * 16))
    buffer = mnemonic._entropy
    mnemonic.wipe()
    assert buffer == bytearray(16)
    assert repr(mnemonic) == "<SecretMnemonic wiped>"
    with pytest.raises(RuntimeError):
        mnemonic.reveal_phrase()


def test_a_mnemonic_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(SecretMnemonic(bytes(16)))


@given(
    entropy=st.sampled_from(ENTROPY_BYTES).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    passphrase=st.text(max_size=20),
)
def test_matches_the_reference_implementation(entropy: bytes, passphrase: str) -> None:
    mnemonic = SecretMnemonic(entropy)
    phrase = mnemonic.reveal_phrase()
    assert phrase == REFERENCE.to_mnemonic(entropy)
    assert bytes(mnemonic.seed(passphrase)) == Mnemonic.to_seed(phrase, passphrase)


@given(indices=st.lists(st.integers(0, 2047), min_size=12, max_size=12))
def test_accepts_exactly_what_the_reference_accepts(indices: list[int]) -> None:
    phrase = " ".join(english_wordlist()[i] for i in indices)
    if REFERENCE.check(phrase):
        assert SecretMnemonic.from_phrase(phrase).reveal_phrase() == phrase
    else:
        with pytest.raises(MnemonicError):
            SecretMnemonic.from_phrase(phrase)
