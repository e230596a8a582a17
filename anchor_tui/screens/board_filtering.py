"""Filtering the board: ``/`` filters as one types, ``f`` picks a saved filter, Escape
clears; the header says the filter in force and how many cases it finds.

Under a filter of broad words (a common name) each column is counted only as far as its
first page while typing (``8+``); once the filter stays unchanged a moment
(``EXACT_COUNT_AFTER``), every stage is counted exactly and the columns and the header
say so. The counts and the cards come from ``services.board`` in thread workers, for
the viewer, through the disclosure filter as everything the board shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial

from textual import work
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import get_current_worker

from anchor_tui.domain import BoardColumn, FilterSpec, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import exact_counts
from anchor_tui.services.board_filter import filter_for
from anchor_tui.settings import SavedFilter
from anchor_tui.widgets.stage_column import StageColumn, count_label

EXACT_COUNT_AFTER = 0.5
"""Seconds the filter stays unchanged before columns that were counted only as far as
their page are counted exactly (typing goes a key every 0.1-0.3 s)."""


class CountsRead(Message):
    """Every stage's exact count under ``spec``."""

    def __init__(self, viewer: Viewer, spec: FilterSpec, totals: dict[str, int]) -> None:
        super().__init__()
        self.viewer = viewer
        self.spec = spec
        self.totals = totals


class BoardFiltering(Screen[None]):
    """The filter of the board screen (a mixin; the board holds the data)."""

    _backend: Backend
    viewer: Viewer
    _today: Callable[[], dt.date]
    spec: FilterSpec
    _count_timer: Timer | None

    def load_board(self, per_stage: int | None = None, *, exact: bool = False) -> object:
        raise NotImplementedError

    def _columns(self) -> list[StageColumn]:
        raise NotImplementedError

    def _status(self, text: str) -> None:
        raise NotImplementedError

    def _focus_near(self, x: int, y: int, step: int) -> bool:
        raise NotImplementedError

    def filter_words(self) -> str:
        """The filter in force in words (``My cases + “aino”``); empty for none."""
        if self.spec.empty:
            return ""
        parts = [self.spec.saved_label] if self.spec.saved_label else []
        typed = self.query_one("#board-filter", Input).value.strip()
        if typed:
            parts.append(f"“{typed}”")
        return " + ".join(parts)

    def _filter_status(self, columns: Iterable[BoardColumn]) -> str:
        if self.spec.empty:
            return ""
        columns = list(columns)
        found = sum(c.total for c in columns)
        # ``56+ cases`` where a column stopped counting, as the columns say ``8+``
        # (short: the status shares its line with the team and the viewer).
        cases = count_label(found, all(c.exact for c in columns))
        return f"Filter: {self.filter_words()} · {cases} (Esc clears)"

    def _count_later(self, spec: FilterSpec) -> None:
        """Count exactly once the filter has stayed ``spec`` a moment (a new filter, or
        none, cancels a count not yet started)."""
        if self._count_timer is not None:
            self._count_timer.stop()
            self._count_timer = None
        if EXACT_COUNT_AFTER <= 0:  # no pause to wait for (Textual's timers need one)
            self.call_later(self.count_exactly, spec)
        else:
            self._count_timer = self.set_timer(EXACT_COUNT_AFTER,
                                               partial(self.count_exactly, spec))

    @work(thread=True, exclusive=True, group="board-count", exit_on_error=False)
    def count_exactly(self, spec: FilterSpec) -> None:
        if spec != self.spec:
            return
        totals = exact_counts(self._backend, self.viewer, spec, today=self._today())
        if not get_current_worker().is_cancelled:
            self.post_message(CountsRead(self.viewer, spec, totals))

    def on_counts_read(self, message: CountsRead) -> None:
        if message.viewer != self.viewer or message.spec != self.spec:
            return
        for column in self._columns():
            if not column.column.exact:
                column.recount(message.totals.get(column.column.stage, 0))
        self._status(self._filter_status(c.column for c in self._columns()))

    # --- filtering ------------------------------------------------------------------------

    def action_start_filter(self) -> None:
        self.query_one("#board-filter-bar").add_class("-open")
        # At once, not after a refresh (``focus()``): the words typed right after `/`
        # must reach the filter, not the board's keys (`m` would propose a move).
        self.set_focus(self.query_one("#board-filter", Input))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "board-filter":
            return
        event.stop()
        self._set_spec(event.value)

    def focus_cards(self) -> None:
        """Enter in the filter: to the first card found."""
        self._focus_near(0, 0, step=1)

    def saved_filters(self) -> tuple[SavedFilter, ...]:
        """The saved filters this board offers: in a huddle not those about the one
        person signed in ("My cases"), which would match nothing there."""
        filters = self._backend.team.saved_filters
        if self.viewer.purpose == "individual":
            return filters
        return tuple(f for f in filters if not f.personal)

    def _set_spec(self, text: str, saved_id: str | bool | None = False) -> None:
        """Filter by ``text`` and (unless ``saved_id`` is False: unchanged) a saved filter."""
        keep = self.spec.saved_id if saved_id is False else saved_id
        saved = next((f for f in self.saved_filters() if f.id == keep), None)
        spec = filter_for(saved, text)
        if spec != self.spec:
            self.spec = spec
            if self._count_timer is not None:
                self._count_timer.stop()
            self.load_board()

    def apply_saved_filter(self, saved_id: str | None) -> None:
        """Use a saved filter (None: none), keeping the typed words (palette, ``f``)."""
        self.query_one("#board-filter-bar").set_class(
            bool(saved_id or self.query_one("#board-filter", Input).value), "-open")
        self._set_spec(self.query_one("#board-filter", Input).value, saved_id)

    @work(exclusive=True, group="board-ask")
    async def action_pick_saved_filter(self) -> None:
        from anchor_tui.screens.prompt import ChoiceScreen

        choices = [("", "No saved filter")] + [
            (f.id, f.label) for f in self.saved_filters()]
        chosen = await self.app.push_screen_wait(
            ChoiceScreen("Saved filters", choices, current=self.spec.saved_id or ""))
        if chosen is not None:
            self.apply_saved_filter(chosen or None)

    def action_clear_filter(self) -> None:
        filter_input = self.query_one("#board-filter", Input)
        had_focus = self.focused is filter_input
        filter_input.value = ""  # (posts Changed, which filters again)
        self.query_one("#board-filter-bar").remove_class("-open")
        if not self.spec.empty:
            self.spec = FilterSpec()
            self.load_board()
        if had_focus:
            self._focus_near(0, 0, step=1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return not self.spec.empty or self.query_one("#board-filter-bar").has_class("-open")
        return True
