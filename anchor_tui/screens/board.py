"""The case board: one column per stage, cards the viewer may see, read a page at a time.

Data comes from ``services.board`` in thread workers; this screen holds only plain
``BoardColumn``/``CaseCard`` values for one viewer and is dropped entirely on sign-out.

Keys (every binding has an id; F1 lists them): arrows and h/j/k/l move between cards,
Enter opens the case, ``<``/``>`` propose moving the case to the previous/next stage and
``m`` to any stage (always with a confirmation naming the case and both stages), ``/``
filters as you type, ``f`` picks a saved filter, Escape clears the filter, ``r`` reads
the board again, ``t`` opens the triage queue and ``c`` shows or hides the caseload
picture (``board_caseload``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import BoardColumn, CardKey, CaseCard, FilterSpec, Viewer
from anchor_tui.messages import CasesChanged
from anchor_tui.palette import PaletteCommand
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.board_caseload import BoardCaseload
from anchor_tui.screens.board_moves import BoardMoves
from anchor_tui.screens.huddle_flag import HuddleFlagging
from anchor_tui.screens.queue import QueueScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import (
    PAGE,
    board_columns,
    exact_counts,
    shows_lead,
    stage_page,
)
from anchor_tui.services.board_filter import filter_for
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain
from anchor_tui.widgets.stage_column import StageColumn, StageRow, count_label
from anchor_tui.widgets.typeahead import FilterField

CARD_HEIGHT = 6
"""Lines a card takes with its margin: the first page fills a column and a little more."""
NEAR_END = 2
"""Read the next page when focus comes this close to a column's last card."""
EXACT_COUNT_AFTER = 0.5
"""Seconds the filter stays unchanged before columns that were counted only as far as
their page are counted exactly (typing goes a key every 0.1-0.3 s)."""


class ColumnsRead(Message):
    """The board's columns were read for ``viewer`` under ``spec``."""

    def __init__(self, viewer: Viewer, spec: FilterSpec, columns: list[BoardColumn]) -> None:
        super().__init__()
        self.viewer = viewer
        self.spec = spec
        self.columns = columns


class CountsRead(Message):
    """Every stage's exact count under ``spec``."""

    def __init__(self, viewer: Viewer, spec: FilterSpec, totals: dict[str, int]) -> None:
        super().__init__()
        self.viewer = viewer
        self.spec = spec
        self.totals = totals


class StagePageRead(Message):
    """The next page of one stage was read."""

    def __init__(self, viewer: Viewer, spec: FilterSpec, stage: str,
                 cards: tuple[CaseCard, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.spec = spec
        self.stage = stage
        self.cards = cards


class BoardScreen(BoardCaseload, BoardMoves, HuddleFlagging, AnchorScreen):
    """The shared case load, as the signed-in viewer may see it."""

    HELP = ("The case board: one column per stage, a card per case you may see. Arrows "
            "or h/j/k/l move between cards, Enter opens one. < and > propose the previous "
            "or next stage, m any stage: a move is always confirmed and names both stages. "
            "/ filters as you type (name, category, member, stage); f picks a saved "
            "filter; Esc clears it. t opens your triage queue; c shows or hides the "
            "caseload picture (cases per stage over 12 weeks, of what the board counts). "
            "! flags the case for the next huddle. : or ctrl+p opens the commands.")

    AUTO_FOCUS = ""
    """No auto focus (``None`` would mean the app's ``*``): focus goes to a card once the
    board is read. Textual's auto focus would pick the hidden filter input, which counts
    as focusable while its bar is not displayed."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("up,k", "move(0, -1)", "Up", show=False, id="board.up"),
        Binding("down,j", "move(0, 1)", "Down", show=False, id="board.down"),
        Binding("left,h", "move(-1, 0)", "Left", show=False, id="board.left"),
        Binding("right,l", "move(1, 0)", "Right", show=False, id="board.right"),
        Binding("enter", "open_case", "Open", id="board.open"),
        Binding("t", "open_queue", "Queue", id="board.queue"),
        Binding("c", "toggle_caseload", "Caseload", id="board.caseload"),
        Binding("less_than_sign", "move_stage(-1)", "Stage back", key_display="<",
                id="board.move_previous"),
        Binding("greater_than_sign", "move_stage(1)", "Stage on", key_display=">",
                id="board.move_next"),
        Binding("m", "move_to", "Move to…", id="board.move_to"),
        Binding("slash", "start_filter", "Filter", key_display="/", id="board.filter"),
        Binding("f", "pick_saved_filter", "Saved filters", id="board.saved_filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="board.clear_filter"),
        Binding("r", "refresh_board", "Refresh", id="board.refresh"),
        Binding("n", "new_note", "New note", show=False, id="note.new"),
    ]

    def __init__(self, backend: Backend, viewer: Viewer, today: Callable[[], dt.date]) -> None:
        super().__init__()
        self._backend = backend
        self.viewer = viewer
        self._today = today
        self.spec = FilterSpec()
        self._reading_pages: set[str] = set()
        self._show_lead = shows_lead(backend, viewer)
        self._count_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        team = self._backend.team
        profession = self._backend.policy.professions.get(
            self.viewer.profession, self.viewer.profession
        )
        with Horizontal(id="board-header"):
            yield Static(plain(team.team_name), id="board-team")
            # In the header, so "reading" never shifts the columns up and down.
            yield Static("Reading the board…", id="board-status")
            yield Static(plain(f"{self.viewer.display_name} · {profession}"), id="board-viewer")
        with Horizontal(id="board-filter-bar"):
            yield Static("Filter", id="board-filter-label")
            yield FilterField(self.focus_cards,
                              placeholder="name, category, member, stage — Enter: to the "
                              "cards, Esc: clear", id="board-filter", max_length=200)
        with Container(id="board-body"):  # the caseload picture mounts here too
            yield StageRow(id="board")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load_board()

    # --- reading ------------------------------------------------------------------------

    def _first_page(self) -> int:
        return max(4, self.size.height // CARD_HEIGHT + 2)

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def load_board(self, per_stage: int | None = None, *, exact: bool = False) -> None:
        """Read the columns under the filter in force; ``exact``: count every match at
        once (a re-read nobody is typing for), not only as far as the page first."""
        spec = self.spec
        columns = board_columns(self._backend, self.viewer,
                                per_stage=max(per_stage or 0, self._first_page()),
                                spec=spec, today=self._today(),
                                exact=exact)
        if not get_current_worker().is_cancelled:
            self.post_message(ColumnsRead(self.viewer, spec, columns))

    def on_cases_changed(self, _message: CasesChanged) -> None:
        """Another terminal changed cases: read again as many cards as each column shows,
        so the focused card (followed by its case id) and the place in a long column stay."""
        self.load_board(max((len(c.column.cards) for c in self._columns()), default=0),
                        exact=True)

    def action_refresh_board(self) -> None:
        self._status("Reading the board…")
        self.load_board(exact=True)

    def _status(self, text: str) -> None:
        # The status has a fixed place in the one-line header: no new layout for it.
        self.query_one("#board-status", Static).update(plain(text), layout=False)

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

    async def on_columns_read(self, message: ColumnsRead) -> None:
        if message.viewer != self.viewer or message.spec != self.spec:
            return  # read for someone else, or for a filter no longer typed
        focus = self._focus_position()
        focused = self.focused_card()
        focused_case = focused.case_id if focused is not None else None
        # Typing in the filter keeps the focus there; otherwise (a saved filter picked, a
        # move) focus goes back to the card, even if the cards just read replaced it.
        typing = isinstance(self.focused, Input)
        row = self.query_one("#board", StageRow)
        existing = {c.column.stage: c for c in row.query_children(StageColumn)}
        self._reading_pages.clear()
        if [c.stage for c in message.columns] == list(existing):
            for column in message.columns:
                existing[column.stage].show(column, focused_case)
        else:
            await row.remove_children()
            today = self._today()
            columns = [StageColumn(c, self._backend.team, today, self._show_lead)
                       for c in message.columns]
            row.fit_columns(columns)
            await row.mount_all(columns)
        self._status(self._filter_status(message.columns))
        if not all(c.exact for c in message.columns):
            self._count_later(message.spec)
        self.caseload_follow()
        if not typing:
            self._restore_focus(focused_case, focus)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app shows what went wrong; the header says the board on screen is not fresh.
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "board":
            self._status("Not read: press r to try again")
        elif event.worker.group in ("board-change", "board-page"):
            self.load_board()  # show the case as it is now (e.g. after a conflict)

    @work(thread=True, group="board-page", exit_on_error=False)
    def load_page(self, column: BoardColumn, spec: FilterSpec) -> None:
        cards = stage_page(self._backend, self.viewer, column.stage,
                           CardKey.of(column.cards[-1]),
                           limit=PAGE, spec=spec, today=self._today())
        self.post_message(StagePageRead(self.viewer, spec, column.stage, cards))

    def on_stage_page_read(self, message: StagePageRead) -> None:
        self._reading_pages.discard(message.stage)
        if message.viewer != self.viewer or message.spec != self.spec:
            return
        column = self.query_one(f"#stage-{message.stage}", StageColumn)
        column.append(message.cards)

    def _read_more_if_near_end(self, column: StageColumn, index: int) -> None:
        stage = column.column.stage
        if column.has_more and index >= len(column.column.cards) - 1 - NEAR_END \
                and stage not in self._reading_pages:
            self._reading_pages.add(stage)
            self.load_page(column.column, self.spec)

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

    def _set_spec(self, text: str, saved_id: str | bool | None = False) -> None:
        """Filter by ``text`` and (unless ``saved_id`` is False: unchanged) a saved filter."""
        team = self._backend.team
        keep = self.spec.saved_id if saved_id is False else saved_id
        saved = next((f for f in team.saved_filters if f.id == keep), None)
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
            (f.id, f.label) for f in self._backend.team.saved_filters]
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

    # --- moving between cards -----------------------------------------------------------

    def _columns(self) -> list[StageColumn]:
        return list(self.query(StageColumn))

    def _focus_position(self) -> tuple[int, int] | None:
        """(column, card) index of the card the cursor is on, if a column has focus."""
        focused = self.focused
        if not isinstance(focused, CardColumn) or not focused.cards:
            return None
        for x, column in enumerate(self._columns()):
            if column.card_list is focused:
                return x, focused.cursor
        return None

    def _restore_focus(self, case_id: int | None, position: tuple[int, int] | None) -> None:
        if case_id is not None:
            for column in self._columns():
                index = next((i for i, card in enumerate(column.cards)
                              if card.case_id == case_id), None)
                if index is not None:
                    self._put_cursor(column, index)
                    return
        x, y = position or (0, 0)
        self._focus_near(x, y, step=1)

    def _put_cursor(self, column: StageColumn, index: int) -> None:
        """Focus ``column`` with its cursor on card ``index``; read on near the end."""
        card_list = column.card_list
        card_list.move_cursor(index)
        self.set_focus(card_list)
        self._read_more_if_near_end(column, card_list.cursor)

    def _focus_near(self, x: int, y: int, step: int) -> bool:
        """Focus card ``y`` (or the last) in column ``x``, or the next column with cards."""
        columns = self._columns()
        while 0 <= x < len(columns):
            if columns[x].cards:
                self._put_cursor(columns[x], y)
                return True
            x += step
        return False

    def action_move(self, dx: int, dy: int) -> None:
        position = self._focus_position()
        if position is None:
            self._focus_near(0, 0, step=1)
            return
        x, y = position
        if dy:
            self._put_cursor(self._columns()[x], y + dy)
        elif dx:
            self._focus_near(x + dx, y, step=dx)

    # --- the command palette -------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("board: filter", "Filter the board as you type (/)",
                             self.action_start_filter)
        yield PaletteCommand("board: clear filter", "Show every case you may see (Esc)",
                             self.action_clear_filter)
        yield PaletteCommand("board: refresh", "Read the board again (r)",
                             self.action_refresh_board)
        yield PaletteCommand("queue: show", "Your triage queue: what waits for you (t)",
                             self.action_open_queue)
        yield PaletteCommand("board: caseload picture",
                             "Show or hide cases per stage over 12 weeks (c)",
                             self.action_toggle_caseload)
        for saved in self._backend.team.saved_filters:
            yield PaletteCommand(f"board: saved filter {saved.label}",
                                 "Show only the cases this saved filter matches",
                                 partial(self.apply_saved_filter, saved.id))
        card = self.focused_card()
        if card is not None:
            yield PaletteCommand(f"case: move {card.person_label} to…",
                                 "Propose another stage for the focused case (m)",
                                 self.action_move_to)
        yield from self.flag_commands()
        # Only the cards on screen: the palette knows no case the board has not shown.
        team = self._backend.team
        for column in self._columns():
            for shown in column.column.cards:
                yield PaletteCommand(
                    f"case: open {shown.person_label} #{shown.case_id}",
                    f"{team.category_label(shown.category)} · {team.stage_label(shown.stage)}",
                    partial(self.open_case, shown.case_id), discover=False)

    def focused_card(self) -> CaseCard | None:
        focused = self.focused
        return focused.cursor_card if isinstance(focused, CardColumn) else None

    def action_open_case(self) -> None:
        card = self.focused_card()
        if card is not None:
            self.open_case(card.case_id)

    def action_new_note(self) -> None:
        card = self.focused_card()
        if card is not None:
            from anchor_tui.screens.note_editor import open_note_editor

            open_note_editor(self.app, card.case_id)

    def open_case(self, case_id: int) -> None:
        from anchor_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(case_id))

    def action_open_queue(self) -> None:
        queue = QueueScreen(self._backend, self.viewer, self._today)
        # Changes made from the queue (taken, screened) show on the board at once.
        self.app.push_screen(queue, callback=lambda _: self._queue_closed(queue))

    def _queue_closed(self, queue: QueueScreen) -> None:
        if queue.changed:
            self.load_board()
