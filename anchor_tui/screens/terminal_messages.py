"""Messages of the shared terminal (past tense): the app reacts by opening a new viewer
context (``anchor_tui.terminal``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:  # the services load after the sign-in screen is drawn (services.opening)
    from anchor_tui.domain import Viewer
    from anchor_tui.services.huddle import Roster
    from anchor_tui.services.minutes import EndedHuddle
    from anchor_tui.services.session_state import Unlocked


class HuddleStarted(Message):
    """A huddle was started by ``starter``; ``roster`` holds them as its first attendee."""

    def __init__(self, roster: Roster, starter: Viewer) -> None:
        super().__init__()
        self.roster = roster
        self.starter = starter


class RosterChanged(Message):
    """Someone joined or left: a new viewer, so new screens (``resume_case``: where the
    agenda was)."""

    def __init__(self, roster: Roster, resume_case: int | None) -> None:
        super().__init__()
        self.roster = roster
        self.resume_case = resume_case


class RosterRead(Message):
    """The roster read from the database after the ``change``-th ``RosterChanged``."""

    def __init__(self, roster: Roster, change: int, resume_case: int | None) -> None:
        super().__init__()
        self.roster = roster
        self.change = change
        self.resume_case = resume_case


class JoinWritten(Message):
    """The join form's own answer once the join is written (the roster change itself
    goes to the terminal at once, whatever became of the form)."""


class HuddleEndConfirmed(Message):
    """The huddle screen's "end the huddle" was confirmed."""


class HuddleEnded(Message):
    """The huddle ended: its minutes are stored (and written to ``ended.path``)."""

    def __init__(self, ended: EndedHuddle) -> None:
        super().__init__()
        self.ended = ended


class UnlockChecked(Message):
    """The lock screen's passphrase was right: unlock, or hand over to another person."""

    def __init__(self, result: Unlocked) -> None:
        super().__init__()
        self.result = result
