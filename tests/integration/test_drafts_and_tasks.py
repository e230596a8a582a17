"""Drafts (author-only, never in a huddle, one per note) and follow-up tasks, on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.services.case_view import open_case
from anchor_tui.services.drafts import discard_draft, load_draft, save_draft
from anchor_tui.services.tasks import add_task, complete_task, open_tasks, task_form
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, huddle, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def drafts_in_db(world: TeamWorld) -> int:
    with world.backend.sessions.system("test: drafts") as s:
        return int(s.scalar(select(func.count()).select_from(m.Draft)) or 0)


def test_a_draft_is_kept_updated_in_place_and_dropped_when_blank(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    first = save_draft(world.backend, nurse, world.case_a, None, "health", None, "Kävi")
    later = save_draft(world.backend, nurse, world.case_a, None, "general", "home_visit",
                       "Kävi kotona \x1b[2J")
    assert first is not None and later is not None and later >= first
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.category, draft.template, draft.body) == ("general", "home_visit",
                                                             "Kävi kotona \\x1b[2J")
    assert drafts_in_db(world) == 1
    # A correction's draft is another draft.
    save_draft(world.backend, nurse, world.case_a, world.notes["health"], "health", None, "Fix")
    assert drafts_in_db(world) == 2
    assert save_draft(world.backend, nurse, world.case_a, None, "general", None, " \n ") is None
    assert load_draft(world.backend, nurse, world.case_a) is None
    assert discard_draft(world.backend, nurse, world.case_a, world.notes["health"])
    assert drafts_in_db(world) == 0


def test_a_draft_is_its_authors_alone_and_never_shown_in_a_huddle(world: TeamWorld) -> None:
    save_draft(world.backend, world.viewers["nurse"], world.case_a, None, "health", None,
               "Only mine")
    for other in ("police", "social", "youth"):
        assert load_draft(world.backend, world.viewers[other], world.case_a) is None
        with world.backend.sessions.read(world.viewers[other]) as s:
            assert s.scalars(select(m.Draft)).all() == []  # the filter, not just the service
    assert load_draft(world.backend, huddle(world, "nurse"), world.case_a) is None
    with world.backend.sessions.read(huddle(world, "nurse", "social")) as s:
        assert s.scalars(select(m.Draft)).all() == []
    assert load_draft(world.backend, world.viewers["nurse"], world.case_a) is not None


def test_the_database_keeps_one_draft_of_a_new_note_per_author_and_case(
    world: TeamWorld
) -> None:
    nurse = world.viewers["nurse"]
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "one")
    with pytest.raises(IntegrityError), world.backend.sessions.system("test: twin") as s:
        s.add(m.Draft(author_id=nurse.user_id, case_id=world.case_a, supersedes_id=None,
                      category="health", body="two"))


def test_a_task_goes_to_a_member_with_a_due_day_and_is_marked_done(world: TeamWorld) -> None:
    police, social = world.viewers["police"], world.viewers["social"]
    form = task_form(world.backend, police, world.case_a, TODAY)
    assert {mc.user_id for mc in form.members} == {v.user_id for v in world.viewers.values()}
    assert form.default_assignee == police.user_id
    added = add_task(world.backend, police, world.case_a, " Call the\nschool \x07",
                     TODAY + dt.timedelta(days=4), social.user_id, TODAY)
    assert (added.title, added.assignee) == ("Call the school \\x07", "Social Person")
    listed = {t.task_id: t for t in open_tasks(world.backend, social, world.case_a)}
    assert added.task_id in listed
    complete_task(world.backend, social, added.task_id, listed[added.task_id].version)
    assert added.task_id not in {t.task_id for t in open_tasks(world.backend, social,
                                                               world.case_a)}
    done = {t.task_id: t for t in open_case(world.backend, social, world.case_a,
                                            now=NOW).tasks}
    assert done[added.task_id].done
    with pytest.raises(AnchorError):
        complete_task(world.backend, social, added.task_id, listed[added.task_id].version + 1)


def test_bad_tasks_are_refused_with_a_reason(world: TeamWorld) -> None:
    police = world.viewers["police"]
    with pytest.raises(AnchorError, match="needs a title"):
        add_task(world.backend, police, world.case_a, "  ", None, None, TODAY)
    with pytest.raises(AnchorError, match="in the past"):
        add_task(world.backend, police, world.case_a, "Late", TODAY - dt.timedelta(days=1),
                 None, TODAY)
    with pytest.raises(AnchorError, match="works the case"):  # only police work case B
        add_task(world.backend, police, world.case_b, "Ask", None,
                 world.viewers["social"].user_id, TODAY)


def test_marking_a_task_done_that_changed_meanwhile_is_a_conflict(world: TeamWorld) -> None:
    police, social = world.viewers["police"], world.viewers["social"]
    added = add_task(world.backend, police, world.case_a, "Visit", None, None, TODAY)
    seen = {t.task_id: t for t in open_tasks(world.backend, social, world.case_a)}[
        added.task_id].version
    with world.backend.sessions.write(police) as s:  # someone assigns it meanwhile
        task = s.get_one(m.Task, added.task_id)
        task.assignee_id = police.user_id
    with pytest.raises(ConflictError):
        complete_task(world.backend, social, added.task_id, seen)


def test_tasks_of_a_case_one_does_not_work_stay_hidden(world: TeamWorld) -> None:
    police = world.viewers["police"]
    add_task(world.backend, police, world.case_b, "Police only", None, police.user_id, TODAY)
    assert open_tasks(world.backend, world.viewers["nurse"], world.case_b) == ()
    assert [t.title for t in open_tasks(world.backend, police, world.case_b)] == ["Police only"]
