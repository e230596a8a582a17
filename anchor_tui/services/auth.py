"""Signing in: argon2id verification, a growing wait and a lockout after wrong passphrases.

Every check of a passphrase (signing in, unlocking the terminal, joining a huddle) goes
through :func:`authenticate`, so the same rules hold wherever a passphrase is typed:

- a wrong passphrase makes the account wait before the next try (``retry_after``), the
  wait doubling with each further wrong one (``sign_in.retry_delay_seconds``);
- a try during the wait is refused without checking the passphrase at all, and counts as
  a wrong one (so nobody can test passphrases faster than the waits allow);
- after ``sign_in.max_failed_attempts`` the account locks for ``lockout_seconds``, which
  is audited (``account.locked``) next to each failed attempt (``sign_in.failed``).

The wait is kept in the database, so it holds on every terminal and across restarts.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor_tui.db.models import User
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError, SignInError
from anchor_tui.services import audit
from anchor_tui.services.audit_chain import audit_key
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import hash_passphrase, needs_rehash, verify_passphrase

_WRONG = "Wrong username or passphrase."
_CHECK = "Check the username and try again."


TIMING_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$T+wlifUnYToULwRZlwXI2A"
               "$tnFGcXJxXE0Ivt3DnhRzKJfryqobcVIiR7u0Uypum8g")
"""An argon2id hash, with the hasher's parameters, of a random passphrase nobody kept:
verified when the username is unknown, so that a wrong name takes as long as a wrong
passphrase. Verifying costs what the parameters written in the hash say, so this one
times exactly like one made at start, without making one at every launch (a fifth of
a second of CPU and 64 MiB while the person signs in). If the hasher's parameters
change (a newer argon2-cffi), ``_dummy_hash`` makes one with the new ones instead."""

_DUMMY: list[str] = []
_DUMMY_LOCK = threading.Lock()


def _dummy_hash() -> str:
    """The hash verified for unknown usernames (``TIMING_HASH``), or, when the hasher's
    parameters are not the ones it was made with, one made once with them. Made only
    then, never at import (hashing costs a noticeable part of a second and 64 MiB,
    before the first screen could be drawn): ``prepare()`` makes it while the sign-in
    screen is shown, or the first sign-in does, before the username is looked up, so
    that first attempt costs the same either way. One thread makes it; another that
    needs it meanwhile waits rather than making a second one."""
    with _DUMMY_LOCK:
        if not _DUMMY:
            _DUMMY.append(TIMING_HASH if not needs_rehash(TIMING_HASH)
                          else hash_passphrase("not a real passphrase, only for timing"))
        return _DUMMY[0]


def prepare(backend: Backend) -> None:
    """Make the first sign-in as fast as the next ones (call it off the UI thread): the
    hash for unknown usernames, the user query, the audit key. Changes nothing; a
    problem (no audit key) is left for the sign-in itself to report."""
    _dummy_hash()
    with backend.sessions.system("sign-in: prepare") as session:
        session.scalars(select(User.id).where(User.username == "")).first()
    with contextlib.suppress(AnchorError):
        audit_key(backend.engine.url)

Verified = Callable[[Session, Viewer], None]
"""What to record, in the check's own unit of work, once the passphrase is right."""


def viewer_for(user: User) -> Viewer:
    return Viewer(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        profession=user.profession,
        role=user.role,
    )


def _seconds_until(moment: dt.datetime, now: dt.datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def wait_words(seconds: float) -> str:
    """``4 s`` or ``2 min``: how long to wait, as the screen says it."""
    whole = max(1, math.ceil(seconds))
    return f"{whole} s" if whole < 120 else f"{math.ceil(whole / 60)} min"


def authenticate(backend: Backend, username: str, passphrase: str,
                 now: dt.datetime | None = None, *,
                 verified: Verified | None = None) -> Viewer:
    """Check a passphrase under the waiting and lockout rules; the person's viewer.

    Raises :class:`SignInError` with a message fit for the shared screen and, where a
    wait follows, ``retry_in``. ``verified`` records the success (an audit event) in the
    same unit of work that resets the counters.
    """
    now = now or utcnow()
    dummy = _dummy_hash()
    rules = backend.team.sign_in
    refusal: SignInError | None = None
    # A refusal is raised only after the unit of work commits, so the failed attempt
    # (counter, wait, lockout and audit events) is kept.
    with backend.sessions.system("sign-in") as session:
        user = session.scalars(select(User).where(User.username == username.strip())).first()
        if user is None:
            verify_passphrase(dummy, passphrase)
            refusal = SignInError(_WRONG, _CHECK, retry_in=rules.retry_delay(1))
        elif user.locked_until is not None and user.locked_until > now:
            refusal = SignInError(
                "This account is locked after too many wrong passphrases.",
                f"Try again in {wait_words((user.locked_until - now).total_seconds())}, "
                "or ask an admin to reset the passphrase.",
                retry_in=_seconds_until(user.locked_until, now),
            )
        elif user.retry_after is not None and user.retry_after > now:
            refusal = _failed(session, backend, user, now, early=True)
        elif not verify_passphrase(user.passphrase_hash, passphrase):
            refusal = _failed(session, backend, user, now, early=False)
        elif not user.active:
            refusal = SignInError("This account is deactivated.", "Ask an admin of the team.")
        if refusal is not None:
            audit.sign_in_failed(session, backend, user.id if user is not None else None)
        else:
            assert user is not None
            user.failed_sign_ins = 0
            user.locked_until = None
            user.retry_after = None
            if needs_rehash(user.passphrase_hash):
                user.passphrase_hash = hash_passphrase(passphrase)
            viewer = viewer_for(user)
            if verified is not None:
                verified(session, viewer)
    if refusal is not None:
        raise refusal
    return viewer


def _failed(session: Session, backend: Backend, user: User, now: dt.datetime, *,
            early: bool) -> SignInError:
    """Count a wrong (or too early) try: a longer wait, or the lockout."""
    rules = backend.team.sign_in
    user.failed_sign_ins += 1
    if user.failed_sign_ins >= rules.max_failed_attempts:
        user.locked_until = now + dt.timedelta(seconds=rules.lockout_seconds)
        user.failed_sign_ins = 0
        user.retry_after = None
        audit.account_locked(session, backend, user.id)
        return SignInError(
            "Too many wrong passphrases: this account is now locked.",
            f"Try again in {wait_words(rules.lockout_seconds)}, or ask an admin to reset "
            "the passphrase.",
            retry_in=rules.lockout_seconds,
        )
    wait = rules.retry_delay(user.failed_sign_ins)
    user.retry_after = now + dt.timedelta(seconds=wait) if wait else None
    if early:
        return SignInError("That was too soon after a wrong passphrase.",
                           f"Wait {wait_words(wait)}, then try again.", retry_in=wait)
    fix = f"Check the username and try again in {wait_words(wait)}." if wait else _CHECK
    return SignInError(_WRONG, fix, retry_in=wait)


def sign_in(backend: Backend, username: str, passphrase: str,
            now: dt.datetime | None = None) -> Viewer:
    """Verify a passphrase and return the viewer for an individual session (audited)."""
    return authenticate(backend, username, passphrase, now,
                        verified=lambda session, viewer: audit.signed_in(session, backend,
                                                                         viewer))
