"""The shared terminal: one screen stack per viewer context, the idle lock and user
switch (the huddle's start, roster changes and end: ``terminal_huddle``). A mixin of the
app (``AnchorApp``), so ``app.py`` only wires.

Every viewer context (nobody yet, a person, a huddle's roster) gets a Textual *mode* of
its own: a screen stack that starts empty. Signing in, switching user, starting a huddle,
a roster change and ending it open a new one and remove the old one, with every screen,
widget, worker and message of it; notifications, the clipboard and held errors are
cleared. So nothing loaded for one viewer can be on screen, or in memory, for the next.

Where a screen opens and closes (on its opener's own stack, not the one on show):
``terminal_screens``.

Locking puts the lock screen in a stack of its own: the session's screens are out of
view (not under it) until it is unlocked. While locked, notifications and error modals
are held back and shown after unlocking (and dropped if someone else takes over).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from textual import events
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.screen import Screen

from anchor_tui.collector import COLLECTOR
from anchor_tui.crashlog import ErrorLog
from anchor_tui.errors import AnchorError
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.terminal_messages import UnlockChecked
from anchor_tui.services.clock import Clock
from anchor_tui.services.opening import OpeningBackend
from anchor_tui.services.session_state import IdleWatch, TerminalSession
from anchor_tui.settings import Settings
from anchor_tui.terminal_huddle import QUIT_WAIT_SECONDS, HuddleTerminal
from anchor_tui.terminal_screens import ScreenRouting, screen_of
from anchor_tui.widgets.plain_text import printable

if TYPE_CHECKING:
    from anchor_tui.domain import Viewer
    from anchor_tui.services.backend import Backend

# The services (and SQLAlchemy under them) are imported in the methods that use them:
# the sign-in screen is drawn before they are loaded (see services.opening).

INPUT_EVENTS = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp,
                events.Paste)
"""What counts as someone at the keyboard (a mouse merely moving does not)."""
KEEP_DRAFTS_WAIT_SECONDS = 5.0
"""How long the keeping of a closed context's drafts is waited for before the wait is
logged (the saves themselves go on: the database's own timeouts end them)."""


DraftSaver = Callable[[], object]
"""Saves a closing screen's drafts: database work only, on a thread of its own."""


@runtime_checkable
class SavesDraftsAside(Protocol):
    """A screen holding unsaved text (the note editor), whose drafts are kept, off the UI
    thread, as its viewer context closes (a switch of user, a takeover at the lock).

    ``draft_saver()`` is called on the UI thread as the screen's viewer context closes:
    it reads what it needs now (the text, the case, the viewer) and returns a callable
    taking no arguments that saves it (database work only, no widget: it runs on another
    thread, maybe after the screen is gone), or None when there is nothing to keep. The
    callable may raise; the failure is logged (its class, never its message). Saved on
    the UI thread, a database that did not answer froze the terminal with the last
    person's note on screen.
    """

    def draft_saver(self) -> DraftSaver | None: ...


class SharedTerminal(ScreenRouting, HuddleTerminal):
    """The app's viewer contexts and lock. Call :meth:`setup_terminal` in ``__init__``."""

    settings: Settings
    clock: Clock
    today: Callable[[], Any]
    viewer: Viewer | None
    error_log: ErrorLog

    @property
    def backend(self) -> Backend:
        """The open backend (the app provides it)."""
        raise NotImplementedError

    @property
    def opening_backend(self) -> Backend | OpeningBackend:
        """The backend, open or still opening (for the sign-in screen)."""
        raise NotImplementedError

    def setup_terminal(self) -> None:
        self.session = TerminalSession()
        self.idle = IdleWatch(self.clock, self.settings.team.idle_lock_seconds)
        self._viewer_mode: str | None = None
        self._closing_modes: set[str] = set()
        """Contexts being replaced: no longer in use from the moment their replacement
        starts to mount (``context_alive``), not only once it has."""
        self._lock_mode: str | None = None
        self._generation = 0
        self._held_notices: list[tuple[str, str, SeverityLevel, float | None, bool]] = []
        self._held_errors: list[ErrorScreen] = []
        self._switching_mode = False

    # --- switching between contexts ---------------------------------------------------

    async def show_mode(self, mode: str) -> None:
        """Switch to ``mode``; its screen is drawn as soon as it is composed.

        Textual's ``switch_mode`` holds every screen update for a fixed 50 ms
        (``delay_update``) so that a screen still mounting is not drawn. Every switch of
        context here (the first sign-in screen, the board after sign-in, the lock and
        back) waited those 50 ms on top of its own work: about half of what the first
        screen took more than a bare Textual app's. Without the hold, the screen draws
        itself when it resumes, which Textual does once its ``compose`` is mounted: each
        context's first screen composes all it shows at once (what it reads later says
        so: the board's "Reading the board…"). Holding updates while the screen mounts
        (a batch) was tried first: the new screen's frame then waited for its first
        tick of Textual's frame timer, a whole frame (17 ms) later."""
        self._switching_mode = True
        try:
            mounted = self.switch_mode(mode)
        finally:
            self._switching_mode = False
        await mounted

    def delay_update(self, delay: float = 0.05) -> None:
        if not self._switching_mode:  # (the palette's own hold stays)
            super().delay_update(delay)

    async def start_terminal(self) -> None:
        """The first context (sign-in), the idle check and the huddle banner."""
        self.screen_change_signal.subscribe(self, self._screen_changed)
        self.set_interval(1.0, self.lock_if_idle)
        await self.open_context(self.sign_in_screen)

    def sign_in_screen(self) -> Screen[Any]:
        from anchor_tui.screens.sign_in import SignInScreen

        return SignInScreen(self.opening_backend, self.settings, self.clock)

    # --- viewer contexts ----------------------------------------------------------------

    async def open_context(self, first: Callable[[], Screen[Any]]) -> None:
        """A new screen stack for the session's viewer; the old one (and a lock) goes.

        While the terminal is locked (a roster change finishing behind the lock), the
        new stack waits behind the lock screen, which stays: only a passphrase opens it.
        """
        behind_lock = self.session.locked and self._lock_mode is not None
        closing = [mode for mode in (self._viewer_mode, self._lock_mode)
                   if mode is not None and not (behind_lock and mode == self._lock_mode)]
        savers = self._draft_savers(closing)
        self._closing_modes.update(closing)
        self._generation += 1
        name = f"viewer-{self._generation}"
        self.add_mode(name, partial(self._styled_now, first))
        if behind_lock:
            self._viewer_mode = name
            self._relock_for(self.session)
        else:
            await self.show_mode(name)
            self._viewer_mode, self._lock_mode = name, None
        for mode in closing:
            await self._remove_context(mode)
        self._closing_modes.difference_update(closing)
        self.viewer = self.session.viewer
        self.forget_what_was_shown()
        self.idle.touch()
        if savers:
            self.run_worker(self._keep_drafts(savers), group="keep-drafts",
                            exit_on_error=False)

    def _draft_savers(self, closing: list[str]) -> list[DraftSaver]:
        """What the closing contexts' screens need to keep, read now (on the UI thread)."""
        savers: list[DraftSaver] = []
        for mode in closing:
            for screen in self._screen_stacks.get(mode, []):
                if isinstance(screen, SavesDraftsAside):
                    saver = screen.draft_saver()
                    if saver is not None:
                        savers.append(saver)
        return savers

    async def _keep_drafts(self, savers: list[DraftSaver]) -> None:
        """Save a closed context's drafts on a thread: the next person's screen is up at
        once, whatever the database does. (An app worker: the removal of the context the
        drafts came from does not cancel it. The thread is waited for at exit.)"""

        def save_all() -> list[BaseException]:
            failures: list[BaseException] = []
            for save in savers:
                try:
                    save()
                except Exception as error:
                    failures.append(error)  # logged when done; the others go on
            return failures

        def log_failures(done: asyncio.Future[list[BaseException]]) -> None:
            if not done.cancelled() and done.exception() is None:
                for error in done.result():
                    self.error_log.write(error)

        saving = asyncio.ensure_future(asyncio.to_thread(save_all))
        saving.add_done_callback(log_failures)
        finished, _ = await asyncio.wait({saving}, timeout=KEEP_DRAFTS_WAIT_SECONDS)
        if not finished:
            self.error_log.write_event("keeping the drafts of a closed context is slow: "
                                       f"still at it after {KEEP_DRAFTS_WAIT_SECONDS:.0f} s")

    async def _remove_context(self, mode: str) -> None:
        """Remove a closed context's stack, every screen, widget and worker of it.

        Its workers are cancelled first: one still reading or asking would otherwise go
        on as its screens are removed. Should the removal be cancelled from inside all
        the same (a worker of it that Textual let run the removal), the switch of context
        goes on: the new context is on show already, and a half-removed screen of the old
        one is in no stack, shown nowhere."""
        try:
            await self.remove_mode(mode)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the app itself is stopping
            self.error_log.write_event(f"the removal of {mode} was cancelled from inside")

    def _styled_now(self, first: Callable[[], Screen[Any]]) -> Screen[Any]:
        """The context's first screen, marked as styled with the style sheet as it is
        now (Textual styles each widget as it is mounted). Otherwise opening the mode
        re-parsed every style sheet of the app, twice: about 100 ms of each sign-in,
        switch of user and change of a huddle's roster, for nothing."""
        screen = first()
        screen._css_update_count = self._css_update_count
        return screen

    def _relock_for(self, session: TerminalSession, *, ask_again: bool = False) -> None:
        """The lock screen decides who may unlock by the session as it is now
        (``ask_again``: a passphrase checked against the session before is asked again)."""
        from anchor_tui.screens.lock import LockScreen

        for screen in self._screen_stacks.get(self._lock_mode or "", []):
            if isinstance(screen, LockScreen):
                screen.session_changed(session)
                if ask_again:
                    screen.ask_again()

    def forget_what_was_shown(self) -> None:
        """Clear what the app itself (not a screen) may still hold of the last context."""
        self.clear_notifications()
        self._held_notices.clear()
        self._held_errors.clear()
        self.empty_clipboard()
        self._mouse_down_widget = None
        self._last_focused_on_app_blur = None

    def empty_clipboard(self) -> None:
        """Forget what was copied (the terminal's own clipboard too, through OSC 52)."""
        if self.clipboard:
            self.copy_to_clipboard("")

    async def signed_in(self, viewer: Viewer) -> None:
        from anchor_tui.screens.board import BoardScreen

        self.session = TerminalSession(person=viewer)
        await self.open_context(lambda: BoardScreen(self.backend, viewer, self.today))

    # --- switching user -----------------------------------------------------------------

    async def action_switch_user(self) -> None:
        """Back to sign-in with nothing of this session left. A huddle on ends with it,
        for everyone present: that is asked first."""
        if self.session.person is None or self.session.viewer is None:
            return
        if not self.ask_to_end_huddle("switch user", self.switch_user_now):
            await self.switch_user_now()

    async def switch_user_now(self) -> None:
        """Switch user without asking (a huddle on is ended, its minutes stored)."""
        from anchor_tui.services import audit

        person, roster, viewer = self.session.person, self.session.roster, self.session.viewer
        if person is None or viewer is None:
            return
        spent = self._huddle_time() if roster is not None else None
        self.session = TerminalSession()
        await self.open_context(self.sign_in_screen)
        if roster is not None:
            self.finish_huddle(viewer, spent, person)
        else:
            self.run_worker(lambda: audit.signed_out(self.backend, person), thread=True,
                            group="audit", exit_on_error=False)

    async def action_sign_out(self) -> None:
        await self.action_switch_user()

    # --- the lock -----------------------------------------------------------------------

    def idle_lock_seconds(self) -> int:
        """How long the terminal waits for a key before it locks: in a huddle the
        screen is watched by the people in the room, who talk more than they type, so
        the team's ``huddle_idle_lock_seconds`` (else ``idle_lock_seconds``)."""
        team = self.settings.team
        return team.huddle_idle_lock_seconds if self.session.roster is not None \
            else team.idle_lock_seconds

    async def lock_if_idle(self) -> None:
        """Every second: lock when idle long enough; else, when idle a moment, let the
        collector tidy (a full garbage collection while nobody waits for a key)."""
        self.idle.seconds = self.idle_lock_seconds()
        if self.session.person is not None and not self.session.locked and self.idle.due():
            await self.action_lock()
        else:
            COLLECTOR.tidy(self.idle.idle_for())

    async def action_lock(self) -> None:
        from anchor_tui.screens.lock import LockScreen
        from anchor_tui.services import audit

        viewer = self.session.viewer
        if viewer is None or self.session.locked:
            return
        self.session.locked = True
        self.clear_notifications()
        self.empty_clipboard()  # (a paste into the lock screen's fields would show it)
        snapshot = dataclasses.replace(self.session)
        self._generation += 1
        name = f"lock-{self._generation}"
        self.add_mode(name, lambda: LockScreen(self.backend, self.settings, self.clock,
                                               snapshot))
        await self.show_mode(name)
        self._lock_mode = name
        self.run_worker(lambda: audit.locked(self.backend, viewer), thread=True,
                        group="audit", exit_on_error=False)

    async def on_unlock_checked(self, message: UnlockChecked) -> None:
        result = message.result
        if not self.session.locked or self._viewer_mode is None:
            return
        if result.same and not self.session.may_unlock(result.viewer.user_id):
            # Checked against who was present when the passphrase was typed; the roster
            # changed behind the lock meanwhile and this person is no longer in it.
            self._relock_for(self.session, ask_again=True)
            return
        if result.same:
            self.session.locked = False
            await self.show_mode(self._viewer_mode)
            if self._lock_mode is not None:
                await self._remove_context(self._lock_mode)
            self._lock_mode = None
            self.idle.touch()
            notices, errors = list(self._held_notices), list(self._held_errors)
            self._held_notices.clear()
            self._held_errors.clear()
            for notice in notices:
                self.notify(notice[0], title=notice[1], severity=notice[2], timeout=notice[3],
                            markup=notice[4])
            for modal in errors:
                self.push_screen(modal)
            return
        # Someone else signed in: the locked session ends (its drafts and forms are kept).
        before, roster, viewer = self.session.person, self.session.roster, self.session.viewer
        spent = self._huddle_time() if roster is not None else None
        await self.signed_in(result.viewer)
        if roster is not None and viewer is not None:
            self.finish_huddle(viewer, spent, None)
        if before is not None:
            self.notify(printable(f"{before.display_name}'s session has ended; their drafts "
                                  "and open forms are kept."), title="Signed in", markup=False)

    async def sign_out_to_quit(self) -> bool:
        """Quitting with someone signed in signs them out, recorded as ctrl+o records it,
        so the audit trail never holds a session that did not end. True: the app may go.

        A huddle on ends as ctrl+o ends it, through the save queue, after every save
        asked for before it, the sign-out written with the end (``end_huddle_to_quit``):
        not made within ``QUIT_WAIT_SECONDS`` (the database away or busy), the person is
        asked whether to wait or quit anyway (False: that question is up). Otherwise the
        sign-out alone, with a database that is away waited for at most
        ``QUIT_WAIT_SECONDS``: it never keeps the app from quitting."""
        from anchor_tui.services import audit

        person, roster, viewer = self.session.person, self.session.roster, self.session.viewer
        if viewer is None:
            return True
        if self.session.locked and self._viewer_mode is not None:
            # Quit at the lock: whoever left forms open behind it was not asked (the
            # question goes to whoever stands at the lock, who may not see them). They
            # are kept for their author, as a takeover at the lock keeps them; a quit
            # asked of the author, unlocked, asks each form first instead.
            await self._keep_drafts(self._draft_savers([self._viewer_mode]))
        spent = self._huddle_time() if roster is not None else None
        self.session = TerminalSession()
        if roster is not None:
            await self.open_context(self.sign_in_screen)  # the huddle's screens go now
            return await self.end_huddle_to_quit(viewer, spent, person)
        if person is not None:
            with contextlib.suppress(AnchorError, TimeoutError):
                await asyncio.wait_for(asyncio.to_thread(audit.signed_out, self.backend,
                                                         person), QUIT_WAIT_SECONDS)
        return True

    # --- input, keys, notifications and errors -------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, INPUT_EVENTS):
            self.idle.touch()
        await super().on_event(event)

    def terminal_allows(self, action: str) -> bool:
        """Which app actions work now (none but quit and help while locked)."""
        if self.session.locked:
            return action in ("quit", "help")
        if action in ("switch_user", "sign_out", "lock", "search"):
            return self.session.person is not None
        if action == "start_huddle":
            return self.session.person is not None and self.session.roster is None
        if action == "back_to_huddle":
            return self.huddle_board_on_show()
        return True

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = False) -> None:
        """A notification, always plain text (names and notes may hold markup or escape
        sequences: a caller cannot forget ``markup=False``); held while locked."""
        markup = False
        message, title = printable(message, one_line=False), printable(title)
        if getattr(self, "session", None) is not None and self.session.locked:
            self._held_notices.append((message, title, severity, timeout, markup))
            return
        super().notify(message, title=title, severity=severity, timeout=timeout,
                       markup=markup)

    def show_error(self, node: DOMNode, error: BaseException) -> None:
        """The one error handler's modal, for a worker started by ``node``: logged always;
        shown unless its context has closed; held back while the terminal is locked."""
        log_path = self.error_log.write(error)
        screen = screen_of(node)
        if screen is not None and not self.holds_screen(screen):
            return  # read for a viewer whose screens are gone: nothing to show
        modal = ErrorScreen.for_error(error, log_path)
        if self.session.locked and (screen is None or screen in self._screen_stacks.get(
                self._viewer_mode or "", [])):
            self._held_errors.append(modal)
            return
        self.push_screen(modal)

    def show_error_modal(self, modal: ErrorScreen) -> None:
        """An error modal of the context in use, opened by the app's own work (a change
        kept while the database was away, refused when it is back): held while the
        terminal is locked, as ``show_error``'s are, and shown on unlocking. Pushed by
        the app while locked, it would be drawn over the lock (errors are let over it
        for the lock screen's own), quoting the person's words to whoever stands there."""
        if self.session.locked:
            self._held_errors.append(modal)
            return
        self.push_screen(modal)
