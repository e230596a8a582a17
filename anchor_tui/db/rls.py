"""PostgreSQL row-level security: install the policies, check them, pass the viewer.

The central filter (``db/session.py``) is the first wall; this is the second. Every
protected table (``models.PROTECTED``) gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY``
and four policies whose expressions ``policy/rls.py`` compiles from the disclosure
policy's own SQL translation. The application role has no ``BYPASSRLS`` (``db init``).

Each transaction carries its viewer in ``anchor.*`` settings, set with
``set_config(..., true)`` (``SET LOCAL``: gone at commit or rollback, so nothing leaks
into the next transaction on a pooled connection). A transaction without them sees no
protected row. A system session (administration) sets ``anchor.system`` to its reason.

The installed policy's hash is recorded (``anchor_rls_hash()``): the app refuses to start
when it differs from the policy it loaded, and ``anchor-tui db rls`` re-installs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from anchor_tui.db.models import PROTECTED
from anchor_tui.errors import DatabaseError

if TYPE_CHECKING:
    from anchor_tui.domain import Viewer
    from anchor_tui.policy import Policy

POLICY_NAMES = ("anchor_read", "anchor_insert", "anchor_update", "anchor_delete")
FIX_COMMAND = "anchor-tui db rls --db OWNER-URL"

_SETTING = "nullif(current_setting('anchor.{name}', true), '')"
FUNCTIONS = (
    f"CREATE OR REPLACE FUNCTION anchor_system() RETURNS boolean LANGUAGE sql STABLE "
    f"AS $$ SELECT {_SETTING.format(name='system')} IS NOT NULL $$",
    f"CREATE OR REPLACE FUNCTION anchor_viewer() RETURNS integer LANGUAGE sql STABLE "
    f"AS $$ SELECT {_SETTING.format(name='viewer')}::integer $$",
    f"CREATE OR REPLACE FUNCTION anchor_profession() RETURNS text LANGUAGE sql STABLE "
    f"AS $$ SELECT {_SETTING.format(name='profession')} $$",
    f"CREATE OR REPLACE FUNCTION anchor_purpose() RETURNS text LANGUAGE sql STABLE "
    f"AS $$ SELECT {_SETTING.format(name='purpose')} $$",
    f"CREATE OR REPLACE FUNCTION anchor_break_glass() RETURNS boolean LANGUAGE sql STABLE "
    f"AS $$ SELECT coalesce({_SETTING.format(name='break_glass')} = 'on', false) $$",
    f"CREATE OR REPLACE FUNCTION anchor_now() RETURNS timestamptz LANGUAGE sql STABLE "
    f"AS $$ SELECT {_SETTING.format(name='now')}::timestamptz $$",
    f"CREATE OR REPLACE FUNCTION anchor_today() RETURNS date LANGUAGE sql STABLE "
    f"AS $$ SELECT {_SETTING.format(name='today')}::date $$",
    "CREATE OR REPLACE FUNCTION anchor_audience() "  # noqa: S608 - fixed text, no values
    "RETURNS TABLE (user_id integer, profession text) LANGUAGE sql STABLE "
    "AS $$ SELECT split_part(a, ':', 1)::integer, split_part(a, ':', 2) "
    f"FROM unnest(string_to_array({_SETTING.format(name='audience')}, ',')) AS a $$",
)
"""The functions the policies read the transaction's viewer through."""
FUNCTION_NAMES = ("anchor_system()", "anchor_viewer()", "anchor_profession()",
                  "anchor_purpose()", "anchor_break_glass()", "anchor_now()", "anchor_today()",
                  "anchor_audience()", "anchor_rls_hash()")


# --- the viewer of a transaction ----------------------------------------------------------

def viewer_settings(viewer: Viewer, now: dt.datetime, today: dt.date) -> dict[str, str]:
    """The ``anchor.*`` settings of a transaction for ``viewer`` at ``now``."""
    return {
        "system": "",
        "viewer": str(viewer.user_id),
        "profession": viewer.profession,
        "purpose": viewer.purpose,
        "break_glass": "on" if viewer.break_glass else "off",
        "audience": ",".join(f"{a.user_id}:{a.profession}" for a in viewer.audience),
        "now": now.isoformat(),
        "today": today.isoformat(),
    }


def system_settings(reason: str) -> dict[str, str]:
    """The settings of an administrative (system) transaction: every row, by name."""
    if not reason:
        raise ValueError("a system transaction must name its reason")
    return {"system": reason, "viewer": "", "profession": "", "purpose": "",
            "break_glass": "off", "audience": "", "now": "", "today": ""}


def apply_settings(connection: Connection, settings: Mapping[str, str], *,
                   custom_plans: bool = False) -> None:
    """Set the transaction's ``anchor.*`` settings (one round trip, local to it), and
    with ``custom_plans`` its ``plan_cache_mode`` (see ``SessionFactory.read``)."""
    calls = [f"set_config('anchor.{name}', :{name}, true)" for name in settings]
    if settings.get("system"):
        # Administration (an audit check, retention, an export over every note) may
        # rightly run statements longer than a terminal's statement timeout.
        calls.append("set_config('statement_timeout', '0', true)")
    if custom_plans:
        calls.append("set_config('plan_cache_mode', 'force_custom_plan', true)")
    connection.execute(text(f"SELECT {', '.join(calls)}"), dict(settings))


# --- installing and checking --------------------------------------------------------------

def _quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def install(connection: Connection, policy: Policy) -> list[str]:
    """Install (or re-install) row-level security for ``policy``; the tables it covers.

    Runs in the caller's transaction, as the owner of the tables. Policies of tables
    that are no longer protected are removed (and their row-level security switched off).
    """
    from anchor_tui.policy import rls

    for statement in FUNCTIONS:
        connection.exec_driver_sql(statement)
    # A migration older than a protected table installs security for the tables it has;
    # the migration that creates the table installs it again (0015).
    protected = {str(entity.__tablename__): entity for entity in PROTECTED
                 if _exists(connection, str(entity.__tablename__))}
    secured = connection.execute(text(
        "SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = current_schema() "
        "AND policyname LIKE 'anchor\\_%'")).scalars().all()
    for table in secured:
        _drop_policies(connection, table)
        if table not in protected:
            _switch_off(connection, table)
    _drop_branches(connection)
    for table, entity in protected.items():
        security = rls.table_security(policy, entity)
        quoted = _quote(connection, table)
        for branch in security.branches:
            connection.exec_driver_sql(
                f"CREATE FUNCTION {branch.name}({quoted} {quoted}, integer) RETURNS boolean "
                f"LANGUAGE plpgsql STABLE AS $anchor$ BEGIN RETURN ({branch.body}); END $anchor$")
            connection.exec_driver_sql(
                f"COMMENT ON FUNCTION {branch.name}({quoted}, integer) IS "
                f"'anchor-tui disclosure policy {policy.hash[:12]}: {branch.describe}'")
        connection.exec_driver_sql(f"ALTER TABLE {quoted} ENABLE ROW LEVEL SECURITY")
        connection.exec_driver_sql(f"ALTER TABLE {quoted} FORCE ROW LEVEL SECURITY")
        connection.exec_driver_sql(
            f"CREATE POLICY anchor_read ON {quoted} FOR SELECT USING ({security.using})")
        connection.exec_driver_sql(
            f"CREATE POLICY anchor_insert ON {quoted} FOR INSERT "
            f"WITH CHECK ({security.insert_check})")
        connection.exec_driver_sql(
            f"CREATE POLICY anchor_update ON {quoted} FOR UPDATE USING ({security.using}) "
            f"WITH CHECK ({security.update_check})")
        connection.exec_driver_sql(
            f"CREATE POLICY anchor_delete ON {quoted} FOR DELETE USING ({security.using})")
    if not policy.hash.isalnum():
        raise ValueError("a policy hash is hexadecimal")
    connection.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION anchor_rls_hash() RETURNS text LANGUAGE sql IMMUTABLE "
        f"AS $$ SELECT '{policy.hash}'::text $$")
    return sorted(protected)


def _exists(connection: Connection, table: str) -> bool:
    return connection.execute(text("SELECT to_regclass(:name)"),
                              {"name": _quote(connection, table)}).scalar() is not None


def remove_table(connection: Connection, table: str) -> None:
    """Remove one protected table's policies and branch functions (a migration's
    downgrade that drops the table), leaving the other tables' security as it is."""
    if not _exists(connection, table):
        return
    _drop_policies(connection, table)
    _switch_off(connection, table)
    prefix = "anchor\\_rls\\_" + table.replace("_", "\\_") + "\\_%"
    functions = connection.execute(text(
        "SELECT oid::regprocedure::text FROM pg_proc "
        "WHERE pronamespace = current_schema()::regnamespace "
        "AND proname LIKE :prefix"), {"prefix": prefix}).scalars()
    for function in list(functions):
        connection.exec_driver_sql(f"DROP FUNCTION {function}")


def _drop_policies(connection: Connection, table: str) -> None:
    quoted = _quote(connection, table)
    for name in POLICY_NAMES:
        connection.exec_driver_sql(f"DROP POLICY IF EXISTS {name} ON {quoted}")


def _switch_off(connection: Connection, table: str) -> None:
    quoted = _quote(connection, table)
    connection.exec_driver_sql(f"ALTER TABLE {quoted} NO FORCE ROW LEVEL SECURITY")
    connection.exec_driver_sql(f"ALTER TABLE {quoted} DISABLE ROW LEVEL SECURITY")


def _drop_branches(connection: Connection) -> None:
    """Drop the branch functions of an earlier installation (their policies are gone)."""
    functions = connection.execute(text(
        "SELECT oid::regprocedure::text FROM pg_proc "
        "WHERE pronamespace = current_schema()::regnamespace "
        "AND proname LIKE 'anchor\\_rls\\_%' AND proname <> 'anchor_rls_hash'")).scalars()
    for function in list(functions):
        connection.exec_driver_sql(f"DROP FUNCTION {function}")


def uninstall(connection: Connection) -> None:
    """Remove row-level security and its functions (the migration's downgrade)."""
    for entity in PROTECTED:
        if _exists(connection, str(entity.__tablename__)):
            _drop_policies(connection, str(entity.__tablename__))
            _switch_off(connection, str(entity.__tablename__))
    _drop_branches(connection)
    for function in FUNCTION_NAMES:
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")


def installed_hash(connection: Connection) -> str | None:
    """The hash of the policy the database's row-level security was made from."""
    if connection.execute(text("SELECT to_regprocedure('anchor_rls_hash()')")).scalar() is None:
        return None  # never installed
    value = connection.execute(text("SELECT anchor_rls_hash()")).scalar()
    return None if value is None else str(value)


def check(engine: Engine, policy: Policy) -> None:
    """Refuse a database whose row-level security was made from another policy."""
    safe = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            found = installed_hash(connection)
    except DBAPIError as exc:
        from anchor_tui.db.engine import describe_connect_error

        raise describe_connect_error(safe, exc) from exc
    if found == policy.hash:
        return
    fix = (f"Ask the database owner to run: {FIX_COMMAND} --config DIR  (with the same "
           "disclosure.yaml as this terminal), or use the policy the other terminals use.")
    if found is None:
        raise DatabaseError(
            f"The database {safe} has no row-level security for the disclosure policy.", fix)
    raise DatabaseError(
        f"The database's row-level security was made from another disclosure policy "
        f"({found[:12]}…) than this terminal's {policy.path} ({policy.hash[:12]}…).", fix)


def settings_of(info: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``anchor.*`` settings for a session's ``info`` (viewer or system), if any."""
    reason = info.get("system")
    if reason:
        return system_settings(str(reason))
    viewer = info.get("viewer")
    policy = info.get("filter")
    if viewer is None or policy is None:
        return None
    now: dt.datetime = info["now"]
    today: dt.date = policy.sql_params(viewer, now)["anchor_today"]
    return viewer_settings(viewer, now, today)
