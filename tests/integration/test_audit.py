"""The audit trail on SQLite and PostgreSQL: the hash chain catches every tampering, a
failed audit write fails the read it records, writers stay in one line, sign-in is
recorded, and the ``audit`` commands.

``team()`` and ``backend_for()`` are shared with the other audit/consent/retention tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.policy import load_policy
from anchor_tui.services import audit
from anchor_tui.services.audit_chain import (
    GENESIS,
    KEY_ENV,
    AuditKeyError,
    Checkpoint,
    checkpoint,
    row_hash,
    verify,
)
from anchor_tui.services.auth import sign_in
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import hash_passphrase
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

TEST_KEY = "test-only audit key, not a secret"
PASSPHRASE = "tuuli puhaltaa mereltä"
TODAY = dt.date.today()


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, TEST_KEY)


def backend_for(engine: Engine) -> Backend:
    team = load_team_config(None)
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
    return Backend.from_engine(engine, policy, team)


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


@dataclass(frozen=True)
class Team:
    viewers: dict[str, Viewer]
    person_id: int
    case_id: int
    notes: dict[str, int]
    """Note id by category (written by the profession that owns the category)."""


_HASH: list[str] = []


def team(backend: Backend) -> Team:
    """One case (young person Aino Testinen) worked by police, social work and health; a
    youth worker outside it; a lead and an auditor. One note of each category."""
    if not _HASH:
        _HASH.append(hash_passphrase(PASSPHRASE))
    people = [("police", "police", "member"), ("social", "social_work", "member"),
              ("nurse", "health", "member"), ("youth", "youth_work", "member"),
              ("lead", "social_work", "lead"), ("auditor", "social_work", "auditor")]
    with backend.sessions.system("test world") as s:
        users = {name: m.User(username=name, display_name=name.title(), profession=prof,
                              role=role, passphrase_hash=_HASH[0])
                 for name, prof, role in people}
        s.add_all(users.values())
        person = m.Person(first_name="Aino", last_name="Testinen")
        s.add(person)
        s.flush()
        case = m.Case(person_id=person.id, category="substance_use", stage="assessment",
                      summary="why")
        s.add(case)
        s.flush()
        for name in ("police", "social", "nurse"):
            s.add(m.CaseMember(case_id=case.id, user_id=users[name].id,
                               valid_from=TODAY - dt.timedelta(days=30)))
        notes = {}
        for author, category in [("police", "police_intel"), ("nurse", "health"),
                                 ("social", "general"), ("social", "child_welfare")]:
            u = users[author]
            note = m.Note(case_id=case.id, author_id=u.id, author_profession=u.profession,
                          category=category, body=f"marker {category}")
            s.add(note)
            s.flush()
            notes[category] = note.id
        viewers = {name: Viewer(u.id, u.username, u.display_name, u.profession, u.role)
                   for name, u in users.items()}
        return Team(viewers, person.id, case.id, notes)


def events(backend: Backend) -> list[m.AuditEvent]:
    with backend.sessions.system("test") as s:
        return list(s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))


def _write_events(backend: Backend, viewer: Viewer, count: int) -> None:
    for index in range(count):
        with backend.sessions.write(viewer) as s:
            audit.record(s, viewer, "case.view", object_type="case", object_id=index)


@pytest.fixture
def chain(backend: Backend) -> Team:
    world = team(backend)
    _write_events(backend, world.viewers["social"], 8)
    return world


# --- the chain ------------------------------------------------------------------------------

def test_an_untouched_chain_verifies(backend: Backend, chain: Team) -> None:
    rows = events(backend)
    assert [e.id for e in rows] == list(range(1, 9))
    assert rows[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert all(e.policy_hash == backend.policy.hash for e in rows)
    result = verify(backend)
    assert result.ok and result.rows == 8 and result.last_id == 8


def _sql(backend: Backend, *statements: str) -> None:
    with backend.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def test_an_edited_row_is_named(backend: Backend, chain: Team) -> None:
    _sql(backend, "UPDATE audit_event SET object_id = 999 WHERE id = 5")
    result = verify(backend)
    assert (result.ok, result.bad_id) == (False, 5)
    assert "changed" in result.problem


def test_an_edit_with_a_hash_from_another_key_is_named(backend: Backend, chain: Team) -> None:
    row = events(backend)[2]
    fields = audit_fields(row) | {"actor_id": None}
    forged = row_hash(b"an attacker's guess at the key", fields)
    _sql(backend, f"UPDATE audit_event SET actor_id = NULL, hash = '{forged}' WHERE id = 3")
    assert verify(backend).bad_id == 3


def audit_fields(event: m.AuditEvent) -> dict[str, object]:
    from anchor_tui.services.audit_chain import fields_of

    return fields_of(event)


def test_a_deleted_row_is_found_at_the_next_one(backend: Backend, chain: Team) -> None:
    _sql(backend, "DELETE FROM audit_event WHERE id = 4")
    result = verify(backend)
    assert result.bad_id == 5 and "deleted, inserted or moved" in result.problem


def test_deleting_the_first_row_is_found(backend: Backend, chain: Team) -> None:
    _sql(backend, "DELETE FROM audit_event WHERE id = 1")
    assert verify(backend).bad_id == 2


def test_an_inserted_row_is_named(backend: Backend, chain: Team) -> None:
    # Made to look right: the id after the last, linked to the last row's hash.
    last = events(backend)[-1]
    _sql(backend, "INSERT INTO audit_event (id, at, action, prev_hash, hash) VALUES "
                  f"(9, '2026-01-01 00:00:00', 'case.view', '{last.hash}', '{'a' * 64}')")
    assert verify(backend).bad_id == 9


def test_a_row_put_in_place_of_a_deleted_one_is_named(backend: Backend, chain: Team) -> None:
    old = events(backend)[5]
    _sql(backend, "DELETE FROM audit_event WHERE id = 6",
         "INSERT INTO audit_event (id, at, action, prev_hash, hash) VALUES "
         f"(6, '2026-01-01 00:00:00', 'sign_in', '{old.prev_hash}', '{old.hash}')")
    assert verify(backend).bad_id == 6


def test_a_row_edited_into_nonsense_is_named(sqlite_url: str) -> None:
    """SQLite stores anything in any column: a timestamp that is not one is a change."""
    from anchor_tui.db import schema
    from anchor_tui.db.engine import make_engine

    engine = make_engine(sqlite_url)
    schema.upgrade(engine)
    backend = backend_for(engine)
    _write_events(backend, team(backend).viewers["social"], 6)
    _sql(backend, "UPDATE audit_event SET at = 'yesterday-ish' WHERE id = 4")
    result = verify(backend)
    assert (result.ok, result.bad_id) == (False, 4)
    assert "changed" in result.problem


def test_reordered_rows_are_named(backend: Backend, chain: Team) -> None:
    # Swap the contents of rows 3 and 4 (ids stay in place).
    _sql(backend,
         "UPDATE audit_event SET object_id = 100 + object_id WHERE id IN (3, 4)",
         "UPDATE audit_event SET object_id = CASE id WHEN 3 THEN 103 WHEN 4 THEN 102 END "
         "WHERE id IN (3, 4)")
    a, b = events(backend)[2:4]
    assert (a.object_id, b.object_id) == (103, 102)
    assert verify(backend).bad_id == 3


def test_swapping_whole_rows_is_named(backend: Backend, chain: Team) -> None:
    rows = events(backend)
    r3, r4 = rows[2], rows[3]
    _sql(backend,
         f"UPDATE audit_event SET object_id = {r4.object_id}, prev_hash = '{r4.prev_hash}', "
         f"hash = '{r4.hash}' WHERE id = 3",
         f"UPDATE audit_event SET object_id = {r3.object_id}, prev_hash = '{r3.prev_hash}', "
         f"hash = '{r3.hash}' WHERE id = 4")
    assert verify(backend).bad_id == 3


def test_truncating_the_newest_rows_is_found_with_a_checkpoint(backend: Backend,
                                                              chain: Team) -> None:
    head = checkpoint(backend)
    assert (head.last_id, head.rows) == (8, 8)
    assert verify(backend, head).ok
    _sql(backend, "DELETE FROM audit_event WHERE id > 5")
    assert verify(backend).ok  # without the checkpoint the shortened chain looks whole
    result = verify(backend, head)
    assert result.bad_id == 6 and "newest rows were deleted" in result.problem


def test_a_checkpoint_still_verifies_after_more_rows(backend: Backend, chain: Team) -> None:
    head = checkpoint(backend)
    _write_events(backend, chain.viewers["nurse"], 3)
    assert verify(backend, head).ok
    assert Checkpoint.from_json(head.to_json(), "x") == head


def test_truncating_every_row_is_found_with_a_checkpoint(backend: Backend,
                                                         chain: Team) -> None:
    head = checkpoint(backend)
    _sql(backend, "DELETE FROM audit_event")
    assert verify(backend, head).bad_id == 1


# --- a failed audit write fails the read ----------------------------------------------------

def _failing_audit_inserts(backend: Backend) -> None:
    if backend.engine.dialect.name == "sqlite":
        _sql(backend, "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_event "
                      "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    else:
        _sql(backend,
             "CREATE FUNCTION audit_broken() RETURNS trigger LANGUAGE plpgsql AS $$ "
             "BEGIN RAISE EXCEPTION 'disk full'; END $$",
             "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_event "
             "FOR EACH ROW EXECUTE FUNCTION audit_broken()")


def read_notes_audited(backend: Backend, viewer: Viewer, case_id: int) -> list[str]:
    """What a case view does: read the notes, record the access, then show them."""
    with backend.sessions.write(viewer) as s:
        bodies = list(s.scalars(select(m.Note.body).where(m.Note.case_id == case_id)))
        audit.note_list_shown(s, viewer, case_id)
    return bodies


def test_a_failing_audit_insert_fails_the_read(backend: Backend) -> None:
    world = team(backend)
    nurse = world.viewers["nurse"]
    assert "marker health" in read_notes_audited(backend, nurse, world.case_id)
    _failing_audit_inserts(backend)
    shown: list[str] = []
    with pytest.raises(audit.AuditWriteError) as caught:
        shown = read_notes_audited(backend, nurse, world.case_id)
    assert shown == []
    assert "nothing was shown" in caught.value.message
    assert "marker" not in str(caught.value)
    assert len(events(backend)) == 1  # the first read's event only


def test_a_failing_audit_insert_undoes_the_change_it_records(backend: Backend) -> None:
    from anchor_tui.services.consents import ConsentInput, record_consent

    world = team(backend)
    _failing_audit_inserts(backend)
    with pytest.raises(audit.AuditWriteError):
        record_consent(backend, world.viewers["social"], world.case_id, ConsentInput(
            "self", "permit", "health", ("police",), TODAY, None, "signed"))
    with backend.sessions.system("test") as s:
        assert s.scalars(select(m.Consent)).all() == []


def test_a_read_only_unit_of_work_cannot_record(backend: Backend) -> None:
    world = team(backend)
    viewer = world.viewers["nurse"]
    with backend.sessions.read(viewer) as s, pytest.raises(RuntimeError, match="write unit"):
        audit.case_viewed(s, viewer, world.case_id)


def test_an_unknown_action_is_a_programming_error(backend: Backend) -> None:
    viewer = team(backend).viewers["nurse"]
    with backend.sessions.write(viewer) as s, pytest.raises(ValueError, match="unknown"):
        audit.record(s, viewer, "case.peek")


def test_without_a_key_nothing_is_recorded_or_read(backend: Backend,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    world = team(backend)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(AuditKeyError) as caught:
        read_notes_audited(backend, world.viewers["nurse"], world.case_id)
    assert KEY_ENV in caught.value.fix
    assert events(backend) == []


def test_a_short_key_is_refused(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    world = team(backend)
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(AuditKeyError, match="shorter"):
        read_notes_audited(backend, world.viewers["nurse"], world.case_id)


def test_another_key_does_not_verify(backend: Backend, chain: Team,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(KEY_ENV, "a different key of some length")
    result = verify(backend)
    assert (result.ok, result.bad_id, result.wrong_key) == (False, 1, True)
    assert "not this database's audit key" in result.problem
    url = backend.engine.url.render_as_string(hide_password=False)
    assert main(["audit", "verify", "--db", url]) == 1
    assert "check the audit key first" in capsys.readouterr().err


def test_an_edited_first_row_is_not_blamed_on_the_key(backend: Backend, chain: Team) -> None:
    _sql(backend, "UPDATE audit_event SET object_id = 999 WHERE id = 1")
    result = verify(backend)
    assert (result.ok, result.bad_id, result.wrong_key) == (False, 1, False)
    assert "row 1 was changed" in result.problem


# --- concurrent writers -------------------------------------------------------------------

def test_concurrent_writers_keep_one_line(backend: Backend) -> None:
    world = team(backend)
    viewers = [world.viewers[name] for name in ("police", "social", "nurse", "lead")]
    failures: list[BaseException] = []

    def work(viewer: Viewer) -> None:
        try:
            _write_events(backend, viewer, 10)
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in viewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    rows = events(backend)
    assert [e.id for e in rows] == list(range(1, 41))
    assert verify(backend).ok


# --- sign-in, disclosures -------------------------------------------------------------------

def test_sign_in_and_failures_are_recorded(backend: Backend) -> None:
    world = team(backend)
    sign_in(backend, "nurse", PASSPHRASE)
    with pytest.raises(Exception, match="Wrong"):
        sign_in(backend, "nurse", "not the passphrase")
    with pytest.raises(Exception, match="Wrong"):
        sign_in(backend, "nobody", "not the passphrase")
    nurse = world.viewers["nurse"].user_id
    assert [(e.action, e.actor_id) for e in events(backend)] == [
        ("policy.load", nurse), ("sign_in", nurse), ("sign_in.failed", nurse),
        ("sign_in.failed", None)]
    with backend.sessions.system("test") as s:
        assert s.get(m.User, nurse).failed_sign_ins == 1  # type: ignore[union-attr]
    assert verify(backend).ok


def test_lockout_is_kept_after_the_refusal(backend: Backend) -> None:
    team(backend)
    for _ in range(backend.team.sign_in.max_failed_attempts):
        with pytest.raises(Exception):  # noqa: B017 - wrong, then locked
            sign_in(backend, "police", "not the passphrase")
    with pytest.raises(Exception, match="locked"):
        sign_in(backend, "police", PASSPHRASE)


def test_disclosures_name_the_rule_and_the_consent(backend: Backend) -> None:
    from anchor_tui.services.disclosure import load_context, note_facts, recheck

    world = team(backend)
    social = world.viewers["social"]
    with backend.sessions.system("test") as s:
        consent = m.Consent(person_id=world.person_id, grantor="self", decision="permit",
                            category="health", receiving_profession="social_work",
                            valid_from=TODAY, recorded_by_id=social.user_id)
        s.add(consent)
        s.flush()
        consent_id = consent.id
    with backend.sessions.write(social) as s:
        notes = list(s.scalars(select(m.Note).where(m.Note.case_id == world.case_id)))
        ctx = load_context(s, [world.case_id], s.info["now"])
        kept = recheck(backend.policy, social, [(n, world.person_id) for n in notes], ctx)
        audit.record_disclosures(s, social, [note_facts(n, world.person_id) for n in kept],
                                 ctx)
    ledger = [(e.object_id, e.rule_ids, e.consent_ids) for e in events(backend)
              if e.action == "note.disclosed"]
    # Their own profession's notes (general, child welfare) are no disclosure.
    assert ledger == [(world.notes["health"], "health-with-consent", str(consent_id))]


# --- the commands ---------------------------------------------------------------------------

def test_verify_and_checkpoint_commands(backend: Backend, chain: Team, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    url = backend.engine.url.render_as_string(hide_password=False)
    assert main(["audit", "verify", "--db", url]) == 0
    assert "8 rows" in capsys.readouterr().out
    head = tmp_path / "head.json"
    assert main(["audit", "checkpoint", str(head), "--db", url]) == 0
    assert json.loads(head.read_text())["last_id"] == 8
    _sql(backend, "DELETE FROM audit_event WHERE id >= 7")
    assert main(["audit", "verify", "--db", url]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", "--checkpoint", str(head), "--db", url]) == 1
    out = capsys.readouterr()
    assert "first bad row: id 7" in out.err
    _sql(backend, "UPDATE audit_event SET action = 'sign_out' WHERE id = 2")
    assert main(["audit", "verify", "--db", url]) == 1
    out = capsys.readouterr()
    assert "first bad row: id 2" in out.err
    assert "tell the data protection officer" in out.err and "audit key" not in out.err
