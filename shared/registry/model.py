"""The signer's own registries: chains, tokens, Safe deployments and an address book.

These are facts the signer owns and reads from its own files, never from a request. Anything
not in them is "unknown" and is shown as such.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from shared.address import Address

# How many hex characters at each end a lookalike shares with a known address. Vanity
# generators cheaply match 4-5 characters at each end, and wallets typically show only
# those, so that is what a poisoning attack copies.
LOOKALIKE_PREFIX = 4
LOOKALIKE_SUFFIX = 4


@dataclass(frozen=True, slots=True)
class Chain:
    """An EVM chain the signer knows by id."""

    chain_id: int
    name: str
    native_symbol: str
    native_decimals: int = 18


@dataclass(frozen=True, slots=True)
class Token:
    """An ERC-20 token on one chain, with the decimals the signer trusts."""

    chain_id: int
    address: Address
    symbol: str
    decimals: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class SafeDeployment:
    """One released set of Safe contracts on one chain (addresses from safe-deployments)."""

    chain_id: int
    version: str
    multisend_call_only: Address
    multisend: Address | None = None
    sign_message_lib: Address | None = None


@dataclass(frozen=True, slots=True)
class AddressLabel:
    """A label from the signer's address book; ``chain_id`` None means every chain."""

    address: Address
    label: str
    chain_id: int | None = None


@dataclass(frozen=True, slots=True)
class _ChainIndex:
    """What one chain's lookups need, computed once by :meth:`Registries.build`.

    ``contracts``: registry names of tokens and Safe libraries; ``known``: those plus the
    address book, as :meth:`Registries.known_addresses` gives them; ``by_ends``: ``known``
    grouped by (first, last) hex characters, in ``known``'s order, for lookalike checks.
    """

    contracts: Mapping[Address, str]
    known: Mapping[Address, str]
    by_ends: Mapping[tuple[str, str], tuple[tuple[Address, str], ...]]


@dataclass(frozen=True, slots=True)
class Registries:
    """Everything the signer knows, indexed for lookup. Build with :meth:`build`."""

    chains: Mapping[int, Chain]
    tokens: Mapping[tuple[int, Address], Token]
    safe_deployments: tuple[SafeDeployment, ...]
    labels: tuple[AddressLabel, ...]
    _labels_by_address: Mapping[Address, tuple[AddressLabel, ...]] = field(repr=False)
    # Per chain named by some entry; every other chain uses ``_other_chains`` (derived data:
    # equal entries give equal indexes, so equality ignores them).
    _by_chain: Mapping[int, _ChainIndex] = field(repr=False, compare=False)
    _other_chains: _ChainIndex = field(repr=False, compare=False)

    @classmethod
    def build(
        cls,
        *,
        chains: Iterable[Chain] = (),
        tokens: Iterable[Token] = (),
        safe_deployments: Iterable[SafeDeployment] = (),
        labels: Iterable[AddressLabel] = (),
    ) -> Registries:
        """Index the given entries; a later entry for the same key replaces an earlier one."""
        chain_map = {chain.chain_id: chain for chain in chains}
        token_map = {(token.chain_id, token.address): token for token in tokens}
        label_list = tuple(labels)
        by_address: dict[Address, list[AddressLabel]] = {}
        for entry in label_list:
            by_address.setdefault(entry.address, []).append(entry)
        deployments = tuple(safe_deployments)
        named_chains = (
            {chain_id for chain_id, _ in token_map}
            | {deployment.chain_id for deployment in deployments}
            | {entry.chain_id for entry in label_list if entry.chain_id is not None}
        )
        tokens_list = tuple(token_map.values())
        return cls(
            chains=MappingProxyType(chain_map),
            tokens=MappingProxyType(token_map),
            safe_deployments=deployments,
            labels=label_list,
            _labels_by_address=MappingProxyType(
                {address: tuple(entries) for address, entries in by_address.items()}
            ),
            _by_chain=MappingProxyType(
                {
                    chain_id: _index(chain_id, tokens_list, deployments, label_list)
                    for chain_id in named_chains
                }
            ),
            _other_chains=_index(None, (), (), label_list),
        )

    def merged(self, other: Registries) -> Registries:
        """These registries with ``other``'s entries added (``other`` wins on equal keys)."""
        return Registries.build(
            chains=[*self.chains.values(), *other.chains.values()],
            tokens=[*self.tokens.values(), *other.tokens.values()],
            safe_deployments=[*self.safe_deployments, *other.safe_deployments],
            labels=[*self.labels, *other.labels],
        )

    def chain(self, chain_id: int) -> Chain | None:
        return self.chains.get(chain_id)

    def token(self, chain_id: int, address: Address) -> Token | None:
        return self.tokens.get((chain_id, address))

    def label(self, chain_id: int, address: Address) -> str | None:
        """The address book's label for ``address`` on ``chain_id`` (chain-specific first).

        Among equal candidates the last one wins, so an operator's file merged over the shipped
        registries overrides a shipped label.
        """
        entries = self._labels_by_address.get(address, ())[::-1]
        for entry in entries:
            if entry.chain_id == chain_id:
                return entry.label
        for entry in entries:
            if entry.chain_id is None:
                return entry.label
        return None

    def is_multisend_call_only(self, chain_id: int, address: Address) -> bool:
        return any(
            d.chain_id == chain_id and d.multisend_call_only == address
            for d in self.safe_deployments
        )

    def is_multisend(self, chain_id: int, address: Address) -> bool:
        return any(d.chain_id == chain_id and d.multisend == address for d in self.safe_deployments)

    def is_sign_message_lib(self, chain_id: int, address: Address) -> bool:
        return any(
            d.chain_id == chain_id and d.sign_message_lib == address for d in self.safe_deployments
        )

    def known_addresses(self, chain_id: int) -> dict[Address, str]:
        """Every address the signer can name on ``chain_id``, with its name."""
        return dict(self._chain_index(chain_id).known)

    def contract_names(self, chain_id: int) -> Mapping[Address, str]:
        """The registry's own names on ``chain_id``: tokens and Safe libraries (no labels)."""
        return self._chain_index(chain_id).contracts

    def lookalike_of(self, chain_id: int, address: Address) -> tuple[Address, str] | None:
        """A known address that ``address`` imitates: same first and last hex characters.

        Address poisoning plants addresses whose ends match one the victim uses; a person
        checking only the ends is fooled. An exact match is not a lookalike.
        """
        for known, name in self._chain_index(chain_id).by_ends.get(_ends(address), ()):
            if known != address:
                return known, name
        return None

    def _chain_index(self, chain_id: int) -> _ChainIndex:
        return self._by_chain.get(chain_id, self._other_chains)


def _ends(address: Address) -> tuple[str, str]:
    text = address.raw.hex()
    return text[:LOOKALIKE_PREFIX], text[-LOOKALIKE_SUFFIX:]


def _index(
    chain_id: int | None,
    tokens: tuple[Token, ...],
    deployments: tuple[SafeDeployment, ...],
    labels: tuple[AddressLabel, ...],
) -> _ChainIndex:
    """One chain's names (``chain_id`` None: a chain no entry names; only labels for every
    chain apply there). Later entries override earlier names, labels override the registry."""
    contracts: dict[Address, str] = {}
    for token in tokens:
        if token.chain_id == chain_id:
            contracts[token.address] = f"{token.symbol} token"
    for deployment in deployments:
        if deployment.chain_id != chain_id:
            continue
        prefix = f"Safe {deployment.version}"
        contracts[deployment.multisend_call_only] = f"{prefix} MultiSendCallOnly"
        if deployment.multisend is not None:
            contracts[deployment.multisend] = f"{prefix} MultiSend"
        if deployment.sign_message_lib is not None:
            contracts[deployment.sign_message_lib] = f"{prefix} SignMessageLib"
    known = dict(contracts)
    for entry in labels:
        if entry.chain_id is None or entry.chain_id == chain_id:
            known[entry.address] = entry.label
    by_ends: dict[tuple[str, str], list[tuple[Address, str]]] = {}
    for address, name in known.items():
        by_ends.setdefault(_ends(address), []).append((address, name))
    return _ChainIndex(
        MappingProxyType(contracts),
        MappingProxyType(known),
        MappingProxyType({ends: tuple(found) for ends, found in by_ends.items()}),
    )
