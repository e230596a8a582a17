"""The shared terminal on the real app: sign-in waits and lockout, switch user (nothing
of the previous viewer left anywhere), the idle lock with a controllable clock, and
another person taking over at the lock screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import CommandPalette
from textual.widgets import Input, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.domain import BoardColumn, CaseCard, Viewer
from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import CaseRecord, NoteEntry
from anchor_tui.services.clock import ManualClock
from anchor_tui.settings import DEMO_PASSPHRASE
from anchor_tui.widgets.case_record import NotesTimeline
from tests.ui.conftest import (
    AppFactory,
    all_text,
    board_cards,
    focused_card,
    settle,
    sign_in,
    widget_text,
)
from tests.ui.screen_reading import reachable, screen_text, strings_holding


def clock_of(app: AnchorApp) -> ManualClock:
    assert isinstance(app.clock, ManualClock)
    return app.clock


def message(app: AnchorApp) -> str:
    return str(app.screen.query_one("#sign-in-message", Static).render())


def audit_actions(backend: Backend) -> list[tuple[str, int | None]]:
    with backend.sessions.system("test") as s:
        return [(e.action, e.actor_id) for e in s.scalars(
            select(m.AuditEvent).order_by(m.AuditEvent.id))]


async def open_first_case(pilot: Any) -> CaseScreen:
    app = pilot.app
    focused_card(app)  # the cursor is on a card
    await pilot.press("enter")
    await settle(pilot)
    assert isinstance(app.screen, CaseScreen)
    return app.screen


# --- sign-in: right, wrong, slower, locked -------------------------------------------------

async def test_wrong_passphrases_wait_longer_each_time_without_freezing_the_form(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse", "wrong one")
        assert "Wrong username or passphrase" in message(app)
        assert "try “nurse” again in 2 s" in message(app)
        # Too soon: the right passphrase is not even tried (no worker starts).
        await sign_in(pilot, "nurse", DEMO_PASSPHRASE)
        assert isinstance(app.screen, SignInScreen) and app.viewer is None
        assert "again in 2 s" in message(app)
        # The form is not frozen meanwhile: typing works and the countdown moves.
        username = app.screen.query_one("#username", Input)
        username.focus()
        await pilot.press("end", "x")
        assert username.value == "nursex"
        username.value = "nurse"
        clock_of(app).advance(1)
        app.screen.tick()  # type: ignore[attr-defined]
        assert "again in 1 s" in message(app)
        clock_of(app).advance(1)
        await sign_in(pilot, "nurse", "wrong again")
        assert "again in 4 s" in message(app)  # longer the second time
        clock_of(app).advance(4)
        await sign_in(pilot, "nurse", DEMO_PASSPHRASE)
        assert isinstance(app.screen, BoardScreen) and app.viewer is not None


async def test_the_wait_is_for_that_username_only(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse", "wrong one")
        await sign_in(pilot, "police")  # the next person at the terminal need not wait
        assert isinstance(app.screen, BoardScreen) and app.viewer is not None
        assert app.viewer.username == "police"


async def test_the_account_locks_after_the_configured_wrong_passphrases(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    rules = demo_backend.team.sign_in
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(rules.max_failed_attempts):
            clock_of(app).advance(60)
            await sign_in(pilot, "youth", "a wrong guess")
        assert "this account is now locked" in message(app)
        assert "Try again in 5 min" in message(app)
        clock_of(app).advance(60)
        await sign_in(pilot, "youth")  # held back by the form: the lockout has 4 min left
        assert "try “youth” again in 4 min" in message(app) and app.viewer is None
        clock_of(app).advance(rules.lockout_seconds - 60)
        await sign_in(pilot, "youth")
        assert isinstance(app.screen, BoardScreen)
    with demo_backend.sessions.system("test") as s:
        youth = s.scalars(select(m.User).where(m.User.username == "youth")).one().id
    assert ("account.locked", youth) in audit_actions(demo_backend)


# --- switch user -----------------------------------------------------------------------------

async def test_switch_user_leaves_nothing_of_the_previous_viewer(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        nurse = app.viewer
        assert nurse is not None
        board = app.screen
        assert isinstance(board, BoardScreen)
        names = [card.person_label for card in board_cards(board)][:8]
        case_screen = await open_first_case(pilot)
        bodies = [note.body for note in case_screen.query_one(NotesTimeline).notes]
        assert names and bodies
        # What else a person leaves behind: a copied line, a notification, the palette.
        app.copy_to_clipboard(bodies[0])
        app.notify(f"Moved {names[0]} to Screening", markup=False)
        await pilot.press("colon")
        await pilot.press(*"open")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        markers = [nurse.display_name, *names, *(b[:40] for b in bodies)]
        # The walk does find what the app holds (so finding nothing below means something).
        assert set(strings_holding(app, markers)) == set(markers)
        assert any(isinstance(obj, NoteEntry) for obj in reachable(app))

        await pilot.press("ctrl+o")  # one key, from the case screen
        await settle(pilot)

        assert isinstance(app.screen, SignInScreen) and app.viewer is None
        assert len(app.screen_stack) == 1 and app.clipboard == ""
        shown = all_text(app) + screen_text(app)
        assert not [w for w in markers if w in shown]
        assert strings_holding(app, markers) == {}
        left = [obj for obj in reachable(app)
                if isinstance(obj, CaseCard | BoardColumn | CaseRecord | NoteEntry)
                or (isinstance(obj, Viewer) and obj.user_id == nurse.user_id)]
        assert left == []

        await sign_in(pilot, "police")  # the next person sees only their own view
        assert app.viewer is not None and app.viewer.username == "police"
        # The nurse may still be named where the police's own view names her (as the
        # lead of a case on a card), never as the one signed in.
        board = app.screen
        assert isinstance(board, BoardScreen)
        leads = {f"Lead {card.lead}" for card in board_cards(board)
                 if card.lead is not None}
        shown = all_text(app)
        for lead in leads:
            shown = shown.replace(lead, "")
        assert nurse.display_name not in shown
        assert "Police" in widget_text(board.query_one("#board-viewer"))
    assert ("sign_out", nurse.user_id) in audit_actions(app.backend)


async def test_quitting_signs_the_person_out_in_the_trail(make_app: AppFactory) -> None:
    """ctrl+q with someone signed in ends their session like ctrl+o: the audit trail
    (and the young person's access report) never shows a session that did not end."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        nurse = app.viewer
        assert nurse is not None
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert app.return_code == 0
    # (The app records the policy it loaded as it opens, in a thread of its own: that
    # record may come after a sign-in as quick as the test's.)
    sessions = [a for a in audit_actions(app.backend) if a[0] != "policy.load"]
    assert sessions[-2:] == [("sign_in", nurse.user_id), ("sign_out", nurse.user_id)]


async def test_quitting_while_the_database_is_away_still_quits(
        make_app: AppFactory, monkeypatch: Any) -> None:
    from anchor_tui.errors import ConnectionLostError
    from anchor_tui.services import audit

    def away(*_args: object, **_kwargs: object) -> int:
        raise ConnectionLostError("The connection to the database server was lost.", "")

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        monkeypatch.setattr(audit, "signed_out", away)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert app.return_code == 0 and not app.is_running


async def test_quitting_at_sign_in_records_nothing(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        before = audit_actions(app.backend)
        await pilot.press("ctrl+q")
        await settle(pilot)
    assert audit_actions(app.backend) == before


async def test_switch_user_works_from_inside_an_input(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        await pilot.press("slash", *"aino")
        assert isinstance(app.focused, Input)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, SignInScreen) and app.viewer is None


# --- the idle lock ---------------------------------------------------------------------------

async def test_the_terminal_locks_after_the_idle_seconds_and_shows_nothing(
        make_app: AppFactory) -> None:
    app = make_app()
    idle = app.settings.team.idle_lock_seconds
    assert idle == 120
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await sign_in(pilot, "social")
        social = app.viewer
        assert social is not None
        case_screen = await open_first_case(pilot)
        assert any(t._callback == app.lock_if_idle for t in app._timers)  # every second
        markers = [note.body[:40] for note in case_screen.query_one(NotesTimeline).notes]
        markers.append(str(case_screen.query_one("#case-title", Static).render())[:20])
        clock_of(app).advance(idle - 1)
        await app.lock_if_idle()
        assert app.screen is case_screen  # not yet
        await pilot.press("2")  # a key: the count starts again
        clock_of(app).advance(idle - 1)
        await app.lock_if_idle()
        assert app.screen is case_screen
        clock_of(app).advance(1)
        await app.lock_if_idle()
        await settle(pilot)

        lock = app.screen
        assert isinstance(lock, LockScreen) and app.screen_stack == [lock]
        shown = all_text(app) + screen_text(app)
        assert not [w for w in markers if w in shown]
        assert social.display_name in shown  # who may unlock: staff, not a client
        app.notify("Moved someone", markup=False)
        await pilot.press("colon")  # neither the palette nor switching user while locked
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen is lock and "Moved someone" not in screen_text(app)
        assert not app._notifications

        await sign_in(pilot, "social", "not it")
        assert app.screen is lock and "Wrong" in message(app)
        clock_of(app).advance(2)
        await sign_in(pilot, "social")
        assert app.screen is case_screen  # just where it was
        assert app.viewer is social
        await settle(pilot)
        assert "Moved someone" in screen_text(app)  # held while locked, shown now
    actions = audit_actions(app.backend)
    assert ("lock", social.user_id) in actions and ("unlock", social.user_id) in actions


class EditorLike(AnchorScreen):
    """Stands in for the note editor: it holds unsaved text until asked to keep it."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="test.editor_back")]  # noqa: RUF012

    def __init__(self, backend: Backend, viewer: Viewer, case_id: int) -> None:
        super().__init__()
        self._backend = backend
        self._viewer = viewer
        self._case_id = case_id
        self.kept = False

    def compose(self) -> ComposeResult:
        yield Input("half a sentence of a note", id="editor")

    def draft_saver(self) -> Callable[[], None]:
        text = self.query_one(Input).value  # read on the UI thread, saved off it

        def keep() -> None:
            with self._backend.sessions.write(self._viewer) as session:
                session.add(m.Draft(author_id=self._viewer.user_id, case_id=self._case_id,
                                    category="general", body=text))
            self.kept = True

        return keep


async def test_another_person_at_the_lock_screen_ends_the_session_keeping_drafts(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await sign_in(pilot, "social")
        social = app.viewer
        assert social is not None
        case_screen = await open_first_case(pilot)
        editor = EditorLike(app.backend, social, case_screen.case_id)
        await app.push_screen(editor)
        with app.backend.sessions.write(social) as s:
            # On another case: one draft of a new note per author and case (migration 0006).
            other_case = s.scalar(select(m.Case.id).where(m.Case.id != case_screen.case_id)
                                  .order_by(m.Case.id).limit(1))
            s.add(m.Draft(author_id=social.user_id, case_id=other_case,
                          supersedes_id=None, category="health", body="an older draft"))
        await pilot.press("ctrl+g")  # lock at once
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        username = app.screen.query_one("#username", Input)
        assert username.value == "social"  # ready for the same person
        username.value = ""
        await sign_in(pilot, "youth")
        assert isinstance(app.screen, BoardScreen)
        assert app.viewer is not None and app.viewer.username == "youth"
        assert editor.kept and len(app.screen_stack) == 1
        said = [n.message for n in app._notifications]
        assert said == [f"{social.display_name}'s session has ended; their drafts and open "
                        "forms are kept."]
        assert "session has ended" in screen_text(app)
        assert "half a sentence" not in all_text(app)
    with app.backend.sessions.write(social) as s:
        drafts = sorted(d.body for d in s.scalars(select(m.Draft)))
    assert drafts == ["an older draft", "half a sentence of a note"]
    actions = audit_actions(app.backend)
    youth = app.viewer.user_id
    assert actions[-3:] == [("lock", social.user_id), ("sign_out", social.user_id),
                            ("sign_in", youth)]


async def test_the_palette_and_the_keys_name_the_shared_terminal_commands(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "lead")
        await pilot.press("colon")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        from tests.ui.test_palette_help_keys import palette_options

        names = palette_options(app)
        for wanted in ("app: switch user", "app: sign out", "app: lock", "huddle: start"):
            assert wanted in names
    ids = {b.id for b in AnchorApp.BINDINGS if isinstance(b, Binding)}
    assert {"app.switch_user", "app.lock", "app.huddle"} <= ids


async def test_switching_context_draws_once_the_screen_is_mounted(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in, the board after it, the lock and back: no fixed hold of the screen
    (Textual's 50 ms ``delay_update`` on a mode switch), and nothing held after."""
    held: list[float] = []
    original = App.delay_update

    def spy(self: App[Any], delay: float = 0.05) -> None:
        held.append(delay)
        original(self, delay)

    monkeypatch.setattr(App, "delay_update", spy)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, SignInScreen) and not app._batch_count
        await sign_in(pilot, "social")
        assert isinstance(app.screen, BoardScreen) and not app._batch_count
        await app.action_lock()
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen) and not app._batch_count
        assert held == []
        # The palette still holds the screen while it closes (its own transition).
        app.delay_update()
        assert held == [0.05] and app._batch_count == 1


async def test_the_lock_empties_the_clipboard(make_app: AppFactory) -> None:
    """Text copied before the lock (a note being written) cannot be pasted into the lock
    screen's fields by whoever comes next."""
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await sign_in(pilot, "social")
        app.copy_to_clipboard("Disclosed abuse at home")
        clock_of(app).advance(app.settings.team.idle_lock_seconds)
        await app.lock_if_idle()
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        username = app.screen.query_one("#username", Input)
        username.focus()
        await pilot.press("ctrl+v")
        await pilot.pause()
        assert app.clipboard == "" and "abuse" not in username.value
