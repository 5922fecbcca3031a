"""BIP-39 mnemonics: generation from ``secrets``, strict validation, and the seed.

The English wordlist comes from trezor's ``mnemonic`` package (the BIP-39 reference list); the
conversion between entropy and words, the checksum and the seed are computed here so that no
error message can ever echo a word (the library's own errors quote the offending word).

Secret material is held in :class:`bytearray` objects that :meth:`SecretMnemonic.wipe` zeroes;
see ``signer/keys/__init__.py`` for what CPython does and does not let us wipe.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from functools import cache

from mnemonic import Mnemonic

from shared.errors import MnemonicError

# BIP-39 §Generating the mnemonic: ENT in {128, 160, 192, 224, 256} bits, CS = ENT / 32,
# MS = (ENT + CS) / 11 words.
ENTROPY_BYTES = (16, 20, 24, 28, 32)
WORD_COUNTS = (12, 15, 18, 21, 24)
DEFAULT_ENTROPY_BYTES = 32
# BIP-39 §From mnemonic to seed: PBKDF2-HMAC-SHA512, 2048 rounds, 64-byte output.
SEED_ROUNDS = 2048
SEED_BYTES = 64
# An operator-typed passphrase longer than this is refused rather than stretched.
MAX_PASSPHRASE_BYTES = 1024
_RADIX = 2048
_WORD_BITS = 11


@cache
def english_wordlist() -> tuple[str, ...]:
    """The 2048-word BIP-39 English list, in index order."""
    words = tuple(Mnemonic("english").wordlist)
    if len(words) != _RADIX or len(set(words)) != _RADIX:
        raise RuntimeError("the installed BIP-39 English wordlist is not 2048 distinct words")
    return words


@cache
def _word_index() -> dict[str, int]:
    return {word: index for index, word in enumerate(english_wordlist())}


class SecretMnemonic:
    """The entropy behind a BIP-39 mnemonic, kept in a wipeable buffer.

    ``repr()`` and ``str()`` show only the word count. The words are produced on demand by
    :meth:`reveal_phrase` (for the one-time backup screen) and never stored as a string.
    """

    __slots__ = ("_entropy",)

    def __init__(self, entropy: bytes | bytearray) -> None:
        if len(entropy) not in ENTROPY_BYTES:
            raise MnemonicError("entropy", f"must be one of {ENTROPY_BYTES} bytes")
        self._entropy = bytearray(entropy)

    @classmethod
    def generate(cls, entropy_bytes: int = DEFAULT_ENTROPY_BYTES) -> SecretMnemonic:
        """A fresh mnemonic from the operating system's CSPRNG (``secrets``)."""
        if entropy_bytes not in ENTROPY_BYTES:
            raise MnemonicError("entropy", f"must be one of {ENTROPY_BYTES} bytes")
        buffer = bytearray(secrets.token_bytes(entropy_bytes))
        try:
            return cls(buffer)
        finally:
            _zero(buffer)

    @classmethod
    def from_phrase(cls, phrase: str) -> SecretMnemonic:
        """Parse an operator-typed English mnemonic; :class:`MnemonicError` unless valid.

        Words are NFKD-normalised and separated by any whitespace; each must be in the list
        exactly (lower case, no abbreviations) and the BIP-39 checksum must match.
        """
        words = unicodedata.normalize("NFKD", phrase).split()
        if len(words) not in WORD_COUNTS:
            raise MnemonicError("mnemonic", f"expected {WORD_COUNTS} words, got {len(words)}")
        index = _word_index()
        indices: list[int] = []
        for position, word in enumerate(words, start=1):
            found = index.get(word)
            if found is None:
                raise MnemonicError(f"word {position}", "not in the BIP-39 English wordlist")
            indices.append(found)
        bits = bytearray()
        try:
            for found in indices:
                bits.extend((found >> shift) & 1 for shift in range(_WORD_BITS - 1, -1, -1))
            checksum_bits = len(bits) // 33
            entropy = _pack_bits(bits[: len(bits) - checksum_bits])
            try:
                expected = _checksum_bits(entropy, checksum_bits)
                if expected != bits[len(bits) - checksum_bits :]:
                    raise MnemonicError("mnemonic", "checksum does not match (a word is wrong)")
                return cls(entropy)
            finally:
                _zero(entropy)
        finally:
            _zero(bits)
            indices.clear()

    @property
    def word_count(self) -> int:
        """12, 15, 18, 21 or 24."""
        self._require_live()
        return len(self._entropy) * 3 // 4

    def entropy(self) -> bytearray:
        """A copy of the entropy; the caller must zero it when done."""
        self._require_live()
        return bytearray(self._entropy)

    def reveal_phrase(self) -> str:
        """The words, space-separated, for the operator's one-time paper backup.

        The result is an immutable ``str`` that cannot be wiped: show it and drop it.
        """
        sentence = self._sentence()
        try:
            return sentence.decode("ascii")
        finally:
            _zero(sentence)

    def seed(self, passphrase: str = "") -> bytearray:
        """The 64-byte BIP-39 seed; the caller must zero it when done.

        BIP-39 §From mnemonic to seed: PBKDF2-HMAC-SHA512(password = NFKD(mnemonic sentence),
        salt = "mnemonic" || NFKD(passphrase), 2048 rounds). Password and salt are built in
        wipeable buffers and zeroed afterwards.
        """
        return self.seed_normalized(normalize_passphrase(passphrase))

    def seed_normalized(self, passphrase: bytes | bytearray) -> bytearray:
        """:meth:`seed` for a passphrase already NFKD-normalised and UTF-8 encoded (as the
        vault stores it), so the passphrase never becomes an unwipeable ``str``."""
        if len(passphrase) > MAX_PASSPHRASE_BYTES:
            raise MnemonicError("passphrase", f"longer than {MAX_PASSPHRASE_BYTES} bytes")
        salt = bytearray(b"mnemonic")
        sentence = self._sentence()
        try:
            salt.extend(passphrase)
            return bytearray(hashlib.pbkdf2_hmac("sha512", sentence, salt, SEED_ROUNDS, SEED_BYTES))
        finally:
            _zero(sentence)
            _zero(salt)

    def wipe(self) -> None:
        """Zero the entropy; the object is unusable afterwards."""
        _zero(self._entropy)
        self._entropy = bytearray()

    def _sentence(self) -> bytearray:
        # English words are ASCII, so NFKD leaves them unchanged: the sentence is the words
        # joined by one space (BIP-39 requires the single ASCII space for English).
        self._require_live()
        words = english_wordlist()
        bits = bytearray()
        sentence = bytearray()
        try:
            for byte in self._entropy:
                bits.extend((byte >> shift) & 1 for shift in range(7, -1, -1))
            bits.extend(_checksum_bits(self._entropy, len(self._entropy) * 8 // 32))
            for start in range(0, len(bits), _WORD_BITS):
                found = 0
                for bit in bits[start : start + _WORD_BITS]:
                    found = (found << 1) | bit
                if sentence:
                    sentence.append(0x20)
                sentence.extend(words[found].encode("ascii"))
            return sentence
        except BaseException:
            _zero(sentence)
            raise
        finally:
            _zero(bits)

    def _require_live(self) -> None:
        if not self._entropy:
            raise RuntimeError("this mnemonic was wiped")

    def __repr__(self) -> str:
        if not self._entropy:
            return "<SecretMnemonic wiped>"
        return f"<SecretMnemonic {self.word_count} words>"

    __str__ = __repr__

    def __reduce__(self) -> str | tuple[object, ...]:
        # Secrets never travel by pickle (multiprocessing, copy, shelve).
        raise TypeError("a SecretMnemonic cannot be pickled")


def normalize_passphrase(passphrase: str) -> bytes:
    """The BIP-39 passphrase as NFKD UTF-8 bytes; :class:`MnemonicError` when too long."""
    encoded = unicodedata.normalize("NFKD", passphrase).encode("utf-8")
    if len(encoded) > MAX_PASSPHRASE_BYTES:
        raise MnemonicError("passphrase", f"longer than {MAX_PASSPHRASE_BYTES} bytes")
    return encoded


def _checksum_bits(entropy: bytes | bytearray, count: int) -> bytearray:
    # BIP-39: the checksum is the first ENT / 32 bits of SHA-256(entropy).
    digest = hashlib.sha256(entropy).digest()
    return bytearray((digest[i // 8] >> (7 - i % 8)) & 1 for i in range(count))


def _pack_bits(bits: bytearray) -> bytearray:
    out = bytearray(len(bits) // 8)
    for i, bit in enumerate(bits):
        out[i // 8] |= bit << (7 - i % 8)
    return out


def _zero(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))
