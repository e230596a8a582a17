"""Saves, one at a time, in the order they were made; kept while the database is away.

A screen saves through :meth:`SaveQueue.submit`. The app's saves run strictly one
after another, in a thread worker each, in the order they were asked for: at most one
is on its way at any moment, and a save asked for meanwhile waits its turn behind it.
Two saves in flight at once could be written in either order (a case edited twice kept
the older edit, a huddle's decisions reached the minutes in another order than typed,
a save made again after a loss came after one made later); one at a time, they cannot.

If a save fails because the database cannot be reached (``ConnectionLostError``),
nothing of it was written: it goes back to the head of the line, and nothing after it
is started until the connection is back (:meth:`SaveQueue.resume`, called by the app
when the change watcher sees the server again); then the line is saved first to last.
Only saves waiting for a lost connection are *kept*: each is said so once it is (its
``on_kept``) and counted on the status line (``on_waiting``). A save merely in line
behind the one on its way, on a connection that works, is neither: nothing is wrong,
and the status line does not flash "1 waiting" on every quick second save. Should the
save ahead of it find the connection lost, it is kept (and said so) from then on.

A database that is busy (``DatabaseBusyError``: a lock held elsewhere past the
statement timeout) is treated as a lost connection: the save is kept and made again
when the watcher has looked. The saves behind one that waits on a busy statement (up
to the statement timeout: 15 s on PostgreSQL, SQLite's busy timeout 5 s), or on a
server that stopped answering (about 10 s to know it is gone), wait too, each attempt
of it: order is worth more than speed here, and nothing waiting is lost. Saves in
line, kept or not, are in :attr:`SaveQueue.waiting`, which the quit question asks
about: they live in this process only.

Any other failure (a conflict, bad input) goes to the app's one error handler as usual,
so a conflict is shown and never dropped, and the next save in line runs. ``on_saved``
runs on the UI thread once the save succeeded: a screen (the note editor) keeps its
text until then. The queue's state is touched on the UI thread only: a worker hands
its outcome back with ``call_from_thread``.

:func:`save_or_keep` is how a screen saves a change typed in a form or a prompt (a
huddle's decision, a snooze's reason, a case edit): kept while the database is away,
said so to whoever made it (and to nobody after they have left), and, refused (a
conflict, a rule), handed back to the screen with the error, which asks again with what
was written: the words are never lost. Refused after its maker has left the terminal, a
change typed in a form is kept for them as that form (``keep_if_refused``), filled in
and saying why when they next open it. :func:`made_once` keeps a save made again after
its commit's answer was lost from writing its change twice.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from textual.app import App

from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.safe_text import printable

if TYPE_CHECKING:
    # The sign-in screen is drawn before the data layer loads (services.opening):
    # saving is imported with it, so the services it keeps refusals with are not.
    from anchor_tui.domain import Viewer
    from anchor_tui.services.backend import Backend


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
    """When it was asked for, in the queue's count: saves are made in this order."""
    kept: bool = field(default=False, compare=False)
    """Waiting for a lost connection (said so, and counted), not merely in line."""


class SaveQueue:
    """The app's saves, one at a time and in order (one queue per app)."""

    def __init__(self, app: App[Any], on_waiting: Callable[[int], None],
                 on_lost: Callable[[ConnectionLostError], None]) -> None:
        self._app = app
        self._waiting: list[PendingSave] = []
        """Not begun yet, oldest first (by ``made``)."""
        self._running: PendingSave | None = None
        """The one save on its way."""
        self._held = False
        """A save found the connection lost: nothing starts until :meth:`resume`."""
        self._on_waiting = on_waiting
        self._on_lost = on_lost
        self._counted = 0
        self._count = itertools.count(1)

    @property
    def waiting(self) -> tuple[str, ...]:
        """The labels of the saves not made yet, oldest first: kept for the connection
        (the one being made again among them, as the status line counts it), or in line
        behind the one on its way. Quitting would lose them."""
        return tuple(item.label for item in self._unsaved())

    @property
    def waiting_here(self) -> tuple[str, ...]:
        """The labels of the waiting saves made in the context in use (the same person,
        the same huddle): another person's labels name cases as that person may see them."""
        return tuple(item.label for item in self._unsaved() if item.alive())

    def _unsaved(self) -> list[PendingSave]:
        running = self._running
        return ([running] if running is not None and running.kept else []) + self._waiting

    def submit(self, label: str, save: Callable[[], Any], *,
               on_saved: Callable[[Any], None] | None = None,
               on_failed: Callable[[BaseException], object] | None = None,
               on_kept: Callable[[], object] | None = None) -> None:
        """Save after every save asked for before (now, if none is on its way or waits);
        with the connection lost, keep it and save it when the server is back."""
        item = PendingSave(label, save, on_saved, on_failed, on_kept, context_alive(self._app),
                           next(self._count))
        self._waiting.append(item)  # after the ones already waiting: saves keep their order
        if self._held:
            self._keep(item)
        self._pump()

    def resume(self) -> None:
        """The connection is back: save what waits, oldest first, one after another."""
        if self._held:
            self._held = False
            self._pump()

    def _pump(self) -> None:
        """Start the oldest waiting save, unless one is on its way or the line is held."""
        if self._running is None and not self._held and self._waiting:
            self._running = self._waiting.pop(0)
            self._start(self._running)
        self._count_kept()

    def _count_kept(self) -> None:
        """Tell ``on_waiting`` how many saves are kept (one made again counts until it
        is saved), when that changed: saves merely in line are not counted."""
        kept = sum(item.kept for item in self._waiting)
        if self._running is not None and self._running.kept:
            kept += 1
        if kept != self._counted:
            self._counted = kept
            self._on_waiting(kept)

    def _start(self, item: PendingSave) -> None:
        def attempt() -> None:
            try:
                result = item.save()
            except ConnectionLostError as error:
                self._app.call_from_thread(self._lost, item, error)
                return
            except BaseException as error:
                self._app.call_from_thread(self._refused, item, error, True)
                return
            self._app.call_from_thread(self._saved, item, result)

        self._app.run_worker(attempt, thread=True, group="save", exit_on_error=False)

    def _saved(self, item: PendingSave, result: Any) -> None:
        self._finished(item)
        try:
            if item.on_saved is not None:
                item.on_saved(result)
        finally:
            self._pump()  # the next in line, whatever its callback did

    def _refused(self, item: PendingSave, error: BaseException, show: bool = False) -> None:
        # A conflict or a rule: shown (or logged), never a reason to stop the line.
        self._finished(item)
        try:
            if item.on_failed is not None:
                item.on_failed(error)
        finally:
            self._pump()
            if show:
                self._show(item, error)

    def _show(self, item: PendingSave, error: BaseException) -> None:
        """The app's one error handler shows the failure, if the context that made the
        save is still the one in use; else it is logged only (a conflict over someone's
        move would show the next person, or a wider huddle, that person's case). Decided
        here, on the UI thread, as it is shown: asked in the save's thread, a switch of
        user under way then had not yet replaced the context, and the modal opened over
        the next person's sign-in."""
        show_error = getattr(self._app, "show_error", None)
        if item.alive() and callable(show_error):
            show_error(self._app, error)
        else:
            log_only(self._app, error)

    def _finished(self, item: PendingSave) -> None:
        if self._running is item:
            self._running = None

    def _lost(self, item: PendingSave, error: ConnectionLostError) -> None:
        # Back at the head of the line (it is the oldest: the one on its way was begun
        # first), and the line waits for the connection: a later save made now would
        # be written before it. What is in line behind it is kept from now on, too.
        self._finished(item)
        bisect.insort(self._waiting, item, key=lambda waiting: waiting.made)
        self._held = True
        # Said kept: this one (again, if it was kept before and lost on its retry) and
        # those in line behind it that were not yet, oldest first.
        told = [waiting for waiting in self._waiting if waiting is item or not waiting.kept]
        for waiting in told:
            waiting.kept = True
        self._count_kept()
        self._on_lost(error)
        self._tell_kept(told)

    def _keep(self, item: PendingSave) -> None:
        item.kept = True
        self._count_kept()
        self._tell_kept([item])

    @staticmethod
    def _tell_kept(items: list[PendingSave]) -> None:
        for item in items:
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


@dataclass(frozen=True)
class KeepIfRefused:
    """The form a change was typed in, read when the save is asked for: refused after
    its maker has gone, its fields are kept for them as that form (the same ``kind``
    and ``target``: ``services.form_drafts``), with why."""

    viewer: Viewer
    """Who typed it (their context may be long closed by the refusal)."""
    backend: Backend
    kind: str
    target: str
    case_id: int | None
    fields: dict[str, Any]
    """As the form writes them (``KeepsTypedForm.form_fields``)."""

    def keep(self, app: App[Any], error: AnchorError) -> None:
        """Keep it, off the UI thread; its own failure goes to the error log (class
        only), as the refusal did: nothing of it reaches the screen of whoever is here
        now, unless that is its maker, signed in again meanwhile, working alone: they
        are told at once (``tell_maker``), not at their next sign-in. Never in a huddle
        (``keep_refused``)."""
        if self.viewer.purpose != "individual":
            return
        refusal = " ".join(part for part in (error.message, error.fix) if part)

        def keep_now() -> None:
            from anchor_tui.services.form_drafts import keep_refused

            try:
                kept = keep_refused(self.backend, self.viewer, self.kind, self.target,
                                    self.fields, refusal, case_id=self.case_id)
            except Exception as failure:
                log_only(app, failure)  # (the log is append-only: safe from a thread)
                return
            if kept is not None:
                app.call_from_thread(self.tell_maker, app)

        app.run_worker(keep_now, thread=True, group="kept-form", exit_on_error=False)

    def tell_maker(self, app: App[Any]) -> None:
        """Say the change was refused and kept, if the one at the terminal now is its
        maker, alone and unlocked (anyone else hears nothing of it: it is the maker's
        own, told at their next sign-in)."""
        session = getattr(app, "session", None)
        person = getattr(session, "person", None)
        if session is None or person is None or session.locked \
                or getattr(session, "roster", None) is not None \
                or person.user_id != self.viewer.user_id:
            return
        on_case = f" (case {self.case_id})" if self.case_id is not None else ""
        app.notify("A change you saved while the database was away was refused when it "
                   f"came back: it was not made{on_case}. Opening the same form again "
                   "fills it in with what you typed and says why.",
                   title="Not saved", severity="warning", markup=False)


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
                 on_refused: Callable[[AnchorError], None] | None = None,
                 keep_if_refused: KeepIfRefused | None = None,
                 on_refused_later: Callable[[AnchorError], None] | None = None) -> None:
    """Save through the app's queue a change someone typed.

    ``label`` names it in the quit question (to the context that made it only), ``what``
    in the notifications ("The decision"). With the database away the change is kept and
    that is said, then said again once it is saved; both only while the context that made
    it is in use (never to the next person at the terminal). Refused, ``on_refused`` gets
    the error (in that context only; after it has closed, the error log does), so the
    screen asks again with what was written; without ``on_refused`` a refusal goes to
    the app's error handler as any other. With ``keep_if_refused`` (the form it was
    typed in, read now), a refusal after the context has closed keeps the words for
    their maker as that form, with why, and says so at their next sign-in (at once if
    they are back at the terminal, alone). ``on_refused_later`` is told of a refusal
    after the context has closed (to say that much, never the words, to whoever may
    hear it)."""
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
                return
            log_only(app, result.error)
            if keep_if_refused is not None:
                keep_if_refused.keep(app, result.error)
            if on_refused_later is not None:
                on_refused_later(result.error)
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
