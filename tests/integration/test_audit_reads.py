"""The reads that show client data are audited in their own unit of work, on SQLite and
PostgreSQL: opening a case (case.view, note.list and the disclosure ledger, one insert),
the next page of notes, search results and exports; when the audit insert fails, the
read fails and returns nothing. Ids only: no note text and no searched word is stored.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select, text

from anchor_tui.db import models as m
from anchor_tui.services import audit
from anchor_tui.services.audit_chain import verify
from anchor_tui.services.case_view import more_notes, open_case
from anchor_tui.services.search import search
from tests.integration.case_world import NOW, WORDS, TeamWorld, build, huddle, make_backend
from tests.integration.test_audit import _failing_audit_inserts


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


Row = tuple[str, int | None, str | None, int | None, str | None, str | None]


def trail(world: TeamWorld, since: int = 0) -> list[Row]:
    """(action, actor, object type, object id, rule ids, consent ids) after ``since``."""
    with world.backend.sessions.system("test: the trail") as s:
        return [(e.action, e.actor_id, e.object_type, e.object_id, e.rule_ids, e.consent_ids)
                for e in s.scalars(select(m.AuditEvent).where(m.AuditEvent.id > since)
                                   .order_by(m.AuditEvent.id))]


def consent_id(world: TeamWorld) -> int:
    with world.backend.sessions.system("test") as s:
        found = s.scalar(select(m.Consent.id))
        assert found is not None
        return found


def person_of(world: TeamWorld, case_id: int) -> int:
    with world.backend.sessions.system("test") as s:
        found = s.scalar(select(m.Case.person_id).where(m.Case.id == case_id))
        assert found is not None
        return found


def test_opening_a_case_records_the_view_the_list_and_each_disclosure(
        world: TeamWorld) -> None:
    social = world.viewers["social"]
    record = open_case(world.backend, social, world.case_a, now=NOW)
    shown = {note.note_id for note in record.notes.notes}
    n = world.notes
    assert {n["health"], n["youth_rev1"]} <= shown
    events = trail(world)
    assert events[0] == ("case.view", social.user_id, "case", world.case_a, None, None)
    action, actor, kind, case_id, rules, consents = events[1]
    assert (action, actor, kind, case_id, consents) == ("note.list", social.user_id, "case",
                                                          world.case_a, None)
    assert rules is not None and set(rules.split(",")) >= {
        "own-profession", "health-with-consent", "general-to-case-members"}
    # The young person's consents, shown to a member as the consents screen shows them.
    assert record.consents
    assert events[-1] == ("consent.list", social.user_id, "case", world.case_a, None, None)
    # Each note of another profession shown, once, with its basis; their own notes not.
    assert sorted(events[2:-1], key=lambda e: e[3] or 0) == sorted([
        ("note.disclosed", social.user_id, "note", n["health"], "health-with-consent",
         str(consent_id(world))),
        ("note.disclosed", social.user_id, "note", n["youth_rev1"],
         "general-to-case-members", None),
    ], key=lambda e: e[3] or 0)
    with world.backend.sessions.system("test") as s:
        persons = set(s.scalars(select(m.AuditEvent.person_id)))
        stamps = set(s.scalars(select(m.AuditEvent.at)))
    assert persons == {person_of(world, world.case_a)}
    assert len(stamps) == 1  # one batch, one insert
    assert verify(world.backend).ok


def test_the_next_page_records_its_list_and_ledger_but_no_new_view(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    first = open_case(world.backend, nurse, world.case_a, page_size=2, now=NOW)
    assert first.notes.more is not None
    before = len(trail(world))
    page = more_notes(world.backend, nurse, world.case_a, first.notes.more, page_size=2,
                      now=NOW)
    added = trail(world)[before:]
    assert added[0][:4] == ("note.list", nurse.user_id, "case", world.case_a)
    assert "case.view" not in {event[0] for event in added}
    shown_of_others = {note.note_id for note in page.notes
                       if note.profession != "Health"}
    assert {event[3] for event in added[1:]} == shown_of_others
    assert all(event[0] == "note.disclosed" for event in added[1:])


def test_a_huddle_discloses_to_each_attendee_of_another_profession(world: TeamWorld) -> None:
    viewer = huddle(world, "social", "police")
    record = open_case(world.backend, viewer, world.case_a, now=NOW)
    general = world.notes["general"]  # written by social work, seen by the police attendee
    assert general in {note.note_id for note in record.notes.notes}
    disclosed = [(e[1], e[3]) for e in trail(world) if e[0] == "note.disclosed"]
    assert (world.viewers["police"].user_id, general) in disclosed
    assert (world.viewers["social"].user_id, general) not in disclosed
    with world.backend.sessions.system("test") as s:
        purposes = set(s.scalars(select(m.AuditEvent.purpose)))
    assert purposes == {"huddle"}


def test_search_results_are_recorded_per_case_without_the_words(world: TeamWorld) -> None:
    social = world.viewers["social"]
    results = search(world.backend, social, WORDS["health"], now=NOW)
    assert [hit.note_id for hit in results.notes] == [world.notes["health"]]
    assert trail(world) == [
        ("note.disclosed", social.user_id, "note", world.notes["health"],
         "health-with-consent", str(consent_id(world))),
        ("search.results", social.user_id, "case", world.case_a, None, None)]
    by_name = search(world.backend, social, "Aino", now=NOW)
    assert [hit.case_id for hit in by_name.cases] == [world.case_a] and not by_name.notes
    events = trail(world)
    assert events[-1] == ("search.results", social.user_id, "case", world.case_a, None, None)
    with world.backend.engine.connect() as conn:
        dump = repr(conn.execute(text("SELECT * FROM audit_event")).all())
    assert WORDS["health"] not in dump and "Aino" not in dump
    # A search that finds nothing records nothing.
    before = len(events)
    assert search(world.backend, social, "nosuchwordanywhere", now=NOW).notes == ()
    assert len(trail(world)) == before


@pytest.mark.parametrize("read", ["open", "more", "search", "export"])
def test_a_failing_audit_insert_fails_the_read_and_returns_nothing(
        world: TeamWorld, read: str) -> None:
    from anchor_tui.services.export import collect

    social = world.viewers["social"]
    first = open_case(world.backend, social, world.case_a, page_size=2, now=NOW)
    assert first.notes.more is not None
    before = trail(world)
    _failing_audit_inserts(world.backend)
    result: object = "nothing"
    with pytest.raises(audit.AuditWriteError) as caught:
        if read == "open":
            result = open_case(world.backend, social, world.case_a, now=NOW)
        elif read == "more":
            result = more_notes(world.backend, social, world.case_a, first.notes.more,
                                now=NOW)
        elif read == "search":
            result = search(world.backend, social, WORDS["general"], now=NOW)
        else:
            result = collect(world.backend, "social", person_of(world, world.case_a), NOW)
    assert result == "nothing"
    assert "nothing was shown" in caught.value.message
    assert WORDS["general"] not in str(caught.value)
    assert trail(world) == before


def test_policy_load_is_recorded_when_the_app_starts(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    import dataclasses
    from pathlib import Path

    from anchor_tui import app as app_module
    from anchor_tui.settings import load_settings

    url = engine.url.render_as_string(hide_password=False)
    settings = dataclasses.replace(load_settings(db_flag=url),
                                   log_dir=Path(str(tmp_path)) / "logs")
    world = build(make_backend(engine))
    ran: list[bool] = []

    def headless_run(self: app_module.AnchorApp, **_: object) -> None:
        """The real app, headless: the policy load is recorded while sign-in is shown."""
        import asyncio

        async def run() -> None:
            async with self.run_test(size=(80, 24)) as pilot:
                await pilot.app.workers.wait_for_complete()
                await pilot.pause()
                ran.append(True)

        asyncio.run(run())

    monkeypatch.setattr(app_module.AnchorApp, "run", headless_run)
    assert app_module.run_app(settings) == 0
    assert ran == [True]
    with world.backend.sessions.system("test") as s:
        (event,) = s.scalars(select(m.AuditEvent)).all()
    assert (event.action, event.actor_id, event.policy_hash) == (
        "policy.load", None, world.backend.policy.hash)
    assert event.at > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
