"""What every anchor-tui screen shares: failed workers go to the app's one error handler,
the connection's status line, and no work done twice when a screen is first shown.

Textual posts ``Worker.StateChanged`` to the node that started the worker and does not
bubble it, so a screen passes a failure on to the app, which shows the error modal
(``AnchorApp.on_worker_state_changed``). Workers run with ``exit_on_error=False``.

A screen opening used to be styled and laid out more often than it changed (profiled
on the case with 100 notes): the status line was mounted after the screen's widgets
(another mount and layout), the first ``ScreenResume`` restyled every widget that had
been styled as it was mounted, and the screen's first layout posts the screen a
``Resize`` to the size it was just laid out at, which Textual answers with a second
full layout (of the screens beneath it too). Each is skipped here; a real change of the
terminal's size, or a screen resumed after another, is handled as Textual does.
"""

from __future__ import annotations

from textual import events, on
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from anchor_tui.widgets.connection_status import ConnectionStatus


class AnchorScreen(Screen[None]):
    """A full screen of the app. Subclasses may handle their own workers' states too:
    Textual calls this handler as well as theirs. Each one shows the connection's status
    line (hidden while all is well)."""

    _resumed = False
    """Whether the screen has been shown (resumed) before."""

    async def mount_composed_widgets(self, widgets: list[Widget]) -> None:
        # The status line is mounted with what the screen composed: one mount, one layout.
        live = getattr(self.app, "live", None)
        line = ConnectionStatus.saying(live.status if live is not None else "")
        await super().mount_composed_widgets([*widgets, line])

    @on(events.ScreenResume)
    def _first_resume_styled(self, event: events.ScreenResume) -> None:
        # Runs before Textual's own handler (this class comes first in the MRO). Shown for
        # the first time, the screen's widgets were styled as they were mounted, just now.
        # (A decorated handler: subclasses keep their own on_screen_resume.)
        if not self._resumed:
            event.refresh_styles = False
        self._resumed = True

    @on(events.Resize)
    def _skip_echoed_resize(self, event: events.Resize) -> None:
        # The echo of the screen's own layout (already laid out at this size): not laid
        # out again. prevent_default stops Textual's handler, which comes later in the MRO.
        if event.size == self.outer_size:
            event.prevent_default()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.app.post_message(Worker.StateChanged(event.worker, event.state))

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """Say something, unless this screen's viewer context has closed (its worker
        finished after a switch of user: what it says was meant for someone else).
        Always plain text (the app's ``notify`` makes it so)."""
        holds = getattr(self.app, "holds_screen", None)
        if holds is not None and not holds(self):
            return
        super().notify(message, title=title, severity=severity, timeout=timeout,
                       markup=markup)
