"""The statutory child-welfare notification, on SQLite and PostgreSQL: who is prompted,
the pending record and task saved with the note, and recording it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, update

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.child_welfare import (
    FOLLOW_UP_TITLE,
    PENDING_TITLE,
    is_minor,
    pending_for,
    raises_concern,
    record_notification,
)
from anchor_tui.services.notes import NoteInput, save_note
from anchor_tui.services.tasks import open_tasks
from anchor_tui.settings import load_team_config
from tests.integration.case_world import TODAY, TeamWorld, build, huddle, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def notifications(world: TeamWorld) -> list[m.ChildWelfareNotification]:
    with world.backend.sessions.system("test: notifications") as s:
        rows = s.scalars(select(m.ChildWelfareNotification).order_by(
            m.ChildWelfareNotification.id)).all()
        for row in rows:
            s.expunge(row)
        return list(rows)


def test_who_is_prompted_follows_the_configuration() -> None:
    team = load_team_config(None)
    assert raises_concern(team, "police", "general", "welfare_concern")
    assert raises_concern(team, "health", "child_welfare", None)
    assert raises_concern(team, "youth_work", "child_welfare", None)
    assert not raises_concern(team, "social_work", "child_welfare", None)  # they are child welfare
    assert not raises_concern(team, "police", "general", "home_visit")
    assert not raises_concern(team, "police", "general", None)


def test_minors_by_birth_date() -> None:
    today = dt.date(2026, 11, 16)
    assert is_minor(dt.date(2008, 11, 17), today)  # 18 tomorrow
    assert not is_minor(dt.date(2008, 11, 16), today)  # 18 today
    assert is_minor(None, today)  # unknown: treated as a minor
    assert is_minor(dt.date(2008, 2, 29), dt.date(2026, 2, 27))
    assert not is_minor(dt.date(2008, 2, 29), dt.date(2026, 2, 28))


def test_a_concern_on_a_minors_case_records_a_pending_notification_and_task(
    world: TeamWorld
) -> None:
    police = world.viewers["police"]
    saved = save_note(world.backend, police, NoteInput(
        world.case_a, "Concern: bruises", "child_welfare", template="welfare_concern"),
        today=TODAY)
    assert saved.notification_id is not None
    [record] = notifications(world)
    assert (record.status, record.notifier_id, record.note_id, record.case_id) == (
        "pending", police.user_id, saved.note_id, world.case_a)
    tasks = {t.task_id: t for t in open_tasks(world.backend, police, world.case_a)}
    assert record.task_id in tasks and tasks[record.task_id].title == PENDING_TITLE
    assert tasks[record.task_id].notification_id == record.id
    assert tasks[record.task_id].due == TODAY
    # A second concern while one is pending is covered by it.
    again = save_note(world.backend, police, NoteInput(world.case_a, "More", "child_welfare"),
                      today=TODAY)
    assert again.notification_id == record.id and len(notifications(world)) == 1


def test_recording_the_notification_closes_its_task_and_schedules_a_check(
    world: TeamWorld
) -> None:
    nurse = world.viewers["nurse"]
    saved = save_note(world.backend, nurse, NoteInput(world.case_a, "Concern", "child_welfare"),
                      today=TODAY)
    assert saved.notification_id is not None
    due = pending_for(world.backend, nurse, saved.notification_id)
    assert due.case_id == world.case_a and due.person_label == "Aino Testinen"
    with pytest.raises(AnchorError, match="to whom"):
        record_notification(world.backend, nurse, saved.notification_id, method="phone",
                            recipient=" ", today=TODAY)
    with pytest.raises(AnchorError, match="not yours"):
        record_notification(world.backend, world.viewers["police"], saved.notification_id,
                            method="phone", recipient="Espoo", today=TODAY)
    done = record_notification(world.backend, nurse, saved.notification_id, method="phone",
                               recipient="Espoo child welfare", reference="LS-123",
                               today=TODAY)
    assert done.follow_up_due == TODAY + dt.timedelta(days=7)
    [record] = notifications(world)
    assert (record.status, record.method, record.recipient, record.reference) == (
        "notified", "phone", "Espoo child welfare", "LS-123")
    titles = [t.title for t in open_tasks(world.backend, nurse, world.case_a)]
    assert PENDING_TITLE not in titles and FOLLOW_UP_TITLE in titles
    with pytest.raises(AnchorError, match="already recorded"):
        record_notification(world.backend, nurse, saved.notification_id, method="phone",
                            recipient="Espoo", today=TODAY)


def test_no_prompt_for_adults_or_for_social_work(world: TeamWorld) -> None:
    with world.backend.sessions.system("test: an adult") as s:
        person = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_a))
        s.execute(update(m.Person).where(m.Person.id == person).values(
            birth_date=dt.date(2000, 1, 1)))
    adult = save_note(world.backend, world.viewers["police"], NoteInput(
        world.case_a, "Concern", "child_welfare"), today=TODAY)
    assert adult.notification_id is None
    # Case B's young person has no birth date recorded: counted as a minor.
    unknown = save_note(world.backend, world.viewers["police"], NoteInput(
        world.case_b, "Concern", "general", template="welfare_concern"), today=TODAY)
    assert unknown.notification_id is not None
    social = save_note(world.backend, world.viewers["social"], NoteInput(
        world.case_a, "Concern", "child_welfare"), today=TODAY)
    assert social.notification_id is None


def test_a_task_made_from_a_note_is_seen_only_by_who_may_read_the_note(
    world: TeamWorld
) -> None:
    """The statutory task tells that a concern was written, a template's follow-up which
    kind of note: a member who may not read the note sees neither (here the nurse's
    child-welfare and health notes: social work reads them, the police and youth work
    have no consent for them), while a task made from no note stays the members'."""
    nurse, social = world.viewers["nurse"], world.viewers["social"]
    police, youth = world.viewers["police"], world.viewers["youth"]
    concern = save_note(world.backend, nurse, NoteInput(
        world.case_a, "Concern: bruises", "child_welfare"), today=TODAY)
    summary = save_note(world.backend, nurse, NoteInput(
        world.case_a, "Talked it through", "health", template="anchor_meeting_summary"),
        today=TODAY)
    assert concern.notification_id is not None and summary.follow_up is not None
    follow_up = summary.follow_up.title

    def titles(viewer: Viewer) -> set[str]:
        return {t.title for t in open_tasks(world.backend, viewer, world.case_a)}

    assert {PENDING_TITLE, follow_up, "Call home"} <= titles(nurse)
    assert {PENDING_TITLE, follow_up, "Call home"} <= titles(social)
    for other in (police, youth):
        assert PENDING_TITLE not in titles(other) and follow_up not in titles(other)
        assert "Call home" in titles(other)
    assert PENDING_TITLE not in titles(huddle(world, "nurse", "police"))
    assert PENDING_TITLE in titles(huddle(world, "nurse", "social"))
    record_notification(world.backend, nurse, concern.notification_id, method="phone",
                        recipient="Espoo child welfare", today=TODAY)
    assert FOLLOW_UP_TITLE in titles(nurse) and FOLLOW_UP_TITLE in titles(social)
    assert FOLLOW_UP_TITLE not in titles(police) and FOLLOW_UP_TITLE not in titles(youth)
    # A general note's follow-up is everyone's, as the note is.
    general = save_note(world.backend, nurse, NoteInput(
        world.case_a, "Everyone may read this", "general",
        template="anchor_meeting_summary"), today=TODAY)
    assert general.follow_up is not None
    with world.backend.sessions.read(police) as s:
        assert s.get(m.Task, general.follow_up.task_id) is not None
        assert s.get(m.Task, summary.follow_up.task_id) is None
