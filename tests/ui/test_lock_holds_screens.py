"""The lock holds the locked person's screens behind it, even those their own work opens.

While the terminal is locked, the person's screens stay mounted (out of view) and keep
handling the results of what they started: a slow note history, the question a case
edit asks, a task form whose save returns. Whatever such a result opens goes onto the
person's own screen stack, behind the lock, and is there when they unlock; whatever it
closes is closed there. Nothing of it is drawn over the lock screen, and no key pressed
at the lock answers it.

Each test holds one database read (or write) of the locked person's in a gate, locks the
terminal, then lets the read finish.

Last, saves kept while the server was away and made when it is back: what they say is
told to the person who made them, never to whoever is signed in by then.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.domain import CaseCard
from anchor_tui.errors import ConnectionLostError
from anchor_tui.messages import CasesChanged, ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import board_moves, case_work, task_form
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.note_history import NoteHistoryScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.screens.terminal_messages import UnlockChecked
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import case_ref, move_stage
from anchor_tui.services.case_view import NoteEntry
from anchor_tui.services.session_state import Unlocked
from anchor_tui.widgets.stage_column import StageColumn
from tests.ui.asking import confirm
from tests.ui.conftest import (
    DEMO_PASSPHRASE,
    AppFactory,
    board_for,
    focused_card,
    settle,
    sign_in,
)
from tests.ui.screen_reading import screen_text
from tests.ui.test_note_editor import CASE, asked, choose, until

GATE_SECONDS = 20.0


class Gate:
    """Holds every call of a service function until opened (a slow database)."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()

    def hold(self, real: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            if not self.opened.wait(GATE_SECONDS):
                raise TimeoutError("the test never opened the gate")
            return real(*args, **kwargs)

        return held


@pytest.fixture
def gate() -> Iterator[Gate]:
    held = Gate()
    yield held
    held.opened.set()  # a failed test leaves no thread waiting


async def workers_done(app: AnchorApp, pilot: Any, *, asking: str | None = None) -> None:
    """Wait for every worker but the one waiting for an answer (group ``asking``); a
    worker cancelled meanwhile (its screen closed) counts as done, as in ``settle``."""
    for _ in range(4):
        for worker in [w for w in app.workers if w.group != asking and not w.is_finished]:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause()


async def lock_now(app: AnchorApp, pilot: Any) -> LockScreen:
    await pilot.press("ctrl+g")
    await until(pilot, lambda: isinstance(app.screen, LockScreen))
    lock = app.screen
    assert isinstance(lock, LockScreen)
    return lock


async def unlock(app: AnchorApp, pilot: Any, username: str) -> None:
    """The person unlocks; not ``sign_in``, whose wait for every worker would wait for
    the question behind the lock to be answered."""
    lock = app.screen
    assert isinstance(lock, LockScreen)
    lock.query_one("#username", Input).value = username
    lock.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
    lock.query_one("#passphrase", Input).focus()
    await pilot.pause()
    await pilot.press("enter")
    await until(pilot, lambda: not isinstance(app.screen, LockScreen))


async def open_case(app: AnchorApp, pilot: Any) -> CaseScreen:
    screen = CaseScreen(CASE)
    await app.push_screen(screen)
    await settle(pilot)
    return screen


async def ask_note_history(app: AnchorApp, pilot: Any, entered: threading.Event
                           ) -> NoteEntry:
    """Sign the social worker in, open the case and ask for its first note's history;
    returns once the (wrapped) read has begun. The note asked for."""
    await sign_in(pilot, "social")
    case = await open_case(app, pilot)
    assert case.record is not None and case.record.notes.notes
    note = case.record.notes.notes[0]
    await pilot.press("h")
    await choose(app, pilot, str(note.note_id), then_settle=False)
    await until(pilot, entered.is_set)
    return note


def stage_of(backend: Backend, case_id: int = CASE) -> str:
    with backend.sessions.system("test: stage") as s:
        stage = s.scalar(select(m.Case.stage).where(m.Case.id == case_id))
    assert stage is not None
    return stage


async def test_a_note_history_read_while_locked_opens_behind_the_lock(
        make_app: AppFactory, gate: Gate, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_work, "note_history", gate.hold(case_work.note_history))
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        note = await ask_note_history(app, pilot, gate.entered)
        case = app.screen_stack[-1]
        lock = await lock_now(app, pilot)
        gate.opened.set()
        await workers_done(app, pilot)
        assert app.screen is lock and app.screen_stack == [lock]
        shown = screen_text(app)
        assert "History" not in shown and note.body.splitlines()[0] not in shown
        await sign_in(pilot, "social")  # the same person unlocks: it is there
        history = app.screen
        assert isinstance(history, NoteHistoryScreen)
        assert note.note_id in [e.note_id for e in history.entries]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is case)


async def test_a_case_edits_question_asked_while_locked_is_not_answered_at_the_lock(
        make_app: AppFactory, demo_backend: Backend, gate: Gate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_work, "case_state", gate.hold(case_work.case_state))
    before = stage_of(demo_backend)
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        case = await open_case(app, pilot)
        await pilot.press("s")
        await until(pilot, gate.entered.is_set)
        lock = await lock_now(app, pilot)
        gate.opened.set()
        await workers_done(app, pilot, asking="case-work-ask")
        assert app.screen is lock and app.screen_stack == [lock]
        assert "which stage" not in screen_text(app)
        await pilot.press("down", "enter")  # keys at the lock answer nothing behind it
        await workers_done(app, pilot, asking="case-work-ask")
        assert stage_of(demo_backend) == before
        assert app.screen is lock
        await unlock(app, pilot, "social")
        question = app.screen
        assert isinstance(question, ChoiceScreen) and "which stage" in question.title_text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is case)
        await workers_done(app, pilot)
    assert stage_of(demo_backend) == before


async def test_a_form_saved_while_locked_closes_behind_the_lock(
        make_app: AppFactory, demo_backend: Backend, gate: Gate,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_form, "add_task", gate.hold(task_form.add_task))
    app = make_app()
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await sign_in(pilot, "social")
        case = await open_case(app, pilot)
        await pilot.press("t")
        form = await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        await pilot.press(*"Ring the school", "ctrl+s")
        await until(pilot, gate.entered.is_set)
        lock = await lock_now(app, pilot)
        gate.opened.set()
        await workers_done(app, pilot)
        assert app.is_running  # no screen of the lock's was closed in the form's place
        assert app.screen is lock and app.screen_stack == [lock]
        with demo_backend.sessions.system("test: tasks") as s:
            titles = set(s.scalars(select(m.Task.title).where(m.Task.case_id == CASE)))
        assert "Ring the school" in titles
        await unlock(app, pilot, "social")
        await settle(pilot)
        assert app.screen is case and not form.is_attached
        shown = screen_text(app)
        assert "Task added" in shown  # the form's notice was held, and is shown now


async def test_a_change_made_while_locked_is_on_the_board_when_unlocked(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        board = await board_for(app, pilot, "social")
        viewer = app.viewer
        assert viewer is not None
        before = stage_of(demo_backend)
        after = next(s.id for s in demo_backend.team.stages if s.id != before and not s.closed)
        totals = {c.column.stage: c.column.total for c in board.query(StageColumn)}
        await lock_now(app, pilot)
        ref = case_ref(demo_backend, viewer, CASE)  # another terminal moves a case
        move_stage(demo_backend, viewer, CASE, ref.version, after)
        app.post_message(CasesChanged((CASE,)))  # what the change watcher then posts
        await settle(pilot)
        await unlock(app, pilot, "social")
        assert app.screen is board
        now = {c.column.stage: c.column.total for c in board.query(StageColumn)}
    assert now == {**totals, before: totals[before] - 1, after: totals[after] + 1}


# --- saves kept while the server was away, made after the person has gone -------------------


def fails_once(real: Callable[..., Any]) -> Callable[..., Any]:
    """The first call finds the server gone (nothing written); later calls go through."""
    calls: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return real(*args, **kwargs)

    return flaky


def answer_lost_once(real: Callable[..., Any], calls: list[int]) -> Callable[..., Any]:
    """The first call is written but its answer is lost (the connection cut as it
    committed); later calls go through. Each call is counted in ``calls``."""
    def cut(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        result = real(*args, **kwargs)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return result

    return cut


async def keep_a_move(app: AnchorApp, pilot: Any) -> CaseCard:
    """The social worker moves the focused card on (`>`, confirmed) while the server is
    away (``board_moves.move_stage`` made to fail once): the move is kept. The test plays
    the change watcher from then on: it says when the server is back. The card moved."""
    board = await board_for(app, pilot, "social")
    app.live.stop()
    card = focused_card(board)
    await pilot.press("greater_than_sign")
    await confirm(pilot, yes=True)
    await settle(pilot)
    assert save_queue(app).waiting  # kept: the server is away
    return card


async def test_a_kept_save_made_after_a_switch_of_user_tells_the_next_person_nothing(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        card = await keep_a_move(app, pilot)
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("n")
        editor = await asked(app, pilot, NoteEditorScreen)
        await settle(pilot)
        await pilot.press(*"Met at the youth centre.", "ctrl+s")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 2  # after the move that waits: kept too
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in(pilot, "police")
        assert not editor.is_attached
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert stage_of(demo_backend, card.case_id) != card.stage  # both were saved
        with demo_backend.sessions.system("test: notes") as s:
            assert s.scalar(select(m.Note.id).where(
                m.Note.body == "Met at the youth centre.")) is not None
        said = [n.message for n in app._notifications]
        assert not any("Moved" in text or "note on case" in text for text in said), said


async def test_a_kept_save_made_for_the_same_person_is_told_to_them(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        card = await keep_a_move(app, pilot)
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        said = [n.message for n in app._notifications]
        assert f"Moved {card.person_label} to Screening." in said


async def test_an_unlock_checked_against_a_session_that_changed_meanwhile_is_asked_again(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """The lock screen checks the passphrase against who was present when it was typed;
    should that have changed by the time the check returns (a roster change finishing
    behind the lock), the app asks again rather than unlock for someone not present."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        lock = await lock_now(app, pilot)
        with demo_backend.sessions.system("test: a user") as s:
            police = viewer_for(s.scalars(select(m.User).where(m.User.username == "police"))
                                .one())
        assert not app.session.may_unlock(police.user_id)
        lock.query_one("#passphrase", Input).value = "typed"
        app.post_message(UnlockChecked(Unlocked(police, same=True)))  # a stale check's
        await pilot.pause()
        await pilot.pause()
        assert app.screen is lock and app.session.locked
        assert app.viewer is not None and app.viewer.username == "social"
        assert "Type it again" in screen_text(app)
        assert lock.query_one("#passphrase", Input).value == ""
        await unlock(app, pilot, "social")  # the person of the session still unlocks
        assert isinstance(app.screen, CaseScreen | BoardScreen)
