"""Safe withdrawal intake: the watcher's CSV / JSON Lines format, paid from a Safe.

Same columns and rules as ``coldsign-watcher intake`` (``id, chain, asset, destination,
amount[, memo]``; decimal amounts converted exactly with the token's ``decimals()``; an id
already stored with the same fields is skipped, with other fields refused; the first bad
row refuses the whole file). The chain must be the Safe's chain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.address import Address, parse_address
from shared.errors import AddressError
from watcher import erc20
from watcher.config import ChainConfig, WatcherConfig
from watcher.errors import RPCError
from watcher.intake import NATIVE, Row, parse_amount
from watcher.rpc import Node
from watcher.safe.config import SafeConfig
from watcher.safe.errors import SafeIntakeError
from watcher.safe.store import SafeStore, SafeWithdrawal
from watcher.state import addr_text

# The watcher's id rule (watcher/intake.py): 1 to 128 characters, starting alphanumeric.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}")
_MAX_MEMO = 256


@dataclass(frozen=True, slots=True)
class SafeIntakeResult:
    """Withdrawals added and identical ones skipped."""

    added: tuple[str, ...]
    skipped: tuple[str, ...]


class SafeIntake:
    """Checks rows against the Safe's chain and the configured tokens, then stores them."""

    def __init__(self, config: WatcherConfig, store: SafeStore, node: Node) -> None:
        self._config = config
        self._store = store
        self._node = node

    def run(self, rows: Sequence[Row], safe: SafeConfig) -> SafeIntakeResult:
        """Validate every row, then store the new ones in one transaction (or none)."""
        chain = self._config.chain_by_id(safe.chain_id)
        decimals: dict[str, int] = {}
        fresh: list[SafeWithdrawal] = []
        skipped: list[str] = []
        seen: set[str] = set()
        for row in rows:
            withdrawal = self._row(row, safe, chain, decimals)
            if withdrawal.id in seen:
                raise SafeIntakeError(f"duplicate id {withdrawal.id!r}", line=row.line, field="id")
            seen.add(withdrawal.id)
            stored = self._store.withdrawal(withdrawal.id)
            if stored is None:
                fresh.append(withdrawal)
            elif _same(stored, withdrawal):
                skipped.append(withdrawal.id)
            else:
                raise SafeIntakeError(
                    f"duplicate id {withdrawal.id!r}: already stored with other fields",
                    line=row.line,
                    field="id",
                )
        with self._store.transaction():
            self._store.insert_withdrawals(fresh)
        return SafeIntakeResult(tuple(w.id for w in fresh), tuple(skipped))

    def _row(
        self, row: Row, safe: SafeConfig, chain: ChainConfig, decimals: dict[str, int]
    ) -> SafeWithdrawal:
        line, fields = row.line, row.fields
        withdrawal_id = fields["id"].strip()
        if _ID.fullmatch(withdrawal_id) is None:
            raise SafeIntakeError("not a valid withdrawal id", line=line, field="id")
        if self._config.chain(fields["chain"].strip()) != chain:
            raise SafeIntakeError(
                f"safe {safe.name} is on chain {chain.name}", line=line, field="chain"
            )
        asset, places = self._asset(chain, fields["asset"].strip(), line, decimals)
        try:
            destination = parse_address(fields["destination"].strip(), field="destination")
        except AddressError as exc:
            raise SafeIntakeError(exc.reason, line=line, field="destination") from exc
        if destination.raw == bytes(20) or destination == safe.address:
            raise SafeIntakeError(
                "the zero address or the Safe itself cannot be paid", line=line, field="destination"
            )
        amount_text = fields["amount"].strip()
        try:
            amount = parse_amount(amount_text, places)
        except ValueError as exc:
            raise SafeIntakeError(str(exc), line=line, field="amount") from exc
        memo = fields.get("memo", "").strip()
        if len(memo) > _MAX_MEMO or not memo.isprintable():
            raise SafeIntakeError(
                f"at most {_MAX_MEMO} printable characters", line=line, field="memo"
            )
        return SafeWithdrawal(
            withdrawal_id,
            safe.address,
            safe.chain_id,
            asset,
            destination,
            amount,
            amount_text,
            memo,
        )

    def _asset(
        self, chain: ChainConfig, text: str, line: int, decimals: dict[str, int]
    ) -> tuple[str, int]:
        if text == chain.native_symbol or text.lower() == NATIVE:
            return NATIVE, chain.native_decimals
        for token in self._config.tokens_on(chain):
            if token.symbol == text or addr_text(token.address) == text.lower():
                key = addr_text(token.address)
                if key not in decimals:
                    try:
                        decimals[key] = erc20.decimals(self._node, token.address)
                    except RPCError as exc:
                        raise SafeIntakeError(
                            f"cannot read decimals() of {token.address}: {exc}",
                            line=line,
                            field="asset",
                        ) from exc
                return key, decimals[key]
        raise SafeIntakeError(
            f"unknown asset {text!r} on chain {chain.name}", line=line, field="asset"
        )


def _same(stored: SafeWithdrawal, new: SafeWithdrawal) -> bool:
    return (stored.safe, stored.asset, stored.destination, stored.amount, stored.memo) == (
        new.safe,
        new.asset,
        new.destination,
        new.amount,
        new.memo,
    )


def token_address(asset: str) -> Address:
    """The token contract of a non-native asset key."""
    return Address(bytes.fromhex(asset[2:]))
