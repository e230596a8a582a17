"""A consent recorded or withdrawn again after its commit's answer was lost, on SQLite
and PostgreSQL.

The save queue makes a save again when it raised ``ConnectionLostError``; the first
attempt may have reached the server all the same (the connection cut as it committed).
Recording a consent writes the moment the person saved it as its recorded time, and a
withdrawal the moment they confirmed it as its withdrawn time, the same for every
attempt; :func:`recorded_at` and :func:`withdrawn_at` find what the first attempt wrote
(``saving.made_once``): the second attempt records no second consent, and a person's
own withdrawal is not refused as "already withdrawn". An older consent alike, or a
withdrawal someone else made, is never taken for it.
"""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.saving import made_once
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import utcnow
from anchor_tui.services.consents import (
    ConsentInput,
    record_consent,
    recorded_at,
    withdraw_consent,
    withdrawn_at,
)
from tests.integration.test_audit import TODAY, Team, backend_for, events, team
from tests.integration.test_queue_answer_lost import (
    made_after_a_lost_answer,
    made_after_the_server_was_away,
)

HEALTH = ConsentInput("self", "permit", "health", ("social_work", "police"),
                      TODAY - dt.timedelta(days=1), None, " signed form in the anchor meeting ")
"""One form naming two professions: two rows, one save."""


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


@pytest.fixture
def world(backend: Backend) -> Team:
    return team(backend)


def moment() -> dt.datetime:
    """When the person saved (every attempt of one save carries it): now, to the
    microsecond, so the case's membership (from 30 days ago) holds on its day."""
    return utcnow()


def consent_rows(backend: Backend) -> list[tuple[int, str, dt.datetime, int]]:
    with backend.sessions.system("test: the consents") as s:
        return [(row.id, row.receiving_profession, row.recorded_at, row.recorded_by_id)
                for row in s.scalars(select(m.Consent).order_by(m.Consent.id))]


def actions(backend: Backend, action: str) -> list[tuple[int | None, int | None]]:
    return [(e.actor_id, e.object_id) for e in events(backend) if e.action == action]


def test_a_consent_whose_answer_was_lost_is_recorded_once(backend: Backend,
                                                          world: Team) -> None:
    nurse, at = world.viewers["nurse"], moment()
    ids = made_after_a_lost_answer(
        partial(record_consent, backend, nurse, world.case_id, HEALTH, at=at),
        partial(recorded_at, backend, nurse, world.case_id, HEALTH, at))
    rows = consent_rows(backend)
    assert [(profession, when, by) for _, profession, when, by in rows] == [
        ("social_work", at, nurse.user_id), ("police", at, nurse.user_id)], (
        "the consent was recorded twice")
    assert ids == tuple(consent_id for consent_id, *_ in rows)  # as the first would have said
    assert actions(backend, "consent.record") == [(nurse.user_id, i) for i in ids]


def test_without_the_lookup_the_attempt_made_again_records_it_twice(
        backend: Backend, world: Team) -> None:
    """What the lookup is for: made again blindly, the consent is recorded twice."""
    nurse, at = world.viewers["nurse"], moment()
    made_after_a_lost_answer(
        partial(record_consent, backend, nurse, world.case_id, HEALTH, at=at),
        lambda: None)
    assert len(consent_rows(backend)) == 4


def test_an_older_consent_alike_is_not_taken_for_the_one_recorded_now(
        backend: Backend, world: Team) -> None:
    """The same person recorded the same consent before: one recorded now whose first
    attempt wrote nothing (the server away) is still recorded, at its own moment."""
    nurse, at = world.viewers["nurse"], moment()
    earlier = at - dt.timedelta(minutes=20)
    older = record_consent(backend, nurse, world.case_id, HEALTH, at=earlier)
    assert recorded_at(backend, nurse, world.case_id, HEALTH, earlier) == older
    assert recorded_at(backend, nurse, world.case_id, HEALTH, at) is None
    ids = made_after_the_server_was_away(
        partial(record_consent, backend, nurse, world.case_id, HEALTH, at=at),
        partial(recorded_at, backend, nurse, world.case_id, HEALTH, at))
    assert [when for _, _, when, _ in consent_rows(backend)] == [earlier] * 2 + [at] * 2
    assert set(ids).isdisjoint(older)
    assert recorded_at(backend, nurse, world.case_id, HEALTH, at) == ids
    # Someone else's consent, even at that moment, is not theirs; other content is not it.
    assert recorded_at(backend, world.viewers["social"], world.case_id, HEALTH, at) is None
    other = ConsentInput("guardian", HEALTH.decision, HEALTH.category, HEALTH.professions,
                         HEALTH.valid_from, HEALTH.valid_to, HEALTH.evidence)
    assert recorded_at(backend, nurse, world.case_id, other, at) is None


def test_the_record_lookup_is_for_those_who_may_handle_the_consents(
        backend: Backend, world: Team) -> None:
    """Someone not on the case learns nothing from it, not even their own old row's id."""
    nurse, youth, at = world.viewers["nurse"], world.viewers["youth"], moment()
    record_consent(backend, nurse, world.case_id, HEALTH, at=at)
    assert recorded_at(backend, youth, world.case_id, HEALTH, at) is None
    assert recorded_at(backend, nurse, world.case_id + 1000, HEALTH, at) is None


def test_a_withdrawal_whose_answer_was_lost_is_done_not_refused(backend: Backend,
                                                                world: Team) -> None:
    nurse, at = world.viewers["nurse"], moment()
    consent_id = record_consent(backend, nurse, world.case_id, HEALTH)[0]
    result = made_after_a_lost_answer(
        partial(withdraw_consent, backend, nurse, world.case_id, consent_id, now=at),
        partial(withdrawn_at, backend, nurse, world.case_id, consent_id, at))
    assert result is True  # found: the person's own withdrawal, not "already withdrawn"
    with backend.sessions.system("test: the withdrawal") as s:
        assert s.scalar(select(m.Consent.withdrawn_at).where(m.Consent.id == consent_id)) == at
    assert actions(backend, "consent.withdraw") == [(nurse.user_id, consent_id)]


def test_without_the_lookup_the_attempt_made_again_is_refused_as_already_withdrawn(
        backend: Backend, world: Team) -> None:
    """What the lookup is for: made again blindly, the person is told it was already
    withdrawn, which they did themselves."""
    nurse, at = world.viewers["nurse"], moment()
    consent_id = record_consent(backend, nurse, world.case_id, HEALTH)[0]
    with pytest.raises(AnchorError, match="already withdrawn"):
        made_after_a_lost_answer(
            partial(withdraw_consent, backend, nurse, world.case_id, consent_id, now=at),
            lambda: None)


def test_a_withdrawal_someone_else_made_is_still_already_withdrawn(backend: Backend,
                                                                   world: Team) -> None:
    """Social work's withdrawal found the server away; meanwhile the nurse withdrew the
    same consent, at the very same moment (a terminal whose calendar is fixed to a day
    says noon for everyone). Social work's second attempt is not taken as done: the
    withdrawal was the nurse's, and social work is told so."""
    nurse, social, at = world.viewers["nurse"], world.viewers["social"], moment()
    consent_id = record_consent(backend, nurse, world.case_id, HEALTH)[0]
    attempts: list[int] = []

    def away_then(save: partial[None]) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            withdraw_consent(backend, nurse, world.case_id, consent_id, now=at)
            raise ConnectionLostError("The connection to the database server was lost.")
        save()

    once = made_once(
        partial(away_then, partial(withdraw_consent, backend, social, world.case_id,
                                   consent_id, now=at)),
        partial(withdrawn_at, backend, social, world.case_id, consent_id, at))
    with pytest.raises(ConnectionLostError):
        once()
    with pytest.raises(AnchorError, match="already withdrawn"):
        once()
    assert withdrawn_at(backend, nurse, world.case_id, consent_id, at) is True
    assert withdrawn_at(backend, nurse, world.case_id, consent_id,
                        at - dt.timedelta(seconds=1)) is None  # another moment: not it
    assert actions(backend, "consent.withdraw") == [(nurse.user_id, consent_id)]


def test_an_earlier_withdrawal_of_ones_own_is_not_taken_for_one_made_now(
        backend: Backend, world: Team) -> None:
    """Withdrawn by the nurse an hour ago (on another terminal); her withdrawal made now
    found the server away and, made again, is told it was already withdrawn."""
    nurse, at = world.viewers["nurse"], moment()
    consent_id = record_consent(backend, nurse, world.case_id, HEALTH)[0]
    withdraw_consent(backend, nurse, world.case_id, consent_id,
                     now=at - dt.timedelta(hours=1))
    with pytest.raises(AnchorError, match="already withdrawn"):
        made_after_the_server_was_away(
            partial(withdraw_consent, backend, nurse, world.case_id, consent_id, now=at),
            partial(withdrawn_at, backend, nurse, world.case_id, consent_id, at))
