"""Case edits with optimistic locking, on SQLite and PostgreSQL: two terminals change the
same case; the second is shown both versions and nothing is lost."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.errors import AnchorError
from anchor_tui.services.case_edits import (
    CaseChange,
    CaseConflict,
    CaseState,
    apply_change,
    case_state,
    people_to_add,
)
from anchor_tui.services.case_view import open_case
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def test_priority_review_and_stage_edits_are_written_with_history(world: TeamWorld) -> None:
    social = world.viewers["social"]
    seen = case_state(world.backend, social, world.case_a, TODAY)
    after = apply_change(world.backend, social, seen, CaseChange("priority", 1), today=TODAY)
    assert (after.priority, after.version) == (1, seen.version + 1)
    review = TODAY + dt.timedelta(days=10)
    after = apply_change(world.backend, social, after, CaseChange("next_review", review),
                         today=TODAY)
    after = apply_change(world.backend, social, after, CaseChange("stage", "anchor_meeting"),
                         today=TODAY)
    assert (after.next_review, after.stage) == (review, "anchor_meeting")
    history = [(h.kind, h.to_value) for h in open_case(world.backend, social, world.case_a,
                                                        now=NOW).history]
    assert ("priority", "high") in history and ("next_review", review.isoformat()) in history
    assert ("stage", "Anchor meeting") in history
    with pytest.raises(AnchorError, match="in the past"):
        apply_change(world.backend, social, after,
                     CaseChange("next_review", TODAY - dt.timedelta(days=1)), today=TODAY)
    with pytest.raises(AnchorError, match="already has that priority"):
        apply_change(world.backend, social, after, CaseChange("priority", 1), today=TODAY)


def test_the_second_terminal_sees_both_versions_and_applies_on_top(world: TeamWorld) -> None:
    police, social = world.viewers["police"], world.viewers["social"]
    seen_by_police = case_state(world.backend, police, world.case_a, TODAY)
    seen_by_social = case_state(world.backend, social, world.case_a, TODAY)
    apply_change(world.backend, police, seen_by_police, CaseChange("priority", 3), today=TODAY,
                 seen_at=NOW - dt.timedelta(minutes=1))
    review = TODAY + dt.timedelta(days=3)
    wanted = CaseChange("next_review", review)
    with pytest.raises(CaseConflict) as info:
        apply_change(world.backend, social, seen_by_social, wanted, today=TODAY,
                     seen_at=NOW - dt.timedelta(minutes=1))
    conflict = info.value
    assert conflict.seen.priority == 2 and conflict.now.priority == 3
    assert conflict.now.version == seen_by_social.version + 1
    assert conflict.wanted == wanted and conflict.changed_by == ("Police Person",)
    # Nothing of the second change was written...
    assert case_state(world.backend, social, world.case_a, TODAY).next_review is None
    # ...until the person chooses to apply it to the current version: both survive.
    final = apply_change(world.backend, social, conflict.now, wanted, today=TODAY)
    assert (final.priority, final.next_review) == (3, review)


def test_members_are_added_and_ended_and_that_advances_the_version(world: TeamWorld) -> None:
    police = world.viewers["police"]
    seen = case_state(world.backend, police, world.case_b, TODAY)
    assert seen.members is not None and [mc.user_id for mc in seen.members] == [
        police.user_id]
    candidates = {mc.user_id for mc in people_to_add(world.backend, police, seen)}
    social = world.viewers["social"].user_id
    assert social in candidates and police.user_id not in candidates
    added = apply_change(world.backend, police, seen, CaseChange("member_added", social),
                         today=TODAY)
    assert added.version == seen.version + 1
    assert added.members is not None and social in {mc.user_id for mc in added.members}
    # The new member sees the case's general notes from today.
    with world.backend.sessions.read(world.viewers["social"], NOW) as s:
        assert s.get(m.Note, world.notes["case_b"]) is not None
    # A stale member change conflicts like any other edit.
    with pytest.raises(CaseConflict):
        apply_change(world.backend, police, seen, CaseChange("member_removed", social),
                     today=TODAY)
    ended = apply_change(world.backend, police, added, CaseChange("member_removed", social),
                         today=TODAY)
    assert ended.members is not None and social not in {mc.user_id for mc in ended.members}
    with world.backend.sessions.read(world.viewers["social"], NOW) as s:
        assert s.get(m.Note, world.notes["case_b"]) is None


def test_removing_the_lead_clears_the_lead(world: TeamWorld) -> None:
    social = world.viewers["social"]
    seen = case_state(world.backend, social, world.case_a, TODAY)
    assert seen.lead == "Social Person"
    after = apply_change(world.backend, social, seen,
                         CaseChange("member_removed", social.user_id), today=TODAY)
    assert after.lead is None


def test_two_sessions_writing_at_the_same_moment_lose_no_update(world: TeamWorld) -> None:
    """Both terminals read version v and write at once (threads released together): one
    wins, the other gets a conflict carrying the winner's version, and re-applying it on
    top keeps both changes."""
    backend = world.backend
    police, social = world.viewers["police"], world.viewers["social"]
    started = utcnow()
    seen = case_state(backend, police, world.case_a, TODAY)
    review = TODAY + dt.timedelta(days=5)
    changes = {"police": (police, CaseChange("priority", 1)),
               "social": (social, CaseChange("next_review", review))}
    start = threading.Barrier(2)
    results: dict[str, Any] = {}

    def write(name: str) -> None:
        viewer, change = changes[name]
        start.wait()
        try:
            results[name] = apply_change(backend, viewer, seen, change, today=TODAY)
        except CaseConflict as conflict:
            results[name] = conflict

    threads = [threading.Thread(target=write, args=(name,)) for name in changes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    conflicts = {k: v for k, v in results.items() if isinstance(v, CaseConflict)}
    winners = {k: v for k, v in results.items() if isinstance(v, CaseState)}
    assert len(conflicts) == 1 and len(winners) == 1, results
    [(loser, conflict)] = conflicts.items()
    assert conflict.now.version == seen.version + 1
    apply_change(backend, changes[loser][0], conflict.now, changes[loser][1], today=TODAY)
    final = case_state(backend, police, world.case_a, TODAY)
    assert (final.priority, final.next_review, final.version) == (1, review, seen.version + 2)
    with backend.sessions.system("test: history") as s:
        kinds = sorted(s.scalars(select(m.CaseEvent.kind).where(
            m.CaseEvent.case_id == world.case_a, m.CaseEvent.at >= started)))
    assert kinds == ["next_review", "priority"]  # each written once: no lost, no double
