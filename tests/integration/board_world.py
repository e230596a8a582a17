"""A small, hand-made team for the board, queue and case-action tests (fixed day).

Every case is made to land in (or stay out of) one board filter or queue section, so a
test can name exactly what it expects.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from anchor_tui.db.models import (
    Case,
    CaseEvent,
    CaseMember,
    CaseSnooze,
    Consent,
    InputRequest,
    Person,
    Task,
)
from anchor_tui.domain import Viewer
from anchor_tui.policy import load_policy
from anchor_tui.services.backend import Backend
from anchor_tui.services.users import ensure_team_users
from anchor_tui.settings import DEMO_PASSPHRASE, PACKAGE_CONFIG_DIR, load_settings

TODAY = dt.date(2026, 11, 16)
SHIPPED_YOUTH_FIELDS = "youth_work: [person_name, municipality, summary, lead, members]"
NAMELESS_YOUTH_FIELDS = "youth_work: [municipality, summary]"


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def backend_for(engine: Engine, *, nameless_youth: bool = False,
                tasks_only_to_members: bool = False) -> Backend:
    """The shipped config and policy; optionally youth work sees no names, members or
    lead, or tasks are visible to case members only (so the task filter shows)."""
    settings = load_settings(engine.url.render_as_string(hide_password=False))
    text = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text(encoding="utf-8")
    if nameless_youth:
        assert SHIPPED_YOUTH_FIELDS in text
        text = text.replace(SHIPPED_YOUTH_FIELDS, NAMELESS_YOUTH_FIELDS)
    if tasks_only_to_members:
        for rule in ("tasks-to-assignee", "tasks-to-creator"):
            text, found = re.subn(rf"  - id: {rule}\n(?:    .*\n)+", "", text)
            assert found == 1
    policy = load_policy(Path(settings.policy_path), team=settings.team, text=text)
    return Backend.from_engine(engine, policy, settings.team)


@dataclass
class World:
    users: dict[str, Viewer]
    cases: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)


def viewer(users: dict[str, tuple[int, str]], username: str) -> Viewer:
    user_id, profession = users[username]
    return Viewer(user_id=user_id, username=username, display_name=username,
                  profession=profession, role="member")


def build_world(backend: Backend) -> World:
    """Users police, social, nurse, youth, lead, auditor and eight cases:

    - ``new``: notification, not screened (to screen); Aino Aaltonen
    - ``screened``: notification, screened already; Eero Virtanen
    - ``mine``: assessment, social works and leads it; review overdue; tasks for social
      (one overdue, one upcoming, one done); Ilona Korhonen
    - ``asked``: anchor meeting, social works it; health's input asked; a consent
      ending in 5 days; review in 10 days; Oskari Mäkinen
    - ``snoozed``: follow-up, social works it; review tomorrow; snoozed by social
    - ``woke``: follow-up, social works it; review in 3 days; snooze ended today
    - ``others``: assessment, only police works it; review today; a task for social
    - ``closed``: closed, social worked it; review long past (not due: closed)
    """
    team_users, _ = ensure_team_users(backend, DEMO_PASSPHRASE)
    ids = {name: team_users[name][0] for name in team_users}
    world = World({name: viewer(team_users, name) for name in team_users})
    social, police, health = ids["social"], ids["police"], ids["nurse"]

    def add_case(session: object, key: str, first: str, last: str, stage: str, *,
                 members: tuple[int, ...] = (), lead: int | None = None,
                 review: dt.date | None = None, priority: int = 2,
                 category: str = "substance_use") -> int:
        from sqlalchemy.orm import Session

        assert isinstance(session, Session)
        person = Person(first_name=first, last_name=last, birth_date=dt.date(2010, 5, 1))
        session.add(person)
        session.flush()
        case = Case(person_id=person.id, category=category, stage=stage, priority=priority,
                    next_review=review, lead_user_id=lead,
                    opened_at=dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC))
        session.add(case)
        session.flush()
        for member in members:
            session.add(CaseMember(case_id=case.id, user_id=member, valid_from=days(-30)))
        world.cases[key] = case.id
        return case.id

    with backend.sessions.system("test: the board world") as s:
        add_case(s, "new", "Aino", "Aaltonen", "notification", priority=1,
                 category="school_threat")
        screened = add_case(s, "screened", "Eero", "Virtanen", "notification")
        s.add(CaseEvent(case_id=screened, actor_id=social, kind="screened", to_value="take"))
        mine = add_case(s, "mine", "Ilona", "Korhonen", "assessment", members=(social,),
                        lead=social, review=days(-2))
        asked = add_case(s, "asked", "Oskari", "Mäkinen", "anchor_meeting",
                         members=(social, health), lead=social, review=days(10),
                         category="family_violence")
        snoozed = add_case(s, "snoozed", "Venla", "Nieminen", "follow_up", members=(social,),
                           review=days(1))
        woke = add_case(s, "woke", "Leo", "Lahtinen", "follow_up", members=(social,),
                        review=days(3))
        others = add_case(s, "others", "Emma", "Salo", "assessment", members=(police,),
                          lead=police, review=TODAY)
        add_case(s, "closed", "Aapo", "Heino", "closed", members=(social,), review=days(-100))
        s.flush()
        for key, case_id, due, done in (
            ("overdue", mine, days(-3), False), ("upcoming", mine, days(5), False),
            ("done", mine, days(-10), True), ("elsewhere", others, days(2), False),
        ):
            task = Task(case_id=case_id, title=f"Task {key}", assignee_id=social, due=due,
                        created_by_id=police,
                        done_at=dt.datetime(2026, 11, 10, tzinfo=dt.UTC) if done else None)
            s.add(task)
            s.flush()
            world.tasks[key] = task.id
        s.add(InputRequest(case_id=asked, profession="health", asked_by_id=social,
                           question="Is a health check needed?"))
        s.add(InputRequest(case_id=mine, profession="health", asked_by_id=social,
                           question="answered", answered_at=dt.datetime(2026, 11, 10,
                                                                          tzinfo=dt.UTC)))
        person_of_asked = s.get(Case, asked)
        assert person_of_asked is not None
        s.add(Consent(person_id=person_of_asked.person_id, grantor="self", decision="permit",
                      category="health", receiving_profession="social_work",
                      valid_from=days(-60), valid_to=days(5), recorded_by_id=health))
        s.add(Consent(person_id=person_of_asked.person_id, grantor="self", decision="permit",
                      category="youth_work", receiving_profession="police",
                      valid_from=days(-60), valid_to=days(40), recorded_by_id=health))
        s.add(CaseSnooze(case_id=snoozed, user_id=social, until=days(2), reason="on leave"))
        s.add(CaseSnooze(case_id=woke, user_id=social, until=TODAY, reason="waited"))
    return world
