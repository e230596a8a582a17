"""Connection failures are described with the problem and the fix."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from anchor_tui.db.engine import describe_connect_error
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
