"""One stage of the board: its label, how many cases it holds, and the cards read so far.

The column is virtual: it holds the first page of cards and the board reads the next
page (keyset) when focus reaches the last card. The count is the SQL count of the
cases the viewer may see under the current filter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from anchor_tui.domain import BoardColumn, CardKey, CaseCard
from anchor_tui.settings import TeamConfig
from anchor_tui.widgets.case_card import CaseCardView
from anchor_tui.widgets.plain_text import plain


def count_label(total: int) -> str:
    return "1 case" if total == 1 else f"{total:,} cases".replace(",", " ")


def more_label(shown: int, total: int) -> str:
    return f"{shown} of {total:,} shown · more as you go down".replace(",", " ")


class CardList(VerticalScroll, can_focus=False, inherit_bindings=False):
    """Scrolls with the focused card; the board screen owns the arrow keys."""


class StageColumn(Vertical):
    """A column of case cards for one stage."""

    def __init__(self, column: BoardColumn, team: TeamConfig, today: dt.date) -> None:
        super().__init__(id=f"stage-{column.stage}")
        self.column = column
        self._team = team
        self._today = today

    def compose(self) -> ComposeResult:
        yield Static(plain(self.column.label), classes="stage-title")
        yield Static(count_label(self.column.total), classes="stage-count")
        with CardList():
            yield from self._card_views(self.column.cards)
            yield self._footer()

    def _card_views(self, cards: Sequence[CaseCard]) -> list[CaseCardView]:
        return [CaseCardView(card, self._team.category_label(card.category), self._today)
                for card in cards]

    def _footer(self) -> Static:
        column = self.column
        if not column.cards:
            return Static("No cases", classes="stage-empty stage-footer")
        if column.total > len(column.cards):
            return Static(more_label(len(column.cards), column.total),
                          classes="stage-more stage-footer")
        return Static("", classes="stage-end stage-footer")

    async def show(self, column: BoardColumn) -> None:
        """Replace the cards (a new filter, or the board read again)."""
        same_cards = column.cards == self.column.cards
        self.column = column
        self.query_one(".stage-count", Static).update(count_label(column.total))
        cards = self.query_one(CardList)
        if same_cards:
            # Read again after a change elsewhere (a live update): only the count and
            # the footer may differ; the cards, and where the column is scrolled, stay.
            await cards.query(".stage-footer").remove()
            await cards.mount(self._footer())
            return
        await cards.remove_children()
        await cards.mount_all([*self._card_views(column.cards), self._footer()])
        cards.scroll_home(animate=False)

    async def append(self, cards: Sequence[CaseCard]) -> None:
        """Add the next page read after the last card."""
        known = {card.case_id for card in self.column.cards}
        fresh = tuple(card for card in cards if card.case_id not in known)
        self.column = BoardColumn(self.column.stage, self.column.label, self.column.total,
                                  self.column.cards + fresh)
        holder = self.query_one(CardList)
        await holder.query(".stage-footer").remove()
        await holder.mount_all([*self._card_views(fresh), self._footer()])

    @property
    def has_more(self) -> bool:
        return len(self.column.cards) < self.column.total

    @property
    def last_key(self) -> CardKey | None:
        return CardKey.of(self.column.cards[-1]) if self.column.cards else None

    @property
    def cards(self) -> list[CaseCardView]:
        return list(self.query(CaseCardView))
