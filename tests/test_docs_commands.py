"""Keeps the documentation honest: every command line it shows exists, every link resolves.

Every ``coldsign-ur``, ``coldsign-signer`` and ``coldsign-watcher`` command line in README.md
and docs/*.md (fenced code blocks and inline code) is checked against the program itself: each
subcommand word must be a subcommand of the parser it follows, and each ``--flag`` must appear
in the ``--help`` of the parser at that position (a flag shown before a subcommand belongs to
the parent). The help comes from each program's own ``main([..., "--help"])``, so the check
follows the code, not a copy of it. Placeholders (FILE, DIR, SEQ:HASH) are accepted wherever a
value or a positional argument goes.

Every relative Markdown link in the same files must point at an existing file, and a
``#fragment`` on a Markdown target must name one of its headings. Every test the documents
cite as ``test_file.py::test_name`` must exist.
"""

from __future__ import annotations

import importlib
import io
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))
# Program name -> the module whose ``main(argv)`` runs it (pyproject.toml [project.scripts]).
PROGRAMS = {
    "coldsign-ur": "channel.cli",
    "coldsign-signer": "signer.cli",
    "coldsign-watcher": "watcher.cli",
}
# Shell words that end a command line: pipes, lists, redirections, comments, arrows in prose.
_STOP_WORDS = frozenset({"|", "||", "&&", ";", "&", "→", "->", "─►", "►", "⇒"})
_STOP_PREFIXES = (">", "<", "2>", "1>", "&>", "#")
# Words after which a program name starts a command: a prompt, a separator, a wrapper.
_LEADERS = frozenset({"$", "sudo", "exec", "time", "|", "||", "&&", ";", "(", "$("})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=\S*")
_FENCE = re.compile(r"^\s*(```+|~~~+)")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_PLACEHOLDER = re.compile(r"[A-Z][A-Z0-9_:.-]*")
_LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_HELP_COLUMNS = "200"


@dataclass(frozen=True, slots=True)
class Shown:
    """One command line as a document shows it: where, and its words from the program on."""

    doc: str
    line: int
    words: tuple[str, ...]

    @property
    def text(self) -> str:
        """The command line as one string, for messages."""
        return " ".join(self.words)


@dataclass(frozen=True, slots=True)
class Help:
    """What ``PROG PATH... --help`` answered: its exit status and everything it printed."""

    status: int
    text: str

    @property
    def usage(self) -> str:
        """The usage paragraph (from ``usage:`` to the first blank line)."""
        start = self.text.find("usage:")
        if start < 0:
            return ""
        end = self.text.find("\n\n", start)
        return self.text[start : end if end >= 0 else len(self.text)]

    @property
    def has_subcommands(self) -> bool:
        """argparse writes ``COMMAND ...`` (or ``{a,b} ...``) for a parser with subcommands."""
        return re.search(r"\s\.\.\.(\s|$)", self.usage) is not None

    def accepts(self, flag: str) -> bool:
        """True when ``flag`` is named in the help text."""
        return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", self.text) is not None

    def takes_value(self, flag: str) -> bool:
        """True when the usage shows ``flag`` followed by a metavar (``--home HOME``)."""
        words = self.usage.split()
        for index, word in enumerate(words):
            if word.lstrip("[(") != flag:
                continue
            if word.endswith(("]", ")")) or index + 1 == len(words):
                return False
            following = words[index + 1]
            return not following.startswith(("[", "-", "|"))
        return False


def run_help(program: str, path: Sequence[str]) -> Help:
    """Run ``program``'s ``main([*path, "--help"])`` in this process and capture its output."""
    main: Callable[[list[str]], object] = importlib.import_module(PROGRAMS[program]).main
    out = io.StringIO()
    # A wide terminal keeps each usage on one line; no colour outside a terminal anyway.
    with (
        mock.patch.dict(os.environ, {"COLUMNS": _HELP_COLUMNS, "NO_COLOR": "1"}),
        redirect_stdout(out),
        redirect_stderr(out),
    ):
        try:
            status = main([*path, "--help"])
        except SystemExit as exc:
            status = exc.code
    return Help(status if isinstance(status, int) else 1, out.getvalue())


@cache
def cached_help(program: str, path: tuple[str, ...]) -> Help:
    """:func:`run_help`, once per (program, path)."""
    return run_help(program, path)


def is_subcommand(program: str, path: tuple[str, ...], word: str) -> bool:
    """True when ``PROG PATH WORD --help`` is the help of a subparser named ``WORD``."""
    found = cached_help(program, (*path, word))
    prog = " ".join((program, *path, word))
    return (
        found.status == 0 and re.match(rf"usage: {re.escape(prog)}(\s|$)", found.usage) is not None
    )


def problems(shown: Shown) -> list[str]:
    """What is wrong with one shown command line (empty when nothing is)."""
    program, *words = shown.words
    where = f"{shown.doc} line {shown.line}: `{shown.text}`"
    path: tuple[str, ...] = ()
    current = cached_help(program, path)
    if current.status != 0:
        return [f"{where}: `{program} --help` exits {current.status}"]
    found: list[str] = []
    value_expected = False
    for raw in words:
        word = _bare(raw)
        if not word or word == "...":
            continue
        if word.startswith("--"):
            value_expected = False
            for flag in word.split("|"):
                name, equals, _ = flag.partition("=")
                if not name.startswith("--"):
                    continue
                command = " ".join((program, *path))
                if not current.accepts(name):
                    found.append(
                        f"{where}: `{name}` is not an option of `{command}`"
                        f" (not in `{command} --help`)"
                    )
                elif not equals:
                    value_expected = current.takes_value(name)
            continue
        if value_expected:
            value_expected = False
            continue
        if word.startswith("-") and word != "-":
            continue
        if not current.has_subcommands:
            continue
        if is_subcommand(program, path, word):
            path = (*path, word)
            current = cached_help(program, path)
            continue
        if _PLACEHOLDER.fullmatch(word):
            break
        command = " ".join((program, *path))
        found.append(f"{where}: `{word}` is not a command of `{command}` (see `{command} --help`)")
        break
    return found


def _bare(word: str) -> str:
    """A word without the brackets and punctuation of usage syntax around it."""
    word = word.replace("\\|", "|")
    while word[:1] in ("[", "(", "{", '"', "'"):
        word = word[1:]
    while word[-1:] in ("]", ")", "}", ",", '"', "'", "."):
        if word == "...":
            break
        word = word[:-1]
    return word


def commands_in_line(doc: str, number: int, text: str) -> Iterator[Shown]:
    """Every coldsign command line in one line of text (there may be several)."""
    words = text.replace("\\|", "|").split()
    index = 0
    while index < len(words):
        program = _program(words[index])
        if program is None or not _starts_command(words[:index]):
            index += 1
            continue
        end = index + 1
        while end < len(words) and not _stops(words[end]):
            end += 1
        yield Shown(doc, number, (program, *words[index + 1 : end]))
        index = end


def _program(word: str) -> str | None:
    name = word.removeprefix("$").rsplit("/", 1)[-1]
    return name if name in PROGRAMS else None


def _starts_command(before: Sequence[str]) -> bool:
    """A program word starts a command at the start of a line or after a shell separator.

    Elsewhere (``the coldsign-ur tool`` in a diagram) it is prose.
    """
    if not before:
        return True
    previous = before[-1]
    return previous in _LEADERS or _ASSIGNMENT.fullmatch(previous) is not None


def _stops(word: str) -> bool:
    return word in _STOP_WORDS or word.startswith(_STOP_PREFIXES) or _program(word) is not None


def shown_commands(doc: str, text: str) -> Iterator[Shown]:
    """Every command line shown in a Markdown document's code blocks and inline code."""
    fence: str | None = None
    pending: tuple[int, str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = _FENCE.match(line)
        if fence is None:
            if opening:
                fence = opening.group(1)[0] * 3
                continue
            for match in _INLINE_CODE.finditer(line):
                yield from commands_in_line(doc, number, match.group(2))
            continue
        if line.strip().startswith(fence):
            if pending is not None:
                yield from commands_in_line(doc, *pending)
            fence, pending = None, None
            continue
        if pending is not None and _continues(pending[1], line):
            pending = (pending[0], pending[1].rstrip().removesuffix("\\") + " " + line.strip())
            continue
        if pending is not None:
            yield from commands_in_line(doc, *pending)
            pending = None
        if any(_program(word) for word in line.split()):
            pending = (number, line)
    if pending is not None:
        yield from commands_in_line(doc, *pending)


def _continues(previous: str, line: str) -> bool:
    """A shell continuation, or an indented usage line carrying on with options."""
    if previous.rstrip().endswith("\\"):
        return True
    return line[:1].isspace() and line.strip().startswith(("[", "--"))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _collect() -> list[Shown]:
    found: list[Shown] = []
    for path in DOCS:
        found.extend(shown_commands(_relative(path), path.read_text(encoding="utf-8")))
    return found


SHOWN = _collect()


@pytest.mark.parametrize("shown", SHOWN, ids=[f"{s.doc}:{s.line}" for s in SHOWN])
def test_documented_command_exists_with_every_flag(shown: Shown) -> None:
    found = problems(shown)
    assert not found, "\n".join(found)


def test_every_program_is_documented() -> None:
    documented = {shown.words[0] for shown in SHOWN}
    assert documented == set(PROGRAMS)


# --- links -----------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    kept = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading anchor of a Markdown document (duplicates numbered as GitHub does)."""
    seen: dict[str, int] = {}
    found: set[str] = set()
    fence: str | None = None
    for line in text.splitlines():
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0] * 3
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        match = _HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(text: str) -> Iterator[tuple[int, str]]:
    """(line, target) of every link outside code: inline ``[text](target)`` and references."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        opening = _FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)[0] * 3
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            continue
        prose = _INLINE_CODE.sub("", line)
        for match in _LINK.finditer(prose):
            yield number, match.group(1)
        reference = _REFERENCE.match(prose)
        if reference:
            yield number, reference.group(1)


def link_problems(doc: Path) -> list[str]:
    """Every relative link of ``doc`` that points at no file (or at no heading)."""
    found: list[str] = []
    text = doc.read_text(encoding="utf-8")
    for number, target in links(text):
        if _SCHEME.match(target):
            continue
        where = f"{_relative(doc)} line {number}: link `{target}`"
        file_part, _, fragment = target.partition("#")
        destination = (doc.parent / file_part).resolve() if file_part else doc
        if not destination.exists():
            found.append(f"{where}: {destination} does not exist")
            continue
        if (
            fragment
            and destination.suffix == ".md"
            and fragment not in anchors(destination.read_text(encoding="utf-8"))
        ):
            found.append(f"{where}: no heading `#{fragment}` in {_relative(destination)}")
    return found


@pytest.mark.parametrize("doc", DOCS, ids=[_relative(d) for d in DOCS])
def test_relative_links_point_at_existing_files(doc: Path) -> None:
    found = link_problems(doc)
    assert not found, "\n".join(found)


# --- tests named by the documentation ------------------------------------------------------

_CITED_TEST = re.compile(r"((?:[\w.-]+/)*test_\w+\.py)::(test_\w+)")


def cited_test_problems(doc: Path) -> list[str]:
    """Every ``test_file.py::test_name`` in ``doc`` that names no test function."""
    found: list[str] = []
    for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1):
        for match in _CITED_TEST.finditer(line):
            file_name, test_name = match.groups()
            where = f"{_relative(doc)} line {number}: `{match.group(0)}`"
            candidates = sorted((ROOT / "tests").rglob(Path(file_name).name))
            if not candidates:
                found.append(f"{where}: there is no {Path(file_name).name} under tests/")
                continue
            definition = re.compile(rf"^\s*(async\s+)?def {test_name}\(", re.MULTILINE)
            if not any(definition.search(c.read_text(encoding="utf-8")) for c in candidates):
                found.append(f"{where}: {file_name} has no test {test_name}")
    return found


@pytest.mark.parametrize("doc", DOCS, ids=[_relative(d) for d in DOCS])
def test_tests_named_in_the_docs_exist(doc: Path) -> None:
    found = cited_test_problems(doc)
    assert not found, "\n".join(found)


# --- the checker itself ----------------------------------------------------------------------

_SAMPLE = """\
Run `coldsign-signer audit verify --known-head SEQ:HASH` now.

```
$ coldsign-signer --home DIR audit verfy
coldsign-ur show --type TYPE --out FILE|DIR|-
                 [--density low|normal|high] [--colour]
coldsign-watcher status --no-track | tee log   # a comment --not-a-flag
```
"""


def test_the_extractor_finds_inline_fenced_and_continued_lines() -> None:
    found = list(shown_commands("sample.md", _SAMPLE))
    assert [(s.line, s.words) for s in found] == [
        (1, ("coldsign-signer", "audit", "verify", "--known-head", "SEQ:HASH")),
        (4, ("coldsign-signer", "--home", "DIR", "audit", "verfy")),
        (
            5,
            (
                "coldsign-ur",
                "show",
                "--type",
                "TYPE",
                "--out",
                "FILE|DIR|-",
                "[--density",
                "low|normal|high]",
                "[--colour]",
            ),
        ),
        (7, ("coldsign-watcher", "status", "--no-track")),
    ]


def test_a_wrong_flag_and_a_wrong_subcommand_are_named_with_doc_and_line() -> None:
    found = {s.line: problems(s) for s in shown_commands("sample.md", _SAMPLE)}
    assert found[1] == []
    assert found[7] == []
    assert found[4] == [
        "sample.md line 4: `coldsign-signer --home DIR audit verfy`: `verfy` is not a command"
        " of `coldsign-signer audit` (see `coldsign-signer audit --help`)"
    ]
    assert found[5] == [
        "sample.md line 5: `coldsign-ur show --type TYPE --out FILE|DIR|- [--density"
        " low|normal|high] [--colour]`: `--colour` is not an option of `coldsign-ur show`"
        " (not in `coldsign-ur show --help`)"
    ]


def test_a_flag_shown_before_its_subcommand_belongs_to_the_parent() -> None:
    before = Shown("sample.md", 1, ("coldsign-watcher", "--home", "DIR", "status"))
    after = Shown("sample.md", 2, ("coldsign-watcher", "status", "--home", "DIR"))
    assert problems(before) == []
    assert problems(after) == [
        "sample.md line 2: `coldsign-watcher status --home DIR`: `--home` is not an option of"
        " `coldsign-watcher status` (not in `coldsign-watcher status --help`)"
    ]


def test_a_broken_link_and_a_missing_heading_are_named(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    (tmp_path / "other.md").write_text("# Other page\n\n## The `coldsign-ur` tool\n")
    doc.write_text(
        "# Page\n"
        "[ok](other.md#the-coldsign-ur-tool) [web](https://example.org/x.md) [here](#page)\n"
        "`[not a link](missing.md)`\n"
        "[gone](missing.md) and [bad anchor](other.md#nowhere)\n"
    )
    with mock.patch(f"{__name__}._relative", lambda path: path.name):
        found = link_problems(doc)
    assert found == [
        f"page.md line 4: link `missing.md`: {tmp_path / 'missing.md'} does not exist",
        "page.md line 4: link `other.md#nowhere`: no heading `#nowhere` in other.md",
    ]


def test_a_cited_test_that_does_not_exist_is_named(tmp_path: Path) -> None:
    doc = tmp_path / "page.md"
    doc.write_text(
        "Proven by `test_docs_commands.py::test_every_program_is_documented`,\n"
        "`test_docs_commands.py::test_nothing_of_the_kind` and `test_nowhere.py::test_x`.\n"
    )
    with mock.patch(f"{__name__}._relative", lambda path: path.name):
        found = cited_test_problems(doc)
    assert found == [
        "page.md line 2: `test_docs_commands.py::test_nothing_of_the_kind`:"
        " test_docs_commands.py has no test test_nothing_of_the_kind",
        "page.md line 2: `test_nowhere.py::test_x`: there is no test_nowhere.py under tests/",
    ]
