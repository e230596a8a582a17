"""A huddle ends for everyone in the room, so nothing ends it without a question.

Switching user (ctrl+o, "app: sign out"), quitting (ctrl+q) and someone not present
signing in at the huddle's lock each ended a running huddle at once, its minutes written
and everyone's screen gone. Now each asks first, staying the default (Enter and Esc keep
the huddle). The board opened from the huddle (`b`) had no way back: Esc returns to the
agenda. And the huddle locks after the team's ``huddle_idle_lock_seconds`` (the room
watches the screen and types little), not after the personal terminal's 120 s.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from textual.widgets import Input

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.huddle_modals import NoticeScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import ManualClock
from anchor_tui.settings import DEMO_PASSPHRASE
from tests.ui.asking import choose
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text
from tests.ui.test_huddle import huddle_of, join


def huddle_ended(backend: Backend) -> bool:
    with backend.sessions.system("test") as s:
        huddle = s.scalars(select(m.Huddle)).one()
        return huddle.ended_at is not None


def sign_ins(backend: Backend) -> list[int | None]:
    with backend.sessions.system("test") as s:
        return list(s.scalars(select(m.AuditEvent.actor_id)
                              .where(m.AuditEvent.action == "sign_in")))


async def asked(pilot: Any) -> ChoiceScreen:
    await settle(pilot)
    question = pilot.app.screen
    assert isinstance(question, ChoiceScreen), f"no question; on top: {question!r}"
    assert question.current == "stay"
    return question


async def end_huddle_by(pilot: Any, key: str) -> None:
    """Press ``key`` (ctrl+o, ctrl+q) in a huddle and choose to end it when asked."""
    await pilot.press(key)
    await asked(pilot)
    await choose(pilot, "end")


async def test_switch_user_in_a_huddle_asks_and_staying_keeps_it(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        screen = app.screen
        assert isinstance(screen, HuddleScreen)
        await pilot.press("ctrl+o")
        question = await asked(pilot)
        assert "everyone" in question.note
        await pilot.press("ctrl+o")  # pressed again: the same one question
        await settle(pilot)
        assert app.screen is question and len(app.screen_stack) == 2
        await pilot.press("enter")  # staying is the default
        await settle(pilot)
        assert app.screen is screen and app.session.roster is not None
        await pilot.press("ctrl+o")
        await asked(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and not huddle_ended(app.backend)
        await pilot.press("ctrl+o")
        await asked(pilot)
        await choose(pilot, "end")
        await settle(pilot)
        assert isinstance(app.screen_stack[0], SignInScreen) and app.viewer is None
        assert isinstance(app.screen, NoticeScreen)  # where the minutes were written
        assert huddle_ended(app.backend)


async def test_quitting_in_a_huddle_asks_and_staying_keeps_it(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await huddle_of(pilot, "lead")
        await pilot.press("ctrl+q")
        await asked(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.is_running and app.screen is screen
        assert not huddle_ended(app.backend)
        await pilot.press("ctrl+q")
        await asked(pilot)
        await choose(pilot, "end")
        await settle(pilot)
    assert app.return_code == 0 and huddle_ended(app.backend)


async def test_quitting_at_a_huddles_lock_asks_too(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "social")
        await pilot.press("ctrl+g")
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        await pilot.press("ctrl+q")
        await asked(pilot)  # over the lock, naming nobody and no case
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is lock and app.is_running and not huddle_ended(app.backend)


async def test_someone_not_present_at_the_huddles_lock_is_asked_before_it_ends(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("ctrl+g")
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        before = sign_ins(app.backend)
        await sign_in(pilot, "youth")
        question = await asked(pilot)
        assert "not present" in question.note
        await pilot.press("enter")  # leave it locked
        await settle(pilot)
        assert app.screen is lock and app.session.roster is not None
        assert not huddle_ended(app.backend)
        assert sign_ins(app.backend) == before  # nothing checked, nothing recorded
        assert lock.query_one("#passphrase", Input).value == ""
        assert "The huddle goes on" in screen_text(app)
        await sign_in(pilot, "youth")
        await asked(pilot)
        await choose(pilot, "end")
        await settle(pilot)
        assert isinstance(app.screen_stack[0], BoardScreen)
        assert app.viewer is not None and app.viewer.username == "youth"
        assert huddle_ended(app.backend)


async def test_someone_present_unlocks_the_huddle_without_a_question(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        await sign_in(pilot, "nurse")
        assert isinstance(app.screen, HuddleScreen) and not app.session.locked


async def test_the_board_opened_from_the_huddle_goes_back_with_esc(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        await pilot.press("b")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen) and board.viewer.purpose == "huddle"
        await pilot.pause()
        assert "Esc goes back" in screen_text(app)  # said as it opens
        await pilot.press("slash", *"zz")
        await settle(pilot)
        await pilot.press("escape")  # first the filter goes
        await settle(pilot)
        assert app.screen is board
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_a_board_alone_is_not_closed_by_esc(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        board = app.screen
        assert isinstance(board, BoardScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board and "Esc goes back" not in screen_text(app)


def clock_of(app: AnchorApp) -> ManualClock:
    assert isinstance(app.clock, ManualClock)
    return app.clock


async def test_a_huddle_locks_after_its_own_longer_idle_time(make_app: AppFactory) -> None:
    app = make_app()
    team = app.settings.team
    assert team.huddle_idle_lock_seconds > team.idle_lock_seconds
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await huddle_of(pilot, "social")
        clock_of(app).advance(team.idle_lock_seconds + 1)
        await app.lock_if_idle()
        await settle(pilot)
        assert app.screen is screen and not app.session.locked  # the room is talking
        clock_of(app).advance(team.huddle_idle_lock_seconds - team.idle_lock_seconds)
        await app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        await sign_in(pilot, "social")
        assert app.screen is screen
        await pilot.press("ctrl+o")
        await asked(pilot)
        await choose(pilot, "end")
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen)
        await pilot.press("escape")  # the minutes' notice
        await sign_in(pilot, "social", DEMO_PASSPHRASE)
        board = app.screen
        assert isinstance(board, BoardScreen)
        clock_of(app).advance(team.idle_lock_seconds)  # alone again: the personal time
        await app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
