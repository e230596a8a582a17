"""A huddle's end whose commit's answer was lost is finished, not refused.

Ending a huddle goes through the app's save queue. When the end's commit reached the
server but its answer was lost (the connection cut just then), the save was kept and
made again once the server was back, and that second attempt was refused with "This
huddle has ended already": the sign-out was never audited, the minutes notice never
appeared, and with the cut at the commit the minutes file was never written. The end
now carries the moment it was asked for; made again, it finds the huddle ended at that
moment and finishes: the file, the notice, the sign-out once. A huddle another
terminal ended is still refused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.huddle_modals import NoticeScreen
from anchor_tui.services import audit
from anchor_tui.services import minutes as minutes_service
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.huddle import huddle_viewer, read_roster
from tests.integration.test_huddle_end_answer_lost import cut_as_the_end_commits
from tests.ui.conftest import AppFactory
from tests.ui.test_huddle import shown
from tests.ui.test_kept_huddle import huddle_away
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import until
from tests.ui.test_save_queue_huddle_end import ended


def sign_outs(backend: Backend, username: str) -> int:
    with backend.sessions.system("test: sign-outs") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent)
                        .join(m.User, m.User.id == m.AuditEvent.actor_id)
                        .where(m.AuditEvent.action == "sign_out",
                               m.User.username == username)) or 0


def leaves(backend: Backend) -> int:
    with backend.sessions.system("test: leaves") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "huddle.leave")) or 0


def stored_minutes(backend: Backend) -> list[str | None]:
    with backend.sessions.system("test: the minutes") as s:
        return list(s.scalars(select(m.Huddle.minutes)))


def minutes_files(app: AnchorApp) -> list[Path]:
    directory = app.settings.minutes_dir
    assert directory is not None
    return sorted(directory.iterdir()) if directory.exists() else []


async def end_while_away(app: AnchorApp, pilot: Any) -> None:
    """The social worker and the nurse end their huddle (`e`, confirmed); its save is
    kept (the connection cut), and the test plays the change watcher."""
    await huddle_away(app, pilot)
    await pilot.press("e")
    await shown(pilot, ConfirmScreen)
    await pilot.press("y")
    queue = save_queue(app)
    await until(pilot, lambda: queue.waiting != ())


async def server_back(app: AnchorApp, pilot: Any) -> None:
    queue = save_queue(app)
    app.post_message(ConnectionRestored())
    await until(pilot, lambda: queue.waiting == ())
    await until(pilot, lambda: isinstance(app.screen, NoticeScreen | ErrorScreen))


async def test_an_end_whose_answer_was_lost_is_finished_not_refused(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(minutes_service, "end_huddle",
                        answer_lost_once(minutes_service.end_huddle, calls))
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await end_while_away(app, pilot)
        assert len(calls) == 1 and ended(demo_backend)  # written; its answer lost
        await server_back(app, pilot)
        screen = app.screen
        assert not isinstance(screen, ErrorScreen), screen.error_message
        assert isinstance(screen, NoticeScreen), "the minutes notice never appeared"
        assert len(calls) == 1, "the end was made twice"
        files = minutes_files(app)
        assert len(files) == 1 and str(files[0]) in screen.message.replace("\n", "")
        minutes = stored_minutes(demo_backend)
        assert minutes == [files[0].read_text()], "the minutes were not stored once"
        assert leaves(demo_backend) == 2  # the social worker and the nurse, once each
        assert sign_outs(demo_backend, "social") == before + 1, (
            "the sign-out was not audited once")


async def test_an_end_cut_at_its_commit_writes_its_minutes_file_when_made_again(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        with cut_as_the_end_commits() as cuts:
            await end_while_away(app, pilot)
            assert cuts == [1] and ended(demo_backend)
            assert minutes_files(app) == []  # cut before the file was written
            await server_back(app, pilot)
        screen = app.screen
        assert not isinstance(screen, ErrorScreen), screen.error_message
        assert isinstance(screen, NoticeScreen), "the minutes notice never appeared"
        files = minutes_files(app)
        assert len(files) == 1, "the minutes file was not written"
        assert stored_minutes(demo_backend) == [files[0].read_text()]
        assert leaves(demo_backend) == 2
        assert sign_outs(demo_backend, "social") == before + 1


async def test_a_huddle_another_terminal_ended_is_still_refused(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    real_end = minutes_service.end_huddle
    monkeypatch.setattr(minutes_service, "end_huddle", fails_once(real_end))
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await end_while_away(app, pilot)
        assert not ended(demo_backend)  # nothing written: the server was away
        # Meanwhile another terminal ends the same huddle, at a moment of its own.
        with demo_backend.sessions.system("test: the huddle") as s:
            huddle_id = s.scalars(select(m.Huddle.id)).one()
            roster = read_roster(s, huddle_id)
            starter = viewer_for(s.get_one(m.User, roster.started_by_id))
        directory = app.settings.minutes_dir
        assert directory is not None
        other = real_end(demo_backend, huddle_viewer(roster, starter),
                         directory.parent / "elsewhere", app.today(),
                         app.clock.now() - dt.timedelta(seconds=5))
        await server_back(app, pilot)
        screen = app.screen
        assert isinstance(screen, ErrorScreen), "an end by another terminal was not refused"
        assert "ended already" in screen.error_message
        assert stored_minutes(demo_backend) == [other.minutes]
        assert minutes_files(app) == []
        # The end was refused, but the session it closed is over: the sign-out is
        # audited once, and nothing else of the end is written.
        assert sign_outs(demo_backend, "social") == before + 1


async def test_a_sign_out_cut_after_the_end_is_audited_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sign-out after a successful end used to be a unit of work of its own: the
    connection cut as it committed, the end was made again and refused. It is written
    with the end now, once, whatever becomes of a sign-out recorded on its own."""
    calls: list[int] = []
    monkeypatch.setattr(audit, "signed_out", answer_lost_once(audit.signed_out, calls))
    app = make_app()
    before = sign_outs(demo_backend, "social")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await huddle_away(app, pilot)
        await pilot.press("e")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen | ErrorScreen)
                    or save_queue(app).waiting != ())
        if save_queue(app).waiting:
            await server_back(app, pilot)
        screen = app.screen
        assert not isinstance(screen, ErrorScreen), screen.error_message
        assert isinstance(screen, NoticeScreen)
        assert len(minutes_files(app)) == 1
        assert sign_outs(demo_backend, "social") == before + 1


async def test_the_time_on_the_last_case_is_added_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The time on the case on screen used to be added in a unit of work of its own
    before the end: its answer lost, the end was made again and added it again (the
    minutes said the room spent twice as long on it). It is added with the end now."""
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        await pilot.press("e")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen | ErrorScreen)
                    or save_queue(app).waiting != ())
        if save_queue(app).waiting:
            await server_back(app, pilot)
        assert isinstance(app.screen, NoticeScreen)
        with demo_backend.sessions.system("test: the time spent") as s:
            seconds = s.scalar(select(m.HuddleCase.seconds_spent).where(
                m.HuddleCase.case_id == case_id))
        assert seconds == 30, "the time on the last case was not added once"
        assert "30 s" in minutes_files(app)[0].read_text()
