"""Search in the app: ctrl+f, typing, moving to the results, opening a case, going back;
what the viewer may not see is never listed; typed and stored text stays text."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens import BoardScreen, ErrorScreen, SignInScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.search import SearchScreen
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.search_result import MATCH_STYLE
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in

INTEL_WORD = "marmotintel"
MARKUP_NOTE = "[@click=app.quit]Quit[/] seen with \x1b[2J a badgerword [b]friend[/b]"


def add_note(backend: Backend, case_id: int, author: str, category: str, body: str) -> int:
    with backend.sessions.system("test: a note to find") as s:
        user = s.scalars(select(m.User).where(m.User.username == author)).one()
        note = m.Note(case_id=case_id, author_id=user.id, author_profession=user.profession,
                      category=category, body=body,
                      created_at=dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC))
        s.add(note)
        s.flush()
        return note.id


async def search_for(app: AnchorApp, pilot: Pilot[None], query: str) -> SearchScreen:
    if not isinstance(app.screen, SearchScreen):
        await pilot.press("ctrl+f")
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    screen.query_one("#search-input", Input).value = query
    await settle(pilot)
    return screen


def listed(screen: SearchScreen) -> list[str]:
    options = screen.query_one("#search-results", OptionList)
    return [options.get_option_at_index(i).id or "" for i in range(options.option_count)]


async def test_ctrl_f_searches_and_police_intelligence_stays_with_the_police(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    note_id = add_note(demo_backend, 2, "police", "police_intel", f"Seen {INTEL_WORD} at night")
    for user, finds in [("police", True), ("social", False), ("nurse", False),
                        ("youth", False)]:
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, user)
            screen = await search_for(app, pilot, INTEL_WORD)
            assert (f"note-{note_id}-case-2" in listed(screen)) is finds, user
            status = str(screen.query_one("#search-status", Static).render())
            assert ("1 note" in status) is finds and ("0 notes" in status) is not finds, user


async def test_ctrl_f_does_nothing_before_signing_in(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+f")
        assert isinstance(app.screen, SignInScreen)


async def test_keys_move_to_results_open_a_case_and_go_back(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    note_id = add_note(demo_backend, 3, "social", "general", "Met at the walrusplace cafe")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        screen = await search_for(app, pilot, "walrusplace")
        assert listed(screen) == [f"note-{note_id}-case-3"]
        options = screen.query_one("#search-results", OptionList)
        await pilot.press("down")
        assert app.focused is options and options.highlighted == 0
        await pilot.press("ctrl+l")
        assert app.focused is screen.query_one("#search-input", Input)
        await pilot.press("enter")  # Enter in the query moves to the results too
        assert app.focused is options
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == 3
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("ctrl+f")  # not stacked on itself
        assert app.screen is screen
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_typed_queries_never_break_the_search(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "police")
        await pilot.press("ctrl+f")
        await pilot.press(*'" * NEAR( \'; drop', "ctrl+u")
        for query in ['"', "*", "NEAR(", "'; drop", "[@click=app.quit]", "", "%_%"]:
            screen = await search_for(app, pilot, query)
            assert not isinstance(app.screen, ErrorScreen), query
            status = str(screen.query_one("#search-status", Static).render())
            assert status.startswith(("Found", "Type words")), query
        assert app.is_running


async def test_matches_are_highlighted_and_note_text_is_never_markup(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    add_note(demo_backend, 2, "social", "general", MARKUP_NOTE)
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await sign_in(pilot, "social")
        screen = await search_for(app, pilot, "badgerword")
        options = screen.query_one("#search-results", OptionList)
        prompt = options.get_option_at_index(0).prompt
        text = str(prompt)
        assert "[@click=app.quit]Quit[/] seen with \\x1b[2J a badgerword [b]friend[/b]" in text
        marked = [text[span.start:span.end] for span in prompt.spans  # type: ignore[union-attr]
                  if MATCH_STYLE in str(span.style)]
        assert marked == ["badgerword"]
        options.focus()
        await pilot.click(options)
        assert app.is_running
