"""Ending a huddle made again after its commit's answer was lost, on SQLite and
PostgreSQL.

The end goes through the app's save queue, which makes a save again when it raised
``ConnectionLostError``; but the connection may be cut just as the end's commit reached
the server, so the first attempt ended the huddle (its minutes stored, everyone gone,
the person signed out) and wrote no minutes file. The end carries the moment it was
asked for, and ``huddle_ended_at`` finds the end made at that moment
(``saving.made_once``): the second attempt finishes it (the file), stores nothing
twice, adds the time on the last case once and records no second sign-out, where it was
refused as "ended already". A huddle another terminal ended is still refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.saving import made_once
from anchor_tui.services import huddle as service
from anchor_tui.services import huddle_time
from anchor_tui.services.backend import Backend
from anchor_tui.services.minutes import end_huddle, huddle_ended_at
from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, HuddleWorld, build, make_backend

MOMENT = NOW + dt.timedelta(minutes=8, seconds=15, microseconds=123456)
"""When the end was asked for (every attempt of it carries it)."""


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


@contextlib.contextmanager
def cut_as_the_end_commits() -> Iterator[list[int]]:
    """The first commit that ends a huddle reaches the server, and its answer is lost:
    ``ConnectionLostError`` after the commit (a real commit, on the real database).
    Yields the count of cuts made."""
    cuts: list[int] = []

    def flushed(session: Session, _context: Any) -> None:
        if any(isinstance(row, m.Huddle) and row.ended_at is not None
               for row in session.dirty):
            session.info["ends_a_huddle"] = True

    def committed(session: Session) -> None:
        if session.info.pop("ends_a_huddle", False) and not cuts:
            cuts.append(1)
            raise ConnectionLostError("The connection to the database server was lost.")

    event.listen(Session, "after_flush", flushed)
    event.listen(Session, "after_commit", committed)
    try:
        yield cuts
    finally:
        event.remove(Session, "after_flush", flushed)
        event.remove(Session, "after_commit", committed)


def started(world: HuddleWorld) -> Viewer:
    """The social worker's huddle, which the nurse joined; the room discussed case A."""
    roster = service.start_huddle(world.backend, world.viewers["social"], TODAY, NOW)
    viewer = service.huddle_viewer(roster, world.viewers["social"])
    roster = service.join_huddle(world.backend, viewer, "nurse", PASSPHRASE, TODAY,
                                 NOW + dt.timedelta(minutes=1))
    viewer = service.huddle_viewer(roster, world.viewers["social"])
    service.add_decision(world.backend, viewer, world.case_a, "Meet the family",
                         NOW + dt.timedelta(minutes=2))
    huddle_time.time_recorder(world.backend, viewer, world.case_a, 90)()
    return viewer


def the_end(world: HuddleWorld, viewer: Viewer, directory: Path, now: dt.datetime
            ) -> Any:
    """The end as the shared terminal makes it: at the moment it was asked for, signing
    the social worker out, found again by that moment."""
    return made_once(
        partial(end_huddle, world.backend, viewer, directory, TODAY, now,
                signing_out=world.viewers["social"], spent=(world.case_a, 45)),
        partial(huddle_ended_at, world.backend, viewer, directory, now))


def sign_outs(backend: Backend, user_id: int) -> int:
    with backend.sessions.system("test: sign-outs") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "sign_out", m.AuditEvent.actor_id == user_id)) or 0


def leaves(backend: Backend, huddle_id: int) -> int:
    with backend.sessions.system("test: leaves") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "huddle.leave", m.AuditEvent.huddle_id == huddle_id)) or 0


def seconds_on(backend: Backend, huddle_id: int, case_id: int) -> int | None:
    with backend.sessions.system("test: the time spent") as s:
        return s.scalar(select(m.HuddleCase.seconds_spent).where(
            m.HuddleCase.huddle_id == huddle_id, m.HuddleCase.case_id == case_id))


def stored(backend: Backend, huddle_id: int) -> tuple[dt.datetime | None, str | None]:
    with backend.sessions.system("test: the huddle") as s:
        huddle = s.get(m.Huddle, huddle_id)
        assert huddle is not None
        return huddle.ended_at, huddle.minutes


def test_an_end_whose_answer_was_lost_is_finished_once(world: HuddleWorld,
                                                       tmp_path: Path) -> None:
    viewer = started(world)
    assert viewer.huddle_id is not None
    directory = tmp_path / "minutes"
    social = world.viewers["social"].user_id
    end = the_end(world, viewer, directory, MOMENT)
    with cut_as_the_end_commits() as cuts:
        with pytest.raises(ConnectionLostError):
            end()
        assert cuts == [1]
        # The commit reached the server: the huddle ended, and no file was written.
        assert stored(world.backend, viewer.huddle_id)[0] == MOMENT
        assert not directory.exists() or not list(directory.iterdir())
        ended = end()  # the server is back: made again (no "ended already")
    ended_at, minutes = stored(world.backend, viewer.huddle_id)
    assert ended_at == MOMENT and minutes is not None
    assert ended.huddle_id == viewer.huddle_id and ended.minutes == minutes
    assert "Meet the family" in minutes
    assert seconds_on(world.backend, viewer.huddle_id, world.case_a) == 90 + 45, (
        "the time on the last case was not added once")
    assert "2 min 15 s" in minutes
    assert ended.path is not None and ended.path.read_text() == minutes, (
        "the minutes file was not written")
    assert [p.name for p in directory.iterdir()] == [ended.path.name]
    assert sign_outs(world.backend, social) == 1, "the sign-out was not audited once"
    assert leaves(world.backend, viewer.huddle_id) == 2  # everyone left once


def test_an_end_found_made_with_its_file_written_keeps_the_file(world: HuddleWorld,
                                                                 tmp_path: Path) -> None:
    """The answer lost after the file was written too: found, the file is left as it is,
    and nothing is written twice."""
    viewer = started(world)
    assert viewer.huddle_id is not None
    directory = tmp_path / "minutes"
    attempts: list[int] = []

    def lost_after_everything() -> Any:
        attempts.append(1)
        result = end_huddle(world.backend, viewer, directory, TODAY, MOMENT,
                            signing_out=world.viewers["social"])
        if len(attempts) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return result

    end = made_once(lost_after_everything,
                    partial(huddle_ended_at, world.backend, viewer, directory, MOMENT))
    with pytest.raises(ConnectionLostError):
        end()
    ended = end()
    assert attempts == [1], "the end was made twice"
    assert ended.path is not None and ended.path.read_text() == stored(
        world.backend, viewer.huddle_id)[1]
    assert sign_outs(world.backend, world.viewers["social"].user_id) == 1
    assert leaves(world.backend, viewer.huddle_id) == 2


def test_an_end_that_never_reached_the_server_is_made(world: HuddleWorld,
                                                      tmp_path: Path) -> None:
    viewer = started(world)
    assert viewer.huddle_id is not None
    assert huddle_ended_at(world.backend, viewer, tmp_path, MOMENT) is None
    attempts: list[int] = []

    def away_once() -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return end_huddle(world.backend, viewer, tmp_path, TODAY, MOMENT,
                          signing_out=world.viewers["social"])

    end = made_once(away_once, partial(huddle_ended_at, world.backend, viewer, tmp_path,
                                       MOMENT))
    with pytest.raises(ConnectionLostError):
        end()
    ended = end()
    assert ended.path is not None and stored(world.backend, viewer.huddle_id)[0] == MOMENT
    assert sign_outs(world.backend, world.viewers["social"].user_id) == 1


def test_a_huddle_another_terminal_ended_is_still_refused(world: HuddleWorld,
                                                          tmp_path: Path) -> None:
    """Another terminal ended the huddle while this end was kept (the server away): it
    ended at another moment, so this end is refused as before. The person whose session
    it closed is signed out all the same (their terminal is back at the sign-in): the
    audit trail must not show them signed in for ever."""
    viewer = started(world)
    assert viewer.huddle_id is not None
    other = end_huddle(world.backend, viewer, tmp_path / "elsewhere", TODAY,
                       MOMENT - dt.timedelta(seconds=20))
    attempts: list[int] = []

    def away_once() -> Any:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        return end_huddle(world.backend, viewer, tmp_path / "minutes", TODAY, MOMENT,
                          signing_out=world.viewers["social"])

    end = made_once(away_once, partial(huddle_ended_at, world.backend, viewer,
                                       tmp_path / "minutes", MOMENT))
    with pytest.raises(ConnectionLostError):
        end()
    with pytest.raises(AnchorError, match="ended already"):
        end()
    assert stored(world.backend, viewer.huddle_id) == (
        MOMENT - dt.timedelta(seconds=20), other.minutes)
    assert not (tmp_path / "minutes").exists()
    assert sign_outs(world.backend, world.viewers["social"].user_id) == 1
    assert leaves(world.backend, viewer.huddle_id) == 2
