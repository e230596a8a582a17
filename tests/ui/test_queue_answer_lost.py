"""A queue change whose commit reached the server while its answer was lost is made once.

To the terminal a cut answer looks like a lost connection: the change is kept and made
again when the server is back. Here each action's save really writes and then fails as
a cut connection would (``answer_lost_once``); the test says when the server is back.
Made again, the change is found as the first attempt wrote it: a snooze, a take, a
lead, a task given or a screening is in the database once, said saved, and never shown
as refused (a conflict with oneself, "You already work this case").
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from textual.pilot import Pilot

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import ErrorScreen, queue_actions
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.screens.queue import QueueScreen
from anchor_tui.services.backend import Backend
from tests.ui.asking import choose, give_reason, settle_asking
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_lock_holds_screens import answer_lost_once
from tests.ui.test_queue import go_to, highlighted, members_of, open_queue, works


def cut_once(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    """``queue_actions.<name>`` writes, and its first answer is lost: the calls made."""
    calls: list[int] = []
    monkeypatch.setattr(queue_actions, name,
                        answer_lost_once(getattr(queue_actions, name), calls))
    return calls


async def kept_then_back(app: AnchorApp, pilot: Pilot[None], screen: QueueScreen) -> None:
    """The change was written, but kept as if not; the server comes back, it is made
    again, and the queue is where the person left it, with no error."""
    await settle(pilot)
    assert not isinstance(app.screen, ErrorScreen)
    assert len(save_queue(app).waiting) == 1, "the change was not kept"
    app.post_message(ConnectionRestored())
    await settle(pilot)
    assert save_queue(app).waiting == ()
    shown = app.screen
    assert not isinstance(shown, ErrorScreen), (
        f"the change made again was refused: {shown.error_message}")
    assert shown is screen and screen.changed
    assert any("kept while the database was away, is saved" in n.message
               for n in app._notifications)


def events(backend: Backend, case_id: int, kind: str) -> list[tuple[int | None, str | None]]:
    with backend.sessions.system("test: the case's history") as s:
        return [(actor, to) for actor, to in s.execute(
            select(m.CaseEvent.actor_id, m.CaseEvent.to_value).where(
                m.CaseEvent.case_id == case_id, m.CaseEvent.kind == kind))]


def count(backend: Backend, entity: Any, *conditions: Any) -> int:
    with backend.sessions.system("test: count") as s:
        return s.scalar(select(func.count()).select_from(entity).where(*conditions)) or 0


async def test_a_snooze_whose_answer_was_lost_is_written_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = cut_once(monkeypatch, "snooze_case")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()  # the test says when the server is back
        await go_to(pilot, screen, "reviews_due", 1)
        item = highlighted(screen)
        await pilot.press("z")
        await choose(pilot, "3")
        await give_reason(pilot, "Waiting for the school's reply")
        await kept_then_back(app, pilot, screen)
        assert any("is snoozed until" in n.message for n in app._notifications)
    assert count(demo_backend, m.CaseSnooze, m.CaseSnooze.case_id == item.case_id,
                 m.CaseSnooze.user_id == screen.viewer.user_id) == 1, (
        "the snooze was written twice")
    assert len(calls) == 1  # found, not written again


@pytest.mark.parametrize("how", ["member", "lead"])
async def test_a_take_whose_answer_was_lost_is_recorded_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    """Made again, a take used to be refused: "You already work this case", or (as
    lead) a change by someone else, though it was saved."""
    calls = cut_once(monkeypatch, "take_case")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "youth")
        app.live.stop()
        viewer = screen.viewer
        await go_to(pilot, screen, "to_screen")
        index = next(i for i, item in enumerate(screen.section.items)
                     if not works(demo_backend, item.case_id, viewer.user_id))
        await pilot.press(*["j"] * index)
        item = highlighted(screen)
        await pilot.press("t")
        await choose(pilot, how)
        await kept_then_back(app, pilot, screen)
        said = "You now lead" if how == "lead" else "You now work"
        assert any(said in n.message for n in app._notifications)
    me = (viewer.user_id, str(viewer.user_id))
    assert events(demo_backend, item.case_id, "member_added").count(me) == 1
    assert events(demo_backend, item.case_id, "lead").count(me) == (1 if how == "lead" else 0)
    assert count(demo_backend, m.CaseMember, m.CaseMember.case_id == item.case_id,
                 m.CaseMember.user_id == viewer.user_id) == 1
    assert len(calls) == 1


async def test_a_screening_whose_answer_was_lost_is_recorded_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Made again, the decision used to be refused as someone else's change (the case
    had moved on), its reason handed back to be given again."""
    calls = cut_once(monkeypatch, "mark_screened")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()
        await go_to(pilot, screen, "to_screen")
        item = highlighted(screen)
        await pilot.press("s")
        await choose(pilot, "take")
        await give_reason(pilot, "Needs joint work")
        await kept_then_back(app, pilot, screen)
        assert item.case_id not in [i.case_id for i in screen.section.items]
    assert events(demo_backend, item.case_id, "screened") == [
        (screen.viewer.user_id, "take")]
    assert count(demo_backend, m.CaseEventReason,
                 m.CaseEventReason.case_id == item.case_id,
                 m.CaseEventReason.text == "Needs joint work") == 2  # decision and move
    assert len(calls) == 1


async def test_a_new_lead_whose_answer_was_lost_is_recorded_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = cut_once(monkeypatch, "assign_lead")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()
        await go_to(pilot, screen, "reviews_due")
        index = next(i for i, item in enumerate(screen.section.items)
                     if len(set(members_of(demo_backend, item.case_id))) > 1)
        await pilot.press(*["j"] * index)
        item = highlighted(screen)
        await pilot.press("a")
        await settle_asking(pilot)
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        with demo_backend.sessions.system("test: the lead") as s:
            case = s.get(m.Case, item.case_id)
            assert case is not None
            lead_before = case.lead_user_id
        other = next(value for value, _ in choice.choices if int(value) != lead_before)
        await choose(pilot, other)
        await kept_then_back(app, pilot, screen)
    assert events(demo_backend, item.case_id, "lead").count(
        (screen.viewer.user_id, other)) == 1
    assert len(calls) == 1


async def test_a_task_given_whose_answer_was_lost_is_not_refused(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Giving a task writes no history, so nothing could be written twice; made again,
    it used to be refused as a change by someone else (its version had moved on)."""
    calls = cut_once(monkeypatch, "assign_task")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()
        await go_to(pilot, screen, "my_tasks")
        viewer = screen.viewer
        index = next(i for i, item in enumerate(screen.section.items)
                     if any(u != viewer.user_id for u in members_of(demo_backend, item.case_id)))
        await pilot.press(*["j"] * index)
        item = highlighted(screen)
        await pilot.press("a")
        await choose(pilot, "task")
        choice = app.screen
        assert isinstance(choice, ChoiceScreen)
        other = next(v for v, _ in choice.choices if int(v) != viewer.user_id)
        await choose(pilot, other)
        await kept_then_back(app, pilot, screen)
        assert any("The task is now" in n.message for n in app._notifications)
    with demo_backend.sessions.system("test: the task") as s:
        task = s.get(m.Task, item.task_id)
        assert task is not None
        assert (task.assignee_id, task.version) == (int(other), (item.task_version or 0) + 1)
    assert len(calls) == 1
