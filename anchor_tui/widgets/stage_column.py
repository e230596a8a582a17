"""One stage of the board: its label, how many cases it holds, and the cards read so far.

The column is virtual: it holds the pages of cards read so far (one ``CardColumn``, drawn
a line at a time) and the board reads the next page (keyset) when the cursor comes near
the last card. The count is the SQL count of the
cases the viewer may see under the current filter (under a filter of broad words,
counted as far as the first page at first: ``8+``, then exactly once typing pauses).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import HorizontalScroll, Vertical
from textual.widgets import Static

from anchor_tui.domain import BoardColumn, CardKey, CaseCard
from anchor_tui.settings import TeamConfig
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.counts import count_text
from anchor_tui.widgets.plain_text import plain

MIN_COLUMN_WIDTH = 22


def count_label(total: int, exact: bool = True) -> str:
    return "1 case" if total == 1 and exact else f"{count_text(total, exact)} cases"


def more_label(shown: int, total: int, exact: bool = True) -> str:
    return f"{shown} of {count_text(total, exact)} shown · more as you go down"


class StageColumn(Vertical):
    """A column of case cards for one stage."""

    def __init__(self, column: BoardColumn, team: TeamConfig, today: dt.date,
                 show_lead: bool = False) -> None:
        super().__init__(id=f"stage-{column.stage}")
        self.column = column
        self._team = team
        self._today = today
        self._show_lead = show_lead
        """The viewer may see who leads a case (the cards then have a lead line)."""
        self._count_shown = count_label(column.total, column.exact)

    def compose(self) -> ComposeResult:
        yield Static(plain(self.column.label), classes="stage-title")
        yield Static(self._count_shown, classes="stage-count")
        card_list = CardColumn(self._team.category_label, self._today, self._show_lead)
        card_list.show(self.column.cards, self._footer_text())
        yield card_list

    def _footer_text(self) -> str:
        column = self.column
        if not column.cards:
            return "No cases"
        if self.has_more:
            return more_label(len(column.cards), column.total, column.exact)
        return ""

    @property
    def card_list(self) -> CardColumn:
        return self.query_one(CardColumn)

    def show(self, column: BoardColumn, cursor_case: int | None = None) -> None:
        """Show these cards instead (a new filter, or the board read again: then only the
        count and the footer may differ, and the cursor and the place in the column stay)."""
        self.column = column
        self._show_count()
        self.card_list.show(column.cards, self._footer_text(), cursor_case)

    def recount(self, total: int) -> None:
        """The exact count (read after a count that stopped at its limit)."""
        self.column = replace(self.column, total=total, exact=True)
        self._show_count()
        self.card_list.show(self.column.cards, self._footer_text())  # cursor and place stay

    def _show_count(self) -> None:
        label = count_label(self.column.total, self.column.exact)
        if label == self._count_shown:
            return  # (a filter typed a key further often finds as many: nothing to draw)
        self._count_shown = label
        count = self.query_one(".stage-count", Static)
        # A count fits its line (a column is at least 22 cells wide): no new layout of
        # the screen for it, only when it would not.
        count.update(label, layout=cell_len(label) > count.content_region.width)

    def append(self, cards: Sequence[CaseCard]) -> None:
        """Add the next page read after the last card."""
        known = {card.case_id for card in self.column.cards}
        fresh = tuple(card for card in cards if card.case_id not in known)
        self.column = replace(self.column, cards=self.column.cards + fresh)
        self.card_list.append(fresh, self._footer_text())

    @property
    def has_more(self) -> bool:
        return not self.column.exact or len(self.column.cards) < self.column.total

    @property
    def last_key(self) -> CardKey | None:
        return CardKey.of(self.column.cards[-1]) if self.column.cards else None

    @property
    def cards(self) -> tuple[CaseCard, ...]:
        """The cards shown, in order."""
        return self.column.cards


class StageRow(HorizontalScroll, can_focus=False, inherit_bindings=False):
    """The columns side by side, as many whole columns as fit; scrolls sideways to the
    focused card when not all fit (three on an 80-column terminal, seven on 160)."""

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self, columns: Sequence[StageColumn] | None = None) -> None:
        """Size ``columns`` (by default the ones shown) to this row's width. Columns
        about to be mounted are sized first, so the board is laid out once, not twice."""
        columns = list(self.query_children(StageColumn)) if columns is None else list(columns)
        if not columns or not self.size.width:
            return
        fitting = max(1, min(len(columns), self.size.width // MIN_COLUMN_WIDTH))
        # The scroll bar is there exactly when not every column fits, and decided here,
        # with the widths: left to Textual, it appeared after the first layout (when the
        # row found it overflowed), which laid the board out and drew every card again.
        self.styles.overflow_x = "scroll" if fitting < len(columns) else "hidden"
        width, spare = divmod(self.size.width, fitting)
        width = max(MIN_COLUMN_WIDTH, width)
        for index, column in enumerate(columns):
            # The spare cells go one each to the first columns of each screenful, so the
            # visible columns fill the width and no sliver of the next one shows.
            column.styles.width = width + (1 if index % fitting < spare else 0)
