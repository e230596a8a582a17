"""What a launch loads: only what signing in and the board need (memory and start time).

A launch on a current schema checks its revision with one plain query, so Alembic is not
loaded; the driver and SQLAlchemy dialect of the other database are not loaded either;
the test tools (hypothesis, pytest) never are. Checked in a fresh interpreter that runs
the real app (headless) from launch through sign-in to the board, on SQLite and on
PostgreSQL. And the schema rules that need Alembic still hold: a SQLite schema that is
behind is upgraded on start, a PostgreSQL one is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.errors import SchemaMismatchError
from anchor_tui.services.backend import Backend
from anchor_tui.services.users import add_user
from anchor_tui.settings import load_settings

PASSPHRASE = "launch test passphrase"

# Runs the app as ``anchor-tui run`` does (the backend opening while the sign-in screen
# is shown), signs in, waits for the board; prints what was loaded.
_LAUNCH = """
import asyncio, json, sys
from anchor_tui.app import AnchorApp
from anchor_tui.services.opening import OpeningBackend
from anchor_tui.settings import load_settings

settings = load_settings(sys.argv[1])
backend = OpeningBackend(settings)

async def launch():
    app = AnchorApp(backend, settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.screen.query_one("#username").value = "worker"
        app.screen.query_one("#passphrase").value = sys.argv[2]
        app.screen.query_one("#passphrase").focus()
        await pilot.press("enter")
        for _ in range(600):
            await pilot.pause(0.05)
            if type(app.screen).__name__ == "BoardScreen" and app.screen.query("StageColumn"):
                break
        return type(app.screen).__name__

shown = asyncio.run(launch())
backend.close()
print(json.dumps({"screen": shown, "modules": sorted(sys.modules)}))
"""

NEVER = ("alembic", "hypothesis", "pytest", "_pytest")
OTHER_DATABASE = {
    "sqlite": ("psycopg", "psycopg_binary", "sqlalchemy.dialects.postgresql"),
    "postgresql": ("sqlite3", "_sqlite3", "sqlalchemy.dialects.sqlite"),
}


def _loaded(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m in roots or m.startswith(tuple(f"{r}." for r in roots))]


def _current_database_with_a_user(url: str) -> None:
    engine = make_engine(url)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()
    backend = Backend.open(load_settings(url))
    try:
        add_user(backend, "worker", "Launch Tester", "social_work", "member", PASSPHRASE)
    finally:
        backend.close()


def test_a_launch_loads_neither_alembic_nor_the_other_database(
        db_url: str, tmp_path: Path) -> None:
    _current_database_with_a_user(db_url)
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_STATE_HOME=str(tmp_path / "state"))
    env.pop("PYTEST_XDIST_WORKER", None)
    done = subprocess.run([sys.executable, "-c", _LAUNCH, db_url, PASSPHRASE], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["screen"] == "BoardScreen"  # signed in: the whole launch ran
    modules = result["modules"]
    assert "sqlalchemy.orm" in modules and "argon2" in modules  # the probe sees imports
    assert _loaded(modules, NEVER) == []
    backend_name = make_url(db_url).get_backend_name()
    assert _loaded(modules, OTHER_DATABASE[backend_name]) == []


def test_a_schema_behind_is_upgraded_on_sqlite_and_refused_on_postgres(db_url: str) -> None:
    """The revision check is a plain query; what is behind still goes through Alembic
    (SQLite) or stops the app with the command to run (PostgreSQL)."""
    older = schema.KNOWN[-2]
    engine = make_engine(db_url)
    try:
        schema.upgrade(engine, older)
        assert schema.current_revision(engine) == older
        settings = load_settings(db_url)
        if engine.dialect.name == "sqlite":
            Backend.open(settings).close()
            assert schema.current_revision(engine) == schema.HEAD
        else:
            with pytest.raises(SchemaMismatchError) as info:
                Backend.open(settings)
            assert f"at {older}, older than {schema.HEAD}" in info.value.message
            assert "anchor-tui db upgrade" in info.value.fix
            assert schema.current_revision(engine) == older  # refusing changed nothing
    finally:
        engine.dispose()
