"""Consents on SQLite and PostgreSQL, through the real sessions and the central filter:
the young person's refusal beats a guardian's permit, a withdrawal hides notes on the
next query, who may record, one row per profession, history and expiry."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.consents import (
    ConsentInput,
    consent_history,
    expiring_consents,
    record_consent,
    withdraw_consent,
)
from tests.integration.test_audit import TODAY, Team, events, team

pytestmark = pytest.mark.usefixtures("audit_key")


@pytest.fixture
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.test_audit import TEST_KEY

    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_KEY)


@pytest.fixture
def backend(engine: object) -> Backend:
    from tests.integration.test_audit import backend_for

    return backend_for(engine)  # type: ignore[arg-type]


@pytest.fixture
def world(backend: Backend) -> Team:
    return team(backend)


def health_to(grantor: str, decision: str, *professions: str,
              valid_to: dt.date | None = None) -> ConsentInput:
    return ConsentInput(grantor, decision, "health", professions or ("social_work",),
                        TODAY - dt.timedelta(days=1), valid_to, "signed form")


def categories_seen(backend: Backend, viewer: Viewer) -> set[str]:
    with backend.sessions.read(viewer) as s:
        return set(s.scalars(select(m.Note.category)))


def test_the_young_persons_refusal_beats_a_guardians_permit(backend: Backend,
                                                             world: Team) -> None:
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    assert "health" not in categories_seen(backend, social)
    record_consent(backend, nurse, world.case_id, health_to("guardian", "permit"))
    assert "health" in categories_seen(backend, social)
    record_consent(backend, nurse, world.case_id, health_to("self", "deny"))
    assert "health" not in categories_seen(backend, social)
    # A legal representative's permit cannot override the refusal either.
    record_consent(backend, nurse, world.case_id, health_to("legal_representative", "permit"))
    assert "health" not in categories_seen(backend, social)


def test_a_guardians_refusal_does_not_override_the_young_persons_permit(
        backend: Backend, world: Team) -> None:
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    record_consent(backend, nurse, world.case_id, health_to("self", "permit"))
    record_consent(backend, nurse, world.case_id, health_to("guardian", "deny"))
    assert "health" in categories_seen(backend, social)


def test_withdrawal_hides_previously_visible_notes_on_the_next_query(backend: Backend,
                                                                      world: Team) -> None:
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    (consent_id,) = record_consent(backend, nurse, world.case_id, health_to("self", "permit"))
    with backend.sessions.read(social) as s:
        assert s.scalar(select(m.Note.body).where(m.Note.category == "health")) \
            == "marker health"
    withdraw_consent(backend, nurse, world.case_id, consent_id)
    assert "health" not in categories_seen(backend, social)
    with backend.sessions.read(social) as s:
        assert s.scalars(select(m.Note).where(m.Note.id == world.notes["health"])).all() == []
    history = consent_history(backend, nurse, world.case_id)
    assert [(line.consent_id, line.status) for line in history.lines] == [
        (consent_id, "withdrawn")]
    with pytest.raises(AnchorError, match="already withdrawn"):
        withdraw_consent(backend, nurse, world.case_id, consent_id)


def test_one_row_per_receiving_profession_and_each_is_audited(backend: Backend,
                                                              world: Team) -> None:
    ids = record_consent(backend, world.viewers["social"], world.case_id,
                         health_to("self", "permit", "social_work", "police"))
    assert len(ids) == 2
    with backend.sessions.system("test") as s:
        rows = s.scalars(select(m.Consent).order_by(m.Consent.id)).all()
        assert [r.receiving_profession for r in rows] == ["social_work", "police"]
        assert all(r.evidence == "signed form" and r.person_id == world.person_id
                   for r in rows)
    recorded = [(e.action, e.object_id, e.person_id) for e in events(backend)]
    assert recorded == [("consent.record", ids[0], world.person_id),
                        ("consent.record", ids[1], world.person_id)]


def test_only_members_and_leads_may_handle_consents(backend: Backend, world: Team) -> None:
    youth = world.viewers["youth"]  # not on the case
    with pytest.raises(AnchorError, match="members and leads"):
        record_consent(backend, youth, world.case_id, health_to("self", "permit"))
    with pytest.raises(AnchorError, match="members and leads"):
        consent_history(backend, youth, world.case_id)
    assert [(e.action, e.actor_id) for e in events(backend)] == [
        ("access.denied", youth.user_id)] * 2
    with backend.sessions.system("test") as s:
        assert s.scalars(select(m.Consent)).all() == []
    # A lead may, without working the case.
    assert record_consent(backend, world.viewers["lead"], world.case_id,
                          health_to("self", "permit"))


@pytest.mark.parametrize(("change", "problem"), [
    ({"grantor": "neighbour"}, "who gave it"),
    ({"decision": "maybe"}, "permits or refuses"),
    ({"category": "gossip"}, "not a note category"),
    ({"professions": ()}, "at least one receiving profession"),
    ({"professions": ("astrology",)}, "not a profession"),
    ({"valid_to": TODAY - dt.timedelta(days=5)}, "ends before it starts"),
    ({"evidence": "  "}, "how the consent was given"),
])
def test_an_incomplete_form_is_refused(backend: Backend, world: Team,
                                       change: dict[str, object], problem: str) -> None:
    import dataclasses

    data = dataclasses.replace(health_to("self", "permit"), **change)  # type: ignore[arg-type]
    with pytest.raises(AnchorError, match=problem):
        record_consent(backend, world.viewers["nurse"], world.case_id, data)


def test_history_labels_and_expiring_consents(backend: Backend, world: Team) -> None:
    nurse = world.viewers["nurse"]
    soon = TODAY + dt.timedelta(days=5)
    (ending,) = record_consent(backend, nurse, world.case_id,
                               health_to("self", "permit", valid_to=soon))
    later = ConsentInput("guardian", "permit", "general", ("youth_work",),
                         TODAY + dt.timedelta(days=3), None, "phone call")
    (future,) = record_consent(backend, nurse, world.case_id, later)
    history = consent_history(backend, nurse, world.case_id)
    assert history.person_label == "Aino Testinen"
    assert {(line.consent_id, line.status) for line in history.lines} == {
        (ending, "in force"), (future, "not yet in force")}
    expiring = expiring_consents(backend, nurse, within_days=14)
    assert [(e.case_id, e.consent_id, e.valid_to) for e in expiring] == [
        (world.case_id, ending, soon)]
    assert expiring_consents(backend, world.viewers["youth"]) == []


# --- through the case view, and in another process -------------------------------------

def health_shown(backend: Backend, viewer: Viewer, world: Team) -> bool:
    """Whether the case view shows the nurse's health note to ``viewer``."""
    from anchor_tui.services.case_view import open_case

    record = open_case(backend, viewer, world.case_id)
    return world.notes["health"] in {note.note_id for note in record.notes.notes}


def test_precedence_holds_in_the_case_view(backend: Backend, world: Team) -> None:
    social, nurse = world.viewers["social"], world.viewers["nurse"]
    assert not health_shown(backend, social, world)
    record_consent(backend, nurse, world.case_id, health_to("guardian", "permit"))
    assert health_shown(backend, social, world)
    (refusal,) = record_consent(backend, nurse, world.case_id, health_to("self", "deny"))
    assert not health_shown(backend, social, world)
    # Withdrawing the young person's refusal lets the guardian's permit count again.
    withdraw_consent(backend, nurse, world.case_id, refusal)
    assert health_shown(backend, social, world)


READER = """
import json, sys
from sqlalchemy import select
from anchor_tui.db import models as m
from anchor_tui.db.engine import make_engine
from anchor_tui.policy import load_policy
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import open_case
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

team = load_team_config(None)
policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
backend = Backend.from_engine(make_engine(sys.argv[1]), policy, team)
with backend.sessions.system("reader") as s:
    viewer = viewer_for(s.scalars(select(m.User).where(m.User.username == "social")).one())
for line in sys.stdin:
    record = open_case(backend, viewer, int(line))
    print(json.dumps([note.note_id for note in record.notes.notes]), flush=True)
"""


def test_withdrawal_hides_the_notes_in_another_running_process(backend: Backend,
                                                                world: Team) -> None:
    """A terminal that already showed the note (same process, same sessions factory and
    compiled filter) no longer shows it on its next read after the withdrawal."""
    import json
    import os
    import subprocess
    import sys

    from tests.integration.test_audit import TEST_KEY

    url = backend.engine.url.render_as_string(hide_password=False)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, url], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "ANCHOR_AUDIT_KEY": TEST_KEY})
    assert reader.stdin is not None and reader.stdout is not None

    def shown_there() -> set[int]:
        assert reader.stdin is not None and reader.stdout is not None
        reader.stdin.write(f"{world.case_id}\n")
        reader.stdin.flush()
        return set(json.loads(reader.stdout.readline()))

    try:
        health = world.notes["health"]
        assert health not in shown_there()
        (consent,) = record_consent(backend, world.viewers["nurse"], world.case_id,
                                    health_to("self", "permit"))
        assert health in shown_there()
        withdraw_consent(backend, world.viewers["nurse"], world.case_id, consent)
        assert health not in shown_there()
        assert world.notes["general"] in shown_there()  # the rest is still shown
    finally:
        reader.stdin.close()
        assert reader.wait(timeout=30) == 0
