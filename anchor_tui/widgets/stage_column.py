"""One stage of the board: its label, how many cases it holds, and their cards."""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from anchor_tui.domain import BoardColumn
from anchor_tui.settings import TeamConfig
from anchor_tui.widgets.case_card import CaseCardView
from anchor_tui.widgets.plain_text import plain


def count_label(total: int) -> str:
    return "1 case" if total == 1 else f"{total} cases"


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
        column = self.column
        yield Static(plain(column.label), classes="stage-title")
        yield Static(count_label(column.total), classes="stage-count")
        with CardList():
            for card in column.cards:
                yield CaseCardView(card, self._team.category_label(card.category), self._today)
            if not column.cards:
                yield Static("No cases", classes="stage-empty")
            elif column.total > len(column.cards):
                yield Static(f"First {len(column.cards)} of {column.total} shown",
                             classes="stage-more")

    @property
    def cards(self) -> list[CaseCardView]:
        return list(self.query(CaseCardView))
