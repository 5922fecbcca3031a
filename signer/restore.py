"""Restoring a vault from a paper mnemonic typed at a terminal: the words one at a time, the
checksum, the passphrases asked twice, and the accounts they give before anything is written.

Nothing here ever puts a typed word or passphrase into a message, an exception or a log:
a refusal names the position only, and suggests no word (a suggestion would show a word of
the list next to the operator's, which is a clue to it on a screen someone else may see).
The input comes through two callables, so the command line drives it from its terminal and
the tests from a script.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from shared.errors import MnemonicError
from signer.errors import RestoreAbandonedError
from signer.keys.accounts import EnrolledAccount, derive_accounts
from signer.keys.bip32 import DerivationPath, master_key
from signer.keys.bip39 import WORD_COUNTS, SecretMnemonic, english_wordlist
from signer.keys.vault import MIN_PASSPHRASE_CHARS

# BIP-39 §Wordlist: "the wordlist is created in such a way that it's enough to type the first
# four letters to unambiguously identify the word" (true of the English list: checked below).
PREFIX_LETTERS = 4
DEFAULT_WORD_COUNT = 24
# Typed in place of a word: go back one word (no BIP-39 English word is "-").
BACK = "-"
# Typed at the checksum question: give up, nothing written ("q" is no position).
QUIT = "q"
# A passphrase pair that differs is asked again this many times in all, then refused.
PASSPHRASE_ATTEMPTS = 3

Ask = Callable[[str], str]
Say = Callable[[str], None]


@cache
def _prefix_index() -> dict[str, int]:
    words = english_wordlist()
    index = {word[:PREFIX_LETTERS]: number for number, word in enumerate(words)}
    if len(index) != len(words):
        raise RuntimeError("the BIP-39 English list is not unique by its first four letters")
    return index


@cache
def _word_index() -> dict[str, int]:
    return {word: number for number, word in enumerate(english_wordlist())}


def resolve_word(typed: str) -> int | None:
    """The list index of a typed word or of its first four (or more) letters; None otherwise.

    Case and surrounding blanks are ignored; the text is NFKD-normalised as BIP-39 does.
    """
    text = unicodedata.normalize("NFKD", typed).strip().lower()
    found = _word_index().get(text)
    if found is not None:
        return found
    if len(text) < PREFIX_LETTERS:
        return None
    found = _prefix_index().get(text[:PREFIX_LETTERS])
    if found is None or not english_wordlist()[found].startswith(text):
        return None
    return found


def word_count(ask: Ask, say: Say) -> int:
    """How many words the paper holds (Enter: 24), asked until the answer is one of BIP-39's."""
    choices = ", ".join(str(count) for count in WORD_COUNTS[:-1]) + f" or {WORD_COUNTS[-1]}"
    while True:
        answer = ask(f"How many words does the mnemonic have ({choices}; Enter: 24)? ").strip()
        if not answer:
            return DEFAULT_WORD_COUNT
        if answer.isdigit() and int(answer) in WORD_COUNTS:
            return int(answer)
        say(f"a BIP-39 mnemonic has {choices} words")


def read_mnemonic(ask: Ask, say: Say) -> SecretMnemonic:
    """Ask for the words one at a time and return the mnemonic once its checksum matches.

    A word not in the list is refused at once (by its position) and asked again; ``-`` goes
    back one word. A checksum that does not match is reported without any word, and the
    operator retypes from a position of their choice (1 starts over) or gives up with ``q``
    (:class:`RestoreAbandonedError`).
    """
    count = word_count(ask, say)
    say(
        f"Type the {count} words in order, one per line: a word or its first"
        f" {PREFIX_LETTERS} letters. Type {BACK} to go back one word."
    )
    indices: list[int] = []
    try:
        while True:
            _read_words(indices, count, ask, say)
            words = english_wordlist()
            try:
                return SecretMnemonic.from_phrase(" ".join(words[i] for i in indices))
            except MnemonicError:
                # The only refusal left once every word is in the list: the checksum.
                say(
                    "These words are not a valid mnemonic: the checksum does not match, so at"
                    " least one word is wrong (or out of order)."
                )
            del indices[_retype_from(count, ask, say) - 1 :]
    finally:
        indices.clear()


def _read_words(indices: list[int], count: int, ask: Ask, say: Say) -> None:
    while len(indices) < count:
        position = len(indices) + 1
        typed = ask(f"word {position} of {count}: ")
        if typed.strip() == BACK:
            if indices:
                indices.pop()
            continue
        found = resolve_word(typed)
        del typed
        if found is None:
            say(
                f"word {position}: not a BIP-39 English word, nor the first {PREFIX_LETTERS}"
                " letters of one; type it again"
            )
            continue
        indices.append(found)


def _retype_from(count: int, ask: Ask, say: Say) -> int:
    while True:
        answer = ask(
            f"Retype from which word (1-{count}; 1 starts over; {QUIT} gives up)? "
        ).strip()
        if answer.lower() == QUIT:
            raise RestoreAbandonedError("the restore was abandoned; nothing was written")
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer)
        say(f"type a word number from 1 to {count}, or {QUIT}")


def new_secret_twice(
    getpass: Ask,
    say: Say,
    *,
    what: str,
    prompt: str,
    min_chars: int = 0,
) -> str:
    """A secret typed twice without echo; asked again (at most 3 times in all) when the two
    differ or it is shorter than ``min_chars``. Messages name ``what``, never the text."""
    for _ in range(PASSPHRASE_ATTEMPTS):
        first = getpass(prompt)
        if len(unicodedata.normalize("NFKD", first)) < min_chars:
            say(f"a {what} has at least {min_chars} characters; type it again")
            continue
        if getpass(f"Repeat the {what}: ") == first:
            return first
        say(f"the two {what}s differ; type them again")
    raise RestoreAbandonedError(
        f"the {what} was not typed the same twice in {PASSPHRASE_ATTEMPTS} tries;"
        " nothing was written"
    )


def bip39_passphrase(getpass: Ask, say: Say) -> str:
    """The optional BIP-39 passphrase, twice (Enter twice for none)."""
    return new_secret_twice(
        getpass,
        say,
        what="BIP-39 passphrase",
        prompt="BIP-39 passphrase, if the backup has one (Enter for none): ",
    )


def vault_passphrase(getpass: Ask, say: Say) -> str:
    """The new vault passphrase, twice, at least the vault's minimum length."""
    return new_secret_twice(
        getpass,
        say,
        what="vault passphrase",
        prompt="New vault passphrase: ",
        min_chars=MIN_PASSPHRASE_CHARS,
    )


@dataclass(frozen=True, slots=True)
class RestorePreview:
    """What a mnemonic and passphrase give, shown for comparison before the vault is written."""

    master_fingerprint: bytes
    accounts: tuple[EnrolledAccount, ...]


def preview(
    mnemonic: SecretMnemonic, passphrase: str, paths: tuple[DerivationPath, ...]
) -> RestorePreview:
    """The master fingerprint (BIP-32: first 4 bytes of HASH160 of the master public key) and
    the addresses of ``paths``; the seed is zeroed before returning."""
    seed = mnemonic.seed(passphrase)
    try:
        master = master_key(seed)
        return RestorePreview(master.public().fingerprint, derive_accounts(master, paths))
    finally:
        seed[:] = bytes(len(seed))
