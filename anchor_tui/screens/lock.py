"""The lock screen: shown after the idle time (or ctrl+g), in a screen stack of its own.

It holds no client data at all: the screens of the session are not under it but in
another stack, out of view, until the right passphrase is typed (``anchor_tui.terminal``
switches stacks). It names only who may unlock (staff, never a client). The person of
the session unlocks with their passphrase (in a huddle, anyone present does); anyone else
who signs in here takes the terminal over, which ends the first session (its drafts stay
in the database). The sign-in rules apply as on the sign-in screen: waits, lockout.

Locked for one person, the form is ready for them: their username is filled in and
cannot be focused (not by Tab, shift+tab or a click), so a passphrase can only ever be
typed into the passphrase field, which hides it. Someone else first presses F2, which
empties both fields and lets them type their own username.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Static

from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.screens.sign_in import SignInScreen
from anchor_tui.screens.terminal_messages import UnlockChecked
from anchor_tui.services.clock import Clock
from anchor_tui.services.session_state import TerminalSession, unlock
from anchor_tui.settings import Settings
from anchor_tui.widgets.plain_text import plain

if TYPE_CHECKING:
    from anchor_tui.services.backend import Backend

END, STAY = "end", "stay"
"""The answers to "a huddle is on": end it and sign in, or leave it locked."""


class LockScreen(SignInScreen):
    """Locked: the passphrase of the session's person, or someone else signs in."""

    HELP = ("The terminal is locked and shows nothing of the work below. Type your "
            "passphrase to go on where you were. Someone else may sign in instead, which "
            "ends the locked session (its drafts and open forms are kept): where a "
            "username is filled in, press F2 first, then type your own username and "
            "passphrase. In a "
            "huddle anyone present unlocks; someone not present is asked first, as "
            "signing in ends the huddle for everyone.")
    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("f2", "someone_else", "Someone else", id="lock.someone_else"),
    ]

    def __init__(self, backend: Backend, settings: Settings, clock: Clock,
                 session: TerminalSession) -> None:
        super().__init__(backend, settings, clock)
        self._session = dataclasses.replace(session)  # a snapshot for the worker thread
        self._checking: TerminalSession | None = None
        """The session a passphrase is checked against (as it was when the form was
        complete, and any question about it answered)."""

    def session_changed(self, session: TerminalSession) -> None:
        """The roster changed behind the lock: who may unlock is who is present now (the
        heading says so too)."""
        self._session = dataclasses.replace(session)
        if self.is_mounted:
            self.query_one("#sign-in-title", Static).update(plain(self.heading(),
                                                                  one_line=False))

    def ask_again(self) -> None:
        """The passphrase was right but who is present changed while it was checked: the
        form is ready again, and the next attempt is judged by the huddle as it is now."""
        self._set_busy(False)
        self._say("Who is present changed while your passphrase was checked. Type it "
                  "again.", error=True)
        passphrase = self.query_one("#passphrase", Input)
        passphrase.clear()
        self.set_focus(passphrase)

    def heading(self) -> str:
        session = self._session
        professions = self._backend.opened().policy.professions
        if session.roster is not None:
            present = ", ".join(professions.get(p, p) for p in session.roster.professions())
            return (f"The huddle is locked ({present or 'nobody'} present). Anyone present "
                    "unlocks with their own passphrase.")
        if session.person is not None:
            name = session.person.display_name
            return (f"Locked. {name} unlocks with their passphrase; anyone else who signs "
                    f"in here (F2) ends {name}'s session (drafts and forms are kept).")
        return "Locked."

    def on_mount(self) -> None:
        super().on_mount()
        person = self._session.person
        if person is not None and self._session.roster is None:
            username = self.query_one("#username", Input)
            username.value = person.username
            username.can_focus = False  # a passphrase typed there would show
            self.set_focus(self.query_one("#passphrase", Input))

    def username_fixed(self) -> bool:
        """Whether the username is the locked session's own and cannot be typed into."""
        return self.is_mounted and not self.query_one("#username", Input).can_focus

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "someone_else":
            return self.username_fixed()
        return True

    def action_someone_else(self) -> None:
        """F2: someone other than the locked session's person signs in here."""
        username = self.query_one("#username", Input)
        if not self.username_fixed() or username.disabled:
            return  # (a check is running: one attempt at a time)
        username.can_focus = True
        username.clear()
        self.query_one("#passphrase", Input).clear()
        self._say("Type your own username and passphrase.", error=False)
        self.set_focus(username)
        self.refresh_bindings()

    def before_check(self, username: str) -> None:
        """Someone not present signing in at a huddle's lock ends the huddle for everyone:
        asked first, before the passphrase is checked (a check that succeeds records the
        sign-in). Judged by the session as it is now, which the check then uses too."""
        session = dataclasses.replace(self._session)
        if not ends_huddle(session, username):
            self._checking = session
            self.check_now(username)
            return

        def answered(choice: str | None) -> None:
            if choice == END:
                self._checking = session
                self.check_now(username)
                return
            for field in self.query(Input):
                field.clear()
            self._say("The huddle goes on, locked. Someone present unlocks it; you can then "
                      "join with +.", error=False)
            self.set_focus(self.query_one("#username", Input))

        self.app.push_screen(ChoiceScreen(
            "A huddle is on",
            [(STAY, "Leave the huddle locked"),
             (END, "End the huddle for everyone and sign in")],
            current=STAY,
            note="You are not present in this huddle: signing in here ends it for everyone "
                 "present (its minutes are stored). Enter or Esc leaves it locked."),
            answered)

    def check(self, username: str, passphrase: str) -> Message:
        session = self._checking or self._session
        result = unlock(self._backend.opened(), session, username, passphrase,
                        self._clock.now())
        return UnlockChecked(result)


def ends_huddle(session: TerminalSession, username: str) -> bool:
    """Whether ``username`` signing in at this lock ends a huddle: a huddle is on and
    they may not unlock it (``TerminalSession.may_unlock``, by username)."""
    roster = session.roster
    if roster is None:
        return False
    if any(p.username == username for p in roster.present):
        return False
    person = session.person
    return bool(roster.present) or person is None or person.username != username
