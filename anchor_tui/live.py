"""Live updates and the connection's state, for the whole app.

:class:`LiveUpdates` runs the change watcher (``services/changes.py``) in a thread and
turns what it reports into messages to the app: ``CasesChanged`` (the app hands it to
every screen it holds, so the board and the queue read again and keep their place),
``ConnectionLost`` and ``ConnectionRestored``. It also keeps what the status line says
(``widgets/connection_status.py``) and the app's :class:`~anchor_tui.saving.SaveQueue`,
whose kept saves run again when the connection is back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.screen import Screen

from anchor_tui.errors import ConnectionLostError, DatabaseBusyError
from anchor_tui.messages import CasesChanged, ConnectionLost, ConnectionRestored
from anchor_tui.saving import SaveQueue
from anchor_tui.widgets.connection_status import ConnectionStatus, status_text

if TYPE_CHECKING:  # loaded once the backend is open (services.opening)
    from anchor_tui.services.backend import Backend
    from anchor_tui.services.changes import Changes, ChangeWatcher


class LiveUpdates:
    """The app's watcher, status line and save queue (created once per app)."""

    def __init__(self, app: App[Any],
                 screens: Callable[[], Iterable[Screen[Any]]] | None = None) -> None:
        """``screens``: the screens to keep told (by default the stack on show). The
        shared terminal passes its context's screens and the lock's: while it is locked,
        the person's board, behind the lock, reads again what changed meanwhile, as it
        would on show, and is up to date when they unlock."""
        self._app = app
        self._screens = screens or (lambda: list(app.screen_stack))
        self.online = True
        self.reason = ""
        self.busy = ""
        """The last save failed because the database was busy (what it said), not gone:
        said until the changes waiting are saved."""
        self.saves = SaveQueue(app, on_waiting=self._waiting_changed, on_lost=self._save_lost)
        self._waiting = 0
        self._watcher: ChangeWatcher | None = None

    def start(self, backend: Backend) -> None:
        """Watch ``backend`` for changes (once it is open: the app opens it while the
        sign-in screen is shown)."""
        if self._watcher is None:
            from anchor_tui.services.changes import ChangeWatcher

            self._watcher = ChangeWatcher(backend, self._changed, self._connection)
            self._watcher.start()

    def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()

    # --- from the watcher's thread ----------------------------------------------------------

    def _changed(self, changes: Changes) -> None:
        self._app.post_message(CasesChanged(changes.case_ids))

    def _connection(self, online: bool, reason: str) -> None:
        self._app.post_message(ConnectionRestored() if online else ConnectionLost(reason))

    # --- on the UI thread -------------------------------------------------------------------

    @property
    def status(self) -> str:
        return status_text(self.online, self._waiting, self.busy)

    def _save_lost(self, error: ConnectionLostError) -> None:
        self.lost(error.message, busy=isinstance(error, DatabaseBusyError))

    def lost(self, reason: str, *, busy: bool = False) -> None:
        """The server stopped answering (the watcher saw it, or a unit of work did), or
        with ``busy`` it answered but a lock held elsewhere kept the work from being done."""
        self.busy = reason if busy else ""
        if busy:
            # It answers: the watcher would only say it is back at once. The save queue
            # tries again on the watcher's next look, as after a loss.
            if self._watcher is not None:
                self._watcher.suspect()
            self.show_status()
            return
        self.online = False
        self.reason = reason
        if self._watcher is not None:
            self._watcher.suspect()
        self.show_status()

    def restored(self) -> None:
        self.online = True
        self.reason = ""
        self.show_status()
        self.saves.resume()

    def _waiting_changed(self, waiting: int) -> None:
        self._waiting = waiting
        if not waiting:
            self.busy = ""
        self.show_status()

    def show_status(self) -> None:
        text = self.status
        for screen in self._screens():
            for line in screen.query(ConnectionStatus):
                line.show(text)

    def forward(self, message: CasesChanged) -> None:
        """Hand a change to every screen the app holds (each reads again what it shows)."""
        for screen in self._screens():
            if isinstance(screen, Screen):
                screen.post_message(CasesChanged(message.case_ids))
