"""A task typed by hand tells of what it was typed over, and is disclosed so.

- F5 in the note editor: the task is typed over the note being written. It is kept
  with the editor and saved with the note, made from it, so its title reaches nobody
  the note does not (a health note's task never reaches the police or youth work).
- ``t`` in a huddle: the task is typed on the shared screen, over what the room sees of
  the case. It carries that as its sources, as a huddle action's task does.

In both, an assignee who could not see the task is refused. Each read is checked: the
central disclosure filter itself, the case view, the queue and the export. Runs on
SQLite and PostgreSQL (row-level security included there).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.case_view import open_case
from anchor_tui.services.export import collect
from anchor_tui.services.huddle_agenda import huddle_case
from anchor_tui.services.notes import NoteInput, save_note
from anchor_tui.services.queue import queue_sections
from anchor_tui.services.tasks import NoteTask, add_task, check_note_task
from tests.integration.huddle_world import (
    NOW,
    PASSPHRASE,
    TODAY,
    HuddleWorld,
    build,
    make_backend,
)

SECRET = "Book the clinic after the giraffe relapse"
DUE = TODAY + dt.timedelta(days=3)


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def filtered_titles(world: HuddleWorld, name: str, minutes: float = 10) -> set[str]:
    """The task titles the central disclosure filter lets ``name`` read, on any case."""
    with world.backend.sessions.read(world.viewers[name], at(minutes)) as s:
        return set(s.scalars(select(m.Task.title)))


def case_view_titles(world: HuddleWorld, name: str, minutes: float = 10) -> list[str]:
    view = open_case(world.backend, world.viewers[name], world.case_a, now=at(minutes))
    return [t.title for t in view.tasks]


def queued(world: HuddleWorld, name: str) -> list[str]:
    return [item.what for section in queue_sections(world.backend, world.viewers[name], TODAY)
            for item in section.items]


def exported(world: HuddleWorld, name: str) -> list[str]:
    with world.backend.sessions.system("test") as s:
        person = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_a))
    assert person is not None
    return [t["title"] for case in collect(world.backend, name, person, at(20)).cases
            for t in case.tasks]


def sees(world: HuddleWorld, name: str) -> bool:
    """Whether ``name`` reads SECRET anywhere: filter, case view, export (and they agree)."""
    places = {SECRET in filtered_titles(world, name), SECRET in case_view_titles(world, name),
              SECRET in exported(world, name)}
    assert len(places) == 1, f"the reads of {name} disagree"
    return places.pop()


def health_note_with_task(world: HuddleWorld, viewer: Viewer, assignee: int | None,
                          minutes: float = 2) -> int:
    """The nurse's health note, with a task typed over it (F5), saved together."""
    task = check_note_task(world.backend, viewer, world.case_a, "health", SECRET, DUE,
                           assignee, TODAY, at(minutes))
    saved = save_note(world.backend, viewer,
                      NoteInput(world.case_a, "Relapse; clinic next week.", "health",
                                tasks=(task,)), today=TODAY, now=at(minutes))
    assert [t.title for t in saved.tasks] == [SECRET]
    return saved.note_id


# --- F5: a task typed over the note being written -------------------------------------


def test_a_task_typed_over_a_health_note_reaches_no_police_or_youth_worker(
        world: HuddleWorld) -> None:
    """The review's scenario: the nurse writes a health note and, from the editor, a
    task. Every profession works the case; the police and the youth worker may not read
    the note, so they do not read the task either (filter, case view, queue, export)."""
    nurse = world.viewers["nurse"]
    health_note_with_task(world, nurse, None)
    assert not sees(world, "police")
    assert not sees(world, "youth")
    assert sees(world, "nurse")
    assert sees(world, "social")  # the young person's consent lets social work read it
    assert SECRET not in queued(world, "police") + queued(world, "youth")


def test_the_task_is_made_from_the_note_and_nothing_is_saved_before_it(
        world: HuddleWorld) -> None:
    """Checking the typed task writes nothing; saving the note writes the task, made
    from it (``from_note_id``), in the same unit of work."""
    nurse = world.viewers["nurse"]
    check_note_task(world.backend, nurse, world.case_a, "health", SECRET, DUE, None,
                    TODAY, at(1))
    with world.backend.sessions.system("test") as s:
        assert s.scalar(select(m.Task.id).where(m.Task.title == SECRET)) is None
    note_id = health_note_with_task(world, nurse, nurse.user_id)
    with world.backend.sessions.system("test") as s:
        task = s.scalars(select(m.Task).where(m.Task.title == SECRET)).one()
        assert (task.from_note_id, task.assignee_id, task.due) == (note_id, nurse.user_id,
                                                                    DUE)
    assert SECRET in queued(world, "nurse")


def test_an_assignee_who_may_not_read_the_note_is_refused(world: HuddleWorld) -> None:
    """Given to the police officer (who works the case but never reads a health note),
    the task would never show to him: refused when typed, with the fix. The nurse and
    social work (by consent) may be given it."""
    nurse = world.viewers["nurse"]
    for name in ("police", "youth"):
        with pytest.raises(AnchorError, match="may not see this health note") as refused:
            check_note_task(world.backend, nurse, world.case_a, "health", SECRET, DUE,
                            world.viewers[name].user_id, TODAY, at(1))
        assert "nobody" in (refused.value.fix or "")
    given = check_note_task(world.backend, nurse, world.case_a, "health", SECRET, DUE,
                            world.viewers["social"].user_id, TODAY, at(1))
    assert given == NoteTask(SECRET, DUE, world.viewers["social"].user_id)


def test_a_category_changed_after_the_task_refuses_the_save_and_saves_nothing(
        world: HuddleWorld) -> None:
    """Typed over a general note and given to the police, then the note becomes a health
    note: the save checks again on the note as saved, and refuses it whole (the task
    would never show to its assignee); nothing is written, the editor keeps the text."""
    nurse = world.viewers["nurse"]
    task = check_note_task(world.backend, nurse, world.case_a, "general", SECRET, DUE,
                           world.viewers["police"].user_id, TODAY, at(1))
    with pytest.raises(AnchorError, match="would never show") as refused:
        save_note(world.backend, nurse, NoteInput(world.case_a, "Relapse.", "health",
                                                  tasks=(task,)), today=TODAY, now=at(2))
    assert "F4" in refused.value.fix and SECRET not in str(refused.value)
    with world.backend.sessions.system("test") as s:
        assert s.scalar(select(m.Task.id).where(m.Task.title == SECRET)) is None
        assert s.scalar(select(m.Note.id).where(m.Note.body == "Relapse.")) is None


def social_and_nurse(world: HuddleWorld) -> Viewer:
    """A huddle of social work and the nurse: together they see case A's health note."""
    social = world.viewers["social"]
    roster = huddle_service.start_huddle(world.backend, social, TODAY, at(0))
    viewer = huddle_service.huddle_viewer(roster, social)
    roster = huddle_service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY,
                                        at(1))
    return huddle_service.huddle_viewer(roster, social)


def sources(world: HuddleWorld) -> tuple[set[int], list[str]]:
    with world.backend.sessions.system("test") as s:
        task_id = s.scalar(select(m.Task.id).where(m.Task.title == SECRET))
        rows = s.execute(select(m.TaskSource.note_id, m.TaskSource.field)
                         .where(m.TaskSource.task_id == task_id)).all()
    return ({note for note, _ in rows if note is not None},
            sorted(field for _, field in rows if field is not None))


def test_a_task_typed_over_a_huddle_note_tells_of_the_note_and_the_room(
        world: HuddleWorld) -> None:
    """F5 on the shared screen: the chair's general note, and the room sees the health
    note too. The task is made from the note and carries what the room saw, so the
    youth worker and the police (members, who may read a general note) see it not."""
    viewer = social_and_nurse(world)
    task = check_note_task(world.backend, viewer, world.case_a, "general", SECRET, DUE,
                           None, TODAY, at(2))
    saved = save_note(world.backend, viewer, NoteInput(world.case_a, "Agreed: a visit.",
                                                       "general", tasks=(task,)),
                      today=TODAY, now=at(2))
    notes, fields = sources(world)
    assert {world.notes["health"], saved.note_id} <= notes
    assert fields == ["person_name"]
    assert not sees(world, "police")
    assert not sees(world, "youth")
    assert sees(world, "nurse") and sees(world, "social")


# --- t in a huddle: a task typed on the shared screen ---------------------------------


def test_a_task_added_in_a_huddle_carries_what_the_room_saw(world: HuddleWorld) -> None:
    """The review's second scenario: the room (social work and the nurse) looks at the
    case with its health note and adds a task by hand (``t``). Its sources are what the
    room saw, as an action's; the youth worker and the police do not read it anywhere,
    nor does the shared screen once the youth worker joins."""
    social = world.viewers["social"]
    viewer = social_and_nurse(world)
    seen = {n.note_id for n in huddle_case(world.backend, viewer, world.case_a, at(1.5))
            .record.notes.notes}
    add_task(world.backend, viewer, world.case_a, SECRET, DUE, None, TODAY, at(2))
    assert sources(world) == (seen, ["person_name"])
    assert world.notes["health"] in seen
    assert not sees(world, "police")
    assert not sees(world, "youth")
    assert sees(world, "nurse") and sees(world, "social")
    roster = huddle_service.join_huddle(world.backend, viewer, "youth", PASSPHRASE, TODAY,
                                        at(3))
    three = huddle_service.huddle_viewer(roster, social)
    assert SECRET not in [t.title for t in huddle_case(world.backend, three, world.case_a,
                                                       at(4)).record.tasks]


def test_a_task_added_in_a_huddle_is_refused_to_whoever_would_not_see_it(
        world: HuddleWorld) -> None:
    """Given to the youth worker, who may not read the health note the room saw: refused
    and nothing written; given to the nurse, added and in her queue."""
    viewer = social_and_nurse(world)
    with pytest.raises(AnchorError, match="all that the huddle sees"):
        add_task(world.backend, viewer, world.case_a, SECRET, DUE,
                 world.viewers["youth"].user_id, TODAY, at(2))
    with world.backend.sessions.system("test") as s:
        assert s.scalar(select(m.Task.id).where(m.Task.title == SECRET)) is None
    add_task(world.backend, viewer, world.case_a, SECRET, DUE,
             world.viewers["nurse"].user_id, TODAY, at(3))
    assert SECRET in queued(world, "nurse")


def test_a_task_added_alone_is_the_case_members_as_before(world: HuddleWorld) -> None:
    """Outside a huddle a task typed in the case view tells of nothing but itself: no
    sources, every member of the case sees it (the task rules)."""
    add_task(world.backend, world.viewers["nurse"], world.case_a, SECRET, DUE, None, TODAY,
             at(2))
    assert sources(world) == (set(), [])
    assert all(sees(world, name) for name in ("police", "youth", "nurse", "social"))
