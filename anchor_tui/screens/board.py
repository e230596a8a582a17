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
from anchor_tui.screens.board_filtering import BoardFiltering
from anchor_tui.screens.board_moves import BoardMoves
from anchor_tui.screens.huddle_flag import HuddleFlagging
from anchor_tui.screens.queue import QueueScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import (
    PAGE,
    board_columns,
    shows_lead,
    stage_page,
)
from anchor_tui.services.drafts import DraftsWaiting, drafts_waiting
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain
from anchor_tui.widgets.stage_column import StageColumn, StageRow
from anchor_tui.widgets.typeahead import FilterField

CARD_HEIGHT = 6
"""Lines a card takes with its margin: the first page fills a column and a little more."""
NEAR_END = 2
"""Read the next page when focus comes this close to a column's last card."""


class ColumnsRead(Message):
    """The board's columns were read for ``viewer`` under ``spec``."""

    def __init__(self, viewer: Viewer, spec: FilterSpec, columns: list[BoardColumn]) -> None:
        super().__init__()
        self.viewer = viewer
        self.spec = spec
        self.columns = columns


class DraftsRead(Message):
    """The viewer's unfinished notes (drafts) were counted, once after signing in."""

    def __init__(self, viewer: Viewer, waiting: DraftsWaiting) -> None:
        super().__init__()
        self.viewer = viewer
        self.waiting = waiting


class StagePageRead(Message):
    """The next page of one stage was read."""

    def __init__(self, viewer: Viewer, spec: FilterSpec, stage: str,
                 cards: tuple[CaseCard, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.spec = spec
        self.stage = stage
        self.cards = cards


# BoardCaseload first: its style sheet selects the screen by that name, and Textual's CSS
# knows a screen by the chain of its first bases only.
class BoardScreen(BoardCaseload, BoardFiltering, BoardMoves, HuddleFlagging, AnchorScreen):
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
        self._drafts_told = False

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
        if not self._drafts_told:  # once the board is drawn: not on the way to it
            self._drafts_told = True
            self.count_drafts()

    @work(thread=True, group="board-drafts", exit_on_error=False)
    def count_drafts(self) -> None:
        """Unfinished notes are said once, at sign-in: a draft kept when the person left
        in a hurry (a takeover at the lock, ctrl+o) or a note whose save failed after
        they had gone would otherwise wait unseen until they next wrote on that case."""
        waiting = drafts_waiting(self._backend, self.viewer)
        if waiting.any:
            self.post_message(DraftsRead(self.viewer, waiting))

    def on_drafts_read(self, message: DraftsRead) -> None:
        if message.viewer != self.viewer:
            return
        waiting = message.waiting
        said = []
        if waiting.count:
            what = "1 unfinished note is kept as a draft" if waiting.count == 1 \
                else f"{waiting.count} unfinished notes are kept as drafts"
            said.append(f"{what}{_on_cases(waiting.count, waiting.case_ids)}. Writing a "
                        "note on the case (n) offers yours back.")
        if waiting.refused:
            # A change saved while the database was away and refused when it came back,
            # after this person had left: they hear it was not made, not merely kept.
            said.append(
                "1 change you saved while the database was away was refused when it came "
                "back: it was not made." if waiting.refused == 1 else
                f"{waiting.refused} changes you saved while the database was away were "
                "refused when it came back: they were not made.")
        if waiting.forms:
            # One message at sign-in for all that was left unfinished (a form kept when
            # the terminal passed to someone else, or a refused change's form:
            # ``services.form_drafts``).
            what = "1 form you were filling in is kept" if waiting.forms == 1 \
                else f"{waiting.forms} forms you were filling in are kept"
            said.append(f"{what}{_on_cases(waiting.forms, waiting.form_case_ids)}. Opening "
                        "the same form again fills it in with what you typed"
                        f"{' and says why' if waiting.refused else ''}.")
        self.notify(" ".join(said), title="Drafts", timeout=12)

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
        for saved in self.saved_filters():
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


def _on_cases(count: int, cases: tuple[int, ...]) -> str:
    """`` (cases 3, 5…)``: where the newest are (nothing when on no case)."""
    if not cases:
        return ""
    listed = ", ".join(str(case_id) for case_id in cases)
    more = "…" if count > len(cases) else ""
    return f" ({'case' if len(cases) == 1 else 'cases'} {listed}{more})"
