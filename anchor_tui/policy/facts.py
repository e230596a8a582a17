"""The facts the disclosure policy decides on, free of any database.

``decide()`` works on these; the SQL filter works on the same facts as columns. A
test builds random worlds of these facts and checks that both agree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NoteFacts:
    """What the policy needs to know about a note (never its text)."""

    id: int
    case_id: int
    person_id: int
    category: str
    author_id: int
    author_profession: str


@dataclass(frozen=True)
class TaskFacts:
    id: int
    case_id: int
    assignee_id: int | None
    created_by_id: int
    from_note: NoteFacts | None = None
    """The note the task was made from: the task is seen only where the note is."""
    source_notes: tuple[NoteFacts, ...] = ()
    """A huddle action's task: the notes of the case the room saw when it was typed.
    The task is seen only where every one of them is too."""
    source_fields: frozenset[str] = frozenset()
    """A huddle action's task: the case fields the room saw (``person_name``): the
    task is seen only by someone who may see each of them."""
    source_reasons: tuple[NoteFacts, ...] = ()
    """A task typed in a huddle: the reasons given for changes to the case that the room
    read (each disclosed as a note of its writer's profession): the task is seen only
    where every one of them is too."""


@dataclass(frozen=True)
class MembershipFacts:
    """A user working a case from ``valid_from`` to ``valid_to`` (inclusive; None: open)."""

    case_id: int
    user_id: int
    valid_from: dt.date
    valid_to: dt.date | None

    def active_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)


@dataclass(frozen=True)
class ConsentFacts:
    person_id: int
    grantor: str
    """``self`` (the young person), ``guardian`` or ``legal_representative``."""
    decision: str
    """``permit`` or ``deny``."""
    category: str
    receiving_profession: str
    valid_from: dt.date
    valid_to: dt.date | None
    withdrawn_at: dt.datetime | None
    id: int = 0

    def active_at(self, now: dt.datetime, day: dt.date) -> bool:
        return (
            self.valid_from <= day
            and (self.valid_to is None or self.valid_to >= day)
            and (self.withdrawn_at is None or self.withdrawn_at > now)
        )


@dataclass(frozen=True)
class DecisionContext:
    """The world around a note at one moment: memberships and consents.

    ``today`` is the team's calendar day at ``now``; both the Python and the SQL
    translation use the same pair, so they cannot disagree about midnight.
    """

    now: dt.datetime
    today: dt.date
    memberships: tuple[MembershipFacts, ...] = ()
    consents: tuple[ConsentFacts, ...] = ()
    _member_index: frozenset[tuple[int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        active = frozenset(
            (m.case_id, m.user_id) for m in self.memberships if m.active_on(self.today)
        )
        object.__setattr__(self, "_member_index", active)

    def is_member(self, case_id: int, user_id: int) -> bool:
        return (case_id, user_id) in self._member_index

    def has_consent(self, person_id: int, category: str, profession: str) -> bool:
        """Whether an effective consent lets ``profession`` receive ``category`` about the person.

        The young person's own decision, when there is one in force, decides (a mature
        minor consents personally; a guardian cannot override the minor's refusal), and
        a refusal beats a permit from the same level. Without one, a guardian's or legal
        representative's permit counts unless one of them refuses.
        """
        active = [
            c for c in self.consents
            if c.person_id == person_id and c.category == category
            and c.receiving_profession == profession and c.active_at(self.now, self.today)
        ]
        own = [c.decision for c in active if c.grantor == "self"]
        if own:
            return "deny" not in own
        others = [c.decision for c in active if c.grantor != "self"]
        return "permit" in others and "deny" not in others

    def consent_basis(self, person_id: int, category: str, profession: str) -> list[int]:
        """The ids of the permits in force that make ``has_consent`` true (for the ledger)."""
        if not self.has_consent(person_id, category, profession):
            return []
        active = [
            c for c in self.consents
            if c.person_id == person_id and c.category == category
            and c.receiving_profession == profession and c.active_at(self.now, self.today)
            and c.decision == "permit"
        ]
        own = [c.id for c in active if c.grantor == "self"]
        return own or [c.id for c in active]


@dataclass(frozen=True)
class Decision:
    """Whether a note may be shown, and the ids of the rules that decided.

    A denial with no rule ids is the default deny (no permit applied).
    """

    allowed: bool
    rule_ids: tuple[str, ...] = ()
    reason: str = ""
