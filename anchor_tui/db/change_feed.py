"""How a terminal learns that another one changed a case: the database side.

PostgreSQL: a trigger on each table below sends ``NOTIFY anchor_changes, '<table> <id>'``
(ids only, never text) when a row changes; the notification reaches every listening
terminal when the transaction commits. SQLite: triggers count the changes in the one
row of ``change_count``; terminals poll that number (a single-row read).

``services/changes.py`` listens or polls and tells the app which cases changed.
"""

from __future__ import annotations

from sqlalchemy import Connection

CHANNEL = "anchor_changes"
WATCHED = {
    "case": "id",
    "note": "case_id",
    "task": "case_id",
    "case_member": "case_id",
    "consent": "person_id",
    "input_request": "case_id",
    "case_snooze": "case_id",
}
"""Tables whose changes show on a board or a queue, and the column naming the case
(``consent``: the young person, whose cases all change what they show)."""
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def _quote(connection: Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))


def install(connection: Connection) -> None:
    """Create the triggers (and on SQLite the counter's row) for every watched table."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("INSERT INTO change_count (id, changes) VALUES (1, 0)")
        for table in WATCHED:
            for operation in OPERATIONS:
                connection.exec_driver_sql(  # fixed table names, no values
                    f"CREATE TRIGGER change_count_{table}_{operation.lower()} AFTER "  # noqa: S608
                    f"{operation} ON {_quote(connection, table)} BEGIN UPDATE change_count "
                    "SET changes = changes + 1 WHERE id = 1; END")
        return
    for table, column in WATCHED.items():
        connection.exec_driver_sql(
            f"CREATE OR REPLACE FUNCTION anchor_notify_{table}() RETURNS trigger "
            "LANGUAGE plpgsql AS $anchor$ BEGIN "
            f"PERFORM pg_notify('{CHANNEL}', '{table} ' || coalesce((CASE WHEN TG_OP = "
            f"'DELETE' THEN OLD.{column} ELSE NEW.{column} END)::text, '')); "
            "RETURN NULL; END $anchor$")
        connection.exec_driver_sql(
            f"CREATE TRIGGER anchor_notify AFTER {' OR '.join(OPERATIONS)} ON "
            f"{_quote(connection, table)} FOR EACH ROW EXECUTE FUNCTION "
            f"anchor_notify_{table}()")


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for table in WATCHED:
            for operation in OPERATIONS:
                connection.exec_driver_sql(
                    f"DROP TRIGGER IF EXISTS change_count_{table}_{operation.lower()}")
        return
    for table in WATCHED:
        connection.exec_driver_sql(
            f"DROP TRIGGER IF EXISTS anchor_notify ON {_quote(connection, table)}")
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS anchor_notify_{table}()")


def parse(payload: str) -> tuple[str, int | None]:
    """``'note 12'`` -> ``('note', 12)``; an id that is not a number -> None."""
    table, _, ref = payload.partition(" ")
    return table, int(ref) if ref.isdigit() else None
