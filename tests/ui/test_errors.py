"""One error handler: a failed worker becomes a modal, a crash one line; no client data."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from textual.binding import Binding
from textual.widgets import Static

from anchor_tui.app import AnchorApp, crash_line
from anchor_tui.crashlog import LOG_NAME, describe
from anchor_tui.domain import BoardColumn, Viewer
from anchor_tui.errors import DatabaseError
from anchor_tui.screens import BoardScreen, ErrorScreen, SignInScreen
from anchor_tui.screens.error import INTERNAL_MESSAGE
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings
from tests.ui.conftest import AppFactory, settle, sign_in

SECRET = "SECRET-NOTE-TEXT"


def modal_text(screen: ErrorScreen) -> str:
    return "\n".join(str(w.render()) for w in screen.query(Static))


def db_path(settings: Settings) -> Path:
    return Path(settings.db_url.removeprefix("sqlite:///"))


async def test_a_database_damaged_under_the_app_says_what_and_how_to_fix(
    make_app: AppFactory, demo_settings: Settings
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        # The database becomes unusable under the running app.
        with sqlite3.connect(db_path(demo_settings)) as conn:
            conn.execute('ALTER TABLE "case" RENAME TO case_gone')
        await pilot.press("r")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        text = modal_text(modal)
        assert "Database problem" in text and "missing part of its schema" in text
        assert "anchor-tui db upgrade" in text
        assert "Traceback" not in text and "case_gone" not in text and "SELECT" not in text
        await pilot.press("escape")
        board = app.screen
        assert isinstance(board, BoardScreen)  # the app goes on, and says the board is stale
        assert "Not read" in str(board.query_one("#board-status", Static).render())


async def test_an_unexpected_worker_failure_shows_the_general_modal_and_logs_no_message(
    make_app: AppFactory, demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(backend: Backend, viewer: Viewer, **kwargs: object) -> list[BoardColumn]:
        note_text = SECRET  # a local that must never reach the screen or the log
        raise ValueError(f"cannot render {note_text}")

    monkeypatch.setattr("anchor_tui.screens.board.board_columns", broken)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        text = modal_text(modal)
        log = demo_settings.log_dir / LOG_NAME
        assert INTERNAL_MESSAGE in text and str(log) in text
        assert SECRET not in text and "Traceback" not in text
        entry = log.read_text()
        assert "ValueError" in entry and "broken" in entry
        assert SECRET not in entry  # no messages, no locals
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


async def test_an_anchor_error_shows_its_title_message_and_fix(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(backend: Backend, viewer: Viewer, **kwargs: object) -> list[BoardColumn]:
        raise DatabaseError("The database demo.sqlite3 is locked by another program.",
                            "Close the other anchor-tui or tool using it and try again.")

    monkeypatch.setattr("anchor_tui.screens.board.board_columns", locked)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "police")
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        text = modal_text(modal)
        assert "Database problem" in text
        assert "is locked by another program" in text and "Close the other anchor-tui" in text
        await pilot.press("enter")  # the OK button has focus
        assert isinstance(app.screen, BoardScreen)


async def test_a_sign_in_failure_that_is_not_a_wrong_passphrase(
    make_app: AppFactory, demo_settings: Settings
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        with sqlite3.connect(db_path(demo_settings)) as conn:
            conn.execute('ALTER TABLE "user" RENAME TO user_gone')
        await sign_in(pilot, "nurse")
        assert isinstance(app.screen, ErrorScreen)
        text = modal_text(app.screen)
        assert "missing part of its schema" in text and "user_gone" not in text
        await pilot.press("escape")
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        assert not screen.query_one("#username").disabled  # the form is usable again
        assert app.viewer is None


class CrashingApp(AnchorApp):
    """A test-only binding that fails with note text in its message and its locals."""

    BINDINGS = [Binding("f9", "crash", "Crash", id="test.crash")]  # noqa: RUF012

    def action_crash(self) -> None:
        note_body = f"{SECRET} about the young person"
        try:
            raise KeyError(note_body)
        except KeyError as error:
            raise ValueError(note_body) from error


async def test_a_crash_prints_one_line_and_logs_no_note_text(
    make_app: AppFactory, demo_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = make_app(CrashingApp)
    with pytest.raises(ValueError, match=SECRET):  # run_test re-raises for the test only
        async with app.run_test() as pilot:
            await sign_in(pilot, "nurse")
            await pilot.press("f9")
            await pilot.pause()
    log = demo_settings.log_dir / LOG_NAME
    out, err = capsys.readouterr()
    assert err.strip() == crash_line(log)
    assert SECRET not in out + err and "Traceback" not in err and "note_body" not in err
    assert app.return_code == 1
    entry = log.read_text()
    assert SECRET not in entry and "note_body" not in entry
    assert "ValueError <- KeyError" in entry
    assert "caused by KeyError" in entry and "action_crash" in entry
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_the_log_keeps_an_anchor_errors_category_but_no_message() -> None:
    try:
        try:
            raise RuntimeError(SECRET)
        except RuntimeError:
            raise DatabaseError("The database x is locked.", "Close the other program.") \
                from None
    except DatabaseError as error:
        entry = describe(error)
    assert "category: Database problem" in entry
    assert "The database x is locked" not in entry  # (a message may name a client)
    assert SECRET not in entry and "RuntimeError" not in entry  # context suppressed

    try:
        try:
            raise KeyError(SECRET)
        except KeyError:
            raise OSError(SECRET)  # noqa: B904 - the implicit context is the point
    except OSError as error:
        entry = describe(error)
    assert SECRET not in entry
    assert "OSError <- KeyError" in entry and "while handling KeyError" in entry


def test_an_unwritable_log_does_not_crash_the_crash_handler(tmp_path: Path) -> None:
    from anchor_tui.crashlog import ErrorLog

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    assert ErrorLog(blocker / "logs").write(ValueError(SECRET)) is None
    assert "could not be written" in crash_line(None)
