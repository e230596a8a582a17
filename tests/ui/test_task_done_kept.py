"""A task marked done in the case view (``T``) goes through the app's save queue.

It was written by a plain worker: with the server away (the service made to find it
gone once, as ``test_lock_holds_screens.fails_once`` does; the test plays the change
watcher and says when it is back) the mark was an error and gone; and after a commit
whose answer was lost (``answer_lost_once``) nothing made it again. It is kept and saved
when the server is back, made once after a lost answer with no error, and a task
finished by someone else meanwhile is still shown as refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import case_work
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import utcnow
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_case_work import open_case
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import CASE, asked, choose, until, user_id

TITLE = "Ring the school about Monday"


def a_task(backend: Backend) -> int:
    """An open task on the case, the social worker's (made and given by them)."""
    social = user_id(backend, "social")
    with backend.sessions.system("test: a task") as s:
        task = m.Task(case_id=CASE, title=TITLE, assignee_id=social, created_by_id=social)
        s.add(task)
        s.flush()
        return task.id


def task_row(backend: Backend, task_id: int) -> m.Task:
    with backend.sessions.system("test: the task") as s:
        task = s.get(m.Task, task_id)
        assert task is not None
        s.expunge(task)
        return task


def saves_running(app: AnchorApp) -> bool:
    return any(w.group == "save" and not w.is_finished for w in app.workers)


async def mark_done_while_away(app: AnchorApp, pilot: Pilot[Any], task_id: int
                               ) -> CaseScreen:
    """Signed in as the social worker, the change watcher stopped (the test says when
    the server is back): ``T`` marks the task done. The case view is returned."""
    await sign_in(pilot, "social")
    case_view = await open_case(app, pilot)
    app.live.stop()
    await pilot.press("T")
    await asked(app, pilot)
    await choose(app, pilot, str(task_id))
    return case_view


async def test_a_task_marked_done_while_away_is_kept_and_saved(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_work, "complete_task", fails_once(case_work.complete_task))
    task_id = a_task(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case_view = await mark_done_while_away(app, pilot, task_id)
        assert not isinstance(app.screen, ErrorScreen), "the mark was an error, not kept"
        assert len(save_queue(app).waiting) == 1, "the task done was not kept"
        assert task_row(demo_backend, task_id).done_at is None
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        done = task_row(demo_backend, task_id)
        assert done.done_at is not None and done.version == 2
        assert app.screen is case_view


async def test_a_task_done_whose_answer_was_lost_is_done_once_without_an_error(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not: kept and made again, it
    is found done by this person, not refused as "already done" nor written twice."""
    calls: list[int] = []
    monkeypatch.setattr(case_work, "complete_task",
                        answer_lost_once(case_work.complete_task, calls))
    task_id = a_task(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case_view = await mark_done_while_away(app, pilot, task_id)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, "the mark whose answer was lost was not kept"
        first = task_row(demo_backend, task_id)
        assert first.done_at is not None and first.version == 2  # written, answer lost
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert calls == [1], "made again though the first attempt had written it"
        assert not isinstance(app.screen, ErrorScreen), "refused though it was done"
        assert app.screen is case_view
        assert save_queue(app).waiting == ()
        after = task_row(demo_backend, task_id)
        assert after.version == 2 and after.done_at == first.done_at  # written once


async def test_a_task_finished_by_someone_else_meanwhile_is_still_refused(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept while away, the task was finished on another terminal before the server was
    back: the person is shown why theirs was not written, naming the task."""
    monkeypatch.setattr(case_work, "complete_task", fails_once(case_work.complete_task))
    task_id = a_task(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await mark_done_while_away(app, pilot, task_id)
        assert len(save_queue(app).waiting) == 1, "the task done was not kept"
        elsewhere = utcnow()
        with demo_backend.sessions.system("test: done on another terminal") as s:
            task = s.get(m.Task, task_id)
            assert task is not None
            task.done_at = elsewhere
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        error = app.screen
        assert isinstance(error, ErrorScreen)
        assert "someone else" in error.error_message and TITLE in error.error_fix
        assert save_queue(app).waiting == ()
        after = task_row(demo_backend, task_id)
        assert after.version == 2 and after.done_at == elsewhere
