"""A join followed by a leave read before it, with the database away when the roster
is read again: the join, applied as it came, stays on the screen's audience (only a
read after the latest change may widen the screen)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from anchor_tui.errors import ConnectionLostError
from anchor_tui.screens.terminal_messages import RosterChanged
from anchor_tui.services import huddle as huddle_service
from anchor_tui.settings import DEMO_PASSPHRASE
from tests.ui.conftest import TODAY, AppFactory, settle
from tests.ui.test_huddle import huddle_of, join


async def test_a_join_followed_by_a_stale_leave_is_kept_when_the_roster_cannot_be_read(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The social worker and the nurse are in a huddle. The police officer's join is
    written (its roster: all three); the nurse's leave, read before that join was
    written, arrives just after it (its roster: the social worker alone), the
    situation ``on_roster_changed``'s docstring names. The database then goes away:
    neither re-read answers."""

    def away(*_args: Any, **_kwargs: Any) -> Any:
        time.sleep(0.2)
        raise ConnectionLostError("The database is not answering.", "")

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        before = app.session.roster
        social = [p for p in before.present if p.username == "social"]
        joined = huddle_service.join_huddle(app.backend, screen.viewer, "police",
                                            DEMO_PASSPHRASE, TODAY)
        stale_leave = dataclasses.replace(before, present=tuple(social))
        monkeypatch.setattr(huddle_service, "current_roster", away)
        app.post_message(RosterChanged(joined, None))
        app.post_message(RosterChanged(stale_leave, None))
        for _ in range(3):
            await settle(pilot)
        on_screen = [p.username for p in app.session.roster.present]
        assert "police" in on_screen, (
            f"the police officer's join is written, but the screen's audience is "
            f"{on_screen}")
