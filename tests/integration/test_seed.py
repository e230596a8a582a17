"""The seeder: deterministic, covers the whole domain, respects the team, works on both
databases, and the users it creates can sign in."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import Engine, Table, func, select

from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.db.models import (
    GRANTORS,
    Case,
    CaseMember,
    Consent,
    Note,
    Person,
    Task,
    User,
)
from anchor_tui.errors import AnchorError
from anchor_tui.policy import load_policy
from anchor_tui.services.auth import sign_in
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import verify_passphrase
from anchor_tui.services.seed import seed, seed_demo
from anchor_tui.settings import DEMO_PASSPHRASE, DEMO_USERS, Settings, load_settings

TODAY = dt.date(2026, 11, 23)
TABLES = (Person, Case, CaseMember, Note, Consent, Task)


def _backend(engine: Engine, settings: Settings | None = None) -> Backend:
    settings = settings or load_settings(engine.url.render_as_string(hide_password=False))
    policy = load_policy(settings.policy_path, team=settings.team)
    return Backend.from_engine(engine, policy, settings.team)


@pytest.fixture
def backend(engine: Engine) -> Iterator[Backend]:
    yield _backend(engine)


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every seeded row, read back through the typed columns (comparable across databases)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for model in TABLES:
            table = cast(Table, model.__table__)
            out[table.name] = [tuple(row) for row in conn.execute(
                select(table).order_by(table.c.id))]
        users = cast(Table, User.__table__)
        out["user"] = [tuple(row) for row in conn.execute(
            select(users.c.id, users.c.username, users.c.profession, users.c.role)
            .order_by(users.c.id))]
    return out


def _fresh_sqlite(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    return engine


def test_same_seed_gives_same_rows_on_both_databases(backend: Backend, tmp_path: Path) -> None:
    seed(backend, cases=25, notes_per_case=3, seed=7, today=TODAY)
    other = _fresh_sqlite(tmp_path / "other.sqlite3")
    try:
        seed(_backend(other), cases=25, notes_per_case=3, seed=7, today=TODAY)
        first, second = _dump(backend.engine), _dump(other)
        assert first == second
        assert len(first["note"]) == 75
    finally:
        other.dispose()


def test_another_seed_or_day_gives_other_rows(tmp_path: Path) -> None:
    dumps = []
    for name, number, today in (("a", 1, TODAY), ("b", 2, TODAY),
                                ("c", 1, TODAY + dt.timedelta(days=1))):
        engine = _fresh_sqlite(tmp_path / f"{name}.sqlite3")
        seed(_backend(engine), cases=10, notes_per_case=2, seed=number, today=today)
        dumps.append(_dump(engine))
        engine.dispose()
    assert dumps[0]["note"] != dumps[1]["note"]
    assert dumps[0]["person"] != dumps[1]["person"]
    assert dumps[0]["case"] != dumps[2]["case"]


def test_seed_covers_the_whole_domain(backend: Backend) -> None:
    report = seed(backend, cases=30, notes_per_case=4, seed=3, today=TODAY)
    assert (report.cases, report.notes) == (30, 120)
    team, policy = backend.team, backend.policy
    with backend.sessions.system("test") as s:
        cases = s.scalars(select(Case)).all()
        assert {c.stage for c in cases} == {st.id for st in team.stages}
        assert {c.category for c in cases} == {c.id for c in team.case_categories}
        assert {c.priority for c in cases} == {1, 2, 3}
        closed_ids = {st.id for st in team.stages if st.closed}
        for case in cases:
            closed = case.stage in closed_ids
            assert (case.closed_at is not None) == closed
            assert (case.closed_reason is not None) == closed
            assert (case.next_review is None) == closed
            assert case.lead_user_id is not None
            assert case.opened_at.date() < TODAY
        reviews = [c.next_review for c in cases if c.next_review]
        assert any(r < TODAY for r in reviews)
        assert any(TODAY <= r < TODAY + dt.timedelta(days=7) for r in reviews)
        assert any(r >= TODAY + dt.timedelta(days=7) for r in reviews)

        users = {u.id: u for u in s.scalars(select(User))}
        members = s.scalars(select(CaseMember)).all()
        by_case: dict[int, list[CaseMember]] = {}
        for m in members:
            by_case.setdefault(m.case_id, []).append(m)
        assert set(by_case) == {c.id for c in cases}
        for case_members in by_case.values():
            professions = [users[m.user_id].profession for m in case_members]
            assert 1 <= len(case_members) <= 4
            assert len(set(professions)) == len(professions)
        assert any(m.valid_to is not None for m in members)
        assert all(users[m.user_id].role != "auditor" for m in members)

        notes = s.scalars(select(Note)).all()
        assert {n.category for n in notes} == set(policy.categories)
        writers = {"police_intel": {"police"}, "health": {"health"},
                   "youth_work": {"youth_work"}}
        for note in notes:
            assert note.author_profession == users[note.author_id].profession
            assert note.author_profession in writers.get(note.category, set(team.professions))
            assert note.author_id in {m.user_id for m in by_case[note.case_id]}
            assert note.created_at.date() < TODAY
            assert note.body.strip()

        persons = s.scalars(select(Person)).all()
        for person in persons:
            assert person.birth_date is not None
            age = (TODAY - person.birth_date).days / 365.25
            assert 12 <= age < 18
        consents = s.scalars(select(Consent)).all()
        assert {c.grantor for c in consents} == set(GRANTORS)
        assert {c.decision for c in consents} == {"permit", "deny"}
        assert any(c.valid_to is not None and c.valid_to < TODAY for c in consents)
        assert any(c.withdrawn_at is not None for c in consents)
        assert all(c.valid_to is None or c.valid_to >= c.valid_from for c in consents)
        refusals = {(c.person_id, c.category, c.receiving_profession)
                    for c in consents if c.grantor == "self" and c.decision == "deny"}
        guardian_permits = {(c.person_id, c.category, c.receiving_profession)
                            for c in consents if c.grantor == "guardian" and c.decision == "permit"}
        assert refusals & guardian_permits, "a young person's refusal next to a guardian's permit"

        tasks = s.scalars(select(Task)).all()
        open_tasks = [t for t in tasks if t.done_at is None]
        assert any(t.due is not None and t.due < TODAY for t in open_tasks)
        assert any(t.due is not None and t.due >= TODAY for t in open_tasks)
        assert any(t.done_at is not None for t in tasks)
        for task in tasks:
            assert task.assignee_id in {m.user_id for m in by_case[task.case_id]}


def test_team_without_a_nurse_gets_no_health_user_or_notes(engine: Engine,
                                                          tmp_path: Path) -> None:
    (tmp_path / "anchor.yaml").write_text(
        "professions: [police, social_work, youth_work]\nnote_templates: []\n", encoding="utf-8")
    settings = load_settings(engine.url.render_as_string(hide_password=False), str(tmp_path))
    backend = _backend(engine, settings)
    report = seed(backend, cases=20, notes_per_case=4, today=TODAY)
    assert "nurse" not in report.usernames
    assert set(report.usernames) == {"police", "social", "youth", "lead", "auditor"}
    with backend.sessions.system("test") as s:
        assert s.scalar(select(func.count()).select_from(User).where(
            User.profession == "health")) == 0
        professions = set(s.scalars(select(Note.author_profession).distinct()))
        assert professions == {"police", "social_work", "youth_work"}
        assert "health" not in set(s.scalars(select(Note.category).distinct()))
        assert "health" not in set(s.scalars(select(Consent.receiving_profession).distinct()))


def test_seeded_users_sign_in_with_the_passphrase(backend: Backend) -> None:
    report = seed(backend, cases=2, notes_per_case=1, today=TODAY)
    assert report.users_created == len(DEMO_USERS)
    with backend.sessions.system("test") as s:
        users = s.scalars(select(User)).all()
    assert {u.username for u in users} == set(DEMO_USERS)
    assert len({u.passphrase_hash for u in users}) == 1, "hashed once, shared"
    assert verify_passphrase(users[0].passphrase_hash, DEMO_PASSPHRASE)
    roles = {u.username: (u.profession, u.role) for u in users}
    assert roles["nurse"] == ("health", "member")
    assert roles["lead"] == ("social_work", "lead")
    assert roles["auditor"] == ("social_work", "auditor")
    viewer = sign_in(backend, "nurse", DEMO_PASSPHRASE)
    assert viewer.profession == "health"


def test_seed_with_own_passphrase(backend: Backend) -> None:
    seed(backend, cases=1, notes_per_case=1, passphrase="kolme sanaa riittää", today=TODAY)
    assert sign_in(backend, "police", "kolme sanaa riittää").username == "police"


def test_seeding_again_continues_after_existing_rows(backend: Backend) -> None:
    first = seed(backend, cases=5, notes_per_case=2, today=TODAY)
    second = seed(backend, cases=5, notes_per_case=2, seed=9, today=TODAY)
    assert second.users_created == 0 and first.users_created == len(DEMO_USERS)
    with backend.sessions.system("test") as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 10
        assert s.scalar(select(func.count()).select_from(Note)) == 20
        person_id = s.scalars(select(Person.id)).first()
        assert person_id is not None
        # Ids handed out by the database itself continue after the seeded ones.
        case = Case(person_id=person_id, category="first_offence", stage="screening")
        s.add(case)
        s.flush()
        assert case.id == 11


def test_progress_is_reported_per_batch_to_the_end(backend: Backend,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("anchor_tui.services.seed.CHUNK_CASES", 4)
    calls: list[tuple[int, int]] = []
    report = seed(backend, cases=10, notes_per_case=1, today=TODAY,
                  progress=lambda done, total: calls.append((done, total)))
    assert calls == [(4, 10), (8, 10), (10, 10)]
    assert (report.cases, report.notes) == (10, 10)


def test_demo_is_a_team_week(backend: Backend) -> None:
    report = seed_demo(backend, today=TODAY)
    assert report.cases == 200
    assert report.notes == 1200
    assert report.consents > 50 and report.tasks > 100


@pytest.mark.parametrize(("cases", "notes"), [(-1, 1), (1, -1)])
def test_negative_numbers_are_refused(backend: Backend, cases: int, notes: int) -> None:
    with pytest.raises(AnchorError, match="negative"):
        seed(backend, cases=cases, notes_per_case=notes)


def test_short_passphrase_is_refused(backend: Backend) -> None:
    with pytest.raises(AnchorError, match="shorter"):
        seed(backend, cases=1, notes_per_case=1, passphrase="short")


def test_distribution_is_plausible(tmp_path: Path) -> None:
    engine = _fresh_sqlite(tmp_path / "many.sqlite3")
    backend = _backend(engine)
    seed(backend, cases=100, notes_per_case=4, seed=11, today=TODAY)
    with backend.sessions.system("test") as s:
        stages = Counter(s.scalars(select(Case.stage)))
        categories = Counter(s.scalars(select(Note.category)))
    engine.dispose()
    assert 5 <= stages["closed"] < 50  # most of the case load is open
    assert categories["general"] == max(categories.values())
