"""Setting up a shared PostgreSQL database for a team (``anchor-tui db init``).

Two roles: the **owner** owns the schema and everything in it and runs the migrations;
the **application role** is what every terminal connects as. It owns nothing, is no
superuser and has no ``BYPASSRLS``, so row-level security (``db/rls.py``) applies to it,
and it holds only the grants the app needs: read and write the team's tables, except
that notes are never deleted, the audit trail is append-only (``INSERT`` and ``SELECT``;
its advisory lock needs no grant) and the schema version is the owner's.

Passwords are set as SCRAM-SHA-256 verifiers computed here, so the password itself never
reaches the server (nor its statement log).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from anchor_tui.db import rls, schema
from anchor_tui.db.engine import make_engine, parse_url
from anchor_tui.errors import AnchorError

if TYPE_CHECKING:
    from anchor_tui.policy import Policy
    from anchor_tui.settings import TeamConfig

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
APP_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
NARROWER = {
    "audit_event": "UPDATE, DELETE, TRUNCATE",
    "note": "DELETE, TRUNCATE",
    "alembic_version": "INSERT, UPDATE, DELETE, TRUNCATE",
}
"""Rights taken back from the application role, per table."""
SCRAM_ITERATIONS = 4096


@dataclass(frozen=True)
class Deployment:
    """What ``db init`` set up."""

    database: str
    schema: str
    owner: str
    app_role: str
    created_roles: tuple[str, ...]
    created_database: bool
    revision: str | None
    tables: tuple[str, ...]
    """The tables under row-level security."""
    policy_hash: str
    app_url: str
    """The URL the terminals use (no password)."""


def scram_verifier(password: str, *, salt: bytes | None = None) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password``."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", unicodedata.normalize("NFKC", password).encode(),
                                 salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    return (f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}$"
            f"{b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}")


def _check_name(kind: str, name: str) -> str:
    if not ROLE_NAME.fullmatch(name):
        raise AnchorError(f"'{name}' is not a usable {kind} name.",
                          "Use lowercase letters, digits and _, starting with a letter.")
    return name


def _q(name: str) -> str:
    return f'"{name}"'  # names are checked against ROLE_NAME first


def _server(url: URL) -> Engine:
    return make_engine(url.set(database="postgres").render_as_string(hide_password=False)
                       ).execution_options(isolation_level="AUTOCOMMIT")


def _role(conn: Connection, name: str) -> tuple[bool, bool] | None:
    row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :n"),
                       {"n": name}).first()
    return None if row is None else (bool(row[0]), bool(row[1]))


def _ensure_roles(conn: Connection, owner: str, app_role: str,
                  password_for: Callable[[str], str]) -> tuple[str, ...]:
    if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                        ).scalar():
        raise AnchorError("db init must connect as a PostgreSQL superuser (it creates roles, "
                          "the database and the schema).",
                          "Give a URL of a superuser, e.g. postgresql+psycopg://postgres@HOST/DB")
    app = _role(conn, app_role)
    if app is not None and any(app):
        raise AnchorError(
            f"The role {app_role} is a superuser or may bypass row-level security, so it "
            "cannot be the application's role.",
            f"Choose another --app-role, or run: ALTER ROLE {app_role} NOSUPERUSER NOBYPASSRLS")
    created = []
    for name, existing in ((owner, _role(conn, owner)), (app_role, app)):
        if existing is not None:
            continue
        verifier = scram_verifier(password_for(name))
        conn.exec_driver_sql(  # the verifier is base64, '$' and ':' only
            f"CREATE ROLE {_q(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
            f"NOBYPASSRLS PASSWORD '{verifier}'")
        created.append(name)
    return tuple(created)


def _ensure_database(conn: Connection, database: str, owner: str) -> bool:
    if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"),
                    {"d": database}).first() is not None:
        return False
    conn.execute(text(f"CREATE DATABASE {_q(database)} OWNER {_q(owner)}"))
    return True


def _ensure_schema(conn: Connection, database: str, schema_name: str, owner: str,
                   app_role: str) -> None:
    found = conn.execute(text(
        "SELECT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
        "WHERE n.nspname = :s"), {"s": schema_name}).scalar()
    if found is None:
        conn.execute(text(f"CREATE SCHEMA {_q(schema_name)} AUTHORIZATION {_q(owner)}"))
    elif found != owner:
        raise AnchorError(f"The schema {schema_name} already belongs to {found}, not {owner}.",
                          f"Pass --owner {found}, or choose another --schema.")
    conn.execute(text(f"REVOKE ALL ON SCHEMA {_q(schema_name)} FROM PUBLIC"))
    # No temporary tables for the application role: a session's temporary tables come
    # first in its search path, so a temporary "case_member" would stand in for the real
    # one inside the row-level security's own checks (which name tables unqualified).
    conn.execute(text(f"REVOKE TEMPORARY ON DATABASE {_q(database)} FROM PUBLIC"))
    conn.execute(text(f"REVOKE TEMPORARY ON DATABASE {_q(database)} FROM {_q(app_role)}"))
    conn.execute(text(f"GRANT USAGE ON SCHEMA {_q(schema_name)} TO {_q(app_role)}"))
    conn.execute(text(f"GRANT CONNECT ON DATABASE {_q(database)} TO {_q(owner)}, "
                      f"{_q(app_role)}"))
    conn.execute(text(f"ALTER DATABASE {_q(database)} SET search_path = {_q(schema_name)}"))


def grant_app_role(conn: Connection, schema_name: str, owner: str, app_role: str) -> None:
    """The application role's grants on the schema's tables and sequences, now and for
    tables the owner's later migrations create."""
    s, app = _q(schema_name), _q(app_role)
    conn.execute(text(f"GRANT {APP_TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {s} TO {app}"))
    conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {app}"))
    for table, rights in NARROWER.items():
        conn.execute(text(f"REVOKE {rights} ON {s}.{_q(table)} FROM {app}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(owner)} IN SCHEMA {s} "
                      f"GRANT {APP_TABLE_RIGHTS} ON TABLES TO {app}"))
    conn.execute(text(f"ALTER DEFAULT PRIVILEGES FOR ROLE {_q(owner)} IN SCHEMA {s} "
                      f"GRANT USAGE, SELECT ON SEQUENCES TO {app}"))


def init_deployment(admin_url: str, policy: Policy, password_for: Callable[[str], str], *,
                    owner: str, app_role: str, schema_name: str,
                    team: TeamConfig | None = None) -> Deployment:
    """Create (or bring up to date) the roles, database, schema, migrations, row-level
    security and grants for a team. Safe to run again: what exists is kept (existing
    roles keep their passwords); the schema is upgraded and the policy re-installed.
    ``team``: the team's settings, by which a migration files existing rows as the app
    files new ones (``schema.upgrade``).

    ``password_for(role)`` is asked only for roles it creates.
    """
    url = parse_url(admin_url)
    if url.get_backend_name() != "postgresql":
        raise AnchorError("db init sets up a shared PostgreSQL database.",
                          "Give a URL like postgresql+psycopg://postgres@HOST/anchor.")
    database = url.database or ""
    if not database or database in ("postgres", "template0", "template1"):
        raise AnchorError("Name the team's database in the URL (not postgres or a template).",
                          "e.g. postgresql+psycopg://postgres@db.example/anchor")
    for kind, name in (("role", owner), ("role", app_role), ("schema", schema_name),
                       ("database", database)):
        _check_name(kind, name)
    if owner == app_role:
        raise AnchorError("The owner and the application role must be two roles.",
                          "Give --owner and --app-role different names.")
    server = _server(url)
    try:
        with server.connect() as conn:
            created_roles = _ensure_roles(conn, owner, app_role, password_for)
            created_database = _ensure_database(conn, database, owner)
    finally:
        server.dispose()
    team_engine = make_engine(
        url.update_query_dict({"options": f"-csearch_path={schema_name}"})
        .render_as_string(hide_password=False))
    try:
        with team_engine.begin() as conn:
            _ensure_schema(conn, database, schema_name, owner, app_role)
        schema.upgrade(team_engine, policy=policy, team=team)
        with team_engine.execution_options(**schema.MIGRATING).begin() as conn:
            schema.as_schema_owner(conn)
            tables = rls.install(conn, policy)
        with team_engine.begin() as conn:
            grant_app_role(conn, schema_name, owner, app_role)
        revision = schema.current_revision(team_engine)
    finally:
        team_engine.dispose()
    app_url = url.set(username=app_role, password=None, query={})
    return Deployment(database, schema_name, owner, app_role, created_roles, created_database,
                      revision, tuple(tables), policy.hash,
                      app_url.render_as_string(hide_password=True))


def reinstall_rls(url: str, policy: Policy) -> list[str]:
    """Re-install row-level security from ``policy`` (``anchor-tui db rls``), as the
    schema's owner; the schema must be current."""
    engine = make_engine(url)
    try:
        schema.ensure_schema(engine, auto_upgrade=False)
        if engine.dialect.name != "postgresql":
            raise AnchorError("Row-level security is for a shared PostgreSQL database.",
                              "SQLite needs none: the app's own filter applies.")
        with engine.execution_options(**schema.MIGRATING).begin() as conn:
            schema.as_schema_owner(conn)
            return rls.install(conn, policy)
    finally:
        engine.dispose()
