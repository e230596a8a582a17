"""Board, queue, case view and search: each has its HELP (F1, with every key's binding id)
and "area: verb" palette commands that work."""

from __future__ import annotations

import pytest
from textual.binding import Binding
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from anchor_tui.app import AnchorApp
from anchor_tui.palette import commands_for
from anchor_tui.screens import BoardScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.help import HelpScreen
from anchor_tui.screens.queue import QueueScreen
from anchor_tui.screens.search import SearchScreen
from tests.ui.conftest import AppFactory, board_cards, settle, sign_in


async def reach(app: AnchorApp, pilot: Pilot[None], where: str) -> object:
    """Sign in as social work and go to ``where``: the board, queue, a case or search."""
    await sign_in(pilot, "social")
    keys = {"board": (), "queue": ("t",), "case": ("enter",), "search": ("ctrl+f",)}[where]
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    return app.screen


AREAS = {"app", "audit", "board", "case", "consent", "huddle", "note", "queue", "search",
         "task"}
"""The areas of the palette's "area: verb" commands and of binding ids."""

SCREENS = {
    "board": (BoardScreen, "The case board", "board."),
    "queue": (QueueScreen, "Your triage queue", "queue."),
    "case": (CaseScreen, "One case as you may see it", "case."),
    "search": (SearchScreen, "Search the cases and notes", "search."),
}


@pytest.mark.parametrize("where", list(SCREENS))
async def test_f1_explains_the_screen_and_lists_every_key_with_its_id(
    make_app: AppFactory, where: str
) -> None:
    kind, words, prefix = SCREENS[where]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await reach(app, pilot, where)
        assert isinstance(screen, kind)
        ids = {b.id for b in kind.BINDINGS if isinstance(b, Binding) and b.id}
        # A screen's own keys carry its area; keys it shares (``note.new`` writes a note
        # from the board and the case alike) carry the area of what they do.
        assert ids and any(i.startswith(prefix) for i in ids)
        assert all(i.split(".")[0] in AREAS for i in ids), ids
        enabled = {active.binding.id for active in screen.active_bindings.values()
                   if active.enabled}
        await pilot.press("f1")
        await settle(pilot)
        helper = app.screen
        assert isinstance(helper, HelpScreen)
        text = "\n".join(str(s.render()) for s in helper.query(Static))
        assert words in text
        for ident in ids & enabled:
            assert ident in text, ident
        await pilot.press("escape")
        assert app.screen is screen


@pytest.mark.parametrize("where", list(SCREENS))
async def test_every_palette_command_is_area_colon_verb(make_app: AppFactory,
                                                       where: str) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await reach(app, pilot, where)
        names = [c.name for c in commands_for(screen, app)]
        own = [n for n in names if n.startswith(f"{where}: ")]
        assert own, names
        assert all(": " in n and n.split(": ")[0] in AREAS for n in names), names


async def test_case_commands_switch_parts_and_go_back(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await reach(app, pilot, "case")
        assert isinstance(screen, CaseScreen)
        commands = {c.name: c for c in commands_for(screen, app)}
        for tab in ("history", "tasks", "consents", "members", "notes"):
            commands[f"case: show {tab}"].run()
            assert screen.active_tab == tab
        commands["case: refresh"].run()
        await settle(pilot)
        commands["case: back"].run()
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_search_commands_move_between_words_and_results(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await reach(app, pilot, "search")
        assert isinstance(screen, SearchScreen)
        board = app.screen_stack[-2]
        assert isinstance(board, BoardScreen)
        name = board_cards(board)[0].person_label
        screen.query_one("#search-input", Input).value = name.split()[0]
        await settle(pilot)
        commands = {c.name: c for c in commands_for(screen, app)}
        commands["search: results"].run()
        await pilot.pause()
        assert app.focused is screen.query_one("#search-results", OptionList)
        commands["search: edit words"].run()
        await pilot.pause()
        assert app.focused is screen.query_one("#search-input", Input)
        opens = [c for c in commands_for(screen, app) if c.name.startswith("case: open")]
        assert screen.results is not None
        assert {int(c.name.rsplit("#", 1)[1]) for c in opens} == \
            {hit.case_id for hit in screen.results.cases}
        opens[0].run()
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("escape")
        commands["search: back"].run()
        await settle(pilot)
        assert app.screen is board


async def test_f1_on_a_question_explains_it_and_f1_again_goes_back_to_it(
        make_app: AppFactory) -> None:
    """A modal keeps the app's other keys from it: F1 is a priority key so that a
    question (here "Move ... to which stage?") has help too; F1 again closes the help,
    back to the same question, still unanswered."""
    from anchor_tui.screens.prompt import ChoiceScreen
    from tests.ui.test_note_editor import asked

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        board = await reach(app, pilot, "board")
        await pilot.press("m")
        question = await asked(app, pilot, ChoiceScreen)
        await pilot.press("f1")
        helper = await asked(app, pilot, HelpScreen)
        assert isinstance(helper, HelpScreen)
        text = "\n".join(str(s.render()) for s in helper.query(Static))
        assert "Help: a choice" in text and "Enter chooses" in text
        assert "choice.cancel" in text and "board." not in text  # the question's keys only
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen is question
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is board
