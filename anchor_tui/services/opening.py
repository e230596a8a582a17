"""The backend, opened in a thread while the first screen (sign-in) is already drawn.

Opening the backend means importing SQLAlchemy and the data layer, reading the policy,
connecting and checking the schema: about half a second before anything could be
drawn. Nobody can use the board before signing in, so ``run`` draws the sign-in screen
first and opens the backend meanwhile (the person is typing); the passphrase check
waits for it if it is not ready yet.

If opening fails (a bad policy, a database that is locked, unreachable or at the wrong
schema), the app stops and the command line prints the same one line and fix as when
the check ran before drawing, with exit status 2.

This module imports nothing heavy itself: that is its point.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from anchor_tui.settings import Settings, TeamConfig

if TYPE_CHECKING:
    from anchor_tui.services.backend import Backend


class OpeningBackend:
    """A backend on its way: ``opened()`` waits for it (call it off the UI thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.team: TeamConfig = settings.team
        """The team (known at once, from the settings: the sign-in screen names it)."""
        self.error: BaseException | None = None
        self._backend: Backend | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start opening (once)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._open, name="open-backend",
                                                daemon=True)
                self._thread.start()

    def _open(self) -> None:
        try:
            from anchor_tui.services.backend import Backend

            self._backend = Backend.open(self.settings)
        except BaseException as error:  # handed to whoever waits (and to the CLI)
            self.error = error
        finally:
            self._done.set()

    def opened(self) -> Backend:
        """The backend, once open; raises what opening raised."""
        self.start()
        self._done.wait()
        if self.error is not None:
            raise self.error
        assert self._backend is not None
        return self._backend

    def close(self) -> None:
        if self._done.is_set() and self._backend is not None:
            self._backend.close()

