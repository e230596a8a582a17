"""A task added in the case view (``t``) goes through the app's save queue.

It was written by a worker of the form's own: with the server away (the service made to
find it gone once, as ``test_lock_holds_screens.fails_once`` does; the test plays the
change watcher and says when it is back) the task was an error and, the form closed,
gone; after a commit whose answer was lost (``answer_lost_once``) nothing made it again.
The form now closes with the task kept (and said so), the task is added when the server
is back, added once after a lost answer, and a task refused when it came back gives the
form back with what was typed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import task_form
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_case_work import open_case
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import CASE, asked, until, user_id
from tests.ui.test_task_done_kept import saves_running

TITLE = "Ring the youth centre about Friday"
FRIDAY = dt.date(2026, 11, 20)  # "fri" on the demo's fixed day (2026-11-16)


def tasks_titled(backend: Backend) -> list[m.Task]:
    with backend.sessions.system("test: tasks") as s:
        rows = list(s.scalars(select(m.Task).where(m.Task.case_id == CASE,
                                                   m.Task.title == TITLE)))
        for row in rows:
            s.expunge(row)
        return rows


def notified(app: AnchorApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def add_while_away(app: AnchorApp, pilot: Pilot[Any], backend: Backend,
                         assignee: str = "social") -> CaseScreen:
    """Signed in as the social worker, the change watcher stopped (the test says when
    the server is back): ``t``, a title, "fri", given to ``assignee``, saved."""
    await sign_in(pilot, "social")
    case_view = await open_case(app, pilot)
    app.live.stop()
    await pilot.press("t")
    form = await asked(app, pilot, TaskFormScreen)
    assert isinstance(form, TaskFormScreen)
    await settle(pilot)
    await pilot.press(*TITLE, "enter", *"fri", "enter")
    assert form.form is not None
    ids = [None] + [mc.user_id for mc in form.form.members]
    form.query_one("#task-assignee", OptionList).highlighted = ids.index(
        user_id(backend, assignee))
    await pilot.press("enter")
    await until(pilot, lambda: not form.is_attached)
    await settle(pilot)
    return case_view


async def test_a_task_added_while_away_is_kept_and_added_when_back(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_form, "add_task", fails_once(task_form.add_task))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        case_view = await add_while_away(app, pilot, demo_backend)
        assert not isinstance(app.screen, ErrorScreen), "the task was an error, not kept"
        assert app.screen is case_view  # the form closed, the task kept
        assert len(save_queue(app).waiting) == 1, "the task was not kept"
        assert "The task is kept" in notified(app)
        assert tasks_titled(demo_backend) == []
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert save_queue(app).waiting == ()
        [task] = tasks_titled(demo_backend)
        assert (task.due, task.assignee_id) == (FRIDAY, user_id(demo_backend, "social"))
        assert "Task added, due 2026-11-20." in notified(app)
        assert app.screen is case_view
        await pilot.press("3")  # the case view read the case again: the task is there
        assert TITLE in str(case_view.query_one("#tasks-text", Static).render())


async def test_a_task_whose_answer_was_lost_is_added_once_without_an_error(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not: kept and made again, it
    finds the task it wrote, not a second one."""
    calls: list[int] = []
    monkeypatch.setattr(task_form, "add_task", answer_lost_once(task_form.add_task, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case_view = await add_while_away(app, pilot, demo_backend)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, "the task whose answer was lost was not kept"
        assert len(tasks_titled(demo_backend)) == 1  # written, its answer lost
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert calls == [1], "added again though the first attempt had written it"
        assert not isinstance(app.screen, ErrorScreen)
        assert app.screen is case_view
        assert len(tasks_titled(demo_backend)) == 1, "the task was added twice"


async def test_a_kept_task_refused_when_back_gives_the_form_back_with_what_was_typed(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given to the nurse while the server was away; she left the case before it was
    back. The task is refused (she does not work the case): the form comes back with
    the title, the due day and whom it was for, and why; nothing is written."""
    monkeypatch.setattr(task_form, "add_task", fails_once(task_form.add_task))
    app = make_app()
    nurse = user_id(demo_backend, "nurse")
    async with app.run_test(size=(120, 40)) as pilot:
        await add_while_away(app, pilot, demo_backend, assignee="nurse")
        assert len(save_queue(app).waiting) == 1, "the task was not kept"
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: isinstance(app.screen, TaskFormScreen))
        form = app.screen
        assert isinstance(form, TaskFormScreen)
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert form.query_one("#task-title", Input).value == TITLE
        assert form.query_one("#task-due", Input).value == FRIDAY.isoformat()
        assert form.again is not None and form.again.assignee_id == nurse
        said = str(form.query_one("#task-message", Static).render())
        assert "Not saved" in said and "works the case" in said
        assert form.filled_in()  # Esc and quitting ask before the words go
        assert tasks_titled(demo_backend) == []
