"""The review screen: every destination, amount, fee and warning, and the policy's verdict.

For a batch: a table with one row per payment (items that pay nothing get one row), the
per-asset totals and fee caps, the batch's warnings, and the highlighted item's verdict
with its deciding rules; Enter opens an item in full. For a single request: the item in
full. ``y`` approves (asking for each needed confirmation first), ``n`` rejects.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from shared.review.draft import asset_key
from shared.review.model import Asset, AssetTotal
from signer.core import PreparedItem, PreparedRequest
from signer.policy.model import Policy
from signer.policy.verdict import Decision
from signer.tui.screens.confirm import ConfirmScreen
from signer.tui.screens.item import ItemScreen
from signer.tui.untrusted import untrusted
from signer.tui.widgets.address import address_text
from signer.tui.widgets.detail import ReviewDetail, asset_amount, destination_label
from signer.tui.widgets.verdict import item_decision, item_verdict_text, verdict_badge
from signer.tui.widgets.warnings import grouped_warnings_text

# Columns besides destination and amount: number (3), verdict (9), cell padding (2 x 4)
# and the scroll bar (2).
FIXED_COLUMNS = 22
# The whole grouped address is 51 columns; below that it wraps between groups, 5 per line.
ADDRESS_WIDTH = 51
HALF_ADDRESS_WIDTH = 26
MIN_AMOUNT_WIDTH = 24


def counts_text(prepared: PreparedRequest) -> Text:
    """``Batch of 12 requests: 10 to sign, 1 to confirm, 1 refused``."""
    decisions = [item_decision(item) for item in prepared.items]
    text = Text(
        f"Batch of {len(decisions)} requests: " if prepared.decoded.batch else "One request: ",
        style="bold",
    )
    parts = [
        (Decision.SIGN, "to sign", "bold green"),
        (Decision.NEEDS_CONFIRMATION, "to confirm", "bold yellow"),
        (Decision.REFUSE, "refused", "bold red"),
    ]
    shown = [(decisions.count(d), word, style) for d, word, style in parts if d in decisions]
    for position, (count, word, style) in enumerate(shown):
        if position:
            text.append(", ")
        text.append(f"{count} {word}", style=style)
    return text


def signable_totals(prepared: PreparedRequest) -> list[AssetTotal]:
    """Per asset, what the items that can be signed pay (refused items left out)."""
    sums: dict[Asset, tuple[int, int]] = {}
    for item in prepared.items:
        if not item.signable or item.review is None:
            continue
        for payment in item.review.payments:
            amount, count = sums.get(payment.asset, (0, 0))
            sums[payment.asset] = (amount + payment.amount, count + 1)
    # Assets have no order of their own: sorted as the review's totals are (chain, native first).
    ordered = sorted(sums.items(), key=lambda entry: asset_key(entry[0]))
    return [AssetTotal(asset, amount, count) for asset, (amount, count) in ordered]


def batch_summary(prepared: PreparedRequest) -> Text:
    """Counts by verdict, totals per asset, fee caps and the batch's warnings by code.

    When some items are refused, the totals of what would be signed come first: the
    request's own totals include payments that will not be made.
    """
    text = counts_text(prepared)
    batch = prepared.batch_review
    if batch is None:
        return text
    partial = any(not item.signable for item in prepared.items)
    if partial:
        for total in signable_totals(prepared):
            text.append("\nWould sign ", style="bold")
            text.append_text(asset_amount(total.asset, total.amount))
            text.append(f" in {total.count} payment(s)", style="dim")
    for total in batch.totals:
        text.append("\nRequested " if partial else "\nTotal ", style="bold")
        text.append_text(asset_amount(total.asset, total.amount))
        text.append(f" in {total.count} payment(s)", style="dim")
    for cap in batch.fee_caps:
        text.append("\nFees at most ", style="bold")
        text.append_text(asset_amount(cap.asset, cap.amount))
        text.append(f" for {cap.count} transaction(s)", style="dim")
    text.append("\n")
    text.append_text(grouped_warnings_text(batch.warnings))
    return text


def item_rows(item: PreparedItem, policy: Policy) -> list[tuple[Text, Text, Text, Text]]:
    """The table rows of one item: (number, destination, amount, verdict)."""
    number = Text.assemble((str(item.number), "bold"))
    badge = verdict_badge(item_decision(item))
    review = item.review
    if review is None:
        return [(number, Text("could not be decoded", style="bold red"), Text(""), badge)]
    if not review.payments:
        return [(number, untrusted(review.title), Text("pays nothing", style="dim"), badge)]
    return [
        (
            number,
            address_text(payment.destination, destination_label(policy, review.chain_id, payment)),
            asset_amount(payment.asset, payment.amount),
            badge,
        )
        for payment in review.payments
    ]


class ReviewScreen(Screen[None]):
    """Shows a prepared request; posts :class:`Approved` (with acknowledgements) or
    :class:`Rejected`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "approve", "Approve and sign"),
        Binding("n", "reject", "Reject"),
        Binding("escape", "reject", "Back", show=False),
        Binding("f1", "app.help", "Help"),
    ]

    class Approved(Message):
        """Sign what the policy allows; ``acknowledgements`` maps item numbers to typed text."""

        def __init__(self, prepared: PreparedRequest, acknowledgements: dict[int, str]) -> None:
            super().__init__()
            self.prepared = prepared
            self.acknowledgements = acknowledgements

    class Rejected(Message):
        """The person declined the whole request."""

        def __init__(self, prepared: PreparedRequest) -> None:
            super().__init__()
            self.prepared = prepared

    def __init__(self, prepared: PreparedRequest) -> None:
        super().__init__()
        self.prepared = prepared
        self._pending: list[PreparedItem] = []
        self._acks: dict[int, str] = {}

    @property
    def signable(self) -> tuple[PreparedItem, ...]:
        """The items that can be signed (after confirmation where it is needed)."""
        return tuple(item for item in self.prepared.items if item.signable)

    def compose(self) -> ComposeResult:
        yield Header()
        if self.prepared.decoded.batch:
            yield Static(batch_summary(self.prepared), id="review-summary")
            table: DataTable[Text] = DataTable(id="review-table", cursor_type="row")
            yield table
            yield Static("", id="review-verdict")
        else:
            yield Static(counts_text(self.prepared), id="review-summary")
            with VerticalScroll(id="review-body"):
                yield ReviewDetail(self.prepared.items[0], self.prepared.policy, id="review-detail")
        yield Static(self._action_hint(), id="review-hint")
        yield Footer()

    def on_mount(self) -> None:
        if self.prepared.decoded.batch:
            self._fill_table()

    def _fill_table(self) -> None:
        table: DataTable[Text] = self.query_one("#review-table", DataTable)
        room = self.app.size.width - FIXED_COLUMNS
        wide = room >= ADDRESS_WIDTH + MIN_AMOUNT_WIDTH
        destination_width = ADDRESS_WIDTH if wide else HALF_ADDRESS_WIDTH
        table.add_column("#", width=3)
        table.add_column("Destination", width=destination_width)
        table.add_column("Amount", width=max(MIN_AMOUNT_WIDTH, room - destination_width))
        table.add_column("Verdict", width=9)
        height = 2 if wide else 3
        for item in self.prepared.items:
            for position, row in enumerate(item_rows(item, self.prepared.policy)):
                table.add_row(*row, height=height, key=f"{item.index}:{position}")
        self._show_item(self.prepared.items[0])

    def _action_hint(self) -> Text:
        signable = len(self.signable)
        total = len(self.prepared.items)
        if not signable:
            return Text(
                "Nothing here can be signed. Press n to record the refusal and return.",
                style="bold red",
            )
        text = Text.assemble(("Press y to sign ", "bold"))
        text.append(f"{signable} of {total} item(s)")
        if signable < total:
            text.append(f"; the {total - signable} refused will not be signed", style="red")
        text.append(". Press n to reject everything.")
        return text

    def _item_at(self, key: str | None) -> PreparedItem | None:
        if key is None:
            return None
        return self.prepared.items[int(key.split(":", 1)[0])]

    def _show_item(self, item: PreparedItem) -> None:
        text = Text.assemble((f"Item {item.number}  ", "bold"))
        if item.review is not None:
            text.append_text(untrusted(item.review.title))
        text.append("\n")
        text.append_text(item_verdict_text(item))
        self.query_one("#review-verdict", Static).update(text)

    @on(DataTable.RowHighlighted, "#review-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Show the highlighted item's verdict and deciding rules under the table."""
        item = self._item_at(event.row_key.value)
        if item is not None:
            self._show_item(item)

    @on(DataTable.RowSelected, "#review-table")
    def selected(self, event: DataTable.RowSelected) -> None:
        """Open the item in full."""
        item = self._item_at(event.row_key.value)
        if item is not None:
            self.app.push_screen(ItemScreen(item, len(self.prepared.items), self.prepared.policy))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "approve":
            return bool(self.signable)
        return True

    def action_approve(self) -> None:
        """Ask for each needed confirmation in turn, then post :class:`Approved`."""
        self._acks = {}
        self._pending = [item for item in self.signable if item.verdict.confirmation is not None]
        self._confirm_next()

    def _confirm_next(self) -> None:
        if not self._pending:
            self.post_message(self.Approved(self.prepared, dict(self._acks)))
            return
        item = self._pending[0]
        confirmation = item.verdict.confirmation
        if confirmation is None:
            self._pending.pop(0)
            self._confirm_next()
            return
        self.app.push_screen(
            ConfirmScreen(item, confirmation, len(self.prepared.items)), self._confirmed
        )

    def _confirmed(self, typed: str | None) -> None:
        item = self._pending.pop(0)
        if typed is not None:
            self._acks[item.number] = typed
        self._confirm_next()

    def action_reject(self) -> None:
        self.post_message(self.Rejected(self.prepared))
