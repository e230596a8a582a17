"""The time a huddle spent on a case, saved again after its commit's answer was lost,
on SQLite and PostgreSQL.

The huddle screen added the seconds the room spent on a case in a unit of work of its
own: made again after its commit reached the server while its answer was lost, it
added them twice, and the minutes said the room spent twice as long on the case. The
save now reads the time stored on its first attempt that reaches the database, fixes
the pair it goes from and to (``huddle_time.time_recorder``), and sets the time only where
it is still the first (``huddle_time.set_time``): made again, it finds it moved on and adds
nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine

from anchor_tui.services import huddle_time
from tests.integration.huddle_world import NOW, HuddleWorld, build, make_backend
from tests.integration.test_huddle_end_answer_lost import seconds_on, started
from tests.integration.test_queue_answer_lost import (
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)

MOMENT = NOW + dt.timedelta(minutes=4, seconds=2, microseconds=123456)
"""When the room moved on from the case (every attempt of the save carries it)."""


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def test_time_whose_answer_was_lost_is_added_once(world: HuddleWorld) -> None:
    viewer = started(world)  # 90 seconds on case A already
    assert viewer.huddle_id is not None
    stored = made_after_a_lost_answer(
        huddle_time.time_recorder(world.backend, viewer, world.case_a, 45, MOMENT),
        lambda: None)
    assert stored == 90 + 45
    assert seconds_on(world.backend, viewer.huddle_id, world.case_a) == 90 + 45, (
        "the time made again was added twice")


def test_time_kept_while_the_server_was_away_is_added(world: HuddleWorld) -> None:
    viewer = started(world)
    assert viewer.huddle_id is not None
    made_after_the_server_was_away(
        huddle_time.time_recorder(world.backend, viewer, world.case_a, 45, MOMENT),
        lambda: None)
    assert seconds_on(world.backend, viewer.huddle_id, world.case_a) == 90 + 45


def test_times_saved_one_after_another_add_up(world: HuddleWorld) -> None:
    """Each save reads the time as the one before left it (the queue makes them in
    order): none is lost, whatever the screen remembered."""
    viewer = started(world)
    assert viewer.huddle_id is not None
    first = huddle_time.time_recorder(world.backend, viewer, world.case_a, 45, MOMENT)
    second = huddle_time.time_recorder(world.backend, viewer, world.case_a, 30, MOMENT)
    assert first() == 135
    assert second() == 165
    assert first() == 165  # made again: found moved on, nothing added
    assert seconds_on(world.backend, viewer.huddle_id, world.case_a) == 165


def test_a_time_changed_otherwise_is_left_as_it_is(world: HuddleWorld) -> None:
    """Neither the time the save went from nor the one it goes to: not this save's to
    add to (it could count the same seconds twice)."""
    viewer = started(world)
    assert viewer.huddle_id is not None
    assert huddle_time.set_time(world.backend, viewer, world.case_a, 10, 20, MOMENT) == 90
    assert huddle_time.set_time(world.backend, viewer, world.case_a, 90, 100, MOMENT) == 100
    assert huddle_time.set_time(world.backend, viewer, world.case_a, 90, 100, MOMENT) == 100
    assert seconds_on(world.backend, viewer.huddle_id, world.case_a) == 100


def test_no_time_on_a_case_off_the_agenda_and_none_for_no_seconds(
        world: HuddleWorld) -> None:
    viewer = started(world)
    assert viewer.huddle_id is not None
    elsewhere = world.case_a + 1000  # no such case, so on no agenda
    assert huddle_time.time_recorder(world.backend, viewer, elsewhere, 45, MOMENT)() is None
    assert seconds_on(world.backend, viewer.huddle_id, elsewhere) is None
    assert huddle_time.time_recorder(world.backend, viewer, world.case_a, 0, MOMENT)() is None
    assert seconds_on(world.backend, viewer.huddle_id, world.case_a) == 90
