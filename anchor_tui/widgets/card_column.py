"""A stage's cards as one virtual, focusable list: drawn a line at a time, only what shows.

A widget per card cost Textual a few milliseconds each to style, lay out and draw: a
board of seven columns had some sixty, and a filter keystroke, which reads the board
again, spent most of its time there rather than in SQL. Here a column is one widget
(Textual's line API): the cards are values, a cursor marks the one the person is on,
and ``render_line`` draws the lines on screen from strips made once per card and
width. Reading more cards, filtering, or a live update changes the values and redraws;
nothing is mounted.

Cards wrap like the text of any widget (a long name is shown whole, never cut: what a
card shows is user text, and none of it is hidden). The cursor card has a bar on its
left and a lighter background while the column has focus; the text says the rest
(``High priority``, ``Overdue …``): colour only repeats it.

The column draws its own scroll bar in its last cell (a track, and a thumb when the
cards read so far are more than fit). Textual's scroll bar is a widget of its own,
drawn through a rich renderable on every draw: on a board of seven columns it took a
fifth of the time of showing the board after sign-in and of every filter keystroke.
The column still scrolls as any scroll view does (keys, the wheel); only dragging a
bar with the mouse is gone, in a tool used from the keyboard.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.content import Content
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual

from anchor_tui.domain import CaseCard
from anchor_tui.widgets.case_card import card_content
from anchor_tui.widgets.typeahead import PassesTypeahead
from anchor_tui.widgets.wrapped_stack import Stack, set_virtual_size, stack

BAR = "▌"
"""The cursor card's left edge (the rest of the time a blank cell)."""
GAP = 1
"""Blank lines after each card."""
EDGES = 3
"""Cells of a line that are not the card's text: the cursor bar, one cell of margin
after the text, and the scroll bar."""
STRIPS_KEPT = 160
"""Drawn cards a column keeps (a screenful is about eight; a filter typed and cleared
shows the same ones again). As many cards' contents and heights are kept too."""


class CardColumn(ScrollView, PassesTypeahead, can_focus=True, inherit_bindings=False):
    """The cards of one stage, read so far, with a cursor; a footer line after them."""

    COMPONENT_CLASSES = {  # noqa: RUF012 - Textual reads class-level component classes
        "card-column--cursor",
        "card-column--bar",
        "card-column--footer",
        "card-column--track",
        "card-column--thumb",
    }

    DEFAULT_CSS = """
    CardColumn > .card-column--track {
        background: $scrollbar-background;
    }
    CardColumn > .card-column--thumb {
        background: $scrollbar;
    }
    CardColumn:focus > .card-column--thumb {
        background: $scrollbar-active;
    }
    """

    def __init__(self, category_label: Callable[[str], str], today: dt.date,
                 show_lead: bool = False, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._category_label = category_label
        self._today = today
        self._show_lead = show_lead
        self.cards: tuple[CaseCard, ...] = ()
        self.cursor = 0
        """Index of the card the person is on (drawn as such while the column has focus)."""
        self._footer = ""
        self._contents: list[Content] = []
        self._stack = Stack()
        """Where each card starts at the width laid out; its end is the footer's line."""
        self._laid_out_width = -1
        self._strips: OrderedDict[tuple[CaseCard, int, bool], list[Strip]] = OrderedDict()
        """Drawn cards by (card, width, cursor), the most recently drawn last: kept across
        ``show`` (typing a filter and clearing it shows the same cards again), at most
        ``STRIPS_KEPT``; emptied when the style changes."""
        self._base_style: Style | None = None
        self._bar_styles: tuple[Style, Style] | None = None
        """The scroll bar's track and thumb (for the focus the column has now)."""
        self._known_contents: OrderedDict[CaseCard, Content] = OrderedDict()
        """Cards' contents made before (the most recent last, at most ``STRIPS_KEPT``):
        a filter typed a key at a time shows many of the same cards again."""
        self._known_heights: dict[tuple[str, int], int] = {}
        """Cards' wrapped heights by (text, width), emptied when it holds many."""

    # --- what it shows ------------------------------------------------------------------

    def content_of(self, card: CaseCard) -> Content:
        known = self._known_contents.get(card)
        if known is not None:
            self._known_contents.move_to_end(card)
            return known
        content = card_content(card, self._category_label(card.category), self._today,
                               self._show_lead)
        self._known_contents[card] = content
        while len(self._known_contents) > STRIPS_KEPT:
            self._known_contents.popitem(last=False)
        return content

    def show(self, cards: Sequence[CaseCard], footer: str,
             cursor_case: int | None = None) -> None:
        """Show ``cards`` and ``footer``; the cursor goes to ``cursor_case`` if among them,
        else stays where it was (within the cards); scrolled to the top when the cards
        are not the ones shown before."""
        same = tuple(cards) == self.cards
        if same and footer == self._footer:
            return
        self.cards = tuple(cards)
        # A card shown before keeps its content (a live update re-reads the same cards).
        self._contents = [self.content_of(card) for card in cards]
        self._footer = footer
        if cursor_case is not None:
            self.cursor = next((i for i, c in enumerate(self.cards) if c.case_id == cursor_case),
                               self.cursor)
        self.cursor = max(0, min(self.cursor, len(self.cards) - 1))
        self._relayout()
        if not same and self.is_attached:
            self.scroll_to(y=0, animate=False, immediate=True)

    def append(self, cards: Sequence[CaseCard], footer: str) -> None:
        """Add the next page read after the last card (cursor and place stay)."""
        known = {card.case_id for card in self.cards}
        fresh = [card for card in cards if card.case_id not in known]
        self.cards += tuple(fresh)
        self._contents += [self.content_of(card) for card in fresh]
        self._footer = footer
        self._relayout()

    @property
    def contents(self) -> tuple[Content, ...]:
        """What each card says, in order (plain text where it is user text)."""
        return tuple(self._contents)

    @property
    def footer(self) -> str:
        """The line after the cards (``No cases``, ``8 of 1 200 shown …`` or nothing)."""
        return self._footer

    @property
    def cursor_card(self) -> CaseCard | None:
        return self.cards[self.cursor] if self.cards else None

    def move_cursor(self, index: int) -> None:
        """Put the cursor on card ``index`` (clamped) and scroll it into view."""
        if not self.cards:
            return
        index = max(0, min(index, len(self.cards) - 1))
        if index != self.cursor:
            self.cursor = index
            self.refresh()
        self._ensure_layout()
        if self._stack.tops:
            top = self._stack.tops[index]
            bottom = top + self._stack.heights[index] + GAP
            self.scroll_to_region(Region(0, top, 1, bottom - top), animate=False,
                                  immediate=True, force=True)

    def card_at(self, line: int) -> int | None:
        """Index of the card drawn on virtual line ``line``, if any."""
        self._ensure_layout()
        index = self._stack.block_at(line)
        return index if index is not None and index < len(self.cards) else None

    # --- layout -------------------------------------------------------------------------

    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width - EDGES)

    def _relayout(self) -> None:
        self._laid_out_width = -1
        self._ensure_layout()
        self.refresh()

    def _ensure_layout(self) -> None:
        """Card heights for the current width (a card wraps like any text)."""
        self._layout_for(self._text_width() if self.is_attached else 0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # (For ``height: auto``: the cards' wrapped height at the width offered.)
        self._layout_for(max(1, width - EDGES))
        return self._stack.end + (1 if self._footer else 0)

    def _layout_for(self, width: int) -> None:
        """Where each card starts. Only the heights are worked out here (the text wrapped,
        not styled): a card is drawn when it first comes into view."""
        if width == self._laid_out_width:
            return
        self._laid_out_width = width
        if len(self._known_heights) > 4 * STRIPS_KEPT:
            self._known_heights.clear()
        self._stack = stack(self, self._contents, width, GAP, self._known_heights)
        set_virtual_size(self, Size(width + EDGES,
                                    self._stack.end + (1 if self._footer else 0)))

    def on_resize(self, _event: events.Resize) -> None:
        self._ensure_layout()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._known_heights.clear()
        self._base_style = None
        self._bar_styles = None

    # --- drawing ------------------------------------------------------------------------

    def _card_strips(self, index: int, highlighted: bool) -> list[Strip]:
        card = self.cards[index]
        width = max(1, self._laid_out_width)
        key = (card, width, highlighted)
        cached = self._strips.get(key)
        if cached is not None:
            self._strips.move_to_end(key)
            return cached
        # The cursor card is drawn on its own background (the text's colours on top).
        style = (self.get_visual_style("card-column--cursor") if highlighted
                 else self.visual_style)
        strips = Visual.to_strips(self, self._contents[index], width, None, style, pad=True)
        around = style.rich_style
        edge = Segment(BAR, around + self.get_component_rich_style("card-column--bar",
                                                                   partial=True)) \
            if highlighted else Segment(" ", around)
        tail = Strip([Segment(" ", around)])
        strips = [Strip.join([Strip([edge]), strip, tail]) for strip in strips]
        height = self._stack.heights[index]
        if len(strips) < height:  # (the layout's height is the one that counts)
            strips += [Strip.blank(width + 2, around)] * (height - len(strips))
        self._strips[key] = strips = strips[:height]
        while len(self._strips) > STRIPS_KEPT:
            self._strips.popitem(last=False)
        return strips

    def render_line(self, y: int) -> Strip:
        # (The region is worked out once a line: asking Textual for it was most of
        # the time spent here.)
        region = self.scrollable_content_region
        width = region.width - 1  # (the last cell is the scroll bar's)
        self._layout_for(max(1, region.width - EDGES))
        line = y + self.scroll_offset.y
        if self._base_style is None:
            self._base_style = self.rich_style
        base = self._base_style
        index = self._stack.block_at(line)
        if index is not None and index < len(self.cards):
            strips = self._card_strips(index, index == self.cursor and self.has_focus)
            row = line - self._stack.tops[index]
            strip = (strips[row].crop_extend(0, width, base) if row < len(strips)
                     else Strip.blank(width, base))
        elif line == self._stack.end and self._footer:
            footer = self.get_component_rich_style("card-column--footer")
            strip = Strip([Segment(" "), Segment(self._footer, footer)]).crop_extend(
                0, width, base)
        else:
            strip = Strip.blank(width, base)
        # One strip for the line (a strip for the bar's cell and a join would be two
        # more, each with caches of its own, on every line drawn).
        return Strip([*strip, self._bar_cell(y, region.height)], region.width)

    def _bar_cell(self, y: int, height: int) -> Segment:
        """Line ``y``'s cell of the scroll bar: the thumb spans the part of the cards read
        so far that shows (none when they all fit)."""
        if self._bar_styles is None:
            self._bar_styles = (self.get_component_rich_style("card-column--track"),
                                self.get_component_rich_style("card-column--thumb"))
        track, thumb = self._bar_styles
        total = self.virtual_size.height
        if height <= 0 or total <= height:
            return Segment(" ", track)
        size = max(1, round(height * height / total))
        top = min(height - size, round(self.scroll_offset.y * height / total))
        return Segment(" ", thumb if top <= y < top + size else track)

    # --- focus and the mouse ------------------------------------------------------------

    def on_focus(self) -> None:
        self._bar_styles = None
        self.refresh()

    def on_blur(self) -> None:
        self._bar_styles = None
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        index = self.card_at(event.y + self.scroll_offset.y)
        if index is not None:
            self.move_cursor(index)
            self.focus()
