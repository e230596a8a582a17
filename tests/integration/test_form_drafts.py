"""Forms kept for their author when the terminal passes on (``services.form_drafts``), on
SQLite and PostgreSQL: kept, given back, replaced, discarded; seen by the author alone
(the central filter, and on PostgreSQL row-level security); told of at sign-in with the
drafts; gone with their case (removed, or erased by retention)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text

from anchor_tui.db import models as m
from anchor_tui.db import rls
from anchor_tui.db.engine import make_engine
from anchor_tui.policy.engine import calendar_day
from anchor_tui.services import retention
from anchor_tui.services.drafts import drafts_waiting, save_draft
from anchor_tui.services.form_drafts import (
    case_target,
    discard_form,
    keep_form,
    keep_refused,
    load_form,
)
from tests.conftest import PG_ADMIN_URL
from tests.deployment import deployment
from tests.integration.case_world import NOW, TeamWorld, build, huddle, make_backend

CONSENT = {"grantor": "self", "decision": "permit", "category": "health",
           "professions": ["social_work"], "valid_from": "2026-11-16", "valid_to": "",
           "evidence": "said so in the [b]meeting[/b]"}


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def test_a_kept_form_is_given_back_to_its_author_as_typed(world: TeamWorld) -> None:
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    kept_at = keep_form(world.backend, nurse, "consent", target, CONSENT,
                        case_id=world.case_a)
    assert kept_at is not None
    kept = load_form(world.backend, nurse, "consent", target)
    assert kept is not None
    assert (kept.kind, kept.target, kept.case_id, kept.fields) == (
        "consent", target, world.case_a, CONSENT)
    assert kept.saved_at == kept_at
    # Another kind of form, or another case: nothing is given back.
    assert load_form(world.backend, nurse, "task", target) is None
    assert load_form(world.backend, nurse, "consent", case_target(world.case_b)) is None


def count_kept(world: TeamWorld) -> int:
    with world.backend.sessions.system("test: kept forms") as s:
        return s.scalar(select(func.count()).select_from(m.FormDraft)) or 0


def test_a_form_given_back_replaces_its_copy_and_another_is_kept_beside_it(
        world: TeamWorld) -> None:
    """Two forms of one kind about one thing (open at once, or a refusal kept after a
    takeover kept the other): neither writes over the other; they are given back oldest
    first. A form given back and kept again replaces the copy it was given."""
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    keep_form(world.backend, nurse, "task", target, {"title": "first"}, case_id=world.case_a)
    keep_form(world.backend, nurse, "task", target, {"title": "second"},
              case_id=world.case_a)
    keep_form(world.backend, nurse, "task", target, {"title": "second"},
              case_id=world.case_a)  # (the same words: the same form, kept again)
    assert count_kept(world) == 2
    given = load_form(world.backend, nurse, "task", target)
    assert given is not None and given.fields == {"title": "first"}
    assert given.target == target  # (the form's own, whichever slot holds it)
    keep_form(world.backend, nurse, "task", target, {"title": "first, changed"},
              case_id=world.case_a, replaces=given.saved_at)
    assert count_kept(world) == 2
    assert discard_form(world.backend, nurse, "task", target, kept_at=given.saved_at) \
        is False, "the copy was replaced: its moment is another"
    first = load_form(world.backend, nurse, "task", target)
    assert first is not None and first.fields == {"title": "second"}
    assert discard_form(world.backend, nurse, "task", target, kept_at=first.saved_at)
    last = load_form(world.backend, nurse, "task", target)
    assert last is not None and last.fields == {"title": "first, changed"}
    # Given back and emptied: dropped. Nothing typed into a new form: nothing kept.
    assert keep_form(world.backend, nurse, "task", target, {}, replaces=last.saved_at) is None
    assert keep_form(world.backend, nurse, "task", target, {}) is None
    assert load_form(world.backend, nurse, "task", target) is None


def test_discarding_removes_it(world: TeamWorld) -> None:
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    keep_form(world.backend, nurse, "task", target, {"title": "call"}, case_id=world.case_a)
    assert discard_form(world.backend, nurse, "task", target)
    assert not discard_form(world.backend, nurse, "task", target)
    assert load_form(world.backend, nurse, "task", target) is None


def test_nobody_else_gets_a_kept_form_nor_a_huddle(world: TeamWorld) -> None:
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    keep_form(world.backend, nurse, "consent", target, CONSENT, case_id=world.case_a)
    for other in ("police", "social", "youth"):
        viewer = world.viewers[other]
        assert load_form(world.backend, viewer, "consent", target) is None
        assert not discard_form(world.backend, viewer, "consent", target)
        with world.backend.sessions.read(viewer) as s:
            assert s.scalars(select(m.FormDraft.fields)).all() == []  # the filter itself
    meeting = huddle(world, "nurse", "social")
    assert load_form(world.backend, meeting, "consent", target) is None
    with world.backend.sessions.read(meeting) as s:
        assert s.scalars(select(m.FormDraft.fields)).all() == []
    kept = load_form(world.backend, nurse, "consent", target)
    assert kept is not None and kept.fields == CONSENT  # (others' discards took nothing)


def test_sign_in_tells_of_kept_forms_with_the_drafts(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    assert not drafts_waiting(world.backend, nurse).any
    keep_form(world.backend, nurse, "task", case_target(world.case_a), {"title": "a"},
              case_id=world.case_a)
    keep_form(world.backend, nurse, "consent", case_target(world.case_a), CONSENT,
              case_id=world.case_a)
    waiting = drafts_waiting(world.backend, nurse)
    assert waiting.any and (waiting.count, waiting.forms) == (0, 2)
    assert waiting.form_case_ids == (world.case_a,)
    save_draft(world.backend, nurse, world.case_a, None, "health", None, "Visited")
    waiting = drafts_waiting(world.backend, nurse)
    assert (waiting.count, waiting.forms) == (1, 2)
    assert drafts_waiting(world.backend, world.viewers["social"]).forms == 0
    assert drafts_waiting(world.backend, huddle(world, "nurse")).forms == 0


def test_a_change_refused_after_its_maker_left_is_kept_with_why(world: TeamWorld) -> None:
    """Saved while the database was away, refused when it came back with its maker
    gone: kept as the same form, the refusal apart from the fields (the form never sees
    it), counted at sign-in as refused; never for a huddle."""
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    why = "The case changed meanwhile. Check the [b]consent[/b] still holds."
    assert keep_refused(world.backend, nurse, "consent", target, CONSENT, why,
                        case_id=world.case_a) is not None
    kept = load_form(world.backend, nurse, "consent", target)
    assert kept is not None
    assert (kept.fields, kept.refused) == (CONSENT, why)
    keep_form(world.backend, nurse, "task", target, {"title": "a"}, case_id=world.case_a)
    task = load_form(world.backend, nurse, "task", target)
    assert task is not None and task.refused is None
    waiting = drafts_waiting(world.backend, nurse)
    assert (waiting.forms, waiting.refused) == (2, 1)
    # Words typed in a huddle are never kept, refused or not.
    meeting = huddle(world, "nurse", "social")
    assert keep_refused(world.backend, meeting, "task", case_target(world.case_b),
                        {"title": "b"}, why, case_id=world.case_b) is None
    with world.backend.sessions.system("test: kept forms") as s:
        assert s.scalar(select(func.count()).select_from(m.FormDraft)) == 2


def test_a_case_removed_takes_its_kept_forms(world: TeamWorld) -> None:
    nurse = world.viewers["nurse"]
    with world.backend.sessions.system("test: a case to remove") as s:
        person_id = s.scalars(select(m.Case.person_id).where(m.Case.id == world.case_a)).one()
        gone = m.Case(person_id=person_id, category="first_offence", stage="notification")
        s.add(gone)
        s.flush()
        gone_id = gone.id
    keep_form(world.backend, nurse, "task", case_target(gone_id), {"title": "x"},
              case_id=gone_id)
    keep_form(world.backend, nurse, "task", case_target(world.case_a), {"title": "y"},
              case_id=world.case_a)
    with world.backend.sessions.system("test: remove the case") as s:
        s.execute(m.Case.__table__.delete().where(m.Case.id == gone_id))
    assert load_form(world.backend, nurse, "task", case_target(gone_id)) is None
    assert load_form(world.backend, nurse, "task", case_target(world.case_a)) is not None


def test_a_notification_form_kept_before_it_was_read_is_kept_with_its_case(
        world: TeamWorld) -> None:
    """The child-welfare form names its notification; kept before its screen has read
    which case that is on, the kept form still belongs to the case (so the case's
    removal and retention take it, as above). Someone else's notification names no
    case."""
    from tests.integration.test_child_welfare_answer_lost import concern

    nurse, police = world.viewers["nurse"], world.viewers["police"]
    target = f"notification:{concern(world)}"
    keep_form(world.backend, nurse, "child_welfare", target, {"recipient": "Espoo"})
    kept = load_form(world.backend, nurse, "child_welfare", target)
    assert kept is not None and kept.case_id == world.case_a
    keep_form(world.backend, police, "child_welfare", target, {"recipient": "x"})
    kept = load_form(world.backend, police, "child_welfare", target)
    assert kept is not None and kept.case_id is None


def test_retention_erases_the_kept_forms_of_an_erased_case(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.test_retention import TEST_KEY, backend_for, expired_world

    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_KEY)
    backend = backend_for(engine)
    world, recent = expired_world(backend)
    social = world.viewers["social"]
    with backend.sessions.system("test: kept forms before retention") as s:
        for case_id in (world.case_id, recent):
            s.add(m.FormDraft(author_id=social.user_id, case_id=case_id, kind="consent",
                              target=case_target(case_id), fields='{"evidence": "e"}'))
    (item,) = [p for p in retention.plan(backend) if p.case_id == world.case_id]
    assert item.drafts == 2  # the draft and the kept form
    retention.apply(backend, [item])
    with backend.sessions.system("test: kept forms after retention") as s:
        assert s.scalars(select(m.FormDraft.case_id)).all() == [recent]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(
    st.text(min_size=1, max_size=12),
    st.one_of(st.text(max_size=60), st.none(), st.booleans(), st.integers(-10**6, 10**6),
              st.lists(st.text(max_size=20), max_size=4)),
    min_size=1, max_size=6))
def test_the_fields_come_back_exactly_as_kept(world: TeamWorld,
                                              fields: dict[str, object]) -> None:
    """Whatever a form writes (markup, escape codes, any character) comes back as it was."""
    nurse, target = world.viewers["nurse"], case_target(world.case_a, ("note", 7))
    keep_form(world.backend, nurse, "reason:stage", target, fields, case_id=world.case_a)
    kept = load_form(world.backend, nurse, "reason:stage", target)
    assert kept is not None and kept.fields == fields
    assert discard_form(world.backend, nurse, "reason:stage", target, kept_at=kept.saved_at)


def test_fields_that_are_not_json_are_refused(world: TeamWorld) -> None:
    with pytest.raises(ValueError):
        keep_form(world.backend, world.viewers["nurse"], "task", case_target(world.case_a),
                  {"due": dt.date(2026, 12, 1)})


@pytest.fixture
def deployed(pg_database: str) -> Iterator[tuple[TeamWorld, Engine]]:
    """A world written by the superuser in a ``db init`` deployment, and the engine of
    the application role (no BYPASSRLS: row-level security decides)."""
    with pytest.MonkeyPatch.context() as patch, deployment(PG_ADMIN_URL, patch) as dep:
        admin, app = make_engine(dep.admin_url), make_engine(dep.app_url)
        try:
            world = build(make_backend(admin))
            yield world, app
        finally:
            admin.dispose()
            app.dispose()


@pytest.mark.postgres
def test_row_level_security_shows_a_kept_form_to_its_author_alone(
        deployed: tuple[TeamWorld, Engine]) -> None:
    world, app = deployed
    terminal = make_backend(app)
    nurse = world.viewers["nurse"]
    keep_form(terminal, nurse, "consent", case_target(world.case_a), CONSENT,
              case_id=world.case_a)

    def seen_by(viewer: object | None) -> list[str]:
        """Plain SQL as the application role: the central filter never sees it."""
        with app.connect() as conn:
            if viewer is not None:
                rls.apply_settings(conn, rls.viewer_settings(viewer, NOW,  # type: ignore[arg-type]
                                                             calendar_day(NOW)))
            return list(conn.execute(text("SELECT fields FROM form_draft")).scalars())

    assert len(seen_by(nurse)) == 1
    for other in ("police", "social", "youth"):
        assert seen_by(world.viewers[other]) == []
    assert seen_by(huddle(world, "nurse", "social")) == []
    assert seen_by(None) == []  # no viewer: no row
    with app.connect() as conn:  # nor may anyone write one as someone else
        rls.apply_settings(conn, rls.viewer_settings(world.viewers["police"], NOW,
                                                     calendar_day(NOW)))
        with pytest.raises(Exception, match="row-level security"):
            conn.execute(text(
                "INSERT INTO form_draft (author_id, kind, target, fields, saved_at) "
                "VALUES (:a, 'task', 'case:1', '{}', now())"),
                {"a": nurse.user_id})


def test_a_late_discard_leaves_a_form_kept_again_since(world: TeamWorld) -> None:
    """A form given back and then saved drops the kept copy it was given, in a worker
    that may wait for the database; should this save be refused after its author left
    meanwhile, the refusal is kept under the same kind and target first. The late
    discard takes only the copy it was given: the refusal, never seen, stays."""
    nurse, target = world.viewers["nurse"], case_target(world.case_a)
    keep_form(world.backend, nurse, "task", target, {"title": "first"}, case_id=world.case_a)
    given = load_form(world.backend, nurse, "task", target)
    assert given is not None
    keep_refused(world.backend, nurse, "task", target, {"title": "second"},
                 "The case changed meanwhile.", case_id=world.case_a)
    assert discard_form(world.backend, nurse, "task", target, kept_at=given.saved_at)
    kept = load_form(world.backend, nurse, "task", target)
    assert kept is not None and kept.fields == {"title": "second"}
    assert discard_form(world.backend, nurse, "task", target, kept_at=kept.saved_at)
    assert load_form(world.backend, nurse, "task", target) is None
