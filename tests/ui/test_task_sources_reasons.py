"""A task typed by hand in a huddle (``t`` in the case view on the shared screen) tells
of the reasons the room read in the case's history as much as of its notes.

A reason given for a change to a case is disclosed like a note of its writer's
profession: the nurse's screening reason is read by the room of the nurse and social
work (by the young person's consent), never by the police. The task typed there may
repeat it, so it reaches only whoever may read every reason the room read too: the
police, who work the case, do not read it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import case_ref, mark_screened
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_case_work import tasks_of
from tests.ui.test_huddle import huddle_of, join
from tests.ui.test_note_editor import CASE, only_consent, until
from tests.ui.test_task_sources_keys import SECRET, reads_secret, type_task, viewer

REASON = "Known to the psychiatric outpatient clinic"


async def test_t_in_a_huddle_gives_the_task_the_reasons_the_room_read(
        make_app: AppFactory, demo_backend: Backend) -> None:
    only_consent(demo_backend, CASE, "health", "social_work", dt.date(2027, 1, 31))
    with demo_backend.sessions.system("test: the police may read every note the room does"
                                      ) as s:
        consent = s.scalars(select(m.Consent).join(
            m.Case, m.Case.person_id == m.Consent.person_id).where(m.Case.id == CASE)).one()
        s.add(m.Consent(person_id=consent.person_id, grantor="self", decision="permit",
                        category="child_welfare", receiving_profession="police",
                        valid_from=consent.valid_from, valid_to=consent.valid_to,
                        recorded_by_id=consent.recorded_by_id))
    nurse = viewer(demo_backend, "nurse")
    with demo_backend.sessions.system("test: no health note on the case") as s:
        assert s.scalar(select(m.Note.id).where(m.Note.case_id == CASE,
                                                m.Note.category == "health")) is None
    mark_screened(demo_backend, nurse, CASE, case_ref(demo_backend, nurse, CASE).version,
                  take=True, reason=REASON)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        case_view = CaseScreen(CASE)
        await app.push_screen(case_view)
        await settle(pilot)
        assert case_view.record is not None
        assert REASON in [e.reason for e in case_view.record.history]  # the room reads it
        await pilot.press("t")
        await type_task(app, pilot)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is case_view)
        await settle(pilot)
    task = tasks_of(demo_backend)[SECRET]
    with demo_backend.sessions.system("test: the task's reasons") as s:
        reasons = set(s.scalars(select(m.CaseEventReason.id)
                                .where(m.CaseEventReason.text == REASON)))
        told = set(s.scalars(select(m.TaskSourceReason.reason_id)
                             .where(m.TaskSourceReason.task_id == task.id)))
    assert reasons and reasons <= told  # (the screening, and the stage it moved to)
    assert reads_secret(demo_backend, "nurse")
    assert reads_secret(demo_backend, "social")
    assert not reads_secret(demo_backend, "police"), (
        "the police read a task typed over the nurse's reason")
