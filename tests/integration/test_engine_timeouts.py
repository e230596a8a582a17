"""PostgreSQL connections that do not wait for ever.

A network that goes away silently (a cable, a VPN, a server host switched off: packets
dropped, nothing closed) left a statement waiting until TCP gave up, about 15 minutes,
and with it the shared terminal, frozen on the last person's note. The engine's
connections now carry libpq's keepalives and ``tcp_user_timeout`` (gone within seconds)
and a ``statement_timeout`` (a statement stuck behind a lock is cancelled), and either
failure reads as a lost connection, which the app keeps and retries.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from anchor_tui.db.engine import (
    POSTGRES_NETWORK,
    STATEMENT_TIMEOUT_MS,
    SYSTEM,
    describe_connect_error,
    make_engine,
)
from anchor_tui.errors import ConnectionLostError, DatabaseBusyError

pytestmark = pytest.mark.postgres


def test_every_connection_gives_up_on_a_silent_network_within_seconds(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        for _ in range(2):  # the pool's connection and a brand-new one
            with engine.connect() as conn:
                dbapi = conn.connection.dbapi_connection
                assert dbapi is not None
                given = dbapi.info.get_parameters()  # type: ignore[attr-defined]
                assert given["keepalives"] == "1"
                assert int(given["keepalives_idle"]) + int(given["keepalives_interval"]) \
                    * int(given["keepalives_count"]) <= 15
                assert int(given["tcp_user_timeout"]) <= 15_000
                assert int(given["connect_timeout"]) <= 10
                assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == \
                    f"{STATEMENT_TIMEOUT_MS // 1000}s"
            engine.dispose()
    finally:
        engine.dispose()
    assert 10 <= STATEMENT_TIMEOUT_MS / 1000 <= 30


def test_a_parameter_in_the_url_is_the_deployments_choice(pg_url: str) -> None:
    url = make_url(pg_url).update_query_dict({"keepalives_idle": "30"})
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            given = dbapi.info.get_parameters()  # type: ignore[attr-defined]
            assert given["keepalives_idle"] == "30"
            assert given["tcp_user_timeout"] == str(POSTGRES_NETWORK["tcp_user_timeout"])
    finally:
        engine.dispose()


def test_a_statement_stuck_behind_a_lock_fails_in_time_as_a_lost_connection(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url, statement_timeout_ms=300)
    holder = make_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE stuck (id integer)"))
        with holder.connect() as other:
            other.begin()
            other.execute(text("LOCK TABLE stuck IN ACCESS EXCLUSIVE MODE"))
            started = time.monotonic()
            with pytest.raises(OperationalError) as failed, engine.connect() as conn:
                conn.execute(text("SELECT count(*) FROM stuck")).scalar()
            took = time.monotonic() - started
            other.rollback()
        assert took < 5
        described = describe_connect_error(pg_url, failed.value)
        # kept and tried again like a lost connection, but said to be busy
        assert isinstance(described, DatabaseBusyError)
        assert isinstance(described, ConnectionLostError)
        assert "busy" in described.message and "did not answer in time" in described.message
    finally:
        engine.dispose()
        holder.dispose()


def test_administration_may_run_longer(pg_url: str) -> None:
    """Migrations and seeding (transactions marked ``SYSTEM``) are not cut short; the
    connection's own limit is back for the next transaction."""
    engine = make_engine(pg_url)
    try:
        with engine.execution_options(**{SYSTEM: "test: a migration"}).begin() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == "0"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == \
                f"{STATEMENT_TIMEOUT_MS // 1000}s"
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_administration_sessions_have_no_statement_timeout(pg_url: str) -> None:
    """An audit check or a retention run over a large database may take longer than a
    terminal's statement may: a system session lifts the limit for its transaction."""
    from anchor_tui.db.session import SessionFactory
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    engine = make_engine(pg_url, statement_timeout_ms=1234)
    try:
        sessions = SessionFactory(engine, load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml"))
        with sessions.system("test: an audit check") as session:
            assert session.execute(text("SHOW statement_timeout")).scalar() == "0"
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1234ms"
    finally:
        engine.dispose()
