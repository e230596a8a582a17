"""A huddle action's task is shown only to whoever may see all the room saw of the case.

An action typed in a huddle becomes a huddle item and a task with the same words. The
item was always disclosed by what the room saw when it was typed; the task now carries
that as its sources (the notes, the young person's name) and is disclosed the same way,
in every read: the shared screen after a roster change, the case view, the queue and the
export. Runs on SQLite and PostgreSQL (row-level security included there).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services import huddle as service
from anchor_tui.services.case_view import open_case
from anchor_tui.services.export import collect
from anchor_tui.services.huddle_agenda import huddle_case
from anchor_tui.services.queue import queue_sections
from tests.integration.huddle_world import (
    NOW,
    PASSPHRASE,
    TODAY,
    HuddleWorld,
    build,
    make_backend,
)

SECRET = "Refer to detox: giraffehealth relapse"
DUE = TODAY + dt.timedelta(days=3)


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def social_and_nurse(world: HuddleWorld) -> Viewer:
    """A huddle of social work and the nurse: together they see case A's health note
    (social work by the young person's consent)."""
    social = world.viewers["social"]
    roster = service.start_huddle(world.backend, social, TODAY, at(0))
    viewer = service.huddle_viewer(roster, social)
    roster = service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY, at(1))
    return service.huddle_viewer(roster, social)


def task_titles(world: HuddleWorld, name: str, minutes: float = 5) -> list[str]:
    view = open_case(world.backend, world.viewers[name], world.case_a, now=at(minutes))
    return [t.title for t in view.tasks]


def test_huddle_action_over_hidden_note_leaks_as_task_title(world: HuddleWorld) -> None:
    """The reviewer's first scenario: a youth worker joining later sees neither the item
    nor the task on the shared screen."""
    social = world.viewers["social"]
    viewer = social_and_nurse(world)
    service.add_action(world.backend, viewer, world.case_a, SECRET,
                       world.viewers["nurse"].user_id, DUE, TODAY, at(2))
    before = huddle_case(world.backend, viewer, world.case_a, at(2.5))
    assert SECRET in [t.title for t in before.record.tasks]  # the room that typed it
    roster = service.join_huddle(world.backend, viewer, "youth", PASSPHRASE, TODAY, at(3))
    three = service.huddle_viewer(roster, social)
    view = huddle_case(world.backend, three, world.case_a, at(4))
    assert [i.text for i in view.items] == []
    assert SECRET not in [t.title for t in view.record.tasks]


def test_huddle_action_text_reaches_youth_worker_individually(world: HuddleWorld) -> None:
    """The reviewer's second scenario: case members who may not read the health note
    (youth work, the police) do not see the action's words in their case view."""
    viewer = social_and_nurse(world)
    service.add_action(world.backend, viewer, world.case_a, SECRET, None, DUE, TODAY, at(2))
    assert SECRET not in task_titles(world, "youth")
    assert SECRET not in task_titles(world, "police")


def test_those_who_may_see_all_the_room_saw_still_see_the_task(world: HuddleWorld) -> None:
    """Social work and the nurse (each may see the health note and the name) see the task
    in their case view; the nurse, its assignee, in her queue; the youth worker's export
    does not hold it, the nurse's does."""
    viewer = social_and_nurse(world)
    nurse = world.viewers["nurse"]
    service.add_action(world.backend, viewer, world.case_a, SECRET, nurse.user_id, DUE,
                       TODAY, at(2))
    assert SECRET in task_titles(world, "social")
    assert SECRET in task_titles(world, "nurse")
    queued = [item for section in queue_sections(world.backend, nurse, TODAY)
              for item in section.items]
    assert SECRET in [item.what for item in queued]
    with world.backend.sessions.system("test") as s:
        person = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_a))
    assert person is not None
    titles = {name: [t["title"] for case in collect(world.backend, name, person, at(6)).cases
                     for t in case.tasks] for name in ("youth", "nurse")}
    assert SECRET not in titles["youth"]
    assert SECRET in titles["nurse"]


def test_the_task_names_what_the_room_saw(world: HuddleWorld) -> None:
    """Its sources are the notes of the case the room saw then (the health note among
    them, police intelligence never) and the young person's name."""
    viewer = social_and_nurse(world)
    seen = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a, at(1.5))
            .record.notes.notes}
    service.add_action(world.backend, viewer, world.case_a, SECRET, None, DUE, TODAY, at(2))
    with world.backend.sessions.system("test") as s:
        task_id = s.scalar(select(m.Task.id).where(m.Task.title == SECRET))
        rows = s.execute(select(m.TaskSource.note_id, m.TaskSource.field)
                         .where(m.TaskSource.task_id == task_id)).all()
    assert {note for note, _ in rows if note is not None} == seen
    assert world.notes["health"] in seen
    assert world.notes["police_intel"] not in seen
    assert [field for _, field in rows if field is not None] == ["person_name"]


def test_a_consent_withdrawn_since_hides_the_task_too(world: HuddleWorld) -> None:
    """Sources are judged now: once the young person withdraws the consent that let
    social work read the health note, social work no longer sees the action's task
    (as it no longer sees the note); the nurse still does."""
    viewer = social_and_nurse(world)
    service.add_action(world.backend, viewer, world.case_a, SECRET, None, DUE, TODAY, at(2))
    with world.backend.sessions.system("test") as s:
        s.execute(update(m.Consent).values(withdrawn_at=at(3)))
    assert SECRET not in task_titles(world, "social", minutes=4)
    assert SECRET in task_titles(world, "nurse", minutes=4)


def test_an_assignee_who_could_not_see_the_task_is_refused(world: HuddleWorld) -> None:
    """Giving the action to the youth worker (who works the case but may not read the
    health note the room saw) would make a task she never sees: refused with the fix,
    and nothing is written. Nobody, or someone present, may be given it."""
    viewer = social_and_nurse(world)
    youth = world.viewers["youth"].user_id
    with pytest.raises(AnchorError, match="would never show") as refused:
        service.add_action(world.backend, viewer, world.case_a, SECRET, youth, DUE, TODAY,
                           at(2))
    assert "someone present" in (refused.value.fix or "")
    with world.backend.sessions.system("test") as s:
        assert s.scalar(select(m.Task.id).where(m.Task.title == SECRET)) is None
        assert s.scalar(select(m.HuddleItem.id)) is None
    service.add_action(world.backend, viewer, world.case_a, SECRET, None, DUE, TODAY, at(3))
    service.add_action(world.backend, viewer, world.case_a, "Book the room",
                       world.viewers["social"].user_id, DUE, TODAY, at(4))
    assert {"Book the room", SECRET} <= set(task_titles(world, "social"))


def test_a_room_that_saw_no_hidden_note_is_refused_nobody(world: HuddleWorld) -> None:
    """A room of the youth worker and social work sees on case A only what both may see:
    the youth worker may then be given the action, and sees it."""
    social = world.viewers["social"]
    roster = service.start_huddle(world.backend, social, TODAY, at(0))
    viewer = service.huddle_viewer(roster, social)
    roster = service.join_huddle(world.backend, viewer, "youth", PASSPHRASE, TODAY, at(1))
    viewer = service.huddle_viewer(roster, social)
    service.add_action(world.backend, viewer, world.case_a, "Ask about the club",
                       world.viewers["youth"].user_id, DUE, TODAY, at(2))
    assert "Ask about the club" in task_titles(world, "youth")
    assert "Ask about the club" in task_titles(world, "social")


def test_giving_the_task_later_to_someone_who_could_not_see_it_is_refused(
        world: HuddleWorld) -> None:
    """The same when the task is given on afterwards (the queue's `a`): to the youth
    worker, who may not read the health note the room saw, refused and left as it was;
    to the nurse, given."""
    from anchor_tui.services.case_actions import assign_task

    viewer = social_and_nurse(world)
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    service.add_action(world.backend, viewer, world.case_a, SECRET, None, DUE, TODAY, at(2))
    with world.backend.sessions.system("test") as s:
        task = s.scalars(select(m.Task).where(m.Task.title == SECRET)).one()
        task_id, version = task.id, task.version
    with pytest.raises(AnchorError, match="would never show"):
        assign_task(world.backend, social, task_id, version,
                    world.viewers["youth"].user_id, TODAY)
    with world.backend.sessions.system("test") as s:
        assert s.get_one(m.Task, task_id).assignee_id is None
    assign_task(world.backend, social, task_id, version, nurse.user_id, TODAY)
    with world.backend.sessions.system("test") as s:
        assert s.get_one(m.Task, task_id).assignee_id == nurse.user_id
