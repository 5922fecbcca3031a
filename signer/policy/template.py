"""The default-deny policy that `coldsign-signer policy new` writes, every table commented."""

from __future__ import annotations

from signer.errors import PolicyFileError
from signer.policy.parse import MAX_LABEL

# Only [policy] is live: with no [[chain]] nothing can be signed. Every other table is a
# commented example of its keys, so an operator enables exactly what they uncomment.
_TEMPLATE = """\
# coldsign signer policy. Reference: docs/policy.md.
#
# Default deny: the signer signs only what a rule below allows, and any refusal wins.
# The SHA-256 of this file's exact bytes is the policy hash shown on the home screen and
# recorded with every signature: any edit, even of a comment, changes it.
#
# Amounts are decimal strings in whole units ("10.5"), never bare numbers or floats.
# Addresses are written in EIP-55 checksummed form. "native" names a chain's own coin.

[policy]
name = "{name}"
version = 1

# --- Chains requests may be for, with fee caps for transactions on them -------------------
# [[chain]]
# id = 1
# label = "Ethereum"
# max_fee_per_gas_gwei = "150"     # refuse a transaction whose max fee per gas is higher
# max_total_fee_native = "0.05"    # refuse a transaction that could cost more in fees

# --- Accounts (derivation paths) allowed to sign ------------------------------------------
# [[account]]
# path = "m/44'/60'/0'/0/0"
# label = "cold wallet"

# --- Destination allowlist: who may receive which asset -----------------------------------
# [[destination]]
# chain = 1
# address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
# assets = ["native", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"]
# label = "Hot wallet"

# --- Limits per asset: per transaction and over any rolling 24 hours ----------------------
# [[limit]]
# chain = 1
# asset = "native"
# per_tx = "10"
# per_24h = "50"
#
# [[limit]]
# chain = 1
# asset = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
# decimals = 6                     # a token limit states its decimals
# label = "USDC"
# per_tx = "100000"
# per_24h = "500000"

# --- Contract calls, by contract and 4-byte selector --------------------------------------
# [[call]]
# chain = 1
# to = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
# selector = "0xd0e30db0"
# label = "WETH deposit()"

# --- Token approvals, permits, Permit2 and setApprovalForAll, by token and spender -------
# [[approval]]
# chain = 1
# token = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
# spender = "0x000000000022D473030F116dDEE9F6B43aC78BA3"
# via = ["approve"]                # approve, permit, permit2, set-approval-for-all
# decimals = 6
# max_amount = "1000"              # or allow_unlimited = true
# label = "Permit2"

# --- EIP-712 messages, by verifying contract and primary type -----------------------------
# [[typed_data]]
# chain = 1
# verifying_contract = "0x00000000000000ADc04C56Bf30aC9d3c0aAF14dC"
# primary_type = "OrderComponents"
# label = "Seaport order"

# --- personal_sign messages, by the text they start with ----------------------------------
# [[personal_message]]
# prefix = "Sign in to example.com"
# label = "example.com login"

# --- MultiSendCallOnly contracts a Safe may delegatecall ----------------------------------
# [[multisend_call_only]]
# chain = 1
# address = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2"
# label = "Safe 1.4.1 MultiSendCallOnly"

# --- Safes this device is an owner of ------------------------------------------------------
# [[safe]]
# chain = 1
# address = "0x..."
# label = "Treasury"
# profile = "owner"                # payouts only; "governance" also signs admin_functions
# allow_gas_refund = false
# allow_pre_1_3 = false
# allow_messages = false

# --- Operator keys: every request must carry an attestation by one of them ----------------
# [[operator]]
# address = "0x..."                # or public_key = "0x02..."
# label = "operations laptop"
"""


def policy_template(name: str = "coldsign policy") -> str:
    """The text of a new default-deny policy called ``name`` (it parses; it allows nothing)."""
    if (
        not name.strip()
        or len(name) > MAX_LABEL
        or not name.isprintable()
        or '"' in name
        or "\\" in name
    ):
        raise PolicyFileError(
            f"a policy name is 1 to {MAX_LABEL} printable characters without quotes or backslashes"
        )
    return _TEMPLATE.format(name=name)
