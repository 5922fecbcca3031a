"""The parsed policy: frozen rule objects, each naming its TOML table path and line."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import TypeVar

from shared.address import Address
from signer.keys.bip32 import DerivationPath

# Rolling window for ``per_24h`` limits, in seconds.
WINDOW_SECONDS = 24 * 60 * 60


@dataclass(frozen=True, slots=True)
class AssetKey:
    """One asset on one chain: ``token`` None is the chain's native coin."""

    chain_id: int
    token: Address | None
    # Asset keys are dictionary keys on every payment the policy counts: hashed once.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.chain_id, self.token)))

    def __hash__(self) -> int:
        return self._hash

    def sort_key(self) -> tuple[int, bytes]:
        """Chain, then native before tokens in address order."""
        return self.chain_id, b"" if self.token is None else self.token.raw

    def describe(self) -> str:
        """``native`` or the checksummed token address, with the chain: for reasons."""
        what = "native coin" if self.token is None else f"token {self.token.checksummed()}"
        return f"{what} on chain {self.chain_id}"


# Safe to share: an AssetKey is an immutable value of its two arguments. Bounded: a request
# names few assets, and a full cache only costs a new object per call. Typed, so that 1 and
# True never share an entry.
@lru_cache(maxsize=1024, typed=True)
def asset_key(chain_id: int, token: Address | None) -> AssetKey:
    """The :class:`AssetKey` of ``token`` (None: native coin) on ``chain_id``, made once."""
    return AssetKey(chain_id, token)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """Where a rule is written: its TOML table path (``destination[2]``) and 1-based line.

    ``keys`` holds the line of each key written in the table, so a verdict can point at the
    very key that decided (``limit[0].per_24h``, line 31).
    """

    path: str
    line: int
    keys: tuple[tuple[str, int], ...] = ()

    def key(self, name: str) -> RuleRef:
        """The reference of key ``name`` of this table (the table's line if not written)."""
        line = next((number for key, number in self.keys if key == name), self.line)
        return RuleRef(f"{self.path}.{name}", line)


@dataclass(frozen=True, slots=True)
class ChainRule:
    """``[[chain]]``: a chain requests may be for, with its fee caps (wei) for transactions."""

    ref: RuleRef
    chain_id: int
    label: str
    max_fee_per_gas: int | None
    max_total_fee: int | None


@dataclass(frozen=True, slots=True)
class AccountRule:
    """``[[account]]``: a derivation path the policy lets sign."""

    ref: RuleRef
    path: DerivationPath
    label: str


@dataclass(frozen=True, slots=True)
class DestinationRule:
    """``[[destination]]``: an address that may receive the listed assets on one chain."""

    ref: RuleRef
    chain_id: int
    address: Address
    assets: tuple[AssetKey, ...]
    label: str


@dataclass(frozen=True, slots=True)
class LimitRule:
    """``[[limit]]``: per-transaction and rolling 24-hour caps for one asset, in base units."""

    ref: RuleRef
    asset: AssetKey
    decimals: int
    per_tx: int
    per_24h: int
    label: str


@dataclass(frozen=True, slots=True)
class CallRule:
    """``[[call]]``: one function (selector) that may be called on one contract."""

    ref: RuleRef
    chain_id: int
    to: Address
    selector: bytes
    label: str


class ApprovalVia(StrEnum):
    """How an allowance can be granted; each must be named in ``[[approval]].via``."""

    # ERC-20 approve / increaseAllowance / decreaseAllowance calls.
    APPROVE = "approve"
    # EIP-2612 permit, as typed data or as a permit(...) call.
    PERMIT = "permit"
    # Uniswap Permit2 typed data (PermitSingle, PermitBatch, transfer permits).
    PERMIT2 = "permit2"
    # ERC-721 / ERC-1155 setApprovalForAll(operator, true).
    SET_APPROVAL_FOR_ALL = "set-approval-for-all"


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """``[[approval]]``: ``spender`` may be allowed to move ``token`` on one chain."""

    ref: RuleRef
    chain_id: int
    token: Address
    spender: Address
    via: frozenset[ApprovalVia]
    max_amount: int | None
    allow_unlimited: bool
    label: str


@dataclass(frozen=True, slots=True)
class TypedDataRule:
    """``[[typed_data]]``: EIP-712 messages of one primary type for one verifying contract."""

    ref: RuleRef
    chain_id: int
    verifying_contract: Address
    primary_type: str
    label: str


@dataclass(frozen=True, slots=True)
class PersonalMessageRule:
    """``[[personal_message]]``: personal_sign text that starts with ``prefix``."""

    ref: RuleRef
    prefix: str
    label: str


@dataclass(frozen=True, slots=True)
class MultiSendRule:
    """``[[multisend_call_only]]``: a pinned MultiSendCallOnly a Safe may delegatecall."""

    ref: RuleRef
    chain_id: int
    address: Address
    label: str


class SafeProfile(StrEnum):
    """What this owner signs for a Safe."""

    # Payouts only: calls that pass the destination, limit, call and approval rules.
    OWNER = "owner"
    # Payouts plus the Safe configuration changes named in ``admin_functions``.
    GOVERNANCE = "governance"


@dataclass(frozen=True, slots=True)
class SafeRule:
    """``[[safe]]``: a Safe this device is an owner of, and what it signs for it."""

    ref: RuleRef
    chain_id: int
    address: Address
    label: str
    profile: SafeProfile
    admin_functions: frozenset[str]
    migration_libraries: tuple[Address, ...]
    allow_gas_refund: bool
    allow_pre_1_3: bool
    allow_messages: bool


@dataclass(frozen=True, slots=True)
class OperatorRule:
    """``[[operator]]``: a pinned operator key; every request must carry its attestation.

    Pinned by address (the key's Ethereum address); a public key in the file is reduced to
    its address when parsed, since an attestation signature recovers the address.
    """

    ref: RuleRef
    address: Address
    label: str


_Rule = TypeVar("_Rule")
_Key = TypeVar("_Key", bound=Hashable)


def _first_by(rules: tuple[_Rule, ...], key: Callable[[_Rule], _Key]) -> dict[_Key, _Rule]:
    """Each key's first rule in ``rules``: what a scan of the tuple in order would find."""
    found: dict[_Key, _Rule] = {}
    for rule in rules:
        found.setdefault(key(rule), rule)
    return found


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole policy file, validated. ``sha256`` is the digest of the exact file bytes."""

    name: str
    version: int
    sha256: bytes
    chains: tuple[ChainRule, ...] = ()
    accounts: tuple[AccountRule, ...] = ()
    destinations: tuple[DestinationRule, ...] = ()
    limits: tuple[LimitRule, ...] = ()
    calls: tuple[CallRule, ...] = ()
    approvals: tuple[ApprovalRule, ...] = ()
    typed_data: tuple[TypedDataRule, ...] = ()
    personal_messages: tuple[PersonalMessageRule, ...] = ()
    multisend_call_only: tuple[MultiSendRule, ...] = ()
    safes: tuple[SafeRule, ...] = ()
    operators: tuple[OperatorRule, ...] = ()

    # Rule lookups by key, built once per policy (it is immutable and asked several times per
    # request). Each keeps the first rule written for a key, as a scan of the tuple would.
    # Addresses are keyed by their 20 raw bytes (equal exactly when the addresses are), whose
    # hash Python keeps.
    _chain_index: dict[int, ChainRule] = field(init=False, repr=False, compare=False)
    _account_index: dict[DerivationPath, AccountRule] = field(init=False, repr=False, compare=False)
    _limit_index: dict[AssetKey, LimitRule] = field(init=False, repr=False, compare=False)
    _destination_index: dict[tuple[int, bytes], DestinationRule] = field(
        init=False, repr=False, compare=False
    )
    _safe_index: dict[tuple[int, bytes], SafeRule] = field(init=False, repr=False, compare=False)
    _multisend_index: dict[tuple[int, bytes], MultiSendRule] = field(
        init=False, repr=False, compare=False
    )
    _call_index: dict[tuple[int, bytes, bytes], CallRule] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        set_index = object.__setattr__
        set_index(self, "_chain_index", _first_by(self.chains, lambda r: r.chain_id))
        set_index(self, "_account_index", _first_by(self.accounts, lambda r: r.path))
        set_index(self, "_limit_index", _first_by(self.limits, lambda r: r.asset))
        set_index(
            self,
            "_destination_index",
            _first_by(self.destinations, lambda r: (r.chain_id, r.address.raw)),
        )
        set_index(self, "_safe_index", _first_by(self.safes, lambda r: (r.chain_id, r.address.raw)))
        set_index(
            self,
            "_multisend_index",
            _first_by(self.multisend_call_only, lambda r: (r.chain_id, r.address.raw)),
        )
        set_index(
            self, "_call_index", _first_by(self.calls, lambda r: (r.chain_id, r.to.raw, r.selector))
        )

    @property
    def hash_hex(self) -> str:
        """The policy hash as shown on the home screen: 64 lowercase hex digits."""
        return self.sha256.hex()

    def chain(self, chain_id: int) -> ChainRule | None:
        return self._chain_index.get(chain_id)

    def account(self, path: DerivationPath) -> AccountRule | None:
        return self._account_index.get(path)

    def limit(self, asset: AssetKey) -> LimitRule | None:
        return self._limit_index.get(asset)

    def destination(self, chain_id: int, address: Address) -> DestinationRule | None:
        return self._destination_index.get((chain_id, address.raw))

    def safe(self, chain_id: int, address: Address) -> SafeRule | None:
        return self._safe_index.get((chain_id, address.raw))

    def multisend(self, chain_id: int, address: Address) -> MultiSendRule | None:
        return self._multisend_index.get((chain_id, address.raw))

    def call(self, chain_id: int, to: Address, selector: bytes) -> CallRule | None:
        return self._call_index.get((chain_id, to.raw, selector))
