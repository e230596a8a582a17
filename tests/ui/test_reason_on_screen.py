"""A screening reason on the case view's history, as drawn: the nurse's words about the
young person are on the nurse's screen and not on the police's, nor on the shared
huddle screen when the police are present; the decision itself is on every one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import case_ref, mark_screened
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text
from tests.ui.test_screens_follow_consent import CASE

SECRET = "knownpsychiatrymarker"


def nurse_screens_with_a_reason(backend: Backend) -> None:
    """The police and the nurse work case 2; the nurse records its screening."""
    with backend.sessions.system("test: the police work case 2") as s:
        users = {u.username: u for u in s.scalars(select(m.User).where(
            m.User.username.in_(["police", "nurse"])))}
        for user in users.values():
            s.add(m.CaseMember(case_id=CASE, user_id=user.id,
                               valid_from=TODAY - dt.timedelta(days=30)))
        nurse = viewer_for(users["nurse"])
    seen = case_ref(backend, nurse, CASE).version
    mark_screened(backend, nurse, CASE, seen, take=True, reason=f"Screened: {SECRET}")


async def history_as(make_app: AppFactory, username: str) -> str:
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, username)
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        return screen_text(app)


async def test_the_nurses_reason_is_drawn_for_the_nurse_only(
        make_app: AppFactory, demo_backend: Backend) -> None:
    nurse_screens_with_a_reason(demo_backend)
    police = await history_as(make_app, "police")
    assert "Screened" in police
    assert SECRET not in police
    assert SECRET in await history_as(make_app, "nurse")


async def test_nor_on_the_shared_screen_with_the_police_present(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from tests.ui.test_huddle import huddle_of, join

    nurse_screens_with_a_reason(demo_backend)
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await huddle_of(pilot, "nurse")
        await join(pilot, "police")
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        shown = screen_text(app)
        assert "Screened" in shown and SECRET not in shown
