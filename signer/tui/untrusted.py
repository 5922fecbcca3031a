"""Rich ``Text`` for strings that may come from a request: escaped, never parsed as markup.

Rich and Textual pass control characters straight to the terminal, and a ``str`` given to a
``Static`` or a ``DataTable`` cell is parsed as markup, so a request could restyle the screen
or draw a fake "approved" line. Every string that did not come from this program is turned
into a ``Text`` here: ``Text`` is never parsed as markup, and any character
:func:`shared.messages.text.classify` flags is written as a visible escape.
"""

from __future__ import annotations

from rich.text import Text

from shared.messages.text import classify, safe_display


def needs_escaping(value: str, *, multiline: bool = False) -> bool:
    """True when ``value`` holds a character that must not reach the terminal as-is."""
    return any(classify(ch) is not None for ch in value if not (multiline and ch in "\n\t"))


def untrusted(value: str, *, style: str = "", multiline: bool = False) -> Text:
    """``value`` as plain ``Text``; escaped (``\\u202e``, ``\\x1b``) if it holds anything unsafe.

    Strings the review layer already escaped hold no flagged character and pass unchanged,
    so escaping is never applied twice (which would double their backslashes).
    """
    if needs_escaping(value, multiline=multiline):
        value = safe_display(value, multiline=multiline).text
    text = Text(value, no_wrap=False)
    if style:
        # A span, not the base style: text appended to this one later stays unstyled.
        text.stylize(style)
    return text
