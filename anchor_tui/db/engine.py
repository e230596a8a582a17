"""Engines for the embedded SQLite default and the shared PostgreSQL deployment.

SQLite: WAL, ``foreign_keys=ON``, ``synchronous=FULL``, a busy timeout, a small page
cache, and write transactions begun ``IMMEDIATE`` (so two writers queue instead of
failing halfway).
PostgreSQL: psycopg 3; the password comes from the OS keyring (``anchor-tui db login``)
or ``PGPASSWORD``, never from a plain file. A network that goes away (a cable, a VPN, a
server host switched off: packets dropped, nothing closed) fails a statement within
seconds as a lost connection, not after TCP's own 15 minutes (``POSTGRES_NETWORK``); a
statement the server does not finish in ``STATEMENT_TIMEOUT_MS`` (a lock held by a
stuck client) is cancelled. Either way the terminal is not left waiting.

SQL parameters are hidden from error messages (``hide_parameters``): an error about a
note must never print the note.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError

from anchor_tui.errors import (
    AnchorError,
    ConnectionLostError,
    DatabaseBusyError,
    DatabaseError,
    KeyringUnavailableError,
)

if TYPE_CHECKING:
    import sqlite3  # for its type only: SQLAlchemy loads it on SQLite, never on PostgreSQL

KEYRING_SERVICE = "anchor-tui"
SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_CACHE_KIB = 512
"""SQLite's page cache per connection (its default is 2,000 KiB). The app reads a page
of a board, a case or a search at a time, through indexes, and the operating system
caches the file anyway: each of the pool's connections holding 2 MiB of pages cost the
app 4-8 MiB of resident memory at 100,000 cases for no measurable speed."""
WRITE = {"anchor_write": True}
"""Execution option that marks a connection for a write transaction (IMMEDIATE on SQLite)."""
POSTGRES_NETWORK = {
    "connect_timeout": 5,
    # Idle while waiting for an answer: probe after 5 s, every 2 s, gone after 3 misses.
    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
    # Sent and never acknowledged (the packets are dropped): gone after 10 s.
    "tcp_user_timeout": 10_000,
}
"""libpq's connection parameters against a silent network; one given in the URL's query
(``?keepalives_idle=30``) is the deployment's choice and wins."""
STATEMENT_TIMEOUT_MS = 15_000
"""The longest a statement of the app may run. Administration (``SYSTEM``: migrations,
seeding) lifts it for its transactions: a migration may rightly take longer."""
SYSTEM = "anchor_system"
"""Execution option naming why a connection outside a session is administration (seed,
migrations): on PostgreSQL its transactions pass row-level security (``db/rls.py``)."""


def parse_url(url: str) -> URL:
    """Parse and check a database URL: only SQLite and PostgreSQL (psycopg 3) are supported."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
        raise DatabaseError(
            f"'{_redact(url)}' is not a database URL.",
            "Use sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user@host/dbname.",
        ) from exc
    backend, _, driver = parsed.drivername.partition("+")
    if backend == "sqlite" and driver in ("", "pysqlite"):
        return parsed
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    raise DatabaseError(
        f"The URL scheme '{parsed.drivername}' is not supported.",
        "Use sqlite:///FILE or postgresql+psycopg://user@host/dbname.",
    )


def _redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@")[-1]


def keyring_key(url: URL) -> str:
    """The keyring entry name for a URL: user@host:port/database, never the password."""
    return f"{url.username or ''}@{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def password_from_keyring(url: URL) -> str | None:
    import keyring
    import keyring.errors

    try:
        return keyring.get_password(KEYRING_SERVICE, keyring_key(url))
    except keyring.errors.NoKeyringError as exc:
        raise KeyringUnavailableError(
            "No OS keyring is available to hold the database password.",
            "Install a keyring backend (e.g. gnome-keyring or keyrings.alt) or set PGPASSWORD.",
        ) from exc
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError(
            f"The OS keyring could not be read ({exc.__class__.__name__}).",
            "Unlock the keyring, or set PGPASSWORD for this session.",
        ) from exc


def keyring_available() -> bool:
    """Whether an OS keyring backend exists (not the 'fail' placeholder backend)."""
    import keyring
    import keyring.backends.fail

    return not isinstance(keyring.get_keyring(), keyring.backends.fail.Keyring)


def store_password(url: URL, password: str) -> None:
    import keyring
    import keyring.errors

    try:
        keyring.set_password(KEYRING_SERVICE, keyring_key(url), password)
    except keyring.errors.NoKeyringError as exc:
        raise KeyringUnavailableError(
            "No OS keyring is available to store the database password.",
            "Install a keyring backend (e.g. gnome-keyring or keyrings.alt), or use PGPASSWORD.",
        ) from exc


def make_engine(url: str, *, echo: bool = False,
                statement_timeout_ms: int = STATEMENT_TIMEOUT_MS) -> Engine:
    """An engine for ``url`` set up for anchor-tui (pragmas, password, hidden parameters;
    on PostgreSQL the network and statement timeouts, ``statement_timeout_ms`` 0: none)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, echo=echo)
    return _postgres_engine(parsed, echo=echo, statement_timeout_ms=statement_timeout_ms)


SQLITE_AT_LEAST = (3, 35)
"""What the queries need: ``MATERIALIZED`` common table expressions (3.35), FTS5 and
``json_each`` (built in since 3.38, and in most earlier builds)."""


def check_sqlite_features() -> None:
    """Raise a ``DatabaseError`` naming what this Python's SQLite lacks, if anything."""
    import sqlite3

    version = sqlite3.sqlite_version
    fix = ("Use a Python built with a newer SQLite (3.38 or later has everything "
           "built in), or a PostgreSQL database (--db).")
    if sqlite3.sqlite_version_info < SQLITE_AT_LEAST:
        raise DatabaseError(f"This Python's SQLite is {version}; anchor-tui needs "
                            f"{'.'.join(map(str, SQLITE_AT_LEAST))} or later.", fix)
    probe = sqlite3.connect(":memory:")
    try:
        for feature, sql in (("JSON (json_each)", "SELECT value FROM json_each('[1]')"),
                             ("full-text search (FTS5)",
                              "CREATE VIRTUAL TABLE probe USING fts5(body)")):
            try:
                probe.execute(sql)
            except sqlite3.OperationalError as exc:
                raise DatabaseError(
                    f"This Python's SQLite ({version}) was built without {feature}.",
                    fix) from exc
    finally:
        probe.close()


def make_private(path: Path) -> None:
    """A new SQLite database is its owner's alone: its folder (if made here) 0700, the
    file 0600 before SQLite writes a page (SQLite gives its -wal and -shm files the
    database file's mode). An existing file keeps its mode: it is its owner's choice."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_engine(url: URL, *, echo: bool) -> Engine:
    check_sqlite_features()
    database = url.database or ""
    if database and database != ":memory:":
        make_private(Path(database).expanduser())
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to the "begin" hook below (pysqlite's own is broken
        # for BEGIN IMMEDIATE and DDL).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # negative: KiB
            # Deleted and overwritten content is zeroed, not left in free pages: text
            # erased by retention must not stay readable in the file.
            cursor.execute("PRAGMA secure_delete=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("anchor_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _postgres_engine(url: URL, *, echo: bool, statement_timeout_ms: int) -> Engine:
    if url.password is None and not os.environ.get("PGPASSWORD"):
        password = None
        try:
            password = password_from_keyring(url)
        except KeyringUnavailableError:
            # Trust or peer auth may need no password at all; the connect error will say
            # so if one was needed.
            password = None
        if password:
            url = url.set(password=password)
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"application_name": "anchor-tui",
                      **{name: value for name, value in POSTGRES_NETWORK.items()
                         if name not in url.query}},
    )

    @event.listens_for(engine, "begin")
    def _system_reason(conn: Any) -> None:
        # A connection used outside a session for administration (seed, migrations)
        # names its reason; row-level security lets such a transaction see every row.
        reason = conn.get_execution_options().get("anchor_system")
        if reason:
            conn.exec_driver_sql("SELECT set_config('anchor.system', %(reason)s, true)",
                                 {"reason": str(reason)})
            # Administration (migrations, seeding) may rightly run long statements.
            conn.exec_driver_sql("SET LOCAL statement_timeout = 0")

    @event.listens_for(engine, "connect")
    def _planner(dbapi_connection: Any, _record: Any) -> None:
        # The disclosure filter makes every note query a large expression; PostgreSQL's
        # JIT compiled it afresh for each search, which took 0.5-2.5 s of a 0.03-0.5 s
        # query (bench/board.py). The app's queries are short: JIT never pays off here.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            # A team's database fits in memory, and the app reads it by index: planned
            # for a disk of the default's kind (random reads 4x a sequential one), the
            # board's name filter scanned all 100,000 cases instead of looking up the
            # 1,800 it found (45 -> 15 ms).
            cursor.execute("SET random_page_cost = 1.1")
            # A statement the server does not finish in time (a lock held by a stuck
            # client) is cancelled: the person's action fails in seconds, kept to retry.
            cursor.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
        dbapi_connection.commit()

    @event.listens_for(engine, "handle_error")
    def _terse_errors(context: ExceptionContext) -> None:
        # PostgreSQL's DETAIL ("Failing row contains (...)") and CONTEXT lines carry row
        # values, note text included, into the exception's message. Keep the primary
        # message only (libpq's "terse" verbosity); .diag still holds every field.
        original = context.original_exception
        diag = getattr(original, "diag", None)
        primary = getattr(diag, "message_primary", None) if diag is not None else None
        if primary:
            original.args = (primary,)
            wrapped = context.sqlalchemy_exception
            if wrapped is not None and wrapped.args:
                # SQLAlchemy formatted its message from the original before this hook.
                kind = f"{type(original).__module__}.{type(original).__name__}"
                wrapped.args = (f"({kind}) {primary}", *wrapped.args[1:])

    return engine


def describe_connect_error(url: str, exc: BaseException) -> AnchorError:
    """Turn a driver error on connect into a one-line message with a fix."""
    text = str(getattr(exc, "orig", exc)).lower()
    safe = _redact(url)
    if "database is locked" in text or "database table is locked" in text:
        return DatabaseBusyError(
            f"The database {safe} is locked by another program.",
            "Close the other anchor-tui or tool using it and try again (in the app, a "
            "change you made is kept and tried again).",
        )
    if "unable to open database file" in text:
        return DatabaseError(
            f"The database file for {safe} cannot be opened.",
            "Check that the folder exists and you may write to it.",
        )
    if "file is not a database" in text or "malformed" in text:
        return DatabaseError(
            f"{safe} is not an anchor-tui database (or it is damaged).",
            "Point --db at the right file, or restore it from a backup.",
        )
    if ("password authentication failed" in text or "no password supplied" in text) \
            and not os.environ.get("PGPASSWORD") and not keyring_available():
        return KeyringUnavailableError(
            f"PostgreSQL needs a password for {safe}, and no OS keyring is available to "
            "hold it.",
            "Install a keyring backend (e.g. gnome-keyring or keyrings.alt) and run "
            f"anchor-tui db login {safe}, or set PGPASSWORD.",
        )
    if "password authentication failed" in text or "no password supplied" in text:
        return DatabaseError(
            f"PostgreSQL refused the password for {safe}.",
            f"Store the right one with: anchor-tui db login {safe}  (or set PGPASSWORD).",
        )
    if "no such table" in text or ("relation" in text and "does not exist" in text):
        return DatabaseError(
            f"The database {safe} is missing part of its schema.",
            f"Run: anchor-tui db upgrade --db '{safe}'  (or restore it from a backup).",
        )
    if "statement timeout" in text or "lock timeout" in text:
        return DatabaseBusyError(
            f"The database server for {safe} is busy: it did not answer in time (another "
            "client may hold a lock).",
            "Nothing was saved from the failed action; try it again in a moment (in the "
            "app, a change you made is kept and tried again).",
        )
    if "server closed the connection" in text or "terminating connection" in text \
            or "connection is closed" in text or "connection already closed" in text \
            or "the database system is" in text or "consuming input failed" in text \
            or "could not receive data from server" in text \
            or "could not send data to server" in text:
        return ConnectionLostError(
            f"The connection to the database server for {safe} was lost.",
            "Nothing was saved from the failed action; try it again once the server is back.",
        )
    if "does not exist" in text and "database" in text:
        return DatabaseError(
            f"The database in {safe} does not exist.",
            "Create it (createdb), then run: anchor-tui db upgrade --db URL",
        )
    if "connection refused" in text or "could not connect" in text or "timeout" in text \
            or "name or service not known" in text or "could not translate host" in text:
        return ConnectionLostError(
            f"Cannot reach the database server for {safe}.",
            "Check the host and port, that the server is running, and your network.",
        )
    return DatabaseError(
        f"Cannot use the database {safe} ({exc.__class__.__name__}).",
        "Check the URL and that the server is running.",
    )
