"""A join narrows the shared screen at once, not after the roster is read again from
the database (which may take until its connection times out)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from textual.widgets import Input

from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.huddle_modals import JoinScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.settings import DEMO_PASSPHRASE
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import huddle_of


async def test_a_join_narrows_the_screen_before_the_roster_is_read_again(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The nurse joins the social worker's huddle with her passphrase; the database is
    slow to answer the roster's re-read (a loaded server, or one going away: the
    connect timeout). Until it answers, the shared screen still shows what the social
    worker alone may see, with the nurse in the room: the join form waits for the re-read,
    and Esc on it (its "Back") shows the huddle's screen as it was before she joined."""
    gate = threading.Event()
    real = huddle_service.current_roster

    def slow_current_roster(*args: Any, **kwargs: Any) -> Any:
        gate.wait(20)
        return real(*args, **kwargs)

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        monkeypatch.setattr(huddle_service, "current_roster", slow_current_roster)
        await pilot.press("plus")
        await settle(pilot)
        assert isinstance(app.screen, JoinScreen)
        try:
            app.screen.query_one("#username", Input).value = "nurse"
            app.screen.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
            app.screen.query_one("#passphrase", Input).focus()
            await pilot.pause()
            await pilot.press("enter")
            for _ in range(20):  # the join is written (the form waits for the re-read)
                await pilot.pause(0.05)
            # The form still up, the nurse's join written: Esc (its "Back").
            await pilot.press("escape")
            await pilot.pause(0.1)
            present = [p.username for p in app.session.roster.present]
            on_top = app.screen
            audience = ([p.profession for p in on_top.viewer.audience]
                        if isinstance(on_top, HuddleScreen) else None)
        finally:
            waited = gate.is_set()
            gate.set()
        await settle(pilot)
        assert not waited
        assert "nurse" in present and (audience is None or len(audience) == 2), (
            f"the nurse has joined (then Esc on its form: {on_top!r} on top) but the shared screen "
            f"still shows what {present} may see (audience {audience})")
