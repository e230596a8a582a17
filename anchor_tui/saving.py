"""Saves that wait for the database: kept in memory while the connection is lost.

A screen saves through :meth:`SaveQueue.submit`: the save runs in a thread worker; if
it fails because the database cannot be reached (``ConnectionLostError``), nothing of
it was written, so it is kept, with everything it needs, and run again, in order, when
the connection is back (:meth:`SaveQueue.resume`, called by the app). Any other failure
(a conflict, bad input) goes to the app's one error handler as usual, so a conflict is
shown and never dropped. ``on_saved`` runs on the UI thread once the save succeeded:
a screen (the note editor) keeps its text until then.

:func:`save_or_keep` is how a screen saves a change typed in a form or a prompt (a
huddle's decision, a snooze's reason, a case edit): kept while the database is away,
said so to whoever made it (and to nobody after they have left), and, refused (a
conflict, a rule), handed back to the screen with the error, which asks again with what
was written: the words are never lost. :func:`made_once` keeps a save made again after
its commit's answer was lost from writing its change twice.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from textual.app import App

from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.safe_text import printable


@dataclass
class PendingSave:
    label: str
    """What the save is, in the team's words ("move Aino V. to Follow-up")."""
    save: Callable[[], Any]
    on_saved: Callable[[Any], None] | None = None
    on_failed: Callable[[BaseException], object] | None = None
    on_kept: Callable[[], object] | None = None
    """Called (UI thread) when the save is kept for later: the connection is lost."""
    alive: Callable[[], bool] = lambda: True
    """Whether the person who asked for the save is still at the terminal (a save made
    after a switch of user reports a failure to the error log, not on the screen)."""
    made: int = field(default=0, compare=False)
    """When it was asked for, in the queue's count: kept saves wait in this order."""


class SaveQueue:
    """The app's saves that wait for a connection (one queue per app)."""

    def __init__(self, app: App[Any], on_waiting: Callable[[int], None],
                 on_lost: Callable[[ConnectionLostError], None]) -> None:
        self._app = app
        self._waiting: list[PendingSave] = []
        self._on_waiting = on_waiting
        self._on_lost = on_lost
        self._resuming = False
        self._count = itertools.count(1)

    @property
    def waiting(self) -> tuple[str, ...]:
        """The labels of the saves kept for later, oldest first."""
        return tuple(item.label for item in self._waiting)

    @property
    def waiting_here(self) -> tuple[str, ...]:
        """The labels of the kept saves made in the context in use (the same person, the
        same huddle): another person's labels name cases as that person may see them."""
        return tuple(item.label for item in self._waiting if item.alive())

    def submit(self, label: str, save: Callable[[], Any], *,
               on_saved: Callable[[Any], None] | None = None,
               on_failed: Callable[[BaseException], object] | None = None,
               on_kept: Callable[[], object] | None = None) -> None:
        """Save now, or (connection lost) keep it and save it when the server is back."""
        item = PendingSave(label, save, on_saved, on_failed, on_kept, context_alive(self._app),
                           next(self._count))
        if self._waiting or self._resuming:
            self._keep(item)  # after the ones already waiting: saves keep their order
            return
        self._start(item, then=None)

    def resume(self) -> None:
        """The connection is back: save what waits, oldest first, one after another."""
        if self._waiting and not self._resuming:
            self._resuming = True
            self._next()

    def _next(self) -> None:
        if not self._waiting:
            self._resuming = False
            self._on_waiting(0)
            return
        item = self._waiting.pop(0)
        self._on_waiting(len(self._waiting) + 1)
        self._start(item, then=self._next)

    def _start(self, item: PendingSave, then: Callable[[], None] | None) -> None:
        def attempt() -> None:
            try:
                result = item.save()
            except ConnectionLostError as error:
                self._app.call_from_thread(self._lost, item, error, then is not None)
                return
            except BaseException as error:
                if item.on_failed is not None:
                    self._app.call_from_thread(item.on_failed, error)
                if then is not None:
                    self._app.call_from_thread(then)
                if not item.alive():
                    # Made for someone who has gone (a conflict over their move): its
                    # modal would show the next person that person's case. Logged only.
                    log_only(self._app, error)
                    return
                raise  # to the app's one error handler
            if item.on_saved is not None:
                self._app.call_from_thread(item.on_saved, result)
            if then is not None:
                self._app.call_from_thread(then)

        self._app.run_worker(attempt, thread=True, group="save", exit_on_error=False)

    def _lost(self, item: PendingSave, error: ConnectionLostError, resumed: bool) -> None:
        # Back in its place, by when it was asked for: a save resumed is the oldest, but
        # two saved at once (the second asked for while the first was on its way) may
        # find the server gone one after the other, and the second is not the older.
        bisect.insort(self._waiting, item, key=lambda kept: kept.made)
        if resumed:
            self._resuming = False  # (a save started alongside leaves the resume going)
        self._on_waiting(len(self._waiting))
        self._on_lost(error)
        if item.on_kept is not None:
            item.on_kept()

    def _keep(self, item: PendingSave) -> None:
        self._waiting.append(item)
        self._on_waiting(len(self._waiting))
        if item.on_kept is not None:
            item.on_kept()


def log_only(app: App[Any], error: BaseException) -> None:
    """A save's failure for someone who has gone: to the app's error log (class and
    category only), never on the screen the next person sees."""
    log = getattr(app, "error_log", None)
    if log is not None:
        log.write(error)


def save_queue(app: App[Any]) -> SaveQueue:
    """The app's save queue (``AnchorApp.live.saves``)."""
    queue = getattr(getattr(app, "live", None), "saves", None)
    if not isinstance(queue, SaveQueue):
        raise RuntimeError("this app has no save queue")
    return queue


def context_alive(app: App[Any]) -> Callable[[], bool]:
    """The shared terminal's ``context_alive`` as of now (any other app: always)."""
    alive = getattr(app, "context_alive", None)
    return cast(Callable[[], bool], alive()) if callable(alive) else (lambda: True)


def later_notifier(app: App[Any]) -> Callable[..., None]:
    """How a save's result is told once it is made, maybe much later: through the shared
    terminal's ``notifier`` (silent once the person who saved has gone), else ``notify``."""
    notifier = getattr(app, "notifier", None)
    return cast(Callable[..., None], notifier()) if callable(notifier) else app.notify


@dataclass(frozen=True)
class Refused:
    """A save the database refused for a reason other than a lost connection (a
    conflict, a rule): the result :func:`save_or_keep` hands to ``on_refused``."""

    error: AnchorError


def made_once(save: Callable[[], Any], already: Callable[[], Any]) -> Callable[[], Any]:
    """``save``, which may be made again: the first attempt may have reached the server
    while its answer did not (the connection cut just then), so from the second attempt
    on, ``already`` looks first for what it wrote (None: nothing, save)."""
    attempts = [0]

    def once() -> Any:
        attempts[0] += 1
        if attempts[0] > 1:
            found = already()
            if found is not None:
                return found
        return save()

    return once


def save_or_keep(app: App[Any], label: str, what: str, save: Callable[[], Any], *,
                 on_saved: Callable[[Any], None] | None = None,
                 on_refused: Callable[[AnchorError], None] | None = None) -> None:
    """Save through the app's queue a change someone typed.

    ``label`` names it in the quit question (to the context that made it only), ``what``
    in the notifications ("The decision"). With the database away the change is kept and
    that is said, then said again once it is saved; both only while the context that made
    it is in use (never to the next person at the terminal). Refused, ``on_refused`` gets
    the error (in that context only; after it has closed, the error log does), so the
    screen asks again with what was written; without ``on_refused`` a refusal goes to
    the app's error handler as any other."""
    tell = later_notifier(app)
    alive = context_alive(app)
    kept = [False]

    def kept_now() -> None:
        kept[0] = True
        tell(printable(f"The database cannot take it now (away or busy). {what} is kept "
                       "and is saved when it can be."), title="Kept for the database",
             severity="warning", markup=False)

    def saved(result: Any) -> None:
        if isinstance(result, Refused):
            if on_refused is not None and alive():
                on_refused(result.error)
            else:
                log_only(app, result.error)
            return
        if kept[0]:
            tell(printable(f"{what}, kept while the database was away, is saved."),
                 title="Saved", markup=False)
        if on_saved is not None:
            on_saved(result)

    def run() -> Any:
        try:
            return save()
        except ConnectionLostError:
            raise  # kept, and made again when the server is back
        except AnchorError as error:
            if on_refused is None:
                raise
            return Refused(error)

    save_queue(app).submit(label, run, on_saved=saved, on_kept=kept_now)
