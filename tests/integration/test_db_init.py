"""``anchor-tui db init`` and ``db rls`` on a real PostgreSQL, and the app as the
application role: two roles, the grants, FORCE ROW LEVEL SECURITY, the policy hash check,
and the team's daily work (sign-in, board, case, moves, tasks, audit) through both walls.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.db.deploy import scram_verifier
from anchor_tui.db.engine import make_engine
from anchor_tui.domain import Viewer
from anchor_tui.errors import DatabaseError
from anchor_tui.policy import load_policy
from anchor_tui.services import audit, audit_chain
from anchor_tui.services.auth import sign_in
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns
from anchor_tui.services.case_actions import assign_task, case_ref, move_stage, take_case
from anchor_tui.services.case_view import open_case
from anchor_tui.services.seed import seed
from anchor_tui.settings import DEMO_PASSPHRASE, PACKAGE_CONFIG_DIR, load_settings
from tests.conftest import PG_ADMIN_URL
from tests.deployment import Deployed, deployment

pytestmark = pytest.mark.postgres


@pytest.fixture
def dep(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    with deployment(PG_ADMIN_URL, monkeypatch) as made:
        yield made


@pytest.fixture
def seeded(dep: Deployed) -> Iterator[tuple[Backend, Backend]]:
    """(owner's backend after seeding 40 cases, the application role's backend)."""
    owner = Backend.open(load_settings(dep.owner_url))
    seed(owner, cases=40, notes_per_case=4, seed=7)
    app = Backend.open(load_settings(dep.app_url))
    yield owner, app
    app.close()
    owner.close()


def _scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_init_makes_an_owner_and_an_application_role(dep: Deployed) -> None:
    admin = make_engine(dep.admin_url)
    try:
        roles = {name: (sup, bypass) for name, sup, bypass in _rows(
            admin, "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles "
            "WHERE rolname IN (:a, :o)", a=dep.app_role, o=dep.owner)}
        assert roles == {dep.app_role: (False, False), dep.owner: (False, False)}
        owners = {owner for (owner,) in _rows(
            admin, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'anchor'")}
        assert owners == {dep.owner}  # the application role owns nothing
        protected = {str(e.__tablename__) for e in m.PROTECTED}
        forced = {name for name, on, force in _rows(
            admin, "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'anchor'::regnamespace AND relkind = 'r'") if on and force}
        assert forced == protected
        assert _scalar(admin, "SELECT anchor_rls_hash()") == load_policy(
            PACKAGE_CONFIG_DIR / "disclosure.yaml").hash
        password = _scalar(admin, "SELECT rolpassword FROM pg_authid WHERE rolname = :r",
                           r=dep.app_role)
        assert isinstance(password, str) and password.startswith("SCRAM-SHA-256$4096:")
    finally:
        admin.dispose()


def _rows(engine: Engine, sql: str, **params: object) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql), params)]


@pytest.mark.parametrize("statement", [
    "DELETE FROM note",
    "UPDATE audit_event SET action = 'x'",
    "DELETE FROM audit_event",
    "UPDATE alembic_version SET version_num = '0001'",
    "CREATE TABLE anchor.mine (x int)",
    "ALTER TABLE note DISABLE ROW LEVEL SECURITY",
    "DROP POLICY anchor_read ON note",
    "SET row_security = off; SELECT count(*) FROM note",
    # A temporary "case_member" would come first in the search path, inside the
    # row-level security's own checks.
    "CREATE TEMP TABLE case_member AS SELECT * FROM anchor.case_member",
])
def test_the_application_role_may_not(dep: Deployed, statement: str) -> None:
    app = make_engine(dep.app_url)
    try:
        with pytest.raises(DBAPIError) as info, app.begin() as conn:
            for part in statement.split("; "):
                conn.execute(text(part))
        assert info.value.orig is not None
        assert getattr(info.value.orig, "sqlstate", "") in ("42501", "42P01")
    finally:
        app.dispose()


def test_init_again_keeps_everything_and_refuses_a_superuser_app_role(
    dep: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # no password asked: roles exist
    admin_url = dep.admin_url.split("?")[0]
    assert main(["db", "init", "--url", admin_url, "--owner", dep.owner,
                 "--app-role", dep.app_role, "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "Roles created: none" in out and f"revision {schema.HEAD}" in out
    assert main(["db", "init", "--url", admin_url, "--app-role", "postgres"]) == 2
    err = capsys.readouterr().err
    assert "may bypass row-level security" in err and "NOBYPASSRLS" in err


def test_the_readme_setup_adds_a_user_as_the_application_role(
    dep: Deployed, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ankkuri-passphrase-2026\n"))
    assert main(["user", "add", "--db", dep.app_url, "--display-name", "Hanna Vartiainen",
                 "--profession", "social_work", "--role", "lead", "--passphrase-stdin",
                 "hanna"]) == 0
    app = Backend.open(load_settings(dep.app_url))
    try:
        assert sign_in(app, "hanna", "ankkuri-passphrase-2026").role == "lead"
    finally:
        app.close()


def test_init_refuses_a_connection_that_is_no_superuser(
    dep: Deployed, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "init", "--url", dep.owner_url.split("?")[0], "--owner", dep.owner,
                 "--app-role", dep.app_role]) == 2
    assert "superuser" in capsys.readouterr().err


def test_scram_verifier_is_what_postgres_computes(dep: Deployed) -> None:
    """PostgreSQL hashes a password itself; with its salt ours is the same verifier."""
    import base64
    import uuid

    role = f"scram_{uuid.uuid4().hex[:10]}"
    admin = make_engine(dep.admin_url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SET password_encryption = 'scram-sha-256'"))
            conn.execute(text(f"CREATE ROLE {role} PASSWORD 'pencil and ä'"))
            try:
                stored = str(conn.execute(text(
                    "SELECT rolpassword FROM pg_authid WHERE rolname = :r"), {"r": role}
                ).scalar())
            finally:
                conn.execute(text(f"DROP ROLE {role}"))
    finally:
        admin.dispose()
    salt = base64.b64decode(stored.split("$")[1].split(":")[1])
    assert scram_verifier("pencil and ä", salt=salt) == stored
    assert scram_verifier("pencil and a", salt=salt) != stored


def test_the_team_works_through_both_walls(seeded: tuple[Backend, Backend]) -> None:
    """Sign-in, board, case view, a stage move, taking a case, a task and the audit
    trail, all as the application role; what each sees equals the filter alone."""
    owner, app = seeded
    police = sign_in(app, "police", DEMO_PASSPHRASE)
    nurse = sign_in(app, "nurse", DEMO_PASSPHRASE)
    columns = board_columns(app, police)
    assert sum(c.total for c in columns) == 40
    card = next(card for column in columns for card in column.cards)
    for viewer in (police, nurse):
        through_both = open_case(app, viewer, card.case_id)
        filter_only = open_case(owner_as_filter_only(owner), viewer, card.case_id)
        assert [n.note_id for n in through_both.notes.notes] == \
            [n.note_id for n in filter_only.notes.notes]
        assert [t.task_id for t in through_both.tasks] == [t.task_id for t in filter_only.tasks]
    moved = move_stage(app, police, card.case_id, card.version,
                       "follow_up" if card.stage != "follow_up" else "assessment")
    assert moved.version == card.version + 1
    with app.sessions.system("test: a case the nurse does not work") as s:
        worked = select(m.CaseMember.case_id).where(m.CaseMember.user_id == nurse.user_id)
        other = s.scalars(select(m.Case.id).where(m.Case.id.not_in(worked)).limit(1)).one()
    ref = case_ref(app, nurse, other)
    taken = take_case(app, nurse, other, ref.version, as_lead=False, today=dt.date.today())
    assert taken.version == ref.version  # a membership is not a change of the case row
    with app.sessions.read(police) as s:
        task_id, version, case_id = s.execute(
            select(m.Task.id, m.Task.version, m.Task.case_id)
            .where(m.Task.assignee_id == police.user_id).limit(1)).one()
    assign_task(app, police, task_id, version, police.user_id, dt.date.today())
    assert case_id
    assert audit_chain.verify(app).ok


def owner_as_filter_only(owner: Backend) -> Backend:
    """The owner's backend as a superuser: the central filter without row-level security."""
    engine = make_engine(owner.engine.url.set(username="postgres")
                         .render_as_string(hide_password=False))
    return Backend.from_engine(engine, owner.policy, owner.team)


def test_a_huddle_may_write_a_task_not_every_attendee_sees(
        seeded: tuple[Backend, Backend]) -> None:
    """Row-level security checks a row INSERT ... RETURNING hands back against what the
    writer sees: the protected tables take their ids from the sequence instead."""
    from anchor_tui.domain import Attendee

    _owner, app = seeded
    police = sign_in(app, "police", DEMO_PASSPHRASE)
    with app.sessions.read(police) as s:
        case_id = s.scalars(select(m.Case.id).limit(1)).one()
    huddle = Viewer(police.user_id, "police", "P", "police", "member", purpose="huddle",
                    attendees=(Attendee(police.user_id, "police"), Attendee(-1, "health")))
    with app.sessions.write(huddle) as s:
        task = m.Task(case_id=case_id, title="ask the school", created_by_id=police.user_id)
        s.add(task)
    assert task.id is not None
    with app.sessions.system("test: the task is there") as s:
        assert s.get(m.Task, task.id) is not None


def test_a_note_written_as_someone_else_is_refused(seeded: tuple[Backend, Backend]) -> None:
    _owner, app = seeded
    police = sign_in(app, "police", DEMO_PASSPHRASE)
    nurse = sign_in(app, "nurse", DEMO_PASSPHRASE)
    with app.sessions.read(police) as s:
        case_id = s.scalars(select(m.Case.id).limit(1)).one()
    with pytest.raises(DBAPIError) as info, app.sessions.write(police) as s:
        s.add(m.Note(case_id=case_id, author_id=nurse.user_id, author_profession="health",
                     category="health", body="not mine to write"))
    assert "row-level security" in str(info.value)
    assert "not mine to write" not in str(info.value)


def test_a_changed_policy_stops_the_app_until_db_rls(
    seeded: tuple[Backend, Backend], dep: Deployed, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "config"
    config.mkdir()
    shipped = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text(encoding="utf-8")
    changed = shipped.replace("The author always sees what they wrote.",
                              "The author always sees what they wrote (changed).")
    assert changed != shipped
    (config / "disclosure.yaml").write_text(changed, encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", dep.app_url, "--config", str(config), "db", "current"]) == 0
    assert main(["--db", dep.app_url, "--config", str(config), "user", "list"]) == 2
    err = capsys.readouterr().err
    assert "another disclosure policy" in err
    assert re.search(r"fix: .*anchor-tui db rls --db", err)
    assert main(["db", "rls", "--db", dep.app_url, "--config", str(config)]) != 0
    capsys.readouterr()  # the application role may not change the policies
    assert main(["db", "rls", "--db", dep.owner_url, "--config", str(config)]) == 0
    assert "draft, note, task" in capsys.readouterr().out
    assert main(["--db", dep.app_url, "--config", str(config), "user", "list"]) == 0
    with pytest.raises(DatabaseError) as info:
        Backend.open(load_settings(dep.app_url))  # the shipped policy is now the other one
    assert "another disclosure policy" in info.value.message


def test_audit_events_of_several_terminals_keep_one_chain(
        seeded: tuple[Backend, Backend], dep: Deployed) -> None:
    """The audit trail is not row-filtered: under the advisory lock every terminal sees
    the chain's head, so appends from several engines still verify."""
    import threading

    _owner, app = seeded
    police = sign_in(app, "police", DEMO_PASSPHRASE)
    engines = [Backend.open(load_settings(dep.app_url)) for _ in range(4)]
    errors: list[BaseException] = []

    def append(backend: Backend) -> None:
        try:
            for _ in range(10):
                audit.record_now(backend, police, "case.view", object_type="case", object_id=1)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(b,)) for b in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for b in engines:
        b.close()
    assert errors == []
    result = audit_chain.verify(app)
    assert result.ok, result
