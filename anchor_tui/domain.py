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
    version: int = 1
    """The case's version when read: a move sends it back (optimistic locking)."""

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
    exact: bool = True
    """False: counting stopped at ``total`` (a broad filter); more cases match."""


@dataclass(frozen=True)
class FilterSpec:
    """What the board shows: typed words plus the criteria of a saved filter.

    Every criterion narrows what the viewer may see anyway; none widens it.
    """

    text: str = ""
    """Words typed after ``/``; each must match a name (or initials), category, member,
    lead, stage or priority the viewer may see."""
    saved_id: str | None = None
    """The saved filter in force, if any (its label is shown in the header)."""
    saved_label: str = ""
    mine: bool = False
    waiting_for_my_profession: bool = False
    review_due_within_days: int | None = None
    stages: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.text.strip() and self.saved_id is None


@dataclass(frozen=True)
class CardKey:
    """Where a page of a stage ends: the keyset ``(priority, next_review, id)``."""

    priority: int
    next_review: dt.date | None
    case_id: int

    @classmethod
    def of(cls, card: CaseCard) -> CardKey:
        return cls(card.priority, card.next_review, card.case_id)


@dataclass(frozen=True)
class CaseRef:
    """A case as a confirmation or a palette names it: label, stage, version seen."""

    case_id: int
    person_label: str
    category: str
    stage: str
    version: int
    lead_user_id: int | None = None
    lead: str | None = None
    """The lead's display name where the viewer may see it."""


@dataclass(frozen=True)
class MemberChoice:
    """An active member of a case, offered as lead or task assignee."""

    user_id: int
    display_name: str
    profession: str


QUEUE_COUNT_AT_MOST = 999
"""A queue section counts its items up to this many; more show as ``999+`` (a person
triages tens of items, never thousands, and counting 15,000 tasks through the
disclosure filter took longer than reading the whole rest of the queue)."""
QUEUE_SECTIONS = ("to_screen", "my_tasks", "input_asked", "consents_expiring", "reviews_due")


@dataclass(frozen=True)
class QueueItem:
    """One thing waiting for the signed-in person, on one case."""

    section: str
    case_id: int
    person_label: str
    category: str
    stage: str
    what: str
    """What is waiting, in words ("Call the school", "Consent Health → Police ends ...")."""
    due: dt.date | None = None
    overdue: bool = False
    task_id: int | None = None
    task_version: int | None = None
    input_request_id: int | None = None
    consent_id: int | None = None


@dataclass(frozen=True)
class QueueSection:
    """A section of the triage queue: its total and its first items."""

    id: str
    label: str
    total: int
    """The items waiting, counted up to ``QUEUE_COUNT_AT_MOST + 1`` (more than the
    limit: ``many``)."""
    items: tuple[QueueItem, ...] = field(default_factory=tuple)

    @property
    def many(self) -> bool:
        """More items wait than were counted."""
        return self.total > QUEUE_COUNT_AT_MOST
