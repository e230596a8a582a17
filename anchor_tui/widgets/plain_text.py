"""User text (names, categories, note text) on screen: always plain, always visible.

Anything a person typed is shown as the characters it contains: never parsed as
Textual or Rich markup (``[@click=app.quit]`` stays those characters) and never sent
to the terminal as a control sequence (``\\x1b[2J`` is drawn as the four visible
characters ``\\x1b`` followed by ``[2J``). Bidirectional overrides, which can make
text read differently from what it is, and zero-width characters, which hide parts of
it, are shown as escapes too (``anchor_tui.safe_text``).
"""

from __future__ import annotations

from textual.content import Content

from anchor_tui.safe_text import printable

__all__ = ["markup_literal", "plain", "printable"]


def plain(value: str, style: str = "", *, one_line: bool = True, after: str = "") -> Content:
    """User text as Textual content: no markup, no control codes, optional style
    (``after``: what the piece follows, see ``printable``)."""
    text = printable(value, one_line=one_line, after=after)
    return Content.assemble((text, style)) if style else Content(text)


def markup_literal(value: str) -> str:
    """Text for the few places Textual reads only as markup (the command palette's help
    line): inert characters escaped, and every ``[`` escaped, so no tag can start.
    (Textual's own ``markup.escape`` leaves ``[$accent]``-style variable tags alone.)"""
    return printable(value).replace("[", "\\[")
