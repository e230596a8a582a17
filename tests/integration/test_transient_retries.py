"""Every write two people can meet in is repeated after a serialization failure or a
deadlock, not only the board's moves: a case edit, a task added or marked done, a note
saved or marked entered in error, a huddle's decision.

PostgreSQL only (SQLite writers queue on one lock). The failure is real: a trigger on
the written table raises SQLSTATE 40001 (or 40P01) on the first write and lets the next
one through (a sequence counts the writes, and a sequence is not rolled back). The
service must succeed, having written once more than it failed, and leave one row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text

from anchor_tui.db import models as m
from anchor_tui.errors import TransientError
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.case_edits import CaseChange, apply_change, case_state
from anchor_tui.services.notes import NoteInput, mark_entered_in_error, save_note
from anchor_tui.services.tasks import add_task, complete_task
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, make_backend

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("db_kind", [pytest.param("postgres", id="postgres")],
                                      indirect=True)]

FailFirst = Callable[[str, str, str], None]


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


@pytest.fixture
def fail_first(engine: Engine) -> Iterator[FailFirst]:
    """``fail_first(table, "INSERT" | "UPDATE", sqlstate)``: the next such write to the
    table is aborted with ``sqlstate``; the one after goes through (``writes`` counts
    them from there)."""
    installed: list[str] = []

    def install(table: str, operation: str, sqlstate: str) -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE SEQUENCE IF NOT EXISTS test_writes"))
            conn.execute(text("ALTER SEQUENCE test_writes RESTART"))
            conn.execute(text(f'DROP TRIGGER IF EXISTS test_fail_first ON "{table}"'))
            conn.execute(text(
                "CREATE OR REPLACE FUNCTION test_fail_first() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "IF nextval('test_writes') = 1 THEN "
                "RAISE EXCEPTION 'aborted by the test' USING ERRCODE = TG_ARGV[0]; END IF; "
                "RETURN NEW; END $$"))
            conn.execute(text(
                f'CREATE TRIGGER test_fail_first BEFORE {operation} ON "{table}" '
                f"FOR EACH ROW EXECUTE FUNCTION test_fail_first('{sqlstate}')"))
        installed.append(table)

    yield install
    with engine.begin() as conn:
        for table in installed:
            conn.execute(text(f'DROP TRIGGER IF EXISTS test_fail_first ON "{table}"'))


def writes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT last_value FROM test_writes")).scalar_one())


def count(world: TeamWorld, model: type[m.Base], *where: object) -> int:
    with world.backend.sessions.system("test: count") as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.parametrize("sqlstate", ["40001", "40P01"])
def test_a_case_edit_is_repeated(world: TeamWorld, engine: Engine, fail_first: FailFirst,
                                 sqlstate: str) -> None:
    social = world.viewers["social"]
    seen = case_state(world.backend, social, world.case_a, TODAY)
    fail_first("case", "UPDATE", sqlstate)
    after = apply_change(world.backend, social, seen, CaseChange("priority", 3), today=TODAY)
    assert writes(engine) == 2
    assert (after.priority, after.version) == (3, seen.version + 1)
    assert count(world, m.CaseEvent, m.CaseEvent.case_id == world.case_a,
                 m.CaseEvent.kind == "priority", m.CaseEvent.to_value == "3") == 1


def test_a_note_is_saved_once(world: TeamWorld, engine: Engine,
                              fail_first: FailFirst) -> None:
    fail_first("note", "INSERT", "40001")
    saved = save_note(world.backend, world.viewers["social"],
                      NoteInput(world.case_a, "Saved at the second try", "general"),
                      today=TODAY, now=NOW)
    assert writes(engine) == 2
    assert count(world, m.Note, m.Note.body == "Saved at the second try") == 1
    assert count(world, m.AuditEvent, m.AuditEvent.action == "note.write",
                 m.AuditEvent.object_id == saved.note_id) == 1


def test_entered_in_error_is_repeated(world: TeamWorld, engine: Engine,
                                      fail_first: FailFirst) -> None:
    fail_first("note", "UPDATE", "40P01")
    mark_entered_in_error(world.backend, world.viewers["social"], world.notes["rev2"],
                          "written on the wrong case")
    assert writes(engine) == 2
    assert count(world, m.Note, m.Note.id == world.notes["rev2"],
                 m.Note.entered_in_error.is_(True)) == 1


def test_a_task_is_added_once_and_marked_done(world: TeamWorld, engine: Engine,
                                              fail_first: FailFirst) -> None:
    social = world.viewers["social"]
    fail_first("task", "INSERT", "40001")
    added = add_task(world.backend, social, world.case_a, "Call the school",
                     TODAY + dt.timedelta(days=3), social.user_id, TODAY)
    assert writes(engine) == 2
    assert count(world, m.Task, m.Task.title == "Call the school") == 1
    fail_first("task", "UPDATE", "40001")
    complete_task(world.backend, social, added.task_id, 1)
    assert writes(engine) == 2
    assert count(world, m.Task, m.Task.id == added.task_id, m.Task.done_at.is_not(None)) == 1


def test_a_huddle_decision_is_recorded_once(world: TeamWorld, engine: Engine,
                                            fail_first: FailFirst) -> None:
    social = world.viewers["social"]
    roster = huddle_service.start_huddle(world.backend, social, TODAY, NOW)
    meeting = huddle_service.huddle_viewer(roster, social)
    fail_first("huddle_item", "INSERT", "40001")
    huddle_service.add_decision(world.backend, meeting, world.case_a, "Meet the family", NOW)
    assert writes(engine) == 2
    assert count(world, m.HuddleItem, m.HuddleItem.text == "Meet the family") == 1


def test_a_failure_that_persists_reaches_the_person(world: TeamWorld, engine: Engine) -> None:
    """The retry is bounded: a write that keeps failing says so (nothing saved)."""
    with engine.begin() as conn:
        conn.execute(text(
            "CREATE OR REPLACE FUNCTION test_fail_always() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'aborted by the test' USING ERRCODE = '40001'; END $$"))
        conn.execute(text('CREATE TRIGGER test_fail_always BEFORE INSERT ON "note" '
                          "FOR EACH ROW EXECUTE FUNCTION test_fail_always()"))
    try:
        with pytest.raises(TransientError, match="Nothing was saved"):
            save_note(world.backend, world.viewers["social"],
                      NoteInput(world.case_a, "Never saved", "general"), today=TODAY, now=NOW)
        assert count(world, m.Note, m.Note.body == "Never saved") == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text('DROP TRIGGER test_fail_always ON "note"'))
