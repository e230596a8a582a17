"""What every anchor-tui screen shares: failed workers go to the app's one error handler.

Textual posts ``Worker.StateChanged`` to the node that started the worker and does not
bubble it, so a screen passes a failure on to the app, which shows the error modal
(``AnchorApp.on_worker_state_changed``). Workers run with ``exit_on_error=False``.
"""

from __future__ import annotations

from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from anchor_tui.widgets.connection_status import ConnectionStatus


class AnchorScreen(Screen[None]):
    """A full screen of the app. Subclasses may handle their own workers' states too:
    Textual calls this handler as well as theirs. Each one shows the connection's status
    line (hidden while all is well)."""

    def on_mount(self) -> None:
        line = ConnectionStatus()
        self.mount(line)
        live = getattr(self.app, "live", None)
        line.show(live.status if live is not None else "")

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
