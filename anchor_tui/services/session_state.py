"""Who is at the shared terminal: the person signed in, a huddle's roster, the lock.

Plain state and rules, no Textual (the app holds one :class:`TerminalSession`):

- :class:`TerminalSession` says whose session it is, whether a huddle is on (then the
  screen's viewer is the huddle's) and whether the terminal is locked;
- :class:`IdleWatch` says when the terminal has been left alone long enough to lock;
- :class:`RetryWait` holds a sign-in form back after a wrong passphrase, for that
  username only (the next person may sign in at once), the wait growing each time;
- :func:`unlock` checks the passphrase typed on the lock screen: the same person (or,
  in a huddle, anyone present) unlocks; anyone else takes the terminal over, which ends
  the first session (its drafts stay in the database; nothing else was unsaved).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from anchor_tui.services.clock import Clock
from anchor_tui.settings import SignInRules

if TYPE_CHECKING:  # the data layer loads after the sign-in screen is drawn (services.opening)
    from anchor_tui.domain import Viewer
    from anchor_tui.services.backend import Backend
    from anchor_tui.services.huddle import Roster


@dataclass
class TerminalSession:
    """The terminal's state. ``person`` is who signed in; ``roster`` a huddle on."""

    person: Viewer | None = None
    roster: Roster | None = None
    locked: bool = False

    @property
    def viewer(self) -> Viewer | None:
        """What the screen shows is loaded for this viewer (None: nobody signed in)."""
        if self.person is None:
            return None
        if self.roster is not None:
            from anchor_tui.services.huddle import huddle_viewer

            return huddle_viewer(self.roster, self.person)
        return self.person

    def may_unlock(self, user_id: int) -> bool:
        """The person of this session, or in a huddle anyone present."""
        if self.roster is not None:
            return any(p.user_id == user_id for p in self.roster.present) \
                or (self.person is not None and self.person.user_id == user_id
                    and not self.roster.present)
        return self.person is not None and self.person.user_id == user_id

    def clear(self) -> None:
        self.person = None
        self.roster = None
        self.locked = False


class IdleWatch:
    """Seconds since the last key, click or scroll, on the app's clock."""

    def __init__(self, clock: Clock, seconds: int) -> None:
        self._clock = clock
        self.seconds = seconds
        self._last = clock.monotonic()

    def touch(self) -> None:
        self._last = self._clock.monotonic()

    def idle_for(self) -> float:
        return self._clock.monotonic() - self._last

    def due(self) -> bool:
        return self.idle_for() >= self.seconds


@dataclass
class _Tries:
    failures: int = 0
    until: float = 0.0


@dataclass
class RetryWait:
    """After a wrong passphrase, the form waits before it tries that username again.

    The wait is the longer of what the account's own rule said (``retry_in``) and this
    terminal's count of wrong tries for the name (growing as the rules say), so it grows
    whether or not the username exists.
    """

    clock: Clock
    rules: SignInRules
    _tries: dict[str, _Tries] = field(default_factory=dict)

    def refused(self, username: str, retry_in: float) -> float:
        """Note a refusal; the seconds to wait now."""
        tries = self._tries.setdefault(username.strip(), _Tries())
        tries.failures += 1
        wait = max(retry_in, self.rules.retry_delay(tries.failures))
        tries.until = self.clock.monotonic() + wait
        return wait

    def remaining(self, username: str) -> float:
        tries = self._tries.get(username.strip())
        if tries is None:
            return 0.0
        return max(0.0, tries.until - self.clock.monotonic())

    def clear(self) -> None:
        self._tries.clear()


@dataclass(frozen=True)
class Unlocked:
    """The passphrase typed on the lock screen was right.

    ``same`` True: the session goes on (``viewer`` is who unlocked). False: ``viewer``
    signed in instead and the locked session ends.
    """

    viewer: Viewer
    same: bool


def unlock(backend: Backend, session: TerminalSession, username: str, passphrase: str,
           now: dt.datetime | None = None) -> Unlocked:
    """Check the lock screen's passphrase (sign-in rules) and record what it does.

    Raises :class:`~anchor_tui.errors.SignInError` for a wrong one.
    """
    from anchor_tui.services import audit
    from anchor_tui.services.auth import authenticate

    locked_viewer = session.viewer
    person = authenticate(backend, username, passphrase, now)
    if locked_viewer is not None and session.may_unlock(person.user_id):
        # Recorded with the session's purpose (and huddle), as the one who typed it.
        who = replace(locked_viewer, user_id=person.user_id, username=person.username,
                      display_name=person.display_name, profession=person.profession,
                      role=person.role)
        audit.unlocked(backend, who)
        return Unlocked(person, same=True)
    if session.person is not None:
        audit.signed_out(backend, session.person)
    audit.record_now(backend, person, "sign_in")
    return Unlocked(person, same=False)
