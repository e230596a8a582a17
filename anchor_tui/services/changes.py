"""Watching the database for changes made in other terminals, and for the server itself.

One thread per app (:class:`ChangeWatcher`), with a connection of its own:

- PostgreSQL: ``LISTEN anchor_changes`` (the triggers of ``db/change_feed.py`` notify
  on commit). Notifications arriving within ``BATCH_SECONDS`` are reported together, as
  the set of case ids they name (or *anything*, for a change that names no case).
- SQLite: the ``change_count`` row, read every ``POLL_SECONDS``; when it moved,
  anything may have changed.

The same thread watches the connection: when the listening connection breaks (a server
restart), or a unit of work reports a lost connection (:meth:`suspect`), it says so
once, then tries again every ``RETRY_SECONDS`` until the server answers; then it says
the connection is back and reports *anything changed* (notifications sent meanwhile
were missed). Callbacks run on this thread: the app posts messages from them.

No Textual here; ``anchor_tui/live.py`` connects this to the app.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from anchor_tui.db import change_feed
from anchor_tui.db.engine import describe_connect_error
from anchor_tui.services.backend import Backend

POLL_SECONDS = 0.5
"""How long the thread waits for a notification (PostgreSQL) or between reads (SQLite)."""
BATCH_SECONDS = 0.15
"""Notifications within this time of the first are reported together."""
RETRY_SECONDS = 1.0
"""How often a lost server is tried again."""
PING_SECONDS = 5.0
"""How often an idle listening connection is checked (a silent network loss)."""

log = logging.getLogger("anchor_tui.changes")


@dataclass(frozen=True)
class Changes:
    """What changed: the cases named, or ``None``: anything may have changed."""

    case_ids: frozenset[int] | None

    def touches(self, case_id: int) -> bool:
        return self.case_ids is None or case_id in self.case_ids


ANYTHING = Changes(None)


def changes_of(payloads: list[str]) -> Changes:
    """The notifications' payloads (``'<table> <id>'``) as the cases they name."""
    case_ids: set[int] = set()
    for payload in payloads:
        table, ref = change_feed.parse(payload)
        if ref is None or change_feed.WATCHED.get(table) not in ("case_id", "id"):
            return ANYTHING  # a consent names a person, whose every case may look different
        case_ids.add(ref)
    return Changes(frozenset(case_ids))


OnChanges = Callable[[Changes], None]
OnConnection = Callable[[bool, str], None]
"""``(online, what happened)``: False with a sentence saying what was lost, True when back."""


class ChangeWatcher:
    """Reports changes and the connection's state from a thread of its own."""

    def __init__(self, backend: Backend, on_changes: OnChanges,
                 on_connection: OnConnection) -> None:
        self._backend = backend
        self._on_changes = on_changes
        self._on_connection = on_connection
        self._stop = threading.Event()
        self._suspect = threading.Event()
        self._thread: threading.Thread | None = None
        self.online = True

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="anchor-changes",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def suspect(self) -> None:
        """A unit of work lost its connection: check the server now (and until it is back)."""
        self._suspect.set()

    # --- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        watch = self._listen if self._backend.engine.dialect.name == "postgresql" \
            else self._poll
        while not self._stop.is_set():
            try:
                watch()
            except Exception as exc:  # the watcher must outlive any failure; it retries
                self._lost(exc)
                self._stop.wait(RETRY_SECONDS)

    def _lost(self, exc: BaseException) -> None:
        if self.online:
            self.online = False
            url = self._backend.engine.url.render_as_string(hide_password=True)
            described = describe_connect_error(url, exc)
            log.warning("database connection lost (%s)", exc.__class__.__name__)
            self._on_connection(False, described.message)

    def _back(self) -> None:
        self._suspect.clear()
        if not self.online:
            self.online = True
            log.warning("database connection back")
            self._on_connection(True, "")
            self._on_changes(ANYTHING)  # what was notified meanwhile is gone

    def _confirm(self) -> None:
        """A unit of work suspected the server; it answers: say so (whatever we thought)."""
        self._suspect.clear()
        self.online = True
        self._on_connection(True, "")
        self._on_changes(ANYTHING)

    def _probe(self) -> None:
        """A round trip through the app's own pool (pre-ping replaces dead connections)."""
        with self._backend.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def _poll(self) -> None:
        """SQLite: read the change counter; report when it moved."""
        last: int | None = None
        while not self._stop.is_set():
            with self._backend.engine.connect() as conn:
                count = conn.execute(text("SELECT changes FROM change_count WHERE id = 1")
                                     ).scalar()
                conn.rollback()
            if self._suspect.is_set():
                self._confirm()
            self._back()
            if last is not None and count != last:
                self._on_changes(ANYTHING)
            last = count
            self._stop.wait(POLL_SECONDS)

    def _listen(self) -> None:
        """PostgreSQL: LISTEN on a connection of our own, outside the pool."""
        if not self.online or self._suspect.is_set():
            self._probe()
        raw = self._backend.engine.raw_connection()
        driver: Any = raw.driver_connection
        raw.detach()  # a listening connection must never serve a unit of work
        try:
            driver.autocommit = True
            driver.execute(f"LISTEN {change_feed.CHANNEL}")
            self._back()
            pinged = time.monotonic()
            while not self._stop.is_set():
                payloads = [n.payload for n in
                            driver.notifies(timeout=POLL_SECONDS, stop_after=1)]
                if payloads:
                    deadline = time.monotonic() + BATCH_SECONDS
                    while (left := deadline - time.monotonic()) > 0:
                        payloads += [n.payload for n in driver.notifies(timeout=left)]
                    self._on_changes(changes_of(payloads))
                if self._suspect.is_set() or time.monotonic() - pinged > PING_SECONDS:
                    driver.execute("SELECT 1")
                    if self._suspect.is_set():
                        self._probe()
                        self._confirm()
                    pinged = time.monotonic()
        finally:
            with contextlib.suppress(SQLAlchemyError, OSError):  # broken: nothing to close
                raw.close()
