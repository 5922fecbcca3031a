"""A whole EIP-55 address in groups of four, with the signer's own label for it."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from shared.address import Address
from signer.tui.untrusted import untrusted

UNLABELLED = "not in the address book"


def address_text(address: Address | None, label: str | None, *, one_line: bool = False) -> Text:
    """The label (or a dim "not in the address book") and the grouped address.

    The address is never shortened: a person compares all of it, and poisoning attacks copy
    exactly the characters a shortened form shows. Groups are separated by spaces so a
    narrow column wraps between groups, never inside one. ``None`` is a contract creation.
    """
    if address is None:
        return Text("new contract (creation)", style="bold")
    text = Text()
    if label:
        text.append_text(untrusted(label, style="bold"))
    else:
        text.append(UNLABELLED, style="dim italic")
    text.append(" " if one_line else "\n")
    text.append(address.grouped(), style="bold cyan" if label else "bold yellow")
    return text


class AddressView(Static):
    """One address with its label, shown whole (attributes down: set :attr:`address`)."""

    def __init__(
        self,
        address: Address | None,
        label: str | None = None,
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(address_text(address, label), id=id, classes=classes, markup=False)
        self.address = address
        self.label_text = label

    def show(self, address: Address | None, label: str | None) -> None:
        """Replace the address and label shown."""
        self.address = address
        self.label_text = label
        self.update(address_text(address, label))
