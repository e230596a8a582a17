"""Quitting with a huddle on ends it through the save queue, or says it could not.

Quitting (ctrl+q, "end the huddle for everyone") ended the huddle outside the app's
save queue, in a thread waited for a few seconds, and quit whatever came of it: with
the database away the huddle stayed on with no minutes and nobody was told, and a
decision kept while the database was away was never made before the end (its words
were lost). Now the end goes through the queue, after everything asked for before it,
with the sign-out; not made in time, the person is told that the huddle stays on and
how it will end, and may keep anchor-tui open (the end is made when the database is
back) or quit anyway (the app ends it later as a huddle left on).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select

from anchor_tui import terminal_huddle
from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import SignInScreen
from anchor_tui.screens.huddle_modals import NoticeScreen
from anchor_tui.screens.quit_huddle import QuitWithHuddleOn
from anchor_tui.screens.quit_kept import QuitWithKeptSaves
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services import huddle_left_on as left_on_service
from anchor_tui.services import minutes as minutes_service
from anchor_tui.services.backend import Backend
from anchor_tui.services.huddle_left_on import end_left_on
from anchor_tui.services.minutes import LEFT_ON
from tests.ui.asking import choose
from tests.ui.conftest import AppFactory, settle
from tests.ui.screen_reading import screen_text
from tests.ui.test_huddle_end_answer_lost import sign_outs
from tests.ui.test_huddle_ending_asks_first import asked as asked_to_end
from tests.ui.test_kept_huddle import huddle_away, items_on
from tests.ui.test_kept_order import decide
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import asked, until

WORDS = "Ask the school for a meeting"


def the_huddle(backend: Backend) -> tuple[dt.datetime | None, str | None]:
    with backend.sessions.system("test: the huddle") as s:
        huddle = s.scalars(select(m.Huddle)).one()
        return huddle.ended_at, huddle.minutes


async def quit_ending_the_huddle(app: AnchorApp, pilot: Any) -> QuitWithHuddleOn:
    """ctrl+q, "end the huddle for everyone and quit"; the end is not made: asked."""
    await pilot.press("ctrl+q")
    await asked_to_end(pilot)
    await choose(pilot, "end")
    question = await asked(app, pilot, QuitWithHuddleOn)
    assert isinstance(question, QuitWithHuddleOn)
    return question


async def test_quitting_with_the_database_away_says_the_huddle_stays_on_and_may_wait(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minutes_service, "end_huddle", fails_once(minutes_service.end_huddle))
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        question = await quit_ending_the_huddle(app, pilot)
        shown = screen_text(app)
        assert "The huddle is still on" in shown
        assert "minutes are not stored yet" in shown and "4 hours" in shown
        assert question.current == "wait"
        assert app.is_running and the_huddle(demo_backend) == (None, None)
        await pilot.press("enter")  # the default: keep anchor-tui open
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, SignInScreen)
        assert app.viewer is None, "the huddle's screens stayed"

        app.post_message(ConnectionRestored())  # the server is back: the end is made
        await until(pilot, lambda: save_queue(app).waiting == ())
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen))
        ended_at, minutes = the_huddle(demo_backend)
        assert ended_at is not None and minutes is not None and LEFT_ON not in minutes
        await settle(pilot)
    assert sign_outs(demo_backend, "social") == before + 1, "the sign-out, once, with the end"


async def test_quitting_anyway_leaves_it_to_be_ended_as_left_on(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minutes_service, "end_huddle", fails_once(minutes_service.end_huddle))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        await quit_ending_the_huddle(app, pilot)
        await pilot.press("escape")  # Esc stays too
        await settle(pilot)
        assert app.is_running
        await pilot.press("ctrl+q")  # the end still waits for the database: asked so
        await asked(app, pilot, QuitWithKeptSaves)
        await choose(pilot, "quit")
    assert not app.is_running and app.return_code == 0
    assert the_huddle(demo_backend) == (None, None)  # on, as the person was told
    later = app.clock.now() + dt.timedelta(minutes=app.settings.team.huddle_left_on_minutes)
    assert app.settings.minutes_dir is not None
    (_ended,) = end_left_on(demo_backend, later, app.settings.team.huddle_left_on_minutes,
                           app.settings.minutes_dir)
    ended_at, minutes = the_huddle(demo_backend)
    assert ended_at is not None and ended_at < later and minutes is not None
    assert LEFT_ON in minutes


async def test_a_huddle_quit_anyway_is_ended_when_anchor_tui_next_starts_here(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal that quit anyway knows its huddle has gone: its next start ends it,
    at its last activity, with its minutes, and says so at the sign-in (the huddle's
    number and its minutes' file: nobody's name, nothing said in it)."""
    monkeypatch.setattr(minutes_service, "end_huddle", fails_once(minutes_service.end_huddle))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        question = await quit_ending_the_huddle(app, pilot)
        assert "Quit anyway: the huddle is ended when anchor-tui next" in screen_text(app)
        assert question.current == "wait"
        await choose(pilot, "quit")
    assert not app.is_running and the_huddle(demo_backend) == (None, None)
    with demo_backend.sessions.system("test: the huddle's start") as s:
        huddle = s.scalars(select(m.Huddle)).one()
        huddle_id, last = huddle.id, left_on_service.last_activity(s, huddle.id)

    again = make_app()
    async with again.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, SignInScreen)
        said = [n.message for n in again._notifications]
    ended_at, minutes = the_huddle(demo_backend)
    assert ended_at is not None and last is not None
    assert ended_at.replace(tzinfo=dt.UTC) == last, "not ended at its last activity"
    assert minutes is not None and LEFT_ON in minutes
    assert app.settings.minutes_dir is not None
    (path,) = app.settings.minutes_dir.iterdir()
    assert said == [f"Huddle {huddle_id}, left on when anchor-tui last stopped on this "
                    f"terminal, is ended now, at its last activity. Its minutes: {path}"]
    assert list((app.settings.log_dir / "huddles").iterdir()) == [], "its mark stayed"


async def test_a_quit_at_once_is_told_too(make_app: AppFactory, demo_backend: Backend,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minutes_service, "end_huddle", fails_once(minutes_service.end_huddle))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        await quit_ending_the_huddle(app, pilot)
        await choose(pilot, "quit")
    assert not app.is_running and app.return_code == 0
    assert the_huddle(demo_backend) == (None, None)


async def test_a_decision_kept_before_the_quit_is_made_before_the_end(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huddle_service, "add_decision", fails_once(huddle_service.add_decision))
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40)) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        await decide(pilot, WORDS)
        await settle(pilot)
        assert save_queue(app).waiting != (), "the decision was not kept"
        await pilot.press("ctrl+q")
        await asked(app, pilot, QuitWithKeptSaves)
        await choose(pilot, "quit")  # (lose them, it says: the huddle is asked next)
        await asked_to_end(pilot)
        await choose(pilot, "end")
        await asked(app, pilot, QuitWithHuddleOn)
        assert the_huddle(demo_backend) == (None, None), "ended before the kept decision"
        await pilot.press("enter")
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == ())
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen))
        await settle(pilot)
    assert items_on(demo_backend, case_id) == [("decision", WORDS)]
    ended_at, minutes = the_huddle(demo_backend)
    assert ended_at is not None and minutes is not None and WORDS in minutes
    assert sign_outs(demo_backend, "social") == before + 1


async def test_an_end_still_on_its_way_is_waited_for_a_moment_only(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy database (the end on its way, not answered): quitting asks after
    ``QUIT_WAIT_SECONDS``, never waits for ever; an end made later shows its notice."""
    entered, release = threading.Event(), threading.Event()
    real = minutes_service.end_huddle

    def busy(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(10), "the test never released the end"
        return real(*args, **kwargs)

    monkeypatch.setattr(minutes_service, "end_huddle", busy)
    monkeypatch.setattr(terminal_huddle, "QUIT_WAIT_SECONDS", 0.2, raising=False)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        await pilot.press("ctrl+q")
        await asked_to_end(pilot)
        await pilot.press("home", "j", "enter")  # end it (not ``choose``: the end is busy)
        for _ in range(5000):  # (QUIT_WAIT_SECONDS of the loop's own time)
            if isinstance(app.screen, QuitWithHuddleOn):
                break
            await pilot.pause()
        assert isinstance(app.screen, QuitWithHuddleOn), "quitting waited on and on"
        assert entered.is_set() and app.is_running
        assert "away or busy" in screen_text(app)
        await pilot.press("enter")
        release.set()
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen))
        await settle(pilot)
        assert app.is_running
    assert the_huddle(demo_backend)[0] is not None


async def test_a_huddle_ended_elsewhere_meanwhile_lets_the_app_quit(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """Ended meanwhile (as left on, by another terminal's sign-in): quitting's end is
    refused as ended already, the huddle is over and the sign-out written: it quits."""
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        minutes = app.settings.team.huddle_left_on_minutes
        assert app.settings.minutes_dir is not None
        assert len(end_left_on(demo_backend, app.clock.now() + dt.timedelta(
            minutes=minutes + 1), minutes, app.settings.minutes_dir)) == 1
        await pilot.press("ctrl+q")
        await asked_to_end(pilot)
        await choose(pilot, "end")
        await until(pilot, lambda: not app.is_running)
    assert app.return_code == 0
    assert sign_outs(demo_backend, "social") == before + 1


async def test_an_end_at_quit_whose_answer_was_lost_is_made_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The end's commit reached the server and its answer was lost: quitting is told
    the end waits (it cannot know better), and once the server is back the end is found
    made, not made again: one end, one sign-out."""
    calls: list[int] = []
    monkeypatch.setattr(minutes_service, "end_huddle",
                        answer_lost_once(minutes_service.end_huddle, calls))
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        await quit_ending_the_huddle(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == ())
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen))
        await settle(pilot)
    assert len(calls) == 1, "the end was made twice"
    assert sign_outs(demo_backend, "social") == before + 1


async def test_a_sign_out_with_a_huddle_ended_elsewhere_whose_answer_was_lost_is_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ended meanwhile as left on, quitting's end writes the sign-out alone; its commit
    reached the server and the answer was lost: made again, it is not written twice."""
    from anchor_tui.errors import ConnectionLostError

    real = minutes_service.end_huddle
    calls: list[int] = []

    def cut(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        try:
            return real(*args, **kwargs)
        except minutes_service.HuddleEndedElsewhere:
            if len(calls) == 1:
                raise ConnectionLostError(
                    "The connection to the database server was lost.") from None
            raise

    monkeypatch.setattr(minutes_service, "end_huddle", cut)
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        minutes = app.settings.team.huddle_left_on_minutes
        assert app.settings.minutes_dir is not None
        assert len(end_left_on(demo_backend, app.clock.now() + dt.timedelta(
            minutes=minutes + 1), minutes, app.settings.minutes_dir)) == 1
        await quit_ending_the_huddle(app, pilot)
        await pilot.press("enter")
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == ())
        await settle(pilot)
    assert len(calls) == 2
    assert sign_outs(demo_backend, "social") == before + 1, "the sign-out written twice"


async def test_an_end_whose_answer_was_lost_releases_the_huddles_mark(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The retry finds the end made (``made_once``): the mark goes all the same."""
    calls: list[int] = []
    monkeypatch.setattr(minutes_service, "end_huddle",
                        answer_lost_once(minutes_service.end_huddle, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        await quit_ending_the_huddle(app, pilot)
        await pilot.press("enter")  # keep anchor-tui open: the end is made when it can be
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == ())
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen))
        await settle(pilot)
        assert the_huddle(demo_backend)[0] is not None, "the huddle was not ended"
        marks = app._huddle_marks
        assert marks is not None
        assert marks._held == {}, "the ended huddle's lock (an open file) is still held"
    assert list((app.settings.log_dir / "huddles").iterdir()) == [], \
        "the mark of a huddle that ended normally stayed behind"
