"""The review: one frozen data structure per request (and per batch) that every interface renders.

A review holds what a person must check before signing, each displayed value tagged with
where it came from (:class:`Source`), every amount as an integer of base units of one
:class:`Asset`, and warnings with a stable code and a :class:`Severity`. It also keeps the
decoded objects (:class:`Subject`) so a policy layer judges exactly what was shown.

The records a review holds many of, built for every request of a batch (:class:`ReviewField`,
:class:`Payment`, :class:`Asset`, :class:`Subject`), are typed named tuples rather than frozen
dataclasses: as immutable, with the same attributes, and equality, hash and repr between
themselves, but built through one C-level tuple constructor instead of one
``object.__setattr__`` per field (~0.17 against ~0.48 us for six fields on the benchmark
machine, and a review of a plain transfer builds a dozen). No reader uses dataclass features
on them (no ``replace``, ``fields`` or ``asdict``). Records with a ``count`` field (which would
shadow ``tuple.count``) or that callers copy with ``dataclasses.replace`` (:class:`Review`,
:class:`ReviewWarning`) stay frozen dataclasses.

As tuples they would also equal a plain tuple (or another named tuple) of the same values.
:class:`Asset` is the key under which amounts are summed (totals, fee caps, a batch's
destinations), so its equality is its own: an asset never equals a plain tuple. The others are
never dictionary keys or set members and are compared only with records of their own type
(inside two reviews' equality), and their field types keep any two of them from holding
equal values, so they keep tuple equality and its speed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from shared.address import Address
from shared.calls import Call
from shared.messages import RecognisedMessage, SafeTx, TypedData
from shared.review.warnings import Severity, WarningCode
from shared.tx import Transaction

# Bound once: Asset's equality calls them on every dictionary hit (a global load and a call,
# not an attribute lookup on tuple each time).
_TUPLE_EQ = tuple.__eq__
_TUPLE_NE = tuple.__ne__


class Source(StrEnum):
    """Where a displayed value comes from."""

    # Read from the bytes being signed.
    DECODED = "decoded"
    # Computed by the signer from decoded bytes: hashes, fee caps, totals.
    COMPUTED = "computed"
    # From the signer's own registries: chain names, token symbols and decimals, Safe contracts.
    REGISTRY = "registry"
    # From the signer's own address book.
    ADDRESS_BOOK = "address book"
    # Written by the requester and not covered by the signature: never to be trusted.
    REQUEST = "request, unverified"


class ReviewKind(StrEnum):
    """What is being signed."""

    TRANSACTION = "transaction"
    PERSONAL_MESSAGE = "personal-message"
    TYPED_DATA = "typed-data"
    PERMIT = "permit"
    PERMIT2 = "permit2"
    SAFE_TX = "safe-tx"
    SAFE_MESSAGE = "safe-message"


class ReviewField(NamedTuple):
    """One displayed value: ``label`` in ``section``, ``value`` from ``source``.

    ``note`` adds a name for the value from another source (an address-book label, a
    chain name from the registry), with ``note_source`` saying which; both are empty
    when there is nothing to add.
    """

    section: str
    label: str
    value: str
    source: Source
    note: str = ""
    note_source: Source | None = None


@dataclass(frozen=True, slots=True)
class ReviewWarning:
    """A warning: its stable ``code``, its ``severity``, and a one-line ``message``.

    ``path`` names where in the request it applies (``execTransaction.multiSend[2]``), empty
    for the request as a whole.
    """

    code: WarningCode
    severity: Severity
    message: str
    path: str = ""


class Asset(NamedTuple):
    """What an amount is counted in: a chain's native coin (``token`` None) or an ERC-20 token.

    ``known`` is True when the registry names it; then ``decimals`` is the registry's. An
    unknown asset has ``decimals`` None and its amounts are shown in base units.
    ``chain_id`` None: the signature names no chain (a SafeTx of a Safe before 1.3.0), so
    the asset is whatever that address holds on the chain where the signature is used.
    """

    chain_id: int | None
    token: Address | None
    symbol: str
    decimals: int | None
    known: bool

    # Amounts are summed in dictionaries keyed by Asset: a plain tuple of the same five
    # values must never land on, or be taken for, an asset's entry. Python asks the subclass
    # first, so this holds on either side of == and != against a plain tuple; against
    # another tuple subclass it holds only with the asset on the left (the other's own
    # tuple equality answers first), and no such record has Asset's field types. tuple
    # defines __ne__ apart from __eq__, so both are replaced. The hash stays tuple's C one
    # (NamedTuple sets these methods on the finished class, so __hash__ is not reset to
    # None): an equal hash with unequal values is only a collision. Cost: a batch compares
    # each review's asset with the batch's ~4 times, ~0.07 us more each than tuple's.
    def __eq__(self, other: object) -> bool:
        return type(other) is Asset and _TUPLE_EQ(self, other)

    def __ne__(self, other: object) -> bool:
        return type(other) is not Asset or _TUPLE_NE(self, other)


class Payment(NamedTuple):
    """Value that leaves an account: ``amount`` base units of ``asset`` to ``destination``.

    ``destination`` None is the contract a creation transaction deploys. ``sender`` is who
    pays: None for the signing account, the Safe for a Safe transaction's calls, ``from``
    for ``transferFrom``. ``path`` names the call that pays (``multiSend[2].transfer``).
    """

    destination: Address | None
    label: str | None
    asset: Asset
    amount: int
    path: str
    sender: Address | None = None


@dataclass(frozen=True, slots=True)
class AssetTotal:
    """The sum of ``count`` amounts of one asset."""

    asset: Asset
    amount: int
    count: int


@dataclass(frozen=True, slots=True)
class SafeTransaction:
    """A Safe transaction found in the request, however it arrived.

    From EIP-712 ``SafeTx`` typed data, ``nonce`` is the signed Safe nonce; from an
    ``execTransaction`` call it is None (the Safe uses its current nonce, which the call
    data does not carry). ``call`` is the decoded inner call; ``path`` where it sits.
    """

    safe: Address
    chain_id: int | None
    nonce: int | None
    to: Address
    value: int
    data: bytes
    operation: int
    safe_tx_gas: int
    base_gas: int
    gas_price: int
    gas_token: Address
    refund_receiver: Address
    call: Call
    path: str


class Subject(NamedTuple):
    """The decoded objects a review was built from, kept for the policy layer.

    ``transaction`` and ``call`` (its call tree) for a transaction; ``typed_data`` and
    ``recognised`` (Permit, Permit2, SafeTx, SafeMessage) for EIP-712; ``message`` for
    personal_sign; ``safe_transactions`` every Safe transaction found in any of them.
    """

    transaction: Transaction | None = None
    call: Call | None = None
    typed_data: TypedData | None = None
    recognised: RecognisedMessage | None = None
    message: bytes | None = None
    safe_transactions: tuple[SafeTransaction, ...] = ()

    @property
    def safe_tx(self) -> SafeTx | None:
        """The EIP-712 SafeTx, when the request is one."""
        return self.recognised if isinstance(self.recognised, SafeTx) else None


@dataclass(frozen=True, slots=True)
class Review:
    """Everything a person checks before signing one request.

    ``chain_id`` is the chain the signature is bound to (None for a personal message or
    typed data whose domain names no chain). ``fee_cap_wei`` is the most a transaction can
    pay in fees (None for messages). ``warnings`` are sorted worst first.
    """

    kind: ReviewKind
    title: str
    chain_id: int | None
    signing_hash: bytes
    fields: tuple[ReviewField, ...]
    payments: tuple[Payment, ...]
    totals: tuple[AssetTotal, ...]
    fee_cap_wei: int | None
    warnings: tuple[ReviewWarning, ...]
    subject: Subject

    @property
    def max_severity(self) -> Severity | None:
        """The worst warning's severity, None when there is no warning."""
        return max((w.severity for w in self.warnings), default=None)

    def codes(self) -> frozenset[WarningCode]:
        """The codes of every warning."""
        return frozenset(w.code for w in self.warnings)


@dataclass(frozen=True, slots=True)
class DestinationCount:
    """How many payments of one asset a batch makes to one destination, and their sum."""

    destination: Address | None
    label: str | None
    asset: Asset
    count: int
    amount: int


@dataclass(frozen=True, slots=True)
class BatchReview:
    """A batch of requests: each one's review and what they add up to.

    ``fee_caps`` holds, per chain, the sum of the transactions' fee caps in its native coin.
    ``warnings`` holds every item's warnings, ``path`` prefixed ``requests[i]``, then the
    batch's own, sorted worst first.
    """

    items: tuple[Review, ...]
    totals: tuple[AssetTotal, ...]
    destinations: tuple[DestinationCount, ...]
    fee_caps: tuple[AssetTotal, ...]
    warnings: tuple[ReviewWarning, ...]

    @property
    def max_severity(self) -> Severity | None:
        """The worst warning's severity across the batch, None when there is no warning."""
        return max((w.severity for w in self.warnings), default=None)

    def codes(self) -> frozenset[WarningCode]:
        """The codes of every warning in the batch."""
        return frozenset(w.code for w in self.warnings)
