"""Migrations: upgrade from empty, match the models, round-trip, refuse unknown schemas.

Runs on SQLite and on PostgreSQL (``db_url``). Schemas are built only through the
migrations, never with ``create_all``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import make_url

import anchor_tui
from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.db.models import PARTIAL_WHERE, Base
from anchor_tui.db.search_tables import (
    BOARD_ORDER_INDEX,
    OPEN_TASKS_INDEX,
    include_name,
    is_search_table,
)
from anchor_tui.errors import DatabaseError, SchemaMismatchError

# SQLite's reflection skips the expression indexes (not models; include_name leaves them
# out of comparisons) with a warning; any other warning still fails these tests.
pytestmark = pytest.mark.filterwarnings(
    f"ignore:Skipped unsupported reflection of expression-based index "
    f"({BOARD_ORDER_INDEX}|{OPEN_TASKS_INDEX})$:sqlalchemy.exc.SAWarning")

REPO = Path(__file__).resolve().parents[2]
APP_TABLES = set(Base.metadata.tables)


@pytest.fixture
def empty_engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


def differences(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": include_name})
        return list(compare_metadata(context, Base.metadata))


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        # The search index's own tables (SQLite FTS5) are not models.
        return {t for t in inspect(conn).get_table_names() if not is_search_table(t)}


def note_guards(engine: Engine) -> list[str]:
    """The append-only triggers (and, on PostgreSQL, their function) present now."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'note'")
            )
            return sorted(r[0] for r in rows)
        rows = conn.execute(
            text(
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE c.relname = 'note' AND c.relnamespace = current_schema()::regnamespace "
                "AND NOT t.tgisinternal "
                "UNION ALL SELECT proname FROM pg_proc WHERE proname = 'note_append_only' "
                "AND pronamespace = current_schema()::regnamespace"
            )
        )
        return sorted(r[0] for r in rows)


def test_upgrade_from_empty_reaches_head(empty_engine: Engine) -> None:
    assert schema.current_revision(empty_engine) is None
    assert tables(empty_engine) == set()
    schema.upgrade(empty_engine)
    assert schema.current_revision(empty_engine) == schema.HEAD
    assert tables(empty_engine) == APP_TABLES | {"alembic_version"}
    assert note_guards(empty_engine)


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    assert differences(engine) == []


def _predicate(sql: object) -> str:
    """A partial index's predicate, compared without case, brackets or spacing."""
    return "".join(ch for ch in str(sql).lower() if ch not in "() \n\t")


def test_partial_indexes_have_the_models_predicates(engine: Engine) -> None:
    """The models keep a partial index's predicate in ``info`` (not as a dialect's
    option, which would load that dialect); Alembic's comparison does not look at
    predicates, so this checks the migrated ones against the models."""
    expected = {index.name: (table.name, index.info[PARTIAL_WHERE])
                for table in Base.metadata.tables.values() for index in table.indexes
                if PARTIAL_WHERE in index.info}
    assert set(expected) == {"uq_draft_author_id_case_id_new", "uq_draft_huddle_key",
                             "uq_huddle_flag_open_case_id"}
    option = f"{engine.dialect.name}_where"
    with engine.connect() as conn:
        for name, (table, where) in expected.items():
            reflected = {i["name"]: i for i in inspect(conn).get_indexes(table)}[name]
            assert reflected["unique"]
            assert _predicate(reflected["dialect_options"][option]) == _predicate(where)


def test_the_models_load_no_dialect() -> None:
    """Importing the models (and the data layer) loads neither database's SQLAlchemy
    dialect: the engine loads the one in use."""
    probe = ("import sys, anchor_tui.db.models, anchor_tui.db.session, anchor_tui.policy; "
             "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=120)
    assert done.stdout.strip() == "[]"


def test_compare_metadata_would_notice_a_drift(engine: Engine) -> None:
    """The comparison above can fail: a column the models lack is reported."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE person ADD COLUMN nickname VARCHAR(50)"))
    diff = differences(engine)
    assert any(d[0] == "remove_column" and d[2] == "person" for d in diff if isinstance(d, tuple))


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    schema.downgrade(engine, "base")
    assert tables(engine) <= {"alembic_version"}
    assert schema.current_revision(engine) is None
    assert note_guards(engine) == []

    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.HEAD
    assert tables(engine) == APP_TABLES | {"alembic_version"}
    assert differences(engine) == []
    assert note_guards(engine)


def test_upgrade_is_idempotent_at_head(engine: Engine) -> None:
    schema.upgrade(engine)
    assert schema.current_revision(engine) == schema.HEAD


def test_head_and_known_match_alembic() -> None:
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    assert scripts.get_heads() == [schema.HEAD]
    oldest_first = [rev.revision for rev in reversed(list(scripts.walk_revisions()))]
    assert list(schema.KNOWN) == oldest_first
    assert schema.KNOWN[-1] == schema.HEAD


def test_every_revision_can_be_downgraded() -> None:
    scripts = ScriptDirectory.from_config(schema.alembic_config())
    for rev in scripts.walk_revisions():
        assert rev.module is not None
        assert callable(getattr(rev.module, "downgrade", None)), rev.revision


def test_ensure_schema_refuses_an_empty_shared_database(empty_engine: Engine) -> None:
    with pytest.raises(SchemaMismatchError) as info:
        schema.ensure_schema(empty_engine, auto_upgrade=False)
    assert "empty" in info.value.message
    assert "anchor-tui db upgrade" in info.value.fix
    # Refusing must not change anything.
    assert schema.current_revision(empty_engine) is None
    assert tables(empty_engine) == set()


def test_ensure_schema_upgrades_when_allowed(empty_engine: Engine) -> None:
    schema.ensure_schema(empty_engine, auto_upgrade=True)
    assert schema.current_revision(empty_engine) == schema.HEAD
    schema.ensure_schema(empty_engine, auto_upgrade=False)  # at head: accepted


def test_the_embedded_upgrade_never_writes_into_another_programs_database(
        sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)"))
        with pytest.raises(DatabaseError) as info:
            schema.ensure_schema(engine, auto_upgrade=True)
        assert "another program" in info.value.message and "--db" in info.value.fix
        assert tables(engine) == {"moz_places"}
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_fix_never_shows_the_password(pg_url: str) -> None:
    with_password = make_url(pg_url).set(password="hunter2-secret")
    eng = make_engine(with_password.render_as_string(hide_password=False))
    try:
        with pytest.raises(SchemaMismatchError) as info:
            schema.ensure_schema(eng, auto_upgrade=False)
    finally:
        eng.dispose()
    assert "hunter2-secret" not in str(info.value)


@pytest.mark.parametrize("auto_upgrade", [True, False])
def test_a_newer_schema_is_refused(engine: Engine, auto_upgrade: bool) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    with pytest.raises(SchemaMismatchError) as info:
        schema.ensure_schema(engine, auto_upgrade=auto_upgrade)
    assert "newer" in info.value.message
    assert "9999_from_the_future" in info.value.message
    assert "Upgrade anchor-tui" in info.value.fix
    assert schema.current_revision(engine) == "9999_from_the_future"


def test_migrations_are_a_package_resource() -> None:
    config = schema.alembic_config()
    assert config.get_main_option("script_location") == "anchor_tui.db:migrations"
    scripts = ScriptDirectory.from_config(config)
    package_dir = Path(anchor_tui.__file__).resolve().parent
    assert Path(scripts.dir).resolve() == package_dir / "db" / "migrations"
    migrations = resources.files("anchor_tui.db.migrations")
    assert migrations.joinpath("env.py").is_file()
    assert migrations.joinpath("script.py.mako").is_file()
    assert any(
        entry.name.endswith(".py") and entry.name[0].isdigit()
        for entry in migrations.joinpath("versions").iterdir()
    )


# Run in a fresh interpreter from the unpacked wheel: the package must come from there.
_FROM_WHEEL = """
import sys
sys.path.insert(0, sys.argv[1])
import anchor_tui
assert anchor_tui.__file__.startswith(sys.argv[1]), anchor_tui.__file__
from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.settings import load_team_config
assert main(["db", "upgrade", "--db", sys.argv[2]]) == 0  # the command, as a team runs it
load_team_config(None)
print(schema.current_revision(make_engine(sys.argv[2])))
"""


def test_upgrade_works_from_a_built_wheel(tmp_path: Path) -> None:
    """`anchor-tui db upgrade` from an installed wheel: migrations and config ship inside."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "pyproject.toml").write_text(
        (REPO / "pyproject.toml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    readme = REPO / "README.md"
    (source / "README.md").write_text(
        readme.read_text(encoding="utf-8") if readme.exists() else "# anchor-tui\n",
        encoding="utf-8",
    )
    shutil.copytree(
        REPO / "anchor_tui", source / "anchor_tui",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(source)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = dist.glob("anchor_tui-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(unpacked)
    assert "anchor_tui/db/migrations/env.py" in names
    assert "anchor_tui/config/anchor.yaml" in names
    assert "anchor_tui/config/disclosure.yaml" in names

    db_file = tmp_path / "wheel.sqlite3"
    ran = subprocess.run(
        [sys.executable, "-c", _FROM_WHEEL, str(unpacked), f"sqlite:///{db_file}"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip().splitlines()[-1] == schema.HEAD


def test_0012_links_the_tasks_made_from_notes_as_the_app_now_does(engine: Engine) -> None:
    """Tasks the app made from notes before 0012 carry no note: the upgrade links them as
    saving now does (the statutory tasks to their concern, a follow-up to its note),
    and leaves a task made from no note alone."""
    from anchor_tui.services.child_welfare import record_notification
    from anchor_tui.services.notes import NoteInput, save_note
    from tests.integration.case_world import TODAY, build, make_backend

    world = build(make_backend(engine))
    nurse = world.viewers["nurse"]
    first = save_note(world.backend, nurse, NoteInput(world.case_a, "Concern", "child_welfare"),
                      today=TODAY)
    assert first.notification_id is not None
    record_notification(world.backend, nurse, first.notification_id, method="phone",
                        recipient="Espoo child welfare", today=TODAY)
    save_note(world.backend, nurse, NoteInput(world.case_a, "Summary", "health",
                                              template="anchor_meeting_summary"), today=TODAY)
    again = save_note(world.backend, world.viewers["police"], NoteInput(
        world.case_a, "Another concern", "child_welfare"), today=TODAY)
    assert again.notification_id is not None

    def links() -> dict[str, int | None]:
        with engine.connect() as conn:
            return {f"{title}/{by}": note for title, by, note in conn.execute(text(
                "SELECT title, created_by_id, from_note_id FROM task ORDER BY id"))}

    made = links()
    assert sum(note is not None for note in made.values()) == 4  # the call home task: none
    schema.downgrade(engine, "0011")
    with engine.connect() as conn:
        assert "from_note_id" not in {c["name"] for c in inspect(conn).get_columns("task")}
    schema.upgrade(engine)
    assert links() == made
    assert differences(engine) == []


def test_0012_links_by_what_was_saved_together_not_by_the_newest(engine: Engine) -> None:
    """Two ways a link by "the newest" would go wrong (and show a task to someone who may
    not read its note): a statutory task a recorded notification replaced, when a later
    concern of the same author is in another category; and a follow-up when a later
    note carries an earlier moment (a save kept overnight is dated the day before)."""
    from anchor_tui.db.types import utcnow
    from anchor_tui.services.child_welfare import record_notification
    from anchor_tui.services.notes import NoteInput, save_note
    from tests.integration.case_world import TODAY, build, make_backend

    world = build(make_backend(engine))
    police, nurse = world.viewers["police"], world.viewers["nurse"]
    first = save_note(world.backend, police, NoteInput(
        world.case_a, "Concern: bruises", "child_welfare"), today=TODAY)
    assert first.notification_id is not None
    record_notification(world.backend, police, first.notification_id, method="phone",
                        recipient="Espoo child welfare", today=TODAY)
    second = save_note(world.backend, police, NoteInput(
        world.case_a, "Concern for everyone", "general", template="welfare_concern"),
        today=TODAY)
    assert second.notification_id is not None
    health = save_note(world.backend, nurse, NoteInput(
        world.case_a, "Talked it through", "health", template="anchor_meeting_summary"),
        today=TODAY)
    assert health.follow_up is not None
    save_note(world.backend, nurse, NoteInput(
        world.case_a, "Called home", "general", template="phone_contact"),
        today=TODAY, now=utcnow() - dt.timedelta(hours=12))

    def links() -> dict[int, int | None]:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, from_note_id FROM task")).all())

    made = links()
    schema.downgrade(engine, "0011")
    schema.upgrade(engine)
    assert links() == made
    with world.backend.sessions.read(world.viewers["nurse"]) as s:
        shown = set(s.scalars(select(m.Task.from_note_id)))
    assert first.note_id not in shown  # the police's child-welfare note: not the nurse's
    with world.backend.sessions.read(police) as s:
        assert s.get(m.Task, health.follow_up.task_id) is None


def test_0013_gives_earlier_huddle_actions_every_note_before_them(engine: Engine) -> None:
    """Tasks of huddle actions made before 0013 carry no sources, and what the room saw
    was not recorded: the upgrade gives each every note of its case written at or before
    the action (more than the room saw: only narrower), and the young person's name; a
    note written after it adds nothing, and a task made elsewhere gets no source."""
    from anchor_tui.services import huddle
    from anchor_tui.services.case_view import open_case
    from anchor_tui.services.tasks import add_task
    from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, build, make_backend

    world = build(make_backend(engine))
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    roster = huddle.start_huddle(world.backend, social, TODAY, NOW)
    roster = huddle.join_huddle(world.backend, huddle.huddle_viewer(roster, social), "nurse",
                                PASSPHRASE, TODAY, NOW + dt.timedelta(minutes=1))
    room = huddle.huddle_viewer(roster, social)
    due = TODAY + dt.timedelta(days=3)
    typed = NOW + dt.timedelta(minutes=2)
    huddle.add_action(world.backend, room, world.case_a, "Refer to detox", None, due,
                      TODAY, typed)
    huddle.add_action(world.backend, room, world.case_c, "Phone the school", None, due,
                      TODAY, typed)
    huddle.add_decision(world.backend, room, world.case_a, "Meet the family", typed)
    elsewhere = add_task(world.backend, social, world.case_a, "Call home", None, None, TODAY)
    with world.backend.sessions.system("test: a later note") as s:
        later = m.Note(case_id=world.case_a, author_id=nurse.user_id,
                       author_profession="health", category="general", body="Later.",
                       created_at=typed + dt.timedelta(minutes=10))
        s.add(later)
        s.flush()
        later_id = later.id

    def sources() -> dict[str, set[object]]:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT task.title, s.note_id, s.field FROM task_source s "
                "JOIN task ON task.id = s.task_id")).all()
        found: dict[str, set[object]] = {}
        for title, note, field in rows:
            found.setdefault(title, set()).add(note if note is not None else field)
        return found

    recorded = sources()
    assert set(recorded) == {"Refer to detox", "Phone the school"}
    assert world.notes["police_intel"] not in recorded["Refer to detox"]  # not in a huddle
    schema.downgrade(engine, "0012")
    assert "task_source" not in tables(engine)
    schema.upgrade(engine)
    assert differences(engine) == []
    backfilled = sources()
    case_a_notes = {world.notes[k] for k in
                    ("police_intel", "health", "general", "child_welfare", "youth_work")}
    assert backfilled == {"Refer to detox": {*case_a_notes, "person_name"},
                          "Phone the school": {world.notes["case_c"], "person_name"}}
    assert later_id not in backfilled["Refer to detox"]
    assert recorded["Refer to detox"] <= backfilled["Refer to detox"]
    assert elsewhere.title not in backfilled
    for name in ("youth", "police", "social"):
        titles = [t.title for t in open_case(world.backend, world.viewers[name],
                                             world.case_a).tasks]
        assert "Refer to detox" not in titles  # nobody sees police intelligence and all
        assert "Call home" in titles
    assert "Phone the school" in [t.title for t in open_case(
        world.backend, nurse, world.case_c).tasks]


def test_0014_downgrade_keeps_every_huddle_draft_in_its_authors_own(engine: Engine) -> None:
    """Before 0014 a huddle's note was kept in its author's one draft of the case: going
    back there, each huddle draft becomes that draft, or is added after it; no word
    goes. Upgrading again changes no row."""
    from anchor_tui.services.drafts import save_draft
    from tests.integration.case_world import build, huddle, make_backend

    world = build(make_backend(engine))
    nurse, meeting = world.viewers["nurse"], huddle(world, "nurse", "social")
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Mine")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "From one",
               huddle_key="one")
    save_draft(world.backend, meeting, world.case_a, None, "general", None, "From two",
               huddle_key="two")
    save_draft(world.backend, meeting, world.case_b, None, "general", None, "Only one",
               huddle_key="three")

    def drafts() -> list[tuple[int, str]]:
        with engine.connect() as conn:
            return sorted(tuple(row) for row in conn.execute(text(
                "SELECT case_id, body FROM draft WHERE author_id = :a"),
                {"a": nurse.user_id}))

    schema.downgrade(engine, "0013")
    after = [(world.case_a, "Mine\n\nFrom one\n\nFrom two"), (world.case_b, "Only one")]
    assert drafts() == sorted(after)
    schema.upgrade(engine)
    assert differences(engine) == []
    assert drafts() == sorted(after)


def test_0015_moves_each_reason_into_a_protected_row_of_its_writers_profession(
        engine: Engine) -> None:
    """Before 0015 a reason was a column of the case's history, read by everyone who saw
    the case. Going back puts each reason in its column again; upgrading moves it into a
    row of its own, disclosed as a note of its writer's profession (a nurse's as health,
    a social worker's as general), behind the central filter and, on PostgreSQL, behind
    row-level security installed for the new table, the other tables' kept."""
    from anchor_tui.services.case_actions import case_ref, mark_screened
    from anchor_tui.services.case_view import open_case
    from tests.integration.case_world import build, make_backend

    world = build(make_backend(engine))
    backend, nurse = world.backend, world.viewers["nurse"]
    social, police = world.viewers["social"], world.viewers["police"]
    mark_screened(backend, nurse, world.case_a, case_ref(backend, nurse, world.case_a).version,
                  take=True, reason="known to psychiatry")
    mark_screened(backend, social, world.case_b,
                  case_ref(backend, social, world.case_b).version, take=True,
                  reason="school asked")

    def secured() -> set[str]:
        if engine.dialect.name != "postgresql":
            return set()
        with engine.connect() as conn:
            return set(conn.execute(text(
                "SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = "
                "current_schema() AND policyname LIKE 'anchor\\_%'")).scalars())

    protected = {"note", "task", "draft", "case_event_reason"}
    if engine.dialect.name == "postgresql":
        assert secured() == protected | {"form_draft"}  # (0018's)
    schema.downgrade(engine, "0015")
    if engine.dialect.name == "postgresql":
        # 0016 goes back without row-level security (the task's reads its table), as
        # 0013's does; the older version's `db init` installs it again.
        assert secured() == set()
        from anchor_tui.db import rls

        with engine.execution_options(**schema.MIGRATING).begin() as conn:
            schema.as_schema_owner(conn)
            rls.install(conn, backend.policy)
        assert secured() == protected
    schema.downgrade(engine, "0014")
    assert "case_event_reason" not in tables(engine)
    with engine.connect() as conn:
        # (Case B moved on from screening: its stage change gave the same reason.)
        assert sorted(conn.execute(text(
            "SELECT reason FROM case_event WHERE reason IS NOT NULL")).scalars()) == [
            "known to psychiatry", "school asked", "school asked"]
    if engine.dialect.name == "postgresql":
        assert secured() == protected - {"case_event_reason"}
    schema.upgrade(engine)
    assert differences(engine) == []
    assert secured() == (protected | {"form_draft"} if engine.dialect.name == "postgresql"
                         else set())
    with engine.connect() as conn:
        moved = set(conn.execute(text(
            "SELECT author_profession, category, text FROM case_event_reason")).all())
    assert moved == {("health", "health", "known to psychiatry"),
                     ("social_work", "general", "school asked")}

    def screened(viewer: object, case_id: int) -> list[str | None]:
        record = open_case(backend, viewer, case_id)  # type: ignore[arg-type]
        return [e.reason for e in record.history if e.kind == "screened"]

    assert screened(nurse, world.case_a) == ["known to psychiatry"]
    assert screened(police, world.case_a) == [None]
    assert screened(police, world.case_b) == ["school asked"]  # police work case B


def test_0017_keeps_every_draft_and_going_back_keeps_the_tasks_words(engine: Engine) -> None:
    """0017 adds the tasks typed over a draft's note: a draft of before is kept as it was
    (no task). Going back, the older version's draft holds text alone: each task's words
    are added after the text, never dropped."""
    from anchor_tui.services.drafts import load_draft, save_draft
    from anchor_tui.services.tasks import NoteTask
    from tests.integration.case_world import TODAY, build, make_backend

    world = build(make_backend(engine))
    nurse, social = world.viewers["nurse"], world.viewers["social"]
    schema.downgrade(engine, "0016")
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO draft (author_id, case_id, category, body, updated_at) "
            "VALUES (:a, :c, 'health', 'Written before', :t)"),
            {"a": nurse.user_id, "c": world.case_a, "t": dt.datetime(2026, 12, 1, 9)})
    schema.upgrade(engine)
    assert differences(engine) == []
    before = load_draft(world.backend, nurse, world.case_a)
    assert before is not None and (before.body, before.tasks) == ("Written before", ())

    due = TODAY + dt.timedelta(days=2)
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Written before",
               tasks=(NoteTask("Phone the clinic", due, social.user_id),))
    save_draft(world.backend, social, world.case_a, None, "general", None, "",
               tasks=(NoteTask("Book a room", None, None, in_huddle=True),))
    schema.downgrade(engine, "0016")
    with engine.connect() as conn:
        assert "tasks" not in {c["name"] for c in inspect(conn).get_columns("draft")}
        bodies = dict(conn.execute(text("SELECT author_id, body FROM draft")).all())
    assert bodies == {
        nurse.user_id: "Written before\n\nTask typed with this note, not saved: "
                       f"Phone the clinic, due {due.isoformat()}",
        # Typed in a huddle: for a narrower audience than the note's, and said so.
        social.user_id: "Task typed with this note in a huddle (check who may see it), "
                        "not saved: Book a room"}
    schema.upgrade(engine)
    assert differences(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM draft WHERE tasks IS NOT NULL")
                            ).scalar() == 0


def test_0018_adds_the_kept_forms_behind_both_walls_and_goes_back_without_them(
        engine: Engine) -> None:
    """0018 adds ``form_draft``, protected like ``draft`` (row-level security on
    PostgreSQL for the new table, the others' kept); going back drops it and nothing else."""
    from anchor_tui.services.form_drafts import case_target, keep_form, load_form
    from tests.integration.case_world import build, make_backend

    world = build(make_backend(engine))
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    keep_form(world.backend, nurse, "task", target, {"title": "call"}, case_id=world.case_a)

    def secured() -> set[str]:
        if engine.dialect.name != "postgresql":
            return set()
        with engine.connect() as conn:
            return set(conn.execute(text(
                "SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = "
                "current_schema() AND policyname LIKE 'anchor\\_%'")).scalars())

    older = {"note", "task", "draft", "case_event_reason"}
    postgres = engine.dialect.name == "postgresql"
    assert secured() == (older | {"form_draft"} if postgres else set())
    schema.downgrade(engine, "0017")
    assert "form_draft" not in tables(engine)
    assert secured() == (older if postgres else set())
    schema.upgrade(engine)
    assert differences(engine) == []
    assert secured() == (older | {"form_draft"} if postgres else set())
    assert load_form(world.backend, nurse, "task", target) is None


def test_0019_gives_a_notification_form_kept_without_its_case_the_case(
        engine: Engine) -> None:
    """A child-welfare form kept before 0019 with no case gets its notification's case
    when the notification is its author's own; another's, or a target that is no
    number, stays as it was and fails nothing."""
    from tests.integration.case_world import build, make_backend
    from tests.integration.test_child_welfare_answer_lost import concern

    world = build(make_backend(engine))
    nurse, police = world.viewers["nurse"], world.viewers["police"]
    notification = concern(world)
    schema.downgrade(engine, "0018")
    with engine.begin() as conn:
        for author, target in ((nurse, f"notification:{notification}"),
                               (police, f"notification:{notification}"),
                               (nurse, "notification:x7")):
            conn.execute(text(
                "INSERT INTO form_draft (author_id, case_id, kind, target, fields, saved_at) "
                "VALUES (:a, NULL, 'child_welfare', :t, '{}', :s)"),
                {"a": author.user_id, "t": target, "s": dt.datetime(2026, 12, 4, 22)})
    schema.upgrade(engine)
    assert differences(engine) == []
    with engine.connect() as conn:
        cases = set(conn.execute(text(
            "SELECT author_id, target, case_id FROM form_draft")).all())
    assert cases == {(nurse.user_id, f"notification:{notification}", world.case_a),
                     (police.user_id, f"notification:{notification}", None),
                     (nurse.user_id, "notification:x7", None)}
