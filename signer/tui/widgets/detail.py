"""Everything in one review: fields with their provenance, payments, totals and warnings."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from shared.review.amounts import amount_text
from shared.review.model import Asset, AssetTotal, Payment, Review, ReviewField, Source
from signer.core import PreparedItem
from signer.policy.model import Policy
from signer.tui.untrusted import untrusted
from signer.tui.widgets.address import address_text
from signer.tui.widgets.verdict import item_verdict_text
from signer.tui.widgets.warnings import warnings_text

# How each provenance is marked; "request, unverified" stands out on purpose.
SOURCE_STYLE: dict[Source, str] = {
    Source.DECODED: "green",
    Source.COMPUTED: "cyan",
    Source.REGISTRY: "blue",
    Source.ADDRESS_BOOK: "magenta",
    Source.REQUEST: "bold black on yellow",
}
LABEL_WIDTH = 22


def source_tag(source: Source) -> Text:
    """``[decoded]``, ``[request, unverified]``… in the source's colour."""
    return Text(f"[{source}]", style=SOURCE_STYLE[source])


def asset_amount(asset: Asset, amount: int) -> Text:
    """``1,250.5 USDC``; an unknown token also names its contract, whole."""
    text = untrusted(amount_text(asset, amount), style="bold")
    if not asset.known and asset.token is not None:
        text.append(" of token ")
        text.append(asset.token.grouped(), style="yellow")
    return text


def field_line(field: ReviewField) -> Text:
    """``label    value [source]`` and, under it, ``= note [source]`` when there is a note."""
    text = untrusted(field.label.ljust(LABEL_WIDTH), style="bold")
    text.append(" ")
    text.append_text(untrusted(field.value))
    text.append(" ")
    text.append_text(source_tag(field.source))
    if field.note:
        text.append("\n" + " " * (LABEL_WIDTH + 1) + "= ")
        text.append_text(untrusted(field.note))
        if field.note_source is not None:
            text.append(" ")
            text.append_text(source_tag(field.note_source))
    return text


def destination_label(policy: Policy, chain_id: int | None, payment: Payment) -> str | None:
    """The address book's label, else the policy's name for an allowed destination."""
    if payment.label:
        return payment.label
    if payment.destination is None or chain_id is None:
        return None
    rule = policy.destination(chain_id, payment.destination)
    return f"{rule.label} (policy)" if rule is not None and rule.label else None


def payment_text(number: int, payment: Payment, label: str | None) -> Text:
    """A numbered payment: amount, destination (label and whole address), and what pays it."""
    text = Text.assemble((f"{number:>3}. ", "bold"))
    text.append_text(asset_amount(payment.asset, payment.amount))
    text.append("\n     to ")
    text.append_text(address_text(payment.destination, label, one_line=True))
    text.append("\n     by ", style="dim")
    text.append_text(untrusted(payment.path, style="dim"))
    if payment.sender is not None:
        text.append(", paid by ", style="dim")
        text.append(payment.sender.grouped(), style="dim")
    return text


def totals_text(totals: tuple[AssetTotal, ...], noun: str) -> Text:
    """One line per asset: its total and how many amounts it sums."""
    lines = []
    for total in totals:
        line = Text("  ")
        line.append_text(asset_amount(total.asset, total.amount))
        line.append(f"  ({total.count} {noun}{'' if total.count == 1 else 's'})", style="dim")
        lines.append(line)
    return Text("\n").join(lines)


def review_text(review: Review, verdict: Text | None, policy: Policy) -> Text:
    """The whole review, sections in the order a person should read them."""
    parts: list[Text] = []
    title = untrusted(review.title, style="bold underline")
    parts.append(title)
    if verdict is not None:
        parts.append(verdict)
    parts.append(Text("Warnings", style="bold"))
    parts.append(warnings_text(review.warnings))
    if review.payments:
        parts.append(Text(f"\nPayments ({len(review.payments)})", style="bold"))
        parts.extend(
            payment_text(n, p, destination_label(policy, review.chain_id, p))
            for n, p in enumerate(review.payments, start=1)
        )
    if review.totals:
        parts.append(Text("\nTotals", style="bold"))
        parts.append(totals_text(review.totals, "payment"))
    section: str | None = None
    for field in review.fields:
        if field.section != section:
            section = field.section
            name = section or "details"
            heading = Text("\n")
            heading.append_text(untrusted(name[:1].upper() + name[1:], style="bold"))
            parts.append(heading)
        parts.append(field_line(field))
    return Text("\n").join(parts)


def item_text(item: PreparedItem, policy: Policy) -> Text:
    """One prepared item: its review with its verdict, or why it could not be reviewed."""
    verdict = item_verdict_text(item)
    if item.review is not None:
        return review_text(item.review, verdict, policy)
    text = Text.assemble((f"Request {item.number} could not be decoded\n", "bold underline"))
    text.append_text(verdict)
    if item.decode_error is not None:
        text.append("\n\nWhat was wrong: ", style="bold")
        text.append_text(untrusted(str(item.decode_error)))
    return text


class ReviewDetail(Static):
    """One prepared item in full: verdict, warnings, payments, totals, every field."""

    def __init__(self, item: PreparedItem, policy: Policy, *, id: str | None = None) -> None:
        super().__init__(item_text(item, policy), id=id, markup=False)
