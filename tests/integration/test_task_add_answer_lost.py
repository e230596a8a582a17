"""A task added again after its commit's answer was lost, on SQLite and PostgreSQL.

The save queue makes a save again when it raised ``ConnectionLostError``; the first
attempt may have reached the server all the same (the connection cut as it committed).
Adding a task writes the moment the person added it as the task's created time, the
same for every attempt, and :func:`added_at` finds what the first attempt wrote
(``saving.made_once``): the second attempt says added and writes no second task, nor
second set of sources in a huddle. An older task alike is never taken for it, and the
lookup reads through the disclosure filter like any read of a task.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlalchemy import Engine, delete, select

from anchor_tui.db.models import CaseMember, Task, TaskSource, User
from anchor_tui.services.tasks import AddedTask, add_task, added_at
from tests.integration.board_world import TODAY, backend_for, build_world, days
from tests.integration.huddle_world import build, make_backend
from tests.integration.test_queue_answer_lost import (
    MOMENT,
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)
from tests.integration.test_task_sources_hand_made import SECRET, at, social_and_nurse

TITLE = "Call the family about the visit"
EARLIER = MOMENT - dt.timedelta(minutes=20)
"""When the same person added a task alike before."""


def tasks_titled(engine: Engine, title: str = TITLE) -> list[tuple[int, dt.datetime]]:
    backend = backend_for(engine)
    with backend.sessions.system("test: the tasks") as s:
        return [(task_id, created) for task_id, created in s.execute(
            select(Task.id, Task.created_at).where(Task.title == title).order_by(Task.id))]


def test_a_task_whose_answer_was_lost_is_added_once(engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["asked"]
    added = made_after_a_lost_answer(
        partial(add_task, backend, social, case_id, f" {TITLE} ", days(2), social.user_id,
                TODAY, at=MOMENT),
        partial(added_at, backend, social, case_id, f" {TITLE} ", MOMENT))
    [(task_id, created)] = tasks_titled(engine)
    assert created == MOMENT
    with backend.sessions.system("test: who") as s:
        name = s.scalar(select(User.display_name).where(User.id == social.user_id))
    assert added == AddedTask(task_id, TITLE, days(2), name)  # as the first would have said


def test_without_the_lookup_the_attempt_made_again_adds_it_twice(engine: Engine) -> None:
    """What the lookup is for: made again blindly, the person's task is written twice."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["asked"]
    made_after_a_lost_answer(
        partial(add_task, backend, social, case_id, TITLE, None, None, TODAY, at=MOMENT),
        lambda: None)
    assert [created for _, created in tasks_titled(engine)] == [MOMENT, MOMENT]


def test_an_older_task_alike_is_not_taken_for_the_one_added_now(engine: Engine) -> None:
    """The same person added the same task to the case before: a task added now whose
    first attempt wrote nothing (the server away) is still added, at its own moment."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["asked"]
    add_task(backend, social, case_id, TITLE, None, None, TODAY, at=EARLIER)
    assert added_at(backend, social, case_id, TITLE, MOMENT) is None
    made_after_the_server_was_away(
        partial(add_task, backend, social, case_id, TITLE, None, None, TODAY, at=MOMENT),
        partial(added_at, backend, social, case_id, TITLE, MOMENT))
    assert [created for _, created in tasks_titled(engine)] == [EARLIER, MOMENT]
    found = added_at(backend, social, case_id, TITLE, MOMENT)
    assert found is not None and found.task_id == tasks_titled(engine)[1][0]
    nurse = world.users["nurse"]  # another person's task, even at that moment, is not theirs
    assert added_at(backend, nurse, case_id, TITLE, MOMENT) is None


def test_the_lookup_reads_through_the_disclosure_filter(engine: Engine) -> None:
    """Tasks shown to the case's members only: social work added one, then left the
    case. The task is there, but no longer read for them."""
    backend = backend_for(engine, tasks_only_to_members=True)
    world = build_world(backend)
    social, case_id = world.users["social"], world.cases["asked"]
    add_task(backend, social, case_id, TITLE, None, None, TODAY, at=MOMENT)
    assert added_at(backend, social, case_id, TITLE, MOMENT) is not None
    with backend.sessions.system("test: social work leaves the case") as s:
        s.execute(delete(CaseMember).where(CaseMember.case_id == case_id,
                                           CaseMember.user_id == social.user_id))
    assert len(tasks_titled(engine)) == 1
    assert added_at(backend, social, case_id, TITLE, MOMENT) is None


def test_a_task_added_in_a_huddle_after_a_lost_answer_carries_its_sources_once(
        engine: Engine) -> None:
    """``t`` on the shared screen: the task and what the room saw are written by the
    first attempt; the one made again finds the task, and writes neither again."""
    world = build(make_backend(engine))
    viewer = social_and_nurse(world)
    made_after_a_lost_answer(
        partial(add_task, world.backend, viewer, world.case_a, SECRET, None, None, TODAY,
                at(2), at=MOMENT),
        partial(added_at, world.backend, viewer, world.case_a, SECRET, MOMENT, at(2)))
    [(task_id, created)] = tasks_titled(engine, SECRET)
    assert created == MOMENT
    with world.backend.sessions.system("test: the sources") as s:
        rows = s.execute(select(TaskSource.note_id, TaskSource.field)
                         .where(TaskSource.task_id == task_id)).all()
        every = s.scalar(select(TaskSource.id).where(TaskSource.task_id != task_id))
    assert world.notes["health"] in {note for note, _ in rows}
    assert sorted(field for _, field in rows if field is not None) == ["person_name"]
    assert len(rows) == len(set(rows)) and every is None  # written once, for this task
