"""Questions about tasks follow the case: a task made from a health note (its title
tells of the note) goes from "Mark which task done?" when a withdrawn consent hides the
note, as it goes from the case view beneath it; the queue's "Give the task … to
someone" closes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from textual.widgets import OptionList

from anchor_tui.db import models as m
from anchor_tui.messages import CasesChanged
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.test_screens_follow_consent import CASE, WORD, withdraw


def health_note_task_and_consent(backend: Backend, *, assigned: str | None = None) -> int:
    with backend.sessions.system("test: a health note, its task, a consent") as s:
        case = s.get(m.Case, CASE)
        assert case is not None
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        note = m.Note(case_id=CASE, author_id=nurse.id, author_profession=nurse.profession,
                      category="health", body=f"Health: {WORD}.",
                      created_at=dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC))
        s.add(note)
        s.flush()
        assignee = None if assigned is None else s.scalars(
            select(m.User.id).where(m.User.username == assigned)).one()
        s.add(m.Task(case_id=CASE, title=f"Follow-up on {WORD}", created_by_id=nurse.id,
                     from_note_id=note.id, due=TODAY + dt.timedelta(days=3),
                     assignee_id=assignee))
        consent = m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                            category="health", receiving_profession="social_work",
                            valid_from=TODAY - dt.timedelta(days=30),
                            recorded_by_id=social.id, evidence="signed form")
        s.add(consent)
        s.flush()
        return consent.id


def labels_on_screen(screen: ChoiceScreen) -> list[str]:
    options = screen.query_one("#choice-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_task_picker_drops_a_task_whose_note_a_withdrawn_consent_hid(
        make_app: AppFactory, demo_backend: Backend) -> None:
    consent_id = health_note_task_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, "social")
        case = CaseScreen(CASE)
        await app.push_screen(case)
        await settle(pilot)
        case.action_task_done()  # T
        # (not settle: the question's worker waits for an answer)
        for _ in range(200):
            await pilot.pause(0.02)
            if isinstance(app.screen, ChoiceScreen):
                break
        picker = app.screen
        assert isinstance(picker, ChoiceScreen)
        assert any(WORD in label for label in labels_on_screen(picker))  # by the consent

        withdraw(demo_backend, consent_id)
        first = case.record
        app.post_message(CasesChanged(None))  # what the change watcher reports for it
        for _ in range(200):
            await pilot.pause(0.02)
            if case.record is not first:
                break
        for _ in range(10):  # anything else the change started
            await pilot.pause(0.05)
        # The case view beneath has dropped the note ...
        assert case.record is not None
        assert not any(WORD in t.title for t in case.record.tasks)
        # ... but the question on top still shows the task that tells of it.
        if app.screen is picker:
            assert not any(WORD in label for label in labels_on_screen(picker)), \
                "the task picker still shows a task made from a note now hidden"


async def test_the_queues_assign_question_closes_when_its_task_is_hidden(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from anchor_tui.screens.task_picker import TaskQuestionScreen
    from tests.ui.test_queue import go_to, highlighted, open_queue

    consent_id = health_note_task_and_consent(demo_backend, assigned="social")
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "my_tasks")
        index = next(i for i, item in enumerate(screen.section.items) if WORD in item.what)
        await pilot.press(*["j"] * index)
        assert WORD in highlighted(screen).what
        await pilot.press("a")
        for _ in range(200):
            await pilot.pause(0.02)
            if isinstance(app.screen, TaskQuestionScreen):
                break
        question = app.screen
        assert isinstance(question, TaskQuestionScreen)
        assert any(WORD in label for label in labels_on_screen(question))
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))  # what the change watcher reports for it
        for _ in range(200):
            await pilot.pause(0.02)
            if app.screen is not question:
                break
        assert app.screen is not question, "the question still names a task now hidden"
        assert not any(WORD in label for s in app.screen_stack if isinstance(s, ChoiceScreen)
                       for label in labels_on_screen(s))
