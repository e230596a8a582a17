"""The case board (first version): one column per stage, cards the viewer may see.

Data comes from ``services.board.board_columns`` in a thread worker; this screen holds
only the plain ``BoardColumn``/``CaseCard`` values for one viewer and is dropped
entirely on sign-out. Arrow keys and h/j/k/l move between cards, ``r`` re-reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, HorizontalScroll
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.messages import BoardLoaded
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns
from anchor_tui.widgets.case_card import CaseCardView
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain
from anchor_tui.widgets.stage_column import StageColumn

PER_STAGE = 50
"""Cards read per stage; the column says when there are more (paging is a later issue)."""
MIN_COLUMN_WIDTH = 22


class StageRow(HorizontalScroll, can_focus=False, inherit_bindings=False):
    """The columns side by side, as many whole columns as fit; scrolls sideways to the
    focused card when not all fit (three on an 80-column terminal, seven on 160)."""

    def on_resize(self) -> None:
        self.fit_columns()

    def fit_columns(self) -> None:
        columns = list(self.query_children(StageColumn))
        if not columns or not self.size.width:
            return
        fitting = max(1, min(len(columns), self.size.width // MIN_COLUMN_WIDTH))
        width, spare = divmod(self.size.width, fitting)
        width = max(MIN_COLUMN_WIDTH, width)
        for index, column in enumerate(columns):
            # The spare cells go one each to the first columns of each screenful, so the
            # visible columns fill the width and no sliver of the next one shows.
            column.styles.width = width + (1 if index % fitting < spare else 0)


class BoardScreen(AnchorScreen):
    """The shared case load, as the signed-in viewer may see it."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("up,k", "move(0, -1)", "Up", show=False, id="board.up"),
        Binding("down,j", "move(0, 1)", "Down", show=False, id="board.down"),
        Binding("left,h", "move(-1, 0)", "Left", show=False, id="board.left"),
        Binding("right,l", "move(1, 0)", "Right", show=False, id="board.right"),
        Binding("r", "refresh_board", "Refresh", id="board.refresh"),
    ]

    def __init__(self, backend: Backend, viewer: Viewer, today: Callable[[], dt.date]) -> None:
        super().__init__()
        self._backend = backend
        self.viewer = viewer
        self._today = today

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
        yield StageRow(id="board")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.load_board()

    @work(thread=True, exclusive=True, group="board", exit_on_error=False)
    def load_board(self) -> None:
        columns = board_columns(self._backend, self.viewer, per_stage=PER_STAGE)
        if not get_current_worker().is_cancelled:
            self.post_message(BoardLoaded(self.viewer, columns))

    def action_refresh_board(self) -> None:
        self.query_one("#board-status", Static).update("Reading the board…")
        self.load_board()

    async def on_board_loaded(self, message: BoardLoaded) -> None:
        if message.viewer != self.viewer:
            return  # read for someone else: never shown here
        focus = self._focus_position()
        focused_case = self.focused.card.case_id if isinstance(self.focused, CaseCardView) \
            else None
        row = self.query_one("#board", StageRow)
        await row.remove_children()
        today = self._today()
        await row.mount_all(StageColumn(c, self._backend.team, today) for c in message.columns)
        row.fit_columns()
        self.query_one("#board-status", Static).update("")
        self._restore_focus(focused_case, focus)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app shows what went wrong; the header says the board on screen is not fresh.
        if event.worker.group == "board" and event.state == WorkerState.ERROR:
            self.query_one("#board-status", Static).update("Not read: press r to try again")

    # --- moving between cards -----------------------------------------------------------

    def _columns(self) -> list[StageColumn]:
        return list(self.query(StageColumn))

    def _focus_position(self) -> tuple[int, int] | None:
        """(column, card) index of the focused card, if a card has focus."""
        focused = self.focused
        if not isinstance(focused, CaseCardView):
            return None
        for x, column in enumerate(self._columns()):
            cards = column.cards
            if focused in cards:
                return x, cards.index(focused)
        return None

    def _restore_focus(self, case_id: int | None, position: tuple[int, int] | None) -> None:
        if case_id is not None:
            for card in self.query(CaseCardView):
                if card.card.case_id == case_id:
                    self.set_focus(card)
                    return
        x, y = position or (0, 0)
        self._focus_near(x, y, step=1)

    def _focus_near(self, x: int, y: int, step: int) -> bool:
        """Focus card ``y`` (or the last) in column ``x``, or the next column with cards."""
        columns = self._columns()
        while 0 <= x < len(columns):
            cards = columns[x].cards
            if cards:
                self.set_focus(cards[min(y, len(cards) - 1)])
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
            cards = self._columns()[x].cards
            self.set_focus(cards[max(0, min(y + dy, len(cards) - 1))])
        elif dx:
            self._focus_near(x + dx, y, step=dx)
