"""The ``anchor-tui`` command line: run, demo, seed, db, user, config (policy and audit
are added by their own ``add_*_commands`` functions in ``COMMAND_GROUPS``).

Imports are lazy: ``anchor-tui --help`` loads neither Textual nor SQLAlchemy. Every
failure a person can fix is printed as two lines (the problem, then the fix) with exit
status 2 and no traceback; anything else is one line naming the exception class, exit
status 1. Passphrases, passwords and SQL parameters are never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from anchor_tui import __version__
from anchor_tui.cli_audit import add_audit_commands
from anchor_tui.cli_data import add_data_commands
from anchor_tui.cli_policy import add_policy_commands
from anchor_tui.cli_users import add_user_commands
from anchor_tui.errors import AnchorError, ConfigError

if TYPE_CHECKING:
    from anchor_tui.services.backend import Backend
    from anchor_tui.services.seed import SeedReport
    from anchor_tui.settings import Settings

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

Handler = Callable[[argparse.Namespace], int]
EXIT_PROBLEM = 2
EXIT_INTERNAL = 1
EXIT_INTERRUPTED = 130


# --- shared plumbing ----------------------------------------------------------------------

def _common() -> argparse.ArgumentParser:
    """``--db`` and ``--config``, accepted before or after the command."""
    common = argparse.ArgumentParser(add_help=False)
    options = common.add_argument_group("database and configuration")
    options.add_argument("--db", metavar="URL", default=argparse.SUPPRESS,
                         help="database URL (default: ANCHOR_DB_URL, else the embedded SQLite "
                              "file in the user data directory)")
    options.add_argument("--config", metavar="DIR", default=argparse.SUPPRESS,
                         help="team config directory with anchor.yaml / disclosure.yaml "
                              "(default: ANCHOR_CONFIG_DIR, else the user config directory)")
    return common


def _command(commands: Commands, name: str, handler: Handler, summary: str,
             common: argparse.ArgumentParser, description: str = "") -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=summary, description=description or summary,
                                 parents=[common])
    parser.set_defaults(handler=handler)
    return parser


def _settings(args: argparse.Namespace, *, demo: bool = False) -> Settings:
    from anchor_tui.settings import load_settings

    settings = load_settings(None if demo else args.db, args.config, demo=demo)
    args.resolved_db_url = settings.db_url
    return settings


def _db_url(args: argparse.Namespace) -> str:
    """The database URL without reading the team config (db commands work on bad config)."""
    from anchor_tui.settings import default_sqlite_url

    url: str = args.db or os.environ.get("ANCHOR_DB_URL") or default_sqlite_url()
    args.resolved_db_url = url
    return url


def _open_backend(args: argparse.Namespace) -> Backend:
    """The backend for a command: schema checked (SQLite upgraded). The caller closes it."""
    from anchor_tui.services.backend import Backend

    return Backend.open(_settings(args))


@contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Backend]:
    """``_open_backend`` as a context: closed at the end."""
    backend = _open_backend(args)
    try:
        yield backend
    finally:
        backend.close()


def _safe_url(url: str) -> str:
    from anchor_tui.db.engine import parse_url

    return parse_url(url).render_as_string(hide_password=True)


def _plain(value: str) -> str:
    """User text for a terminal line: control characters (escape codes) shown as '?'."""
    return "".join(ch if ch.isprintable() else "?" for ch in value)


def _read_secret(args: argparse.Namespace, prompt: str, *, confirm: bool) -> str:
    """A passphrase from stdin (``--passphrase-stdin``) or typed twice without echo."""
    if getattr(args, "passphrase_stdin", False) or getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    try:
        first = getpass.getpass(prompt)
        if confirm and getpass.getpass("Type it again: ") != first:
            raise AnchorError("The two entries differ.", "Type the same passphrase twice.")
    except EOFError as exc:
        raise AnchorError("Nothing was typed (no terminal).",
                          "Pipe it in with --passphrase-stdin.") from exc
    return first


# --- run and demo ---------------------------------------------------------------------

def preflight(settings: Settings) -> None:
    """What ``run`` checks before drawing anything: policy, database, schema.

    Raises the :class:`AnchorError` that explains why the app cannot start.
    """
    from anchor_tui.services.backend import Backend

    Backend.open(settings).close()


def _run(args: argparse.Namespace) -> int:
    from anchor_tui import startup

    with startup.until_drawn():
        settings = _settings(args)
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # No terminal to draw on: check first. In a terminal the sign-in screen is
            # drawn first and the same checks run while it is shown (``services.opening``);
            # a failure then stops the app with the same one line and exit status.
            preflight(settings)
        from anchor_tui.app import run_app

        return run_app(settings)


def prepare_demo(settings: Settings, *, reset: bool = False) -> SeedReport | None:
    """Create the demo database (or recreate it with ``reset``) and seed the demo week.

    Returns None when a seeded demo database is already there.
    """
    from sqlalchemy import select

    from anchor_tui.db.engine import parse_url
    from anchor_tui.db.models import User
    from anchor_tui.services.backend import Backend
    from anchor_tui.services.seed import seed_demo

    database = parse_url(settings.db_url).database
    if reset and database:
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).expanduser().unlink(missing_ok=True)
    backend = Backend.open(settings)
    try:
        with backend.sessions.system("demo: look for users") as session:
            if session.scalars(select(User.id).limit(1)).first() is not None:
                return None
        return seed_demo(backend)
    finally:
        backend.close()


def _demo(args: argparse.Namespace) -> int:
    if args.db:
        raise AnchorError(
            "The demo always uses its own database in the user data directory.",
            "Leave out --db; to fill another database use: anchor-tui seed --db URL",
        )
    settings = _settings(args, demo=True)
    report = prepare_demo(settings, reset=args.reset)
    if report is not None:
        print(f"Created the demo team's week: {report.cases} cases, {report.notes} notes.",
              file=sys.stderr)
    from anchor_tui import startup

    with startup.until_drawn():  # (after seeding, whose garbage is collected as usual)
        from anchor_tui.app import run_app

        return run_app(settings)


def add_run_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    _command(commands, "run", _run, "run the app (the default when no command is given)",
             common)
    demo = _command(commands, "demo", _demo, "run the app on a demo team's week",
                    common, "Create (once) a demo SQLite database in the user data directory, "
                    "seeded with about 200 cases, and run the app on it.")
    demo.add_argument("--reset", action="store_true",
                      help="delete the demo database and create it again")


# --- seed -------------------------------------------------------------------------------

def _seed(args: argparse.Namespace) -> int:
    for flag, value in (("--cases", args.cases), ("--notes-per-case", args.notes_per_case)):
        if value < 0:
            raise AnchorError(f"{flag} must be 0 or more (got {value}).",
                              f"Pass a number of 0 or more to {flag}.")
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from anchor_tui.services.passphrase import MIN_LENGTH
    from anchor_tui.services.seed import seed
    from anchor_tui.settings import DEMO_PASSPHRASE

    # Read from standard input, never an argument: a command line shows in the process
    # list to every account on the machine.
    passphrase = _read_secret(args, "", confirm=False) if args.passphrase_stdin \
        else DEMO_PASSPHRASE
    if len(passphrase) < MIN_LENGTH:
        raise AnchorError(f"The passphrase read is shorter than {MIN_LENGTH} characters.",
                          f"Give a passphrase of at least {MIN_LENGTH} characters.")
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with _backend(args) as backend, Progress(*columns, console=Console(stderr=True)) as bar:
        started = time.perf_counter()
        task = bar.add_task("Seeding cases", total=args.cases or 1)
        report = seed(backend, cases=args.cases, notes_per_case=args.notes_per_case,
                      seed=args.seed, passphrase=passphrase,
                      progress=lambda done, _total: bar.update(task, completed=done))
        bar.update(task, completed=args.cases or 1)
        seconds = time.perf_counter() - started
    print(f"Seeded {report.cases:,} cases, {report.notes:,} notes, {report.persons:,} young "
          f"people, {report.consents:,} consents and {report.tasks:,} tasks in {seconds:.1f} s "
          f"into {_safe_url(args.resolved_db_url)}.")
    which = "the passphrase you gave" if args.passphrase_stdin else "the demo passphrase"
    print(f"Users ({report.users_created} new): {', '.join(report.usernames)}; "
          f"they sign in with {which}.")
    return 0


def add_seed_command(commands: Commands, common: argparse.ArgumentParser) -> None:
    parser = _command(commands, "seed", _seed, "fill a database with synthetic cases", common,
                      "Create the team users (police, social, nurse, youth, lead, auditor) and "
                      "deterministic synthetic cases, notes, consents and tasks. SQLite is "
                      "upgraded first; a PostgreSQL schema must be current (db upgrade).")
    parser.add_argument("--cases", type=int, required=True, metavar="N", help="cases to create")
    parser.add_argument("--notes-per-case", type=int, default=6, metavar="M",
                        help="notes on each case (default 6)")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="random seed: the same seed gives the same data (default 1)")
    parser.add_argument("--passphrase-stdin", action="store_true",
                        help="read the passphrase of the users it creates from standard "
                        "input (default: the demo passphrase)")


# --- db -----------------------------------------------------------------------------------

def _db_upgrade(args: argparse.Namespace) -> int:
    from anchor_tui.db import schema
    from anchor_tui.db.engine import make_engine
    from anchor_tui.errors import SchemaMismatchError

    url = _db_url(args)
    engine = make_engine(url)
    try:
        before = schema.current_revision(engine)
        if before is not None and before not in schema.KNOWN:
            raise SchemaMismatchError(
                f"The schema of {_safe_url(url)} ({before}) is newer than this anchor-tui "
                f"knows ({schema.HEAD}).",
                "Upgrade anchor-tui (pip install -U anchor-tui) before upgrading the database.",
            )
        if before == schema.HEAD:
            print(f"{_safe_url(url)} is up to date (revision {schema.HEAD}).")
            return 0
        from anchor_tui.policy import load_policy
        from anchor_tui.settings import load_settings

        # Row-level security follows the team's policy, and a migration files existing
        # rows as the team's app files new ones (0015: a reason's category).
        settings = load_settings(None, getattr(args, "config", None))
        schema.upgrade(engine, policy=load_policy(settings.policy_path, team=settings.team),
                       team=settings.team)
    finally:
        engine.dispose()
    print(f"Upgraded {_safe_url(url)} from {before or 'an empty schema'} to revision "
          f"{schema.HEAD}.")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from anchor_tui.db import schema
    from anchor_tui.db.engine import make_engine

    url = _db_url(args)
    engine = make_engine(url)
    try:
        revision = schema.current_revision(engine)
    finally:
        engine.dispose()
    if revision == schema.HEAD:
        print(f"{_safe_url(url)}: revision {revision} (up to date)")
        return 0
    if revision is None:
        state = f"empty (run: anchor-tui db upgrade --db '{_safe_url(url)}')"
    elif revision in schema.KNOWN:
        state = f"revision {revision}, older than {schema.HEAD} (run: anchor-tui db upgrade)"
    else:
        state = f"revision {revision}, newer than this anchor-tui knows ({schema.HEAD})"
    print(f"{_safe_url(url)}: {state}")
    return 1


def _db_login(args: argparse.Namespace) -> int:
    from anchor_tui.db.engine import keyring_key, parse_url, password_from_keyring, store_password

    url = parse_url(args.url)
    if url.get_backend_name() != "postgresql":
        raise AnchorError("Only PostgreSQL databases have a password to store.",
                          "Give a URL like postgresql+psycopg://anchor@host/anchor.")
    if url.password is not None:
        raise AnchorError("Leave the password out of the URL (it would stay in your history).",
                          "Give the URL without it; anchor-tui db login asks for the password.")
    password_from_keyring(url)  # no keyring backend: say so before asking for the password
    password = _read_secret(args, f"Password for {keyring_key(url)}: ", confirm=False)
    if not password:
        raise AnchorError("No password was given.", "Type the database password.")
    store_password(url, password)
    print(f"Stored the password for {keyring_key(url)} in the OS keyring.")
    return 0


def add_db_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    db = commands.add_parser("db", help="database schema and password",
                             description="Upgrade or inspect the schema; store a password; set "
                             "up a shared PostgreSQL database (init) and its row-level "
                             "security (rls).")
    actions = db.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    _command(actions, "upgrade", _db_upgrade, "upgrade the schema to this version", common,
             "Run the shipped migrations (also on a shared PostgreSQL database).")
    _command(actions, "current", _db_current, "show the schema revision", common,
             "Print the schema revision; exit status 1 when it is not up to date.")
    login = _command(actions, "login", _db_login,
                     "store a PostgreSQL password in the OS keyring", common)
    login.add_argument("url", metavar="URL", help="postgresql+psycopg://user@host/database")
    login.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input (for scripts)")
    from anchor_tui.cli_deploy import add_deployment_commands

    add_deployment_commands(actions, common)


# --- config -------------------------------------------------------------------------------

def _config_check(args: argparse.Namespace) -> int:
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    settings = _settings(args)
    policy = load_policy(settings.policy_path, team=settings.team)
    from anchor_tui.keys import binding_ids

    settings.team.check_keymap(binding_ids())
    team_file = PACKAGE_CONFIG_DIR / "anchor.yaml"
    if settings.config_dir is not None and (settings.config_dir / "anchor.yaml").exists():
        team_file = settings.config_dir / "anchor.yaml"
    print(f"ok: {team_file} and {settings.policy_path}; policy hash {policy.hash}")
    return 0


def add_config_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    config = commands.add_parser("config", help="check the team configuration",
                                 description="Validate anchor.yaml and disclosure.yaml.")
    actions = config.add_subparsers(dest="config_action", metavar="ACTION", required=True)
    _command(actions, "check", _config_check, "validate anchor.yaml and disclosure.yaml",
             common, "Validate the team's anchor.yaml and disclosure.yaml without starting "
             "the app; prints the policy hash.")


# --- the parser and main ------------------------------------------------------------------

COMMAND_GROUPS: list[Callable[[Commands, argparse.ArgumentParser], None]] = [
    add_run_commands,
    add_seed_command,
    add_db_commands,
    add_user_commands,
    add_config_commands,
    add_policy_commands,
    add_audit_commands,
    add_data_commands,
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anchor-tui",
        description="A keyboard-driven case board for Anchor teams. Without a command, "
                    "runs the app.",
    )
    parser.add_argument("--version", action="version", version=f"anchor-tui {__version__}")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: ANCHOR_DB_URL, else the embedded SQLite "
                             "file in the user data directory)")
    parser.add_argument("--config", metavar="DIR", default=None,
                        help="team config directory (default: ANCHOR_CONFIG_DIR, else the "
                             "user config directory)")
    parser.set_defaults(handler=_run)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = _common()
    for add_group in COMMAND_GROUPS:
        add_group(commands, common)
    return parser


def _describe(exc: BaseException, args: argparse.Namespace) -> AnchorError | None:
    """A database error escaping a command, as the one-line problem and fix."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import OperationalError

    url = getattr(args, "resolved_db_url", None)
    if isinstance(exc, OperationalError) and url:
        from anchor_tui.db.engine import describe_connect_error

        return describe_connect_error(url, exc)
    return None


def _report(error: AnchorError) -> int:
    fix = error.fix
    if not fix and isinstance(error, ConfigError):
        fix = "Correct the file, then check it with: anchor-tui config check"
    print(f"anchor-tui: {error.message}", file=sys.stderr)
    if fix:
        print(f"  fix: {fix}", file=sys.stderr)
    return EXIT_PROBLEM


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_PROBLEM
    handler: Any = args.handler
    try:
        return int(handler(args))
    except AnchorError as exc:
        return _report(exc)
    except KeyboardInterrupt:
        print("anchor-tui: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        described = _describe(exc, args)
        if described is not None:
            return _report(described)
        print(f"anchor-tui stopped because of an internal error ({exc.__class__.__name__})",
              file=sys.stderr)
        return EXIT_INTERNAL
