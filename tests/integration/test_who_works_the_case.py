"""Who works a case (its lead, its members) is named only to a viewer whose profession
may see both: under a policy that hides them from a profession (here youth work sees
neither, as a team may configure), the case history's actors, a task's assignee and an
edit conflict's "changed by" name nobody (the lead and member events themselves were
already hidden; the people who made the other changes are, most often, the lead).
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.services.case_actions import mark_screened, take_case
from anchor_tui.services.case_view import SOMEONE, open_case
from tests.integration.case_world import NOW, TODAY, build, huddle, make_backend

SHIPPED = "  youth_work: [person_name, municipality, summary, lead, members]"
NAMELESS = "  youth_work: [municipality, summary]"


def test_history_does_not_name_the_lead_to_a_profession_without_lead_or_members(
        engine: Engine) -> None:
    text = open(make_backend(engine).policy.path, encoding="utf-8").read()  # noqa: SIM115
    assert SHIPPED in text
    world = build(make_backend(engine, text.replace(SHIPPED, NAMELESS)))
    backend = world.backend
    police, youth = world.viewers["police"], world.viewers["youth"]
    # Case B: only the police work it; move it to the first stage (a new notification).
    with backend.sessions.system("test") as s:
        case = s.get(m.Case, world.case_b)
        case.stage = backend.team.stages[0].id
    with backend.sessions.system("test") as s:
        version = s.scalar(select(m.Case.version).where(m.Case.id == world.case_b))
    ref = take_case(backend, police, world.case_b, version, as_lead=True, today=TODAY)
    mark_screened(backend, police, world.case_b, ref.version, take=True,
                  reason="we take it")

    # The youth worker alone, and a huddle of social work and youth work (the shared
    # screen shows only what both may see: no lead, no members).
    for viewer in (youth, huddle(world, "social", "youth")):
        record = open_case(backend, viewer, world.case_b, now=NOW)
        # What the viewer may see of the case: no lead, no members ...
        assert record.summary.lead is None and record.members is None
        assert all(e.kind not in ("lead", "member_added") for e in record.history)
        # ... yet the history names who took it (the lead) on the events left in it.
        actors = {e.actor for e in record.history}
        assert police.display_name not in actors, (
            f"{viewer.purpose}: history names the case's lead/member to a viewer without "
            f"lead/members: {[(e.kind, e.actor) for e in record.history]}")


def test_case_tasks_do_not_name_members_to_a_profession_without_members(
        engine: Engine) -> None:
    """Same class: a task's assignee must work the case (``tasks.new_task`` refuses
    anyone else, and the task form refuses to list members to this profession), yet the
    case view's task list names the assignee to a viewer without ``members``."""
    text = open(make_backend(engine).policy.path, encoding="utf-8").read()  # noqa: SIM115
    world = build(make_backend(engine, text.replace(SHIPPED, NAMELESS)))
    youth = world.viewers["youth"]
    record = open_case(world.backend, youth, world.case_a, now=NOW)
    assert record.members is None and record.summary.lead is None
    assignees = {t.assignee for t in record.tasks}
    assert SOMEONE in assignees  # assigned, not "nobody": only the name is held back
    assert world.viewers["social"].display_name not in assignees, (
        f"task list names a case member to a profession without members: "
        f"{[(t.title, t.assignee) for t in record.tasks]}")


def test_an_edit_conflict_does_not_name_who_changed_members(engine: Engine) -> None:
    """Same class (services/case_edits.py ``_changed_by``): a conflict names everyone who
    changed the case since it was read, from every history kind, including the member
    changes the viewer's profession may not see."""
    import datetime as dt

    import pytest

    from anchor_tui.services.case_edits import CaseChange, CaseConflict, apply_change, case_state

    text = open(make_backend(engine).policy.path, encoding="utf-8").read()  # noqa: SIM115
    world = build(make_backend(engine, text.replace(SHIPPED, NAMELESS)))
    backend = world.backend
    youth, nurse = world.viewers["youth"], world.viewers["nurse"]
    seen_at = NOW - dt.timedelta(minutes=1)
    seen = case_state(backend, youth, world.case_b, TODAY)  # case B: police only
    assert seen.members is None
    # The nurse joins case B (a member change, hidden from youth work) ...
    theirs = case_state(backend, nurse, world.case_b, TODAY)
    apply_change(backend, nurse, theirs, CaseChange("member_added", nurse.user_id),
                 today=TODAY)
    # ... and the youth worker's priority change meets a conflict that names the nurse.
    with pytest.raises(CaseConflict) as raised:
        apply_change(backend, youth, seen, CaseChange("priority", 1), today=TODAY,
                     seen_at=seen_at)
    assert raised.value.now.members is None
    assert nurse.display_name not in raised.value.changed_by, raised.value.changed_by
