"""The consent screen lets go of the young person's consents (and their evidence) when
the viewer may no longer see them: a re-read refused (the membership ended at midnight,
or on another terminal) clears what was shown."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from textual.widgets import OptionList

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens.consent import ConsentScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import ManualClock
from anchor_tui.settings import Settings
from tests.ui.conftest import TODAY, settle, sign_in

CASE = 2
EVIDENCE = "okapievidence signed in the anchor meeting"


def youth_works_case_until_today_and_a_consent(backend: Backend) -> None:
    with backend.sessions.system("test: youth's membership ends today; a consent") as s:
        case = s.get(m.Case, CASE)
        assert case is not None
        youth = s.scalars(select(m.User).where(m.User.username == "youth")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        assert case.lead_user_id != youth.id and youth.role == "member"
        rows = list(s.scalars(select(m.CaseMember).where(
            m.CaseMember.case_id == CASE, m.CaseMember.user_id == youth.id)))
        assert rows, "youth works case 2 in the demo"
        for row in rows:
            row.valid_to = TODAY  # the last day they work it
        s.add(m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                        category="youth_work", receiving_profession="social_work",
                        valid_from=TODAY - dt.timedelta(days=30),
                        recorded_by_id=social.id, evidence=EVIDENCE))


async def test_consents_go_from_the_screen_when_the_membership_ends_at_midnight(
        demo_backend: Backend, demo_settings: Settings) -> None:
    youth_works_case_until_today_and_a_consent(demo_backend)
    day = [TODAY]
    app = AnchorApp(demo_backend, dataclasses.replace(demo_settings, demo=True),
                    today=lambda: day[0], clock=ManualClock())
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, "youth")
        screen = ConsentScreen(CASE)
        await app.push_screen(screen)
        await settle(pilot)
        assert screen.history is not None
        assert any(line.evidence == EVIDENCE for line in screen.history.lines)

        day[0] = TODAY + dt.timedelta(days=1)  # midnight: youth no longer works the case
        app.check_the_day()
        await settle(pilot)
        with demo_backend.sessions.system("test: the trail") as s:
            last = s.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.id.desc())
                             .limit(1)).one()
        assert last == "access.denied"  # the read again was refused: youth may not see them
        for _ in range(3):  # the refusal said (an error screen), then dismissed
            if app.screen is not screen:
                await pilot.press("escape")
                await settle(pilot)
        assert app.screen is screen
        options = screen.query_one("#consent-list", OptionList)
        shown = [str(options.get_option_at_index(i).prompt)
                 for i in range(options.option_count)]
        assert screen.history is None and not shown, \
            f"the consents stay on screen after the membership ended: {shown}"
