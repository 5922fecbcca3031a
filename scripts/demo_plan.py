"""The demo's fixed scenario: the destinations, the withdrawal rows, and the signer's policy
and registry and the watcher's configuration they imply (see docs/demo.md)."""

from __future__ import annotations

from demo_chain import CHAIN_ID, Anvil
from demo_summary import NATIVE, DemoError

from shared.address import address_from_bytes
from shared.keccak import keccak256

SYMBOL = "TKN"
# A receipt this deep confirms a withdrawal (anvil mines a block a second in the demo).
CONFIRMATIONS = 2
MAX_ROWS = 10
# The policy's limits (whole units: per transaction, per rolling 24 hours) and fee caps.
ETH_LIMITS = ("25", "100")
TOKEN_LIMITS = ("50000", "150000")
MAX_FEE_PER_GAS_GWEI = "50"
MAX_TOTAL_FEE_ETH = "0.01"

# The allowlisted destinations (policy label, assets) and the one outsider.
HOT_A = "Hot wallet A"
HOT_B = "Hot wallet B (gas float)"
DESK = "Market-maker desk"
TREASURY = "Treasury ops"
OUTSIDER = "unknown customer (not in the policy)"
DESTINATIONS: dict[str, tuple[str, ...]] = {
    HOT_A: (NATIVE, SYMBOL),
    HOT_B: (NATIVE,),
    DESK: (SYMBOL,),
    TREASURY: (NATIVE, SYMBOL),
}
# (label, asset, amount, memo): what an exchange's cold account pays out in one sitting.
ALLOWED_ROWS = (
    (HOT_A, "ETH", "12.5", "morning refill"),
    (HOT_A, SYMBOL, "25000", "morning refill"),
    (HOT_B, "ETH", "3.75", "gas float top-up"),
    (DESK, SYMBOL, "48000.5", "inventory rebalance"),
    (TREASURY, "ETH", "0.8", "ops budget"),
    (TREASURY, SYMBOL, "1250.25", "ops budget"),
    (HOT_A, "ETH", "20", "afternoon refill"),
    (DESK, SYMBOL, "9999.99", "inventory rebalance"),
    (HOT_B, "ETH", "1.05", "gas float top-up"),
)
OUTSIDER_ROW = (OUTSIDER, "ETH", "7.5", "customer payout to an address nobody allowlisted")


def demo_address(label: str) -> str:
    """A fresh, empty address for ``label`` (no one holds its key): keccak256 of the label."""
    digest = keccak256(f"coldsign demo: {label}".encode())
    return address_from_bytes(digest[12:], field=label).checksummed()


def policy_text(addresses: dict[str, str], token: str) -> str:
    """An exchange hot-wallet refill policy (docs/policy.md's example, on the local chain)."""
    lines = [
        "# The demo's signing policy: a cold reserve refilling hot wallets (docs/policy.md).",
        "[policy]",
        'name = "Demo cold reserve: hot-wallet refills"',
        "version = 1",
        "",
        "[[chain]]",
        f"id = {CHAIN_ID}",
        'label = "Anvil (local)"',
        f'max_fee_per_gas_gwei = "{MAX_FEE_PER_GAS_GWEI}"',
        f'max_total_fee_native = "{MAX_TOTAL_FEE_ETH}"',
        "",
        "[[account]]",
        "path = \"m/44'/60'/0'/0/0\"",
        'label = "cold reserve"',
        "",
    ]
    for label, assets in DESTINATIONS.items():
        names = ", ".join('"native"' if a == NATIVE else f'"{token}"' for a in assets)
        lines += [
            "[[destination]]",
            f"chain = {CHAIN_ID}",
            f'address = "{addresses[label]}"',
            f"assets = [{names}]",
            f'label = "{label}"',
            "",
        ]
    lines += [
        "[[limit]]",
        f"chain = {CHAIN_ID}",
        'asset = "native"',
        f'per_tx = "{ETH_LIMITS[0]}"',
        f'per_24h = "{ETH_LIMITS[1]}"',
        "",
        "[[limit]]",
        f"chain = {CHAIN_ID}",
        f'asset = "{token}"',
        "decimals = 18",
        f'label = "{SYMBOL}"',
        f'per_tx = "{TOKEN_LIMITS[0]}"',
        f'per_24h = "{TOKEN_LIMITS[1]}"',
    ]
    return "\n".join(lines) + "\n"


def registry_text(addresses: dict[str, str], token: str) -> str:
    """The signer's registry: the local chain, the test token and the address book."""
    lines = [
        "[[chain]]",
        f"id = {CHAIN_ID}",
        'name = "Anvil (local)"',
        'symbol = "ETH"',
        "",
        "[[token]]",
        f"chain = {CHAIN_ID}",
        f'address = "{token}"',
        f'symbol = "{SYMBOL}"',
        "decimals = 18",
        'name = "Test Token"',
        "",
    ]
    for label in DESTINATIONS:
        lines += ["[[label]]", f'address = "{addresses[label]}"', f'label = "{label}"', ""]
    return "\n".join(lines)


def watcher_text(node: Anvil, token: str) -> str:
    """The watcher's configuration: the local node, confirmations, the token."""
    return "\n".join(
        [
            "[chains.anvil]",
            f"chain_id = {CHAIN_ID}",
            f'rpc = "{node.url}"',
            'native_symbol = "ETH"',
            f"confirmations = {CONFIRMATIONS}",
            "",
            "[[tokens]]",
            'chain = "anvil"',
            f'address = "{token}"',
            f'symbol = "{SYMBOL}"',
            "",
        ]
    )


def withdrawal_rows(rows: int) -> list[tuple[str, str, str, str, str]]:
    """(id, label, asset, amount, memo): ``rows - 1`` allowed, then the outsider, last, so
    that its unused nonce leaves no paid transaction waiting behind it."""
    if not 2 <= rows <= MAX_ROWS:
        raise DemoError(f"rows must be 2..{MAX_ROWS}, got {rows}")
    chosen = [*ALLOWED_ROWS[: rows - 1], OUTSIDER_ROW]
    return [
        (f"wd-{n:03d}", label, asset, amount, memo)
        for n, (label, asset, amount, memo) in enumerate(chosen, start=1)
    ]
