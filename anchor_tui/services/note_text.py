"""Note text as it is kept: every character visible, none a command to the terminal.

A note may arrive by paste with anything in it: escape sequences (``\\x1b[2J`` clears a
screen), a bell, carriage returns, bidirectional overrides that make text read other than
it is. Before such text enters the editor or the database, each of those characters
becomes its visible escape (``\\x1b``), so what is stored is exactly what every screen
shows, and a note can never drive the terminal of whoever reads it. Line ends become
``\\n`` and a tab four spaces. Markup needs nothing here: screens never parse note text
as markup (``widgets.plain_text``).
"""

from __future__ import annotations

import unicodedata

MAX_BODY_CHARS = 2_000_000
"""The longest note (a 1 MB paste fits twice over)."""

_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")
TAB = "    "


def _visible(char: str) -> str:
    if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char != "\n"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def clean_text(text: str) -> str:
    """``text`` with normal line ends, tabs as spaces and every control character made
    visible. Idempotent: cleaning clean text changes nothing."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", TAB)
    if text.replace("\n", "").isprintable():
        # The common case (plain typing) without a new string per character; the bidi
        # controls are not printable either, so they take the slow path below.
        return text
    return "".join(_visible(c) for c in text)


def is_blank(text: str) -> bool:
    """Nothing but spaces and line ends: not a note."""
    return not text.strip()
