"""Random disclosure worlds for property tests (hypothesis).

A world is a small team with cases, memberships, notes, tasks (some made from a note,
some from a huddle action, with its sources) and consents, as plain facts.
``insert_world`` writes it to a real database under fresh ids, so one database can hold
many worlds side by side (notes are append-only: nothing is ever deleted).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass

from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from anchor_tui.db import models as m
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.policy import ConsentFacts, DecisionContext, MembershipFacts, NoteFacts, TaskFacts
from anchor_tui.policy.engine import calendar_day

NOW = dt.datetime(2026, 6, 15, 10, 30, tzinfo=dt.UTC)
TODAY = calendar_day(NOW)
PROFESSIONS = ("police", "social_work", "health", "youth_work")
CATEGORIES = ("general", "health", "child_welfare", "police_intel", "youth_work", "undeclared")
GRANTORS = ("self", "guardian", "legal_representative")
SOURCE_FIELDS = ("person_name", "birth_date", "members")

_ids = itertools.count(1)


@dataclass(frozen=True)
class World:
    users: tuple[tuple[int, str], ...]  # (id, profession)
    persons: tuple[int, ...]
    cases: tuple[tuple[int, int], ...]  # (id, person id)
    memberships: tuple[MembershipFacts, ...]
    notes: tuple[NoteFacts, ...]
    tasks: tuple[TaskFacts, ...]
    consents: tuple[ConsentFacts, ...]
    viewers: tuple[Viewer, ...]

    def context(self) -> DecisionContext:
        return DecisionContext(NOW, TODAY, self.memberships, self.consents)


def _day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    base = next(_ids) * 1000  # fresh ids per world
    n_users = draw(st.integers(1, 5))
    users = tuple(
        (base + i, draw(st.sampled_from(PROFESSIONS))) for i in range(n_users)
    )
    persons = tuple(base + i for i in range(draw(st.integers(1, 3))))
    cases = tuple(
        (base + i, draw(st.sampled_from(persons))) for i in range(draw(st.integers(1, 3)))
    )
    person_of = dict(cases)
    user_ids = [u for u, _ in users]
    profession_of = dict(users)

    offsets = st.integers(-40, 40)
    memberships = tuple(
        MembershipFacts(
            case_id=draw(st.sampled_from([c for c, _ in cases])),
            user_id=draw(st.sampled_from(user_ids)),
            valid_from=_day(draw(st.integers(-60, 5))),
            valid_to=draw(st.none() | offsets.map(_day)),
        )
        for _ in range(draw(st.integers(0, 6)))
    )
    memberships = tuple(
        x for x in memberships if x.valid_to is None or x.valid_to >= x.valid_from
    )

    notes = []
    for i in range(draw(st.integers(1, 8))):
        case_id = draw(st.sampled_from([c for c, _ in cases]))
        author = draw(st.sampled_from(user_ids))
        # Usually the author's profession; sometimes another (the author changed job
        # since writing: the profession at writing is what counts).
        profession = draw(st.sampled_from([profession_of[author], *PROFESSIONS]))
        notes.append(NoteFacts(
            id=base + i, case_id=case_id, person_id=person_of[case_id],
            category=draw(st.sampled_from(CATEGORIES)), author_id=author,
            author_profession=profession,
        ))

    tasks = []
    for i in range(draw(st.integers(0, 3))):
        case_id = draw(st.sampled_from([c for c, _ in cases]))
        # Some are made from a note of their case (a concern's statutory task, a
        # template's follow-up): shown only where that note is shown too.
        of_case = [n for n in notes if n.case_id == case_id]
        from_note = draw(st.none() | st.sampled_from(of_case)) if of_case else None
        # Some are a huddle action's: they carry what the room saw of the case (notes
        # of the case, case fields; ``birth_date`` is one youth work may not see).
        sources = draw(st.lists(st.sampled_from(of_case), unique=True, max_size=3)) \
            if of_case else []
        fields = draw(st.frozensets(st.sampled_from(SOURCE_FIELDS), max_size=2))
        tasks.append(TaskFacts(
            id=base + i,
            case_id=case_id,
            assignee_id=draw(st.none() | st.sampled_from(user_ids)),
            created_by_id=draw(st.sampled_from(user_ids)),
            from_note=from_note,
            source_notes=tuple(sources),
            source_fields=fields,
        ))

    consents = []
    for i in range(draw(st.integers(0, 8))):
        start = draw(st.integers(-60, 10))
        end = draw(st.none() | st.integers(start, 60))
        withdrawn = draw(st.none() | st.integers(-30 * 24, 30 * 24).map(
            lambda h: NOW + dt.timedelta(hours=h)))
        consents.append(ConsentFacts(
            id=base + i,
            person_id=draw(st.sampled_from(persons)),
            grantor=draw(st.sampled_from(GRANTORS)),
            decision=draw(st.sampled_from(("permit", "deny"))),
            category=draw(st.sampled_from(CATEGORIES[:5])),
            receiving_profession=draw(st.sampled_from(PROFESSIONS)),
            valid_from=_day(start),
            valid_to=None if end is None else _day(end),
            withdrawn_at=withdrawn,
        ))

    viewers = []
    for user_id, profession in users:
        viewers.append(Viewer(user_id, f"u{user_id}", f"User {user_id}", profession, "member",
                              break_glass=draw(st.booleans())))
    attendees = draw(st.lists(st.sampled_from(users), unique=True, max_size=4))
    convener = users[0]
    viewers.append(Viewer(
        convener[0], f"u{convener[0]}", "Huddle", convener[1], "member", purpose="huddle",
        attendees=tuple(Attendee(u, p) for u, p in attendees),
        break_glass=draw(st.booleans()),
    ))
    return World(users, persons, cases, memberships, tuple(notes), tuple(tasks),
                 tuple(consents), tuple(viewers))


def insert_world(engine: Engine, world: World,
                 note_body: Callable[[NoteFacts], str] | None = None) -> None:
    """Write a world with its explicit ids, in one transaction, below the disclosure layer
    (each note's body ``marker-<id>``, or what ``note_body`` makes of the note)."""
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(insert(m.User), [
            {"id": u, "username": f"u{u}", "display_name": f"User {u}", "profession": p,
             "role": "member", "passphrase_hash": "-", "active": True, "failed_sign_ins": 0,
             "created_at": created}
            for u, p in world.users
        ])
        conn.execute(insert(m.Person), [
            {"id": p, "first_name": "Test", "last_name": f"Person {p}", "created_at": created}
            for p in world.persons
        ])
        conn.execute(insert(m.Case), [
            {"id": c, "person_id": p, "category": "substance_use", "stage": "screening",
             "priority": 2, "opened_at": created, "summary": "", "version": 1,
             "updated_at": created}
            for c, p in world.cases
        ])
        if world.memberships:
            conn.execute(insert(m.CaseMember), [
                {"case_id": x.case_id, "user_id": x.user_id, "valid_from": x.valid_from,
                 "valid_to": x.valid_to}
                for x in world.memberships
            ])
        conn.execute(insert(m.Note), [
            {"id": n.id, "case_id": n.case_id, "author_id": n.author_id,
             "author_profession": n.author_profession, "category": n.category,
             "body": note_body(n) if note_body else f"marker-{n.id}",
             "created_at": created, "revision": 1,
             "entered_in_error": False}
            for n in world.notes
        ])
        if world.tasks:
            conn.execute(insert(m.Task), [
                {"id": t.id, "case_id": t.case_id, "title": f"task-{t.id}",
                 "assignee_id": t.assignee_id, "created_by_id": t.created_by_id,
                 "created_at": created, "version": 1,
                 "from_note_id": t.from_note.id if t.from_note is not None else None}
                for t in world.tasks
            ])
            sources = [{"task_id": t.id, "note_id": n.id, "field": None}
                       for t in world.tasks for n in t.source_notes]
            sources += [{"task_id": t.id, "note_id": None, "field": f}
                        for t in world.tasks for f in sorted(t.source_fields)]
            if sources:
                conn.execute(insert(m.TaskSource), sources)
        if world.consents:
            conn.execute(insert(m.Consent), [
                {"id": k.id, "person_id": k.person_id, "grantor": k.grantor,
                 "decision": k.decision, "category": k.category,
                 "receiving_profession": k.receiving_profession, "valid_from": k.valid_from,
                 "valid_to": k.valid_to, "withdrawn_at": k.withdrawn_at,
                 "recorded_by_id": world.users[0][0], "recorded_at": created, "evidence": ""}
                for k in world.consents
            ])
