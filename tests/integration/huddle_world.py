"""A small team with real passphrases and three cases, for the huddle and sign-in tests.

- case A (assessment, review in 2 days) is worked by all four professions and holds a
  note of every category, each with a word no other note has; a consent lets social work
  read its health notes;
- case B is a new notification (first stage, not screened) worked by the police only;
- case C (follow-up, review in 3 days) is worked by the nurse and social work and is
  flagged for the huddle.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.policy import load_policy
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import hash_passphrase
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

PASSPHRASE = "meri on tänään tyyni"
TODAY = dt.date(2026, 11, 16)
NOW = dt.datetime(2026, 11, 16, 9, 0, tzinfo=dt.UTC)
_HASH = hash_passphrase(PASSPHRASE)

MEMBERS = {"police": "police", "social": "social_work", "nurse": "health",
           "youth": "youth_work"}
WORDS = {"police_intel": "zebraintel", "health": "giraffehealth", "general": "okapigeneral",
         "child_welfare": "lemurwelfare", "youth_work": "tapiryouth"}
AUTHORS = {"police_intel": "police", "health": "nurse", "general": "social",
           "child_welfare": "social", "youth_work": "youth"}
CASE_B_WORD = "quokkanotice"
CASE_C_WORD = "wombatflagged"


@dataclass
class HuddleWorld:
    backend: Backend
    viewers: dict[str, Viewer]
    case_a: int
    case_b: int
    case_c: int
    notes: dict[str, int]
    """Note ids: case A's by category, 'case_b', 'case_c'."""


def make_backend(engine: Engine) -> Backend:
    team = load_team_config(None)
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
    return Backend.from_engine(engine, policy, team)


def build(backend: Backend) -> HuddleWorld:
    joined = TODAY - dt.timedelta(days=100)
    with backend.sessions.system("test world") as s:
        users = {name: m.User(username=name, display_name=f"{name.title()} Worker",
                              profession=prof, passphrase_hash=_HASH, failed_sign_ins=0)
                 for name, prof in MEMBERS.items()}
        s.add_all(users.values())
        people = [m.Person(first_name=f, last_name=last) for f, last in
                  [("Aino", "Ankkuri"), ("Bertta", "Bojaani"), ("Cecilia", "Celsius")]]
        s.add_all(people)
        s.flush()
        case_a = m.Case(person_id=people[0].id, category="substance_use", stage="assessment",
                        summary="Summary of A", lead_user_id=users["social"].id,
                        next_review=TODAY + dt.timedelta(days=2))
        case_b = m.Case(person_id=people[1].id, category="first_offence",
                        stage="notification", summary="Summary of B")
        case_c = m.Case(person_id=people[2].id, category="school_threat", stage="follow_up",
                        summary="Summary of C", next_review=TODAY + dt.timedelta(days=3))
        s.add_all([case_a, case_b, case_c])
        s.flush()
        for user in users.values():
            s.add(m.CaseMember(case_id=case_a.id, user_id=user.id, valid_from=joined))
        s.add(m.CaseMember(case_id=case_b.id, user_id=users["police"].id, valid_from=joined))
        for name in ("nurse", "social"):
            s.add(m.CaseMember(case_id=case_c.id, user_id=users[name].id, valid_from=joined))
        notes: dict[str, int] = {}
        for index, (category, word) in enumerate(WORDS.items()):
            author = users[AUTHORS[category]]
            note = m.Note(case_id=case_a.id, author_id=author.id,
                          author_profession=author.profession, category=category,
                          body=f"Note about {word}.",
                          created_at=NOW - dt.timedelta(days=5, minutes=index))
            s.add(note)
            s.flush()
            notes[category] = note.id
        for key, case, author, word in [("case_b", case_b, "police", CASE_B_WORD),
                                        ("case_c", case_c, "nurse", CASE_C_WORD)]:
            note = m.Note(case_id=case.id, author_id=users[author].id,
                          author_profession=users[author].profession, category="general",
                          body=f"General {word}.", created_at=NOW - dt.timedelta(days=4))
            s.add(note)
            s.flush()
            notes[key] = note.id
        s.add(m.Consent(person_id=people[0].id, grantor="self", decision="permit",
                        category="health", receiving_profession="social_work",
                        valid_from=TODAY - dt.timedelta(days=30),
                        recorded_by_id=users["social"].id))
        s.add(m.HuddleFlag(case_id=case_c.id, flagged_by_id=users["nurse"].id,
                           flagged_at=NOW - dt.timedelta(days=1)))
        s.flush()
        viewers = {name: Viewer(u.id, u.username, u.display_name, u.profession, "member")
                   for name, u in users.items()}
        return HuddleWorld(backend, viewers, case_a.id, case_b.id, case_c.id, notes)
