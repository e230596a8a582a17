"""Connection failures are described with the problem and the fix."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from anchor_tui.db.engine import check_sqlite_features, describe_connect_error, make_engine
from anchor_tui.errors import DatabaseError, KeyringUnavailableError

URL = "postgresql+psycopg://anchor:secret@db.example/anchor"


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        return None

    def delete_password(self, service: str, username: str) -> None:
        return None


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def with_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


def test_password_needed_without_a_keyring_says_so(no_keyring: None) -> None:
    error = describe_connect_error(URL, Exception('FATAL:  password authentication failed'))
    assert isinstance(error, KeyringUnavailableError)
    assert "no OS keyring" in error.message and "PGPASSWORD" in error.fix
    assert "secret" not in str(error)  # the password in the URL is never shown


def test_password_refused_with_a_keyring_points_to_db_login(with_keyring: None) -> None:
    error = describe_connect_error(URL, Exception("FATAL:  password authentication failed"))
    assert isinstance(error, DatabaseError)
    assert "anchor-tui db login" in error.fix and "secret" not in str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("database is locked", "locked by another program"),
        ("no such table: case", "missing part of its schema"),
        ('relation "case" does not exist', "missing part of its schema"),
        ("server closed the connection unexpectedly", "was lost"),
        ("connection refused", "Cannot reach the database server"),
        ("file is not a database", "not an anchor-tui database"),
    ],
)
def test_each_failure_names_its_fix(text: str, expected: str) -> None:
    error = describe_connect_error(URL, Exception(text))
    assert expected in error.message and error.fix


def test_an_sqlite_too_old_for_the_queries_is_named_with_a_fix(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The board's and search's queries need SQLite 3.35 (MATERIALIZED), FTS5 and
    json_each: an older or smaller build stops with what it lacks, before any query."""
    import sqlite3

    check_sqlite_features()  # this Python's SQLite has everything
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 31, 1))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.31.1")
    with pytest.raises(DatabaseError) as caught:
        make_engine(f"sqlite:///{tmp_path / 'anchor.sqlite3'}")
    assert "3.31.1" in caught.value.message and "3.35" in caught.value.message
    assert "PostgreSQL" in caught.value.fix
    assert not (tmp_path / "anchor.sqlite3").exists()
