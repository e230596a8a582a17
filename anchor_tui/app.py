"""The Textual app: wiring only (screens, key bindings, palette commands, errors).

Every binding has an id (``app.quit``, ``board.refresh``...) so a team can remap keys
by id later, as Posting's keymap does. Errors end in one place: a failed worker becomes
the error modal, an unhandled exception a one-line exit message. Neither shows a
traceback, an exception message or a local variable: those may hold note text.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from rich.console import RenderableType
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerFailed, WorkerState

from anchor_tui.crashlog import ErrorLog
from anchor_tui.domain import Viewer
from anchor_tui.errors import ConnectionLostError
from anchor_tui.live import LiveUpdates
from anchor_tui.messages import CasesChanged, ConnectionLost, ConnectionRestored, SignedIn
from anchor_tui.palette import AnchorCommands, PaletteCommand
from anchor_tui.screens import BoardScreen, ErrorScreen, SignInScreen
from anchor_tui.screens.help import HelpScreen
from anchor_tui.screens.search import SearchScreen
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings


def crash_line(log_path: Path | None) -> str:
    """The only thing the terminal shows after an internal error."""
    if log_path is None:
        return ("anchor-tui stopped because of an internal error. "
                "The error log could not be written.")
    return (f"anchor-tui stopped because of an internal error. "
            f"Details (without client data) are in {log_path}.")


class AnchorApp(App[None]):
    """anchor-tui: sign in, then the board. One backend for the whole process."""

    CSS_PATH = Path(__file__).parent / "app.tcss"  # absolute: subclasses live elsewhere
    TITLE = "anchor-tui"
    COMMANDS = {AnchorCommands}  # noqa: RUF012 - no system commands (e.g. no screenshot)
    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("ctrl+o", "sign_out", "Sign out", id="app.sign_out"),
        Binding("ctrl+f", "search", "Search", id="app.search"),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("colon", "command_palette", "Commands", key_display=":", show=False,
                id="app.palette"),
    ]

    def __init__(self, backend: Backend, settings: Settings, *,
                 today: Callable[[], dt.date] = dt.date.today) -> None:
        super().__init__()
        self.backend = backend
        self.settings = settings
        self.error_log = ErrorLog(settings.log_dir)
        self.today = today
        """The team's calendar day (tests fix it, so snapshots do not depend on the date)."""
        self.viewer: Viewer | None = None
        self._crash_line: str | None = None
        self.set_keymap(settings.team.keymap)  # ids checked before start (check_keys)
        self.live = LiveUpdates(self, backend)
        """Changes from other terminals, the connection's state and the kept saves."""

    def on_mount(self) -> None:
        self.live.start()
        self.push_screen(SignInScreen(self.backend, self.settings))

    def on_unmount(self) -> None:
        self.live.stop()

    def on_cases_changed(self, message: CasesChanged) -> None:
        self.live.forward(message)

    def on_connection_lost(self, message: ConnectionLost) -> None:
        self.live.lost(message.reason)

    def on_connection_restored(self, _message: ConnectionRestored) -> None:
        self.live.restored()

    def on_signed_in(self, message: SignedIn) -> None:
        self.viewer = message.viewer
        self.switch_screen(BoardScreen(self.backend, message.viewer, self.today))

    def action_search(self) -> None:
        """Search cases and notes (signed in only; not stacked on another search)."""
        if self.viewer is not None and not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen())

    async def action_sign_out(self) -> None:
        """Drop every screen (and so everything read for this viewer), then sign-in."""
        if self.viewer is not None:
            self.run_worker(partial(audit.signed_out, self.backend, self.viewer),
                            thread=True, group="audit", exit_on_error=False)
        self.viewer = None
        self.clear_notifications()
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(SignInScreen(self.backend, self.settings))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sign_out":
            return self.viewer is not None
        return True

    def action_help(self) -> None:
        """F1: what has focus is for, and every key that works here (with its id)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen.for_screen(self.screen))

    def palette_commands(self) -> Iterable[PaletteCommand]:
        # No "screenshot": it would write what is on screen (client data) to a file.
        if self.viewer is not None:
            yield PaletteCommand("app: search", "Search the cases and notes you may see",
                                 self.action_search)
            yield PaletteCommand("app: sign out", "Sign out and clear the screen",
                                 self.action_sign_out)
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
        if isinstance(error, ConnectionLostError):
            self.live.lost(error.message)  # the status line, and reconnecting
        log_path = self.error_log.write(error)
        self.push_screen(ErrorScreen.for_error(error, log_path))

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
        # Textual panics with a traceback renderable when its input thread fails.
        self._stop_with_one_line(sys.exc_info()[1])

    def _stop_with_one_line(self, error: BaseException | None) -> None:
        if self._crash_line is None:
            if isinstance(error, WorkerFailed):
                error = error.error
            log_path = self.error_log.write(error) if error is not None \
                else self.error_log.write_event("the terminal driver stopped")
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


def check_keys(settings: Settings) -> None:
    """Refuse a keymap naming a binding id that does not exist (file:line:key)."""
    from anchor_tui.keys import binding_ids

    settings.team.check_keymap(binding_ids())


def run_app(settings: Settings) -> int:
    """Open the backend and run the app; the exit code for the command line.

    Raises ``AnchorError`` (bad config, unusable database) before any screen is drawn,
    so the command line can print it as one line.
    """
    check_keys(settings)
    backend = Backend.open(settings)
    try:
        app = AnchorApp(backend, settings)
        try:
            app.run()
        except Exception as error:  # outside Textual's own handling: same rule, one line
            print(crash_line(ErrorLog(settings.log_dir).write(error)), file=sys.stderr)
            return 1
        return app.return_code or 0
    finally:
        backend.close()
