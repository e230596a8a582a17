"""Where a screen opens and closes on the shared terminal (a mixin of the app, with
``terminal.SharedTerminal``, which keeps the contexts and the lock).

Each viewer context (a person, a huddle's roster) and the lock have a Textual mode (a
screen stack) of their own. A screen opens, and closes, on the stack of the screen whose
work opens or closes it: behind the lock while it is locked, behind the next context as
it mounts, nowhere once its context has closed; never onto the stack on show just
because it is on show (a note's text over the lock, a question put to the next person).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual._context import active_message_pump
from textual.app import App, ScreenStackError
from textual.await_complete import AwaitComplete
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import AwaitMount
from textual.worker import NoActiveWorker, get_current_worker

from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.help import HelpScreen

if TYPE_CHECKING:
    from anchor_tui.services.session_state import TerminalSession

OVER_THE_LOCK = (HelpScreen, ErrorScreen)
"""The only screens opened over the lock screen (its help, an error of its own)."""


class ScreenRouting(App[None]):
    """push_screen, push_screen_wait and pop_screen by origin; the context's screens."""

    session: TerminalSession
    _viewer_mode: str | None
    _closing_modes: set[str]
    _lock_mode: str | None

    def push_screen(self, screen: Any, callback: Any = None, wait_for_dismiss: bool = False,
                    *, mode: str | None = None) -> Any:
        """A screen opens on the stack of the screen whose work opens it.

        Screens stay mounted behind the lock (and, for a moment, while the next context
        mounts) and still handle what their workers return: a note's history read
        slowly, the question a case edit asks, the child-welfare form after a save.
        Opened on the stack on show, such a screen would be drawn over the lock, or over
        the next person's board (a note's text), and answered by whoever types there.
        So it goes onto its opener's own stack, behind what is on show; a screen whose
        context has closed opens nothing. Pushed by the app itself, it goes behind the
        lock while locked, except the help and the error modal (the lock screen's own;
        an error of the person's is held until unlocking, ``show_error``).
        """
        if mode is None:
            origin = self._origin()
            if origin is not None and not _is_app_screen(origin):
                mode = self._mode_holding(origin)
                if mode is None:  # its context has closed: nothing of it is shown
                    return self._nothing_pushed(screen, wait_for_dismiss)
            elif self._behind_lock() and not isinstance(screen, OVER_THE_LOCK):
                mode = self._viewer_mode
        if wait_for_dismiss:
            return super().push_screen(screen, callback, True, mode=mode)
        return super().push_screen(screen, callback, False, mode=mode)

    async def push_screen_wait(self, screen: Any, *, mode: str | None = None) -> Any:
        """A question, asked from a worker: as Textual's, except for a question whose
        screen is not on show (behind the lock, or its context closing or closed).
        Textual first runs the app's pending callbacks in the asking worker; among them
        may be the removal of that worker's own context, which then unmounts the
        worker's screen, cancels the worker, and with it the removal: the app stopped.
        Such a question is pushed (or dropped) without that."""
        if mode is None:
            origin = self._origin()
            if origin is not None and not _is_app_screen(origin) \
                    and self._mode_holding(origin) != self._current_mode:
                return await asyncio.shield(self.push_screen(screen, wait_for_dismiss=True))
        return await super().push_screen_wait(screen, mode=mode)

    def pop_screen(self) -> AwaitComplete:
        """A screen that closes itself (a form whose save returned) closes on its own
        stack: Textual pops the stack on show, which behind the lock would close the
        lock's help, or fail (one screen) and stop the app, and after a switch of user
        would close the next person's screen."""
        origin = self._origin()
        if origin is None or _is_app_screen(origin):
            return super().pop_screen()
        mode = self._mode_holding(origin)
        if mode == self._current_mode:
            return super().pop_screen()
        if mode is None:  # already gone with its context
            return AwaitComplete.nothing()  # type: ignore[no-untyped-call,no-any-return]
        stack = self._screen_stacks[mode]
        if len(stack) <= 1:
            raise ScreenStackError("Can't pop screen; there must be at least one screen "
                                   "on the stack")
        previous = stack.pop()
        previous._pop_result_callback()
        return AwaitComplete(self._replace_screen(previous)).call_next(self)

    def _origin(self) -> Screen[Any] | None:
        """The screen whose work is running: a worker's own screen (Textual runs an async
        worker, such as one asking a question, in the app's context), else the screen
        handling the message; None for the app's own work."""
        try:
            node: object = get_current_worker().node
        except NoActiveWorker:
            node = active_message_pump.get(self)
        return screen_of(node)

    def on_top(self, screen: Screen[Any]) -> bool:
        """Whether ``screen`` is the top of its own stack (on show, or behind the lock)."""
        mode = self._mode_holding(screen)
        return mode is not None and self._screen_stacks[mode][-1] is screen

    def _mode_holding(self, screen: Screen[Any]) -> str | None:
        """The mode whose stack holds ``screen`` (None: no longer in any)."""
        return next((mode for mode, stack in self._screen_stacks.items() if screen in stack),
                    None)

    @staticmethod
    def _nothing_pushed(screen: Screen[Any], wait_for_dismiss: bool) -> Any:
        """What ``push_screen`` returns for a screen it does not open: a mount that is
        done; for a question, an answer that never comes, and the worker asking it is
        cancelled (it may have started as its screen was removed, too late to go with
        it, and would hold the closed context's data)."""
        if wait_for_dismiss:
            with contextlib.suppress(NoActiveWorker):
                get_current_worker().cancel()
            return asyncio.get_running_loop().create_future()
        return AwaitMount(screen, [])

    def _behind_lock(self) -> bool:
        """Whether the person's screens are behind the lock (from the moment it locks)."""
        session = getattr(self, "session", None)
        return (session is not None and session.locked and self._viewer_mode is not None
                and self._current_mode != self._viewer_mode)

    def context_alive(self) -> Callable[[], bool]:
        """Whether the context in use now is still in use, asked later (a save kept while
        the server was away, made when it is back): False once it has closed (a switch
        of user, someone else at the lock)."""
        mode = self._viewer_mode
        return lambda: (mode is not None and mode == self._viewer_mode
                        and mode not in self._closing_modes)

    def notifier(self) -> Callable[..., None]:
        """``notify`` for later: it says nothing once the context in use now has closed,
        so the next person never reads what it was about."""
        alive = self.context_alive()

        def notify(message: str, **kwargs: Any) -> None:
            if alive():
                self.notify(message, **kwargs)

        return notify

    def context_screens(self) -> list[Screen[Any]]:
        """Every screen of the context in use, on show or behind the lock, and the lock's."""
        return [screen for mode in (self._viewer_mode, self._lock_mode) if mode is not None
                for screen in self._screen_stacks.get(mode, [])]

    def holds_screen(self, screen: Screen[Any]) -> bool:
        """Whether ``screen`` belongs to the context in use (or to its lock)."""
        return screen in self.context_screens()


def _is_app_screen(screen: Screen[Any]) -> bool:
    """Textual's own default screen (before the first context), not a context's."""
    return screen.id == "_default"


def screen_of(node: object) -> Screen[Any] | None:
    """The screen a node is on (None for the app itself, or a node no longer attached)."""
    current: object = node
    while isinstance(current, DOMNode) and not isinstance(current, Screen | App):
        current = current._parent
    return current if isinstance(current, Screen) else None
