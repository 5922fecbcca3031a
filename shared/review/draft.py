"""The accumulator a review is built in: fields, payments, warnings, then frozen into a Review."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from functools import lru_cache

from shared.address import Address
from shared.messages import DisplayText, safe_display
from shared.registry import Registries
from shared.registry.model import LOOKALIKE_PREFIX, LOOKALIKE_SUFFIX
from shared.review.amounts import native_asset
from shared.review.model import (
    Asset,
    AssetTotal,
    Payment,
    Review,
    ReviewField,
    ReviewKind,
    ReviewWarning,
    SafeTransaction,
    Source,
    Subject,
)
from shared.review.warnings import RANK, WarningCode, severity_of

# Single-line texts remembered escaped: a batch repeats the same origin (and token names)
# on every item. Only short texts are kept: Draft.text also shows ABI and EIP-712 strings as
# long as a whole sign-data, so with both bounds the cache holds at most a few megabytes
# whatever a requester sends.
_DISPLAY_CACHE = 1024
_DISPLAY_CACHED_LENGTH = 256


class Draft:
    """Collects one review's parts in order; :meth:`finish` freezes them.

    ``chain_id`` (None: no chain, e.g. a personal message) decides which registry entries
    and address-book labels name an address.
    """

    def __init__(self, registries: Registries, chain_id: int | None) -> None:
        self.registries = registries
        self.chain_id = chain_id
        self.section = ""
        self.fields: list[ReviewField] = []
        self.payments: list[Payment] = []
        self.warnings: list[ReviewWarning] = []
        self.safe_transactions: list[SafeTransaction] = []
        self._warned: set[tuple[WarningCode, Hashable]] = set()
        self._native: Asset | None = None
        self._names: dict[Address, tuple[str, Source] | None] = {}
        # Registry names only; the address book is looked up first by name_of.
        self._registry_names: Mapping[Address, str] = (
            {} if chain_id is None else registries.contract_names(chain_id)
        )

    def native_asset(self) -> Asset:
        """The native coin of this draft's chain (looked up once per draft)."""
        if self._native is None:
            self._native = native_asset(self.registries, self.chain_id)
        return self._native

    # --- fields ---------------------------------------------------------------------------

    def add(
        self,
        label: str,
        value: str,
        source: Source = Source.DECODED,
        *,
        note: str = "",
        note_source: Source | None = None,
    ) -> None:
        """Add a field to the current section."""
        self.fields.append(ReviewField(self.section, label, value, source, note, note_source))

    def address(
        self, label: str, address: Address, *, path: str, source: Source = Source.DECODED
    ) -> None:
        """Add an address field: whole, checksummed, grouped, with its name when known."""
        name = self.name_of(address)
        note, note_source = ("", None) if name is None else name
        self.add(label, address.grouped(), source, note=note, note_source=note_source)
        self.check_lookalike(address, path)

    def text(self, label: str, raw: str, *, path: str, source: Source = Source.DECODED) -> None:
        """Add untrusted text, escaped; warn when anything had to be escaped visibly."""
        if len(raw) <= _DISPLAY_CACHED_LENGTH:
            shown = _single_line_display(raw)
        else:
            shown = safe_display(raw)
        self.add(label, shown.text, source)
        self.warn_escaped(shown.reasons, label, path)

    def warn_escaped(self, reasons: Iterable[str], what: str, path: str) -> None:
        """Warn ``non-printable-text`` for the reason codes of a :class:`DisplayText`."""
        found = tuple(reasons)
        if found:
            self.warn(
                WarningCode.NON_PRINTABLE_TEXT,
                f"{what}: escaped {', '.join(found).replace('_', ' ')} characters",
                path,
            )

    def chain(self, label: str, chain_id: int, *, path: str) -> None:
        """Add a chain id field named from the registry; warn when the registry lacks it."""
        chain = self.registries.chain(chain_id)
        if chain is None:
            self.add(label, str(chain_id), note="unknown chain")
            self.warn(WarningCode.UNKNOWN_CHAIN, f"chain {chain_id} is not in the registry", path)
            return
        self.add(label, str(chain_id), note=chain.name, note_source=Source.REGISTRY)

    # --- names ----------------------------------------------------------------------------

    def name_of(self, address: Address) -> tuple[str, Source] | None:
        """The address-book label of ``address``, else its registry name, else None."""
        # One draft names an address several times (the field, then its payment); the
        # registries are frozen, so the first answer stands for the whole draft.
        if address in self._names:
            return self._names[address]
        named: tuple[str, Source] | None = None
        label = self._label(address)
        if label is not None:
            named = label, Source.ADDRESS_BOOK
        else:
            name = self._registry_names.get(address)
            if name is not None:
                named = name, Source.REGISTRY
        self._names[address] = named
        return named

    def label_of(self, address: Address) -> str | None:
        """The name shown next to ``address`` in payments (address book first)."""
        named = self.name_of(address)
        return None if named is None else named[0]

    def is_known(self, address: Address) -> bool:
        """True when the registries or the address book name ``address`` on this chain."""
        return self.name_of(address) is not None

    def is_registry_contract(self, address: Address) -> bool:
        """True when the registry names ``address`` as a contract (a token, a Safe library)."""
        return address in self._registry_names

    def is_multisend_call_only(self, address: Address) -> bool:
        """True when ``address`` is a registry MultiSendCallOnly on this chain."""
        return self.chain_id is not None and self.registries.is_multisend_call_only(
            self.chain_id, address
        )

    def _label(self, address: Address) -> str | None:
        if self.chain_id is not None:
            return self.registries.label(self.chain_id, address)
        # No chain: only labels the operator wrote for every chain apply.
        for entry in self.registries.labels:
            if entry.address == address and entry.chain_id is None:
                return entry.label
        return None

    def check_lookalike(self, address: Address, path: str) -> None:
        """Warn ``lookalike-address`` (once per address) when it imitates a known address."""
        found = self._lookalike(address)
        if found is None:
            return
        known, name = found
        self.warn(
            WarningCode.LOOKALIKE_ADDRESS,
            f"{address.checksummed()} imitates {name} {known.checksummed()}",
            path,
            key=address,
        )

    def _lookalike(self, address: Address) -> tuple[Address, str] | None:
        if self.chain_id is not None:
            return self.registries.lookalike_of(self.chain_id, address)
        target = address.raw.hex()
        for entry in self.registries.labels:
            other = entry.address.raw.hex()
            if (
                entry.chain_id is None
                and entry.address != address
                and other[:LOOKALIKE_PREFIX] == target[:LOOKALIKE_PREFIX]
                and other[-LOOKALIKE_SUFFIX:] == target[-LOOKALIKE_SUFFIX:]
            ):
                return entry.address, entry.label
        return None

    # --- warnings and payments ------------------------------------------------------------

    def warn(
        self, code: WarningCode, message: str, path: str = "", *, key: Hashable = None
    ) -> None:
        """Add a warning; with ``key``, only the first warning of ``code`` for that key."""
        if key is not None:
            if (code, key) in self._warned:
                return
            self._warned.add((code, key))
        warning = ReviewWarning(code, severity_of(code), message, path)
        if warning not in self.warnings:
            self.warnings.append(warning)

    def pay(
        self,
        destination: Address | None,
        asset: Asset,
        amount: int,
        path: str,
        sender: Address | None,
    ) -> None:
        """Record a payment; a zero amount moves nothing and is not a payment."""
        if amount == 0:
            return
        label = None if destination is None else self.label_of(destination)
        self.payments.append(Payment(destination, label, asset, amount, path, sender))

    # --- result ---------------------------------------------------------------------------

    def finish(
        self,
        kind: ReviewKind,
        title: str,
        signing_hash: bytes,
        *,
        fee_cap_wei: int | None,
        subject: Subject,
    ) -> Review:
        """The frozen review."""
        payments = tuple(self.payments)
        return Review(
            kind=kind,
            title=title,
            chain_id=self.chain_id,
            signing_hash=signing_hash,
            fields=tuple(self.fields),
            payments=payments,
            totals=totals_of(payments),
            fee_cap_wei=fee_cap_wei,
            warnings=sort_warnings(self.warnings) if self.warnings else (),
            subject=subject,
        )


@lru_cache(maxsize=_DISPLAY_CACHE)
def _single_line_display(raw: str) -> DisplayText:
    # Cached: safe_display is a pure function of the text, and DisplayText is frozen.
    return safe_display(raw)


def asset_key(asset: Asset) -> tuple[int, bytes, str, int, bool]:
    """A sort key for assets: by chain, native coin first, then by token address."""
    token = b"" if asset.token is None else asset.token.raw
    decimals = -1 if asset.decimals is None else asset.decimals
    chain = -1 if asset.chain_id is None else asset.chain_id
    return (chain, token, asset.symbol, decimals, asset.known)


def totals_of(payments: Iterable[Payment]) -> tuple[AssetTotal, ...]:
    """The sum and count of payments per asset, in :func:`asset_key` order."""
    if isinstance(payments, tuple) and len(payments) == 1:
        # One payment (a plain transfer, one ERC-20 transfer) is its own total.
        (payment,) = payments
        return (AssetTotal(payment.asset, payment.amount, 1),)
    sums: dict[Asset, tuple[int, int]] = {}
    for payment in payments:
        amount, count = sums.get(payment.asset, (0, 0))
        sums[payment.asset] = (amount + payment.amount, count + 1)
    return tuple(
        AssetTotal(asset, amount, count)
        for asset, (amount, count) in sorted(sums.items(), key=lambda item: asset_key(item[0]))
    )


def sort_warnings(warnings: Iterable[ReviewWarning]) -> tuple[ReviewWarning, ...]:
    """Worst first; equal severities in catalogue order, then in the order they were found."""
    return tuple(sorted(warnings, key=lambda w: (-w.severity, RANK[w.code])))
