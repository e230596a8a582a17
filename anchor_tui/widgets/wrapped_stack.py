"""What the line-API lists share (the board's card columns, a case's notes timeline):
blocks of wrapped text stacked with a blank line between them, laid out from their
heights alone, and a scrollable size set without a layout of the whole screen.

Wrapping a block to know its height is cheap (``Content.get_height``: the text, not
its styles); drawing it into strips is not, so a list draws a block only when it comes
into view (see ``CardColumn._card_strips``, ``NotesTimeline._item_strips``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView

if TYPE_CHECKING:
    from textual.css.styles import RulesMap


@dataclass(frozen=True)
class Stack:
    """Where each block starts, at one width."""

    tops: tuple[int, ...] = ()
    heights: tuple[int, ...] = ()
    end: int = 0
    """The first line after the last block's gap."""

    def block_at(self, line: int) -> int | None:
        """The block drawn on ``line`` (its gap included), if any."""
        if not self.tops or line < 0 or line >= self.end:
            return None
        return bisect_right(self.tops, line) - 1


def stack(widget: ScrollView, contents: Sequence[Content], width: int, gap: int,
          known: MutableMapping[tuple[str, int], int] | None = None) -> Stack:
    """``contents`` wrapped at ``width`` as ``widget`` wraps text, ``gap`` blank lines
    after each (before the widget knows its width: one block per line of text).

    ``known``: heights wrapped before, by (text, width), read and added to (a block's
    height depends on its text alone, not on its styles)."""
    # The rules Textual's own widgets pass (their styles; typed as a plain mapping).
    rules = cast("RulesMap", widget.styles)
    tops: list[int] = []
    heights: list[int] = []
    line = 0
    for content in contents:
        tops.append(line)
        key = (content.plain, width)
        height = known.get(key) if known is not None else None
        if height is None:
            height = (max(1, content.get_height(rules, width)) if width > 1
                      else len(content.plain.splitlines()) or 1)
            if known is not None:
                known[key] = height
        heights.append(height)
        line += height + gap
    return Stack(tuple(tops), tuple(heights), line)


def set_virtual_size(widget: ScrollView, size: Size) -> None:
    """``widget``'s scrollable size, without laying out the whole screen again.

    ``virtual_size`` is a layout reactive: setting it reflows every widget on the screen
    (on the board, a filter keystroke set it in each column). A list's own size does not
    depend on it (its height comes from its container), so only its scrollbars need
    updating, which ``_scroll_update`` does; it lays the screen out itself when a
    scrollbar appears or goes."""
    if size == widget.virtual_size:
        return
    if not widget.is_attached or not widget.container_size:
        widget.virtual_size = size
        return
    widget.set_reactive(ScrollView.virtual_size, size)
    widget._scroll_update(size)
    widget.refresh()
