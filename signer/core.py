"""The signing pipeline: air gap, decode, review, policy, ledger, sign, record, audit, response.

:class:`SignerCore` runs it in two steps so that a person can look between them:

1. :meth:`SignerCore.prepare` reviews every item of a decoded request, checks its key against
   the vault header (public data, no unlock), recomputes its signing hash, makes the nonce
   ledger entry and the spend id it would be recorded under, asks the limits store what the
   24-hour window already counts under those spend ids (one query per request: a re-sign or
   a fee bump is judged by what it adds beyond its own earlier spend) and asks the policy for
   a verdict. Nothing is written.
2. :meth:`SignerCore.sign` decides each item: it is signed only when the policy said SIGN,
   or NEEDS_CONFIRMATION and the operator typed what the confirmation asks for, and the nonce
   ledger does not object. The vault is unlocked only if something is to be signed. Then, for
   the whole request at once, in this order: the nonce ledger records every signable item
   (one transaction), the items it accepted are signed, the limits store records what each
   signed item moves (one transaction), the vault is locked, and the decisions and the lock
   are appended to the audit log (one write, one fsync). The response, carrying the audit
   head, is built last: nothing leaves before every record is written.

Instead of signing, :meth:`SignerCore.reject` records that the operator rejected the whole
request: each item's decision, refused as ``rejected by operator``, and nothing else.

Crash consistency: each of the three writes is atomic on its own (SQLite transactions; the
audit log keeps a prefix of a batch write, see ``signer.audit.log``), and none of them makes
a signature leave. Signing the same request again after a crash at any point brings all
three up to date: the ledger calls its items identical re-signs (the same signatures), the
limits store counts each signed item once under its spend id (``signer.nonces.spend_id``),
counting now what a crash kept from it, and the audit log gets the decisions it missed. The
policy judges such a re-sign, and a fee bump, by what it pays beyond what the store already
counts under its spend id, so one that fitted the window the first time fits it again.

Every decision, refusals included, is one ``decision`` entry in the audit log with the
request digest (SHA-256 of the request's CBOR), the item's digest, the review digest
(:mod:`signer.evidence`: SHA-256 of what the review showed), the signing hash, the verdict and its
rules, the ledger outcome, the signature digest (SHA-256 of ``r || s || v``) and the policy
hash, and for a signed item the spend id and spends it counted toward the limits. An item the
signer cannot decode is refused and audited like any other; a request whose envelope (UR
parts, CBOR, ERC-4527 schema) does not decode is bad input and is not audited.

Start-up refuses a home whose vault exists but whose nonce ledger, limits store or audit log
is missing (:meth:`signer.home.SignerHome.missing_state`): re-creating them silently would
drop equivocation protection, the 24-hour window or the evidence. ``reset_missing_state``
re-creates them, after a ``state-reset`` audit entry naming what was missing.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType, TracebackType
from typing import NamedTuple, TypeVar

from shared.address import Address
from shared.erc4527 import AuditHead, EthBatchSignature, EthSignature, EthSignRequest
from shared.errors import DecodeError
from shared.registry import Registries
from shared.review import BatchReview, Review, review_request, summarise
from shared.ur import UR
from signer.airgap import AirGapStatus, NetworkProbe, check
from signer.audit import AuditEntry, AuditKind, AuditLog
from signer.collector import collector_paused
from signer.errors import AirGapError, HomeError, KeyPathError, LedgerError
from signer.evidence import review_digest
from signer.home import SignerHome, StateFile
from signer.intake import DecodedRequest
from signer.keys.accounts import EnrolledAccount
from signer.keys.bip32 import DerivationPath
from signer.keys.session import KeySession
from signer.keys.vault import Vault
from signer.keys.vaultfile import VaultHeader
from signer.ledger import Ledger, LedgerDecision, LedgerEntry
from signer.nonces import ledger_entry, spend_id
from signer.policy.attestation import attested_by
from signer.policy.evaluate import evaluate, evaluate_batch, refuse_undecodable
from signer.policy.judge import Context
from signer.policy.limits import LimitStore, SignedSpends
from signer.policy.model import AssetKey, Policy
from signer.policy.parse import parse_policy_bytes
from signer.policy.staged import settle_staged_policy
from signer.policy.verdict import Decision, Verdict
from signer.signing import (
    ComputedDigest,
    compute_digest,
    request_account,
    request_path,
    to_eth_signature,
)

_T = TypeVar("_T")

# The reason every item of a request the operator rejected is refused with (then ": why").
OPERATOR_REJECTION = "rejected by operator"


class Outcome(StrEnum):
    """What happened to one item."""

    SIGNED = "signed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class PreparedItem:
    """One request item after review and policy, before anything is decided.

    ``review`` is None when the item could not be decoded (``decode_error`` says why; the
    verdict then refuses). ``account`` is None when the request's key check failed
    (``key_refusal`` says why). ``computed`` is the signer's own digest of the item
    (``digest_problem`` says why it is missing although the review exists).

    With a digest and an account: ``ledger`` is the nonce-ledger entry signing would record
    (None for an item without a nonce, such as a message, or when it cannot be made:
    ``ledger_problem`` then says why), and ``spend_id`` the id its spends are counted under in
    the limits store (``signer.nonces.spend_id``; None when ``ledger_problem`` is set).
    """

    index: int
    request: EthSignRequest
    review: Review | None
    decode_error: DecodeError | None
    verdict: Verdict
    computed: ComputedDigest | None
    account: EnrolledAccount | None
    key_refusal: str | None
    digest_problem: str | None
    ledger: LedgerEntry | None
    ledger_problem: str | None
    spend_id: bytes | None

    @property
    def number(self) -> int:
        """The 1-based item number the operator sees and acknowledges by."""
        return self.index + 1

    @property
    def signable(self) -> bool:
        """True when nothing known so far stands in the way (confirmation aside)."""
        return (
            self.verdict.decision is not Decision.REFUSE
            and self.account is not None
            and self.computed is not None
        )


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A decoded request with every item prepared, under one policy."""

    decoded: DecodedRequest
    items: tuple[PreparedItem, ...]
    batch_review: BatchReview | None
    policy: Policy
    # The pinned operator whose attestation of the request verified (None: none did).
    attested_by: Address | None = None

    def needs_keys(self, acknowledgements: Mapping[int, str]) -> bool:
        """True when some item would be signed given these acknowledgements."""
        return any(_blocker(item, acknowledgements) is None for item in self.items)


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The decision on one item, as audited: ``audit_seq`` is its audit entry.

    ``reasons`` says why an item was refused (empty for a signed one: its verdict's rules are
    in the audit entry).
    """

    number: int
    outcome: Outcome
    reasons: tuple[str, ...]
    signature: EthSignature | None
    ledger: LedgerDecision | None
    audit_seq: int


@dataclass(frozen=True, slots=True)
class SigningResult:
    """Every item's result, the response (None when nothing was signed) and the audit head."""

    items: tuple[ItemResult, ...]
    response: UR | None
    audit_head: AuditHead

    @property
    def signed(self) -> int:
        """How many items were signed."""
        return sum(1 for item in self.items if item.outcome is Outcome.SIGNED)

    @property
    def refused(self) -> int:
        """How many items were refused."""
        return len(self.items) - self.signed


Unlock = Callable[[], KeySession]


class SignerCore:
    """One signer home opened for signing: policy, registries, ledger, limits and audit log.

    Use :meth:`open` (which checks the air gap first), and close it (or use ``with``).
    """

    def __init__(
        self,
        home: SignerHome,
        status: AirGapStatus,
        audit: AuditLog,
        ledger: Ledger,
        limits: LimitStore,
        *,
        clock: Callable[[], float],
    ) -> None:
        self.home = home
        self.status = status
        self.audit = audit
        self._ledger = ledger
        self._limits = limits
        self._clock = clock

    @classmethod
    def open(
        cls,
        home: SignerHome,
        *,
        probe: NetworkProbe,
        allow_online: bool = False,
        clock: Callable[[], float] = time.time,
        reset_missing_state: bool = False,
    ) -> SignerCore:
        """Check the home, open and verify the audit log, check the air gap, open the ledger
        and limits.

        A home whose vault exists but whose ledger, limits store or audit log is missing is
        refused (:class:`HomeError`) unless ``reset_missing_state`` (see :func:`open_audit`).
        A machine that is online is refused (:class:`AirGapError`), and the refusal is
        written to the audit log when it can be. With ``allow_online`` the override and what
        it let through are audited. The audit log and the ledger date their records by
        ``clock`` too.
        """
        audit = open_audit(home, reset_missing_state=reset_missing_state, clock=clock)
        try:
            status = checked_air_gap(audit, probe, allow_online=allow_online)
            ledger = Ledger.open(home.ledger_path, clock=_seconds(clock))
            try:
                limits = LimitStore.open(home.limits_path)
            except BaseException:
                ledger.close()
                raise
        except BaseException:
            audit.close()
            raise
        return cls(home, status, audit, ledger, limits, clock=clock)

    def close(self) -> None:
        """Close the audit log, ledger and limits store."""
        self._limits.close()
        self._ledger.close()
        self.audit.close()

    def __enter__(self) -> SignerCore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def load_policy(self) -> Policy:
        """The home's policy (:class:`PolicyFileError` when it does not validate)."""
        return parse_policy_bytes(self.home.read_policy())

    def prepare(
        self,
        decoded: DecodedRequest,
        *,
        policy: Policy,
        registries: Registries,
        header: VaultHeader,
    ) -> PreparedRequest:
        """Review each item, check its key, compute its digest, spend id and what the window
        already counts under it, and ask the policy."""
        # Every review, verdict and prepared item stays alive in the result: the same tens of
        # thousands of new objects, none garbage, that :meth:`sign` pauses the collector for.
        with collector_paused():
            return self._prepare(decoded, policy, registries, header)

    def _prepare(
        self,
        decoded: DecodedRequest,
        policy: Policy,
        registries: Registries,
        header: VaultHeader,
    ) -> PreparedRequest:
        now = int(self._clock())
        reviews: list[Review | None] = []
        errors: list[DecodeError | None] = []
        for request in decoded.requests:
            try:
                reviews.append(review_request(request, registries))
                errors.append(None)
            except DecodeError as exc:
                reviews.append(None)
                errors.append(exc)
        keys = _key_checks(decoded.requests, header)
        # A key that checked out names its path already; only the others are parsed again.
        paths = [
            _path_of(request) if account is None else account.path
            for request, (account, _) in zip(decoded.requests, keys, strict=True)
        ]
        operator = attested_by(decoded.attested_cbor, decoded.attestation, policy)
        # What signing would record each item under, made before judging: the policy counts
        # a re-sign or fee bump by what the store already holds under the item's spend id,
        # and sign records under exactly these ids.
        digests: list[tuple[ComputedDigest | None, str | None]] = []
        owns: list[_Own] = []
        for request, review, (account, _) in zip(decoded.requests, reviews, keys, strict=True):
            computed, problem = (None, None) if review is None else _digest(request, review)
            digests.append((computed, problem))
            owns.append(
                _NO_OWN
                if review is None or computed is None or account is None
                else _own(request, review, computed, account)
            )
        spent = self._limits.spent(now=now)
        ids = [own.spend_id for own in owns if own.spend_id is not None]
        # What the window counts under an id is part of what it counts in all: with nothing
        # spent there is nothing to look up.
        by_id = self._limits.counted(ids, now=now) if spent and ids else {}
        counted = [by_id.get(own.spend_id, _NOTHING) if own.spend_id else _NOTHING for own in owns]
        context = Context(
            enrolled=frozenset(account.path for account in header.accounts),
            now=now,
            spent=spent,
            attested_by=operator,
        )
        verdicts: list[Verdict | None] = [None] * len(reviews)
        batch_review = None
        decodable = [index for index, review in enumerate(reviews) if review is not None]
        if decoded.batch and decodable:
            batch_review = summarise([_some(reviews[i]) for i in decodable], registries)
            batch_verdict = evaluate_batch(
                batch_review,
                policy=policy,
                context=context,
                paths=[paths[i] for i in decodable],
                counted=[counted[i] for i in decodable],
            )
            for index, verdict in zip(decodable, batch_verdict.items, strict=True):
                verdicts[index] = verdict
        elif decodable:
            single = _some(reviews[0])
            verdicts[0] = evaluate(
                single, policy=policy, context=replace(context, path=paths[0], counted=counted[0])
            )
        items = []
        for index, request in enumerate(decoded.requests):
            error = errors[index]
            found = verdicts[index]
            verdict = (
                found if found is not None else refuse_undecodable(_some(error), policy=policy)
            )
            computed, problem = digests[index]
            account, key_refusal = keys[index]
            entry, entry_problem, own_id = owns[index]
            items.append(
                PreparedItem(
                    index,
                    request,
                    reviews[index],
                    error,
                    verdict,
                    computed,
                    account,
                    key_refusal,
                    problem,
                    entry,
                    entry_problem,
                    own_id,
                )
            )
        return PreparedRequest(decoded, tuple(items), batch_review, policy, operator)

    def sign(
        self,
        prepared: PreparedRequest,
        *,
        unlock: Unlock,
        acknowledgements: Mapping[int, str] | None = None,
    ) -> SigningResult:
        """Decide, record, sign and audit every item; build the response.

        ``acknowledgements`` maps an item number to the text the operator typed for its
        confirmation. ``unlock`` is called once, only if some item is to be signed; the
        session it returns is locked before this returns.
        """
        with collector_paused():
            return self._sign(prepared, unlock, dict(acknowledgements or {}))

    def _sign(
        self, prepared: PreparedRequest, unlock: Unlock, acks: Mapping[int, str]
    ) -> SigningResult:
        # Unlock before the first decision: a failed unlock leaves no half-decided batch.
        session = self._unlock(unlock) if prepared.needs_keys(acks) else None
        try:
            decided = self._decide(prepared, session, acks)
            counted = [item.counted for item in decided if item.counted is not None]
            if counted:
                # Every signature, re-signs included: the store adds only spend ids it has
                # not counted yet, so it catches up after a crash and never counts twice.
                self._limits.record_signed(
                    counted, now=int(self._clock()), reference=prepared.decoded.digest
                )
        except BaseException as exc:
            if session is not None:
                session.lock()
                self.audit.append(
                    AuditKind.LOCK, {"reason": "batch failed", "error": type(exc).__name__}
                )
            raise
        if session is not None:
            session.lock()
        written = self.audit.append_many([(AuditKind.DECISION, item.fields) for item in decided])
        if session is not None:
            self.audit.append(AuditKind.LOCK, {"reason": "batch done"})
        return self._result(prepared, decided, written)

    def reject(self, prepared: PreparedRequest, reason: str) -> SigningResult:
        """Record that the operator rejected the whole request: nothing is signed.

        Every item gets its ``decision`` entry, as :meth:`sign` writes it, refused with the
        reason ``rejected by operator: <reason>`` (its policy verdict is recorded as it was),
        in one write. The vault is not unlocked, and neither the nonce ledger nor the limits
        store records anything: no signature left, so no nonce or spend was used.
        """
        refusal = (f"{OPERATOR_REJECTION}: {reason}",)
        facts = _RequestFacts.of(prepared)
        with collector_paused():
            decided = [_refused(facts, item, refusal, {}) for item in prepared.items]
            written = self.audit.append_many(
                [(AuditKind.DECISION, item.fields) for item in decided]
            )
            return self._result(prepared, decided, written)

    def _result(
        self,
        prepared: PreparedRequest,
        decided: list[_Decided],
        written: tuple[AuditEntry, ...],
    ) -> SigningResult:
        """The results with their audit entries, and the response carrying the audit head."""
        results = tuple(
            ItemResult(
                item.item.number, item.outcome, item.reasons, item.signature, item.ledger, entry.seq
            )
            for item, entry in zip(decided, written, strict=True)
        )
        signatures = [item.signature for item in decided if item.signature is not None]
        seq, head_hash = self.audit.head()
        head = AuditHead(seq, head_hash)
        return SigningResult(results, _response(prepared, signatures, head), head)

    def _decide(
        self, prepared: PreparedRequest, session: KeySession | None, acks: Mapping[int, str]
    ) -> list[_Decided]:
        """Every item's decision: ledger records for the whole request, then signatures."""
        blockers: list[str | None] = []
        entries: list[LedgerEntry | None] = []
        for item in prepared.items:
            blocker = _blocker(item, acks)
            entry = None
            if blocker is None:
                if item.ledger_problem is not None:
                    blocker = f"nonce ledger: {item.ledger_problem}"
                entry = item.ledger
            blockers.append(blocker)
            entries.append(entry)
        # One transaction: every item is decided after the ones before it, and recorded
        # before any signature can leave.
        recorded = iter(self._ledger.record_many([entry for entry in entries if entry is not None]))
        facts = _RequestFacts.of(prepared)
        decided: list[_Decided] = []
        for item, blocker, entry in zip(prepared.items, blockers, entries, strict=True):
            decision = None if entry is None else next(recorded)
            if isinstance(decision, LedgerError):
                blocker = f"nonce ledger: {decision}"
            if blocker is not None:
                decided.append(_refused(facts, item, _refusal_reasons(item, blocker), acks))
                continue
            if session is None:
                raise RuntimeError("an item is signable but no session was opened")
            ledger = decision if isinstance(decision, LedgerDecision) else None
            decided.append(_signed(facts, item, session, acks, ledger))
        return decided

    def _unlock(self, unlock: Unlock) -> KeySession:
        try:
            session = unlock()
        except BaseException as exc:
            self.audit.append(AuditKind.UNLOCK, {"result": "failed", "error": type(exc).__name__})
            raise
        self.audit.append(
            AuditKind.UNLOCK,
            {
                "result": "unlocked",
                "master_fingerprint": session.master_fingerprint.hex(),
            },
        )
        return session


@dataclass(frozen=True, slots=True)
class _Decided:
    """One item decided: its result (without its audit seq yet) and its audit fields."""

    item: PreparedItem
    outcome: Outcome
    reasons: tuple[str, ...]
    signature: EthSignature | None
    ledger: LedgerDecision | None
    counted: SignedSpends | None
    fields: Mapping[str, object]


class _Own(NamedTuple):
    """What signing an item would record: its ledger entry (or why it cannot be made) and
    its spend id."""

    entry: LedgerEntry | None
    problem: str | None
    spend_id: bytes | None


# An item that cannot be signed (no review, digest or account) records nothing.
_NO_OWN = _Own(None, None, None)
# What the window counts for an item with no spend id, or one the store has not counted.
_NOTHING: Mapping[AssetKey, int] = MappingProxyType({})


def _own(
    request: EthSignRequest, review: Review, computed: ComputedDigest, account: EnrolledAccount
) -> _Own:
    """What signing ``request`` would record: its ledger entry and its spend id."""
    request_id = None if request.request_id is None else request.request_id.raw
    try:
        # compute_digest checked that the review's transaction re-encodes to exactly
        # sign-data, so sign-data is its unsigned payload: no need to encode it once more.
        entry = ledger_entry(
            review, computed, account.address.raw, request_id, unsigned_payload=request.sign_data
        )
    except LedgerError as exc:
        return _Own(None, str(exc), None)
    return _Own(entry, None, spend_id(entry, computed.digest, account.address.raw))


@dataclass(frozen=True, slots=True)
class _RequestFacts:
    """What every decision entry of one request records the same way, written out once."""

    digest: str
    items: int
    attested_by: str | None
    policy_hash: str

    @classmethod
    def of(cls, prepared: PreparedRequest) -> _RequestFacts:
        operator = prepared.attested_by
        return cls(
            prepared.decoded.digest.hex(),
            len(prepared.items),
            None if operator is None else operator.checksummed(),
            prepared.policy.sha256.hex(),
        )


def _signed(
    facts: _RequestFacts,
    item: PreparedItem,
    session: KeySession,
    acks: Mapping[int, str],
    ledger: LedgerDecision | None,
) -> _Decided:
    computed, account = _some(item.computed), _some(item.account)
    raw = session._sign_computed_digest(account.path, computed.digest)
    signature = to_eth_signature(computed, raw, item.request)
    # The id prepare looked up for the policy's window check, so the store counts what the
    # policy judged.
    counted = SignedSpends(_some(item.spend_id), item.verdict.spends)
    fields = _decision_fields(facts, item, Outcome.SIGNED, (), acks)
    fields["ledger"] = _ledger_fields(ledger)
    fields["signature_digest"] = hashlib.sha256(signature.signature).hexdigest()
    fields["limits"] = {
        "spend_id": counted.spend_id.hex(),
        "spends": [
            {
                "chain_id": spend.asset.chain_id,
                "token": None if spend.asset.token is None else spend.asset.token.checksummed(),
                "amount": spend.amount,
            }
            for spend in counted.spends
        ],
    }
    return _Decided(item, Outcome.SIGNED, (), signature, ledger, counted, fields)


def _refusal_reasons(item: PreparedItem, blocker: str) -> tuple[str, ...]:
    """Why an item is refused: the policy's refusals when it refused, else ``blocker``."""
    if item.verdict.decision is Decision.REFUSE:
        return tuple(str(hit) for hit in item.verdict.refusals)
    return (blocker,)


def _refused(
    facts: _RequestFacts,
    item: PreparedItem,
    reasons: tuple[str, ...],
    acks: Mapping[int, str],
) -> _Decided:
    fields = _decision_fields(facts, item, Outcome.REFUSED, reasons, acks)
    fields["ledger"] = None
    fields["signature_digest"] = None
    fields["limits"] = None
    return _Decided(item, Outcome.REFUSED, reasons, None, None, None, fields)


def open_audit(
    home: SignerHome,
    *,
    reset_missing_state: bool = False,
    clock: Callable[[], float] = time.time,
) -> AuditLog:
    """Check the home, open its audit log and verify the whole chain (start-up check).

    A home whose vault exists but whose ledger, limits store or audit log is missing is
    refused with a :class:`HomeError` naming each file and what its loss means. With
    ``reset_missing_state`` the missing files are re-created instead: the log (a new one if
    it was missing) first gets a ``state-reset`` entry naming them, then the ledger and the
    limits store are created.
    """
    home.check()
    missing = home.missing_state()
    if missing and not reset_missing_state:
        raise HomeError(missing_state_message(home, missing))
    audit = AuditLog.open(home.audit_path, clock=_seconds(clock))
    try:
        audit.verify()
        # Before anything is appended: a policy install a crash cut short is completed or
        # discarded by what the log's last entry says (signer.policy.staged).
        settle_staged_policy(home, audit)
        if reset_missing_state:
            audit.append(
                AuditKind.STATE_RESET,
                {
                    "missing": [state.name for state in missing],
                    "lost": [state.protects for state in missing],
                },
            )
            create_state(home)
    except BaseException:
        audit.close()
        raise
    return audit


def missing_state_message(home: SignerHome, missing: tuple[StateFile, ...]) -> str:
    """Why the signer refuses to start without ``missing``, and what the operator can do."""
    lost = "; ".join(f"{state.name} is missing: {state.loss}" for state in missing)
    return (
        f"the signer home {home.root} has a vault but {lost}. Restore the missing file(s) from"
        " the home backup. Only if there is none, run with --reset-missing-state: it"
        " re-creates them empty and records that in the audit log"
    )


def create_state(home: SignerHome) -> None:
    """Create the nonce ledger and the limits store if absent (``init`` does, before the vault
    exists, so that a home never has a vault without them)."""
    Ledger.open(home.ledger_path).close()
    LimitStore.open(home.limits_path).close()


def checked_air_gap(audit: AuditLog, probe: NetworkProbe, *, allow_online: bool) -> AirGapStatus:
    """The air-gap check, audited: a refusal and an override both leave an entry."""
    try:
        status = check(probe, allow_online=allow_online)
    except AirGapError as exc:
        audit.append(AuditKind.NETWORK_DETECTED, {"refused": True, "detail": str(exc)})
        raise
    if allow_online:
        audit.append(
            AuditKind.ALLOW_ONLINE,
            {"findings": list(status.findings), "offline": status.offline},
        )
    return status


def vault_header(home: SignerHome) -> VaultHeader:
    """The vault's public header: enrolled accounts and master fingerprint (no unlock)."""
    return Vault(home.vault_path).read_header()


def _blocker(item: PreparedItem, acks: Mapping[int, str]) -> str | None:
    """Why ``item`` cannot be signed before the ledger is asked, or None."""
    if item.verdict.decision is Decision.REFUSE:
        return "refused by the policy"
    if item.account is None:
        return f"key check: {item.key_refusal}"
    if item.computed is None:
        return item.digest_problem or "the request could not be decoded"
    confirmation = item.verdict.confirmation
    if confirmation is not None:
        typed = acks.get(item.number)
        if typed is None:
            return f"needs confirmation, not acknowledged: {confirmation.prompt}"
        if not confirmation.accepts(typed):
            return "needs confirmation: the acknowledgement does not match"
    return None


def _digest(request: EthSignRequest, review: Review) -> tuple[ComputedDigest | None, str | None]:
    """The signer's own digest of ``request``, checked against the review's signing hash."""
    try:
        computed = compute_digest(request, transaction=review.subject.transaction)
    except DecodeError as exc:
        return None, f"cannot compute the signing hash: {exc}"
    if computed.digest != review.signing_hash:
        return None, "the review and the signer computed different signing hashes"
    return computed, None


def _key_check(
    request: EthSignRequest, header: VaultHeader
) -> tuple[EnrolledAccount | None, str | None]:
    try:
        return request_account(request, header.accounts, header.master_fingerprint), None
    except KeyPathError as exc:
        return None, str(exc)


def _key_checks(
    requests: tuple[EthSignRequest, ...], header: VaultHeader
) -> list[tuple[EnrolledAccount | None, str | None]]:
    """:func:`_key_check` of each request, asked once per distinct (keypath, address).

    The answer depends only on the request's keypath (with its source fingerprint) and
    address, and on ``header``, fixed here. The requests of a decoded batch share one keypath
    object per distinct encoding (``Keypath.from_tagged``), so the object's id names it:
    ``requests`` keeps every keypath alive for this call, so no id is reused within it.
    """
    answers: dict[tuple[int, Address | None], tuple[EnrolledAccount | None, str | None]] = {}
    checks = []
    for request in requests:
        key = (id(request.derivation_path), request.address)
        answer = answers.get(key)
        if answer is None:
            answer = answers[key] = _key_check(request, header)
        checks.append(answer)
    return checks


def _path_of(request: EthSignRequest) -> DerivationPath | None:
    try:
        return request_path(request.derivation_path)
    except KeyPathError:
        return None


def _seconds(clock: Callable[[], float]) -> Callable[[], int]:
    """``clock`` in whole seconds, as the audit log and the ledger date their records."""
    return lambda: int(clock())


def _some(value: _T | None) -> _T:
    if value is None:
        raise RuntimeError("a prepared item is missing a part it was checked to have")
    return value


def _decision_fields(
    facts: _RequestFacts,
    item: PreparedItem,
    outcome: Outcome,
    reasons: tuple[str, ...],
    acks: Mapping[int, str],
) -> dict[str, object]:
    request = item.request
    review = item.review
    verdict = item.verdict
    return {
        "decision": outcome.value,
        "reasons": list(reasons),
        "request": {
            "id": None if request.request_id is None else str(request.request_id),
            "digest": facts.digest,
            "item": item.number,
            "items": facts.items,
            "item_digest": hashlib.sha256(request.to_cbor()).hexdigest(),
            "path": str(request.derivation_path),
        },
        "account": None if item.account is None else item.account.address.checksummed(),
        "review": None
        if review is None
        else {
            "kind": review.kind.value,
            "chain_id": review.chain_id,
            "digest": review_digest(review).hex(),
            "signing_hash": review.signing_hash.hex(),
            "warnings": sorted({warning.code.value for warning in review.warnings}),
        },
        "undecodable": None if item.decode_error is None else str(item.decode_error),
        "verdict": {
            "decision": verdict.decision.value,
            # The deciding rules as "rule (line N): reason": the refusals, or what allowed it.
            "rules": [str(hit) for hit in verdict.deciding],
            "codes": sorted(verdict.refusal_codes()),
            "confirmation": None
            if verdict.confirmation is None
            else list(verdict.confirmation.codes),
        },
        "acknowledged": item.number in acks,
        "attested_by": facts.attested_by,
        "policy_hash": facts.policy_hash,
    }


def _ledger_fields(decision: LedgerDecision | None) -> dict[str, object] | None:
    if decision is None:
        return None
    return {
        "outcome": decision.outcome.value,
        "replaces": None if decision.replaces is None else decision.replaces.hex(),
    }


def _response(
    prepared: PreparedRequest, signatures: list[EthSignature], head: AuditHead
) -> UR | None:
    if not signatures:
        return None
    if prepared.decoded.batch:
        return EthBatchSignature(tuple(signatures), head).to_ur()
    only = signatures[0]
    return EthSignature(only.r, only.s, only.v, only.request_id, None, head).to_ur()
