"""The tasks typed over a note (F5) are kept in its draft with its text.

A draft held the text alone: a note left as a draft lost its tasks, and in silence when
the editor closed without a question (switch user, a takeover at the lock). Now the
leave question keeps them with the draft (its default), a switch of user and a takeover
at the lock keep them with the text, the draft offered back brings them back (the
status line says so), and the note saved from it saves each task once. A task brought
back that can no longer be saved as it was (given to someone who may not read the note,
or typed in a huddle) comes back in the task form with its words, never dropped.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Input, Static

from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import SignInScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.huddle_modals import NoticeScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import tasks_from_json, tasks_json
from anchor_tui.services.tasks import NoteTask
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_case_work import tasks_of
from tests.ui.test_editor_huddle_drafts import huddle_editor
from tests.ui.test_huddle_ending_asks_first import end_huddle_by
from tests.ui.test_note_editor import CASE, asked, choose, text_of, until, user_id
from tests.ui.test_note_tasks_kept_on_leaving import typed_with_a_task
from tests.ui.test_task_sources_keys import HEALTH, SECRET, type_task
from tests.ui.test_unfinished_notes import away_then_refused


def drafts(backend: Backend, username: str) -> list[tuple[str, list[str]]]:
    """``username``'s drafts: text and the titles of the tasks kept with it."""
    author = user_id(backend, username)
    with backend.sessions.system("test: drafts") as s:
        rows = s.execute(select(m.Draft.body, m.Draft.tasks)
                         .where(m.Draft.author_id == author)).all()
    return [(body, [t.title for t in tasks_from_json(tasks)]) for body, tasks in rows]



async def task_given_back(app: Any, pilot: Any, case_id: int
                          ) -> tuple[NoteEditorScreen, TaskFormScreen]:
    """The case opened, n, the draft continued: a task kept in it that cannot be saved
    as it is comes back in the task form, over the editor."""
    await app.push_screen(CaseScreen(case_id))
    await settle(pilot)
    await pilot.press("n")
    await choose(app, pilot, "continue", then_settle=False)
    form = await asked(app, pilot, TaskFormScreen)
    assert isinstance(form, TaskFormScreen)
    await settle(pilot)
    editor = app.screen_stack[-2]
    assert isinstance(editor, NoteEditorScreen)
    return editor, form

async def test_a_task_left_with_the_draft_comes_back_and_is_saved_once(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        await typed_with_a_task(app, pilot, HEALTH)
        await pilot.press("escape")
        question = await asked(app, pilot, ChoiceScreen)
        assert isinstance(question, ChoiceScreen)
        assert question.current == "draft"
        assert "with its tasks" in dict(question.choices)["draft"]
        assert "not kept" not in question.note
        await pilot.press("enter")  # the default: keep it as a draft
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert drafts(demo_backend, "nurse") == [(HEALTH, [SECRET])]
        assert SECRET not in tasks_of(demo_backend)  # never saved without its note

        await pilot.press("n")
        offer = await asked(app, pilot, ChoiceScreen)
        assert isinstance(offer, ChoiceScreen) and "1 task" in dict(offer.choices)["continue"]
        assert f"Task: {SECRET}" in offer.note
        await choose(app, pilot, "continue")
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        assert editor.query_one(NoteTextArea).text == HEALTH
        assert [t.title for t in editor.note_tasks] == [SECRET]
        assert "with its task" in text_of(editor, "#editor-status")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
    with demo_backend.sessions.system("test: note") as s:
        note = s.scalars(select(m.Note).where(m.Note.body == HEALTH)).one()
        made = s.scalars(select(m.Task).where(m.Task.title == SECRET)).all()
        assert [task.from_note_id for task in made] == [note.id]  # once, from the note
    assert drafts(demo_backend, "nurse") == []


async def test_switch_user_keeps_the_task_with_the_text(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        await typed_with_a_task(app, pilot, HEALTH)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await settle(pilot)
        assert app.viewer is None
    assert drafts(demo_backend, "nurse") == [(HEALTH, [SECRET])]
    assert SECRET not in tasks_of(demo_backend)


async def test_a_task_that_can_no_longer_be_given_comes_back_in_its_form(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """The draft's task was given to the police officer, who may not read the health
    note: continued, the task comes back in the form with its words and why; another
    assignee chosen there, it is kept with the note in its place."""
    police, nurse = user_id(demo_backend, "police"), user_id(demo_backend, "nurse")
    with demo_backend.sessions.system("test: a draft of before") as s:
        s.add(m.Draft(author_id=nurse, case_id=CASE, supersedes_id=None, category="health",
                      template=None, body=HEALTH,
                      tasks=tasks_json((NoteTask(SECRET, None, police),))))
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor, form = await task_given_back(app, pilot, CASE)
        assert editor.note_tasks == (NoteTask(SECRET, None, police),)  # kept meanwhile
        assert form.query_one("#task-title", Input).value == SECRET
        said = str(form.query_one("#task-message", Static).render())
        assert "may not see this health note" in said
        assert form.form is not None
        ids = [None] + [mc.user_id for mc in form.form.members]
        form.query_one("#task-assignee").highlighted = ids.index(nurse)  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is editor)
        await settle(pilot)
        assert editor.note_tasks == (NoteTask(SECRET, None, nurse),)
    assert drafts(demo_backend, "nurse") == [(HEALTH, [SECRET])]




async def test_a_kept_save_refused_after_the_author_left_keeps_its_task(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The note and its task were kept for the server; she switched user; the save was
    then refused: the draft it becomes holds the task with the text."""
    away_then_refused(monkeypatch)
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        app.live.stop()  # the test says when the server is back
        await typed_with_a_task(app, pilot, HEALTH)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1  # kept: the server is away
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in(pilot, "police")
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
    assert drafts(demo_backend, "nurse") == [(HEALTH, [SECRET])]
    assert SECRET not in tasks_of(demo_backend)


async def test_a_task_typed_in_a_huddle_is_checked_again_before_an_own_note_saves_it(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """Typed over the huddle's note (F5), the task is shown only to whoever may see all
    the room saw. Kept as a draft and brought into the chair's own draft when she writes
    alone, it comes back in the task form to be checked: saved with a note of her own
    work it would reach whoever reads the note. Kept with the note until she answers."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor, case_id = await huddle_editor(app, pilot, private=False)
        await pilot.press("f5")
        await type_task(app, pilot)
        await pilot.press("enter")  # the assignee
        await until(pilot, lambda: app.screen is editor)
        await settle(pilot)
        assert [t.in_huddle for t in editor.note_tasks] == [True]
        await pilot.press("escape")
        await choose(app, pilot, "draft")
        assert not isinstance(app.screen, NoteEditorScreen)
        await end_huddle_by(pilot, "ctrl+o")  # the huddle ends, its minutes are said
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen) and app.viewer is None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, "social")  # she writes on the case alone
        alone, form = await task_given_back(app, pilot, case_id)
        assert alone.viewer.purpose == "individual"
        assert [(t.title, t.in_huddle) for t in alone.note_tasks] == [(SECRET, True)]
        assert "typed in a huddle" in str(form.query_one("#task-message", Static).render())
        assert form.query_one("#task-title", Input).value == SECRET
        await pilot.press("ctrl+s")  # checked in her own work: a task of her own now
        await until(pilot, lambda: app.screen is alone)
        await settle(pilot)
        assert [(t.title, t.in_huddle) for t in alone.note_tasks] == [(SECRET, False)]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
    made = tasks_of(demo_backend, case_id)
    assert SECRET in made and made[SECRET].from_note_id is not None


async def test_a_task_given_back_in_a_huddle_keeps_its_huddle_mark(
        make_app: AppFactory) -> None:
    """In the huddle, a task kept with the note is found unsavable (the note's save was
    refused, say) and given back in the task form; answered there, it came back without
    its mark: kept as a draft and folded into the chair's own draft later, it would
    have been saved with her own note unchecked, reaching whoever reads the note."""
    from anchor_tui.screens.note_tasks import TasksRefused
    from anchor_tui.screens.task_form import TaskFormScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        editor, _case_id = await huddle_editor(app, pilot, private=False)
        await pilot.press("f5")
        await type_task(app, pilot)
        await pilot.press("enter")  # the assignee
        await until(pilot, lambda: app.screen is editor)
        await settle(pilot)
        (typed,) = editor.note_tasks
        assert typed.in_huddle
        # Found again twice (the draft's check and a refused save's): one form only.
        editor.post_message(TasksRefused(((typed, "a test's reason"),)))
        editor.post_message(TasksRefused(((typed, "a test's reason"),)))
        form = await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        assert sum(isinstance(s, TaskFormScreen) for s in app.screen_stack) == 1
        await pilot.press("ctrl+s")  # answered in the huddle, as it was
        await until(pilot, lambda: app.screen is editor)
        await settle(pilot)
        assert form is not app.screen
        assert [(t.title, t.in_huddle) for t in editor.note_tasks] == [(SECRET, True)]


async def test_a_takeover_at_the_lock_keeps_the_task_with_the_text(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        await typed_with_a_task(app, pilot, HEALTH)
        await pilot.press("ctrl+g")  # lock at once
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        app.screen.query_one("#username", Input).value = ""
        await sign_in(pilot, "youth")  # another person takes the terminal over
        assert app.viewer is not None and app.viewer.username == "youth"
        await settle(pilot)
    assert drafts(demo_backend, "nurse") == [(HEALTH, [SECRET])]
    assert SECRET not in tasks_of(demo_backend)
