"""Someone leaving a huddle, made again after its commit's answer was lost, on SQLite
and PostgreSQL.

``-`` on the huddle screen removed someone in a unit of work of its own: made again
after its commit reached the server while its answer was lost, it was refused ("That
person is not in the huddle"), and the room never saw its new roster. The leave now
carries the moment it was asked for: made again, it finds the stay that ended at that
moment (``huddle.left_at``, ``saving.made_once``) and is done, even when the person has
joined again since; and a leave of someone who has left already is done, not refused,
audited once.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import Engine, func, select

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.saving import made_once
from anchor_tui.services import huddle as service
from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, HuddleWorld, build, make_backend
from tests.integration.test_queue_answer_lost import (
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)

MOMENT = NOW + dt.timedelta(minutes=5, seconds=9, microseconds=123456)
"""When the leave was asked for (every attempt of it carries it)."""


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def started(world: HuddleWorld) -> Viewer:
    """The social worker's huddle, which the nurse joined."""
    social = world.viewers["social"]
    roster = service.start_huddle(world.backend, social, TODAY, NOW)
    viewer = service.huddle_viewer(roster, social)
    roster = service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY,
                                 NOW + dt.timedelta(minutes=1))
    return service.huddle_viewer(roster, social)


def stays(world: HuddleWorld, viewer: Viewer, user_id: int) -> list[dt.datetime | None]:
    with world.backend.sessions.system("test: the stays") as s:
        return list(s.scalars(select(m.HuddleAttendee.left_at).where(
            m.HuddleAttendee.huddle_id == viewer.huddle_id,
            m.HuddleAttendee.user_id == user_id).order_by(m.HuddleAttendee.id)))


def leaves(world: HuddleWorld, viewer: Viewer) -> int:
    with world.backend.sessions.system("test: leaves") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "huddle.leave",
            m.AuditEvent.huddle_id == viewer.huddle_id)) or 0


def the_leave(world: HuddleWorld, viewer: Viewer, user_id: int) -> tuple[partial[object], ...]:
    return (partial(service.leave_huddle, world.backend, viewer, user_id, MOMENT),
            partial(service.left_at, world.backend, viewer, user_id, MOMENT))


def test_a_leave_whose_answer_was_lost_is_made_once(world: HuddleWorld) -> None:
    viewer = started(world)
    nurse = world.viewers["nurse"].user_id
    roster = made_after_a_lost_answer(*the_leave(world, viewer, nurse))
    assert [p.username for p in roster.present] == ["social"]
    assert stays(world, viewer, nurse) == [MOMENT]
    assert leaves(world, viewer) == 1, "the leave was audited twice"


def test_a_second_leave_of_someone_gone_is_done_not_refused(world: HuddleWorld) -> None:
    """Made again without its lookup: the person has gone, so it is done, written once."""
    viewer = started(world)
    nurse = world.viewers["nurse"].user_id
    roster = made_after_a_lost_answer(the_leave(world, viewer, nurse)[0], lambda: None)
    assert [p.username for p in roster.present] == ["social"]
    assert stays(world, viewer, nurse) == [MOMENT]
    assert leaves(world, viewer) == 1


def test_a_leave_made_again_after_a_new_join_ends_no_new_stay(world: HuddleWorld) -> None:
    """The nurse left (the answer lost) and joined again before the leave was made
    again: found by its moment, the leave is done, and the nurse stays present."""
    viewer = started(world)
    nurse = world.viewers["nurse"].user_id
    leave, found = the_leave(world, viewer, nurse)
    assert found() is None
    attempts: list[int] = []

    def cut() -> object:
        attempts.append(1)
        result = leave()
        if len(attempts) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return result

    once = made_once(cut, found)
    with pytest.raises(ConnectionLostError):
        once()  # written, its answer lost: the save is kept
    service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY,
                        MOMENT + dt.timedelta(minutes=1))
    roster = once()
    assert isinstance(roster, service.Roster)
    assert [p.username for p in roster.present] == ["social", "nurse"]
    assert stays(world, viewer, nurse) == [MOMENT, None]
    assert leaves(world, viewer) == 1


def test_a_leave_kept_while_the_server_was_away_is_made(world: HuddleWorld) -> None:
    viewer = started(world)
    nurse = world.viewers["nurse"].user_id
    roster = made_after_the_server_was_away(*the_leave(world, viewer, nurse))
    assert [p.username for p in roster.present] == ["social"]
    assert stays(world, viewer, nurse) == [MOMENT]
    assert leaves(world, viewer) == 1


def test_someone_never_present_is_still_refused(world: HuddleWorld) -> None:
    viewer = started(world)
    with pytest.raises(AnchorError, match="not in the huddle"):
        service.leave_huddle(world.backend, viewer, world.viewers["police"].user_id, MOMENT)
    assert leaves(world, viewer) == 0
