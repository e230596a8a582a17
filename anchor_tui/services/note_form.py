"""What the note editor starts with: the case, templates, categories, a draft to offer
back, the note being corrected, and the facts of the disclosure preview.

Read in one unit of work when the editor opens (in a worker). The category starts from
the author's profession (``default_note_category`` in ``anchor.yaml``) and follows the
template when one is chosen.

In a huddle the text is typed onto the shared screen, so the editor offers only the
categories (and templates) whose notes every person present may read, by the policy's
decision for the room (``Policy.decide`` for the huddle's viewer, as the huddle's screens
are filtered), and says of each other category why it is not offered (:func:`room_offer`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import DecisionContext, NoteFacts, Policy
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.disclosure import load_context
from anchor_tui.services.drafts import DraftText, load_draft
from anchor_tui.services.note_preview import (
    PREVIEW_NOTE_ID,
    PreviewFacts,
    author_may_read,
    consent_world,
    denial_reason,
    read_facts,
)
from anchor_tui.services.notes import own_work_only, templates_for
from anchor_tui.settings import NoteTemplate, TeamConfig


@dataclass(frozen=True)
class CategoryChoice:
    id: str
    label: str
    confidentiality: str
    """N normal, R restricted, V very restricted (HL7), shown beside the label."""


@dataclass(frozen=True)
class Withheld:
    """A category the huddle's editor does not offer, and why."""

    category: str
    label: str
    why: str
    """Who present may not read it and why ("Police: the health record never reaches
    the police")."""

    def text(self) -> str:
        return f"{self.label} ({self.why})"


@dataclass(frozen=True)
class NoteSource:
    """The note a correction starts from (its newest revision)."""

    note_id: int
    revision: int
    category: str
    template: str | None
    body: str
    created_at: dt.datetime


@dataclass(frozen=True)
class EditorStart:
    case_id: int
    person_label: str
    templates: tuple[NoteTemplate, ...]
    categories: tuple[CategoryChoice, ...]
    default_category: str
    supersedes: NoteSource | None
    draft: DraftText | None
    """The author's autosaved text of this note (None in a huddle, or when there is none)."""
    facts: PreviewFacts
    withheld: tuple[Withheld, ...] = ()
    """In a huddle: the categories not offered, since someone present may not read their
    notes (with ``categories`` empty, no note may be written in this huddle)."""

    def in_huddle_why_not(self) -> str:
        """The categories not offered in the huddle, each with why, in a sentence."""
        if not self.withheld:
            return ""
        return ("In the huddle only categories everyone present may read are offered. "
                "Not offered: " + "; ".join(w.text() for w in self.withheld) + ".")


CONFIDENTIALITY = {"N": "normal", "R": "restricted", "V": "very restricted"}


def categories_of(policy: Policy) -> tuple[CategoryChoice, ...]:
    return tuple(CategoryChoice(k.id, k.label, k.confidentiality)
                 for k in policy.categories.values())


def default_category(team: TeamConfig, policy: Policy, profession: str,
                     template: NoteTemplate | None = None,
                     allowed: tuple[str, ...] | None = None) -> str:
    """The template's category, else the profession's default, else the category of the
    profession's own name, else ``general`` (else the policy's first category).

    ``allowed`` (in a huddle: the categories everyone present may read): only one of
    them, else the first of them; none allowed gives ``""``."""
    choices = tuple(policy.categories) if allowed is None else \
        tuple(c for c in policy.categories if c in allowed)
    for candidate in (template.category if template else None,
                      team.default_note_category.get(profession), profession, "general"):
        if candidate is not None and candidate in choices:
            return candidate
    return choices[0] if choices else ""


def room_offer(policy: Policy, room: Viewer, facts: PreviewFacts, ctx: DecisionContext
               ) -> tuple[tuple[str, ...], tuple[Withheld, ...]]:
    """The categories a huddle's note may be written in, and those it may not (with why).

    A category is offered when everyone present may read a note of it written by the
    chair (``Policy.decide`` for the room, the intersection the huddle's screens show),
    whatever the young person's consents say: the room may not learn the consents (the
    preview says "if consent" there), a consent may be withdrawn before the note is
    read, and the text is on the shared screen as it is typed. So each state of the
    consents for the category to the professions present is decided, and all must
    allow it. ``ctx``: the memberships of the people present (none of the consents).
    """
    author = facts.author
    present = sorted({who.profession for who in room.audience})
    offered: list[str] = []
    withheld: list[Withheld] = []
    for category, entry in policy.categories.items():
        note = NoteFacts(PREVIEW_NOTE_ID, facts.case_id, facts.person_id, category,
                         author.user_id, author.profession)
        why = _room_refusal(policy, room, facts, note, ctx, present)
        if why is None and not author_may_read(policy, facts, category):
            why = "you could not read it back yourself"
        if why is None:
            offered.append(category)
        else:
            withheld.append(Withheld(category, entry.label, why))
    return tuple(offered), tuple(withheld)


def _room_refusal(policy: Policy, room: Viewer, facts: PreviewFacts, note: NoteFacts,
                  ctx: DecisionContext, present: list[str]) -> str | None:
    """Why someone present may not read ``note`` in some state of the consents (None:
    everyone present may, in every state)."""
    if not room.audience:
        return "nobody is present"
    none = consent_world(ctx, note, present, False)
    for size in range(len(present) + 1):
        for granted in itertools.combinations(present, size):
            world = consent_world(none, note, granted, True)
            if policy.decide(room, note, world).allowed:
                continue
            for who in room.audience:
                decision = policy.decide_for(who, room.purpose, note, world)
                if not decision.allowed:
                    label = policy.professions.get(who.profession, who.profession)
                    told = dataclasses.replace(facts, ctx=world)
                    return f"{label}: {denial_reason(policy, told, note, who, decision)}"
            return "not everyone present may read it"
    return None


def _room_context(session: Session, room: Viewer, case_id: int, now: dt.datetime
                  ) -> DecisionContext:
    """The memberships of the people present in the case, and no consents: what the
    room's offer is decided on."""
    ctx = load_context(session, [case_id], now)
    present = {who.user_id for who in room.audience}
    return DecisionContext(ctx.now, ctx.today,
                           tuple(mf for mf in ctx.memberships if mf.user_id in present), ())


def huddle_offer(backend: Backend, viewer: Viewer, case_id: int, now: dt.datetime
                 ) -> tuple[tuple[str, ...], tuple[Withheld, ...]]:
    """The categories a note of this huddle may be saved in now (``room_offer``), read
    again when the note is saved: the room may have changed since the editor opened."""
    with backend.sessions.read(viewer, now) as session:
        room = _room_context(session, viewer, case_id, now)
    return room_offer(backend.policy, viewer, read_facts(backend, viewer, case_id, now), room)


def start_editor(backend: Backend, viewer: Viewer, case_id: int,
                 supersedes_id: int | None = None,
                 now: dt.datetime | None = None) -> EditorStart:
    """Everything the editor needs to open on ``case_id`` (run in a worker)."""
    now = now or utcnow()
    fields = backend.policy.case_fields(viewer)
    with backend.sessions.read(viewer, now) as session:
        case = session.get(m.Case, case_id)
        if case is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        label = person_label(case.person.first_name, case.person.last_name, fields)
        source = None
        if supersedes_id is not None:
            own_work_only(viewer)
            old = session.get(m.Note, supersedes_id)  # filtered: a note the viewer sees
            if old is None or old.case_id != case_id:
                raise AnchorError("The note to correct is not there.",
                                  "Read the case again (r).")
            if old.author_id != viewer.user_id:
                raise AnchorError("Only the author corrects a note.",
                                  "Write a note of your own instead (n).")
            source = NoteSource(old.id, old.revision, old.category, old.template, old.body,
                                old.created_at)
        room = _room_context(session, viewer, case_id, now) \
            if viewer.purpose == "huddle" else None
    facts = read_facts(backend, viewer, case_id, now)
    draft = load_draft(backend, viewer, case_id, supersedes_id)
    policy = backend.policy
    categories = categories_of(policy)
    templates = templates_for(backend.team, viewer.profession)
    default = source.category if source else default_category(
        backend.team, policy, viewer.profession)
    withheld: tuple[Withheld, ...] = ()
    if room is not None:
        offered, withheld = room_offer(policy, viewer, facts, room)
        categories = tuple(c for c in categories if c.id in offered)
        templates = tuple(t for t in templates if t.category in offered)
        default = default_category(backend.team, policy, viewer.profession,
                                   allowed=offered)
    return EditorStart(
        case_id=case_id, person_label=label, templates=templates, categories=categories,
        default_category=default, supersedes=source, draft=draft, facts=facts,
        withheld=withheld)
