"""The Textual app: wiring only (screens, key bindings, palette commands, errors).

Every binding has an id (``app.quit``, ``board.refresh``...) so a team can remap keys
by id later, as Posting's keymap does. Errors end in one place: a failed worker becomes
the error modal, an unhandled exception a one-line exit message. Neither shows a
traceback, an exception message or a local variable: those may hold note text.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import RenderableType
from textual.binding import Binding
from textual.driver import Driver
from textual.worker import Worker, WorkerFailed, WorkerState

from anchor_tui import startup
from anchor_tui.collector import COLLECTOR
from anchor_tui.crashlog import ErrorLog
from anchor_tui.errors import AnchorError, ConnectionLostError, DatabaseBusyError
from anchor_tui.live import LiveUpdates
from anchor_tui.messages import CasesChanged, ConnectionLost, ConnectionRestored, SignedIn
from anchor_tui.palette import AnchorCommands, PaletteCommand
from anchor_tui.services.clock import Clock, SystemClock
from anchor_tui.services.opening import OpeningBackend
from anchor_tui.settings import Settings
from anchor_tui.terminal import SharedTerminal

if TYPE_CHECKING:
    from anchor_tui.domain import Viewer
    from anchor_tui.services.backend import Backend

# The board, search, help and the data layer are imported when first needed (or made
# ready off screen while the person signs in): the sign-in screen is drawn without them.


def crash_line(log_path: Path | None) -> str:
    """The only thing the terminal shows after an internal error."""
    if log_path is None:
        return ("anchor-tui stopped because of an internal error. "
                "The error log could not be written.")
    return (f"anchor-tui stopped because of an internal error. "
            f"Details (without client data) are in {log_path}.")


DAY_CHECK_SECONDS = 30.0
"""How often the app looks whether the day has changed (at most this late after midnight)."""


class AnchorApp(SharedTerminal):
    """anchor-tui: sign in, then the board. One backend for the whole process.

    The shared terminal (``anchor_tui.terminal``): ctrl+o switches user from anywhere
    (the next person signs in; nothing of this session stays), ctrl+g locks the screen
    (it also locks by itself after ``idle_lock_seconds``), ctrl+t starts a huddle.
    """

    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses live elsewhere
    TITLE = "anchor-tui"
    COMMANDS = {AnchorCommands}  # noqa: RUF012 - no system commands (e.g. no screenshot)
    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        # Ctrl keys, priority: they work from anywhere, in an input or the note editor too.
        Binding("ctrl+o", "switch_user", "Switch user", id="app.switch_user", priority=True),
        Binding("ctrl+g", "lock", "Lock", id="app.lock", priority=True),
        Binding("ctrl+t", "start_huddle", "Huddle", id="app.huddle", priority=True),
        Binding("ctrl+f", "search", "Search", id="app.search"),
        # Priority: a modal (a question, a form) keeps the app's other keys from it.
        Binding("f1", "help", "Help", id="app.help", priority=True),
        Binding("ctrl+y", "audit_trail", "Audit trail", id="app.audit_trail"),
        # Both keys: binding the action at all stops Textual adding its own ctrl+p.
        Binding("colon,ctrl+p", "command_palette", "Commands", key_display=":", show=False,
                id="app.palette"),
    ]

    def __init__(self, backend: Backend | OpeningBackend, settings: Settings, *,
                 today: Callable[[], dt.date] = dt.date.today,
                 clock: Clock | None = None) -> None:
        super().__init__()
        self._backend = backend
        self.settings = settings
        self.error_log = ErrorLog(settings.log_dir)
        self.today = today
        """The team's calendar day (tests fix it, so snapshots do not depend on the date)."""
        self.clock = clock or SystemClock()
        """Sign-in waits, the idle lock and the huddle's timers (tests move it by hand)."""
        self.viewer: Viewer | None = None
        self.start_error: AnchorError | None = None
        """Why the app could not start (set while opening; run_app raises it)."""
        self._crash_line: str | None = None
        self.setup_terminal()
        self.set_keymap(settings.team.keymap)  # ids checked before start (check_keys)
        self.live = LiveUpdates(self, screens=self.context_screens)
        """Changes from other terminals, the connection's state and the kept saves
        (watching starts once the backend is open)."""

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on Linux and macOS one that keeps a paste
        text (``paste_input``: an escape sequence in it never acts as keys)."""
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver" and driver.__module__ == "textual.drivers.linux_driver":
            from anchor_tui.paste_input import PasteGuardDriver

            return PasteGuardDriver
        return driver

    @property
    def backend(self) -> Backend:
        """The open backend. Waits while it is still opening: only the sign-in check
        (in a thread) can get here that early."""
        return self._backend.opened()

    @property
    def opening_backend(self) -> Backend | OpeningBackend:
        """The backend as given, open or still opening (for the sign-in screen)."""
        return self._backend

    async def on_mount(self) -> None:
        # After Textual's start-up (which holds every screen update until it is done):
        # opened within it, the sign-in screen's first frame waited for the hold to end
        # and then for a tick of the frame timer.
        self.call_later(self.open_first_context)

    async def open_first_context(self) -> None:
        await self.start_terminal()
        self._day = self.today()
        self.set_interval(DAY_CHECK_SECONDS, self.check_the_day)
        # Once the sign-in screen is drawn: open the backend and make ready what
        # signing in and the board need, while the person types.
        self.call_after_refresh(self.prepare_sign_in)

    def check_the_day(self) -> None:
        """A new day: consents that ended yesterday no longer let notes through, reviews
        and tasks fall due. Every screen reads what it shows again, as for a change made
        on another terminal (nothing in the database changed, so no terminal says so)."""
        today = self.today()
        if today != self._day:
            self._day = today
            self.live.forward(CasesChanged(None))

    def prepare_sign_in(self) -> None:
        startup.resume()  # the first screen is drawn: collect cycles again
        self.run_worker(self._prepare_sign_in, thread=True, group="opening",
                        exit_on_error=False)

    def _prepare_sign_in(self) -> None:
        """In the order the first sign-in needs them: the backend, the hash for unknown
        usernames, the board's code (imported meanwhile the passphrase is checked), the
        collector's settling (all of that lives as long as the app), then the watch for
        other terminals' changes, and last the end of a huddle whose process went
        without ending it (``terminal_huddle.end_orphaned_huddles``)."""
        backend = self._backend.opened()  # raises what opening raised: the app stops
        from anchor_tui.services import audit, auth

        audit.policy_loaded(backend)  # the policy in force here, by its hash (no key: stop)

        with contextlib.suppress(AnchorError):  # e.g. a damaged database: the sign-in
            auth.prepare(backend)               # itself says so, in the error modal
        from anchor_tui.screens import board, case  # noqa: F401 - imported for the time

        COLLECTOR.settle()
        self.call_from_thread(self.live.start, backend)
        self.end_orphaned_huddles(backend)  # (none marked: one look at a missing folder)

    def on_unmount(self) -> None:
        self.live.stop()
        if self._huddle_marks is not None:
            # As the process ending does: a huddle still on stays marked, for the next
            # start (and a test's next app in this process) to end.
            self._huddle_marks.release_all()

    def on_cases_changed(self, message: CasesChanged) -> None:
        self.live.forward(message)

    def on_connection_lost(self, message: ConnectionLost) -> None:
        self.live.lost(message.reason)

    def on_connection_restored(self, _message: ConnectionRestored) -> None:
        self.live.restored()

    async def on_signed_in(self, message: SignedIn) -> None:
        await self.signed_in(message.viewer)

    def action_search(self) -> None:
        """Search cases and notes (signed in only; not stacked on another search)."""
        from anchor_tui.screens.search import SearchScreen

        if self.viewer is not None and not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen())

    @property
    def is_auditor(self) -> bool:
        return (self.viewer is not None and self.viewer.role == "auditor"
                and self.viewer.purpose == "individual")  # (a huddle: its chair's role)

    def action_audit_trail(self) -> None:
        """The audit trail (auditors only; not stacked on itself)."""
        from anchor_tui.screens.audit import AuditScreen

        if self.is_auditor and not isinstance(self.screen, AuditScreen):
            self.push_screen(AuditScreen())

    async def action_quit(self) -> None:
        """Quit, unless a screen holds unsaved work and asks first (the note editor), or
        changes kept while the database was away still wait to be saved: they live in
        this process only, and quitting would lose them without a word."""
        for screen in reversed(self.screen_stack):
            ask = getattr(screen, "ask_before_quit", None)
            if callable(ask) and ask():
                return
        waiting = self.live.saves.waiting
        if waiting:
            from anchor_tui.screens.quit_huddle import QuitWithHuddleOn
            from anchor_tui.screens.quit_kept import QuitWithKeptSaves

            if not isinstance(self.screen, QuitWithKeptSaves | QuitWithHuddleOn):
                # Named only to the person (or huddle) who made them, never at the lock:
                # whoever stands there, or signed in since, may not see those cases.
                labels = () if self.session.locked else self.live.saves.waiting_here
                # Asked of whoever pressed ctrl+q: over the lock too (the app's own
                # screens otherwise go behind it).
                self.push_screen(QuitWithKeptSaves(len(waiting), labels), self._quit_answered,
                                 mode=self.current_mode)
            return
        await self.quit_now()

    async def _quit_answered(self, answer: str | None) -> None:
        from anchor_tui.screens.quit_kept import QUIT

        if answer == QUIT:
            await self.quit_now()

    async def quit_now(self) -> None:
        """Quit without asking again, except that a huddle on, which quitting ends for
        everyone present, is asked about last (``terminal_huddle``); whoever is signed
        in is signed out first (recorded)."""
        if not self.ask_to_end_huddle("quit", self.quit_signed_out):
            await self.quit_signed_out()

    async def quit_signed_out(self) -> None:
        if await self.sign_out_to_quit():
            self.exit()  # (else a huddle's end waits for the database: asked first)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "audit_trail":
            return self.is_auditor  # other roles never see the key or the screen
        return self.terminal_allows(action)

    def action_help(self) -> None:
        """F1: what has focus is for, and every key that works here (with its id)."""
        from anchor_tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # F1 again closes it (the key reaches the app first)
        else:
            self.push_screen(HelpScreen.for_screen(self.screen))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        # No "screenshot": it would write what is on screen (client data) to a file.
        if self.viewer is not None:
            yield PaletteCommand("app: search", "Search the cases and notes you may see",
                                 self.action_search)
            yield PaletteCommand("app: switch user", "Back to sign-in for the next person; "
                                 "nothing of this session stays (ctrl+o)",
                                 self.action_switch_user)
            yield PaletteCommand("app: sign out", "Sign out and clear the screen (ctrl+o)",
                                 self.action_sign_out)
            yield PaletteCommand("app: lock", "Lock the screen until your passphrase "
                                 "(ctrl+g)", self.action_lock)
            if self.session.roster is None:
                yield PaletteCommand("huddle: start", "Start a huddle: the screen shows "
                                     "only what everyone present may see (ctrl+t)",
                                     self.action_start_huddle)
        if self.is_auditor:
            yield PaletteCommand("audit: trail", "Who saw or changed what, when and why "
                                 "(ctrl+y)", self.action_audit_trail)
        yield PaletteCommand("app: help", "What this screen is for and its keys (F1)",
                             self.action_help)
        yield PaletteCommand("app: theme", "Change the colours", self.action_change_theme)
        yield PaletteCommand("app: quit", "Quit anchor-tui", self.action_quit)

    # --- the one error handler --------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker: the modal for an AnchorError, a general one for anything else."""
        if event.state != WorkerState.ERROR or event.worker.error is None:
            return
        error = event.worker.error
        if event.worker.group == "opening" and isinstance(error, AnchorError):
            # The app cannot start (bad policy, unusable database, no audit key): stop,
            # and the command line says why in one line, as when the check runs first.
            self.start_error = error
            self.exit(return_code=2)
            return
        if isinstance(error, ConnectionLostError):  # the status line, and reconnecting
            self.live.lost(error.message, busy=isinstance(error, DatabaseBusyError))
        self.show_error(event.worker.node, error)

    # --- the crash handler: replaces Textual's traceback (which shows local variables) -

    def _handle_exception(self, error: Exception) -> None:
        self._return_code = 1
        if self._exception is None:  # run_test() re-raises it for the test framework
            self._exception = error
            self._exception_event.set()
        self._stop_with_one_line(error)

    def _fatal_error(self) -> None:
        self._stop_with_one_line(sys.exc_info()[1] or self._exception)

    def panic(self, *renderables: RenderableType) -> None:
        """Textual panics when the terminal driver's input thread fails: nothing typed
        reaches the app any more. It stops as a crash does: exit status 1, one line on
        the terminal, and in the error log the failure's class and frames (no message,
        no local variable: either may hold a note)."""
        self._return_code = 1
        # (Called later from the failed thread: the exception is no longer being handled
        # here. The app's driver keeps it; another driver's rendered traceback names its
        # class.)
        error = sys.exc_info()[1] or getattr(self._driver, "stopped_by", None)
        self._stop_with_one_line(error, "the terminal driver stopped"
                                 + "".join(f": {name}" for name in _failed_class(renderables)))

    def _stop_with_one_line(self, error: BaseException | None,
                            what: str = "the terminal driver stopped") -> None:
        if self._crash_line is None:
            if isinstance(error, WorkerFailed):
                error = error.error
            log_path = self.error_log.write(error) if error is not None \
                else self.error_log.write_event(what)
            self._crash_line = crash_line(log_path)
        self._close_messages_no_wait()

    def _print_error_renderables(self) -> None:
        if self._crash_line is None:
            super()._print_error_renderables()
            return
        # Only our line, whole (the terminal may wrap it; Rich must not cut or split it).
        self._exit_renderables.clear()
        self.error_console.print(self._crash_line, soft_wrap=True, markup=False,
                                 highlight=False)


def _failed_class(renderables: Iterable[object]) -> list[str]:
    """The exception class a rendered (Rich) traceback names, if one is given: its class
    only (the traceback also holds the message, which may quote client data)."""
    for renderable in renderables:
        stacks = getattr(getattr(renderable, "trace", None), "stacks", None)
        if stacks:
            return [str(stacks[0].exc_type)]
    return []


def check_keys(settings: Settings) -> None:
    """Refuse a keymap naming a binding id that does not exist (file:line:key)."""
    if not settings.team.keymap:
        return  # nothing to check (and finding every id imports every screen)
    from anchor_tui.keys import binding_ids

    settings.team.check_keymap(binding_ids())


def run_app(settings: Settings) -> int:
    """Run the app, opening the backend while the sign-in screen is shown; the exit code
    for the command line.

    Raises ``AnchorError`` (bad config, unusable database) when the backend cannot be
    opened, after restoring the terminal, so the command line prints it as one line.
    """
    check_keys(settings)
    backend = OpeningBackend(settings)
    try:
        app = AnchorApp(backend, settings)
        try:
            app.run()
        except Exception as error:  # outside Textual's own handling: same rule, one line
            print(crash_line(ErrorLog(settings.log_dir).write(error)), file=sys.stderr)
            return 1
        if isinstance(backend.error, AnchorError):
            raise backend.error
        if app.start_error is not None:
            raise app.start_error
        return app.return_code or 0
    finally:
        backend.close()
