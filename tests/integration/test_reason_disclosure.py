"""The reason given for a change to a case is disclosed like a note of its writer's
profession: a nurse's screening reason ("known to psychiatry") never reaches the police,
in their own view or on a huddle's shared screen, while the change itself (screened:
take) stays a board field that everyone who sees the case sees.

Case A of ``case_world`` is worked by all four professions; the young person consents to
health notes reaching social work, not youth work (and the police never get the health
record)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.services.case_actions import case_ref, mark_screened, move_stage
from anchor_tui.services.case_view import open_case
from tests.integration.case_world import NOW, TeamWorld, build, huddle, make_backend

SECRET = "known to psychiatry, admitted in May"


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def reasons(world: TeamWorld, viewer: Viewer, kind: str) -> list[str | None]:
    record = open_case(world.backend, viewer, world.case_a, now=NOW)
    return [entry.reason for entry in record.history if entry.kind == kind]


def screen_as(world: TeamWorld, name: str, reason: str, *, take: bool = True) -> None:
    viewer = world.viewers[name]
    seen = case_ref(world.backend, viewer, world.case_a).version
    mark_screened(world.backend, viewer, world.case_a, seen, take=take, reason=reason,
                  closed_reason=None if take else "no_need")


def test_a_nurses_screening_reason_is_shown_as_a_health_note(world: TeamWorld) -> None:
    screen_as(world, "nurse", SECRET, take=False)
    # The decision itself is a board field: every profession sees that it was screened.
    for name in ("nurse", "social", "police", "youth"):
        assert len(reasons(world, world.viewers[name], "screened")) == 1, name
    assert reasons(world, world.viewers["nurse"], "screened") == [SECRET]
    assert reasons(world, world.viewers["social"], "screened") == [SECRET]  # consent
    assert reasons(world, world.viewers["police"], "screened") == [None]
    assert reasons(world, world.viewers["youth"], "screened") == [None]
    # The closing that screening made carries the same words, and hides them as well.
    for kind in ("stage", "closed"):
        assert SECRET not in reasons(world, world.viewers["police"], kind), kind
        assert SECRET in reasons(world, world.viewers["nurse"], kind), kind


def test_the_shared_screen_shows_a_reason_only_to_a_room_that_may_all_read_it(
        world: TeamWorld) -> None:
    screen_as(world, "nurse", SECRET)
    assert reasons(world, huddle(world, "nurse", "social"), "screened") == [SECRET]
    assert reasons(world, huddle(world, "nurse", "police"), "screened") == [None]
    assert reasons(world, huddle(world, "social", "youth"), "screened") == [None]


def test_a_general_reason_reaches_every_member(world: TeamWorld) -> None:
    screen_as(world, "social", "school asked for a joint meeting")
    for name in ("nurse", "social", "police", "youth"):
        assert reasons(world, world.viewers[name], "screened") == [
            "school asked for a joint meeting"], name


def test_a_stage_move_reason_follows_the_same_rule(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    seen = case_ref(world.backend, nurse, world.case_a).version
    move_stage(world.backend, nurse, world.case_a, seen, "anchor_meeting", reason=SECRET)
    assert reasons(world, nurse, "stage")[0] == SECRET
    assert reasons(world, world.viewers["police"], "stage")[0] is None


def test_the_reason_is_filtered_in_sql_not_only_when_drawn(world: TeamWorld) -> None:
    """The central filter leaves the reason out of what the police's session reads at
    all (a query of their own finds none), as it does a health note."""
    screen_as(world, "nurse", SECRET)
    with world.backend.sessions.read(world.viewers["police"], NOW) as session:
        assert session.scalars(select(m.CaseEventReason.text)).all() == []
    with world.backend.sessions.read(world.viewers["nurse"], NOW) as session:
        assert SECRET in session.scalars(select(m.CaseEventReason.text)).all()
