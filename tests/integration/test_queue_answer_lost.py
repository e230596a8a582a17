"""The queue's changes made again after their commit's answer was lost, on SQLite and
PostgreSQL.

The save queue keeps a change whose save raised ``ConnectionLostError`` and makes it
again when the server is back; but the connection may be cut just as the commit
reached the server, so the first attempt may have written it. Each queue action is
written with the moment the person made it and has a lookup that finds what that first
attempt wrote (``saving.made_once``): the second attempt says "done" and writes nothing,
neither twice (a snooze, a screening, a take) nor refused as someone else's change (the
version the first attempt moved on). A change the first attempt never wrote is still
written, and an older change alike is never taken for it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from anchor_tui.db.models import (
    CaseEvent,
    CaseEventReason,
    CaseMember,
    CaseSnooze,
    Task,
    User,
)
from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.saving import made_once
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import (
    assign_lead,
    assign_task,
    case_ref,
    lead_chosen_at,
    mark_screened,
    screened_at,
    snooze_case,
    snoozed_at,
    take_case,
    taken_at,
    task_given,
)
from tests.integration.board_world import TODAY, backend_for, build_world, days

MOMENT = dt.datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=dt.UTC)
"""When the person made the change (every attempt of one save carries it)."""


def made_after_a_lost_answer(save: Callable[[], Any], already: Callable[[], Any]) -> Any:
    """As the save queue makes it: the first attempt commits and its answer is lost (the
    connection cut as it committed), so the save is kept and made again."""
    attempts: list[int] = []

    def cut() -> Any:
        attempts.append(1)
        result = save()
        if len(attempts) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return result

    once = made_once(cut, already)
    with pytest.raises(ConnectionLostError):
        once()
    return once()


def made_after_the_server_was_away(save: Callable[[], Any], already: Callable[[], Any]
                                   ) -> Any:
    """As the save queue makes it: the first attempt finds the server gone (nothing
    written), the second goes through."""
    attempts: list[int] = []

    def away() -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return save()

    once = made_once(away, already)
    with pytest.raises(ConnectionLostError):
        once()
    return once()


def history(backend: Backend, case_id: int) -> list[tuple[str, str | None, dt.datetime]]:
    with backend.sessions.system("test: the case's history") as s:
        rows = s.execute(select(CaseEvent.kind, CaseEvent.to_value, CaseEvent.at)
                         .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        return [(kind, to, at) for kind, to, at in rows]


def snoozes(backend: Backend, case_id: int, user_id: int) -> list[tuple[str, dt.datetime]]:
    with backend.sessions.system("test: snoozes") as s:
        rows = s.execute(select(CaseSnooze.reason, CaseSnooze.created_at).where(
            CaseSnooze.case_id == case_id, CaseSnooze.user_id == user_id)
            .order_by(CaseSnooze.id))
        return [(reason, at) for reason, at in rows]


def test_a_snooze_whose_answer_was_lost_is_written_once(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["asked"]
    made_after_a_lost_answer(
        partial(snooze_case, backend, social, case_id, days(3), " waiting for the family ",
                TODAY, at=MOMENT),
        partial(snoozed_at, backend, social, case_id, days(3), " waiting for the family ",
                MOMENT))
    assert snoozes(backend, case_id, social.user_id) == [("waiting for the family", MOMENT)], (
        "the snooze was written twice")


def test_an_older_snooze_alike_is_not_taken_for_the_one_made_now(engine: Engine) -> None:
    """The same person snoozed the case for the same day and reason before: a snooze
    made now whose first attempt wrote nothing is still written (found by its moment,
    which the older one has not)."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["asked"]
    earlier = MOMENT - dt.timedelta(hours=2)
    snooze_case(backend, social, case_id, days(3), "waiting for the family", TODAY,
                at=earlier)
    made_after_the_server_was_away(
        partial(snooze_case, backend, social, case_id, days(3), "waiting for the family",
                TODAY, at=MOMENT),
        partial(snoozed_at, backend, social, case_id, days(3), "waiting for the family",
                MOMENT))
    assert snoozes(backend, case_id, social.user_id) == [
        ("waiting for the family", earlier), ("waiting for the family", MOMENT)]


def test_a_snooze_is_found_only_as_its_own_person_wrote_it(engine: Engine) -> None:
    """Another person's snooze of the case at the same moment, or one with other words
    or another day, is not the one looked for."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, nurse, case_id = world.users["social"], world.users["nurse"], world.cases["asked"]
    snooze_case(backend, nurse, case_id, days(3), "waiting for the family", TODAY, at=MOMENT)
    snooze_case(backend, social, case_id, days(7), "waiting for the family", TODAY, at=MOMENT)
    snooze_case(backend, social, case_id, days(3), "waiting for school", TODAY, at=MOMENT)
    assert snoozed_at(backend, social, case_id, days(3), "waiting for the family",
                      MOMENT) is None
    assert snoozed_at(backend, social, case_id, days(3), "waiting for school",
                      MOMENT) is not None


def test_a_take_whose_answer_was_lost_is_recorded_once_and_not_refused(
        engine: Engine) -> None:
    """The first attempt made the youth worker a member: made again, it used to be
    refused ("You already work this case") though the take was saved."""
    backend = backend_for(engine)
    world = build_world(backend)
    youth, case_id = world.users["youth"], world.cases["others"]
    taken = made_after_a_lost_answer(
        partial(take_case, backend, youth, case_id, 1, as_lead=False, today=TODAY,
                at=MOMENT),
        partial(taken_at, backend, youth, case_id, MOMENT))
    assert taken.case_id == case_id and taken.version == 1
    assert history(backend, case_id) == [("member_added", str(youth.user_id), MOMENT)]
    with backend.sessions.system("test: members") as s:
        assert s.scalar(select(func.count()).select_from(CaseMember).where(
            CaseMember.case_id == case_id, CaseMember.user_id == youth.user_id)) == 1


def test_a_take_as_lead_whose_answer_was_lost_is_not_a_conflict(engine: Engine) -> None:
    """The first attempt moved the case's version on: made again, it used to be refused
    as a change by someone else."""
    backend = backend_for(engine)
    world = build_world(backend)
    youth, case_id = world.users["youth"], world.cases["others"]
    taken = made_after_a_lost_answer(
        partial(take_case, backend, youth, case_id, 1, as_lead=True, today=TODAY,
                at=MOMENT),
        partial(taken_at, backend, youth, case_id, MOMENT))
    assert taken.lead_user_id == youth.user_id and taken.version == 2
    assert [(kind, to) for kind, to, _ in history(backend, case_id)] == [
        ("member_added", str(youth.user_id)), ("lead", str(youth.user_id))]


def test_a_take_found_is_the_one_made_at_its_moment(engine: Engine) -> None:
    """An earlier take by the same person (they left the case and take it again) is
    not the one looked for; a take whose first attempt wrote nothing is written."""
    backend = backend_for(engine)
    world = build_world(backend)
    police, case_id = world.users["police"], world.cases["others"]  # a member already
    assert taken_at(backend, police, case_id, MOMENT) is None
    youth = world.users["youth"]
    take_case(backend, youth, case_id, 1, as_lead=False, today=TODAY,
              at=MOMENT - dt.timedelta(days=40))
    assert taken_at(backend, youth, case_id, MOMENT) is None
    with backend.sessions.system("test: the youth worker left the case") as s:
        s.execute(update(CaseMember).where(
            CaseMember.case_id == case_id, CaseMember.user_id == youth.user_id)
            .values(valid_to=days(-1)))
    made_after_the_server_was_away(
        partial(take_case, backend, youth, case_id, 1, as_lead=False, today=TODAY,
                at=MOMENT),
        partial(taken_at, backend, youth, case_id, MOMENT))
    assert [at for kind, _, at in history(backend, case_id)] == [
        MOMENT - dt.timedelta(days=40), MOMENT]


def test_a_new_lead_whose_answer_was_lost_is_recorded_once_and_not_a_conflict(
        engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    police, social = world.users["police"], world.users["social"]
    case_id = world.cases["asked"]  # social leads it; the nurse works it too
    nurse = world.users["nurse"]
    led = made_after_a_lost_answer(
        partial(assign_lead, backend, social, case_id, 1, nurse.user_id, TODAY, at=MOMENT),
        partial(lead_chosen_at, backend, social, case_id, nurse.user_id, MOMENT))
    assert led.lead_user_id == nurse.user_id and led.version == 2
    assert history(backend, case_id) == [("lead", str(nurse.user_id), MOMENT)]
    # Another person's choice of the same lead at that moment is not the one looked for.
    assert lead_chosen_at(backend, police, case_id, nurse.user_id, MOMENT) is None


def task_on_asked(backend: Backend, world: Any) -> int:
    """A task for social on "asked", which social and the nurse work (both see it)."""
    with backend.sessions.system("test: a task") as s:
        task = Task(case_id=world.cases["asked"], title="Call the family",
                    assignee_id=world.users["social"].user_id, due=days(2),
                    created_by_id=world.users["police"].user_id)
        s.add(task)
        s.flush()
        return task.id


def task_row(backend: Backend, task_id: int) -> tuple[int | None, int]:
    with backend.sessions.system("test: the task") as s:
        task = s.get(Task, task_id)
        assert task is not None
        return task.assignee_id, task.version


def test_a_task_given_whose_answer_was_lost_is_not_a_conflict(engine: Engine) -> None:
    """Giving a task writes no history: the task given, one version on, is what the
    first attempt wrote. Made again, it used to be refused as someone else's change."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, nurse = world.users["social"], world.users["nurse"]
    task_id = task_on_asked(backend, world)
    made_after_a_lost_answer(
        partial(assign_task, backend, social, task_id, 1, nurse.user_id, TODAY),
        partial(task_given, backend, social, task_id, 1, nurse.user_id))
    assert task_row(backend, task_id) == (nurse.user_id, 2)


def test_a_task_given_is_not_found_before_it_is_written_or_after_more_changes(
        engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, nurse = world.users["social"], world.users["nurse"]
    task_id = task_on_asked(backend, world)
    assert task_given(backend, social, task_id, 1, nurse.user_id) is None
    made_after_the_server_was_away(
        partial(assign_task, backend, social, task_id, 1, nurse.user_id, TODAY),
        partial(task_given, backend, social, task_id, 1, nurse.user_id))
    assert task_row(backend, task_id) == (nurse.user_id, 2)
    assert task_given(backend, social, task_id, 1, nurse.user_id) is True
    # Given to the one who has it already: the same task, not a version on.
    assign_task(backend, nurse, task_id, 2, nurse.user_id, TODAY)
    assert task_row(backend, task_id) == (nurse.user_id, 2)
    with backend.sessions.system("test: someone marks it done") as s:
        task = s.get(Task, task_id)
        assert task is not None
        task.done_at = MOMENT
    assert task_given(backend, social, task_id, 1, nurse.user_id) is None


def test_a_task_given_out_of_the_givers_sight_is_said_so_not_said_gone(
        engine: Engine) -> None:
    """Social gives a task on a case only police works to police: social may no longer
    see it. Made again after a lost answer, the change cannot be told through the
    disclosure filter; it used to say "That task is no longer there"."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, police, task_id = world.users["social"], world.users["police"], \
        world.tasks["elsewhere"]
    with pytest.raises(AnchorError) as refused:
        made_after_a_lost_answer(
            partial(assign_task, backend, social, task_id, 1, police.user_id, TODAY),
            partial(task_given, backend, social, task_id, 1, police.user_id))
    with backend.sessions.system("test: a name") as s:
        name = s.scalar(select(User.display_name).where(User.id == police.user_id))
    assert f"may have been given to {name} as you asked" in refused.value.message
    assert f"Ask {name}" in refused.value.fix
    assert "no longer there" not in str(refused.value)
    assert task_row(backend, task_id) == (police.user_id, 2)  # given once


def test_a_screening_whose_answer_was_lost_is_recorded_once_and_not_a_conflict(
        engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["new"]
    taken = made_after_a_lost_answer(
        partial(mark_screened, backend, social, case_id, 1, take=True,
                reason="a joint assessment is needed", at=MOMENT),
        partial(screened_at, backend, social, case_id, take=True, at=MOMENT))
    assert taken.stage == "assessment" and taken.version == 2
    assert history(backend, case_id) == [("screened", "take", MOMENT),
                                         ("stage", "assessment", MOMENT)]
    with backend.sessions.system("test: reasons") as s:
        assert s.scalar(select(func.count()).select_from(CaseEventReason).where(
            CaseEventReason.case_id == case_id)) == 2  # one per event, not two


def test_a_screening_that_leaves_the_stage_is_not_recorded_twice(engine: Engine) -> None:
    """Taken on where it is already (the first open stage after screening): the case's
    version does not move, so nothing stopped the second attempt from writing the
    decision and its reason again."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["mine"]  # in assessment
    version = case_ref(backend, social, case_id).version
    made_after_a_lost_answer(
        partial(mark_screened, backend, social, case_id, version, take=True,
                reason="already assessed", at=MOMENT),
        partial(screened_at, backend, social, case_id, take=True, at=MOMENT))
    assert history(backend, case_id) == [("screened", "take", MOMENT)], (
        "the screening was recorded twice")
    with backend.sessions.system("test: reasons") as s:
        assert s.scalar(select(func.count()).select_from(CaseEventReason).where(
            CaseEventReason.case_id == case_id)) == 1
    # The other decision at that moment is not the one looked for.
    assert screened_at(backend, social, case_id, take=False, at=MOMENT) is None
