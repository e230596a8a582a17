"""A small team and two cases for the case view, search and caseload tests.

Every note holds a word no other note has, so a search for it finds that note or
nothing. Case A is worked by all four professions; case B by the police only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from anchor_tui.db import models as m
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.policy import load_policy
from anchor_tui.services.backend import Backend
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

NOW = dt.datetime(2026, 11, 16, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
OPENED = NOW - dt.timedelta(weeks=20)

WORDS = {
    "police_intel": "zebrapolice",
    "health": "giraffehealth",
    "general": "okapigeneral",
    "child_welfare": "lemurwelfare",
    "youth_work": "tapiryouth",
}
"""The unique word in case A's note of each category."""
CASE_B_WORD = "quokkaonly"
HIDDEN_REVISION_WORD = "ibexcorrected"


@dataclass
class TeamWorld:
    backend: Backend
    viewers: dict[str, Viewer]
    case_a: int
    case_b: int
    notes: dict[str, int]
    """Note ids by name: a category, 'rev1', 'rev2', 'error', 'youth_rev1', 'youth_rev2'."""


def make_backend(engine: Engine, policy_text: str | None = None) -> Backend:
    team = load_team_config(None)
    path = PACKAGE_CONFIG_DIR / "disclosure.yaml"
    policy = load_policy(path, team=team, text=policy_text)
    return Backend.from_engine(engine, policy, team)


def build(backend: Backend) -> TeamWorld:
    joined = TODAY - dt.timedelta(days=200)
    with backend.sessions.system("test world") as s:
        users = {
            name: m.User(username=name, display_name=f"{name.title()} Person", profession=prof,
                         passphrase_hash="-")
            for name, prof in [("police", "police"), ("social", "social_work"),
                               ("nurse", "health"), ("youth", "youth_work")]
        }
        s.add_all(users.values())
        person_a = m.Person(first_name="Aino", last_name="Testinen", municipality="Espoo",
                            birth_date=dt.date(2011, 2, 3))
        person_b = m.Person(first_name="Bertta", last_name="Muukalainen")
        s.add_all([person_a, person_b])
        s.flush()
        case_a = m.Case(person_id=person_a.id, category="substance_use", stage="assessment",
                        summary="Shoplifting at the mall", lead_user_id=users["social"].id,
                        opened_at=OPENED)
        case_b = m.Case(person_id=person_b.id, category="first_offence", stage="screening",
                        summary="Graffiti", opened_at=OPENED)
        s.add_all([case_a, case_b])
        s.flush()
        for user in users.values():
            s.add(m.CaseMember(case_id=case_a.id, user_id=user.id, valid_from=joined))
        s.add(m.CaseMember(case_id=case_b.id, user_id=users["police"].id, valid_from=joined))
        notes: dict[str, m.Note] = {}

        def note(key: str, author: str, category: str, body: str, minutes: int,
                 case: m.Case = case_a, **extra: object) -> m.Note:
            user = users[author]
            row = m.Note(case_id=case.id, author_id=user.id, author_profession=user.profession,
                         category=category, body=body,
                         created_at=NOW - dt.timedelta(days=10, minutes=-minutes), **extra)
            s.add(row)
            s.flush()
            notes[key] = row
            return row

        authors = {"police_intel": "police", "health": "nurse", "general": "social",
                   "child_welfare": "social", "youth_work": "youth"}
        for index, (category, word) in enumerate(WORDS.items()):
            note(category, authors[category], category, f"Note about {word} today.", index)
        first = note("rev1", "social", "general", "First version kiwiword", 10)
        note("rev2", "social", "general", "Second version kiwiword", 11,
             revision=2, supersedes_id=first.id)
        note("error", "social", "general", "Wrong case walrusword", 12,
             entered_in_error=True, error_reason="meant for another case")
        seen = note("youth_rev1", "youth", "general", "Youth general pumaword", 13)
        note("youth_rev2", "youth", "youth_work", f"Youth work {HIDDEN_REVISION_WORD}", 14,
             revision=2, supersedes_id=seen.id)
        note("case_b", "police", "general", f"Only police {CASE_B_WORD}", 15, case=case_b)
        s.add(m.Consent(person_id=person_a.id, grantor="self", decision="permit",
                        category="health", receiving_profession="social_work",
                        valid_from=TODAY - dt.timedelta(days=30),
                        recorded_by_id=users["social"].id))
        s.add(m.Task(case_id=case_a.id, title="Call home", assignee_id=users["social"].id,
                     created_by_id=users["social"].id, due=TODAY - dt.timedelta(days=1)))
        for kind, old, new, weeks_ago in [
            ("stage", "screening", "assessment", 3), ("lead", None, str(users["social"].id), 5),
            ("member_added", None, str(users["youth"].id), 6), ("priority", "2", "1", 4),
        ]:
            s.add(m.CaseEvent(case_id=case_a.id, kind=kind, from_value=old, to_value=new,
                              actor_id=users["social"].id,
                              at=NOW - dt.timedelta(weeks=weeks_ago)))
        s.flush()
        viewers = {name: Viewer(u.id, u.username, u.display_name, u.profession, "member")
                   for name, u in users.items()}
        ids = {key: row.id for key, row in notes.items()}
        return TeamWorld(backend, viewers, case_a.id, case_b.id, ids)


def huddle(world: TeamWorld, *names: str) -> Viewer:
    convener = world.viewers[names[0]] if names else world.viewers["social"]
    return Viewer(convener.user_id, convener.username, "Huddle", convener.profession,
                  "member", purpose="huddle",
                  attendees=tuple(Attendee(world.viewers[n].user_id, world.viewers[n].profession)
                                  for n in names))
