"""Errors a user can act on.

Every error the command line or the app shows to a person is an :class:`AnchorError`:
one line saying what is wrong and one saying how to fix it. They never carry note
text, passphrases or SQL parameters, so they are safe to show on a shared screen.
"""

from __future__ import annotations


class AnchorError(Exception):
    """A problem with a clear cause and a fix, shown without a traceback."""

    title = "Error"

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} {self.fix}".strip()


class ConfigError(AnchorError):
    """A configuration or policy file is invalid. The message names file, line and key."""

    title = "Configuration error"

    def __init__(self, path: str, line: int | None, key: str, problem: str, fix: str = "") -> None:
        where = f"{path}:{line}" if line is not None else path
        keypart = f" key '{key}'" if key else ""
        super().__init__(f"{where}:{keypart} {problem}", fix)
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem


class DatabaseError(AnchorError):
    """The database cannot be used: unreachable, locked, wrong URL, wrong schema."""

    title = "Database problem"


class ConnectionLostError(DatabaseError):
    """The database server cannot be reached (restarting, network down). Nothing of the
    failed unit of work was saved; the app keeps what it could not save and tries again
    when the server is back."""

    title = "Connection lost"


class DatabaseBusyError(ConnectionLostError):
    """The database answered, but what this unit of work needed was held by another
    (a lock kept past the statement timeout, SQLite's file locked by another program).
    Nothing of it was saved; like a lost connection, the change is kept and tried again,
    and the status line says the database is busy, not gone."""

    title = "Database busy"


class TransientError(DatabaseError):
    """PostgreSQL aborted the unit of work to keep concurrent changes consistent
    (serialization failure or deadlock). Nothing was saved; repeating it is safe."""

    title = "Database busy"


class SchemaMismatchError(DatabaseError):
    """The schema is older or newer than this version of anchor-tui."""


class KeyringUnavailableError(AnchorError):
    """A secret is needed but no OS keyring backend exists."""

    title = "No keyring"


class NoViewerError(AnchorError):
    """A protected table was queried without a viewer context: refused (fail closed)."""

    title = "Access refused"


class SignInError(AnchorError):
    """Wrong username or passphrase, or the account is locked or inactive."""

    title = "Sign-in failed"

    def __init__(self, message: str, fix: str = "", *, retry_in: float = 0.0) -> None:
        super().__init__(message, fix)
        self.retry_in = retry_in
        """Seconds before the next try is accepted (0: at once)."""


class ConflictError(AnchorError):
    """Someone else changed the same record first; both versions are kept."""

    title = "Changed by someone else"
