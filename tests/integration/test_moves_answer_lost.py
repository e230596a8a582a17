"""A move from the board and an edit from the case view made again after their commit's
answer was lost, on SQLite and PostgreSQL.

The save queue keeps a change whose save raised ``ConnectionLostError`` and makes it
again when the server is back; but the connection may be cut just as the commit
reached the server, so the first attempt may have written it. A move and a case edit
are written with the moment the person made them, and have a lookup that finds what
that first attempt wrote (``saving.made_once``): the second attempt says "done" and
writes nothing, neither twice nor refused as someone else's change (the version the
first attempt moved on). A change the first attempt never wrote is still written, and
an older change alike, or another person's, is never taken for it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db.models import CaseEvent, CaseMember
from anchor_tui.services.case_actions import case_ref, move_stage, moved_at
from anchor_tui.services.case_edits import (
    CaseChange,
    apply_change,
    case_state,
    change_made_at,
)
from tests.integration.case_world import TODAY, TeamWorld, build, make_backend
from tests.integration.test_queue_answer_lost import (
    MOMENT,
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def written_at(world: TeamWorld, case_id: int, at: dt.datetime
               ) -> list[tuple[str, str | None, str | None]]:
    """The case's history written at the moment ``at``: kind, from, to."""
    with world.backend.sessions.system("test: the case's history") as s:
        rows = s.execute(select(CaseEvent.kind, CaseEvent.from_value, CaseEvent.to_value)
                         .where(CaseEvent.case_id == case_id, CaseEvent.at == at)
                         .order_by(CaseEvent.id))
        return [(kind, old, new) for kind, old, new in rows]


def kinds(world: TeamWorld, case_id: int, kind: str) -> int:
    with world.backend.sessions.system("test: the case's history") as s:
        return len(s.scalars(select(CaseEvent.id).where(
            CaseEvent.case_id == case_id, CaseEvent.kind == kind)).all())


# --- moves from the board ------------------------------------------------------------------


def test_a_move_whose_answer_was_lost_is_not_a_conflict(world: TeamWorld) -> None:
    """The first attempt moved the case (and its version) on: made again with the
    version the board showed, it used to be refused as a change by someone else."""
    social, case_id = world.viewers["social"], world.case_a
    seen = case_ref(world.backend, social, case_id)
    moved = made_after_a_lost_answer(
        partial(move_stage, world.backend, social, case_id, seen.version, "anchor_meeting",
                at=MOMENT),
        partial(moved_at, world.backend, social, case_id, "anchor_meeting", MOMENT))
    assert (moved.stage, moved.version) == ("anchor_meeting", seen.version + 1)
    assert written_at(world, case_id, MOMENT) == [("stage", "assessment", "anchor_meeting")]


def test_a_close_whose_answer_was_lost_is_written_once(world: TeamWorld) -> None:
    social, case_id = world.viewers["social"], world.case_a
    seen = case_ref(world.backend, social, case_id)
    moved = made_after_a_lost_answer(
        partial(move_stage, world.backend, social, case_id, seen.version, "closed",
                closed_reason="no_need", at=MOMENT),
        partial(moved_at, world.backend, social, case_id, "closed", MOMENT))
    assert (moved.stage, moved.version) == ("closed", seen.version + 1)
    assert written_at(world, case_id, MOMENT) == [
        ("closed", None, "no_need"), ("stage", "assessment", "closed")]


def test_a_move_found_is_the_one_made_at_its_moment(world: TeamWorld) -> None:
    """The same person moved the case to the same stage before (and back): a move made
    now whose first attempt wrote nothing is still written, not taken for the old one;
    another person's move at the same moment is not the one looked for."""
    social, police, case_id = world.viewers["social"], world.viewers["police"], world.case_a
    earlier = MOMENT - dt.timedelta(hours=2)
    ref = move_stage(world.backend, social, case_id, case_ref(world.backend, social,
                                                              case_id).version,
                     "anchor_meeting", at=earlier)
    ref = move_stage(world.backend, police, case_id, ref.version, "assessment", at=MOMENT)
    assert moved_at(world.backend, social, case_id, "anchor_meeting", MOMENT) is None
    assert moved_at(world.backend, social, case_id, "assessment", MOMENT) is None
    moved = made_after_the_server_was_away(
        partial(move_stage, world.backend, social, case_id, ref.version, "anchor_meeting",
                at=MOMENT),
        partial(moved_at, world.backend, social, case_id, "anchor_meeting", MOMENT))
    assert (moved.stage, moved.version) == ("anchor_meeting", ref.version + 1)
    assert written_at(world, case_id, earlier) == [("stage", "assessment", "anchor_meeting")]
    assert written_at(world, case_id, MOMENT) == [
        ("stage", "anchor_meeting", "assessment"), ("stage", "assessment", "anchor_meeting")]


# --- edits from the case view ----------------------------------------------------------------


def _edits(world: TeamWorld) -> dict[str, tuple[CaseChange, tuple[str, str | None,
                                                                  str | None]]]:
    """Each kind of edit of case A by the social worker, and the history row it writes."""
    youth, police = world.viewers["youth"], world.viewers["police"]
    review = TODAY + dt.timedelta(days=10)
    return {
        "stage": (CaseChange("stage", "follow_up"), ("stage", "assessment", "follow_up")),
        "priority": (CaseChange("priority", 3), ("priority", "2", "3")),
        "next_review": (CaseChange("next_review", review),
                        ("next_review", None, review.isoformat())),
        "member_removed": (CaseChange("member_removed", youth.user_id),
                           ("member_removed", str(youth.user_id), None)),
        "member_added": (CaseChange("member_added", police.user_id),
                         ("member_added", None, str(police.user_id))),
    }


@pytest.mark.parametrize("field", ["stage", "priority", "next_review", "member_removed",
                                   "member_added"])
def test_a_case_edit_whose_answer_was_lost_is_written_once_and_not_a_conflict(
        world: TeamWorld, field: str) -> None:
    """Made again at the version the person saw, an edit the first attempt wrote used
    to be a conflict with the person's own change (and their choice then to apply it
    "on top" wrote it twice)."""
    social, case_id = world.viewers["social"], world.case_a
    if field == "member_added":  # someone who no longer works the case, added back
        seen = case_state(world.backend, social, case_id, TODAY)
        apply_change(world.backend, social, seen,
                     CaseChange("member_removed", world.viewers["police"].user_id),
                     today=TODAY, at=MOMENT - dt.timedelta(days=1))
    change, row = _edits(world)[field]
    seen = case_state(world.backend, social, case_id, TODAY)
    after = made_after_a_lost_answer(
        partial(apply_change, world.backend, social, seen, change, today=TODAY, at=MOMENT),
        partial(change_made_at, world.backend, social, seen, change, today=TODAY,
                at=MOMENT))
    assert after.version == seen.version + 1
    assert written_at(world, case_id, MOMENT) == [row]


def test_a_review_date_taken_away_whose_answer_was_lost_is_found(world: TeamWorld) -> None:
    """"none" for the next review writes no value: found by its moment all the same."""
    social, case_id = world.viewers["social"], world.case_a
    seen = case_state(world.backend, social, case_id, TODAY)
    review = TODAY + dt.timedelta(days=3)
    seen = apply_change(world.backend, social, seen, CaseChange("next_review", review),
                        today=TODAY, at=MOMENT - dt.timedelta(hours=1))
    after = made_after_a_lost_answer(
        partial(apply_change, world.backend, social, seen, CaseChange("next_review", None),
                today=TODAY, at=MOMENT),
        partial(change_made_at, world.backend, social, seen,
                CaseChange("next_review", None), today=TODAY, at=MOMENT))
    assert after.next_review is None and after.version == seen.version + 1
    assert written_at(world, case_id, MOMENT) == [("next_review", review.isoformat(), None)]


def test_an_edit_found_is_the_one_made_at_its_moment(world: TeamWorld) -> None:
    """The same priority set before by the same person, or at the same moment by
    someone else, is not the edit looked for: one whose first attempt wrote nothing is
    still written."""
    social, police, case_id = world.viewers["social"], world.viewers["police"], world.case_a
    earlier = MOMENT - dt.timedelta(hours=2)
    seen = case_state(world.backend, social, case_id, TODAY)
    seen = apply_change(world.backend, social, seen, CaseChange("priority", 3), today=TODAY,
                        at=earlier)
    seen = apply_change(world.backend, police, seen, CaseChange("priority", 1), today=TODAY,
                        at=MOMENT)
    change = CaseChange("priority", 3)
    assert change_made_at(world.backend, social, seen, change, today=TODAY,
                          at=MOMENT) is None
    after = made_after_the_server_was_away(
        partial(apply_change, world.backend, social, seen, change, today=TODAY, at=MOMENT),
        partial(change_made_at, world.backend, social, seen, change, today=TODAY,
                at=MOMENT))
    assert after.priority == 3 and after.version == seen.version + 1
    assert written_at(world, case_id, MOMENT) == [("priority", "3", "1"),
                                                  ("priority", "1", "3")]
    assert kinds(world, case_id, "priority") == 4  # the world's own, and these three


def test_a_member_added_back_is_not_taken_for_an_earlier_add(world: TeamWorld) -> None:
    """The person once added (the world's history) is added again now, after they left:
    the old add is not this one, and this one is written once."""
    social, youth, case_id = world.viewers["social"], world.viewers["youth"], world.case_a
    seen = case_state(world.backend, social, case_id, TODAY)
    seen = apply_change(world.backend, social, seen,
                        CaseChange("member_removed", youth.user_id), today=TODAY,
                        at=MOMENT - dt.timedelta(minutes=5))
    change = CaseChange("member_added", youth.user_id)
    assert change_made_at(world.backend, social, seen, change, today=TODAY,
                          at=MOMENT) is None
    made_after_a_lost_answer(
        partial(apply_change, world.backend, social, seen, change, today=TODAY, at=MOMENT),
        partial(change_made_at, world.backend, social, seen, change, today=TODAY,
                at=MOMENT))
    with world.backend.sessions.system("test: members") as s:
        assert len(s.scalars(select(CaseMember.id).where(
            CaseMember.case_id == case_id, CaseMember.user_id == youth.user_id,
            CaseMember.valid_to.is_(None))).all()) == 1
    assert written_at(world, case_id, MOMENT) == [("member_added", None,
                                                   str(youth.user_id))]
