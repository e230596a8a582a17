"""One stage of the board: its label, how many cases it holds, and the cards read so far.

The column is virtual: it holds the first page of cards and the board reads the next
page (keyset) when focus reaches the last card. The count is the SQL count of the
cases the viewer may see under the current filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import HorizontalScroll, Vertical, VerticalScroll
from textual.widgets import Static

from anchor_tui.domain import BoardColumn, CardKey, CaseCard
from anchor_tui.settings import TeamConfig
from anchor_tui.widgets.case_card import CaseCardView
from anchor_tui.widgets.plain_text import plain

MIN_COLUMN_WIDTH = 22


def count_label(total: int) -> str:
    return "1 case" if total == 1 else f"{total:,} cases".replace(",", " ")


def more_label(shown: int, total: int) -> str:
    return f"{shown} of {total:,} shown · more as you go down".replace(",", " ")


class CardList(VerticalScroll, can_focus=False, inherit_bindings=False):
    """Scrolls with the focused card; the board screen owns the arrow keys."""


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

    def compose(self) -> ComposeResult:
        yield Static(plain(self.column.label), classes="stage-title")
        yield Static(count_label(self.column.total), classes="stage-count")
        with CardList():
            yield from self._card_views(self.column.cards)
            yield self._footer()

    def _card_views(self, cards: Sequence[CaseCard]) -> list[CaseCardView]:
        return [CaseCardView(card, self._team.category_label(card.category), self._today,
                             self._show_lead)
                for card in cards]

    def _footer_text(self) -> tuple[str, str]:
        column = self.column
        if not column.cards:
            return "No cases", "stage-empty"
        if column.total > len(column.cards):
            return more_label(len(column.cards), column.total), "stage-more"
        return "", "stage-end"

    def _footer(self) -> Static:
        text, kind = self._footer_text()
        return Static(text, classes=f"{kind} stage-footer")

    async def show(self, column: BoardColumn) -> None:
        """Show these cards instead (a new filter, or the board read again).

        The card views already there are reused, in order, for the new cards; views
        left over are hidden (kept for the next filter), and only views beyond all
        there are mounted. Mounting or removing a card view cost Textual a few
        milliseconds each, so a keystroke that went from a few cards to a full board
        (or back) took over 100 ms.
        """
        same_cards = column.cards == self.column.cards
        self.column = column
        self.query_one(".stage-count", Static).update(count_label(column.total))
        footer = self.query_one(CardList).query_one(".stage-footer", Static)
        text, kind = self._footer_text()
        if not same_cards:
            await self._place(column.cards)
            self.query_one(CardList).scroll_home(animate=False)
        # (Read again after a change elsewhere, a live update: only the count and the
        # footer may differ; the cards, and where the column is scrolled, stay.)
        footer.set_classes({kind, "stage-footer"})
        footer.update(text)

    async def append(self, cards: Sequence[CaseCard]) -> None:
        """Add the next page read after the last card."""
        known = {card.case_id for card in self.column.cards}
        fresh = tuple(card for card in cards if card.case_id not in known)
        self.column = BoardColumn(self.column.stage, self.column.label, self.column.total,
                                  self.column.cards + fresh)
        await self._place(self.column.cards)
        text, kind = self._footer_text()
        footer = self.query_one(CardList).query_one(".stage-footer", Static)
        footer.set_classes({kind, "stage-footer"})
        footer.update(text)

    async def _place(self, cards: Sequence[CaseCard]) -> None:
        """Show ``cards``, in order, in the card views (all of them, shown or hidden)."""
        holder = self.query_one(CardList)
        views = list(holder.query(CaseCardView))
        for view, card in zip(views, cards, strict=False):
            view.show(card, self._team.category_label(card.category), self._today,
                      self._show_lead)
            view.display = True
        for view in views[len(cards):]:
            view.display = False
        if len(cards) > len(views):
            await holder.mount_all(self._card_views(cards[len(views):]),
                                   before=holder.query_one(".stage-footer", Static))

    @property
    def has_more(self) -> bool:
        return len(self.column.cards) < self.column.total

    @property
    def last_key(self) -> CardKey | None:
        return CardKey.of(self.column.cards[-1]) if self.column.cards else None

    @property
    def cards(self) -> list[CaseCardView]:
        """The card views shown, in order (hidden ones wait for the next filter)."""
        return [view for view in self.query(CaseCardView) if view.display]


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
        width, spare = divmod(self.size.width, fitting)
        width = max(MIN_COLUMN_WIDTH, width)
        for index, column in enumerate(columns):
            # The spare cells go one each to the first columns of each screenful, so the
            # visible columns fill the width and no sliver of the next one shows.
            column.styles.width = width + (1 if index % fitting < spare else 0)
