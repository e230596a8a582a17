"""A shared PostgreSQL deployment of a test's own, made by ``anchor-tui db init``.

Each use creates a fresh database and two roles with unique names on the test server
(roles are server-wide), and drops them afterwards. The server trusts local
connections, so the application role connects without its password, as a terminal with
the password in its keyring would.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from anchor_tui.cli import main

PASSWORD = "a long test password, never used"


@dataclass(frozen=True)
class Deployed:
    admin_url: str
    """The superuser, in the team's database and schema."""
    app_url: str
    """The application role (what terminals use)."""
    owner_url: str
    database: str
    owner: str
    app_role: str
    schema: str = "anchor"


def _run_init(admin_url: str, owner: str, app_role: str, monkeypatch: pytest.MonkeyPatch,
              extra: tuple[str, ...] = ()) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n{PASSWORD}\n"))
    return main(["db", "init", "--url", admin_url, "--owner", owner, "--app-role", app_role,
                 "--password-stdin", *extra])


@contextmanager
def deployment(server_admin_url: str, monkeypatch: pytest.MonkeyPatch,
               extra: tuple[str, ...] = ()) -> Iterator[Deployed]:
    """``db init`` on a fresh database of the server at ``server_admin_url``."""
    suffix = uuid.uuid4().hex[:10]
    database, owner, app_role = f"anchor_dep_{suffix}", f"owner_{suffix}", f"app_{suffix}"
    base = make_url(server_admin_url)
    admin = base.set(database=database)
    try:
        assert _run_init(admin.render_as_string(hide_password=False), owner, app_role,
                         monkeypatch, extra) == 0
        in_schema = admin.update_query_dict({"options": "-csearch_path=anchor"})
        yield Deployed(
            admin_url=in_schema.render_as_string(hide_password=False),
            app_url=in_schema.set(username=app_role, password=None)
            .render_as_string(hide_password=False),
            owner_url=in_schema.set(username=owner, password=None)
            .render_as_string(hide_password=False),
            database=database, owner=owner, app_role=app_role,
        )
    finally:
        server = create_engine(base.render_as_string(hide_password=False),
                               isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            for role in (app_role, owner):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        server.dispose()
