"""Asset amounts as text: integer base units to exact decimal strings with the registry's decimals.

No floats anywhere: a float cannot hold 2**256 - 1 or even 0.1 exactly, and a reviewer
must see the exact amount signed. Unknown tokens are shown in base units.
"""

from __future__ import annotations

from shared.address import Address
from shared.registry import Registries
from shared.review.model import Asset

# Allowances at or above this are "unlimited" whatever the type's maximum: no token has a
# supply near 2**255, so such an amount only means "everything, for ever".
UNLIMITED_FROM = 1 << 255
_GWEI_DECIMALS = 9
UNKNOWN_SYMBOL = "?"


def group_thousands(digits: str) -> str:
    """``1234567`` as ``1,234,567`` (digits only, no sign)."""
    head = len(digits) % 3 or 3
    groups = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return ",".join(groups)


def decimal_text(amount: int, decimals: int) -> str:
    """``amount`` base units with ``decimals`` decimals, exactly: ``1500000, 6`` gives ``1.5``.

    The integer part is grouped in thousands; trailing zeros of the fraction are dropped
    (the value is unchanged), and a whole number has no decimal point.
    """
    if amount < 0 or decimals < 0:
        raise ValueError("amounts and decimals are never negative")
    whole, fraction = divmod(amount, 10**decimals)
    # The "," format option groups a non-negative integer's digits in threes exactly as
    # group_thousands does (PEP 378), without splitting the string in Python.
    if not fraction:
        return f"{whole:,}"
    return f"{whole:,}." + str(fraction).rjust(decimals, "0").rstrip("0")


def native_asset(registries: Registries, chain_id: int | None) -> Asset:
    """The native coin of ``chain_id``, with the registry's symbol and decimals when known."""
    chain = None if chain_id is None else registries.chain(chain_id)
    if chain is None:
        return Asset(chain_id, None, UNKNOWN_SYMBOL, None, False)
    return Asset(chain_id, None, chain.native_symbol, chain.native_decimals, True)


def token_asset(registries: Registries, chain_id: int | None, token: Address) -> Asset:
    """The ERC-20 token at ``token`` on ``chain_id``; unknown (no decimals) when not registered.

    Without a chain no token is known: the same address is another contract on each chain.
    """
    known = None if chain_id is None else registries.token(chain_id, token)
    if known is None:
        return Asset(chain_id, token, UNKNOWN_SYMBOL, None, False)
    return Asset(chain_id, token, known.symbol, known.decimals, True)


def amount_text(asset: Asset, amount: int) -> str:
    """``amount`` of ``asset`` for display: ``1,250.5 USDC``, or base units when unknown."""
    if asset.decimals is None:
        units = "wei" if asset.token is None else "base units"
        if asset.token is not None:
            where = "unknown token"
        elif asset.chain_id is None:
            where = "native coin of whichever chain the signature is used on"
        else:
            where = f"native coin of unknown chain {asset.chain_id}"
        return f"{group_thousands(str(amount))} {units} ({where})"
    return f"{decimal_text(amount, asset.decimals)} {asset.symbol}"


def gwei_text(wei: int) -> str:
    """A per-gas price in gwei (10**9 wei), exactly: ``1500000000`` gives ``1.5 gwei``."""
    return f"{decimal_text(wei, _GWEI_DECIMALS)} gwei"


def is_unlimited(amount: int, bits: int = 256) -> bool:
    """True for an allowance of the type's maximum or of at least 2**255."""
    return amount >= UNLIMITED_FROM or amount == (1 << bits) - 1


def allowance_text(asset: Asset, amount: int, bits: int = 256) -> str:
    """An allowance for display: ``unlimited`` (with the number) or the amount."""
    if is_unlimited(amount, bits):
        return f"UNLIMITED ({group_thousands(str(amount))} base units)"
    return amount_text(asset, amount)
