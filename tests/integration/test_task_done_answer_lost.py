"""A task marked done again after its commit's answer was lost, on SQLite and PostgreSQL.

The save queue makes a save again when it raised ``ConnectionLostError``; the first
attempt may have reached the server all the same (the connection cut as it committed).
Marking a task done writes the moment the person marked it as the task's completion
time, the same for every attempt, and :func:`completed_at` finds what the first attempt
wrote (``saving.made_once``): the second attempt says done, not "already done" nor
"changed by someone else". A task finished by someone else meanwhile is still refused,
and the lookup reads through the disclosure filter like any read of a task.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import Engine

from anchor_tui.db.models import Task
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.services.tasks import complete_task, completed_at
from tests.integration.board_world import backend_for, build_world
from tests.integration.test_queue_answer_lost import (
    MOMENT,
    made_after_a_lost_answer,
    made_after_the_server_was_away,
    task_on_asked,
)

ELSEWHERE = MOMENT + dt.timedelta(seconds=40)
"""When someone else marked the same task done on another terminal."""


def done_row(engine: Engine, task_id: int) -> tuple[dt.datetime | None, int]:
    backend = backend_for(engine)
    with backend.sessions.system("test: the task") as s:
        task = s.get(Task, task_id)
        assert task is not None
        return task.done_at, task.version


def test_a_task_done_whose_answer_was_lost_is_done_once_and_not_refused(
        engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social = world.users["social"]
    task_id = task_on_asked(backend, world)
    assert made_after_a_lost_answer(
        partial(complete_task, backend, social, task_id, 1, at=MOMENT),
        partial(completed_at, backend, social, task_id, 1, MOMENT)) is True
    assert done_row(engine, task_id) == (MOMENT, 2)


def test_without_the_lookup_the_attempt_made_again_is_refused(engine: Engine) -> None:
    """What the lookup is for: made again blindly, the person's own mark is refused."""
    backend = backend_for(engine)
    world = build_world(backend)
    social = world.users["social"]
    task_id = task_on_asked(backend, world)
    with pytest.raises(AnchorError):
        made_after_a_lost_answer(
            partial(complete_task, backend, social, task_id, 1, at=MOMENT), lambda: None)
    assert done_row(engine, task_id) == (MOMENT, 2)


def test_a_task_done_while_the_server_was_away_is_written_at_its_moment(
        engine: Engine) -> None:
    backend = backend_for(engine)
    world = build_world(backend)
    social = world.users["social"]
    task_id = task_on_asked(backend, world)
    assert completed_at(backend, social, task_id, 1, MOMENT) is None
    made_after_the_server_was_away(
        partial(complete_task, backend, social, task_id, 1, at=MOMENT),
        partial(completed_at, backend, social, task_id, 1, MOMENT))
    assert done_row(engine, task_id) == (MOMENT, 2)
    assert completed_at(backend, social, task_id, 1, MOMENT) is True
    assert completed_at(backend, social, task_id, 1, ELSEWHERE) is None


def test_a_task_finished_by_someone_else_meanwhile_is_still_a_conflict(
        engine: Engine) -> None:
    """The nurse finished it while the social worker's mark waited for the server: the
    mark is not taken for done by them, and is refused as someone else's change."""
    backend = backend_for(engine)
    world = build_world(backend)
    social, nurse = world.users["social"], world.users["nurse"]
    task_id = task_on_asked(backend, world)
    complete_task(backend, nurse, task_id, 1, at=ELSEWHERE)
    assert completed_at(backend, social, task_id, 1, MOMENT) is None
    with pytest.raises(ConflictError):
        made_after_the_server_was_away(
            partial(complete_task, backend, social, task_id, 1, at=MOMENT),
            partial(completed_at, backend, social, task_id, 1, MOMENT))
    assert done_row(engine, task_id) == (ELSEWHERE, 2)


def test_the_lookup_reads_through_the_disclosure_filter(engine: Engine) -> None:
    """Youth work neither works the case nor made the task (tasks shown to members
    only): whether it was done, and when, is not read for them."""
    backend = backend_for(engine, tasks_only_to_members=True)
    world = build_world(backend)
    social, youth = world.users["social"], world.users["youth"]
    task_id = task_on_asked(backend, world)
    complete_task(backend, social, task_id, 1, at=MOMENT)
    assert completed_at(backend, social, task_id, 1, MOMENT) is True
    assert completed_at(backend, youth, task_id, 1, MOMENT) is None
