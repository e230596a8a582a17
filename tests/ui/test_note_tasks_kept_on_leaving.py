"""Leaving a note with a task typed over it (F5) never drops the task on Enter.

A task typed in the note editor is kept with the editor and saved with the note. The
leave question's default, "Keep it as a draft", closed the editor when a draft held the
text alone: the text was kept, the task typed over it was gone, without a word. The
draft now keeps the task with the text, so Enter keeps both, and the question says so.
A note whose text is only its template, or a correction not changed yet, left with a
task typed asks too (it closed at once): Enter keeps the task in a draft of its own.
"""

from __future__ import annotations

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import tasks_from_json
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import asked, open_editor, until, user_id
from tests.ui.test_task_sources_keys import HEALTH, SECRET, type_task


async def typed_with_a_task(app: object, pilot: object, text: str) -> NoteEditorScreen:
    editor = await open_editor(app, pilot)  # type: ignore[arg-type]
    if text:
        editor.query_one(NoteTextArea).insert(text)
    await pilot.press("f5")  # type: ignore[attr-defined]
    await type_task(app, pilot)
    await pilot.press("enter")  # type: ignore[attr-defined]  # the assignee
    await until(pilot, lambda: app.screen is editor)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert [t.title for t in editor.note_tasks] == [SECRET]
    return editor


def kept(backend: Backend) -> list[tuple[str, list[str]]]:
    """The nurse's drafts: text, and the titles of the tasks kept with it."""
    with backend.sessions.system("test: drafts") as s:
        rows = s.execute(select(m.Draft.body, m.Draft.tasks).where(
            m.Draft.author_id == user_id(backend, "nurse"))).all()
    return [(body, [t.title for t in tasks_from_json(tasks)]) for body, tasks in rows]


async def test_enter_on_the_leave_question_keeps_a_typed_task(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await typed_with_a_task(app, pilot, HEALTH)
        await pilot.press("escape")
        question = await asked(app, pilot, ChoiceScreen)
        assert isinstance(question, ChoiceScreen)
        assert "kept with the draft" in question.note, "the question does not say so"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not editor and isinstance(app.screen, CaseScreen)
    assert kept(demo_backend) == [(HEALTH, [SECRET])], "the task typed was lost"


async def test_a_task_typed_over_an_unchanged_text_asks_before_leaving(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await typed_with_a_task(app, pilot, "")
        await pilot.press("escape")
        await asked(app, pilot, ChoiceScreen)  # it asks: it closed at once
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is not editor and not isinstance(app.screen, NoteEditorScreen)
    assert kept(demo_backend) == [("", [SECRET])], "the task typed was lost"
