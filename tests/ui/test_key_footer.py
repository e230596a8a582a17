"""The key footer: one line with the screen's keys, and a click on a key presses it."""

from __future__ import annotations

from anchor_tui.screens import BoardScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.widgets.key_footer import KeyFooter
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_lines


async def test_the_footer_shows_the_screens_keys_and_a_click_presses_one(
    make_app: AppFactory
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        board = app.screen
        assert isinstance(board, BoardScreen)
        footer = board.query_one(KeyFooter)
        assert screen_lines(app)[-1].startswith(" ")
        assert {"Filter", "Help"} <= {description for _, _, description, _ in footer.keys}
        case = CaseScreen(2)
        await app.push_screen(case)
        await settle(pilot)
        footer = case.query_one(KeyFooter)
        shown = [description for _, _, description, _ in footer.keys]
        assert {"Back", "Notes", "History"} <= set(shown)
        line = screen_lines(app)[-1]
        assert all(description in line for description in shown[:4])
        x = line.index(" 2 History")
        await pilot.click(footer, offset=(x + 1, 0))
        await settle(pilot)
        assert case.active_tab == "history"
        x = line.index(" esc Back")
        await pilot.click(footer, offset=(x + 1, 0))
        await settle(pilot)
        assert app.screen is board
