"""A huddle left on is ended by the app, with its minutes, on SQLite and PostgreSQL.

A huddle whose terminal quit while the database was away (or was killed, or lost its
power) stayed on for ever: nothing ended it and its minutes were never stored, though
its decisions and attendance were in the database. Now one without activity (a join, a
leave, a decision, an action) for the team's ``huddle_left_on_minutes`` is ended at its
last activity, its minutes stored and written, audited as any end; one with activity
since is left alone (another terminal is running it).
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.services import huddle as service
from anchor_tui.services import huddle_left_on as left_on_module
from anchor_tui.services.huddle_left_on import end_left_on, end_orphaned, huddles_left_on
from anchor_tui.services.huddle_marks import FOLDER, HuddleMarks
from anchor_tui.services.minutes import LEFT_ON, build_minutes, rebuild_after_retention
from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, HuddleWorld, build, make_backend

LIMIT = 240
DECIDED = NOW + dt.timedelta(minutes=10)
"""The left-on huddle's last activity: its decision."""


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


@pytest.fixture
def minutes_dir(tmp_path: Path) -> Path:
    return tmp_path / "minutes"


def left_on_huddle(world: HuddleWorld) -> int:
    """The social worker and the nurse meet; a decision at ``DECIDED``; then the terminal
    is gone (nobody ends it)."""
    roster = service.start_huddle(world.backend, world.viewers["social"], TODAY, NOW)
    roster = service.join_huddle(
        world.backend, service.huddle_viewer(roster, world.viewers["social"]), "nurse",
        PASSPHRASE, TODAY, NOW + dt.timedelta(minutes=2))
    viewer = service.huddle_viewer(roster, world.viewers["social"])
    service.add_decision(world.backend, viewer, world.case_a, "Meet the family", DECIDED)
    return roster.huddle_id


def huddle_row(world: HuddleWorld, huddle_id: int) -> tuple[dt.datetime | None, str | None]:
    with world.backend.sessions.system("test: the huddle") as s:
        huddle = s.get(m.Huddle, huddle_id)
        assert huddle is not None
        return huddle.ended_at, huddle.minutes


def leaves(world: HuddleWorld, huddle_id: int) -> int:
    with world.backend.sessions.system("test: leaves") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "huddle.leave", m.AuditEvent.huddle_id == huddle_id)) or 0


def test_a_huddle_left_on_is_ended_at_its_last_activity_with_its_minutes(
        world: HuddleWorld, minutes_dir: Path) -> None:
    huddle_id = left_on_huddle(world)
    with world.backend.sessions.system("test: roster") as s:
        roster = service.read_roster(s, huddle_id)
    room = service.huddle_viewer(roster, world.viewers["social"])
    as_the_room_sees_it = build_minutes(world.backend, room, TODAY, DECIDED)
    now = DECIDED + dt.timedelta(minutes=LIMIT + 1)

    ended = end_left_on(world.backend, now, LIMIT, minutes_dir)

    assert [e.huddle_id for e in ended] == [huddle_id]
    ended_at, minutes = huddle_row(world, huddle_id)
    assert ended_at == DECIDED, "ended at the moment of the sweep, not its last activity"
    assert minutes is not None and "Meet the family" in minutes
    assert LEFT_ON in minutes
    # The same minutes the room's own end would have stored, and the one line more.
    said = next(line for line in minutes.splitlines() if LEFT_ON in line)
    assert minutes.replace(f"{said}\n\n", "") == as_the_room_sees_it
    path = ended[0].path
    assert path is not None and path.parent == minutes_dir and path.read_text() == minutes
    with world.backend.sessions.system("test: attendance") as s:
        assert set(s.scalars(select(m.HuddleAttendee.left_at).where(
            m.HuddleAttendee.huddle_id == huddle_id))) == {DECIDED}
    assert leaves(world, huddle_id) == 2, "each one present leaves, audited, as at any end"
    # Once: a second look ends nothing more.
    assert end_left_on(world.backend, now + dt.timedelta(minutes=5), LIMIT, minutes_dir) == []
    assert leaves(world, huddle_id) == 2


def test_a_huddle_with_recent_activity_is_not_ended(world: HuddleWorld,
                                                    minutes_dir: Path) -> None:
    huddle_id = left_on_huddle(world)
    now = DECIDED + dt.timedelta(minutes=LIMIT - 1)  # the decision is still recent
    assert huddles_left_on(world.backend, now, LIMIT) == []
    assert end_left_on(world.backend, now, LIMIT, minutes_dir) == []
    assert huddle_row(world, huddle_id) == (None, None)
    assert not minutes_dir.exists() or list(minutes_dir.iterdir()) == []


def test_a_huddle_another_terminal_runs_now_is_left_alone(world: HuddleWorld,
                                                          minutes_dir: Path) -> None:
    old = left_on_huddle(world)
    later = DECIDED + dt.timedelta(minutes=LIMIT + 30)
    running = service.start_huddle(world.backend, world.viewers["police"], TODAY,
                                   later - dt.timedelta(minutes=3))
    ended = end_left_on(world.backend, later, LIMIT, minutes_dir)
    assert [e.huddle_id for e in ended] == [old]
    assert huddle_row(world, running.huddle_id) == (None, None)
    assert huddle_row(world, old)[0] == DECIDED


def test_a_join_since_keeps_a_long_huddle_on(world: HuddleWorld, minutes_dir: Path) -> None:
    """Started long ago, but someone joined recently: its last activity is the join."""
    roster = service.start_huddle(world.backend, world.viewers["social"], TODAY, NOW)
    joined = NOW + dt.timedelta(minutes=LIMIT + 20)
    service.join_huddle(world.backend, service.huddle_viewer(roster, world.viewers["social"]),
                        "nurse", PASSPHRASE, TODAY, joined)
    assert end_left_on(world.backend, joined + dt.timedelta(minutes=30), LIMIT,
                       minutes_dir) == []
    ended = end_left_on(world.backend, joined + dt.timedelta(minutes=LIMIT + 1), LIMIT,
                        minutes_dir)
    assert [e.huddle_id for e in ended] == [roster.huddle_id]
    assert huddle_row(world, roster.huddle_id)[0] == joined


def test_the_command_line_lists_then_ends_huddles_left_on(
        world: HuddleWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    huddle_id = left_on_huddle(world)  # (its last activity is weeks before today)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = world.backend.engine.url.render_as_string(hide_password=False)
    assert main(["huddle", "end-left-on", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"huddle {huddle_id}: left on" in out and "Dry run: 1 huddle left on" in out
    # What a person needs to judge whether the room has gone: its last activity.
    assert f"last activity {DECIDED.astimezone():%Y-%m-%d %H:%M}" in out, out
    assert huddle_row(world, huddle_id) == (None, None), "a dry run ended it"
    assert main(["huddle", "end-left-on", "--apply", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"huddle {huddle_id}: ended at its last activity" in out
    assert "Meet the family" not in out  # ids only on the terminal
    ended_at, minutes = huddle_row(world, huddle_id)
    assert ended_at == DECIDED and minutes is not None and LEFT_ON in minutes
    assert list((tmp_path / "data").rglob(f"huddle-{huddle_id}-*.md")) != []


def test_the_command_line_ends_one_huddle_by_its_id(
        world: HuddleWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    first = left_on_huddle(world)
    second = service.start_huddle(world.backend, world.viewers["police"], TODAY, NOW).huddle_id
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = world.backend.engine.url.render_as_string(hide_password=False)
    assert main(["huddle", "end-left-on", "--apply", "--huddle", str(second),
                 "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"huddle {second}: ended" in out and "Ended 1 huddle left on." in out
    assert huddle_row(world, first) == (None, None), "another huddle than the one named"
    assert huddle_row(world, second)[0] == NOW
    assert main(["huddle", "end-left-on", "--apply", "--huddle", str(second),
                 "--db", url]) == 1
    assert f"Huddle {second} is not left on" in capsys.readouterr().out


@pytest.mark.parametrize("db_kind", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_a_decision_made_as_the_huddle_is_ended_as_left_on_is_refused_not_lost(
        world: HuddleWorld) -> None:
    """On PostgreSQL a decision typed at the very moment the app ends the huddle as left
    on waits for that end and is refused (the screen keeps its words): written into the
    ended huddle, it was in no minutes. (SQLite writes one at a time.)"""
    huddle_id = left_on_huddle(world)
    with world.backend.sessions.system("test: roster") as s:
        viewer = service.huddle_viewer(service.read_roster(s, huddle_id),
                                       world.viewers["social"])
    outcome: list[str] = []

    def decide() -> None:
        try:
            service.add_decision(world.backend, viewer, world.case_c, "Late words",
                                 DECIDED + dt.timedelta(minutes=LIMIT + 1))
            outcome.append("written")
        except AnchorError as error:
            outcome.append(error.message)

    engine = world.backend.engine
    with engine.connect() as ending:
        ending.execute(text("SELECT id FROM huddle WHERE id = :id FOR UPDATE"),
                       {"id": huddle_id})  # the app's end of it, under way
        deciding = threading.Thread(target=decide)
        deciding.start()
        with engine.connect() as watch:
            for _ in range(10_000):  # until the decision waits for the end's lock
                if watch.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                                 ).scalar():
                    break
                watch.rollback()
            else:
                pytest.fail("the decision never waited")
        ending.execute(text("UPDATE huddle SET ended_at = :at WHERE id = :id"),
                       {"at": DECIDED, "id": huddle_id})
        ending.commit()
        deciding.join(30)
    assert outcome == ["This huddle has ended."]
    with world.backend.sessions.system("test: items") as s:
        assert s.scalars(select(m.HuddleItem.text).where(
            m.HuddleItem.huddle_id == huddle_id)).all() == ["Meet the family"]


def test_minutes_rebuilt_after_retention_still_say_the_huddle_was_left_on(
        world: HuddleWorld, minutes_dir: Path) -> None:
    huddle_id = left_on_huddle(world)
    end_left_on(world.backend, DECIDED + dt.timedelta(minutes=LIMIT + 1), LIMIT, minutes_dir)
    assert rebuild_after_retention(world.backend, world.case_a, DECIDED + dt.timedelta(
        days=400), minutes_dir) == [huddle_id]
    _ended_at, minutes = huddle_row(world, huddle_id)
    assert minutes is not None and "Meet the family" not in minutes  # erased
    assert LEFT_ON in minutes, "the rebuild forgot that the huddle was left on"


def test_a_huddle_whose_process_went_is_ended_at_the_next_start_however_recent(
        world: HuddleWorld, minutes_dir: Path, tmp_path: Path) -> None:
    """Its own terminal knows it has gone (``huddle_marks``): ended at its last activity
    without waiting for the quiet the command needs; the mark then goes."""
    huddle_id = left_on_huddle(world)
    marks = HuddleMarks(tmp_path / "state", "db")
    marks.hold(huddle_id, NOW)
    assert end_orphaned(world.backend, marks, minutes_dir) == [], "ended while running"
    assert huddle_row(world, huddle_id) == (None, None)
    marks.release_all()  # the process goes, the huddle on

    (ended,) = end_orphaned(world.backend, HuddleMarks(tmp_path / "state", "db"), minutes_dir)

    assert ended.huddle_id == huddle_id
    ended_at, minutes = huddle_row(world, huddle_id)
    assert ended_at == DECIDED and minutes is not None and LEFT_ON in minutes
    assert ended.path is not None and ended.path.read_text() == minutes
    assert leaves(world, huddle_id) == 2
    assert list(marks.folder.iterdir()) == [], "the mark stayed"


def test_a_mark_of_another_huddle_of_that_id_ends_nothing(
        world: HuddleWorld, minutes_dir: Path, tmp_path: Path) -> None:
    huddle_id = left_on_huddle(world)
    marks = HuddleMarks(tmp_path, "db")
    marks.hold(huddle_id, NOW - dt.timedelta(days=3))  # (another database's huddle 1)
    marks.release_all()
    assert end_orphaned(world.backend, marks, minutes_dir) == []
    assert huddle_row(world, huddle_id) == (None, None)
    assert list(marks.folder.iterdir()) == []


def test_a_mark_the_database_cannot_take_now_is_kept_for_the_next_start(
        world: HuddleWorld, minutes_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    huddle_id = left_on_huddle(world)
    marks = HuddleMarks(tmp_path, "db")
    marks.hold(huddle_id, NOW)
    marks.release_all()
    real = left_on_module._end_at_last_activity

    def away(*args: object, **kwargs: object) -> None:
        raise ConnectionLostError("The database cannot be reached.", "Try again.")

    monkeypatch.setattr(left_on_module, "_end_at_last_activity", away)
    assert end_orphaned(world.backend, marks, minutes_dir) == []
    monkeypatch.setattr(left_on_module, "_end_at_last_activity", real)
    (ended,) = end_orphaned(world.backend, marks, minutes_dir)
    assert ended.huddle_id == huddle_id and huddle_row(world, huddle_id)[0] == DECIDED


def test_a_mark_seen_from_another_machine_does_not_end_a_running_huddle(
        world: HuddleWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home folder shared or synced between terminals shows one machine's marks to
    another without their locks: a start ends only its own machine's."""
    huddle_id = left_on_huddle(world)
    here = HuddleMarks(tmp_path / "terminal-1", "db")
    here.hold(huddle_id, NOW)  # running on terminal 1, its lock held there
    try:
        # Terminal 2 sees the same home folder (its copy: the lock is terminal 1's).
        shutil.copytree(here.folder, tmp_path / "terminal-2" / FOLDER)
        monkeypatch.setattr(socket, "gethostname", lambda: "terminal-2")
        ended = end_orphaned(world.backend, HuddleMarks(tmp_path / "terminal-2", "db"),
                             tmp_path / "minutes")
        assert ended == [], "another machine's start ended a huddle still running"
        assert huddle_row(world, huddle_id) == (None, None)
    finally:
        here.release(huddle_id)
