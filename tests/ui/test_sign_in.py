"""The sign-in screen: the demo app signs in as nurse and sees the board; refusals stay."""

from __future__ import annotations

from textual.widgets import Input, Static

from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.screens.sign_in import demo_hint
from anchor_tui.settings import DEMO_PASSPHRASE
from anchor_tui.widgets.stage_column import StageColumn
from tests.ui.conftest import AppFactory, board_cards, focused_card, settle, sign_in


async def test_demo_nurse_signs_in_and_sees_the_board(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, "nurse", typed=True)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        assert app.viewer is not None and app.viewer.username == "nurse"
        assert screen.viewer.profession == "health"
        header = str(screen.query_one("#board-viewer", Static).render())
        assert app.viewer.display_name in header and "Health" in header
        columns = list(screen.query(StageColumn))
        assert [c.column.stage for c in columns] == [s.id for s in app.backend.team.stages]
        assert sum(c.column.total for c in columns) > 100  # the demo team's case load
        for column in columns:
            count = str(column.query_one(".stage-count", Static).render())
            assert count.startswith(f"{column.column.total} case")
        cards = board_cards(screen)
        assert cards, "the board shows case cards"
        assert focused_card(app) == cards[0]  # ready for the arrow keys


async def test_wrong_passphrase_is_said_and_the_screen_stays(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await sign_in(pilot, "nurse", "not the passphrase")
        assert isinstance(app.screen, SignInScreen)
        message = str(app.screen.query_one("#sign-in-message", Static).render())
        assert "Wrong username or passphrase" in message
        assert app.screen.query_one("#username", Input).value == "nurse"
        passphrase = app.screen.query_one("#passphrase", Input)
        assert passphrase.value == ""
        assert app.focused is passphrase
        assert app.viewer is None
        # ...and the right passphrase then works with the kept username, once the short
        # wait after a wrong one has passed (the clock is the test's).
        assert "try “nurse” again in 2 s" in message
        passphrase.value = DEMO_PASSPHRASE
        app.clock.advance(2)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_unknown_username_gets_the_same_answer(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await sign_in(pilot, "nobody")
        message = str(app.screen.query_one("#sign-in-message", Static).render())
        assert "Wrong username or passphrase" in message
        assert isinstance(app.screen, SignInScreen)


async def test_empty_fields_are_asked_for(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("enter")
        message = app.screen.query_one("#sign-in-message", Static)
        assert "username" in str(message.render())
        await pilot.press(*"nurse", "enter", "enter")
        assert "passphrase" in str(message.render())
        assert isinstance(app.screen, SignInScreen)


async def test_demo_hint_only_in_demo_mode(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test():
        hint = str(app.screen.query_one("#demo-hint", Static).render())
        assert hint == demo_hint() and DEMO_PASSPHRASE in hint
    app = make_app(demo=False)
    async with app.run_test():
        assert not app.screen.query("#demo-hint")
        texts = " ".join(str(w.render()) for w in app.screen.query(Static))
        assert DEMO_PASSPHRASE not in texts


async def test_tab_switches_fields(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        username = app.screen.query_one("#username", Input)
        passphrase = app.screen.query_one("#passphrase", Input)
        assert app.focused is username
        await pilot.press("tab")
        assert app.focused is passphrase
        await pilot.press("shift+tab")
        assert app.focused is username
