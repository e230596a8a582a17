"""Every key of the board that the first board tests leave out: open, the stage moves with
their confirmation, filtering as one types, saved filters, the caseload picture; and the
lead on the cards only where the policy lets the viewer see it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from textual.widgets import Input, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.domain import CaseCard
from anchor_tui.policy import load_policy
from anchor_tui.screens import BoardScreen, ErrorScreen, board_filtering
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns
from anchor_tui.services.board_filter import filter_for
from anchor_tui.settings import Settings
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.sparkline_panel import SparklinePanel
from anchor_tui.widgets.stage_column import StageColumn, count_label
from tests.integration.board_world import NAMELESS_YOUTH_FIELDS, SHIPPED_YOUTH_FIELDS
from tests.ui.asking import choose, confirm
from tests.ui.conftest import TODAY, AppFactory, board_for, settle
from tests.ui.conftest import focused_card as focused_in
from tests.ui.screen_reading import screen_lines


def focused_card(screen: BoardScreen) -> CaseCard:
    return focused_in(screen.app)


def card_texts(screen: BoardScreen) -> list[tuple[CaseCard, str]]:
    """Every card the board holds, with what it says."""
    return [(card, str(content)) for column in screen.query(CardColumn)
            for card, content in zip(column.cards, column.contents, strict=True)]


def stage_of(backend: Backend, case_id: int) -> str:
    with backend.sessions.system("test: the stage now") as s:
        case = s.get(m.Case, case_id)
        assert case is not None
        return case.stage


def status(screen: BoardScreen) -> str:
    return str(screen.query_one("#board-status", Static).render())


def totals(screen: BoardScreen) -> dict[str, int]:
    return {c.column.stage: c.column.total for c in screen.query(StageColumn)}


async def test_enter_opens_the_focused_case(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await board_for(app, pilot, "social")
        await pilot.press("j")
        case_id = focused_card(screen).case_id
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == case_id


async def test_greater_than_moves_on_after_a_confirmation_naming_both_stages(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "social")
        card = focused_card(screen)
        assert card.stage == "notification"
        await pilot.press("greater_than_sign")
        question = await confirm(pilot, yes=False)  # "n": nothing happens
        assert f"Move {card.person_label}" in question.question
        assert "from Notification to Screening" in question.question
        assert stage_of(demo_backend, card.case_id) == "notification"
        await pilot.press("greater_than_sign")
        await confirm(pilot, yes=True)
        await settle(pilot)
        assert stage_of(demo_backend, card.case_id) == "screening"
        screening = screen.query_one("#stage-screening", StageColumn)
        assert card.case_id in {c.case_id for c in screening.cards}
        # And back with <.
        screening.card_list.move_cursor(
            next(i for i, c in enumerate(screening.cards) if c.case_id == card.case_id))
        screen.set_focus(screening.card_list)
        await pilot.press("less_than_sign")
        question = await confirm(pilot, yes=True)
        await settle(pilot)
        assert "from Screening to Notification" in question.question
        assert stage_of(demo_backend, card.case_id) == "notification"


async def test_less_than_on_the_first_stage_says_there_is_none(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "social")
        await pilot.press("less_than_sign")
        await pilot.pause()
        assert app.screen is screen
        assert any("first stage" in n.message for n in app._notifications)


async def test_m_moves_to_any_stage_and_closing_asks_why(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "social")
        card = focused_card(screen)
        await pilot.press("m")
        choice = await choose(pilot, "closed")
        assert card.stage not in [v for v, _ in choice.choices]
        why = app.screen
        assert isinstance(why, ChoiceScreen) and "closed" in why.title_text
        await choose(pilot, "referred_on")
        question = await confirm(pilot, yes=True)
        await settle(pilot)
        assert "to Closed" in question.question
        with demo_backend.sessions.system("test: closed") as s:
            case = s.get(m.Case, card.case_id)
            assert case is not None and (case.stage, case.closed_reason) == \
                ("closed", "referred_on")


async def test_a_move_of_a_case_changed_meanwhile_is_refused(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "social")
        card = focused_card(screen)
        with demo_backend.sessions.system("test: another terminal") as s:
            case = s.get(m.Case, card.case_id)
            assert case is not None
            case.priority = 3
        await pilot.press("greater_than_sign")
        await confirm(pilot, yes=True)
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "changed by someone else" in app.screen.error_message
        assert stage_of(demo_backend, card.case_id) == "notification"


async def test_slash_filters_as_one_types_and_escape_clears(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "social")
        everything = totals(screen)
        first = focused_card(screen)
        word = first.person_label.split()[0]
        await pilot.press("slash")
        assert app.focused is screen.query_one("#board-filter", Input)
        await pilot.press(*word.lower())
        await settle(pilot)
        expected = board_columns(demo_backend, screen.viewer, spec=filter_for(None, word),
                                 today=TODAY)
        assert totals(screen) == {c.stage: c.total for c in expected}
        found = sum(c.total for c in expected)
        assert 0 < found < sum(everything.values())
        assert f"“{word.lower()}”" in status(screen) and f"{found} case" in status(screen)
        shown = [card for column in screen.query(StageColumn) for card in column.cards]
        assert shown and all(word in c.person_label for c in shown)
        drawn = [text for _, text in card_texts(screen)]
        assert len(drawn) == len(shown)  # nothing of the wider board is left in the columns
        await pilot.press("enter")  # to the cards
        assert focused_card(screen) == shown[0]
        await pilot.press("escape")
        await settle(pilot)
        assert totals(screen) == everything and status(screen) == ""
        assert screen.query_one("#board-filter", Input).value == ""


async def test_a_broad_filter_says_where_counting_stopped_then_shows_exact_counts(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A team member's name matches every case they work on: while it is typed, each
    column is counted only as far as its page and says when there are more (``1+
    cases``); once the filter stays, the exact counts replace them, and the cards and
    the focus stay."""
    monkeypatch.setattr(BoardScreen, "_first_page", lambda _self: 1)
    monkeypatch.setattr(board_filtering, "EXACT_COUNT_AFTER", 60)  # not while asserting
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "social")
        with demo_backend.sessions.system("test: a lead's name") as s:
            lead = s.scalars(select(m.User).join(m.Case, m.Case.lead_user_id == m.User.id)
                             ).first()
            assert lead is not None
            word = lead.display_name.split()[0].lower()
        exact = {c.stage: c.total for c in board_columns(
            demo_backend, screen.viewer, spec=filter_for(None, word), today=TODAY,
            exact=True)}
        assert any(n > 1 for n in exact.values())
        await pilot.press("slash", *word)
        await settle(pilot)
        columns = list(screen.query(StageColumn))
        assert totals(screen) == {stage: min(n, 1) for stage, n in exact.items()}
        for column in columns:
            label = str(column.query_one(".stage-count", Static).render())
            n = exact[column.column.stage]
            assert label == ("1+ cases" if n > 1 else count_label(n))
        assert f"{sum(min(n, 1) for n in exact.values())}+ cases" in status(screen)
        cards = {c.column.stage: c.cards for c in columns}
        # The filter stays (a letter taken back and typed again): counted exactly.
        monkeypatch.setattr(board_filtering, "EXACT_COUNT_AFTER", 0)
        await pilot.press("backspace", word[-1])
        await settle(pilot)
        assert totals(screen) == exact
        for column in screen.query(StageColumn):
            assert str(column.query_one(".stage-count", Static).render()) == count_label(
                exact[column.column.stage])
            assert column.cards == cards[column.column.stage]
        assert f"· {count_label(sum(exact.values()))} (Esc" in status(screen)
        assert app.focused is screen.query_one("#board-filter", Input)


async def test_a_long_filter_status_is_cut_before_the_viewers_name(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    """At 100 columns a long filter leaves the status more text than room: it is cut
    with an ellipsis on its own line of the header, and the viewer's name stays whole."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await board_for(app, pilot, "social")
        await pilot.press("slash", *"a much longer filter than the header has room for")
        await settle(pilot)
        header = screen_lines(app)[0]
        viewer = str(screen.query_one("#board-viewer", Static).render())
        assert header.rstrip().endswith(" " + viewer)
        assert "…" in header and "(Esc clears)" not in header
        assert "(Esc clears)" in status(screen)  # all of it is still there, only cut


async def test_f_picks_a_saved_filter(make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await board_for(app, pilot, "nurse")
        await pilot.press("f")
        await choose(pilot, "waiting_for_my_profession")
        await settle(pilot)
        saved = next(f for f in demo_backend.team.saved_filters
                     if f.id == "waiting_for_my_profession")
        expected = board_columns(demo_backend, screen.viewer, spec=filter_for(saved),
                                 today=TODAY)
        assert totals(screen) == {c.stage: c.total for c in expected}
        assert sum(c.total for c in expected) > 0, "the demo asks health for input"
        assert "Waiting for my profession" in status(screen)
        await pilot.press("f")
        await choose(pilot, "")  # no saved filter
        await settle(pilot)
        assert screen.spec.empty


async def test_c_shows_the_caseload_picture_which_follows_the_filter(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await board_for(app, pilot, "social")
        await pilot.press("c")
        await settle(pilot)
        panel = screen.query_one("#board-caseload", SparklinePanel)
        assert panel.display and panel.load is not None
        assert {s.stage: s.now for s in panel.load.stages} == totals(screen)
        assert not screen.query_one("#board-body").has_class("-wide")  # under the columns
        await pilot.press("f")
        await choose(pilot, "my_cases")
        await settle(pilot)
        assert {s.stage: s.now for s in panel.load.stages} == totals(screen)
        assert "filter My cases" in str(panel.render())
        await pilot.press("c")
        assert not panel.display
        await pilot.press("c")
        await settle(pilot)
        assert panel.display


async def test_the_caseload_picture_stands_beside_the_columns_when_wide(
    make_app: AppFactory
) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await board_for(app, pilot, "nurse")
        await pilot.press("c")
        await settle(pilot)
        panel = screen.query_one("#board-caseload", SparklinePanel)
        board = screen.query_one("#board")
        assert screen.query_one("#board-body").has_class("-wide")
        assert panel.region.x >= board.region.right and panel.region.y == board.region.y


async def test_cards_name_the_lead_or_say_there_is_none(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    with demo_backend.sessions.system("test: leads") as s:
        names = {u: n for u, n in s.execute(select(m.User.id, m.User.display_name))}
        leads = {c: lead for c, lead in s.execute(select(m.Case.id, m.Case.lead_user_id))}
        first = s.scalars(select(m.Case).where(m.Case.stage == "notification")
                          .order_by(m.Case.priority, m.Case.next_review.is_(None),
                                    m.Case.next_review, m.Case.id)).first()
        assert first is not None
        first.lead_user_id = None  # one case without a lead
        leads[first.id] = None
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await board_for(app, pilot, "social")
        cards = card_texts(screen)
        for card, text in cards:
            lead = leads[card.case_id]
            assert (f"Lead {names[lead]}" if lead else "No lead") in text
        assert any(c.case_id == first.id for c, _ in cards)


async def test_a_profession_without_the_lead_field_sees_no_lead_line(
    demo_backend: Backend, demo_settings: Settings
) -> None:
    text = Path(demo_backend.policy.path).read_text(encoding="utf-8")
    assert SHIPPED_YOUTH_FIELDS in text
    policy = load_policy(demo_backend.policy.path, team=demo_backend.team,
                         text=text.replace(SHIPPED_YOUTH_FIELDS, NAMELESS_YOUTH_FIELDS))
    backend = Backend.from_engine(demo_backend.engine, policy, demo_backend.team)
    with backend.sessions.system("test: staff") as s:
        staff = set(s.scalars(select(m.User.display_name)))
        lead = s.scalars(select(m.User).join(m.Case, m.Case.lead_user_id == m.User.id)).first()
        assert lead is not None
        social = viewer_for(s.scalars(select(m.User).where(m.User.username == "social")).one())
    lead_word = lead.display_name.split()[0].lower()
    # With the shipped policy, social work finds the cases this person leads by name.
    assert sum(c.total for c in board_columns(demo_backend, social,
                                              spec=filter_for(None, lead_word),
                                              today=TODAY)) > 0
    app = AnchorApp(backend, demo_settings, today=lambda: TODAY)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await board_for(app, pilot, "youth")
        texts = [text for _, text in card_texts(screen)]
        assert texts
        for text in texts:
            assert "Lead" not in text and "No lead" not in text
            assert not [name for name in staff if name in text]
        # Filtering by a lead's name finds nothing for a profession that may not see it.
        await pilot.press("slash", *lead_word)
        await settle(pilot)
        assert sum(totals(screen).values()) == 0
        assert "0 cases" in status(screen)
