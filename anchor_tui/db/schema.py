"""Schema version checks and upgrades through the shipped Alembic migrations.

Checking the version is a single cheap query and does not import Alembic, so that
the app starts fast. The embedded SQLite database upgrades itself on start; a shared
PostgreSQL schema is never upgraded by the app: it refuses to start and prints the
command that upgrades it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError, OperationalError

from anchor_tui.db.engine import describe_connect_error
from anchor_tui.errors import DatabaseError, SchemaMismatchError

if TYPE_CHECKING:
    from alembic.config import Config

    from anchor_tui.policy import Policy
    from anchor_tui.settings import TeamConfig

HEAD = "0019"
"""The newest migration this version knows; a test checks it against Alembic's head."""
KNOWN = ("0001", "0002", "0003", "0004", "0006", "0007", "0009", "0010", "0011", "0012",
         "0013", "0014", "0015", "0016", "0017", "0018", "0019")
"""Every revision of this version, oldest first (a test checks it against Alembic)."""


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "anchor_tui.db:migrations")
    return config


def current_revision(engine: Engine) -> str | None:
    """The schema's revision, or None for an empty database."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, DBAPIError) as exc:
        raise describe_connect_error(engine.url.render_as_string(), exc) from exc


def _holds_tables(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    except (OperationalError, DBAPIError) as exc:
        raise describe_connect_error(engine.url.render_as_string(), exc) from exc


MIGRATING = {"anchor_system": "db upgrade"}
"""Migrations are administration: on PostgreSQL they see every row of the protected
tables (row-level security lets a named system transaction through)."""


def as_schema_owner(conn: Connection) -> None:
    """On PostgreSQL, act as the owner of the schema for the rest of the transaction.

    Tables, functions and policies a migration creates must belong to the schema's
    owner (``db init``'s owner role), whoever runs the upgrade, so that the owner's
    default privileges grant the application role what it needs. A superuser (or a
    member of the owner role) becomes the owner; anyone else stays who they are.
    """
    if conn.dialect.name != "postgresql":
        return
    owner = conn.execute(text(
        "SELECT r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
        "WHERE n.nspname = current_schema() AND r.rolname <> current_user "
        "AND pg_has_role(current_user, r.oid, 'MEMBER')")).scalar()
    if owner is not None:
        conn.execute(text("SELECT set_config('role', :owner, true)"), {"owner": owner})


def upgrade(engine: Engine, revision: str = "head", *, policy: Policy | None = None,
            team: TeamConfig | None = None) -> None:
    """Run the migrations up to ``revision``; ``policy`` is the disclosure policy the
    PostgreSQL row-level security is made from, and with ``team`` the one a migration
    files existing rows by (0015: a reason as a note of its writer's profession, in the
    category the team starts that profession's notes with). Default: the shipped ones."""
    from alembic import command

    config = alembic_config()
    config.attributes["policy"] = policy
    config.attributes["team"] = team
    try:
        with engine.execution_options(**MIGRATING).begin() as conn:
            as_schema_owner(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise describe_connect_error(engine.url.render_as_string(), exc) from exc


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.execution_options(**MIGRATING).begin() as conn:
        as_schema_owner(conn)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def ensure_schema(engine: Engine, *, auto_upgrade: bool, policy: Policy | None = None,
                  team: TeamConfig | None = None) -> None:
    """Make sure the schema is the one this version expects.

    ``auto_upgrade`` (the embedded SQLite default) upgrades an empty or older schema,
    with the team's ``policy`` and ``team`` settings (``upgrade``).
    Otherwise an older schema is refused with the command that upgrades it.
    A newer schema (written by a newer anchor-tui) is always refused.
    """
    revision = current_revision(engine)
    if revision == HEAD:
        return
    safe_url = engine.url.render_as_string(hide_password=True)
    if revision is not None and revision not in KNOWN:
        raise SchemaMismatchError(
            f"The database schema ({revision}) is newer than this anchor-tui knows ({HEAD}).",
            "Upgrade anchor-tui on this terminal (pip install -U anchor-tui).",
        )
    if auto_upgrade:
        if revision is None and _holds_tables(engine):
            # Another program's database (a mistyped --db): never add our tables to it.
            raise DatabaseError(
                f"{safe_url} holds tables of another program, not an anchor-tui database.",
                "Point --db at an anchor-tui database, or at a new file (it is created).",
            )
        upgrade(engine, policy=policy, team=team)
        return
    state = "empty" if revision is None else f"at {revision}, older than {HEAD}"
    raise SchemaMismatchError(
        f"The database schema is {state}.",
        f"Ask the database owner to run: anchor-tui db upgrade --db '{safe_url}'",
    )
