"""Engines: SQLite set up for safety, URL checks, clear connect errors, no data in errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.db.engine import WRITE, describe_connect_error, make_engine, parse_url
from anchor_tui.db.types import utcnow
from anchor_tui.errors import DatabaseBusyError, DatabaseError

SECRET = "SECRET-NOTE-TEXT"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    schema.upgrade(eng)
    yield eng
    eng.dispose()


# --- SQLite -------------------------------------------------------------------------------


def test_sqlite_pragmas_on_every_new_connection(sqlite_engine: Engine) -> None:
    for _ in range(2):  # the pool's connection and a brand-new one
        with sqlite_engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -512  # KiB
        sqlite_engine.dispose()


def _short_timeout(conn: Any) -> None:
    """Make this connection give up on a lock after 0.1 s instead of 5 s."""
    conn.connection.dbapi_connection.execute("PRAGMA busy_timeout=100")


def test_write_transactions_begin_immediate(sqlite_engine: Engine) -> None:
    writer = sqlite_engine.execution_options(**WRITE)
    with writer.connect() as first:
        first.begin()  # BEGIN IMMEDIATE takes the write lock before any statement
        with sqlite_engine.connect() as reader:
            # A reader (deferred BEGIN) is not blocked under WAL.
            assert reader.execute(select(m.User.id)).all() == []
        with writer.connect() as second:
            _short_timeout(second)
            with pytest.raises(OperationalError, match="database is locked"):
                second.begin()
        first.rollback()
    # Once the first writer is done, the next one gets in.
    with writer.connect() as third:
        third.begin()
        third.rollback()


def test_reads_begin_deferred(sqlite_engine: Engine) -> None:
    """Without the write option a transaction takes no lock, so a writer can still begin."""
    with sqlite_engine.connect() as reading:
        reading.begin()
        reading.execute(select(m.User.id)).all()
        with sqlite_engine.execution_options(**WRITE).connect() as writer:
            _short_timeout(writer)
            writer.begin()
            writer.rollback()
        reading.rollback()


def test_a_second_writer_gets_a_clear_error(sqlite_url: str, sqlite_engine: Engine) -> None:
    with sqlite_engine.execution_options(**WRITE).connect() as first:
        first.begin()
        other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0.1)
        try:
            with pytest.raises(sqlite3.OperationalError) as info:
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        first.rollback()
    err = describe_connect_error(sqlite_url, info.value)
    assert "is locked by another program" in err.message
    assert "Close the other anchor-tui" in err.fix
    assert isinstance(err, DatabaseBusyError)  # in the app: kept and tried again


def test_sqlite_creates_the_folder(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'folder' / 'anchor.sqlite3'}"
    eng = make_engine(url)
    try:
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        eng.dispose()
    assert (tmp_path / "new" / "folder" / "anchor.sqlite3").exists()


def test_a_new_database_is_its_owners_alone(tmp_path: Any) -> None:
    """Every note is in the file: a new one is 0600 (and its -wal and -shm, which SQLite
    makes with the file's mode) in a folder made 0700; an existing file keeps its mode."""
    import os
    import stat

    folder = tmp_path / "new"
    path = folder / "anchor.sqlite3"
    old = os.umask(0o022)  # (a usual umask: left alone, files would be 0644)
    try:
        eng = make_engine(f"sqlite:///{path}")
        try:
            with eng.begin() as conn:
                conn.execute(text("CREATE TABLE t (x)"))
                conn.execute(text("INSERT INTO t VALUES (1)"))
            made = {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir()}
        finally:
            eng.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert made["anchor.sqlite3"] == 0o600 and made.get("anchor.sqlite3-wal") == 0o600
    shared = tmp_path / "shared.sqlite3"
    shared.touch(mode=0o640)
    shared.chmod(0o640)
    make_engine(f"sqlite:///{shared}").dispose()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o640


def test_not_a_database_file(tmp_path: Any) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not sqlite " * 100)
    url = f"sqlite:///{path}"
    eng = make_engine(url)
    try:
        with pytest.raises(DatabaseError) as info:
            schema.current_revision(eng)
    finally:
        eng.dispose()
    assert "is not an anchor-tui database" in info.value.message


# --- URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("sqlite:///anchor.sqlite3", "sqlite"),
        ("sqlite+pysqlite:///anchor.sqlite3", "sqlite+pysqlite"),
        ("postgresql://anchor@db/anchor", "postgresql+psycopg"),
        ("postgresql+psycopg://anchor@db/anchor", "postgresql+psycopg"),
    ],
)
def test_supported_urls(url: str, driver: str) -> None:
    assert parse_url(url).drivername == driver


@pytest.mark.parametrize(
    "url",
    [
        "mysql://anchor:pw-in-url@db/anchor",
        "sqlite+aiosqlite:///anchor.sqlite3",
        "postgresql+asyncpg://anchor@db/anchor",
        "postgresql+psycopg2://anchor@db/anchor",
    ],
)
def test_unsupported_schemes(url: str) -> None:
    with pytest.raises(DatabaseError) as info:
        parse_url(url)
    assert "is not supported" in info.value.message
    assert "sqlite:///" in info.value.fix and "postgresql+psycopg://" in info.value.fix
    assert "pw-in-url" not in str(info.value)


@pytest.mark.parametrize("url", ["garbage", "", "://nothing", "just some words:pw@host",
                                 "postgresql+psycopg://anchor:pw@db:notaport/anchor",
                                 "postgresql+psycopg://anchor:pw@[::1/anchor"])
def test_garbage_urls(url: str) -> None:
    with pytest.raises(DatabaseError) as info:
        make_engine(url)
    assert "is not a database URL" in info.value.message
    assert "sqlite:///" in info.value.fix
    assert ":pw" not in str(info.value)


# --- PostgreSQL connect errors ------------------------------------------------------------


def test_unreachable_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    # No keyring backend and no PGPASSWORD: the engine must still be built (trust or
    # peer auth may need no password) and the connect error must be clear.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = "postgresql+psycopg://anchor:pw-in-url@127.0.0.1:1/anchor"
    eng = make_engine(url)
    try:
        with pytest.raises(OperationalError) as info, eng.connect():
            pass
        err = describe_connect_error(url, info.value)
        assert err.message.startswith("Cannot reach the database server")
        assert "127.0.0.1:1/anchor" in err.message
        assert "server is running" in err.fix
        assert "pw-in-url" not in str(err)
        # The schema check wraps the same error itself.
        with pytest.raises(DatabaseError) as wrapped:
            schema.current_revision(eng)
        assert wrapped.value.message.startswith("Cannot reach the database server")
    finally:
        eng.dispose()


@pytest.mark.postgres
def test_missing_postgres_database(pg_url: str) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url).set(database="anchor_no_such_db").render_as_string(hide_password=False)
    eng = make_engine(url)
    try:
        with pytest.raises(DatabaseError) as info:
            schema.current_revision(eng)
    finally:
        eng.dispose()
    assert "does not exist" in info.value.message
    assert "anchor-tui db upgrade" in info.value.fix


# --- no data in error messages --------------------------------------------------------------


def _seed(engine: Engine) -> tuple[int, int]:
    with engine.begin() as conn:
        user_id = conn.execute(insert(m.User).values(
            username="youth", display_name="Onni Mäkinen", profession="youth_work",
            role="member", passphrase_hash="x", active=True, failed_sign_ins=0,
            created_at=utcnow(),
        ).returning(m.User.id)).scalar_one()
        person_id = conn.execute(insert(m.Person).values(
            first_name="Venla", last_name="Nieminen", created_at=utcnow(),
        ).returning(m.Person.id)).scalar_one()
    return int(user_id), int(person_id)


def _bad_note(user_id: int, person_id: int, violation: str) -> tuple[Any, dict[str, Any]]:
    note: dict[str, Any] = {
        "case_id": 1, "author_id": user_id, "author_profession": "youth_work",
        "category": "general", "body": SECRET, "created_at": utcnow(), "revision": 1,
        "entered_in_error": False,
    }
    if violation == "foreign key":
        return m.Note, note | {"case_id": 424242}
    if violation == "not null":
        return m.Note, note | {"author_profession": None}
    # check: a case whose summary holds the secret, with an impossible priority
    return m.Case, {
        "person_id": person_id, "category": "first_offence", "stage": "screening",
        "priority": 9, "opened_at": utcnow(), "summary": SECRET, "version": 1,
        "updated_at": utcnow(),
    }


@pytest.mark.parametrize(
    "violation",
    [
        "foreign key",
        pytest.param("not null", id="not-null"),
        pytest.param("check", id="check"),
    ],
)
def test_errors_never_carry_row_values(db_url: str, violation: str) -> None:
    eng = make_engine(db_url)
    try:
        schema.upgrade(eng)
        user_id, person_id = _seed(eng)
        table, values = _bad_note(user_id, person_id, violation)
        with pytest.raises(IntegrityError) as info, eng.begin() as conn:
            conn.execute(insert(table).values(**values))
    finally:
        eng.dispose()
    assert "parameters hidden" in str(info.value)
    # The problem itself is still named (only row values are dropped).
    named = {"foreign key": "foreign key", "not null": "null", "check": "check"}[violation]
    assert named in str(info.value).lower()
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert all(SECRET not in str(arg) for arg in info.value.orig.args)  # type: ignore[union-attr]
