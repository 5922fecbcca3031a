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
class Registries:
    """Everything the signer knows, indexed for lookup. Build with :meth:`build`."""

    chains: Mapping[int, Chain]
    tokens: Mapping[tuple[int, Address], Token]
    safe_deployments: tuple[SafeDeployment, ...]
    labels: tuple[AddressLabel, ...]
    _labels_by_address: Mapping[Address, tuple[AddressLabel, ...]] = field(repr=False)

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
        return cls(
            chains=MappingProxyType(chain_map),
            tokens=MappingProxyType(token_map),
            safe_deployments=tuple(safe_deployments),
            labels=label_list,
            _labels_by_address=MappingProxyType(
                {address: tuple(entries) for address, entries in by_address.items()}
            ),
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
        named: dict[Address, str] = {}
        for token in self.tokens.values():
            if token.chain_id == chain_id:
                named[token.address] = f"{token.symbol} token"
        for deployment in self.safe_deployments:
            if deployment.chain_id != chain_id:
                continue
            named[deployment.multisend_call_only] = f"Safe {deployment.version} MultiSendCallOnly"
            if deployment.multisend is not None:
                named[deployment.multisend] = f"Safe {deployment.version} MultiSend"
            if deployment.sign_message_lib is not None:
                named[deployment.sign_message_lib] = f"Safe {deployment.version} SignMessageLib"
        for entry in self.labels:
            if entry.chain_id in (None, chain_id):
                named[entry.address] = entry.label
        return named

    def lookalike_of(self, chain_id: int, address: Address) -> tuple[Address, str] | None:
        """A known address that ``address`` imitates: same first and last hex characters.

        Address poisoning plants addresses whose ends match one the victim uses; a person
        checking only the ends is fooled. An exact match is not a lookalike.
        """
        target = address.raw.hex()
        for known, name in self.known_addresses(chain_id).items():
            if known == address:
                continue
            other = known.raw.hex()
            if (
                other[:LOOKALIKE_PREFIX] == target[:LOOKALIKE_PREFIX]
                and other[-LOOKALIKE_SUFFIX:] == target[-LOOKALIKE_SUFFIX:]
            ):
                return known, name
        return None
