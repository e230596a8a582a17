"""The number of cases in each stage, kept by the database itself (migration 0010).

The unfiltered board shows every stage's count of cases. Counting 100,000 cases took
about 10 ms of every board read, and with 20 terminals reading their boards on one
PostgreSQL server it was most of a read's time. Triggers on ``case`` keep
``stage_count`` in step in the same transaction as the change (insert, delete, a
stage changed), so the board reads seven rows instead. A filtered board still counts
what the filter finds.

A stage change updates two counters; on PostgreSQL both are locked in the order of
their stage ids, so two terminals moving cases between the same two stages in
opposite directions wait for each other rather than deadlock.
"""

from __future__ import annotations

from sqlalchemy import Connection

_SQLITE = (
    'CREATE TRIGGER stage_count_insert AFTER INSERT ON "case" BEGIN '
    "INSERT INTO stage_count (stage, cases) VALUES (new.stage, 1) "
    "ON CONFLICT (stage) DO UPDATE SET cases = cases + 1; END",
    'CREATE TRIGGER stage_count_delete AFTER DELETE ON "case" BEGIN '
    "UPDATE stage_count SET cases = cases - 1 WHERE stage = old.stage; END",
    'CREATE TRIGGER stage_count_update AFTER UPDATE OF stage ON "case" '
    "WHEN old.stage IS NOT new.stage BEGIN "
    "UPDATE stage_count SET cases = cases - 1 WHERE stage = old.stage; "
    "INSERT INTO stage_count (stage, cases) VALUES (new.stage, 1) "
    "ON CONFLICT (stage) DO UPDATE SET cases = cases + 1; END",
)
_SQLITE_TRIGGERS = ("stage_count_insert", "stage_count_delete", "stage_count_update")

_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION anchor_stage_count() RETURNS trigger
LANGUAGE plpgsql AS $anchor$
DECLARE
    stages text[];
    one text;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.stage IS NOT DISTINCT FROM NEW.stage THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        stages := ARRAY[NEW.stage];
    ELSIF TG_OP = 'DELETE' THEN
        stages := ARRAY[OLD.stage];
    ELSE
        stages := ARRAY[LEAST(OLD.stage, NEW.stage), GREATEST(OLD.stage, NEW.stage)];
    END IF;
    FOREACH one IN ARRAY stages LOOP  -- in stage order: no deadlock between two moves
        IF TG_OP <> 'INSERT' AND one = OLD.stage THEN
            UPDATE stage_count SET cases = cases - 1 WHERE stage = one;
        ELSE
            INSERT INTO stage_count (stage, cases) VALUES (one, 1)
            ON CONFLICT (stage) DO UPDATE SET cases = stage_count.cases + 1;
        END IF;
    END LOOP;
    RETURN NULL;
END $anchor$
"""


def install(connection: Connection) -> None:
    """Count the cases there are now and create the triggers that keep the count."""
    connection.exec_driver_sql(
        'INSERT INTO stage_count (stage, cases) SELECT stage, count(*) FROM "case" '
        "GROUP BY stage")
    if connection.dialect.name == "sqlite":
        for statement in _SQLITE:
            connection.exec_driver_sql(statement)
        return
    connection.exec_driver_sql(_POSTGRES_FUNCTION)
    connection.exec_driver_sql(
        'CREATE TRIGGER anchor_stage_count AFTER INSERT OR DELETE OR UPDATE OF stage ON "case" '
        "FOR EACH ROW EXECUTE FUNCTION anchor_stage_count()")


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in _SQLITE_TRIGGERS:
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        return
    connection.exec_driver_sql('DROP TRIGGER IF EXISTS anchor_stage_count ON "case"')
    connection.exec_driver_sql("DROP FUNCTION IF EXISTS anchor_stage_count()")
