"""Shared fixtures: a fresh database per test, on SQLite and on a real PostgreSQL.

PostgreSQL: each test run (each xdist worker) creates a database of its own,
``anchor_test_<random>``, and drops it at the end. A test's ``engine`` is a copy of a
database migrated once per run (``CREATE DATABASE ... TEMPLATE``); ``db_url`` is an
empty schema in the run's database. Outside CI the PostgreSQL tests skip with the reason when no
server is reachable; with ``CI=true`` an unreachable server fails them instead.
Set ``ANCHOR_TEST_PG_URL`` to use another server (an admin URL to its ``postgres`` db).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import textual._wait
from argon2 import PasswordHasher
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.services import passphrase

# Sign-in checks argon2id at the library's recommended cost (64 MiB, a fifth of a second
# here) on purpose; the tests sign in hundreds of times, so in the test process hashes
# are made with the cheapest argon2id parameters. The code path is the product's own;
# the tests of parameters themselves (rehash, the stored form) build their own hashers
# or read the stored hash. Other processes a test starts (the real app in tmux, another
# terminal) verify these hashes as they are and renew them at sign-in, as the product
# does for any hash made with other parameters.
passphrase._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

# Textual's pilot waits after each key it presses until the app looks idle: it sleeps in
# steps of 20 ms, twice a key, until the process used under 5% of a step's CPU. In three
# UI modules (496 keys) a key took 120 ms on average, most of it that sleeping. Here the
# same rule runs in 5 ms steps (idle: under 10% of a step's CPU): a key is still handled
# before ``press`` returns, and whatever a test waits for beyond the key (a worker's
# result) it waits for explicitly (``settle``). The UI and snapshot tests went from
# 217 s to 138 s (three workers).
textual._wait.SLEEP_GRANULARITY = 0.005
textual._wait.SLEEP_IDLE = 0.0005

PG_ADMIN_URL = os.environ.get(
    "ANCHOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_unreachable_reason() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means: no server for these tests
        where = make_url(PG_ADMIN_URL).render_as_string()
        return f"no PostgreSQL at {where}: {exc.__class__.__name__}"
    return None


@contextmanager
def _scratch_database(name: str, template: str | None = None) -> Iterator[str]:
    """Database ``name`` on the test server (a copy of ``template`` if given), as a URL;
    dropped at the end, whoever is still connected.

    Its commits do not wait for the server's disk (``synchronous_commit`` off, for this
    database only: the server's other databases are untouched). A test's database is
    thrown away at its end, so a commit that a crash of the server could lose costs
    nothing; waiting for the disk at every commit made the PostgreSQL tests a quarter
    slower on a shared two-core host. What a commit is and what the app is told of it is
    the same either way. Tests that stop a server start a private one
    (``tests/private_pg.py``), not these."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    copy = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit TO off'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A database of this test run's own on the PostgreSQL server; dropped at the end."""
    reason = _pg_unreachable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true but {reason}; PostgreSQL tests must run in CI")
        pytest.skip(reason)
    with _scratch_database(f"anchor_test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A fresh, empty schema in this run's PostgreSQL database, as a URL."""
    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    url = make_url(pg_database).update_query_dict({"options": f"-csearch_path={schema_name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema_name}" CASCADE'))
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'anchor.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    """Which database a test runs on: once SQLite, once PostgreSQL (a test picks one with
    ``@pytest.mark.parametrize("db_kind", [...], indirect=True)``)."""
    return str(request.param)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, db_kind: str) -> str:
    """An empty database of ``db_kind``."""
    return str(request.getfixturevalue("sqlite_url" if db_kind == "sqlite" else "pg_url"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file built through the migrations, once per run and worker."""
    path = tmp_path_factory.mktemp("migrated") / "anchor.sqlite3"
    eng = make_engine(f"sqlite:///{path}")
    schema.upgrade(eng)
    eng.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def pg_template(pg_database: str) -> Iterator[str]:
    """A PostgreSQL database built through the migrations, once per run and worker: each
    test's migrated database is a copy of it (``CREATE DATABASE ... TEMPLATE``)."""
    name = f"{make_url(pg_database).database}_{uuid.uuid4().hex[:6]}_tpl"
    with _scratch_database(name) as url:
        eng = make_engine(url)
        schema.upgrade(eng)
        eng.dispose()  # a template must have no connections while it is copied
        yield name


@pytest.fixture
def engine(request: pytest.FixtureRequest, db_kind: str) -> Iterator[Engine]:
    """An engine on a database of ``db_kind`` built through the migrations (never
    create_all): a copy of this run's migrated database (running the migrations for each
    of some 600 tests took 0.1 s on SQLite and 0.6 s on PostgreSQL each; the migrations
    have tests of their own, ``test_migrations.py``). Not ``db_url``'s empty database,
    which is not made for it."""
    with ExitStack() as scratch:
        if db_kind == "sqlite":
            url = str(request.getfixturevalue("sqlite_url"))
            shutil.copyfile(request.getfixturevalue("sqlite_template"),
                            make_url(url).database or "")
        else:
            template = request.getfixturevalue("pg_template")
            name = f"{template.removesuffix('_tpl')}_{uuid.uuid4().hex[:10]}"
            url = scratch.enter_context(_scratch_database(name, template))
        eng = make_engine(url)
        yield eng
        eng.dispose()


TEST_AUDIT_KEY = "test-run audit key, not a secret"


@pytest.fixture(autouse=True)
def no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test reads or writes the developer's OS keyring, and no key read by one test
    (the audit key cache) survives into the next: every test starts without a keyring
    and with the audit key in ``ANCHOR_AUDIT_KEY``, as a terminal without a keyring
    has it. Tests that need a keyring install an in-memory backend of their own; tests
    of a missing key remove the variable."""
    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_AUDIT_KEY)
    import keyring
    import keyring.backends.fail

    from anchor_tui.services import audit_chain

    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    audit_chain._KEYRING_KEYS.clear()
    try:
        yield
    finally:
        keyring.set_keyring(previous)
        audit_chain._KEYRING_KEYS.clear()


@pytest.fixture(autouse=True)
def no_idle_time_collections(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's idle-time full garbage collection (``collector.py``) is off in tests.

    In the app it scans one app's objects (100-250 ms, while nobody waits). In a test
    worker it scans every object the earlier tests left alive: on a busy CI machine that
    took seconds and landed inside a timed wait (a live update measured at 2.2 s, of
    which the update itself takes 0.2-0.4 s). The policy is tested on its own
    (``tests/unit/test_collector.py``); automatic collections still run."""
    from anchor_tui.collector import COLLECTOR

    monkeypatch.setattr(COLLECTOR, "every", float("inf"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``slow`` (a differential over hundreds of random worlds, eight
    terminals at once: up to two minutes each) run first, the slowest first; the rest
    keep their order (a stable sort). Handed out in collection order, in chunks, they
    all went to one worker, or one started last and kept its worker busy for a minute or
    two after the others had finished; with ``--maxschedchunk=1`` (``pyproject.toml``)
    each worker takes the next test when it is nearly done, so they spread."""

    def weight(item: pytest.Item) -> float:
        slow = item.get_closest_marker("slow")
        return 0.0 if slow is None else -float(slow.kwargs.get("seconds", 1))

    items.sort(key=weight)
