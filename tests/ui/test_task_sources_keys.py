"""A task typed by hand, from the keyboard, reaches nobody who may not see what it was
typed over: F5 in the note editor (saved with the note, made from it) and ``t`` in the
case view on the huddle's shared screen (with what the room saw as its sources)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from textual.widgets import Input, Static

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import open_case
from anchor_tui.services.clock import moment_on
from anchor_tui.services.queue import queue_sections
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.test_case_work import tasks_of
from tests.ui.test_huddle import huddle_of, join
from tests.ui.test_note_editor import (
    CASE,
    asked,
    only_consent,
    open_editor,
    until,
    user_id,
)

SECRET = "Book the clinic after the giraffe relapse"
HEALTH = "Relapse last week; sleeps badly."


def viewer(backend: Backend, username: str) -> Viewer:
    with backend.sessions.system("test: who") as s:
        user = s.scalars(select(m.User).where(m.User.username == username)).one()
        return viewer_for(user)


def reads_secret(backend: Backend, username: str) -> bool:
    """Whether ``username``, working alone, reads the task: through the central filter,
    the case view and the queue (which must agree)."""
    who = viewer(backend, username)
    now = moment_on(TODAY)
    with backend.sessions.read(who, now) as s:
        filtered = SECRET in set(s.scalars(select(m.Task.title)))
    in_case = SECRET in [t.title for t in open_case(backend, who, CASE, now=now).tasks]
    queued = SECRET in [item.what for section in queue_sections(backend, who, TODAY)
                        for item in section.items]
    assert filtered == in_case and (queued <= filtered), username
    return filtered


async def type_task(app: object, pilot: object) -> TaskFormScreen:
    form = await asked(app, pilot, TaskFormScreen)  # type: ignore[arg-type]
    assert isinstance(form, TaskFormScreen)
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press(*SECRET, "enter", *"fri", "enter")  # type: ignore[attr-defined]
    return form


async def test_f5_keeps_the_task_with_the_health_note_and_the_police_never_read_it(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """The nurse writes a health note on a case all four professions work, and adds a
    task from the editor (F5). Nothing is saved until the note is; then the task is made
    from the note: the police and the youth worker read neither."""
    only_consent(demo_backend, CASE, "health", "social_work", dt.date(2027, 1, 31))
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await open_editor(app, pilot)
        assert editor.category == "health"
        editor.query_one(NoteTextArea).insert(HEALTH)
        await pilot.press("f5")
        form = await type_task(app, pilot)
        said = str(form.query_one("#task-with-note", Static).render())
        assert "Saved with the note" in said
        await pilot.press("enter")  # the assignee: the nurse herself, who works the case
        await until(pilot, lambda: app.screen is editor)
        await settle(pilot)
        assert SECRET not in tasks_of(demo_backend)  # kept with the note, not saved alone
        assert [t.title for t in editor.note_tasks] == [SECRET]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
    task = tasks_of(demo_backend)[SECRET]
    with demo_backend.sessions.system("test: note") as s:
        note = s.scalars(select(m.Note).where(m.Note.body == HEALTH)).one()
        assert (note.category, task.from_note_id) == ("health", note.id)
    assert task.assignee_id == user_id(demo_backend, "nurse")
    assert not reads_secret(demo_backend, "police")
    assert not reads_secret(demo_backend, "youth")
    assert reads_secret(demo_backend, "nurse")
    assert reads_secret(demo_backend, "social")  # by the young person's consent


async def test_f5_refuses_an_assignee_who_may_not_read_the_note(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """Given to the police officer, the health note's task would never show to him: the
    error says so, the form stays with what was typed, and nothing is saved."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await open_editor(app, pilot)
        editor.query_one(NoteTextArea).insert(HEALTH)
        await pilot.press("f5")
        form = await type_task(app, pilot)
        assert form.form is not None
        police = user_id(demo_backend, "police")
        ids = [None] + [mc.user_id for mc in form.form.members]
        options = form.query_one("#task-assignee")
        options.highlighted = ids.index(police)  # type: ignore[attr-defined]
        await pilot.press("enter")
        error = await asked(app, pilot, ErrorScreen)
        assert "may not see this health note" in str(error.query_one("#error-message",
                                                                   Static).render())
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#task-title", Input).value == SECRET
        assert editor.note_tasks == ()
    assert SECRET not in tasks_of(demo_backend)


async def test_t_in_a_huddle_gives_the_task_what_the_room_saw(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """Social work and the nurse look at the case, with the nurse's health note on the
    shared screen, and add a task by hand (t). It carries what the room saw: the police
    and the youth worker, who work the case, do not read it."""
    only_consent(demo_backend, CASE, "health", "social_work", dt.date(2027, 1, 31))
    nurse = user_id(demo_backend, "nurse")
    with demo_backend.sessions.system("test: a health note") as s:
        s.add(m.Note(case_id=CASE, author_id=nurse, author_profession="health",
                     category="health", body=HEALTH, created_at=moment_on(TODAY)))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        case_view = CaseScreen(CASE)
        await app.push_screen(case_view)
        await settle(pilot)
        shown = [n.body for n in case_view.record.notes.notes] if case_view.record else []
        assert HEALTH in shown  # the room sees the health note
        await pilot.press("t")
        form = await type_task(app, pilot)
        said = str(form.query_one("#task-in-huddle", Static).render())
        assert "Typed in the huddle" in said
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is case_view)
        await settle(pilot)
    task = tasks_of(demo_backend)[SECRET]
    with demo_backend.sessions.system("test: sources") as s:
        health = s.scalars(select(m.Note.id).where(m.Note.body == HEALTH)).one()
        rows = s.execute(select(m.TaskSource.note_id, m.TaskSource.field)
                         .where(m.TaskSource.task_id == task.id)).all()
    assert not reads_secret(demo_backend, "police")
    assert not reads_secret(demo_backend, "youth")
    assert reads_secret(demo_backend, "nurse")
    assert reads_secret(demo_backend, "social")
    assert health in {note for note, _ in rows}
    assert "person_name" in {field for _, field in rows}
