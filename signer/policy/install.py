"""Installing a new policy in a signer home: what changes against the installed one (tables
and keys, by line), and the atomic replacement that an audit entry records.

The new file is validated whole before anything is compared or written; the installed one is
only read (it may even fail to parse: then everything in the new file counts as added).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from enum import StrEnum

from signer.audit import AuditLog
from signer.audit.record import AuditEntry, AuditKind
from signer.errors import HomeError, PolicyFileError
from signer.home import SignerHome
from signer.keys.atomicfile import OS_FILE_OPS, FileOps
from signer.policy.locate import TOP_LEVEL, Entry, LineIndex
from signer.policy.model import Policy
from signer.policy.parse import parse_policy_bytes
from signer.policy.staged import publish_staged_policy, stage_policy

# The confirmation an operator types: at least this many leading hex digits of the new hash,
# copied from the reviewers' note. Whoever writes the stick can vary a comment until a bad policy
# shares a prefix with the reviewed hash: 8 digits (32 bits) take seconds on a GPU, 20 digits
# (80 bits) are out of reach.
CONFIRM_DIGITS = 20


class ChangeKind(StrEnum):
    """How one table or key differs between the installed policy and the new one."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """One difference: ``where`` is a table path (``destination[2]``) or a key in one
    (``limit[0].per_tx``); lines are 1-based, None on the side where it does not exist. A
    whole table added or removed has no value: its keys follow as changes of their own."""

    kind: ChangeKind
    where: str
    old_value: str | None
    new_value: str | None
    old_line: int | None
    new_line: int | None

    def __str__(self) -> str:
        lines = []
        if self.old_line is not None:
            lines.append(f"old line {self.old_line}")
        if self.new_line is not None:
            lines.append(f"new line {self.new_line}")
        at = f" ({', '.join(lines)})" if lines else ""
        if self.kind is ChangeKind.CHANGED:
            return f"changed {self.where}: {self.old_value} -> {self.new_value}{at}"
        value = self.new_value if self.kind is ChangeKind.ADDED else self.old_value
        shown = "" if value is None else f" = {value}"
        return f"{self.kind.value} {self.where}{shown}{at}"


@dataclass(frozen=True, slots=True)
class PolicyPlan:
    """A validated new policy and how it differs from the installed one.

    ``old_hash`` is the SHA-256 (hex) of the installed file's exact bytes, None when the home
    has no policy; ``old_parses`` says whether that file was TOML at all.
    """

    new: Policy
    data: bytes
    old_hash: str | None
    old_parses: bool
    changes: tuple[PolicyChange, ...]
    # The installed policy's version when it validates (None otherwise).
    old_version: int | None = None

    @property
    def not_newer(self) -> bool:
        """True when the new policy's version is not above the installed one's: the runbook
        raises ``version`` with every change, so an equal or lower one may be an old file."""
        return self.old_version is not None and self.new.version <= self.old_version

    @property
    def unchanged(self) -> bool:
        """True when the new file is byte for byte the installed one."""
        return self.old_hash == self.new.hash_hex

    def confirms(self, typed: str) -> bool:
        """True when ``typed`` starts the new hash and has ``CONFIRM_DIGITS`` digits or more."""
        text = typed.strip().lower()
        return len(text) >= CONFIRM_DIGITS and self.new.hash_hex.startswith(text)


def plan_install(home: SignerHome, data: bytes) -> PolicyPlan:
    """Validate ``data`` as a policy (:class:`PolicyFileError` with its line otherwise) and
    compare it with the home's installed policy."""
    policy = parse_policy_bytes(data)
    new_text = data.decode("utf-8")
    old_data = home.read_policy() if home.has_policy() else None
    if old_data is None:
        return PolicyPlan(policy, data, None, False, _diff_texts(None, new_text))
    old_hash = hashlib.sha256(old_data).hexdigest()
    old_text: str | None
    try:
        old_text = old_data.decode("utf-8")
        tomllib.loads(old_text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        old_text = None
    try:
        old_version: int | None = parse_policy_bytes(old_data).version
    except PolicyFileError:
        old_version = None
    return PolicyPlan(
        policy,
        data,
        old_hash,
        old_text is not None,
        _diff_texts(old_text, new_text),
        old_version,
    )


def install_policy(
    home: SignerHome, plan: PolicyPlan, audit: AuditLog, *, ops: FileOps = OS_FILE_OPS
) -> AuditEntry:
    """Replace the home's policy with ``plan``'s file, then record a ``policy-installed`` entry.

    The installed file must still be the one the plan was compared with (else
    :class:`HomeError`, nothing written). The new file is staged and fsync'd, the entry
    appended, then the staged file renamed into place (:mod:`signer.policy.staged`): a crash
    at any point leaves the log and the policy in force agreeing once the signer next
    starts. ``ops`` is injectable for tests.
    """
    current = home.read_policy() if home.has_policy() else None
    current_hash = None if current is None else hashlib.sha256(current).hexdigest()
    if current_hash != plan.old_hash:
        raise HomeError(
            f"{home.policy_path} changed while the new policy was being reviewed; nothing was"
            " installed: run the install again"
        )
    stage_policy(home, plan.data)
    entry = audit.append(
        AuditKind.POLICY_INSTALLED,
        {
            "old_policy_hash": plan.old_hash,
            "new_policy_hash": plan.new.hash_hex,
            "version": plan.new.version,
            "changes": len(plan.changes),
        },
    )
    publish_staged_policy(home, ops=ops)
    return entry


# --- the change list ---------------------------------------------------------------------------


def _diff_texts(old_text: str | None, new_text: str) -> tuple[PolicyChange, ...]:
    old_tree = {} if old_text is None else tomllib.loads(old_text)
    new_tree = tomllib.loads(new_text)
    differ = _Differ(LineIndex(old_text or ""), LineIndex(new_text))
    differ.tables(old_tree, new_tree)
    return tuple(differ.changes)


class _Differ:
    """Compares two TOML documents table by table; arrays of tables entry by entry."""

    __slots__ = ("changes", "new_lines", "old_lines")

    def __init__(self, old_lines: LineIndex, new_lines: LineIndex) -> None:
        self.old_lines = old_lines
        self.new_lines = new_lines
        self.changes: list[PolicyChange] = []

    def tables(self, old: dict[str, object], new: dict[str, object]) -> None:
        for name in _ordered_keys(old, new):
            before, after = old.get(name), new.get(name)
            if _is_table_array(before) or _is_table_array(after):
                self._array(name, _entries(before), _entries(after))
            elif isinstance(before, dict) or isinstance(after, dict):
                entry = (name, None)
                if not isinstance(before, dict):
                    self._whole(ChangeKind.ADDED, name, entry, _table(after))
                elif not isinstance(after, dict):
                    self._whole(ChangeKind.REMOVED, name, entry, before)
                else:
                    self._keys(name, entry, before, entry, after)
            else:
                self._keys("", TOP_LEVEL, _only(old, name), TOP_LEVEL, _only(new, name))

    def _array(self, name: str, old: list[dict[str, object]], new: list[dict[str, object]]) -> None:
        # Identical entries pair up first, whatever their position (a table inserted in the
        # middle is one addition, not a change of every table after it); what is left pairs
        # up in order and is compared key by key; the rest was added or removed.
        unmatched_new = list(range(len(new)))
        unmatched_old: list[int] = []
        for i, entry in enumerate(old):
            twin = next((j for j in unmatched_new if new[j] == entry), None)
            if twin is None:
                unmatched_old.append(i)
            else:
                unmatched_new.remove(twin)
        for i, j in zip(unmatched_old, unmatched_new, strict=False):
            self._keys(f"{name}[{j}]", (name, i), old[i], (name, j), new[j])
        paired = min(len(unmatched_old), len(unmatched_new))
        for i in unmatched_old[paired:]:
            self._whole(ChangeKind.REMOVED, f"{name}[{i}]", (name, i), old[i])
        for j in unmatched_new[paired:]:
            self._whole(ChangeKind.ADDED, f"{name}[{j}]", (name, j), new[j])

    def _whole(self, kind: ChangeKind, where: str, entry: Entry, table: dict[str, object]) -> None:
        """A table added or removed: its header, then every key in it on a line of its own."""
        lines = self.new_lines if kind is ChangeKind.ADDED else self.old_lines
        header = lines.header(entry)
        self.changes.append(
            PolicyChange(
                kind,
                where,
                None,
                None,
                header if kind is ChangeKind.REMOVED else None,
                header if kind is ChangeKind.ADDED else None,
            )
        )
        empty: dict[str, object] = {}
        if kind is ChangeKind.ADDED:
            self._keys(where, entry, empty, entry, table)
        else:
            self._keys(where, entry, table, entry, empty)

    def _keys(
        self,
        where: str,
        old_entry: Entry,
        old: dict[str, object],
        new_entry: Entry,
        new: dict[str, object],
    ) -> None:
        for key in _ordered_keys(old, new):
            path = f"{where}.{key}" if where else key
            in_old, in_new = key in old, key in new
            if in_old and in_new and old[key] == new[key]:
                continue
            kind = (
                ChangeKind.CHANGED
                if in_old and in_new
                else ChangeKind.ADDED
                if in_new
                else ChangeKind.REMOVED
            )
            self.changes.append(
                PolicyChange(
                    kind,
                    path,
                    _shown(old[key]) if in_old else None,
                    _shown(new[key]) if in_new else None,
                    self.old_lines.key(old_entry, key) if in_old else None,
                    self.new_lines.key(new_entry, key) if in_new else None,
                )
            )


def _ordered_keys(old: dict[str, object], new: dict[str, object]) -> list[str]:
    # The new file's order first (what the reviewer reads), then what only the old one had.
    return [*new, *(key for key in old if key not in new)]


def _only(table: dict[str, object], key: str) -> dict[str, object]:
    return {key: table[key]} if key in table else {}


def _table(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _is_table_array(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _entries(value: object) -> list[dict[str, object]]:
    if not isinstance(value, list):
        return []
    return [entry for entry in value if isinstance(entry, dict)]


def _shown(value: object) -> str:
    """A value as one line of ASCII: TOML-like, with every string escaped as JSON escapes it
    (a policy from a stick must not be able to move the cursor or colour the screen). Never
    shortened: the reviewer must see every asset and every digit."""
    return _literal(value)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{json.dumps(str(k))} = {_literal(v)}" for k, v in value.items())
        return "{" + inner + "}"
    # Integers, and what else TOML has (floats, dates, times): their str() is plain ASCII.
    return str(value)
