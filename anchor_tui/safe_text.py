"""User text made inert: every character that could act instead of being read, made visible.

Pure Python (no Textual), so the screen (``widgets.plain_text``), the Markdown minutes and
the command line share one rule. A person's text may hold control characters (ANSI and
OSC escape sequences, OSC 52 clipboard writes start with ``ESC ]``), bidirectional
overrides that make text read differently from what it is, and zero-width or other
invisible characters that hide or join parts of it. Each of these is replaced by a
visible escape (``\\x1b``, ``\\u202e``, ``\\u200b``): what a person typed stays there to
read, and none of it reaches the terminal or a Markdown reader as anything but letters.
"""

from __future__ import annotations

import unicodedata

INERT_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Control, format (bidi controls, zero-width space/joiners, BOM, soft hyphen, tags),
surrogate, line and paragraph separator characters."""

INVISIBLE = frozenset("\u034f\u115f\u1160\u3164\uffa0\u180e")
"""Letters and marks that draw nothing (the Hangul fillers are used to fake blank names)."""

SKIN_TONES = range(0x1F3FB, 0x1F400)
"""Emoji skin-tone modifiers: part of the emoji before them, where they take no cell of
their own; alone, a terminal draws them as a glyph two cells wide that the screen's
layout counts as none, which shifts what follows on the line."""


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(value: str, *, one_line: bool = True, after: str = "") -> str:
    """``value`` with every control, format or invisible character as a visible escape.

    With ``one_line`` a newline is escaped too (``\\n``), so a name cannot break a layout;
    otherwise newlines stay. ``after``: the text this piece follows on screen (a piece cut
    out of a longer text, as a search result's highlight is), so that a skin-tone
    modifier that begins the piece stays part of the emoji that ends the text before it.
    """
    out: list[str] = []
    previous = after[-1:]
    for char in value:
        if char == "\n":
            out.append("\\n" if one_line else "\n")
        elif (char in INVISIBLE or unicodedata.category(char) in INERT_CATEGORIES
              or (ord(char) in SKIN_TONES and not _modifies(previous))):
            out.append(_escape(char))
        else:
            out.append(char)
        previous = char
    return "".join(out)


def _modifies(previous: str) -> bool:
    """A skin-tone modifier after ``previous`` is part of an emoji (a wide character
    that is not itself a modifier)."""
    return (bool(previous) and ord(previous) not in SKIN_TONES
            and unicodedata.east_asian_width(previous) == "W")


_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def markdown_text(value: str) -> str:
    """User text for a Markdown file: inert characters escaped as on screen, then every
    ASCII punctuation character backslash-escaped (CommonMark reads each as itself), so
    no link, image, HTML, heading, list, table or emphasis can come from it."""
    return "".join(f"\\{c}" if c in _MARKDOWN_PUNCTUATION else c for c in printable(value))
