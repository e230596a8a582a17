"""Retention on SQLite and PostgreSQL: the dry run changes nothing, ``--apply`` erases
exactly the expired content, the audit chain still verifies, and the note guard lets
exactly the erasure through."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.errors import ConfigError
from anchor_tui.services import retention
from anchor_tui.services.audit_chain import checkpoint, verify
from anchor_tui.services.backend import Backend
from anchor_tui.services.consents import ConsentInput, record_consent
from anchor_tui.settings import load_team_config
from tests.integration.test_audit import TEST_KEY, TODAY, Team, backend_for, events, team

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_KEY)


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


def fingerprint(engine: Engine) -> dict[str, str]:
    """Every row of every table, hashed per table."""
    digests = {}
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def expired_world(backend: Backend) -> tuple[Team, int]:
    """The team's case closed 800 days ago as "no need" (kept 730 days), with tasks, a
    draft, a consent, and police intelligence and child welfare notes (kept 1825 days by
    their category's own period); a second young
    person's case closed yesterday. Returns the team and the recent case's id."""
    world = team(backend)
    record_consent(backend, world.viewers["nurse"], world.case_id, ConsentInput(
        "self", "permit", "health", ("social_work",), TODAY, None, "signed in the meeting"))
    with backend.sessions.system("test") as s:
        case = s.get(m.Case, world.case_id)
        assert case is not None
        case.stage, case.closed_reason = "closed", "no_need"
        case.closed_at = NOW - dt.timedelta(days=800)
        social = world.viewers["social"].user_id
        s.add(m.Task(case_id=case.id, title="call the school", created_by_id=social))
        s.add(m.Draft(author_id=social, case_id=case.id, category="general", body="half"))
        closed = m.CaseEvent(case_id=case.id, kind="closed")
        s.add(m.CaseEventReason(event=closed, case_id=case.id, author_id=social,
                                author_profession="social_work", category="general",
                                text="moved away"))
        other = m.Person(first_name="Eino", last_name="Esimerkki")
        s.add(other)
        s.flush()
        recent = m.Case(person_id=other.id, category="first_offence", stage="closed",
                        closed_reason="declined", closed_at=NOW - dt.timedelta(days=1))
        s.add(recent)
        s.flush()
        s.add(m.Note(case_id=recent.id, author_id=social, author_profession="social_work",
                     category="general", body="recent marker"))
        return world, recent.id


def test_plan_names_exactly_the_expired_content(backend: Backend) -> None:
    world, _recent = expired_world(backend)
    (item,) = retention.plan(backend)
    assert item.case_id == world.case_id
    assert set(item.note_ids) == {world.notes["health"], world.notes["general"]}
    assert (item.case_content, item.person, item.tasks, item.drafts) == (True, True, 1, 1)


def test_dry_run_changes_nothing(backend: Backend,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    world, _recent = expired_world(backend)
    before = fingerprint(backend.engine)
    url = backend.engine.url.render_as_string(hide_password=False)
    assert main(["retention", "run", "--db", url]) == 0
    out = capsys.readouterr().out
    assert f"case {world.case_id} " in out and "2 notes" in out and "Dry run" in out
    assert "Aino" not in out and "marker" not in out
    assert fingerprint(backend.engine) == before


def test_apply_erases_exactly_the_expired_content_and_the_chain_verifies(
        backend: Backend, capsys: pytest.CaptureFixture[str]) -> None:
    world, recent = expired_world(backend)
    url = backend.engine.url.render_as_string(hide_password=False)
    head = checkpoint(backend)
    assert main(["retention", "run", "--apply", "--db", url]) == 0
    out = capsys.readouterr()
    assert "Erased 2 notes" in out.out
    assert "Erasing" in out.err and "1/1" in out.err  # the progress bar
    assert "Aino" not in out.out + out.err and "marker" not in out.out + out.err
    with backend.sessions.system("test") as s:
        notes = {n.id: n for n in s.scalars(select(m.Note))}
        for category in ("health", "general"):
            note = notes[world.notes[category]]
            assert (note.body, note.erased_at is not None) == ("", True)
        for category in ("police_intel", "child_welfare"):
            kept = notes[world.notes[category]]
            assert (kept.body, kept.erased_at) == (f"marker {category}", None)
        assert {n.body for n in notes.values() if n.case_id == recent} == {"recent marker"}
        person = s.get(m.Person, world.person_id)
        assert person is not None and person.erased_at is not None
        assert (person.first_name, person.last_name) == ("Erased", "person")
        assert s.scalars(select(m.Person.first_name).where(m.Person.id != person.id)).all() \
            == ["Eino"]
        assert s.scalars(select(m.Task.title)).all() == ["(erased)"]
        assert s.scalars(select(m.Draft)).all() == []
        assert s.scalars(select(m.Consent.evidence)).all() == [""]
        assert s.scalars(select(m.CaseEvent.kind)).all() != []  # the changes stay
        assert s.scalars(select(m.CaseEventReason)).all() == []  # their reasons go
        case = s.get(m.Case, world.case_id)
        assert case is not None and case.summary == "" and case.erased_at is not None
    # Nor can a search find the erased summary (its full-text index follows the row).
    assert world.case_id not in _summary_index_hits(backend, "why")
    assert verify(backend).ok and verify(backend, head).ok
    assert [e.action for e in events(backend)][-1] == "retention.erase"
    assert main(["audit", "verify", "--db", url]) == 0
    # Nothing is left to do until the longer periods of those two categories end.
    assert retention.plan(backend) == []
    later = retention.plan(backend, NOW + dt.timedelta(days=1100))
    assert next((p.case_id, set(p.note_ids), p.case_content) for p in later) == (
        world.case_id, {world.notes["police_intel"], world.notes["child_welfare"]}, False)
    assert [p.case_id for p in later] == [world.case_id, recent]  # declined: 365 days


def _summary_index_hits(backend: Backend, word: str) -> set[int]:
    """The cases the summary search index finds for ``word`` (migration 0010)."""
    if backend.engine.dialect.name == "sqlite":
        sql = "SELECT rowid FROM case_fts WHERE case_fts MATCH :w"
    else:
        sql = ('SELECT id FROM "case" WHERE to_tsvector(\'simple\', summary) '
               "@@ to_tsquery('simple', :w)")
    with backend.sessions.system("test: the summary index") as s:
        return set(s.execute(text(sql), {"w": word}).scalars())


def test_the_summary_index_finds_a_case_summary(backend: Backend) -> None:
    """(So that the erasure check above can fail.)"""
    world, _recent = expired_world(backend)
    assert world.case_id in _summary_index_hits(backend, "why")


def _refused(backend: Backend, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), backend.engine.begin() as conn:
        conn.execute(text(statement))


def test_a_young_person_with_two_expired_cases_is_counted_once(backend: Backend) -> None:
    world, _recent = expired_world(backend)
    with backend.sessions.system("test") as s:
        s.add(m.Case(person_id=world.person_id, category="first_offence", stage="closed",
                     closed_reason="no_need", closed_at=NOW - dt.timedelta(days=900)))
    plans = retention.plan(backend)
    assert [p.person_id for p in plans if p.person] == [world.person_id, world.person_id]
    summary = retention.summarise(plans)
    assert (summary.cases, summary.persons) == (2, 1)


def test_the_note_guard_lets_only_the_erasure_through(backend: Backend) -> None:
    world = team(backend)
    note = world.notes["general"]
    stamp = "'2026-01-01 00:00:00'"
    _refused(backend, f"UPDATE note SET body = 'rewritten' WHERE id = {note}")
    _refused(backend, f"UPDATE note SET body = '' WHERE id = {note}")
    _refused(backend, f"UPDATE note SET erased_at = {stamp} WHERE id = {note}")
    _refused(backend, f"UPDATE note SET body = 'x', erased_at = {stamp} WHERE id = {note}")
    _refused(backend, f"UPDATE note SET body = '', erased_at = {stamp}, category = 'health' "
                      f"WHERE id = {note}")
    _refused(backend, f"DELETE FROM note WHERE id = {note}")
    with backend.engine.begin() as conn:
        conn.execute(text(f"UPDATE note SET body = '', erased_at = {stamp} WHERE id = {note}"))
        conn.execute(text(f"UPDATE note SET entered_in_error = TRUE WHERE id = {note}"))
    _refused(backend, f"UPDATE note SET erased_at = NULL WHERE id = {note}")
    _refused(backend, f"UPDATE note SET erased_at = '2026-02-02 00:00:00' WHERE id = {note}")
    _refused(backend, f"UPDATE note SET body = 'back' WHERE id = {note}")


def test_retention_config_errors_name_file_line_and_key(tmp_path: Path,
                                                        backend: Backend) -> None:
    config = tmp_path / "anchor.yaml"
    config.write_text("retention:\n  closed_reasons:\n    vanished: 30\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_team_config(tmp_path)
    assert caught.value.line == 3 and caught.value.key == "retention.closed_reasons.vanished"
    config.write_text("retention:\n  default_days: 0\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="at least 1 day"):
        load_team_config(tmp_path)
    config.write_text("retention:\n  note_categories:\n    gossip: 30\n", encoding="utf-8")
    odd = Backend.from_engine(backend.engine, backend.policy, load_team_config(tmp_path))
    with pytest.raises(ConfigError) as caught:
        retention.plan(odd)
    assert (caught.value.line, caught.value.key) == (3, "retention.note_categories.gossip")


def test_a_team_with_its_own_closing_reasons_keeps_the_default_periods_valid(
        tmp_path: Path) -> None:
    (tmp_path / "anchor.yaml").write_text(
        "closed_reasons:\n  - id: no_need\n    label: No need\n", encoding="utf-8")
    rules = load_team_config(tmp_path).retention
    assert rules.closed_reasons == {"no_need": 730}
    assert rules.case_days("no_need") == 730 and rules.case_days(None) == 1825


def test_the_case_view_shows_an_erased_note_as_erased(backend: Backend) -> None:
    from anchor_tui.services.case_view import open_case

    world, _recent = expired_world(backend)
    retention.apply(backend, retention.plan(backend))
    record = open_case(backend, world.viewers["social"], world.case_id)
    notes = {note.note_id: note for note in record.notes.notes}
    general = notes[world.notes["general"]]
    assert (general.erased, general.body) == (True, "")
    kept = notes[world.notes["child_welfare"]]
    assert (kept.erased, kept.body) == (False, "marker child_welfare")
    assert record.summary.person_label == "Erased person" and record.summary.summary == ""
    assert verify(backend).ok


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_erased_text_is_not_left_in_the_sqlite_file(backend: Backend) -> None:
    """Not in the table's freed space, the full-text index's older segments or the
    write-ahead log: the file's bytes no longer hold the erased words."""
    world, _recent = expired_world(backend)
    with backend.sessions.system("test: a note with a word of its own") as s:
        s.add(m.Note(case_id=world.case_id, author_id=world.viewers["nurse"].user_id,
                     author_profession="health", category="health",
                     body="diagnosis zebrafinchword " * 40))
        case = s.get(m.Case, world.case_id)
        assert case is not None
        case.summary = "summary gnuantelopeword"
    database = Path(backend.engine.url.database or "")

    def raw() -> bytes:
        return b"".join(f.read_bytes() for f in database.parent.iterdir()
                        if f.name.startswith(database.name))

    backend.engine.dispose()
    assert b"zebrafinchword" in raw() and b"gnuantelopeword" in raw()
    retention.apply(backend, retention.plan(backend))
    assert b"zebrafinchword" not in raw() and b"gnuantelopeword" not in raw()
    backend.engine.dispose()
    assert b"zebrafinchword" not in raw() and b"gnuantelopeword" not in raw()


def test_a_notification_over_an_erased_note_keeps_no_recipient_or_reference(
        backend: Backend) -> None:
    """The statutory notification's record stays (that it was made, when, how); to whom
    and under which reference goes with the note it was made over."""
    world, _recent = expired_world(backend)
    with backend.sessions.system("test: notifications made") as s:
        nurse = world.viewers["nurse"].user_id
        for key in ("health", "child_welfare"):  # erased now / kept for its own period
            s.add(m.ChildWelfareNotification(
                case_id=world.case_id, note_id=world.notes[key], notifier_id=nurse,
                notifier_profession="health", status="notified", method="phone",
                notified_at=NOW - dt.timedelta(days=790),
                recipient=f"child welfare of Espoo ({key})", reference=f"CW-{key}"))
    retention.apply(backend, retention.plan(backend))
    with backend.sessions.system("test: what is left") as s:
        left = {n.note_id: (n.status, n.method, n.recipient, n.reference)
                for n in s.scalars(select(m.ChildWelfareNotification))}
    assert left == {
        world.notes["health"]: ("notified", "phone", "", ""),
        world.notes["child_welfare"]: ("notified", "phone", "child welfare of Espoo "
                                       "(child_welfare)", "CW-child_welfare"),
    }
