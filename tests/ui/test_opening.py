"""The sign-in screen is drawn while the backend opens; a backend that cannot open stops
the app with the same one line and exit status as a check before drawing."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from anchor_tui.app import AnchorApp, run_app
from anchor_tui.errors import AnchorError, DatabaseError
from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.services.opening import OpeningBackend
from anchor_tui.settings import Settings
from tests.ui.conftest import TODAY, settle, sign_in


async def test_signing_in_waits_for_the_backend_opening_meanwhile(
    demo_settings: Settings
) -> None:
    opening = OpeningBackend(demo_settings)
    app = AnchorApp(opening, demo_settings, today=lambda: TODAY)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            assert isinstance(app.screen, SignInScreen)
            await sign_in(pilot, "nurse")
            assert isinstance(app.screen, BoardScreen)
            assert opening.error is None
    finally:
        opening.close()


def unusable(settings: Settings, tmp_path: Path) -> Settings:
    broken = tmp_path / "not-a-database.sqlite3"
    broken.write_bytes(b"this is not a database, only text " * 100)
    return dataclasses.replace(settings, db_url=f"sqlite:///{broken}")


async def test_a_backend_that_cannot_open_stops_the_app_with_status_2(
    demo_settings: Settings, tmp_path: Path
) -> None:
    settings = unusable(demo_settings, tmp_path)
    opening = OpeningBackend(settings)
    app = AnchorApp(opening, settings, today=lambda: TODAY)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
    assert app.return_code == 2
    assert isinstance(opening.error, DatabaseError)
    with pytest.raises(DatabaseError):
        opening.opened()


def test_run_app_raises_the_reason_after_the_terminal_is_restored(
    demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_app`` runs the app, then raises what stopped it, for the one-line message."""
    settings = unusable(demo_settings, tmp_path)

    def headless_run(self: AnchorApp) -> None:
        import asyncio

        async def run() -> None:
            async with self.run_test(size=(80, 24)) as pilot:
                await settle(pilot)

        asyncio.run(run())

    monkeypatch.setattr(AnchorApp, "run", headless_run)
    with pytest.raises(AnchorError) as raised:
        run_app(settings)
    assert "not an anchor-tui database" in raised.value.message


def test_the_first_screen_needs_neither_the_data_layer_nor_the_board() -> None:
    """What importing the app and its sign-in screen loads (in a fresh interpreter): not
    SQLAlchemy, the services under the board, the board itself or the domain's
    dataclasses; they load while sign-in is shown."""
    import subprocess

    code = ("import sys, anchor_tui.app, anchor_tui.cli, anchor_tui.screens.sign_in; "
            "print(sorted({m for m in sys.modules if m.split('.')[0] == 'sqlalchemy' "
            "or m in ('anchor_tui.screens.board', 'anchor_tui.services.board', "
            "'anchor_tui.services.auth', 'argon2', 'anchor_tui.domain')}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "[]"
