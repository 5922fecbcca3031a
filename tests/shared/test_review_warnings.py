"""The warning catalogue: every code documented with its severity; the codes the review promises."""

from __future__ import annotations

import re

import pytest

from shared.review import CATALOGUE, Severity, WarningCode
from shared.review import warnings as catalogue_module
from shared.review.warnings import RANK, explain, severity_of

W = WarningCode


def test_every_code_has_one_entry() -> None:
    assert set(CATALOGUE) == set(WarningCode)
    assert sorted(RANK.values()) == list(range(len(WarningCode)))


def test_docstring_documents_every_code_under_its_severity() -> None:
    doc = catalogue_module.__doc__ or ""
    documented: dict[str, Severity] = {}
    severity = None
    for line in doc.splitlines():
        if line.strip() in Severity.__members__:
            severity = Severity[line.strip()]
            continue
        match = re.match(r"\s+``([a-z0-9-]+)``", line)
        if match and severity is not None:
            documented[match.group(1)] = severity
    assert documented == {str(code): severity_of(code) for code in WarningCode}


def test_catalogue_is_ordered_by_severity() -> None:
    ordered = sorted(WarningCode, key=lambda code: RANK[code])
    severities = [severity_of(code) for code in ordered]
    assert severities == sorted(severities, reverse=True)
    assert ordered[0] is W.DELEGATECALL


@pytest.mark.parametrize(
    ("code", "severity"),
    [
        ("unlimited-approval", Severity.DANGER),
        ("delegatecall", Severity.DANGER),
        ("safe-admin-change", Severity.DANGER),
        ("unexplained-call", Severity.DANGER),
        ("message-is-hash", Severity.DANGER),
        ("lookalike-address", Severity.DANGER),
        ("chain-mismatch", Severity.DANGER),
        ("unverified-origin", Severity.INFO),
        ("token-approval", None),
        ("nft-approval-for-all", None),
        ("permit", None),
        ("permit2", None),
        ("ownership-change", None),
        ("upgrade", None),
        ("role-change", None),
        ("unknown-contract", None),
        ("unknown-token", None),
        ("contract-creation", None),
        ("unknown-chain", None),
        ("safe-gas-refund", None),
        ("old-safe-version", None),
        ("non-printable-text", None),
        ("value-to-contract", None),
    ],
)
def test_promised_codes_exist(code: str, severity: Severity | None) -> None:
    known = WarningCode(code)
    if severity is not None:
        assert severity_of(known) is severity


def test_explanations_are_one_line() -> None:
    for code in WarningCode:
        text = explain(code)
        assert text and "\n" not in text and len(text) <= 90, code
    assert Severity.INFO < Severity.CAUTION < Severity.WARNING < Severity.DANGER
