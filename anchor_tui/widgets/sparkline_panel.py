"""The caseload picture: cases per stage over the last 12 weeks, as small sparklines.

Self-contained: give it the backend and the viewer and mount it anywhere (the board's
side, a panel); it reads ``services.caseload`` in its own thread worker and redraws.
Each line is the stage's name, its sparkline and its number now, so nothing depends on
colour. ``refresh_caseload()`` reads again (after a stage change, say); ``show_filter()``
counts only the cases a board filter matches (the board shows its panel so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual import work
from textual.content import Content
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import FilterSpec, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.caseload import Caseload, caseload
from anchor_tui.services.clock import moment_on
from anchor_tui.widgets.plain_text import plain

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(counts: tuple[int, ...]) -> str:
    """One block per point, scaled to the series' own largest value (0 is the lowest)."""
    top = max(counts, default=0)
    if top <= 0:
        return BLOCKS[0] * len(counts)
    return "".join(BLOCKS[0] if n <= 0 else BLOCKS[max(1, round(n / top * 7))]
                   for n in counts)


def caseload_content(load: Caseload, filtered: str = "") -> Content:
    """The picture; ``filtered`` names the board filter it counts (empty: none)."""
    width = max((len(s.label) for s in load.stages), default=0)
    digits = max((len(str(s.now)) for s in load.stages), default=1)
    title = Content.assemble((f"Cases per stage, last {len(load.points)} weeks", "bold"))
    if filtered:
        title = Content.assemble(title, " · ", plain(filtered))
    lines = [title]
    for stage in load.stages:
        lines.append(Content.assemble(
            plain(stage.label.ljust(width)), "  ", (sparkline(stage.counts), "$accent"),
            f"  {stage.now:>{digits}} now",
        ))
    return Content("\n").join(lines)


class CaseloadRead(Message):
    """The caseload picture was read for ``viewer``."""

    def __init__(self, viewer: Viewer, load: Caseload, spec: FilterSpec | None = None,
                 label: str = "") -> None:
        super().__init__()
        self.viewer = viewer
        self.load = load
        self.spec = spec or FilterSpec()
        self.label = label


class SparklinePanel(Static):
    """Cases per stage over the last 12 weeks, over what ``viewer`` sees."""

    DEFAULT_CSS = """
    SparklinePanel { height: auto; width: auto; padding: 0 1; }
    """

    def __init__(self, backend: Backend, viewer: Viewer, *,
                 today: Callable[[], dt.date] = dt.date.today, id: str | None = None,
                 spec: FilterSpec | None = None, filter_label: str = "") -> None:
        super().__init__("Reading the caseload…", id=id)
        self._backend = backend
        self.viewer = viewer
        self._today = today
        self.spec = spec or FilterSpec()
        self.filter_label = filter_label
        self.load: Caseload | None = None

    def on_mount(self) -> None:
        self.refresh_caseload()

    def show_filter(self, spec: FilterSpec, label: str) -> None:
        """Read again, counting only the cases ``spec`` matches (``label`` names it)."""
        self.spec = spec
        self.filter_label = label
        self.refresh_caseload()

    @work(thread=True, exclusive=True, group="caseload", exit_on_error=False)
    def refresh_caseload(self) -> None:
        spec, label = self.spec, self.filter_label
        load = caseload(self._backend, self.viewer, now=moment_on(self._today()), spec=spec)
        if not get_current_worker().is_cancelled:
            self.post_message(CaseloadRead(self.viewer, load, spec, label))

    def on_caseload_read(self, message: CaseloadRead) -> None:
        message.stop()
        if message.viewer != self.viewer or message.spec != self.spec:
            return  # read for someone else, or for a filter no longer in force
        self.load = message.load
        self.update(caseload_content(message.load, message.label))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker state messages do not bubble: hand a failure to the app's error handler.
        if event.state == WorkerState.ERROR:
            self.update("Caseload not read.")
            self.app.post_message(Worker.StateChanged(event.worker, event.state))
