"""A draft keeps the tasks typed over its note (F5) with its text, on SQLite and
PostgreSQL: saved (autosave too), offered back, folded from a huddle's draft, dropped
with the draft, kept when a note's save is refused, saved with the note once, and seen
by the author alone (the central filter, and on PostgreSQL row-level security)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError
from anchor_tui.services.drafts import (
    discard_draft,
    keep_unsaved_note,
    load_draft,
    save_draft,
)
from anchor_tui.services.notes import NoteInput, save_note
from anchor_tui.services.tasks import NoteTask
from tests.integration.case_world import TODAY, TeamWorld, build, huddle, make_backend

DUE = TODAY + dt.timedelta(days=3)


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def typed(world: TeamWorld) -> tuple[NoteTask, ...]:
    return (NoteTask("Phone the clinic", DUE, world.viewers["social"].user_id),
            NoteTask("Book a room", None, None))


def test_the_tasks_are_kept_and_offered_back_with_the_text(world: TeamWorld) -> None:
    nurse, tasks = world.viewers["nurse"], typed(world)
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Visited",
               tasks=tasks)
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and (draft.body, draft.tasks) == ("Visited", tasks)
    # The next autosave writes what the editor holds now: one task fewer.
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Visited home",
               tasks=tasks[:1])
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and (draft.body, draft.tasks) == ("Visited home", tasks[:1])


def test_a_draft_with_tasks_and_no_text_yet_is_kept(world: TeamWorld) -> None:
    nurse, tasks = world.viewers["nurse"], typed(world)
    assert save_draft(world.backend, nurse, world.case_a, None, "health", None, " \n",
                      tasks=tasks) is not None
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and draft.tasks == tasks
    assert save_draft(world.backend, nurse, world.case_a, None, "health", None, "") is None
    assert load_draft(world.backend, nurse, world.case_a) is None


def test_discarding_the_draft_discards_its_tasks(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Visited",
               tasks=typed(world))
    assert discard_draft(world.backend, nurse, world.case_a)
    with world.backend.sessions.system("test: drafts") as s:
        assert s.scalar(select(func.count()).select_from(m.Draft)) == 0
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Again")
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and draft.tasks == ()


def test_nobody_else_gets_the_tasks_of_a_draft(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Visited",
               tasks=typed(world))
    for other in ("police", "social", "youth"):
        assert load_draft(world.backend, world.viewers[other], world.case_a) is None
        with world.backend.sessions.read(world.viewers[other]) as s:
            assert s.scalars(select(m.Draft.tasks)).all() == []  # the filter itself
    assert load_draft(world.backend, huddle(world, "nurse", "social"), world.case_a) is None
    with world.backend.sessions.read(huddle(world, "nurse", "social")) as s:
        assert s.scalars(select(m.Draft.tasks)).all() == []
    # The assignee is given nothing before the note is saved.
    social = world.viewers["social"]
    with world.backend.sessions.read(social) as s:
        assert "Phone the clinic" not in s.scalars(select(m.Task.title)).all()


def test_a_huddle_draft_folded_into_the_own_draft_brings_its_tasks(world: TeamWorld) -> None:
    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    mine, theirs = typed(world)
    theirs = dataclasses.replace(theirs, in_huddle=True)  # as the huddle's editor keeps it
    save_draft(world.backend, nurse, world.case_a, None, "general", None, "Mine",
               tasks=(mine,))
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "In the room",
               huddle_key="room", tasks=(theirs,))
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.body, draft.tasks) == ("Mine\n\nIn the room", (mine, theirs))
    with world.backend.sessions.system("test: drafts") as s:
        assert s.scalar(select(func.count()).select_from(m.Draft)) == 1
    # Folded once: offered again, the tasks are not doubled.
    again = load_draft(world.backend, nurse, world.case_a)
    assert again is not None and again.tasks == (mine, theirs)


def test_a_huddle_draft_of_tasks_alone_is_folded_too(world: TeamWorld) -> None:
    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    theirs = typed(world)[1]
    save_draft(world.backend, nurse, world.case_a, None, "general", None, "Mine")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "",
               huddle_key="room", tasks=(theirs,))
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and (draft.body, draft.tasks) == ("Mine", (theirs,))


def test_a_refused_save_keeps_the_tasks_with_the_text(world: TeamWorld) -> None:
    nurse, tasks = world.viewers["nurse"], typed(world)
    assert keep_unsaved_note(world.backend, nurse, world.case_a, None, "health", None,
                             "Kept for later", tasks=tasks)
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and (draft.body, draft.tasks) == ("Kept for later", tasks)


def test_the_note_saved_from_the_draft_saves_its_tasks_once(world: TeamWorld) -> None:
    nurse, tasks = world.viewers["nurse"], typed(world)
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Visited",
               tasks=tasks)
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    saved = save_note(world.backend, nurse, NoteInput(world.case_a, draft.body,
                                                      draft.category, tasks=draft.tasks),
                      today=TODAY)
    assert [t.title for t in saved.tasks] == ["Phone the clinic", "Book a room"]
    assert load_draft(world.backend, nurse, world.case_a) is None
    with world.backend.sessions.system("test: tasks") as s:
        made = s.scalars(select(m.Task.title).where(m.Task.from_note_id == saved.note_id))
        assert sorted(made) == ["Book a room", "Phone the clinic"]


def test_a_task_typed_in_a_huddle_is_not_saved_unchecked_with_an_own_note(
        world: TeamWorld) -> None:
    """Saved in the huddle, a task typed there is shown only to whoever may see all the
    room saw; folded into its author's own draft, that is not known any more: saved
    with a note of their own work as it is, it would reach whoever reads the note. The
    save is refused (nothing of it written, the draft kept) until the author checks
    it again, which makes it a task of their own."""
    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    task = NoteTask("Ask about the room's report", None, None, in_huddle=True)
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "In the room",
               huddle_key="room", tasks=(task,))
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None and draft.tasks == (task,)
    with pytest.raises(AnchorError, match="typed in a huddle"):
        save_note(world.backend, nurse, NoteInput(world.case_a, draft.body, draft.category,
                                                  tasks=draft.tasks), today=TODAY)
    with world.backend.sessions.system("test: nothing saved") as s:
        assert s.scalars(select(m.Task.title).where(m.Task.title == task.title)).all() == []
        assert s.scalars(select(m.Note.body).where(m.Note.body == "In the room")).all() == []
    again = load_draft(world.backend, nurse, world.case_a)
    assert again == dataclasses.replace(draft, from_huddles=0)
    checked = dataclasses.replace(task, in_huddle=False)  # the task form's answer
    saved = save_note(world.backend, nurse, NoteInput(world.case_a, draft.body,
                                                      draft.category, tasks=(checked,)),
                      today=TODAY)
    assert [t.title for t in saved.tasks] == [task.title]


def test_a_huddle_draft_whose_text_is_in_the_own_draft_still_brings_its_tasks(
        world: TeamWorld) -> None:
    """The huddle's text is a paragraph of the own draft already (a fold before, or the
    author's own copy): the text is not added twice, and its tasks are not dropped."""
    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    theirs = typed(world)[1]
    save_draft(world.backend, nurse, world.case_a, None, "general", None,
               "Mine\n\nIn the room")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "In the room",
               huddle_key="room", tasks=(theirs,))
    draft = load_draft(world.backend, nurse, world.case_a)
    assert draft is not None
    assert (draft.body, draft.tasks) == ("Mine\n\nIn the room", (theirs,))
    with world.backend.sessions.system("test: drafts") as s:
        assert s.scalar(select(func.count()).select_from(m.Draft)) == 1
