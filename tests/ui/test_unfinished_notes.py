"""No typed note is lost because its author left the terminal.

A note saved while the database was away is kept in the app and saved when it is back;
if that save then fails (the case closed meanwhile, the corrected note changed) after
the author has switched user, its text used to be nowhere: the editor was gone, the
draft had stopped with the save. Now a note whose save fails becomes its author's draft,
and the board says at sign-in that unfinished notes wait, and on which cases.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.notifications import Notification

from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import note_editor
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import save_draft
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import CASE, asked, drafts_of, open_editor, user_id

WORDS = "Met at the youth centre; wants to talk to the school counsellor."


def away_then_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The note's first save finds the server away; the second is refused."""
    calls: list[int] = []

    def save(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        raise AnchorError("The case was closed meanwhile.", "Open it again to write on it.")

    monkeypatch.setattr(note_editor, "save_note", save)


def told(app: Any) -> list[Notification]:
    return list(app._notifications)


async def test_a_kept_note_refused_after_its_author_left_becomes_her_draft(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    away_then_refused(monkeypatch)
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await sign_in(pilot, "social")
        app.live.stop()  # the test says when the server is back
        await open_editor(app, pilot)
        await pilot.press(*WORDS, "ctrl+s")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1  # kept: the server is away
        await pilot.press("ctrl+o")  # she leaves; nothing of hers may show to the next
        await settle(pilot)
        await sign_in(pilot, "police")
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert drafts_of(demo_backend, "social") == [WORDS]  # refused, kept as her draft
        # The police are told nothing of it (her case, her words, her failure).
        assert not any(WORDS[:20] in n.message or "draft" in n.message.lower()
                       for n in told(app)), [n.message for n in told(app)]

        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in(pilot, "social")
        assert isinstance(app.screen, BoardScreen)
        notes = [n.message for n in told(app) if n.title == "Drafts"]
        assert notes == [f"1 unfinished note is kept as a draft (case {CASE}). Writing a "
                         "note on the case (n) offers yours back."]
        await app.push_screen(CaseScreen(CASE))  # and it is offered back
        await settle(pilot)
        await pilot.press("n")
        offer = await asked(app, pilot)
        assert isinstance(offer, ChoiceScreen) and WORDS in offer.note
        await pilot.press("enter")  # continue the draft
        await settle(pilot)
        assert isinstance(app.screen, NoteEditorScreen)
        assert app.screen.body.text == WORDS


async def test_the_board_counts_only_the_persons_own_drafts_and_not_in_a_huddle(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from anchor_tui.services.auth import viewer_for
    from anchor_tui.services.drafts import drafts_waiting

    nurse_id, social_id = user_id(demo_backend, "nurse"), user_id(demo_backend, "social")
    with demo_backend.sessions.system("test: who") as s:
        from anchor_tui.db import models as m

        nurse = viewer_for(s.get_one(m.User, nurse_id))
        social = viewer_for(s.get_one(m.User, social_id))
    for case_id, words in ((CASE, "first"), (CASE + 1, "second"), (CASE, "first, again")):
        save_draft(demo_backend, nurse, case_id, None, "health", None, words)
    assert drafts_waiting(demo_backend, social).count == 0  # the nurse's are hers alone
    mine = drafts_waiting(demo_backend, nurse)
    assert mine.count == 2 and set(mine.case_ids) == {CASE, CASE + 1}
    import dataclasses

    in_huddle = dataclasses.replace(nurse, purpose="huddle")
    assert drafts_waiting(demo_backend, in_huddle).count == 0

    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await sign_in(pilot, "social")
        assert not [n for n in told(app) if n.title == "Drafts"]
