"""The caseload picture on the board (``c``): cases per stage over the last 12 weeks.

The panel counts exactly the cases the board counts: every case the viewer may see,
narrowed by the filter in force (the same SQL conditions), so its last point equals
the column counts (once they are exact: a broad filter's columns count to 100 while
it is typed). It sits under the columns on a narrow terminal and beside them on
a wide one (120 columns or more). It is read only while shown: whenever the board is
read again (a filter typed, a case moved, ``r``), a shown panel reads itself again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events
from textual.screen import Screen

from anchor_tui.domain import FilterSpec, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.sparkline_panel import SparklinePanel

WIDE = 120
"""From this many columns the picture stands beside the columns, not under them."""


class BoardCaseload(Screen[None]):
    """The caseload-picture part of the board screen (a mixin; the board holds the data)."""

    DEFAULT_CSS = """
    BoardCaseload #board-body { height: 1fr; layout: vertical; }
    BoardCaseload #board-body.-wide { layout: horizontal; }
    BoardCaseload #board-body.-wide #board { width: 1fr; height: 100%; }
    BoardCaseload #board-caseload { width: 100%; height: auto;
        border-top: hkey $panel-lighten-2; }
    BoardCaseload #board-body.-wide #board-caseload { width: auto; height: 100%;
        border-top: none; border-left: vkey $panel-lighten-2; }
    """

    _backend: Backend
    viewer: Viewer
    _today: Callable[[], dt.date]
    spec: FilterSpec

    if TYPE_CHECKING:
        # Given by the board's filter (``BoardFiltering``). Not a stub that raises: this
        # class comes first among the board's bases, so a stub would hide the real one.
        def filter_words(self) -> str: ...

    def _caseload_panel(self) -> SparklinePanel | None:
        found = self.query("#board-caseload").results(SparklinePanel)
        return next(iter(found), None)

    @property
    def caseload_shown(self) -> bool:
        panel = self._caseload_panel()
        return panel is not None and panel.display

    def _caseload_label(self) -> str:
        words = self.filter_words()
        return f"filter {words}" if words else ""

    async def action_toggle_caseload(self) -> None:
        panel = self._caseload_panel()
        body = self.query_one("#board-body")
        if panel is None:
            panel = SparklinePanel(self._backend, self.viewer, today=self._today,
                                   id="board-caseload", spec=self.spec,
                                   filter_label=self._caseload_label())
            await body.mount(panel)  # reads itself on mount
        elif panel.display:
            panel.display = False
        else:
            panel.display = True
            self._read_caseload(panel)
        self._place_caseload()

    def caseload_follow(self) -> None:
        """The board was read again (a filter, a move, r): a shown picture too."""
        panel = self._caseload_panel()
        if panel is not None and panel.display:
            self._read_caseload(panel)

    def _read_caseload(self, panel: SparklinePanel) -> None:
        panel.show_filter(self.spec, self._caseload_label())

    def _place_caseload(self) -> None:
        self.query_one("#board-body").set_class(self.size.width >= WIDE, "-wide")

    def on_resize(self, event: events.Resize) -> None:
        self._place_caseload()
