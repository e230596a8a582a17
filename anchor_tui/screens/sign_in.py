"""The sign-in screen: username and passphrase, verified off the UI thread.

A wrong passphrase is said plainly on this screen, the passphrase field is cleared and
the username kept. After a wrong one the form waits before it tries that username again,
longer each time (``services.session_state.RetryWait``; the account's own wait is kept in
the database); the screen stays usable meanwhile and counts the wait down. The demo
passphrase is shown only in demo mode. The lock screen and joining a huddle use this
form too (``check`` says what a right passphrase does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.errors import SignInError
from anchor_tui.messages import SignedIn, SignInRefused
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.services.clock import Clock, SystemClock
from anchor_tui.services.opening import OpeningBackend
from anchor_tui.services.session_state import RetryWait
from anchor_tui.settings import DEMO_PASSPHRASE, DEMO_USERS, Settings
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain

if TYPE_CHECKING:
    from anchor_tui.services.backend import Backend


def demo_hint() -> str:
    users = ", ".join(DEMO_USERS[:-1]) + f" or {DEMO_USERS[-1]}"
    return f"Demo data. Sign in as {users}, passphrase: {DEMO_PASSPHRASE}"


class SignInField(Input):
    """An input whose Enter and Tab act before the next key is read.

    Textual queues keys to the widget focused when they arrive and acts on Enter only
    after it bubbles up, so "nurse<Enter>passphrase<Enter>" typed ahead (or sent by a
    password manager) would land in one field. Here Enter and Tab are handled as soon as
    this field reads them, and keys that reached this field after the focus moved on
    are passed to the field that now has it.
    """

    async def _on_key(self, event: events.Key) -> None:
        screen = self.screen
        if isinstance(screen, SignInScreen):
            focused = screen.focused
            if focused is not self and isinstance(focused, SignInField):
                event.stop()
                event.prevent_default()
                focused._forward_event(events.Key(event.key, event.character))
                return
            if event.key in ("enter", "tab", "shift+tab"):
                event.stop()
                event.prevent_default()
                screen.field_key(self, event.key)
                return
        await super()._on_key(event)


class SignInScreen(AnchorScreen):
    """Who is at the keyboard. Nothing about any case is shown before this."""

    AUTO_FOCUS = "#username"
    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("enter", "submit", "Sign in", id="sign_in.submit"),
    ]

    HEADING = "Sign in to anchor-tui"

    def __init__(self, backend: Backend | OpeningBackend, settings: Settings,
                 clock: Clock | None = None) -> None:
        super().__init__()
        self._backend = backend
        self._settings = settings
        self._clock = clock or SystemClock()
        self.wait = RetryWait(self._clock, backend.team.sign_in)
        self._said = ""
        self._trying = ""

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="sign-in-box"):
            yield Static(plain(self._backend.team.team_name), id="sign-in-team")
            yield Static(plain(self.heading(), one_line=False), id="sign-in-title")
            yield Label("Username", classes="field-label")
            yield SignInField(id="username", max_length=64, placeholder="your username")
            yield Label("Passphrase", classes="field-label")
            yield SignInField(id="passphrase", password=True, max_length=1024,
                        placeholder="your passphrase")
            yield Static("", id="sign-in-message")
            if self._settings.demo:
                yield Static(demo_hint(), id="demo-hint", markup=False)
        yield KeyFooter()

    def heading(self) -> str:
        """The line under the team's name (the lock screen says who may unlock)."""
        return self.HEADING

    def field_key(self, field: SignInField, key: str) -> None:
        """Enter moves from username to passphrase, or signs in. Tab moves from username
        to passphrase and shift+tab back; Tab never wraps from the passphrase round to the
        username: whoever types on after a Tab there would type their passphrase into a
        field that shows it, on the shared screen. The username is reached from the
        passphrase only by shift+tab, and not at all when it may not be changed (the lock
        screen of one person's session)."""
        username = self.query_one("#username", SignInField)
        passphrase = self.query_one("#passphrase", SignInField)
        if key == "tab":
            self.set_focus(passphrase)
        elif key == "shift+tab":
            if username.focusable:
                self.set_focus(username)
        elif field is username and username.value.strip() and not passphrase.value:
            self.set_focus(passphrase)
        else:
            self._submit()

    def on_mount(self) -> None:
        self.set_interval(0.5, self.tick)

    def action_submit(self) -> None:
        self._submit()

    def _submit(self) -> None:
        username = self.query_one("#username", Input)
        passphrase = self.query_one("#passphrase", Input)
        if username.disabled:
            return  # a check is already running: one attempt at a time
        if not username.value.strip():
            self._say("Type your username first.", error=True)
            self.set_focus(username)
            return
        if not passphrase.value:
            self._say("Type your passphrase.", error=True)
            self.set_focus(passphrase)
            return
        name = username.value.strip()
        if self.wait.remaining(name) > 0:
            self.tick()  # says how long is left; nothing is tried
            self.set_focus(passphrase)
            return
        self.before_check(name)

    def before_check(self, username: str) -> None:
        """Between a complete form and its check: here, nothing (the lock screen asks
        first when signing in there would end a huddle)."""
        self.check_now(username)

    def check_now(self, username: str) -> None:
        """Check the form's passphrase for ``username`` (one attempt at a time)."""
        passphrase = self.query_one("#passphrase", Input)
        self._set_busy(True)
        self._trying = username
        self._say("Checking…", error=False)
        self.verify(username, passphrase.value)

    @work(thread=True, exclusive=True, group="sign-in", exit_on_error=False)
    def verify(self, username: str, passphrase: str) -> None:
        """Runs in a thread: argon2id is slow on purpose (and the backend may still be
        opening, see ``services.opening``)."""
        try:
            result = self.check(username, passphrase)
        except SignInError as error:
            self.post_message(SignInRefused(error))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(result)  # bubbles to the app (SignedIn opens the board)

    def check(self, username: str, passphrase: str) -> Message:
        """What a right passphrase does (in the worker thread): here, sign in."""
        from anchor_tui.services.auth import sign_in  # (not at import: a fast first screen)

        return SignedIn(sign_in(self._backend.opened(), username, passphrase,
                                self._clock.now()))

    def on_sign_in_refused(self, message: SignInRefused) -> None:
        self._set_busy(False)
        error = message.error
        self.wait.refused(self._trying, error.retry_in)
        self._said = f"{error.message} {error.fix}".strip()
        self.tick()
        passphrase = self.query_one("#passphrase", Input)
        passphrase.clear()
        self.set_focus(passphrase)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Any other failure is shown by the app's one error handler (the event bubbles
        # on); here the form only becomes usable again.
        if event.worker.group == "sign-in" and event.state == WorkerState.ERROR:
            self._set_busy(False)
            self._say("", error=False)
            passphrase = self.query_one("#passphrase", Input)
            passphrase.clear()
            self.set_focus(passphrase)

    def tick(self) -> None:
        """Count the wait down under the last refusal (every half second, on the clock)."""
        if not self._said:
            return
        name = self.query_one("#username", Input).value.strip()
        left = self.wait.remaining(name)
        text = self._said
        if left > 0:
            from anchor_tui.services.auth import wait_words

            text += f"\nYou can try “{name}” again in {wait_words(left)}."
        self._show(text, error=True)

    def _set_busy(self, busy: bool) -> None:
        for field in self.query(Input):
            field.disabled = busy

    def _say(self, text: str, *, error: bool) -> None:
        self._said = ""
        self._show(text, error=error)

    def _show(self, text: str, *, error: bool) -> None:
        message = self.query_one("#sign-in-message", Static)
        message.update(plain(text, one_line=False))
        message.set_class(error, "error")
