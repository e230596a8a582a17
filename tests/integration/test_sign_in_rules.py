"""Sign-in on SQLite and PostgreSQL: the growing wait after wrong passphrases, the lockout
(audited), and what the lock screen's passphrase does (unlock, or take over)."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.errors import SignInError
from anchor_tui.services import huddle as service
from anchor_tui.services.auth import sign_in
from anchor_tui.services.passphrase import needs_rehash, verify_passphrase
from anchor_tui.services.session_state import TerminalSession, unlock
from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, HuddleWorld, build, make_backend


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def later(seconds: float) -> dt.datetime:
    return NOW + dt.timedelta(seconds=seconds)


def user(world: HuddleWorld, name: str) -> m.User:
    with world.backend.sessions.system("test") as s:
        found = s.scalars(select(m.User).where(m.User.username == name)).one()
        s.expunge(found)
        return found


def actions(world: HuddleWorld) -> list[tuple[str, int | None]]:
    with world.backend.sessions.system("test") as s:
        return [(e.action, e.actor_id) for e in s.scalars(
            select(m.AuditEvent).order_by(m.AuditEvent.id))]


def test_each_wrong_passphrase_makes_the_next_try_wait_longer(world: HuddleWorld) -> None:
    backend = world.backend
    waits = []
    moment = 0.0
    for _ in range(4):
        with pytest.raises(SignInError, match="Wrong") as refused:
            sign_in(backend, "nurse", "wrong guess", later(moment))
        waits.append(refused.value.retry_in)
        assert user(world, "nurse").retry_after == later(moment + refused.value.retry_in)
        moment += refused.value.retry_in
    assert waits == [2, 4, 8, 16]
    assert "try again in 16 s" in str(refused.value)


def test_a_try_during_the_wait_is_refused_unchecked_and_counts(world: HuddleWorld) -> None:
    backend = world.backend
    with pytest.raises(SignInError, match="Wrong"):
        sign_in(backend, "nurse", "wrong guess", later(0))
    with pytest.raises(SignInError, match="too soon") as early:
        sign_in(backend, "nurse", PASSPHRASE, later(1))  # even the right one must wait
    assert early.value.retry_in == 4 and user(world, "nurse").failed_sign_ins == 2
    viewer = sign_in(backend, "nurse", PASSPHRASE, later(6))
    assert viewer.username == "nurse"
    nurse = user(world, "nurse")
    assert (nurse.failed_sign_ins, nurse.retry_after, nurse.locked_until) == (0, None, None)


def test_the_account_locks_after_the_configured_number_and_it_is_audited(
        world: HuddleWorld) -> None:
    backend = world.backend
    rules = backend.team.sign_in
    moment = 0.0
    attempts = rules.max_failed_attempts
    for _ in range(attempts):
        with pytest.raises(SignInError) as refused:
            sign_in(backend, "police", "wrong guess", later(moment))
        moment += refused.value.retry_in
    assert "now locked" in refused.value.message
    assert refused.value.retry_in == rules.lockout_seconds
    assert "Try again in 5 min" in refused.value.fix
    police = user(world, "police")
    assert police.locked_until == later(moment)  # 2 + 4 + 8 + 16 s, then 5 min
    with pytest.raises(SignInError, match="is locked"):
        sign_in(backend, "police", PASSPHRASE, later(moment - 1))
    assert sign_in(backend, "police", PASSPHRASE, later(moment)).username == "police"
    police_id = police.id
    assert actions(world).count(("account.locked", police_id)) == 1
    assert actions(world).count(("sign_in.failed", police_id)) == attempts + 1
    assert actions(world)[-1] == ("sign_in", police_id)


@pytest.mark.parametrize("old", [
    PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1),  # weaker parameters
    PasswordHasher(type=Type.I),  # another argon2 variant
], ids=["weaker", "argon2i"])
def test_a_hash_of_other_parameters_is_renewed_at_the_next_sign_in(
        world: HuddleWorld, old: PasswordHasher) -> None:
    backend = world.backend
    with backend.sessions.system("test: an old hash") as s:
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        nurse.passphrase_hash = old.hash(PASSPHRASE)
    stale = user(world, "nurse").passphrase_hash
    with pytest.raises(SignInError):
        sign_in(backend, "nurse", "wrong guess", later(0))
    assert user(world, "nurse").passphrase_hash == stale  # a wrong one changes nothing
    assert sign_in(backend, "nurse", PASSPHRASE, later(10)).username == "nurse"
    renewed = user(world, "nurse").passphrase_hash
    assert renewed != stale and renewed.startswith("$argon2id$")
    assert not needs_rehash(renewed)
    assert verify_passphrase(renewed, PASSPHRASE)
    assert sign_in(backend, "nurse", PASSPHRASE, later(20)).username == "nurse"
    assert user(world, "nurse").passphrase_hash == renewed  # renewed once, not each time


def test_the_lock_screen_unlocks_for_the_same_person_and_hands_over_to_another(
        world: HuddleWorld) -> None:
    backend = world.backend
    social = world.viewers["social"]
    session = TerminalSession(person=social, locked=True)
    with pytest.raises(SignInError):
        unlock(backend, session, "social", "wrong guess", later(0))
    result = unlock(backend, session, "social", PASSPHRASE, later(3))
    assert result.same and result.viewer.user_id == social.user_id
    result = unlock(backend, session, "youth", PASSPHRASE, later(4))
    assert not result.same and result.viewer.username == "youth"
    youth = world.viewers["youth"].user_id
    assert actions(world)[-3:] == [("unlock", social.user_id), ("sign_out", social.user_id),
                                   ("sign_in", youth)]


def test_in_a_huddle_anyone_present_unlocks(world: HuddleWorld) -> None:
    backend = world.backend
    roster = service.start_huddle(backend, world.viewers["social"], TODAY, NOW)
    viewer = service.huddle_viewer(roster, world.viewers["social"])
    roster = service.join_huddle(backend, viewer, "nurse", PASSPHRASE, TODAY, later(60))
    session = TerminalSession(person=world.viewers["social"], roster=roster, locked=True)
    result = unlock(backend, session, "nurse", PASSPHRASE, later(120))
    assert result.same
    with backend.sessions.system("test") as s:
        event = s.scalars(select(m.AuditEvent).where(m.AuditEvent.action == "unlock")).one()
        assert (event.actor_id, event.purpose, event.huddle_id) == (
            world.viewers["nurse"].user_id, "huddle", roster.huddle_id)
    assert not unlock(backend, session, "police", PASSPHRASE, later(130)).same
