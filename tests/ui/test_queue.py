"""The triage queue in the app: reached from the board, every key, every action, the
person's place kept after a change, and nothing shown that the viewer may not see."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.domain import QueueItem
from anchor_tui.palette import commands_for
from anchor_tui.policy import load_policy
from anchor_tui.screens import BoardScreen, ErrorScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.help import HelpScreen
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.screens.queue import QueueScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.queue import queue_sections
from anchor_tui.settings import Settings
from anchor_tui.widgets.queue_list import QueueList, SectionBar
from tests.integration.board_world import NAMELESS_YOUTH_FIELDS, SHIPPED_YOUTH_FIELDS
from tests.ui.asking import choose, give_reason, settle_asking
from tests.ui.conftest import TODAY, AppFactory, all_text, settle, sign_in


async def open_queue(app: AnchorApp, pilot: Pilot[None], user: str) -> QueueScreen:
    await sign_in(pilot, user)
    assert isinstance(app.screen, BoardScreen)
    await pilot.press("t")
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, QueueScreen)
    return screen


def highlighted(screen: QueueScreen) -> QueueItem:
    item = screen.current_item()
    assert item is not None
    return item


async def go_to(pilot: Pilot[None], screen: QueueScreen, section: str, index: int = 0) -> None:
    """Jump to a section with its number key and go down to item ``index`` with j."""
    number = [s.id for s in screen.sections].index(section) + 1
    await pilot.press(str(number), *["j"] * index)
    assert screen.section.id == section


def list_text(screen: QueueScreen) -> str:
    """What the list of items shows (the option prompts)."""
    shown = screen.query_one(QueueList)
    return "\n".join(str(shown.get_option_at_index(i).prompt)
                     for i in range(shown.option_count))


def text_of(screen: QueueScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def works(backend: Backend, case_id: int, user_id: int) -> bool:
    with backend.sessions.system("test: membership") as s:
        return s.scalar(select(m.CaseMember.id).where(
            m.CaseMember.case_id == case_id, m.CaseMember.user_id == user_id).limit(1)) \
            is not None


def case_row(backend: Backend, case_id: int) -> tuple[str, int | None, int]:
    with backend.sessions.system("test: the case now") as s:
        case = s.get(m.Case, case_id)
        assert case is not None
        return case.stage, case.lead_user_id, case.version


async def test_t_opens_the_queue_with_the_sections_and_counts_of_the_service(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "nurse")
        expected = queue_sections(demo_backend, screen.viewer, TODAY)
        assert [(s.id, s.total) for s in screen.sections] == [(s.id, s.total) for s in expected]
        assert [i.case_id for i in screen.sections[0].items] == \
            [i.case_id for i in expected[0].items]
        bar = str(screen.query_one(SectionBar).render())
        for number, section in enumerate(expected, start=1):
            assert f"{number} " in bar and f" {section.total}" in bar
        assert "▸1 To screen" in bar  # the first section with items, marked not by colour
        title = text_of(screen, "#queue-title")
        assert expected[0].label in title
        shown = screen.query_one(QueueList)
        assert shown.option_count == len(expected[0].items)
        assert "▌" in str(shown.get_option_at_index(0).prompt)  # the highlight, in text
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_moving_in_and_between_sections(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "nurse")
        queue_list = screen.query_one(QueueList)
        count = len(screen.section.items)
        assert count > 3
        await pilot.press("down", "j", "j")
        assert queue_list.highlighted == 3
        await pilot.press("up", "k")
        assert queue_list.highlighted == 1
        await pilot.press("end")
        assert queue_list.highlighted == count - 1
        await pilot.press("j")  # stops at the end of a section
        assert queue_list.highlighted == count - 1
        await pilot.press("home", "k")
        assert queue_list.highlighted == 0
        ids = [s.id for s in screen.sections]
        await pilot.press("right")
        assert screen.section.id == ids[1] and queue_list.highlighted == 0
        await pilot.press("l", "h", "left")
        assert screen.section.id == ids[0]
        await pilot.press("left")  # round to the last section
        assert screen.section.id == ids[-1]
        for number, section in enumerate(ids, start=1):
            await pilot.press(str(number))
            assert screen.section.id == section
            assert screen.section.label in text_of(screen, "#queue-title")
            assert f"▸{number} " in str(screen.query_one(SectionBar).render())


async def test_brackets_go_on_across_sections_and_stop_at_the_ends(
    make_app: AppFactory
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "nurse")
        first = screen.section
        await pilot.press("end", "right_square_bracket")
        with_items = [s for s in screen.sections if s.items]
        assert screen.section.id == with_items[1].id
        assert highlighted(screen) == with_items[1].items[0]
        await pilot.press("left_square_bracket")
        assert screen.section.id == first.id and highlighted(screen) == first.items[-1]
        await pilot.press("1", "left_square_bracket")  # the start of the queue: said so
        await pilot.pause()
        assert screen.section.id == first.id
        assert any("start of your queue" in n.message for n in app._notifications)


async def test_empty_section_says_so_and_actions_are_off(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "nurse")
        empty = next(i for i, s in enumerate(screen.sections) if not s.items)
        await pilot.press(str(empty + 1))
        assert screen.current_item() is None
        assert "Nothing waiting" in text_of(screen, "#queue-empty")
        assert screen.query_one("#queue-empty").display
        for action in ("open_case", "take", "assign", "snooze", "screened"):
            assert screen.check_action(action, ()) is None
        await pilot.press("enter", "t", "a", "z", "s")
        await settle_asking(pilot)
        assert app.screen is screen


async def test_enter_opens_the_case_and_coming_back_reads_the_queue_again(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await pilot.press("j")
        item = highlighted(screen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == item.case_id
        # Meanwhile someone screens the first case: the queue shows it on return.
        first = screen.section.items[0]
        with demo_backend.sessions.system("test: screened elsewhere") as s:
            s.add(m.CaseEvent(case_id=first.case_id, kind="screened", to_value="take"))
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert first.case_id not in [i.case_id for i in screen.section.items]
        assert highlighted(screen) == item, "the same item keeps the highlight"


async def test_take_as_lead_then_the_queue_keeps_the_place(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "youth")
        viewer = screen.viewer
        await go_to(pilot, screen, "to_screen")
        index = next(i for i, item in enumerate(screen.section.items)
                     if not works(demo_backend, item.case_id, viewer.user_id))
        await pilot.press(*["j"] * index, "t")
        item = highlighted(screen)
        await choose(pilot, "lead")
        assert app.screen is screen
        assert works(demo_backend, item.case_id, viewer.user_id)
        assert case_row(demo_backend, item.case_id)[1] == viewer.user_id
        assert screen.changed and highlighted(screen) == item  # still to screen: same item
        assert any("You now lead" in n.message for n in app._notifications)
        await pilot.press("escape")  # the board reads itself again after a change
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen)


async def test_assign_the_lead_from_the_members(make_app: AppFactory,
                                                demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "reviews_due")
        index = next(i for i, item in enumerate(screen.section.items)
                     if len(set(members_of(demo_backend, item.case_id))) > 1)
        await pilot.press(*["j"] * index)
        item = highlighted(screen)
        _, lead_before, _ = case_row(demo_backend, item.case_id)
        await pilot.press("a")
        await settle_asking(pilot)
        choice = app.screen
        assert isinstance(choice, ChoiceScreen) and "leads" in choice.title_text
        other = next(value for value, _ in choice.choices if int(value) != lead_before)
        await choose(pilot, other)
        assert case_row(demo_backend, item.case_id)[1] == int(other)
        with demo_backend.sessions.system("test: history") as s:
            kinds = list(s.scalars(select(m.CaseEvent.kind).where(
                m.CaseEvent.case_id == item.case_id)))
        assert "lead" in kinds


async def test_assign_a_task_to_a_member_and_the_next_item_takes_its_place(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "my_tasks")
        viewer = screen.viewer
        index = next(i for i, item in enumerate(screen.section.items)
                     if any(u != viewer.user_id for u in members_of(demo_backend, item.case_id)))
        await pilot.press(*["j"] * index)
        item = highlighted(screen)
        following = screen.section.items[index + 1]
        total = screen.section.total
        await pilot.press("a")
        await choose(pilot, "task")
        choice = app.screen
        assert isinstance(choice, ChoiceScreen) and item.what in choice.title_text
        other = next(v for v, _ in choice.choices if int(v) != viewer.user_id)
        await choose(pilot, other)
        with demo_backend.sessions.system("test: the task") as s:
            task = s.get(m.Task, item.task_id)
            assert task is not None and task.assignee_id == int(other)
        assert screen.section.id == "my_tasks" and screen.section.total == total - 1
        assert highlighted(screen) == following


def members_of(backend: Backend, case_id: int) -> list[int]:
    with backend.sessions.system("test: members") as s:
        return list(s.scalars(select(m.CaseMember.user_id).where(
            m.CaseMember.case_id == case_id, m.CaseMember.valid_to.is_(None))))


async def test_snooze_asks_how_long_and_why_and_hides_the_case(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "reviews_due", 1)
        item = highlighted(screen)
        await pilot.press("z")
        await choose(pilot, "3")
        # An empty reason is refused on the spot; nothing is written.
        assert isinstance(app.screen, ReasonScreen)
        await pilot.press("enter")
        assert "Write a reason first" in str(app.screen.query_one("#reason-message",
                                                                  Static).render())
        await give_reason(pilot, "Waiting for the school [b]reply[/b]")
        with demo_backend.sessions.system("test: snoozes") as s:
            snooze = s.scalars(select(m.CaseSnooze).where(
                m.CaseSnooze.case_id == item.case_id)).one()
        assert snooze.until == TODAY + dt.timedelta(days=3)
        assert snooze.reason == "Waiting for the school [b]reply[/b]"
        assert snooze.user_id == screen.viewer.user_id
        for section in screen.sections:
            assert item.case_id not in [i.case_id for i in section.items]
        assert screen.section.id == "reviews_due" and screen.query_one(QueueList).highlighted == 1


async def test_escape_in_a_question_changes_nothing(make_app: AppFactory,
                                                   demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        item = highlighted(screen)
        before = case_row(demo_backend, item.case_id)
        for keys in (("t",), ("a",), ("z",), ("z", "enter"), ("s",), ("s", "enter")):
            for key in keys:
                await pilot.press(key)
                await settle_asking(pilot)
            assert app.screen is not screen, keys  # a question is open
            await pilot.press("escape")
            await settle_asking(pilot)
            assert app.screen is screen, keys
        assert case_row(demo_backend, item.case_id) == before
        assert not screen.changed


async def test_screening_take_it_on_moves_the_case_with_the_reason(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "to_screen", 2)
        item = highlighted(screen)
        following = screen.section.items[3]
        await pilot.press("s")
        await choose(pilot, "take")
        await give_reason(pilot, "Needs joint work")
        stage, _, _ = case_row(demo_backend, item.case_id)
        assert stage == "assessment"
        with demo_backend.sessions.system("test: history") as s:
            screened, reason = s.execute(
                select(m.CaseEvent.to_value, m.CaseEventReason.text)
                .join(m.CaseEventReason, m.CaseEventReason.event_id == m.CaseEvent.id)
                .where(m.CaseEvent.case_id == item.case_id,
                       m.CaseEvent.kind == "screened")).one()
        assert (screened, reason) == ("take", "Needs joint work")
        assert item.case_id not in [i.case_id for i in screen.section.items]
        assert highlighted(screen) == following, "the next one takes its place"


async def test_screening_not_taken_closes_the_case_with_a_closing_reason(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "police")
        await go_to(pilot, screen, "to_screen")
        item = highlighted(screen)
        await pilot.press("s")
        await choose(pilot, "not_take")
        await choose(pilot, "no_need")
        await give_reason(pilot, "Handled by the school")
        with demo_backend.sessions.system("test: closed") as s:
            case = s.get(m.Case, item.case_id)
            assert case is not None
            assert (case.stage, case.closed_reason) == ("closed", "no_need")


async def test_a_case_changed_meanwhile_is_a_conflict_and_nothing_is_written(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        item = highlighted(screen)
        await pilot.press("s")
        await settle_asking(pilot)
        assert isinstance(app.screen, ChoiceScreen)  # the case was read: its version seen
        with demo_backend.sessions.system("test: another terminal") as s:
            case = s.get(m.Case, item.case_id)
            assert case is not None
            case.priority = 3
        stage_before = case_row(demo_backend, item.case_id)[0]
        await choose(pilot, "take")
        await give_reason(pilot, "Seen")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert "changed by someone else" in modal.error_message
        assert case_row(demo_backend, item.case_id)[0] == stage_before
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen


async def test_r_reads_the_queue_again(make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        before = screen.sections[0].total
        with demo_backend.sessions.system("test: a new notification") as s:
            person = m.Person(first_name="Uusi", last_name="Ilmoitus")
            s.add(person)
            s.flush()
            s.add(m.Case(person_id=person.id, category="substance_use", stage="notification",
                         priority=1))
        await pilot.press("r")
        await settle(pilot)
        assert screen.sections[0].total == before + 1
        assert "Uusi Ilmoitus" in list_text(screen)


async def test_going_down_a_long_section_reads_more(make_app: AppFactory,
                                                    demo_backend: Backend) -> None:
    with demo_backend.sessions.system("test: many notifications") as s:
        for n in range(60):
            person = m.Person(first_name=f"Uusi{n:02d}", last_name="Ilmoitus")
            s.add(person)
            s.flush()
            s.add(m.Case(person_id=person.id, category="substance_use", stage="notification",
                         priority=3))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        section = screen.section
        assert section.id == "to_screen" and len(section.items) < section.total
        assert "shown · more as you go down" in text_of(screen, "#queue-title")
        await pilot.press("end")
        await settle(pilot)
        assert len(screen.section.items) > len(section.items)
        assert screen.query_one(QueueList).highlighted == len(section.items) - 1


async def test_palette_commands_of_the_queue(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert "queue: show" not in {c.name for c in commands_for(app.screen, app)}
        await sign_in(pilot, "nurse")
        board = app.screen
        assert isinstance(board, BoardScreen)
        show = next(c for c in commands_for(board, app) if c.name == "queue: show")
        show.run()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, QueueScreen)
        commands = {c.name: c for c in commands_for(screen, app)}
        for name in ("queue: next", "queue: previous", "queue: next section",
                     "queue: previous section", "queue: open case", "queue: take",
                     "queue: assign", "queue: snooze", "queue: mark screened",
                     "queue: refresh", "queue: back to the board"):
            assert name in commands, name
        commands["queue: next"].run()
        assert screen.query_one(QueueList).highlighted == 1
        commands["queue: next section"].run()
        assert screen.current == 1
        commands["queue: previous section"].run()
        assert screen.current == 0
        commands[f"queue: section {screen.sections[2].label}"].run()
        assert screen.current == 2
        opens = [c for c in commands_for(screen, app) if c.name.startswith("case: open")]
        assert {int(c.name.rsplit("#", 1)[1]) for c in opens} == \
            {i.case_id for i in screen.section.items}
        commands["queue: back to the board"].run()
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_f1_on_the_queue_lists_its_keys_with_ids(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_queue(app, pilot, "nurse")
        await pilot.press("f1")
        await settle(pilot)
        helper = app.screen
        assert isinstance(helper, HelpScreen)
        text = "\n".join(str(s.render()) for s in helper.query(Static))
        assert "triage queue" in text
        for ident in ("queue.take", "queue.assign", "queue.snooze", "queue.screened",
                      "queue.next_section", "queue.next", "queue.to_screen", "queue.back"):
            assert ident in text, ident


async def test_a_profession_that_sees_initials_sees_no_name_in_its_queue(
    demo_backend: Backend, demo_settings: Settings
) -> None:
    text = Path(demo_backend.policy.path).read_text(encoding="utf-8")
    assert SHIPPED_YOUTH_FIELDS in text
    policy = load_policy(demo_backend.policy.path, team=demo_backend.team,
                         text=text.replace(SHIPPED_YOUTH_FIELDS, NAMELESS_YOUTH_FIELDS))
    backend = Backend.from_engine(demo_backend.engine, policy, demo_backend.team)
    with backend.sessions.system("test: every name") as s:
        staff = set(s.scalars(select(m.User.display_name)))
        names = {f"{first} {last}" for first, last in s.execute(
            select(m.Person.first_name, m.Person.last_name))} - staff
    app = AnchorApp(backend, demo_settings, today=lambda: TODAY)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "youth")
        for number in range(1, len(screen.sections) + 1):
            await pilot.press(str(number))
            shown = all_text(app) + list_text(screen)
            current = screen.current_item()
            assert current is None or current.person_label in shown
            assert not [n for n in names if n in shown]
        items = [i for s in screen.sections for i in s.items]
        assert items and all(i.person_label.endswith(".") for i in items)
        await pilot.press("1", "a")
        await settle_asking(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen) and "does not see who works" in \
            modal.error_message


async def test_a_change_in_another_terminal_reads_the_queue_again_in_place(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    """The live watcher's CasesChanged reaches the queue (as the board): read again, the
    highlighted item kept."""
    from anchor_tui.messages import CasesChanged

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await pilot.press("j")
        kept = highlighted(screen)
        before = screen.sections[0].total
        with demo_backend.sessions.system("test: another terminal's notification") as s:
            person = m.Person(first_name="Toinen", last_name="Pääte")
            s.add(person)
            s.flush()
            s.add(m.Case(person_id=person.id, category="substance_use", stage="notification",
                         priority=3))
        app.post_message(CasesChanged(()))
        await settle(pilot)
        assert screen.sections[0].total == before + 1
        assert highlighted(screen) == kept


async def test_n_writes_a_note_on_the_highlighted_case(make_app: AppFactory) -> None:
    from anchor_tui.screens.note_editor import NoteEditorScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        item = highlighted(screen)
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen) and editor.case_id == item.case_id
        assert "note.new" in {b.id for b in QueueScreen.BINDINGS if b.id}


async def test_notifications_are_plain_text_whoever_forgets_markup(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        hostile = "[@click=app.quit]Aino[/] \x1b]52;c;aGk=\x07"
        app.notify(f"Nobody works {hostile}'s case yet", markup=True)
        app.screen.notify(hostile, title=hostile)
        await pilot.pause()
        shown = list(app._notifications)
        assert shown and all(not n.markup for n in shown)
        assert "[@click=app.quit]Aino[/] \\x1b]52;c;aGk=\\x07" in shown[0].message
        assert app.is_running
