"""The access report on SQLite and PostgreSQL: a scripted session's every access to the
young person is listed, with the basis of each disclosure; auditors only on screen."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError
from anchor_tui.services import audit
from anchor_tui.services.access_report import AccessFilter, access_report, auditor_events
from anchor_tui.services.auth import sign_in
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import open_case
from anchor_tui.services.consents import (
    ConsentInput,
    consent_history,
    record_consent,
    withdraw_consent,
)
from anchor_tui.services.disclosure import load_context, recheck
from anchor_tui.services.export import collect
from anchor_tui.services.search import search
from tests.integration.test_audit import (
    PASSPHRASE,
    TEST_KEY,
    TODAY,
    Team,
    backend_for,
    events,
    team,
)


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_KEY)


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


def view_case(backend: Backend, world: Team, name: str) -> None:
    """The case view's own read (``services.case_view.open_case``), audited."""
    record = open_case(backend, world.viewers[name], world.case_id)
    assert record.notes.notes


def write_note(backend: Backend, world: Team, name: str) -> None:
    """What the note editor does on save: the note and its audit event, one unit of work."""
    viewer = world.viewers[name]
    with backend.sessions.write(viewer) as s:
        note = m.Note(case_id=world.case_id, author_id=viewer.user_id,
                      author_profession=viewer.profession, category="general",
                      body="met the young person")
        s.add(note)
        s.flush()
        audit.note_written(s, viewer, note)


def scripted_session(backend: Backend, world: Team) -> list[tuple[str, str]]:
    """A morning's work; returns (who, action) of every access to the young person."""
    sign_in(backend, "nurse", PASSPHRASE)
    (consent,) = record_consent(backend, world.viewers["nurse"], world.case_id, ConsentInput(
        "self", "permit", "health", ("social_work",), TODAY, None, "signed"))
    view_case(backend, world, "social")
    consent_history(backend, world.viewers["nurse"], world.case_id)
    with pytest.raises(AnchorError):
        consent_history(backend, world.viewers["youth"], world.case_id)
    collect(backend, "police", world.person_id)
    withdraw_consent(backend, world.viewers["nurse"], world.case_id, consent)
    view_case(backend, world, "social")
    write_note(backend, world, "social")
    assert search(backend, world.viewers["nurse"], "marker general").notes
    # (social works the case: its case view lists the consents too)
    return [("nurse", "consent.record"), ("social", "case.view"), ("social", "note.list"),
            ("social", "note.disclosed"), ("social", "consent.list"), ("nurse", "consent.list"),
            ("youth", "access.denied"), ("police", "export"), ("police", "note.disclosed"),
            ("nurse", "consent.withdraw"), ("social", "case.view"), ("social", "note.list"),
            ("social", "consent.list"), ("social", "note.write"), ("nurse", "note.disclosed"),
            ("nurse", "search.results")]


def test_the_report_lists_every_access_of_a_scripted_session(backend: Backend) -> None:
    world = team(backend)
    expected = scripted_session(backend, world)
    report = access_report(backend, world.person_id)
    assert [(line.who.split(" (")[1].rstrip(")"), line.action) for line in report.lines] \
        == expected
    # ...and the report itself is now recorded too, as an access by the system.
    assert events(backend)[-1].action == "audit.report"
    assert report.person_name == "Aino Testinen"
    by_social, by_police, by_nurse = report.disclosures
    consent = next(e.object_id for e in events(backend) if e.action == "consent.record")
    assert (by_social.object_id, by_social.basis) == (
        world.notes["health"], f"consent {consent}, rule health-with-consent")
    assert (by_police.object_id, by_police.basis) == (
        world.notes["general"], "rule general-to-case-members")
    assert (by_nurse.object_id, by_nurse.basis) == (
        world.notes["general"], "rule general-to-case-members")
    assert all(line.purpose == "own work" for line in report.lines)


def test_the_command_prints_the_report(backend: Backend,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    world = team(backend)
    scripted_session(backend, world)
    url = backend.engine.url.render_as_string(hide_password=False)
    assert main(["audit", "access-report", "--person", str(world.person_id), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "16 events, 3 disclosures" in out
    assert "Social (social), social_work  was shown a note of another profession for own " \
           "work [note" in out
    assert "basis: consent" in out and "marker" not in out
    assert main(["audit", "access-report", "--person", "999", "--db", url]) == 2


def test_auditor_screen_filters_and_is_for_auditors_only(backend: Backend) -> None:
    world = team(backend)
    scripted_session(backend, world)
    auditor = world.viewers["auditor"]
    with pytest.raises(AnchorError, match="Only auditors"):
        auditor_events(backend, world.viewers["lead"], AccessFilter())
    refused = events(backend)[-1]  # the refusal itself is recorded
    assert (refused.action, refused.actor_id, refused.object_type) == (
        "access.denied", world.viewers["lead"].user_id, "audit_trail")
    everything = auditor_events(backend, auditor, AccessFilter())
    assert {line.action for line in everything} >= {"sign_in", "policy.load", "export"}
    by_user = auditor_events(backend, auditor, AccessFilter(username="police"))
    assert {line.action for line in by_user} == {"export", "note.disclosed"}
    by_action = auditor_events(backend, auditor, AccessFilter(person_id=world.person_id,
                                                              action="case.view"))
    assert len(by_action) == 2
    assert auditor_events(backend, auditor, AccessFilter(since=TODAY + dt.timedelta(days=1))
                          ) == ()
    assert len(auditor_events(backend, auditor, AccessFilter(since=TODAY, until=TODAY),
                              limit=3)) == 3
    with pytest.raises(AnchorError, match="not an audited action"):
        auditor_events(backend, auditor, AccessFilter(action="peek"))
    # Reading the trail is recorded, with the person filtered on.
    last = events(backend)[-2]
    assert (last.action, last.actor_id) == ("audit.report", auditor.user_id)


def test_a_huddle_never_reads_the_trail_even_when_an_auditor_chairs_it(
        backend: Backend) -> None:
    """A huddle's viewer carries its chair's role: an auditor's huddle would put the whole
    trail (who read which note of whom) on the room's shared screen."""
    import dataclasses

    from anchor_tui.domain import Attendee

    world = team(backend)
    scripted_session(backend, world)
    auditor, youth = world.viewers["auditor"], world.viewers["youth"]
    assert auditor_events(backend, auditor, AccessFilter())  # alone, the auditor reads it
    room = dataclasses.replace(auditor, purpose="huddle", attendees=(
        Attendee(auditor.user_id, auditor.profession), Attendee(youth.user_id, youth.profession)))
    with pytest.raises(AnchorError, match="not in a huddle"):
        auditor_events(backend, room, AccessFilter())
    refused = events(backend)[-1]
    assert (refused.action, refused.object_type, refused.purpose) == (
        "access.denied", "audit_trail", "huddle")


def test_report_names_huddle_attendees_of_other_professions(backend: Backend,
                                                            tmp_path: Path) -> None:
    from anchor_tui.domain import Attendee, Viewer

    world = team(backend)
    social, police = world.viewers["social"], world.viewers["police"]
    with backend.sessions.system("test") as s:
        huddle = m.Huddle(started_by_id=social.user_id)
        s.add(huddle)
        s.flush()
        huddle_id = huddle.id
    viewer = Viewer(social.user_id, "social", "Social", "social_work", "member",
                    purpose="huddle", huddle_id=huddle_id,
                    attendees=(Attendee(social.user_id, "social_work"),
                               Attendee(police.user_id, "police")))
    with backend.sessions.write(viewer) as s:
        notes = list(s.scalars(select(m.Note).where(m.Note.case_id == world.case_id)))
        ctx = load_context(s, [world.case_id], s.info["now"])
        kept = recheck(backend.policy, viewer, [(n, world.person_id) for n in notes], ctx)
        audit.record_disclosures(s, viewer, [(n, world.person_id) for n in kept], ctx)
    report = access_report(backend, world.person_id)
    # The huddle sees the general note only: it is disclosed to the police attendee.
    assert [(line.who, line.purpose, line.huddle_id, line.object_id)
            for line in report.disclosures] == [
        ("Police (police)", "daily huddle", huddle_id, world.notes["general"])]
