"""A passphrase is never typed into a field that shows it, on the shared screen.

The lock screen filled in the person's username and put the focus in the passphrase,
but Tab wrapped round to the username: whoever pressed Tab (or clicked the username)
and typed on typed their passphrase into a field shown in clear. Now, locked for one
person, the username cannot be focused at all; someone else presses F2 first. On the
sign-in screen (and the huddle's join form, the same form) Tab never goes from the
passphrase back to the username; shift+tab does, on purpose.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input

from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.settings import DEMO_PASSPHRASE
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text

TYPED = "oak-river-lantern"
"""Stands for a passphrase typed key by key (the demo's own would match the hint)."""


def fields(screen: Any) -> tuple[Input, Input]:
    return screen.query_one("#username", Input), screen.query_one("#passphrase", Input)


async def locked_for(pilot: Any, username: str) -> LockScreen:
    app = pilot.app
    await sign_in(pilot, username)
    assert isinstance(app.screen, BoardScreen)
    await pilot.press("ctrl+g")
    await settle(pilot)
    lock = app.screen
    assert isinstance(lock, LockScreen)
    return lock


async def test_at_the_lock_no_key_or_click_puts_the_passphrase_into_the_username(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        lock = await locked_for(pilot, "social")
        username, passphrase = fields(lock)
        assert username.value == "social" and app.focused is passphrase
        for key in ("tab", "shift+tab", "tab", "tab"):
            await pilot.press(key)
            assert app.focused is passphrase, f"{key} moved the focus to {app.focused!r}"
        await pilot.click("#username")
        assert app.focused is passphrase
        await pilot.press(*TYPED)
        assert username.value == "social" and passphrase.value == TYPED
        assert TYPED not in screen_text(app)  # shown masked only
        await pilot.press("enter")  # wrong: said, the form ready again in the passphrase
        await settle(pilot)
        assert app.screen is lock and app.focused is passphrase
        await pilot.press("tab")
        assert app.focused is passphrase and username.value == "social"


async def test_someone_else_at_the_lock_presses_f2_first_and_signs_in(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        lock = await locked_for(pilot, "social")
        assert "F2" in screen_text(app)
        username, passphrase = fields(lock)
        await pilot.press(*"half")  # the locked person's own passphrase, begun
        await pilot.press("f2")
        assert app.focused is username and username.value == "" and passphrase.value == ""
        await pilot.press(*"youth", "enter")
        assert app.focused is passphrase
        await pilot.press("tab")  # no wrap from the passphrase back to the username
        assert app.focused is passphrase
        await pilot.press(*DEMO_PASSPHRASE, "enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app.viewer is not None and app.viewer.username == "youth"


async def test_the_same_person_still_unlocks_after_tab_and_a_click(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await locked_for(pilot, "nurse")
        await pilot.press("tab")
        await pilot.click("#username")
        await pilot.press(*DEMO_PASSPHRASE, "enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        assert app.viewer is not None and app.viewer.username == "nurse"


async def test_on_the_sign_in_screen_tab_never_wraps_to_the_username(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, SignInScreen)
        username, passphrase = fields(screen)
        await pilot.press(*"nurse", "tab")
        assert app.focused is passphrase
        await pilot.press(*"oak", "tab", *"-river")
        assert app.focused is passphrase
        assert username.value == "nurse" and passphrase.value == "oak-river"
        await pilot.press("shift+tab")  # back on purpose, to mend the username
        assert app.focused is username
