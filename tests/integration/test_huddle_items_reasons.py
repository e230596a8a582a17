"""A huddle's decision is shown later only to an audience that may read the reasons the
room read on its case, as with its notes.

The case view on the huddle's shared screen shows the reasons given for changes to the
case, each disclosed as a note of its writer's profession. A decision typed there may
repeat one: shown again to a later audience (someone joined, the minutes), it is shown
only where that audience may read every reason the room read when it was typed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.services import huddle as service
from anchor_tui.services.huddle_agenda import huddle_case
from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, HuddleWorld, build
from tests.integration.huddle_world import make_backend as huddle_backend
from tests.integration.test_huddle_service import at, started


def nurse_gives_a_health_reason_on_case_c(world: HuddleWorld) -> None:
    """Case C: the police work it too (they read its general note), and the young person
    lets social work read health notes; the nurse gives a health reason for a change."""
    nurse, police = world.viewers["nurse"], world.viewers["police"]
    with world.backend.sessions.system("test: case C") as s:
        case = s.get(m.Case, world.case_c)
        assert case is not None
        s.add(m.CaseMember(case_id=case.id, user_id=police.user_id,
                           valid_from=TODAY - dt.timedelta(days=100)))
        s.add(m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                        category="health", receiving_profession="social_work",
                        valid_from=TODAY - dt.timedelta(days=30),
                        recorded_by_id=world.viewers["social"].user_id))
        event = m.CaseEvent(case_id=case.id, actor_id=nurse.user_id, kind="stage",
                            from_value="assessment", to_value="follow_up",
                            at=NOW - dt.timedelta(days=1))
        s.add(event)
        s.flush()
        s.add(m.CaseEventReason(event_id=event.id, case_id=case.id, author_id=nurse.user_id,
                                author_profession="health", category="health",
                                text="Known to psychiatry"))


def test_a_decision_over_a_reason_is_not_shown_to_one_who_may_not_read_it(
        engine: Engine) -> None:
    world = build(huddle_backend(engine))
    nurse_gives_a_health_reason_on_case_c(world)
    roster, two = started(world, "social", "nurse")
    reasons = [e.reason for e in huddle_case(world.backend, two, world.case_c, at(2))
               .record.history]
    assert "Known to psychiatry" in reasons  # the room reads it on the shared screen
    service.add_decision(world.backend, two, world.case_c, "Ask about the clinic", at(3))
    police = world.viewers["police"]
    with world.backend.sessions.read(police, at(3)) as s:  # all else of case C they read
        assert world.notes["case_c"] in set(s.scalars(select(m.Note.id)))
    roster = service.join_huddle(world.backend, two, police.username, PASSPHRASE, TODAY,
                                 at(4))
    three = service.huddle_viewer(roster, world.viewers["social"])
    assert [i.text for i in huddle_case(world.backend, three, world.case_c, at(5)).items] \
        == [], "the police were shown a decision typed over a reason they may not read"
    roster = service.leave_huddle(world.backend, three, police.user_id, at(6))
    back = service.huddle_viewer(roster, world.viewers["social"])
    assert [i.text for i in huddle_case(world.backend, back, world.case_c, at(7)).items] \
        == ["Ask about the clinic"]
