"""A case flagged for the huddle, made again after its commit's answer was lost, on
SQLite and PostgreSQL.

``!`` on the board turned the flag over in a unit of work of its own: made again after
its commit reached the server while its answer was lost, it took away the flag it had
just set (or set again the one it had taken away). It is now saved as "set to"
(``huddle_flags.turn_flag``): the first attempt that reaches the database reads the flag and
fixes the wanted state; every attempt then makes the case so (``huddle_flags.set_flag``), and
a case already as wanted is left as it is, nothing written twice.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.services import huddle_flags
from anchor_tui.services.backend import Backend
from tests.integration.huddle_world import NOW, HuddleWorld, build, make_backend
from tests.integration.test_queue_answer_lost import (
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)

MOMENT = NOW + dt.timedelta(minutes=3, seconds=7, microseconds=123456)
"""When ``!`` was pressed (every attempt of the save carries it)."""


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def open_flags(backend: Backend, case_id: int) -> list[tuple[int, dt.datetime]]:
    with backend.sessions.system("test: the flags") as s:
        return [(by, at) for by, at in s.execute(
            select(m.HuddleFlag.flagged_by_id, m.HuddleFlag.flagged_at).where(
                m.HuddleFlag.case_id == case_id, m.HuddleFlag.cleared_at.is_(None)))]


def test_a_flag_whose_answer_was_lost_stays_set(world: HuddleWorld) -> None:
    police = world.viewers["police"]
    flagged = made_after_a_lost_answer(
        huddle_flags.turn_flag(world.backend, police, world.case_a, MOMENT), lambda: None)
    assert flagged is True  # "… is on the next huddle's agenda", as the first would say
    assert open_flags(world.backend, world.case_a) == [(police.user_id, MOMENT)]


def test_a_flag_taken_away_whose_answer_was_lost_stays_away(world: HuddleWorld) -> None:
    """Case C is flagged: ``!`` takes the flag away; made again, it does not set it."""
    social = world.viewers["social"]
    assert open_flags(world.backend, world.case_c)
    flagged = made_after_a_lost_answer(
        huddle_flags.turn_flag(world.backend, social, world.case_c, MOMENT), lambda: None)
    assert flagged is False
    assert open_flags(world.backend, world.case_c) == []


def test_a_flag_kept_while_the_server_was_away_is_set_once(world: HuddleWorld) -> None:
    police = world.viewers["police"]
    assert made_after_the_server_was_away(
        huddle_flags.turn_flag(world.backend, police, world.case_a, MOMENT),
        lambda: None) is True
    assert open_flags(world.backend, world.case_a) == [(police.user_id, MOMENT)]


def test_two_presses_in_line_flag_and_take_away(world: HuddleWorld) -> None:
    """``!`` twice, the second saved after the first (the save queue's order): each
    reads the flag as the one before left it."""
    police = world.viewers["police"]
    first = huddle_flags.turn_flag(world.backend, police, world.case_a, MOMENT)
    second = huddle_flags.turn_flag(world.backend, police, world.case_a,
                               MOMENT + dt.timedelta(seconds=1))
    assert first() is True
    assert second() is False
    assert open_flags(world.backend, world.case_a) == []

