"""The data model's guarantees, enforced by the database itself, on SQLite and PostgreSQL.

These tests work below the disclosure layer (plain sessions and Core statements): they
check what the schema refuses, whatever code path writes to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow

TODAY = dt.date(2026, 3, 2)


@dataclass(frozen=True)
class Rows:
    user_id: int
    person_id: int
    case_id: int
    note_id: int


def add(engine: Engine, table: Any, **values: Any) -> int:
    with engine.begin() as conn:
        return int(conn.execute(insert(table).values(**values).returning(table.id)).scalar_one())


def user_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "username": "nurse", "display_name": "Aino Virtanen", "profession": "health",
        "role": "member", "passphrase_hash": "x", "active": True, "failed_sign_ins": 0,
        "created_at": utcnow(),
    }
    return values | overrides


def case_values(person_id: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "person_id": person_id, "category": "substance_use", "stage": "screening",
        "priority": 2, "opened_at": utcnow(), "summary": "", "version": 1,
        "updated_at": utcnow(),
    }
    return values | overrides


def note_values(case_id: int, user_id: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "case_id": case_id, "author_id": user_id, "author_profession": "health",
        "category": "general", "body": "Tavattu koululla.", "created_at": utcnow(),
        "revision": 1, "entered_in_error": False,
    }
    return values | overrides


def consent_values(person_id: int, user_id: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "person_id": person_id, "grantor": "self", "decision": "permit",
        "category": "health", "receiving_profession": "social_work", "valid_from": TODAY,
        "valid_to": None, "recorded_by_id": user_id, "recorded_at": utcnow(), "evidence": "",
    }
    return values | overrides


@pytest.fixture
def rows(engine: Engine) -> Rows:
    user_id = add(engine, m.User, **user_values())
    person_id = add(
        engine, m.Person, first_name="Eetu", last_name="Korhonen",
        birth_date=dt.date(2010, 5, 4), municipality="Tampere", created_at=utcnow(),
    )
    case_id = add(engine, m.Case, **case_values(person_id))
    note_id = add(engine, m.Note, **note_values(case_id, user_id))
    return Rows(user_id, person_id, case_id, note_id)


# --- check constraints --------------------------------------------------------------------


def test_user_role_is_checked(engine: Engine) -> None:
    add(engine, m.User, **user_values(username="lead", role="lead"))
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        add(engine, m.User, **user_values(username="boss", role="chief"))


def test_username_is_unique(engine: Engine, rows: Rows) -> None:
    with pytest.raises(IntegrityError):
        add(engine, m.User, **user_values(display_name="Another"))


def test_case_priority_is_checked(engine: Engine, rows: Rows) -> None:
    for priority in (0, 4, -1):
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            add(engine, m.Case, **case_values(rows.person_id, priority=priority))
    for priority in (1, 2, 3):
        assert add(engine, m.Case, **case_values(rows.person_id, priority=priority)) > 0


BAD_CONSENTS: list[dict[str, Any]] = [
    {"grantor": "friend"},
    {"grantor": "Self"},
    {"decision": "maybe"},
    {"valid_from": TODAY, "valid_to": TODAY - dt.timedelta(days=1)},
]
GOOD_CONSENTS: list[dict[str, Any]] = [
    {"grantor": "guardian", "decision": "deny"},
    {"grantor": "legal_representative", "valid_to": TODAY},
    {"valid_to": TODAY + dt.timedelta(days=365), "withdrawn_at": utcnow()},
]


def test_consent_is_checked(engine: Engine, rows: Rows) -> None:
    for bad in BAD_CONSENTS:
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            add(engine, m.Consent, **consent_values(rows.person_id, rows.user_id, **bad))
    for good in GOOD_CONSENTS:
        assert add(engine, m.Consent, **consent_values(rows.person_id, rows.user_id, **good)) > 0
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(m.Consent)).scalar_one()
    assert count == len(GOOD_CONSENTS)


def test_huddle_item_kind_is_checked(engine: Engine, rows: Rows) -> None:
    huddle_id = add(engine, m.Huddle, started_by_id=rows.user_id, started_at=utcnow())
    item = {
        "huddle_id": huddle_id, "case_id": rows.case_id, "text": "Soitto huoltajalle",
        "created_by_id": rows.user_id, "created_at": utcnow(),
    }
    add(engine, m.HuddleItem, kind="action", **item)
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        add(engine, m.HuddleItem, kind="gossip", **item)


# --- foreign keys ---------------------------------------------------------------------------


def test_foreign_keys_are_enforced(engine: Engine, rows: Rows) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        add(engine, m.Case, **case_values(person_id=rows.person_id + 999))
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        add(engine, m.Note, **note_values(rows.case_id, user_id=rows.user_id + 999))


def test_restrict_keeps_a_person_with_cases(engine: Engine, rows: Rows) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), engine.begin() as conn:
        conn.execute(delete(m.Person).where(m.Person.id == rows.person_id))


def test_cascade_removes_memberships_with_their_case(engine: Engine, rows: Rows) -> None:
    other_case = add(engine, m.Case, **case_values(rows.person_id))
    add(engine, m.CaseMember, case_id=other_case, user_id=rows.user_id, valid_from=TODAY)
    with engine.begin() as conn:
        conn.execute(delete(m.Case).where(m.Case.id == other_case))
        remaining = conn.execute(
            select(func.count()).select_from(m.CaseMember).where(m.CaseMember.case_id == other_case)
        ).scalar_one()
    assert remaining == 0


# --- notes are append-only ------------------------------------------------------------------


NOTE_CHANGES: list[dict[str, Any]] = [
    {"body": "Rewritten history."},
    {"category": "police_intel"},
    {"author_profession": "police"},
    {"template": "home_visit"},
    {"created_at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
    {"supersedes_id": None, "revision": 2},
]


def test_note_content_cannot_be_changed(engine: Engine, rows: Rows) -> None:
    with engine.connect() as conn:
        before = conn.execute(select(m.Note).where(m.Note.id == rows.note_id)).one()
    for change in NOTE_CHANGES:
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(update(m.Note).where(m.Note.id == rows.note_id).values(**change))
    with engine.connect() as conn:
        after = conn.execute(select(m.Note).where(m.Note.id == rows.note_id)).one()
    assert after == before


def test_note_cannot_be_deleted(engine: Engine, rows: Rows) -> None:
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(delete(m.Note).where(m.Note.id == rows.note_id))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(m.Note)).scalar_one() == 1


def test_note_cannot_be_deleted_through_the_orm(engine: Engine, rows: Rows) -> None:
    with pytest.raises(DBAPIError, match="append-only"), Session(engine) as session:
        session.delete(session.get_one(m.Note, rows.note_id))
        session.commit()


def test_note_can_be_marked_entered_in_error(engine: Engine, rows: Rows) -> None:
    with Session(engine) as session:
        note = session.get_one(m.Note, rows.note_id)
        note.entered_in_error = True
        note.error_reason = "Kirjattu väärään tapaukseen"
        session.commit()
    with engine.connect() as conn:
        row = conn.execute(select(m.Note).where(m.Note.id == rows.note_id)).one()
    assert row.entered_in_error is True
    assert row.error_reason == "Kirjattu väärään tapaukseen"
    assert row.body == "Tavattu koululla."


def test_a_correction_is_a_new_revision(engine: Engine, rows: Rows) -> None:
    new_id = add(
        engine, m.Note,
        **note_values(rows.case_id, rows.user_id, body="Tavattu kotona.", revision=2,
                      supersedes_id=rows.note_id),
    )
    with engine.connect() as conn:
        bodies = conn.execute(select(m.Note.body).order_by(m.Note.id)).scalars().all()
    assert new_id != rows.note_id
    assert bodies == ["Tavattu koululla.", "Tavattu kotona."]


# --- optimistic locking ---------------------------------------------------------------------


def test_second_stage_change_of_the_same_version_is_stale(engine: Engine, rows: Rows) -> None:
    with Session(engine, expire_on_commit=False) as first, \
            Session(engine, expire_on_commit=False) as second:
        seen_by_first = first.get_one(m.Case, rows.case_id)
        first.commit()  # the loads end their transactions: the user is thinking
        seen_by_second = second.get_one(m.Case, rows.case_id)
        second.commit()
        assert seen_by_first.version == seen_by_second.version == 1

        seen_by_first.stage = "assessment"
        first.commit()
        assert seen_by_first.version == 2

        seen_by_second.stage = "closed"
        with pytest.raises(StaleDataError):
            second.commit()
    with engine.connect() as conn:
        stage, version = conn.execute(
            select(m.Case.stage, m.Case.version).where(m.Case.id == rows.case_id)
        ).one()
    assert (stage, version) == ("assessment", 2)


def test_task_has_optimistic_locking_too(engine: Engine, rows: Rows) -> None:
    task_id = add(
        engine, m.Task, case_id=rows.case_id, title="Soita huoltajalle",
        created_by_id=rows.user_id, created_at=utcnow(), version=1,
    )
    with Session(engine, expire_on_commit=False) as first, \
            Session(engine, expire_on_commit=False) as second:
        a = first.get_one(m.Task, task_id)
        first.commit()
        b = second.get_one(m.Task, task_id)
        second.commit()
        a.done_at = utcnow()
        first.commit()
        b.title = "Soita huoltajalle tänään"
        with pytest.raises(StaleDataError):
            second.commit()


# --- time ---------------------------------------------------------------------------------


def test_datetimes_come_back_aware_in_utc(engine: Engine, rows: Rows) -> None:
    helsinki = dt.timezone(dt.timedelta(hours=3))
    moment = dt.datetime(2026, 6, 1, 12, 0, 30, 123456, tzinfo=helsinki)
    with Session(engine) as session:
        case = session.get_one(m.Case, rows.case_id)
        case.closed_at = moment
        session.commit()
    with Session(engine) as session:
        case = session.get_one(m.Case, rows.case_id)
        note = session.get_one(m.Note, rows.note_id)
        for value in (case.closed_at, case.opened_at, note.created_at):
            assert value is not None
            assert value.tzinfo is not None
            assert value.utcoffset() == dt.timedelta(0)
        assert case.closed_at == moment
        assert case.closed_at.hour == 9  # 12:00 in Helsinki summer time is 09:00 UTC


def test_naive_datetimes_are_refused(engine: Engine, rows: Rows) -> None:
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(
            update(m.Case).where(m.Case.id == rows.case_id)
            .values(closed_at=dt.datetime(2026, 6, 1, 12, 0))  # naive on purpose
        )
