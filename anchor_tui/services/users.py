"""User administration: add, list, change a passphrase, deactivate.

Administrative commands, so they use a *system* session that names its reason. Every
problem a person can fix is an :class:`AnchorError` with the fix; passphrases are
hashed with argon2id and never stored, logged or echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from anchor_tui.db.models import ROLES, User
from anchor_tui.db.types import utcnow
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import MIN_LENGTH, hash_passphrase
from anchor_tui.services.seed_names import STAFF
from anchor_tui.settings import DEMO_USERS

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""Lowercase letters, digits, dot, dash and underscore; at most 64 characters."""


@dataclass(frozen=True)
class UserInfo:
    """A user as the command line lists them (never the passphrase hash)."""

    id: int
    username: str
    display_name: str
    profession: str
    role: str
    active: bool
    locked: bool


def _info(user: User) -> UserInfo:
    locked = user.locked_until is not None and user.locked_until > utcnow()
    return UserInfo(user.id, user.username, user.display_name, user.profession, user.role,
                    user.active, locked)


def check_passphrase(passphrase: str) -> None:
    """Raise when a new passphrase is too short."""
    if len(passphrase) < MIN_LENGTH:
        raise AnchorError(
            f"The passphrase is shorter than {MIN_LENGTH} characters.",
            f"Choose a passphrase of at least {MIN_LENGTH} characters (a few words work well).",
        )


def check_new_user(backend: Backend, username: str, display_name: str, profession: str,
                   role: str) -> None:
    """Raise :class:`AnchorError` unless ``add_user`` would accept these (before asking the
    passphrase, so nobody types one twice for nothing)."""
    username = username.strip()
    display_name = display_name.strip()
    if not USERNAME.fullmatch(username):
        raise AnchorError(
            f"'{username[:64]}' is not a valid username.",
            "Use lowercase letters, digits, '.', '-' or '_' (at most 64 characters).",
        )
    if not display_name or len(display_name) > 200 \
            or any(not ch.isprintable() for ch in display_name):
        raise AnchorError(
            "The display name must be 1 to 200 printable characters.",
            "Give the person's name as the team knows it, e.g. --display-name 'Sanna Koivisto'.",
        )
    professions = backend.team.professions
    if profession not in professions:
        raise AnchorError(
            f"'{profession}' is not a profession of this team.",
            f"Use one of: {', '.join(professions)} (anchor.yaml lists the team's professions).",
        )
    if role not in ROLES:
        raise AnchorError(f"'{role}' is not a role.", f"Use one of: {', '.join(ROLES)}.")
    with backend.sessions.system("user admin: check") as session:
        if session.scalars(select(User.id).where(User.username == username)).first():
            raise _taken(username)


def _taken(username: str) -> AnchorError:
    return AnchorError(
        f"The username '{username}' is already taken.",
        "Choose another username, or change that user's passphrase with: "
        f"anchor-tui user passwd {username}",
    )


def add_user(backend: Backend, username: str, display_name: str, profession: str,
             role: str, passphrase: str) -> UserInfo:
    """Create an active user. Raises :class:`AnchorError` for anything invalid."""
    check_new_user(backend, username, display_name, profession, role)
    check_passphrase(passphrase)
    username = username.strip()
    with backend.sessions.system("user admin: add") as session:
        user = User(username=username, display_name=display_name.strip(),
                    profession=profession, role=role,
                    passphrase_hash=hash_passphrase(passphrase), active=True,
                    failed_sign_ins=0)
        session.add(user)
        try:
            session.flush()
        except IntegrityError as exc:  # created by someone else in the meantime
            raise _taken(username) from exc
        return _info(user)


def get_user(backend: Backend, username: str) -> UserInfo:
    """One user; :class:`AnchorError` when there is none of that name."""
    with backend.sessions.system("user admin: get") as session:
        return _info(_find(session, username))


def list_users(backend: Backend) -> list[UserInfo]:
    """Every user, by username."""
    with backend.sessions.system("user admin: list") as session:
        return [_info(u) for u in session.scalars(select(User).order_by(User.username))]


def _find(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise AnchorError(f"There is no user '{username.strip()[:64]}'.",
                          "List the users with: anchor-tui user list")
    return user


def set_passphrase(backend: Backend, username: str, passphrase: str) -> None:
    """Replace a user's passphrase; also clears a lockout after wrong passphrases."""
    check_passphrase(passphrase)
    with backend.sessions.system("user admin: passwd") as session:
        user = _find(session, username)
        user.passphrase_hash = hash_passphrase(passphrase)
        user.failed_sign_ins = 0
        user.locked_until = None
        user.retry_after = None


def deactivate(backend: Backend, username: str) -> bool:
    """Stop a user from signing in (their notes stay). False if already inactive."""
    with backend.sessions.system("user admin: deactivate") as session:
        user = _find(session, username)
        if not user.active:
            return False
        user.active = False
        return True


def ensure_team_users(backend: Backend, passphrase: str) -> tuple[dict[str, tuple[int, str]], int]:
    """The demo/seed team users, username -> (id, profession); creates those missing.

    Only professions present in the team get their user; the lead and the auditor are
    social workers, or of the team's first profession where there is no social work.
    The passphrase is hashed once (argon2 is slow on purpose) and shared.
    """
    professions = backend.team.professions
    wanted: dict[str, tuple[str, str, str]] = {}
    for username in DEMO_USERS:
        if username not in STAFF:
            continue
        display_name, profession, role = STAFF[username]
        if role != "member" and profession not in professions:
            profession = professions[0]
        if profession in professions:
            wanted[username] = (display_name, profession, role)
    with backend.sessions.system("seed: team users") as session:
        existing = {
            user.username: user
            for user in session.scalars(select(User).where(User.username.in_(list(wanted))))
        }
        missing = [name for name in wanted if name not in existing]
        if missing:
            digest = hash_passphrase(passphrase)
            for username in missing:
                display_name, profession, role = wanted[username]
                user = User(username=username, display_name=display_name,
                            profession=profession, role=role, passphrase_hash=digest,
                            active=True, failed_sign_ins=0)
                session.add(user)
                existing[username] = user
            session.flush()
        team = {name: (existing[name].id, existing[name].profession) for name in wanted}
    return team, len(missing)
