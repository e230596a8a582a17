"""``anchor-tui db init`` and ``db rls``: the shared PostgreSQL deployment's commands.

``db init --url ADMIN-URL`` sets up a team's database as a superuser: an owner role, an
application role (what the terminals connect as), the schema, row-level security and
the grants (``db/deploy.py``). ``db rls --db OWNER-URL`` re-installs row-level security
after the team's ``disclosure.yaml`` changed; until then the app refuses to start.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from anchor_tui.errors import AnchorError

DEFAULT_OWNER = "anchor_owner"
DEFAULT_APP_ROLE = "anchor"
DEFAULT_SCHEMA = "anchor"

if TYPE_CHECKING:
    from anchor_tui.cli import Commands
    from anchor_tui.policy import Policy


def _policy(args: argparse.Namespace) -> Policy:
    """The disclosure policy in force for ``--config`` (row-level security is made from it)."""
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import load_settings

    settings = load_settings(None, getattr(args, "config", None))
    return load_policy(settings.policy_path, team=settings.team)


def _password_reader(args: argparse.Namespace) -> Callable[[str], str]:
    def password_for(role: str) -> str:
        from anchor_tui.cli import _read_secret

        password = _read_secret(args, f"Password for the new role {role}: ", confirm=True)
        if len(password) < 12:
            raise AnchorError(f"The password for {role} is shorter than 12 characters.",
                              "Give a long password (a password manager can make one).")
        return password

    return password_for


def _db_init(args: argparse.Namespace) -> int:
    from anchor_tui.cli import _safe_url
    from anchor_tui.db.deploy import init_deployment

    args.resolved_db_url = args.url
    from anchor_tui.settings import load_settings

    policy = _policy(args)
    done = init_deployment(args.url, policy, _password_reader(args),
                           owner=args.owner, app_role=args.app_role, schema_name=args.schema,
                           team=load_settings(None, getattr(args, "config", None)).team)
    made = ", ".join(done.created_roles) or "none (both existed)"
    print(f"Database {done.database} on {_safe_url(args.url).split('@')[-1].split('/')[0]}"
          f"{' (created)' if done.created_database else ''}: schema {done.schema} at "
          f"revision {done.revision}, owned by {done.owner}.")
    print(f"Roles created: {made}. The app connects as {done.app_role} (no superuser, no "
          "BYPASSRLS, no ownership).")
    print(f"Row-level security on {', '.join(done.tables)} from policy {done.policy_hash[:12]}.")
    print(f"On each terminal: anchor-tui db login {done.app_url}")
    print(f"Then: ANCHOR_DB_URL={done.app_url} anchor-tui")
    return 0


def _db_rls(args: argparse.Namespace) -> int:
    from anchor_tui.cli import _db_url, _safe_url
    from anchor_tui.db.deploy import reinstall_rls

    url = _db_url(args)
    policy = _policy(args)
    tables = reinstall_rls(url, policy)
    print(f"Row-level security of {_safe_url(url)} now follows {policy.path} (policy "
          f"{policy.hash[:12]}) on {', '.join(tables)}.", file=sys.stdout)
    return 0


def add_deployment_commands(actions: Commands, common: argparse.ArgumentParser) -> None:
    """``db init`` and ``db rls`` (called by ``cli.add_db_commands``)."""
    from anchor_tui.cli import _command

    init = _command(
        actions, "init", _db_init, "set up a shared PostgreSQL database for a team", common,
        "As a PostgreSQL superuser: create the owner role and the application role (the "
        "one terminals connect as: no superuser, no BYPASSRLS, only the grants the app "
        "needs), the database and schema, run the migrations as the owner and install "
        "row-level security from the disclosure policy. Safe to run again.")
    init.add_argument("--url", required=True, metavar="ADMIN-URL",
                      help="a superuser's URL naming the team's database, e.g. "
                           "postgresql+psycopg://postgres@db.example/anchor")
    init.add_argument("--owner", default=DEFAULT_OWNER,
                      help=f"the role that owns the schema (default {DEFAULT_OWNER})")
    init.add_argument("--app-role", default=DEFAULT_APP_ROLE,
                      help=f"the role the app connects as (default {DEFAULT_APP_ROLE})")
    init.add_argument("--schema", default=DEFAULT_SCHEMA,
                      help=f"the schema of the team's tables (default {DEFAULT_SCHEMA})")
    init.add_argument("--password-stdin", action="store_true",
                      help="read the new roles' passwords from standard input, one a line "
                           "(owner first)")
    _command(actions, "rls", _db_rls,
             "re-install row-level security after disclosure.yaml changed", common,
             "Compile the disclosure policy in force (--config) into PostgreSQL row-level "
             "security and record its hash; run as the schema's owner (or a superuser). "
             "Terminals refuse to start while the database's policy differs from theirs.")
