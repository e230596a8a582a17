"""What retention erases must not survive elsewhere, on SQLite and PostgreSQL: in the
minutes of a huddle still on (or left on) when the case was erased, and in a correction
draft or a kept reason of a note erased by its category's own (shorter) period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from anchor_tui.db import models as m
from anchor_tui.services import huddle as service
from anchor_tui.services import retention
from anchor_tui.services.form_drafts import case_target, fields_json
from anchor_tui.services.huddle_left_on import end_left_on
from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY, HuddleWorld, build, make_backend
from tests.integration.test_audit import TEST_KEY

LIMIT = 240


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_KEY)


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


def test_a_huddle_ended_after_retention_leaves_the_erased_case_out_of_its_minutes(
        world: HuddleWorld, tmp_path: Path) -> None:
    """A huddle left on (its terminal gone) discussed case A; retention then erased case
    A's content (rebuild_after_retention only rebuilds *ended* huddles); the huddle is
    ended afterwards with ``anchor-tui huddle end-left-on --apply``. Its stored minutes
    must leave the erased case out, as a rebuild would: they name the young person and
    list the (now blank) decision of a case whose retention ended."""
    backend = world.backend
    roster = service.start_huddle(backend, world.viewers["social"], TODAY, NOW)
    roster = service.join_huddle(
        backend, service.huddle_viewer(roster, world.viewers["social"]), "nurse",
        PASSPHRASE, TODAY, NOW + dt.timedelta(minutes=2))
    viewer = service.huddle_viewer(roster, world.viewers["social"])
    service.add_decision(backend, viewer, world.case_a, "Meet the family",
                         NOW + dt.timedelta(minutes=10))
    with backend.sessions.system("test: case A closed long ago") as s:
        case = s.get(m.Case, world.case_a)
        assert case is not None
        case.stage, case.closed_reason = "closed", "no_need"
        case.closed_at = NOW - dt.timedelta(days=800)
        first, last = case.person.first_name, case.person.last_name
        # The young person has another, open case: their name stays (as it should).
        s.add(m.Case(person_id=case.person_id, category="first_offence",
                     stage="notification"))
    plans = retention.plan(backend, NOW + dt.timedelta(minutes=20))
    assert any(p.case_id == world.case_a and p.case_content for p in plans)
    retention.apply(backend, plans, NOW + dt.timedelta(minutes=20),
                    minutes_dir=tmp_path / "minutes")

    (ended,) = end_left_on(backend, NOW + dt.timedelta(minutes=10 + LIMIT + 1), LIMIT,
                           tmp_path / "minutes")

    assert first not in ended.minutes and last not in ended.minutes, (
        "the minutes of a huddle ended after retention name the young person of the "
        "erased case:\n" + ended.minutes)
    assert "Decision:" not in ended.minutes, ended.minutes
    assert "Left out: a case whose retention period ended while the huddle was on." \
        in ended.minutes


def test_a_note_erased_by_its_category_period_takes_its_correction_draft_with_it(
        engine: Engine) -> None:
    """A note category may keep a *shorter* period than its case (``retention.
    note_categories``, only ">= 1 day" is checked). Retention then erases the note's body,
    but a draft correcting that note (``draft.supersedes_id``, which starts from the
    note's text) is deleted only with the case's content: the erased words stay in the
    database, given back to the nurse when she opens the correction again."""
    import dataclasses

    from tests.integration.test_audit import backend_for, team

    backend = backend_for(engine)
    rules = backend.team.retention
    backend.team = dataclasses.replace(backend.team, retention=dataclasses.replace(
        rules, note_categories={**rules.note_categories, "health": 30}))
    world = team(backend)
    now = dt.datetime.now(dt.UTC)
    health = world.notes["health"]
    with backend.sessions.system("test: closed 100 days ago, kept 365") as s:
        case = s.get(m.Case, world.case_id)
        assert case is not None
        case.stage, case.closed_reason = "closed", "declined"
        case.closed_at = now - dt.timedelta(days=100)
        note = s.get(m.Note, health)
        assert note is not None
        words = note.body
        s.add(m.Draft(author_id=world.viewers["nurse"].user_id, case_id=case.id,
                      supersedes_id=health, category="health", body=words + " (corrected)"))
        # A reason to mark it entered in error, typed and kept for its author.
        s.add(m.FormDraft(author_id=world.viewers["nurse"].user_id, case_id=case.id,
                          kind="reason:error", target=case_target(case.id, ("note", health)),
                          fields=fields_json({"reason": words}), saved_at=now))
        s.add(m.FormDraft(author_id=world.viewers["nurse"].user_id, case_id=case.id,
                          kind="reason:error",
                          target=case_target(case.id, ("note", health)) + "#2",
                          fields=fields_json({"reason": words + "!"}), saved_at=now))
        s.add(m.FormDraft(author_id=world.viewers["nurse"].user_id, case_id=case.id,
                          kind="task", target=case_target(case.id), fields='{"title": "t"}',
                          saved_at=now))
    (plan,) = retention.plan(backend, now)
    assert plan.note_ids == (health,) and not plan.case_content
    retention.apply(backend, [plan], now)

    with backend.sessions.system("test: what is left") as s:
        assert s.get(m.Note, health).body == ""  # type: ignore[union-attr]
        left = [d.body for d in s.query(m.Draft).filter(m.Draft.supersedes_id == health)]
        forms = [(f.kind, f.fields) for f in s.query(m.FormDraft)]
    assert not any(words in body for body in left), (
        f"the erased note's text survives in its correction draft: {left!r}")
    assert forms == [("task", '{"title": "t"}')], "a kept reason about the erased note stayed"
