"""The caseload picture: weekly counts per stage from openings, closings and stage changes,
over what the viewer sees (an empty huddle sees nothing)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from anchor_tui.db import models as m
from anchor_tui.services.caseload import WEEKS, caseload
from tests.integration.case_world import NOW, OPENED, TeamWorld, build, huddle, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def series(world: TeamWorld, who: str = "social") -> dict[str, tuple[int, ...]]:
    viewer = world.viewers[who] if who in world.viewers else huddle(world)
    return {s.stage: s.counts for s in caseload(world.backend, viewer, now=NOW).stages}


def test_stage_changes_move_a_case_between_stages_over_the_weeks(world: TeamWorld) -> None:
    counts = series(world)
    assert all(len(c) == WEEKS for c in counts.values())
    # Case A went screening -> assessment exactly three weeks ago (a change at a point
    # counts at that point); case B is in screening.
    assert counts["assessment"] == (0,) * 8 + (1,) * 4
    assert counts["screening"] == (2,) * 8 + (1,) * 4
    assert counts["notification"] == (0,) * WEEKS


def test_the_last_point_is_the_board_now_and_new_cases_count_from_their_opening(
    world: TeamWorld
) -> None:
    with world.backend.sessions.system("test: cases open and close") as s:
        person = s.scalars(select(m.Person)).first()
        assert person is not None
        s.add(m.Case(person_id=person.id, category="substance_use", stage="notification",
                     opened_at=NOW - dt.timedelta(days=10)))
        # Closed two weeks ago without a recorded stage change: before that its stage is
        # not known, so it is counted nowhere rather than guessed.
        s.add(m.Case(person_id=person.id, category="substance_use", stage="closed",
                     opened_at=OPENED, closed_at=NOW - dt.timedelta(days=15)))
    counts = series(world)
    assert counts["notification"] == (0,) * 10 + (1, 1)
    assert counts["closed"] == (0,) * 9 + (1, 1, 1)
    with world.backend.sessions.system("test: the board") as s:
        board = dict(s.execute(select(m.Case.stage, func.count()).group_by(m.Case.stage)).all())
    assert {stage: c[-1] for stage, c in counts.items() if c[-1]} == board


def test_an_empty_huddle_sees_no_caseload(world: TeamWorld) -> None:
    counts = series(world, "empty huddle")
    assert set(counts.values()) == {(0,) * WEEKS}
