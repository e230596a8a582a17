"""Case actions on SQLite and PostgreSQL: stage moves with optimistic locking and history,
screening, taking a case, choosing a lead, assigning a task."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text

from anchor_tui.db.models import Case, CaseEvent, CaseMember, Task
from anchor_tui.db.session import ViewerSession
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import (
    assign_lead,
    assign_task,
    case_members,
    case_ref,
    mark_screened,
    move_stage,
    take_case,
)
from tests.integration.board_world import TODAY, backend_for, build_world


def events(backend: Backend, case_id: int) -> list[tuple[str, str | None, str | None]]:
    with backend.sessions.system("test: read the history") as s:
        rows = s.execute(select(CaseEvent.kind, CaseEvent.from_value, CaseEvent.to_value)
                         .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        return [(kind, old, new) for kind, old, new in rows]


def test_a_stage_move_is_versioned_and_written_to_the_history(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    case_id = world.cases["mine"]
    social = world.users["social"]
    moved = move_stage(backend, social, case_id, 1, "anchor_meeting")
    assert moved.stage == "anchor_meeting" and moved.version == 2
    assert events(backend, case_id) == [("stage", "assessment", "anchor_meeting")]
    # Any stage may be chosen, backwards too.
    assert move_stage(backend, social, case_id, 2, "notification").version == 3


def test_two_people_move_the_same_case_the_second_gets_a_conflict(engine: Engine) -> None:
    """Both read the board at version 1; the first move wins; the second is refused with
    both versions named, and nothing of the first is lost."""
    backend = backend_for(engine)
    world = build_world(backend)
    case_id = world.cases["others"]
    police, social = world.users["police"], world.users["social"]
    seen_by_both = case_ref(backend, police, case_id).version
    move_stage(backend, police, case_id, seen_by_both, "anchor_meeting")
    with pytest.raises(ConflictError) as info:
        move_stage(backend, social, case_id, seen_by_both, "follow_up")
    message = info.value.message
    assert "changed by someone else" in message
    assert "move to Follow-up" in message and "from version 1" in message
    assert "Now: version 2, stage Anchor meeting" in message
    assert "Nothing was changed" in info.value.fix
    after = case_ref(backend, social, case_id)
    assert after.stage == "anchor_meeting" and after.version == 2
    assert events(backend, case_id) == [("stage", "assessment", "anchor_meeting")]


@pytest.mark.postgres
def test_a_move_racing_another_terminal_is_a_conflict_not_a_lost_update(
        pg_url: str) -> None:
    """PostgreSQL, read committed: another terminal commits between our read and our
    write. The versioned UPDATE matches no row; that becomes a ConflictError."""
    from anchor_tui.db import schema
    from anchor_tui.db.engine import make_engine

    engine = make_engine(pg_url)
    schema.upgrade(engine)
    try:
        backend = backend_for(engine)
        world = build_world(backend)
        case_id = world.cases["others"]

        def other_terminal(session: Any, *_: Any) -> None:
            with engine.begin() as conn:
                conn.execute(text('UPDATE "case" SET stage = :s, version = version + 1 '
                                  "WHERE id = :id"), {"s": "closed", "id": case_id})

        event.listen(ViewerSession, "before_flush", other_terminal, once=True)
        try:
            with pytest.raises(ConflictError) as info:
                move_stage(backend, world.users["social"], case_id, 1, "follow_up")
        finally:
            if event.contains(ViewerSession, "before_flush", other_terminal):
                event.remove(ViewerSession, "before_flush", other_terminal)
        assert "Now: version 2, stage Closed" in info.value.message
        assert events(backend, case_id) == []  # our move and its history: not written
    finally:
        engine.dispose()


def test_closing_needs_a_closed_reason(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["mine"]
    with pytest.raises(AnchorError, match="needs a reason"):
        move_stage(backend, social, case_id, 1, "closed")
    closed = move_stage(backend, social, case_id, 1, "closed", closed_reason="no_need")
    assert closed.stage == "closed"
    assert events(backend, case_id) == [("closed", None, "no_need"),
                                        ("stage", "assessment", "closed")]
    with backend.sessions.system("test") as s:
        case = s.get(Case, case_id)
        assert case is not None and case.closed_reason == "no_need" and case.closed_at
    move_stage(backend, social, case_id, closed.version, "follow_up")  # reopened
    with backend.sessions.system("test") as s:
        case = s.get(Case, case_id)
        assert case is not None and case.closed_reason is None and case.closed_at is None


def test_mark_screened_take_and_not_take(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social = world.users["social"]
    taken = mark_screened(backend, social, world.cases["new"], 1, take=True,
                          reason="a joint assessment is needed")
    assert taken.stage == "assessment"  # the first open stage after screening
    assert events(backend, world.cases["new"]) == [
        ("screened", "notification", "take"), ("stage", "notification", "assessment")]
    with pytest.raises(AnchorError, match="needs a reason"):
        mark_screened(backend, social, world.cases["screened"], 1, take=False, reason=" ")
    with pytest.raises(AnchorError, match="needs a reason"):  # the closed reason
        mark_screened(backend, social, world.cases["screened"], 1, take=False,
                      reason="handled by school")
    not_taken = mark_screened(backend, social, world.cases["screened"], 1, take=False,
                              reason="handled by school", closed_reason="no_need")
    assert not_taken.stage == "closed"
    kinds = [kind for kind, _, _ in events(backend, world.cases["screened"])]
    assert kinds == ["screened", "screened", "closed", "stage"]  # (screened before, too)


def test_take_a_case_and_choose_a_lead(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    youth, police = world.users["youth"], world.users["police"]
    case_id = world.cases["others"]
    taken = take_case(backend, youth, case_id, 1, as_lead=False, today=TODAY)
    assert taken.version == 1  # membership is not a change of the case itself
    with pytest.raises(AnchorError, match="already work"):
        take_case(backend, youth, case_id, 1, as_lead=False, today=TODAY)
    members = case_members(backend, police, case_id, TODAY)
    assert {m.user_id for m in members} == {police.user_id, youth.user_id}
    led = assign_lead(backend, police, case_id, 1, youth.user_id, TODAY)
    assert led.lead_user_id == youth.user_id and led.version == 2
    with pytest.raises(AnchorError, match="works the case"):
        assign_lead(backend, police, case_id, 2, world.users["nurse"].user_id, TODAY)
    with pytest.raises(ConflictError):
        assign_lead(backend, police, case_id, 1, police.user_id, TODAY)  # stale version
    lead = take_case(backend, police, case_id, 2, as_lead=True, today=TODAY)
    assert lead.lead_user_id == police.user_id
    kinds = [kind for kind, _, _ in events(backend, case_id)]
    assert kinds == ["member_added", "lead", "lead"]
    with backend.sessions.system("test") as s:
        assert s.scalar(select(CaseMember.id).where(CaseMember.case_id == case_id,
                                                    CaseMember.user_id == youth.user_id))


def test_members_are_not_offered_to_a_profession_that_may_not_see_them(
        engine: Engine) -> None:
    backend = backend_for(engine, nameless_youth=True)
    world = build_world(backend)
    with pytest.raises(AnchorError, match="does not see who works"):
        case_members(backend, world.users["youth"], world.cases["mine"], TODAY)


def test_assign_a_task_to_a_case_member(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, police = world.users["social"], world.users["police"]
    task_id = world.tasks["elsewhere"]  # on "others", which police works
    with pytest.raises(AnchorError, match="works the case"):
        assign_task(backend, social, task_id, 1, social.user_id, TODAY)
    assign_task(backend, social, task_id, 1, police.user_id, TODAY)
    with backend.sessions.system("test") as s:
        task = s.get(Task, task_id)
        assert task is not None and task.assignee_id == police.user_id and task.version == 2
    with pytest.raises(ConflictError):
        assign_task(backend, police, task_id, 1, police.user_id, TODAY)


def test_a_task_hidden_by_the_policy_cannot_be_assigned(engine: Engine) -> None:
    backend = backend_for(engine, tasks_only_to_members=True)
    world = build_world(backend)
    with pytest.raises(AnchorError, match="no longer there"):
        assign_task(backend, world.users["social"], world.tasks["elsewhere"], 1,
                    world.users["police"].user_id, TODAY)
