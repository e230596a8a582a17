"""Huddle mode on the real app with the demo team: joining by one's own passphrase, what
is shown equals the intersection (checked against ``decide()``), the banner, the empty
huddle, removal asked first, decisions and actions from the keyboard, the minutes."""

from __future__ import annotations

import stat
from typing import Any

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.screens import BoardScreen, SignInScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.huddle_modals import ActionScreen, JoinScreen, NoticeScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import ManualClock, moment_on
from anchor_tui.services.disclosure import load_context, note_facts
from anchor_tui.widgets.huddle_banner import HuddleBanner
from tests.ui.asking import choose
from tests.ui.conftest import TODAY, AppFactory, all_text, board_cards, focus_card, settle, sign_in
from tests.ui.screen_reading import screen_text


async def shown(pilot: Pilot[Any], kind: type[Any]) -> Any:
    """Wait (for messages, not for time) until a screen of ``kind`` is on top. A question
    is asked from a worker that waits for the answer, so ``settle`` would wait forever."""
    for _ in range(50):
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
        await pilot.pause()
    raise AssertionError(f"{kind.__name__} did not appear; on top: {pilot.app.screen!r}")


async def huddle_of(pilot: Pilot[Any], starter: str) -> HuddleScreen:
    app = pilot.app
    await sign_in(pilot, starter)
    await pilot.press("ctrl+t")
    await shown(pilot, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, HuddleScreen)
    return screen


async def join(pilot: Pilot[Any], username: str, *extra: str) -> HuddleScreen:
    app = pilot.app
    await pilot.press("plus")
    await settle(pilot)
    assert isinstance(app.screen, JoinScreen)
    await sign_in(pilot, username, *extra)
    screen = app.screen
    assert isinstance(screen, HuddleScreen)
    return screen


def banner(screen: Any) -> str:
    return str(screen.query_one(HuddleBanner).render())


def individual(backend: Backend, user_id: int) -> Viewer:
    with backend.sessions.system("test") as s:
        user = s.get(m.User, user_id)
        assert user is not None
        return viewer_for(user)


def allowed_to_each(backend: Backend, huddle: Viewer, case_id: int) -> tuple[set[int], dict[
        int, str]]:
    """Ids of the case's notes decide() allows to every attendee on their own, and every
    note's body by id."""
    people = [individual(backend, who.user_id) for who in huddle.audience]
    now = moment_on(TODAY)
    with backend.sessions.system("test") as s:
        notes = list(s.scalars(select(m.Note).where(m.Note.case_id == case_id)))
        case = s.get(m.Case, case_id)
        assert case is not None
        ctx = load_context(s, [case_id], now)
        allowed = {n.id for n in notes
                   if all(backend.policy.decide(p, note_facts(n, case.person_id), ctx).allowed
                          for p in people)}
        return allowed, {n.id: n.body for n in notes}


def check_shown_is_the_intersection(app: AnchorApp, screen: HuddleScreen) -> int:
    """The case on screen shows exactly the notes every attendee may see; returns how many."""
    assert screen.view is not None
    record = screen.view.record
    assert record.notes.more is None
    shown = {n.note_id for n in record.notes.notes}
    allowed, bodies = allowed_to_each(app.backend, screen.viewer, record.summary.case_id)
    assert shown == allowed
    text = all_text(app)
    for note_id, body in bodies.items():
        if note_id not in allowed and body not in {bodies[i] for i in allowed}:
            assert body not in text
    for note_id in allowed:
        assert bodies[note_id].splitlines()[0][:30] in text
    return len(shown)


async def test_two_then_three_professions_see_only_what_all_of_them_may(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await huddle_of(pilot, "social")
        assert "Social work present (1)" in banner(screen)
        screen = await join(pilot, "nurse")
        assert "Social work, Health present (2)" in banner(screen)
        two: list[int] = []
        for _ in range(4):
            two.append(check_shown_is_the_intersection(app, screen))
            await pilot.press("n")
            await settle(pilot)
        screen = await join(pilot, "youth")
        assert "Social work, Health, Youth work present (3)" in banner(screen)
        assert screen.current == 4  # the agenda stays where it was
        await pilot.press("p", "p", "p", "p")
        await settle(pilot)
        three: list[int] = []
        for _ in range(4):
            three.append(check_shown_is_the_intersection(app, screen))
            await pilot.press("n")
            await settle(pilot)
        assert all(c <= b for b, c in zip(two, three, strict=True))  # a joiner narrows
        assert sum(three) < sum(two)


async def test_nobody_is_added_without_their_own_passphrase(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "social")
        await pilot.press("plus")
        await settle(pilot)
        await sign_in(pilot, "police", "the social worker's guess")
        join_screen = app.screen
        assert isinstance(join_screen, JoinScreen)
        assert "Wrong username or passphrase" in str(
            join_screen.query_one("#sign-in-message", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HuddleScreen)
        assert [p.username for p in screen.roster.present] == ["social"]


async def test_an_empty_huddle_shows_nothing(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await huddle_of(pilot, "social")
        labels = [e.person_label for e in screen.agenda]
        assert labels
        await pilot.press("minus")
        await shown(pilot, ChoiceScreen)
        await pilot.press("enter")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HuddleScreen) and screen.roster.present == ()
        assert screen.viewer.audience == () and screen.agenda == ()
        assert "nobody present" in banner(screen)
        text = all_text(app) + screen_text(app)
        assert "Nobody is present, so nothing is shown" in text
        assert not [label for label in labels if label in text]
        await pilot.press("b")  # and no board either
        await settle(pilot)
        assert app.screen is screen


async def test_removing_someone_widens_and_is_asked_first(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "youth")
        narrow = check_shown_is_the_intersection(app, screen)
        await pilot.press("minus")
        await shown(pilot, ChoiceScreen)
        await pilot.press("down", "enter")  # the youth worker
        confirm = await shown(pilot, ConfirmScreen)
        assert "Youth work" in confirm.question and "can be more than now" in confirm.question
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is screen and len(screen.roster.present) == 2  # nothing changed
        await pilot.press("minus")
        await shown(pilot, ChoiceScreen)
        await pilot.press("down", "enter")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        wider = app.screen
        assert isinstance(wider, HuddleScreen) and wider is not screen  # new reads
        assert [p.username for p in wider.roster.present] == ["social"]
        assert check_shown_is_the_intersection(app, wider) >= narrow


async def test_the_banner_is_on_every_screen_of_the_huddle(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "police")
        await join(pilot, "nurse")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        assert "Police, Health present (2)" in banner(app.screen)
        assert "HUDDLE ON" in screen_text(app)
        await pilot.press("escape", "b")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen) and board.viewer.purpose == "huddle"
        assert "HUDDLE ON" in screen_text(app)


async def test_the_huddle_board_offers_no_saved_filter_about_one_person(
    make_app: AppFactory,
) -> None:
    """"My cases" and "Waiting for my profession" would be the chair's (the huddle's
    viewer carries the chair's user and profession): the room's board offers neither,
    by ``f`` or in the palette; the chair alone is offered both."""
    personal = {"My cases", "Waiting for my profession"}
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("b")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen) and board.viewer.purpose == "huddle"
        await pilot.press("f")
        picker = await shown(pilot, ChoiceScreen)
        offered = {label for _, label in picker.choices}
        assert {"Review due this week", "High priority"} <= offered
        assert not offered & personal
        await pilot.press("escape")
        await settle(pilot)
        commands = {c.name for c in board.palette_commands()}
        assert "board: saved filter High priority" in commands
        assert not {f"board: saved filter {label}" for label in personal} & commands
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("f")
        picker = await shown(pilot, ChoiceScreen)
        assert personal <= {label for _, label in picker.choices}


async def test_decisions_actions_next_case_and_the_timer(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        first = screen.entry()
        assert first is not None
        clock = app.clock
        assert isinstance(clock, ManualClock)
        clock.advance(65)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "enter")
        await settle(pilot)
        await pilot.press("a")
        action = await shown(pilot, ActionScreen)
        nurse = next(mb for mb in action.members if mb.profession == "health")
        await pilot.press(*"Call the school", "enter")
        index = 1 + [mb.user_id for mb in action.members].index(nurse.user_id)
        await pilot.press(*(["down"] * index), "enter", "plus", "3", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert screen.view is not None
        assert [(i.kind, i.text, i.assignee) for i in screen.view.items] == [
            ("decision", "Meet the family", None),
            ("action", "Call the school", nurse.display_name)]
        items = str(screen.query_one("#huddle-items", Static).render())
        assert "Meet the family" in items and "Call the school" in items
        screen.show_time()  # (as it does every second: the clock here is the test's)
        assert "This case 1 min 5 s" in str(screen.query_one("#huddle-timer",
                                                               Static).render())
        await pilot.press("n")  # one key to the next case; the time is kept
        await settle(pilot)
        assert screen.current == 1
    with app.backend.sessions.system("test") as s:
        task = s.scalars(select(m.Task).where(m.Task.title == "Call the school")).one()
        assert task.assignee_id == nurse.user_id
        assert task.due == TODAY.replace(day=TODAY.day + 3)
        spent = s.scalars(select(m.HuddleCase.seconds_spent).where(
            m.HuddleCase.case_id == first.case_id)).one()
        assert spent == 65


async def test_w_writes_a_note_on_the_case_under_discussion(make_app: AppFactory) -> None:
    from anchor_tui.screens.note_editor import NoteEditorScreen
    from anchor_tui.widgets.note_text_area import NoteTextArea

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        entry = screen.entry()
        assert entry is not None
        await pilot.press("w")  # one key, as n on the board and in the case view
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen) and editor.case_id == entry.case_id
        title = str(editor.query_one("#editor-title", Static).render())
        assert "in the huddle, written as Sanna Koivisto (Social work)" in title  # the chair
        assert editor.query(HuddleBanner), "the banner stays on the editor"
        editor.query_one(NoteTextArea).insert("Agreed in the huddle: a joint home visit")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen  # back on the huddle, on the same case
        assert screen.entry() == entry
        assert screen.view is not None
        assert "Agreed in the huddle: a joint home visit" in str(
            screen.query_one("#huddle-case-body", Static).render())
    with app.backend.sessions.system("test") as s:
        note = s.scalars(select(m.Note).where(
            m.Note.body == "Agreed in the huddle: a joint home visit")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        assert (note.case_id, note.author_id) == (entry.case_id, social.id)  # the chair


async def test_ending_stores_and_writes_minutes_of_what_all_could_see(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        backend = app.backend
        # A case where the nurse and the social worker see a note the youth worker may not.
        pair = screen.viewer
        target = None
        for index, entry in enumerate(screen.agenda):
            both, _ = allowed_to_each(backend, pair, entry.case_id)
            with backend.sessions.system("test") as s:
                youth = s.scalars(select(m.User).where(m.User.username == "youth")).one()
            trio = Viewer(pair.user_id, pair.username, pair.display_name, pair.profession,
                          pair.role, purpose="huddle", huddle_id=pair.huddle_id,
                          attendees=(*pair.attendees, viewer_for(youth).audience[0]))
            three, _ = allowed_to_each(backend, trio, entry.case_id)
            if three < both:
                target = index
                break
        assert target is not None, "the demo week has a note the youth worker may not see"
        screen._go(target)
        await settle(pilot)
        clock = app.clock
        assert isinstance(clock, ManualClock)
        clock.advance(30)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Between the two of us", "enter")
        await settle(pilot)
        clock.advance(30)
        screen = await join(pilot, "youth")
        await pilot.press("n")
        await settle(pilot)
        clock.advance(30)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Said in front of all three", "enter")
        await settle(pilot)
        assert isinstance(app.screen, HuddleScreen)
        bodies = [n.body for n in app.screen.view.record.notes.notes]  # type: ignore[union-attr]
        await pilot.press("e")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        notice = app.screen
        assert isinstance(notice, NoticeScreen)
        assert isinstance(app.screen_stack[0], SignInScreen) and app.viewer is None
        path = app.settings.minutes_dir / next(  # type: ignore[operator]
            p.name for p in app.settings.minutes_dir.iterdir())  # type: ignore[union-attr]
        assert str(path) in notice.message.replace("\n", "")
        minutes = path.read_text()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert "Said in front of all three" in minutes
        assert "Between the two of us" not in minutes
        assert not [b for b in bodies if b[:30] in minutes]  # notes never go in
        with backend.sessions.system("test") as s:
            huddle = s.scalars(select(m.Huddle).order_by(m.Huddle.id.desc())).first()
            assert huddle is not None and huddle.minutes == minutes
            assert huddle.ended_at is not None


async def test_a_flagged_case_comes_onto_the_agenda(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "youth")
        board = app.screen
        assert isinstance(board, BoardScreen)
        card = focus_card(board, board_cards(board)[-1].case_id)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, HuddleScreen)
        entry = next(e for e in screen.agenda if e.case_id == card.case_id)
        assert "Flagged for the huddle" in entry.reasons


async def test_switch_user_in_a_huddle_ends_it_and_stores_the_minutes(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "lead")
        await pilot.press("ctrl+o")
        await choose(pilot, "end")  # asked first (test_huddle_ending_asks_first)
        await settle(pilot)
        assert isinstance(app.screen_stack[0], SignInScreen) and app.viewer is None
        assert isinstance(app.screen, NoticeScreen)
    with app.backend.sessions.system("test") as s:
        huddle = s.scalars(select(m.Huddle)).one()
        assert huddle.ended_at is not None and huddle.minutes


async def test_quitting_in_a_huddle_ends_it_and_signs_out(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "lead")
        lead = app.session.person
        await join(pilot, "nurse")
        await pilot.press("ctrl+q")
        await choose(pilot, "end")  # asked first (test_huddle_ending_asks_first)
        await settle(pilot)
    assert lead is not None and app.return_code == 0
    with app.backend.sessions.system("test") as s:
        huddle = s.scalars(select(m.Huddle)).one()
        assert huddle.ended_at is not None and huddle.minutes
        assert s.scalars(select(m.HuddleAttendee.left_at)).all() != [] and None not in \
            s.scalars(select(m.HuddleAttendee.left_at)).all()
        last = s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc())).first()
        assert last is not None and (last.action, last.actor_id) == ("sign_out", lead.user_id)


async def test_a_locked_huddle_unlocks_for_anyone_present(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        labels = [e.person_label for e in screen.agenda][:5]
        await pilot.press("ctrl+g")
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        text = all_text(app) + screen_text(app)
        assert "Social work, Health present" in text
        assert not [label for label in labels if label in text]
        await sign_in(pilot, "nurse")
        assert app.screen is screen


async def test_a_roster_change_that_finishes_behind_the_lock_keeps_it_locked(
        make_app: AppFactory) -> None:
    from anchor_tui.screens.terminal_messages import RosterChanged
    from anchor_tui.services.huddle import leave_huddle

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        await pilot.press("ctrl+g")
        await settle(pilot)
        lock = app.screen
        assert isinstance(lock, LockScreen)
        heading = lock.query_one("#sign-in-title", Static)
        assert "Social work, Health present" in str(heading.render())
        nurse = next(p for p in screen.roster.present if p.username == "nurse")
        # The nurse's leaving was on its way when the terminal locked.
        roster = leave_huddle(app.backend, screen.viewer, nurse.user_id)
        app.post_message(RosterChanged(roster, None))
        await settle(pilot)
        assert app.screen is lock and app.session.locked
        assert "(Social work present)" in str(heading.render())  # who may unlock now
        await sign_in(pilot, "nurse")  # no longer present: a takeover, not an unlock
        await choose(pilot, "end")  # (asked first: it ends the huddle)
        assert isinstance(app.screen, NoticeScreen)  # the huddle ended: its minutes
        assert isinstance(app.screen_stack[0], BoardScreen)
        assert app.viewer is not None and app.viewer.username == "nurse"
