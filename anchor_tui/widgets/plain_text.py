"""User text (names, categories, note text) on screen: always plain, always visible.

Anything a person typed is shown as the characters it contains: never parsed as
Textual or Rich markup (``[@click=app.quit]`` stays those characters) and never sent
to the terminal as a control sequence (``\\x1b[2J`` is drawn as the four visible
characters ``\\x1b`` followed by ``[2J``). Bidirectional overrides, which can make
text read differently from what it is, are shown as escapes too.
"""

from __future__ import annotations

import unicodedata

from textual.content import Content

_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")


def _visible(char: str) -> str:
    if char in _BIDI_CONTROLS or (unicodedata.category(char) == "Cc" and char != "\n"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def printable(value: str, *, one_line: bool = True) -> str:
    """``value`` with every control character replaced by a visible escape.

    With ``one_line`` a newline is escaped too, so a name cannot break a layout.
    """
    text = "".join(_visible(c) for c in value)
    return text.replace("\n", "\\n") if one_line else text


def plain(value: str, style: str = "", *, one_line: bool = True) -> Content:
    """User text as Textual content: no markup, no control codes, optional style."""
    text = printable(value, one_line=one_line)
    return Content.assemble((text, style)) if style else Content(text)
