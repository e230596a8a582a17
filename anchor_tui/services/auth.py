"""Signing in: argon2id verification, slow-down and lockout after wrong passphrases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from anchor_tui.db.models import User
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import SignInError
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import hash_passphrase, needs_rehash, verify_passphrase

_WRONG = "Wrong username or passphrase."
# Verified when the username is unknown, so a wrong name takes as long as a wrong passphrase.
_DUMMY_HASH = hash_passphrase("not a real passphrase, only for timing")


def viewer_for(user: User) -> Viewer:
    return Viewer(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        profession=user.profession,
        role=user.role,
    )


def sign_in(backend: Backend, username: str, passphrase: str,
            now: dt.datetime | None = None) -> Viewer:
    """Verify a passphrase and return the viewer for an individual session.

    Raises :class:`SignInError` with a message fit for the shared screen.
    """
    now = now or utcnow()
    rules = backend.team.sign_in
    refusal: SignInError | None = None
    # A refusal is raised only after the unit of work commits, so the failed attempt
    # (counter, lockout and audit event) is kept.
    with backend.sessions.system("sign-in") as session:
        user = session.scalars(select(User).where(User.username == username.strip())).first()
        if user is None:
            verify_passphrase(_DUMMY_HASH, passphrase)
            refusal = SignInError(_WRONG, "Check the username and try again.")
        elif user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            refusal = SignInError(
                "This account is locked after too many wrong passphrases.",
                f"Try again in {minutes} min, or ask an admin to reset the passphrase.",
            )
        elif not verify_passphrase(user.passphrase_hash, passphrase):
            user.failed_sign_ins += 1
            refusal = SignInError(_WRONG, "Check the username and try again.")
            if user.failed_sign_ins >= rules.max_failed_attempts:
                user.locked_until = now + dt.timedelta(seconds=rules.lockout_seconds)
                user.failed_sign_ins = 0
                refusal = SignInError(
                    "Too many wrong passphrases: this account is now locked.",
                    f"Try again in {max(1, rules.lockout_seconds // 60)} min.",
                )
        elif not user.active:
            refusal = SignInError("This account is deactivated.", "Ask an admin of the team.")
        if refusal is not None:
            audit.sign_in_failed(session, backend, user.id if user is not None else None)
        else:
            assert user is not None
            user.failed_sign_ins = 0
            user.locked_until = None
            if needs_rehash(user.passphrase_hash):
                user.passphrase_hash = hash_passphrase(passphrase)
            viewer = viewer_for(user)
            audit.signed_in(session, backend, viewer)
    if refusal is not None:
        raise refusal
    return viewer
