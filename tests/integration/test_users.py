"""User administration on SQLite and PostgreSQL: validation, passphrases, deactivation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db.models import User
from anchor_tui.errors import AnchorError, SignInError
from anchor_tui.policy import load_policy
from anchor_tui.services.auth import sign_in
from anchor_tui.services.backend import Backend
from anchor_tui.services.users import (
    add_user,
    deactivate,
    ensure_team_users,
    get_user,
    list_users,
    set_passphrase,
)
from anchor_tui.settings import DEMO_PASSPHRASE, load_settings

PASSPHRASE = "tuuli puhaltaa mereltä"


def _backend(engine: Engine, config_dir: Path | None = None) -> Backend:
    settings = load_settings(engine.url.render_as_string(hide_password=False),
                             str(config_dir) if config_dir else None)
    return Backend.from_engine(engine, load_policy(settings.policy_path, team=settings.team),
                               settings.team)


@pytest.fixture
def backend(engine: Engine) -> Iterator[Backend]:
    yield _backend(engine)


def test_added_user_is_listed_and_signs_in(backend: Backend) -> None:
    info = add_user(backend, "aino.k", "Aino Korhonen", "youth_work", "member", PASSPHRASE)
    assert (info.username, info.profession, info.role, info.active) == (
        "aino.k", "youth_work", "member", True)
    assert [u.username for u in list_users(backend)] == ["aino.k"]
    viewer = sign_in(backend, "aino.k", PASSPHRASE)
    assert viewer.profession == "youth_work"
    assert viewer.display_name == "Aino Korhonen"
    with backend.sessions.system("test") as s:
        stored = s.scalars(select(User.passphrase_hash)).one()
    assert PASSPHRASE not in stored and stored.startswith("$argon2id$")


@pytest.mark.parametrize(
    ("username", "display_name", "profession", "role", "passphrase", "problem"),
    [
        ("Ai no", "Aino", "police", "member", PASSPHRASE, "not a valid username"),
        ("", "Aino", "police", "member", PASSPHRASE, "not a valid username"),
        ("aino", "  ", "police", "member", PASSPHRASE, "display name"),
        ("aino", "Aino\x1b[2J", "police", "member", PASSPHRASE, "display name"),
        ("aino", "Aino", "chef", "member", PASSPHRASE, "not a profession of this team"),
        ("aino", "Aino", "police", "boss", PASSPHRASE, "not a role"),
        ("aino", "Aino", "police", "member", "short", "shorter than 8"),
    ],
)
def test_invalid_users_are_refused_with_a_fix(
    backend: Backend, username: str, display_name: str, profession: str, role: str,
    passphrase: str, problem: str,
) -> None:
    with pytest.raises(AnchorError) as caught:
        add_user(backend, username, display_name, profession, role, passphrase)
    assert problem in caught.value.message
    assert caught.value.fix
    assert list_users(backend) == []


def test_username_must_be_unique(backend: Backend) -> None:
    add_user(backend, "sanna", "Sanna Koivisto", "social_work", "lead", PASSPHRASE)
    with pytest.raises(AnchorError, match="already taken") as caught:
        add_user(backend, "sanna", "Sanna Virtanen", "police", "member", PASSPHRASE)
    assert "user passwd sanna" in caught.value.fix
    assert len(list_users(backend)) == 1


def test_profession_must_be_in_this_team(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "anchor.yaml").write_text(
        "professions: [police, social_work, youth_work]\nnote_templates: []\n", encoding="utf-8")
    backend = _backend(engine, tmp_path)
    with pytest.raises(AnchorError, match="'health' is not a profession") as caught:
        add_user(backend, "riikka", "Riikka Heinonen", "health", "member", PASSPHRASE)
    assert "police, social_work, youth_work" in caught.value.fix


def test_new_passphrase_replaces_the_old_and_ends_a_lockout(backend: Backend) -> None:
    add_user(backend, "mikko", "Mikko Lahtinen", "police", "member", PASSPHRASE)
    with backend.sessions.system("test") as s:
        user = s.scalars(select(User)).one()
        user.locked_until = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        user.failed_sign_ins = 3
    assert list_users(backend)[0].locked
    set_passphrase(backend, "mikko", "uusi pitkä lause")
    assert not list_users(backend)[0].locked
    assert sign_in(backend, "mikko", "uusi pitkä lause").username == "mikko"
    with pytest.raises(SignInError):
        sign_in(backend, "mikko", PASSPHRASE)
    with pytest.raises(AnchorError, match="shorter"):
        set_passphrase(backend, "mikko", "lyhyt")
    with pytest.raises(AnchorError, match="no user 'nobody'"):
        set_passphrase(backend, "nobody", PASSPHRASE)


def test_deactivated_user_cannot_sign_in(backend: Backend) -> None:
    add_user(backend, "jussi", "Jussi Peltonen", "youth_work", "member", PASSPHRASE)
    assert deactivate(backend, "jussi") is True
    assert deactivate(backend, "jussi") is False
    assert list_users(backend)[0].active is False
    assert get_user(backend, "jussi").active is False
    with pytest.raises(SignInError, match="deactivated"):
        sign_in(backend, "jussi", PASSPHRASE)
    with pytest.raises(AnchorError, match="no user"):
        deactivate(backend, "nobody")


def test_team_users_are_created_once(backend: Backend) -> None:
    first, created = ensure_team_users(backend, DEMO_PASSPHRASE)
    assert created == 6
    again, created_again = ensure_team_users(backend, "a different passphrase")
    assert created_again == 0 and again == first
    assert sign_in(backend, "auditor", DEMO_PASSPHRASE).role == "auditor"
