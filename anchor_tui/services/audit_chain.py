"""The audit chain's key, its hashes, and their verification.

Each ``audit_event`` row's ``hash`` is an HMAC-SHA256, under a per-database secret key,
of the row's fields in a canonical JSON (``CHAIN_FIELDS``, the previous row's hash
included). Without the key nobody can write a row that verifies, so an edited,
inserted, reordered or deleted row is found by :func:`verify`; deleting the newest rows
is found against a :class:`Checkpoint` of the chain's head kept somewhere else.

The key lives in the OS keyring (service ``anchor-tui``, entry ``audit-key <database>``)
or, where no keyring backend exists, in the environment variable ``ANCHOR_AUDIT_KEY``:
never in a file. An embedded (SQLite) database's empty chain on a machine with a
keyring gets a random key stored there. A shared (PostgreSQL) database needs the same
key on every terminal, so it is never made behind anyone's back: one terminal makes it
(``anchor-tui audit key-new``, which prints it once), the others store it
(``anchor-tui audit key-set``) or get it in ``ANCHOR_AUDIT_KEY``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from anchor_tui.db.engine import KEYRING_SERVICE, keyring_key
from anchor_tui.db.models import AuditEvent
from anchor_tui.db.types import utcnow
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.settings import demo_sqlite_url

KEY_ENV = "ANCHOR_AUDIT_KEY"
"""Environment variable holding the audit key where no OS keyring exists."""
MIN_KEY_LENGTH = 16
GENESIS = "0" * 64
"""The ``prev_hash`` of the first row."""
CHAIN_FIELDS = ("id", "at", "actor_id", "action", "purpose", "huddle_id", "person_id",
                "object_type", "object_id", "policy_hash", "rule_ids", "consent_ids",
                "prev_hash")
"""The fields the hash covers, in this order."""
DEMO_KEY = b"anchor-tui demo audit key: public, for the demo database only"
"""The key of ``anchor-tui demo``'s own database when no other is set (synthetic data)."""


class AuditKeyError(AnchorError):
    """No audit key for this database, or an unusable one."""

    title = "No audit key"


# --- the key ------------------------------------------------------------------------------

def database_id(url: URL) -> str:
    """Which database a key belongs to: the SQLite file, or user@host:port/db."""
    if url.get_backend_name() == "sqlite":
        return "sqlite:" + str(Path(url.database or "").expanduser().resolve())
    return keyring_key(url)


def keyring_entry(url: URL) -> str:
    return f"audit-key {database_id(url)}"


_KEYRING_KEYS: dict[str, bytes] = {}
"""Keys read from the keyring in this process (memory only), by database."""


def _checked(value: str, where: str) -> bytes:
    if len(value) < MIN_KEY_LENGTH:
        raise AuditKeyError(
            f"The audit key in {where} is shorter than {MIN_KEY_LENGTH} characters.",
            "Use a long random secret, e.g. the output of: python -c "
            "'import secrets; print(secrets.token_hex(32))'",
        )
    return value.encode("utf-8")


def audit_key(url: URL, *, create: bool = False) -> bytes:
    """The HMAC key of the database at ``url``: keyring first, then ``ANCHOR_AUDIT_KEY``.

    With ``create`` (an empty chain) and a keyring available but holding no key, a new
    random key is stored in the keyring. Raises :class:`AuditKeyError` with the fix.
    """
    entry = keyring_entry(url)
    if entry in _KEYRING_KEYS:
        return _KEYRING_KEYS[entry]
    import keyring
    import keyring.errors

    stored: str | None = None
    has_keyring = True
    try:
        stored = keyring.get_password(KEYRING_SERVICE, entry)
    except keyring.errors.KeyringError:
        has_keyring = False
    if stored:
        _KEYRING_KEYS[entry] = _checked(stored, "the OS keyring")
        return _KEYRING_KEYS[entry]
    env = os.environ.get(KEY_ENV)
    if env:
        return _checked(env, KEY_ENV)
    if database_id(url) == database_id(make_url(demo_sqlite_url())):
        return DEMO_KEY  # the demo's synthetic week, like its passphrase: public
    if create and has_keyring:
        fresh = new_key()
        try:
            keyring.set_password(KEYRING_SERVICE, entry, fresh)
        except keyring.errors.KeyringError:
            pass
        else:
            _KEYRING_KEYS[entry] = fresh.encode("utf-8")
            return _KEYRING_KEYS[entry]
    raise AuditKeyError(
        f"There is no audit key for {database_id(url)}, so nothing can be recorded or "
        "shown.",
        "Store the team's audit key (the same on every terminal of this database) with: "
        f"anchor-tui audit key-set, or set {KEY_ENV}. For a new database, make one first "
        "with: anchor-tui audit key-new",
    )


def new_key() -> str:
    """A fresh random audit key (64 hex characters)."""
    return secrets.token_hex(32)


def key_fits(backend: Backend, key: bytes) -> bool | None:
    """Whether ``key`` verifies the chain's first row (None: the chain is empty)."""
    with backend.sessions.system("audit: check a key") as session:
        first = session.scalars(select(AuditEvent).order_by(AuditEvent.id).limit(1)).first()
        if first is None:
            return None
        return hmac.compare_digest(first.hash or "", row_hash(key, fields_of(first)))


def check_key(value: str) -> bytes:
    """``value`` as a key, or :class:`AuditKeyError` saying why it cannot be one."""
    return _checked(value, "the key given")


def store_key(url: URL, value: str) -> None:
    """Store ``value`` as the audit key of ``url`` in the OS keyring."""
    import keyring
    import keyring.errors

    check_key(value)
    entry = keyring_entry(url)
    try:
        keyring.set_password(KEYRING_SERVICE, entry, value)
    except keyring.errors.KeyringError as exc:
        raise AuditKeyError(
            "No OS keyring is available to store the audit key.",
            f"Set the environment variable {KEY_ENV} on this terminal instead.",
        ) from exc
    _KEYRING_KEYS.pop(entry, None)


# --- the chain --------------------------------------------------------------------------

def _text(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return value


def row_hash(key: bytes, fields: dict[str, Any]) -> str:
    """The HMAC of one row's chain fields (``prev_hash`` included)."""
    canonical = json.dumps([[name, _text(fields[name])] for name in CHAIN_FIELDS],
                           separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, b"anchor-audit-v1\n" + canonical.encode("ascii"),
                    hashlib.sha256).hexdigest()


def fields_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in CHAIN_FIELDS}


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment: kept outside the database (printed, mailed)."""

    database: str
    last_id: int
    hash: str
    rows: int
    written_at: str

    def to_json(self) -> str:
        return json.dumps({"database": self.database, "last_id": self.last_id,
                           "hash": self.hash, "rows": self.rows,
                           "written_at": self.written_at}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> Checkpoint:
        try:
            data = json.loads(text)
            return cls(str(data["database"]), int(data["last_id"]), str(data["hash"]),
                       int(data["rows"]), str(data["written_at"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise AnchorError(f"{source} is not an audit checkpoint.",
                              "Give the file written by: anchor-tui audit checkpoint FILE"
                              ) from exc


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`. ``bad_id`` is the first row that fails."""

    rows: int
    last_id: int | None
    last_hash: str | None
    bad_id: int | None = None
    problem: str = ""
    wrong_key: bool = False
    """The first row fails and no later row verifies either: most likely the key is not
    this database's (a tampered trail and a wrong key look alike there)."""

    @property
    def ok(self) -> bool:
        return self.bad_id is None


class _Unreadable(Exception):
    """A row whose stored values cannot be read back (SQLite stores anything)."""

    def __init__(self, event_id: int | None) -> None:
        super().__init__(event_id)
        self.event_id = event_id


def _readable(session: Session, events: Iterable[AuditEvent]) -> Iterator[AuditEvent]:
    """``events``, stopping with :class:`_Unreadable` (naming the row) at one that a
    change left unreadable, e.g. a timestamp that is not one."""
    iterator = iter(events)
    after = 0
    while True:
        try:
            event = next(iterator)
        except StopIteration:
            return
        except _UNREADABLE as exc:
            raise _Unreadable(_first_unreadable(session, after)) from exc
        after = event.id
        yield event


_UNREADABLE = (ValueError, TypeError, OverflowError)


def _first_unreadable(session: Session, after: int) -> int | None:
    """Rows are read in batches: find the one after ``after`` that cannot be read."""
    session.expunge_all()
    ids = session.scalars(select(AuditEvent.id).where(AuditEvent.id > after)
                          .order_by(AuditEvent.id)).all()
    for event_id in ids:
        try:
            session.execute(select(AuditEvent).where(AuditEvent.id == event_id)).one()
        except _UNREADABLE:
            return event_id
    return None


def verify(backend: Backend, checkpoint: Checkpoint | None = None) -> Verification:
    """Recompute every row's hash in id order; report the first row that fails.

    With ``checkpoint``, the row it names must still be there with the same hash (so
    deleting the newest rows is found too). A row whose values cannot even be read back
    counts as changed.
    """
    try:
        return _verify(backend, checkpoint)
    except _Unreadable as unreadable:
        return Verification(0, None, None, unreadable.event_id or 0, (
            f"row {unreadable.event_id} was changed after it was written (its values "
            "cannot be read)"))


def _verify(backend: Backend, checkpoint: Checkpoint | None) -> Verification:
    """Recompute every row's hash in id order; report the first row that fails.

    With ``checkpoint``, the row it names must still be there with the same hash (so
    deleting the newest rows is found too).
    """
    url = backend.engine.url
    if checkpoint is not None and checkpoint.database != database_id(url):
        raise AnchorError(f"The checkpoint is of another database ({checkpoint.database}).",
                          f"Give the checkpoint written for {database_id(url)}.")
    rows = 0
    prev = GENESIS
    last_id: int | None = None
    key: bytes | None = None
    seen_checkpoint = False
    with backend.sessions.system("audit verify") as session:
        events = session.scalars(
            select(AuditEvent).order_by(AuditEvent.id).execution_options(yield_per=2000))
        for event in _readable(session, events):
            key = key or audit_key(url)
            rows += 1
            if event.prev_hash != prev:
                return Verification(rows, last_id, prev, event.id, (
                    f"row {event.id} does not follow "
                    f"{'the start' if last_id is None else f'row {last_id}'}: a row before "
                    "it was deleted, inserted or moved"))
            if not hmac.compare_digest(event.hash or "", row_hash(key, fields_of(event))):
                if last_id is None and not _next_row_verifies(session, key, event.id):
                    return Verification(rows, last_id, prev, event.id, (
                        f"row {event.id}, the first, does not verify under this key, nor "
                        "does the next: the key is not this database's audit key, or "
                        "the rows were changed"), wrong_key=True)
                return Verification(rows, last_id, prev, event.id,
                                    f"row {event.id} was changed after it was written")
            if checkpoint is not None and event.id == checkpoint.last_id:
                if event.hash != checkpoint.hash:
                    return Verification(rows, last_id, prev, event.id,
                                        f"row {event.id} differs from the checkpoint")
                seen_checkpoint = True
            prev = event.hash or ""
            last_id = event.id
    if checkpoint is not None and not seen_checkpoint:
        first_missing = (last_id or 0) + 1 if (last_id or 0) < checkpoint.last_id \
            else checkpoint.last_id
        return Verification(rows, last_id, prev, first_missing, (
            f"rows up to {checkpoint.last_id} were in the checkpoint of "
            f"{checkpoint.written_at}, but the chain ends at {last_id or 'nothing'}: "
            "the newest rows were deleted"))
    return Verification(rows, last_id, None if last_id is None else prev)


def _next_row_verifies(session: Session, key: bytes, after: int) -> bool:
    """Whether the row after ``after`` verifies under ``key`` (then the key is right)."""
    following = session.scalars(select(AuditEvent).where(AuditEvent.id > after)
                                .order_by(AuditEvent.id).limit(1)).first()
    return following is not None and hmac.compare_digest(
        following.hash or "", row_hash(key, fields_of(following)))


def checkpoint(backend: Backend) -> Checkpoint:
    """The chain's head after verifying the whole chain (a broken chain is refused)."""
    result = verify(backend)
    if not result.ok:
        raise AnchorError(f"The audit trail does not verify: {result.problem}.",
                          "Investigate before writing a checkpoint: anchor-tui audit verify")
    return Checkpoint(database_id(backend.engine.url), result.last_id or 0,
                      result.last_hash or GENESIS, result.rows, utcnow().isoformat())
