"""The command line: every command, its --help, and every bad input as one clear line.

Most tests call ``main([...])`` in-process (fast); a few run ``python -m anchor_tui`` in a
real subprocess to prove the entry point, exit statuses and the absence of tracebacks.
"""

from __future__ import annotations

import argparse
import io
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest
from sqlalchemy import text

from anchor_tui.cli import build_parser, main, prepare_demo
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.policy import load_policy
from anchor_tui.settings import PACKAGE_CONFIG_DIR, Settings, load_settings

PASSPHRASE = "tuuli puhaltaa mereltä"


@pytest.fixture(autouse=True)
def _own_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch this machine's anchor-tui data, config or environment."""
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(name, str(tmp_path / "xdg" / name.lower()))
    monkeypatch.delenv("ANCHOR_DB_URL", raising=False)
    monkeypatch.delenv("ANCHOR_CONFIG_DIR", raising=False)


def _problem(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[str, str]:
    """Run a command that must fail with a problem and a fix; return both lines."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 2, err
    assert lines[0].startswith("anchor-tui: ") and lines[1].startswith("  fix: ")
    return lines[0], lines[1]


def _stdin(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(value + "\n"))


def _config_dir(tmp_path: Path, anchor_yaml: str) -> str:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "anchor.yaml").write_text(anchor_yaml, encoding="utf-8")
    return str(folder)


# --- help ---------------------------------------------------------------------------------

def _every_command(parser: argparse.ArgumentParser | None = None,
                   path: tuple[str, ...] = ()) -> list[list[str]]:
    """Every command and group the parser knows, found by walking it (so a command
    added later is checked too)."""
    parser = parser or build_parser()
    found = [list(path)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _every_command(sub, (*path, name))
    return found


COMMANDS = _every_command()


def test_the_issues_commands_are_all_there() -> None:
    named = {" ".join(c) for c in COMMANDS}
    assert {"", "run", "demo", "seed", "db upgrade", "db current", "db login", "user add",
            "user list", "user passwd", "user deactivate", "config check", "policy check",
            "policy matrix", "policy explain", "audit verify", "audit checkpoint",
            "audit access-report", "retention run", "export person"} <= named


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "anchor-tui")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: {' '.join(['anchor-tui', *command])}")
    if len(command) == 2 or command in (["run"], ["demo"], ["seed"]):
        assert "--db URL" in out and "--config DIR" in out
    assert "Traceback" not in out + capsys.readouterr().err


def test_help_loads_neither_textual_nor_sqlalchemy() -> None:
    code = ("import sys, contextlib, io\n"
            "from anchor_tui.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    codes = [main(['--help']), main(['seed', '--help']), main(['--version'])]\n"
            "heavy = [m for m in ('textual', 'sqlalchemy', 'alembic', 'rich.progress')\n"
            "         if m in sys.modules]\n"
            "print(codes, heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "[0, 0, 0] []"


def test_a_group_without_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db"]) == 2
    assert "required" in capsys.readouterr().err


# --- db -----------------------------------------------------------------------------------

def test_db_upgrade_then_current(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current", "--db", db_url]) == 1
    assert "empty (run: anchor-tui db upgrade" in capsys.readouterr().out
    assert main(["db", "upgrade", "--db", db_url]) == 0
    assert f"from an empty schema to revision {schema.HEAD}" in capsys.readouterr().out
    assert main(["--db", db_url, "db", "upgrade"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert main(["db", "current", "--db", db_url]) == 0
    assert f"revision {schema.HEAD} (up to date)" in capsys.readouterr().out


def test_db_url_comes_from_the_environment(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ANCHOR_DB_URL", sqlite_url)
    assert main(["db", "upgrade"]) == 0
    assert sqlite_url in capsys.readouterr().out


def test_default_database_is_the_embedded_sqlite_file(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "xdg" / "xdg_data_home" / "anchor-tui" / "anchor.sqlite3").exists()


class _MemoryKeyring(keyring.backend.KeyringBackend):
    """A real (in-memory) keyring backend, so login can be tested without an OS keyring."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[_MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = _MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(previous)


def test_db_login_stores_the_password(memory_keyring: _MemoryKeyring,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, "s3cret-db-password")
    assert main(["db", "login", "postgresql+psycopg://anchor@db.example:5433/anchor",
                 "--password-stdin"]) == 0
    out = capsys.readouterr().out
    assert "s3cret" not in out and "anchor@db.example:5433/anchor" in out
    assert memory_keyring.items == {("anchor-tui", "anchor@db.example:5433/anchor"):
                                    "s3cret-db-password"}


@pytest.mark.parametrize(("url", "problem"), [
    ("sqlite:///x.sqlite3", "Only PostgreSQL"),
    ("postgresql+psycopg://anchor:pw@db.example/anchor", "Leave the password out"),
    ("mysql://anchor@db.example/anchor", "scheme 'mysql' is not supported"),
])
def test_db_login_refuses_bad_urls(url: str, problem: str, memory_keyring: _MemoryKeyring,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    message, _fix = _problem(capsys, ["db", "login", url, "--password-stdin"])
    assert problem in message
    assert memory_keyring.items == {}


def test_db_login_without_keyring_backend_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
           "XDG_DATA_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "anchor_tui", "db", "login",
         "postgresql+psycopg://anchor@db.example/anchor", "--password-stdin"],
        input="never-stored\n", capture_output=True, text=True, timeout=60, env=env,
    )
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines == [
        "anchor-tui: No OS keyring is available to hold the database password.",
        "  fix: Install a keyring backend (e.g. gnome-keyring or keyrings.alt) or set "
        "PGPASSWORD.",
    ]


# --- seed ---------------------------------------------------------------------------------

def test_seed_then_list_users(db_url: str, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    if db_url.startswith("postgresql"):
        assert main(["db", "upgrade", "--db", db_url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("oma salainen lause\n"))
    assert main(["seed", "--db", db_url, "--cases", "12", "--notes-per-case", "3",
                 "--seed", "5", "--passphrase-stdin"]) == 0
    captured = capsys.readouterr()
    assert "Seeded 12 cases, 36 notes" in captured.out
    assert "police, social, nurse, youth, lead, auditor" in captured.out
    assert "oma salainen lause" not in captured.out + captured.err
    assert "they sign in with the passphrase you gave" in captured.out
    assert "12/12" in captured.err  # the progress bar reached the end
    assert main(["user", "list", "--db", db_url]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing[0].split() == ["USERNAME", "NAME", "PROFESSION", "ROLE", "STATUS"]
    assert [row.split()[0] for row in listing[1:]] == sorted(
        ["police", "social", "nurse", "youth", "lead", "auditor"])


@pytest.mark.parametrize("flags", [["--cases", "-5"], ["--cases", "3", "--notes-per-case", "-1"]])
def test_seed_refuses_negative_numbers(flags: list[str], sqlite_url: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    message, fix = _problem(capsys, ["seed", "--db", sqlite_url, *flags])
    assert "must be 0 or more" in message and "0 or more" in fix


def test_seed_refuses_a_short_passphrase(sqlite_url: str, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("lyhyt\n"))
    message, _ = _problem(capsys, ["seed", "--db", sqlite_url, "--cases", "1",
                                   "--passphrase-stdin"])
    assert "shorter than 8" in message and "lyhyt" not in message


def test_seed_through_the_real_entry_point(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.sqlite3'}"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    ok = subprocess.run([sys.executable, "-m", "anchor_tui", "seed", "--db", url, "--cases",
                         "3", "--notes-per-case", "2"], capture_output=True, text=True,
                        timeout=120, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "Seeded 3 cases, 6 notes" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "anchor_tui", "seed", "--db", url, "--cases",
                          "-5"], capture_output=True, text=True, timeout=60, env=env)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["anchor-tui: --cases must be 0 or more (got -5).",
                                       "  fix: Pass a number of 0 or more to --cases."]


# --- schema and database problems -----------------------------------------------------

@pytest.mark.postgres
@pytest.mark.parametrize("command", [["run"], ["seed", "--cases", "1"], ["user", "list"]])
def test_empty_postgres_schema_is_never_upgraded_by_the_app(
    pg_url: str, command: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    message, fix = _problem(capsys, ["--db", pg_url, *command])
    assert "schema is empty" in message
    assert "anchor-tui db upgrade --db" in fix
    engine = make_engine(pg_url)
    try:
        assert schema.current_revision(engine) is None
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("command", [["run"], ["user", "list"]])
def test_postgres_schema_behind_is_refused_with_the_upgrade_command(
    pg_url: str, command: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    older = schema.KNOWN[-2]
    engine = make_engine(pg_url)
    try:
        schema.upgrade(engine, older)
        message, fix = _problem(capsys, ["--db", pg_url, *command])
        assert f"schema is at {older}, older than {schema.HEAD}" in message
        assert fix.startswith("  fix: Ask the database owner to run: anchor-tui db upgrade --db ")
        assert schema.current_revision(engine) == older  # the app upgraded nothing
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_password_comes_from_the_keyring_or_pgpassword(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """On a server that asks for a password (scram): without a keyring backend or
    PGPASSWORD one line says so; the password 'db login' stores is the one used; a
    wrong one is named; PGPASSWORD works instead of the keyring."""
    from tests.private_pg import private_postgres

    monkeypatch.delenv("PGPASSWORD", raising=False)
    with private_postgres() as server:
        admin = make_engine(server.url)
        with admin.begin() as conn:
            conn.execute(text("ALTER ROLE postgres PASSWORD 'pw in the keyring'"))
        admin.dispose()
        (server.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
            encoding="utf-8")
        server.restart()
        url = server.url

        message, fix = _problem(capsys, ["db", "current", "--db", url])
        assert "needs a password" in message and "no OS keyring" in message
        assert "anchor-tui db login" in fix and "PGPASSWORD" in fix

        ring = _MemoryKeyring()
        keyring.set_keyring(ring)  # the autouse fixture puts the "no keyring" one back
        for stored, works in (("pw in the keyring", True), ("a wrong one", False)):
            _stdin(monkeypatch, stored)
            assert main(["db", "login", url, "--password-stdin"]) == 0
            capsys.readouterr()
            if works:
                assert main(["db", "current", "--db", url]) == 1  # reached: empty schema
                assert ": empty (run: anchor-tui db upgrade" in capsys.readouterr().out
            else:
                message, fix = _problem(capsys, ["db", "current", "--db", url])
                assert "refused the password" in message and "db login" in fix

        monkeypatch.setenv("PGPASSWORD", "pw in the keyring")  # beats the keyring's
        assert main(["db", "current", "--db", url]) == 1
        assert ": empty (run: anchor-tui db upgrade" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["run"], ["seed", "--cases", "1"], ["db", "upgrade"]])
def test_schema_newer_than_this_version_is_refused(
    db_url: str, command: list[str], capsys: pytest.CaptureFixture[str],
) -> None:
    engine = make_engine(db_url)
    schema.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    message, fix = _problem(capsys, ["--db", db_url, *command])
    assert "9999" in message and "newer" in message
    assert "pip install -U anchor-tui" in fix
    assert main(["db", "current", "--db", db_url]) == 1
    assert "newer than this anchor-tui knows" in capsys.readouterr().out


def test_run_preflight_upgrades_the_embedded_sqlite(sqlite_url: str) -> None:
    from anchor_tui.cli import preflight

    preflight(load_settings(sqlite_url))
    engine = make_engine(sqlite_url)
    try:
        assert schema.current_revision(engine) == schema.HEAD
    finally:
        engine.dispose()


def test_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    message, fix = _problem(capsys, ["--db", "postgresql+psycopg://anchor@127.0.0.1:1/anchor",
                                     "run"])
    assert "Cannot reach the database server" in message
    assert "server is running" in fix


def test_wrong_url_scheme_through_the_real_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "anchor_tui", "--db",
                           "mysql://anchor:topsecret@db.example/anchor", "run"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "topsecret" not in done.stderr
    assert done.stderr.splitlines()[0] == "anchor-tui: The URL scheme 'mysql' is not supported."


def test_locked_sqlite_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("anchor_tui.db.engine.SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("CREATE TABLE other_program (x)")
        holder.execute("BEGIN EXCLUSIVE")
        message, fix = _problem(capsys, ["--db", f"sqlite:///{path}", "run"])
    finally:
        holder.close()
    assert "is locked by another program" in message
    assert "Close the other" in fix


# --- configuration ------------------------------------------------------------------------

def test_config_check_prints_ok_and_the_policy_hash(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")
    assert out.startswith("ok: ") and out.strip().endswith(f"policy hash {policy.hash}")


def test_config_check_of_a_team_directory(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    folder = _config_dir(tmp_path, "team_name: Ankkuri Itä\n")
    assert main(["config", "check", "--config", folder]) == 0
    assert str(Path(folder) / "anchor.yaml") in capsys.readouterr().out


def test_corrupt_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _config_dir(tmp_path, "team_name: Ankkuri\nstages: [\n  - id: x\n")
    for command in (["config", "check"], ["run"]):
        message, _fix = _problem(capsys, ["--config", folder, *command])
        assert "anchor.yaml" in message


def test_unknown_config_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _config_dir(tmp_path, "team_name: Ankkuri\ncolour: red\n")
    message, _fix = _problem(capsys, ["config", "check", "--config", folder])
    assert "anchor.yaml:2" in message and "colour" in message


def test_config_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ANCHOR_CONFIG_DIR", _config_dir(tmp_path, "colour: red\n"))
    message, _fix = _problem(capsys, ["config", "check"])
    assert "colour" in message


# --- users --------------------------------------------------------------------------------

def test_user_commands(db_url: str, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--db", db_url]) == 0
    base = ["--db", db_url, "user"]
    _stdin(monkeypatch, PASSPHRASE)
    assert main([*base, "add", "aino", "--display-name", "Aino Korhonen", "--profession",
                 "youth_work", "--passphrase-stdin"]) == 0
    assert "Added aino (youth_work, member)." in capsys.readouterr().out
    _stdin(monkeypatch, PASSPHRASE)
    message, fix = _problem(capsys, [*base, "add", "aino", "--display-name", "Toinen Aino",
                                     "--profession", "police", "--passphrase-stdin"])
    assert "already taken" in message
    _stdin(monkeypatch, PASSPHRASE)
    message, fix = _problem(capsys, [*base, "add", "eino", "--display-name", "Eino",
                                     "--profession", "chef", "--passphrase-stdin"])
    assert "'chef' is not a profession" in message and "police" in fix
    _stdin(monkeypatch, "uusi pitkä lause")
    assert main([*base, "passwd", "aino", "--passphrase-stdin"]) == 0
    assert main([*base, "deactivate", "aino"]) == 0
    assert "Deactivated aino." in capsys.readouterr().out
    assert main([*base, "deactivate", "aino"]) == 0
    assert "already deactivated" in capsys.readouterr().out
    assert main([*base, "list"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[1].split() == ["aino", "Aino", "Korhonen", "youth_work", "member", "deactivated"]
    message, _ = _problem(capsys, [*base, "passwd", "nobody", "--passphrase-stdin"])
    assert "no user 'nobody'" in message


def test_user_add_asks_twice_and_refuses_a_mismatch(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    answers = iter([PASSPHRASE, PASSPHRASE + "!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    message, fix = _problem(capsys, ["--db", sqlite_url, "user", "add", "aino",
                                     "--display-name", "Aino", "--profession", "police"])
    assert "differ" in message
    assert PASSPHRASE not in message + fix
    answers = iter(["lyhyt", "lyhyt"])
    message, _ = _problem(capsys, ["--db", sqlite_url, "user", "add", "aino",
                                   "--display-name", "Aino", "--profession", "police"])
    assert "shorter than 8" in message
    answers = iter([])  # a bad profession is refused before anyone types a passphrase
    message, _ = _problem(capsys, ["--db", sqlite_url, "user", "add", "aino",
                                   "--display-name", "Aino", "--profession", "chef"])
    assert "'chef' is not a profession" in message


# --- demo ---------------------------------------------------------------------------------

def test_prepare_demo_creates_once_and_resets(tmp_path: Path) -> None:
    settings = load_settings(demo=True)
    assert settings.db_url.startswith(f"sqlite:///{tmp_path}")
    first = prepare_demo(settings)
    assert first is not None and first.cases == 200
    assert prepare_demo(settings) is None
    again = prepare_demo(settings, reset=True)
    assert again is not None and again.cases == 200
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text('SELECT count(*) FROM "case"')).scalar() == 200
    finally:
        engine.dispose()


def test_demo_runs_the_app_in_demo_mode(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[Settings] = []

    def run_app(settings: Settings) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr("anchor_tui.app.run_app", run_app)
    assert main(["demo"]) == 0
    assert len(seen) == 1 and seen[0].demo
    assert seen[0].db_url == load_settings(demo=True).db_url
    assert "200 cases" in capsys.readouterr().err


def test_demo_refuses_another_database(capsys: pytest.CaptureFixture[str]) -> None:
    message, fix = _problem(capsys, ["demo", "--db", "sqlite:///real.sqlite3"])
    assert "own database" in message and "anchor-tui seed --db" in fix


# --- failures that are not the user's -------------------------------------------------------

def test_internal_error_is_one_line_without_details(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(_backend: object) -> list[object]:
        raise RuntimeError("note text that must never be printed")

    monkeypatch.setattr("anchor_tui.services.users.list_users", broken)
    assert main(["--db", sqlite_url, "user", "list"]) == 1
    err = capsys.readouterr().err
    assert err == "anchor-tui stopped because of an internal error (RuntimeError)\n"


def test_interrupt_exits_130(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(_backend: object) -> list[object]:
        raise KeyboardInterrupt

    monkeypatch.setattr("anchor_tui.services.users.list_users", interrupted)
    assert main(["--db", sqlite_url, "user", "list"]) == 130
