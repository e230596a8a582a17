"""A child-welfare notification recorded again after its commit's answer was lost, on
SQLite and PostgreSQL.

The save queue makes a save again when it raised ``ConnectionLostError``; the first
attempt may have reached the server all the same (the connection cut as it committed).
Recording writes the moment the person recorded it as the notification's time, its
task's completion and the follow-up's creation, the same for every attempt, and
:func:`recorded_at` finds what the first attempt wrote (``saving.made_once``): the second
attempt says recorded, neither refused as "already recorded" nor adding a second
follow-up task. A recording made at another moment (from another terminal) is never
taken for it, and another professional never finds the notifier's record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from functools import partial

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.child_welfare import (
    FOLLOW_UP_TITLE,
    PENDING_TITLE,
    NotificationRecorded,
    record_notification,
    recorded_at,
)
from anchor_tui.services.notes import NoteInput, save_note
from tests.integration.case_world import TODAY, TeamWorld, build, make_backend
from tests.integration.test_queue_answer_lost import (
    MOMENT,
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)

EARLIER = MOMENT - dt.timedelta(minutes=20)
"""When the same person recorded it from another terminal."""


def concern(world: TeamWorld) -> int:
    """The nurse's note raising a concern about Aino (a minor): a pending notification."""
    saved = save_note(world.backend, world.viewers["nurse"], NoteInput(
        world.case_a, "Concern: bruises", "child_welfare"), today=TODAY)
    assert saved.notification_id is not None
    return saved.notification_id


def record(world: TeamWorld, notification_id: int, at: dt.datetime,
           recipient: str = "Espoo child welfare") -> NotificationRecorded:
    return record_notification(world.backend, world.viewers["nurse"], notification_id,
                               method="phone", recipient=recipient, reference="LS-123",
                               today=TODAY, now=at)


def the_record(world: TeamWorld) -> m.ChildWelfareNotification:
    with world.backend.sessions.system("test: the notification") as s:
        row = s.scalars(select(m.ChildWelfareNotification)).one()
        s.expunge(row)
        return row


def tasks_titled(world: TeamWorld, title: str) -> list[m.Task]:
    with world.backend.sessions.system("test: the tasks") as s:
        rows = list(s.scalars(select(m.Task).where(m.Task.title == title)
                              .order_by(m.Task.id)))
        for row in rows:
            s.expunge(row)
        return rows


def test_a_notification_whose_answer_was_lost_is_recorded_once(engine: Engine) -> None:
    world = build(make_backend(engine))
    notification_id = concern(world)
    nurse = world.viewers["nurse"]
    recorded = made_after_a_lost_answer(
        partial(record, world, notification_id, MOMENT),
        partial(recorded_at, world.backend, nurse, notification_id, MOMENT))
    # As the first attempt would have said: the follow-up is due in a week.
    assert recorded == NotificationRecorded(notification_id, world.case_a,
                                            TODAY + dt.timedelta(days=7))
    row = the_record(world)
    assert (row.status, row.notified_at, row.recipient, row.reference) == (
        "notified", MOMENT, "Espoo child welfare", "LS-123")
    [follow_up] = tasks_titled(world, FOLLOW_UP_TITLE)  # not two checks of the response
    assert (follow_up.created_at, follow_up.due) == (MOMENT, TODAY + dt.timedelta(days=7))
    assert row.task_id == follow_up.id
    [statutory] = tasks_titled(world, PENDING_TITLE)
    assert statutory.done_at == MOMENT


def test_without_the_lookup_the_attempt_made_again_is_refused_as_already_recorded(
        engine: Engine) -> None:
    """What the lookup is for: made again blindly, the person's own recording is told
    back to them as "already recorded", a refusal of what they did."""
    world = build(make_backend(engine))
    notification_id = concern(world)
    with pytest.raises(AnchorError, match="already recorded"):
        made_after_a_lost_answer(partial(record, world, notification_id, MOMENT),
                                 lambda: None)
    assert len(tasks_titled(world, FOLLOW_UP_TITLE)) == 1


def test_a_recording_from_another_moment_is_not_taken_for_the_one_made_now(
        engine: Engine) -> None:
    """Recorded from another terminal earlier: a recording made now whose first attempt
    wrote nothing (the server away) is not said done by the earlier one; it is refused
    as already recorded, and the earlier words stand."""
    world = build(make_backend(engine))
    notification_id = concern(world)
    nurse = world.viewers["nurse"]
    assert recorded_at(world.backend, nurse, notification_id, MOMENT) is None  # pending
    record(world, notification_id, EARLIER, recipient="Emergency social services")
    assert recorded_at(world.backend, nurse, notification_id, MOMENT) is None
    with pytest.raises(AnchorError, match="already recorded"):
        made_after_the_server_was_away(
            partial(record, world, notification_id, MOMENT),
            partial(recorded_at, world.backend, nurse, notification_id, MOMENT))
    row = the_record(world)
    assert (row.notified_at, row.recipient) == (EARLIER, "Emergency social services")
    assert [t.created_at for t in tasks_titled(world, FOLLOW_UP_TITLE)] == [EARLIER]
    found = recorded_at(world.backend, nurse, notification_id, EARLIER)
    assert found is not None and found.notification_id == notification_id
    for other in ("police", "social", "youth"):  # the notifier's record only
        assert recorded_at(world.backend, world.viewers[other], notification_id,
                           EARLIER) is None, other


def test_without_a_follow_up_the_lookup_finds_no_follow_up(engine: Engine) -> None:
    """``follow_up_days: 0``: the notification still points at the statutory task it
    closed, which is not a follow-up the lookup would report."""
    plain = make_backend(engine)
    team = dataclasses.replace(plain.team, child_welfare=dataclasses.replace(
        plain.team.child_welfare, follow_up_days=0))
    world = build(Backend.from_engine(engine, plain.policy, team))
    notification_id = concern(world)
    recorded = made_after_a_lost_answer(
        partial(record, world, notification_id, MOMENT),
        partial(recorded_at, world.backend, world.viewers["nurse"], notification_id,
                MOMENT))
    assert recorded == NotificationRecorded(notification_id, world.case_a, None)
    assert tasks_titled(world, FOLLOW_UP_TITLE) == []
