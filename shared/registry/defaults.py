"""The small registry set coldsign ships: well-known chains, tokens and Safe deployments.

Operators extend or override it with their own registry file (see docs/registry.md). Sources:
chain ids from each chain's EIP-155 registration (chainlist / ethereum-lists/chains); token
contracts from the issuers' published addresses; Safe addresses from
safe-global/safe-deployments ``src/assets/v1.3.0`` and ``v1.4.1`` (canonical and eip155
deployments); Permit2's address from Uniswap/permit2 (deployed at the same address on
every chain with CREATE2).
"""

from __future__ import annotations

from shared.address import Address
from shared.messages.schemas import PERMIT2_ADDRESS
from shared.registry.model import AddressLabel, Chain, Registries, SafeDeployment, Token


def _a(text: str) -> Address:
    return Address(bytes.fromhex(text.removeprefix("0x")))


CHAINS = (
    Chain(1, "Ethereum", "ETH"),
    Chain(10, "OP Mainnet", "ETH"),
    Chain(56, "BNB Smart Chain", "BNB"),
    Chain(100, "Gnosis", "xDAI"),
    Chain(137, "Polygon PoS", "POL"),
    Chain(8453, "Base", "ETH"),
    Chain(42161, "Arbitrum One", "ETH"),
    Chain(17000, "Holesky", "ETH"),
    Chain(11155111, "Sepolia", "ETH"),
    # anvil's default chain id: the local development chain of the demo and the tests.
    Chain(31337, "Anvil (local)", "ETH"),
)

TOKENS = (
    Token(1, _a("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), "USDC", 6, "USD Coin"),
    Token(1, _a("0xdAC17F958D2ee523a2206206994597C13D831ec7"), "USDT", 6, "Tether USD"),
    Token(1, _a("0x6B175474E89094C44Da98b954EedeAC495271d0F"), "DAI", 18, "Dai Stablecoin"),
    Token(1, _a("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"), "WETH", 18, "Wrapped Ether"),
    Token(1, _a("0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"), "WBTC", 8, "Wrapped BTC"),
)

_V130_CANONICAL = {
    "multisend": _a("0xA238CBeb142c10Ef7Ad8442C6D1f9E89e07e7761"),
    "multisend_call_only": _a("0x40A2aCCbd92BCA938b02010E17A5b8929b49130D"),
    "sign_message_lib": _a("0xA65387F16B013cf2Af4605Ad8aA5ec25a2cbA3a2"),
}
_V130_EIP155 = {
    "multisend": _a("0x998739BFdAAdde7C933B942a68053933098f9EDa"),
    "multisend_call_only": _a("0xA1dabEF33b3B82c7814B6D82A79e50F4AC44102B"),
    "sign_message_lib": _a("0x98FFBBF51bb33A056B08ddf711f289936AafF717"),
}
_V141 = {
    "multisend": _a("0x38869bf66a61cF6bDB996A6aE40D5853Fd43B526"),
    "multisend_call_only": _a("0x9641d764fc13c8B624c04430C7356C1C7C8102e2"),
    "sign_message_lib": _a("0xd53cd0aB83D845Ac265BE939c57F53AD838012c9"),
}


def _safe_deployments() -> tuple[SafeDeployment, ...]:
    deployments: list[SafeDeployment] = []
    for chain in CHAINS:
        for version, addresses in (
            ("1.3.0", _V130_CANONICAL),
            ("1.3.0", _V130_EIP155),
            ("1.4.1", _V141),
        ):
            deployments.append(
                SafeDeployment(chain_id=chain.chain_id, version=version, **addresses)
            )
    return tuple(deployments)


SAFE_DEPLOYMENTS = _safe_deployments()


# Contracts known on every chain (chain_id None): named so reviews show what they are.
LABELS = (AddressLabel(PERMIT2_ADDRESS, "Uniswap Permit2"),)


def default_registries() -> Registries:
    """The registries coldsign ships, before the operator's own file is merged in."""
    return Registries.build(
        chains=CHAINS, tokens=TOKENS, safe_deployments=SAFE_DEPLOYMENTS, labels=LABELS
    )
