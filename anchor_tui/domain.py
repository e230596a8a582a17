"""Plain, immutable data the screens see. Never ORM rows.

Everything here has already passed the disclosure filter: a screen may show any of
it to the viewer it was loaded for, and nothing else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

PRIORITY_LABELS = {1: "high", 2: "normal", 3: "low"}


@dataclass(frozen=True)
class Attendee:
    """One person present, as the disclosure policy needs them."""

    user_id: int
    profession: str


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and why. Immutable: a new viewer means a new session.

    For ``purpose == "huddle"`` the screen shows the intersection of what every
    attendee may see; an empty attendee set sees nothing.
    """

    user_id: int
    username: str
    display_name: str
    profession: str
    role: str
    purpose: str = "individual"
    huddle_id: int | None = None
    attendees: tuple[Attendee, ...] = ()
    break_glass: bool = False

    @property
    def audience(self) -> tuple[Attendee, ...]:
        """The people whose permissions must all allow a thing for it to be shown."""
        if self.purpose == "huddle":
            return self.attendees
        return (Attendee(self.user_id, self.profession),)


@dataclass(frozen=True)
class CaseCard:
    """A case as a board card, with only the fields the viewer may see."""

    case_id: int
    person_label: str
    """Full name, or initials where the policy allows no more."""
    category: str
    stage: str
    priority: int
    next_review: dt.date | None
    lead: str | None
    """The lead's display name, or None if not visible / not set."""

    @property
    def priority_label(self) -> str:
        return PRIORITY_LABELS.get(self.priority, str(self.priority))


@dataclass(frozen=True)
class BoardColumn:
    """One stage of the board: its visible cases (first page) and total count."""

    stage: str
    label: str
    total: int
    cards: tuple[CaseCard, ...] = field(default_factory=tuple)
