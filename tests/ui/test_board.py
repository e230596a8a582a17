"""The first board: columns per stage, moving between cards, refresh, sign-out, plain text."""

from __future__ import annotations

import dataclasses
import datetime as dt

from textual.geometry import Region
from textual.widgets import Static

from anchor_tui.db.models import Case, Person
from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.plain_text import printable
from anchor_tui.widgets.stage_column import StageColumn
from tests.ui.conftest import (
    TODAY,
    AppFactory,
    all_text,
    board_cards,
    focused_card,
    settle,
    sign_in,
    widget_text,
)


def focused_position(screen: BoardScreen) -> tuple[str, int]:
    card = focused_card(screen.app)
    column = next(c for c in screen.query(StageColumn) if card in c.cards)
    assert column.card_list is screen.focused
    return column.column.stage, column.cards.index(card)


async def test_arrow_keys_and_vim_keys_move_between_cards(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "social")
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        first = focused_position(screen)
        assert first == ("notification", 0)
        await pilot.press("down")
        assert focused_position(screen) == ("notification", 1)
        await pilot.press("j", "j")
        assert focused_position(screen) == ("notification", 3)
        await pilot.press("k")
        assert focused_position(screen) == ("notification", 2)
        await pilot.press("right")
        assert focused_position(screen) == ("screening", 2)
        await pilot.press("l", "l")
        assert focused_position(screen) == ("anchor_meeting", 2)
        await pilot.press("h", "left")
        assert focused_position(screen) == ("screening", 2)
        await pilot.press("left", "left", "up", "up", "up")  # stops at the edges
        assert focused_position(screen) == ("notification", 0)


async def test_cards_show_text_labels_for_priority_and_review(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "nurse")
        cards = board_cards(app.screen)
        texts = [str(content) for column in app.screen.query(CardColumn)
                 for content in column.contents]
        labels = {card.priority: f"{card.priority_label.capitalize()} priority"
                  for card in cards}
        expected = {1: "High priority", 2: "Normal priority", 3: "Low priority"}
        assert {1, 2} <= set(labels), "high comes first; the first pages reach normal"
        assert all(labels[p] == expected[p] for p in labels)
        assert any("Overdue 20" in t for t in texts), "the fixed day makes some reviews overdue"
        for card, text in zip(cards, texts, strict=True):
            assert labels[card.priority] in text
            assert card.person_label in text
            assert app.backend.team.category_label(card.category) in text


async def test_refresh_reads_the_board_again_and_keeps_focus(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "police")
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        await pilot.press("down")
        kept_case = focused_card(app).case_id
        before = screen.query_one("#stage-screening", StageColumn).column.total
        with demo_backend.sessions.system("test: a new case arrives") as session:
            person = Person(first_name="Uusi", last_name="Tapaus", birth_date=dt.date(2011, 3, 4))
            session.add(person)
            session.flush()
            session.add(Case(person_id=person.id, category="substance_use",
                             stage="screening", priority=3))
        await pilot.press("r")
        await settle(pilot)
        assert screen.query_one("#stage-screening", StageColumn).column.total == before + 1
        assert focused_card(app).case_id == kept_case


async def test_sign_out_leaves_no_trace_of_the_viewer(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "nurse")
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        viewer = screen.viewer
        names = {card.person_label for card in board_cards(screen)}
        assert len(names) > 20
        before = all_text(app)
        assert viewer.display_name in before and all(name in before for name in names)

        await pilot.press("ctrl+o")
        await settle(pilot)

        assert isinstance(app.screen, SignInScreen)
        assert app.viewer is None
        assert not any(isinstance(s, BoardScreen) for s in app.screen_stack)
        assert not list(app.query(CardColumn))
        after = all_text(app)
        assert viewer.display_name not in after
        assert [name for name in names if name in after] == []
        assert app.screen.query_one("#username").value == ""  # type: ignore[attr-defined]
        # Signing out is not offered to nobody, and the next person starts clean.
        assert app.check_action("sign_out", ()) is False
        await sign_in(pilot, "youth")
        assert isinstance(app.screen, BoardScreen)
        assert app.screen.viewer.username == "youth"


HOSTILE_FIRST = "[@click=app.quit]"
HOSTILE_LAST = "\x1b[2J[b]bold[/b]\u202eevil"


async def test_hostile_person_names_render_literally(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    with demo_backend.sessions.system("test: a hostile name") as session:
        person = Person(first_name=HOSTILE_FIRST, last_name=HOSTILE_LAST)
        session.add(person)
        session.flush()
        # Highest priority and the earliest review: the first card of its column.
        session.add(Case(person_id=person.id, category="school_threat", stage="notification",
                         priority=1, next_review=dt.date(2020, 1, 1)))
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await sign_in(pilot, "social")
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        card = screen.query(CardColumn).first()
        assert card.cards[0].person_label == f"{HOSTILE_FIRST} {HOSTILE_LAST}"
        shown = str(card.contents[0])
        assert HOSTILE_FIRST in shown  # markup shown as the characters typed
        assert "\\x1b[2J[b]bold[/b]\\u202eevil" in shown  # control codes as visible escapes
        drawn = "".join(
            segment.text
            for strip in card.render_lines(Region(0, 0, card.size.width, card.size.height))
            for segment in strip
        )
        assert "\x1b" not in drawn and "\u202e" not in drawn
        assert "[@click=app.quit]" in drawn
        await pilot.click(card, offset=(2, 0))  # a click on the "link" does nothing
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, BoardScreen)


def test_printable_escapes_control_characters() -> None:
    assert printable("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert printable("x\ny") == "x\\ny"
    assert printable("x\ny", one_line=False) == "x\ny"
    assert printable("\u202eabc\x7f") == "\\u202eabc\\x7f"
    assert printable("Äiti [b]") == "Äiti [b]"


async def test_a_team_without_cases_sees_empty_columns(
    sqlite_url: str, demo_settings: Settings
) -> None:
    from anchor_tui.app import AnchorApp
    from anchor_tui.services.users import add_user

    settings = dataclasses.replace(demo_settings, db_url=sqlite_url, demo=False)
    backend = Backend.open(settings)  # migrates the empty SQLite file
    try:
        add_user(backend, "maija", "Maija [b]Virta[/b]", "social_work", "member",
                 "a long enough passphrase")
        app = AnchorApp(backend, settings, today=lambda: TODAY)
        async with app.run_test(size=(80, 24)) as pilot:
            await sign_in(pilot, "maija", "a long enough passphrase")
            screen = app.screen
            assert isinstance(screen, BoardScreen)
            assert "Maija [b]Virta[/b]" in all_text(app)  # the display name, literally
            columns = list(screen.query(StageColumn))
            assert len(columns) == len(backend.team.stages)
            for column in columns:
                assert str(column.query_one(".stage-count", Static).render()) == "0 cases"
                assert widget_text(column.card_list).strip() == "No cases"
            await pilot.press("down", "right", "r")  # nothing to move to: nothing breaks
            await settle(pilot)
            assert isinstance(app.screen, BoardScreen) and app.focused is None
    finally:
        backend.close()
