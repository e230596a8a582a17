"""Row-level security, the central filter and decide() agree, on hundreds of random worlds.

A deployment made by ``db init`` (an application role without BYPASSRLS, row-level
security compiled from the shipped policy). Each random world (``tests/worlds.py``) is
written below both walls, then for every viewer of the world:

- *RLS alone*: the application role, the viewer's transaction settings, plain SQL that
  the central filter never sees;
- *the filter alone*: the app's read session as the superuser (who bypasses RLS);
- *both*: the app's read session as the application role, as a terminal runs;

must each return exactly the notes, tasks, drafts and reasons given for changes to a
case ``decide()`` allows (tasks made from a note, and a huddle action's tasks with their
sources, among them; a reason has the facts of a note of its writer's profession). And a search
through both walls lists exactly the notes ``decide()`` allows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, insert, select, text

from anchor_tui.db import models as m
from anchor_tui.db import rls
from anchor_tui.db.engine import make_engine
from anchor_tui.domain import Viewer
from anchor_tui.policy import NoteFacts, Policy, TaskFacts, load_policy
from anchor_tui.policy.engine import calendar_day
from anchor_tui.services import search_postgres
from anchor_tui.services.backend import Backend
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config
from tests.conftest import PG_ADMIN_URL
from tests.deployment import Deployed, deployment
from tests.integration.test_search_disclosure import WINDOWS, check_search, write_world
from tests.worlds import NOW, World, insert_world, worlds

pytestmark = pytest.mark.postgres
EXAMPLES = int(os.environ.get("ANCHOR_DIFFERENTIAL_EXAMPLES", "500"))


class Walls:
    def __init__(self, dep: Deployed) -> None:
        team = load_team_config(None)
        self.policy: Policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
        self.admin = make_engine(dep.admin_url)
        self.app = make_engine(dep.app_url)
        self.filter_only = Backend.from_engine(self.admin, self.policy, team)
        self.terminal = Backend.from_engine(self.app, self.policy, team)

    def close(self) -> None:
        self.admin.dispose()
        self.app.dispose()


@pytest.fixture(scope="module")
def walls(pg_database: str) -> Iterator[Walls]:
    with pytest.MonkeyPatch.context() as patch, deployment(PG_ADMIN_URL, patch) as dep:
        built = Walls(dep)
        yield built
        built.close()


TABLES = (("note", m.Note), ("task", m.Task), ("draft", m.Draft),
          ("case_event_reason", m.CaseEventReason))


def _rls_only(engine: Engine, viewer: Viewer, ids: dict[str, list[int]]
              ) -> dict[str, set[int]]:
    """What row-level security alone lets ``viewer`` see of each table: one connection
    with the viewer's settings, one plain query over the three tables."""
    with engine.connect() as conn:
        rls.apply_settings(conn, rls.viewer_settings(viewer, NOW, calendar_day(NOW)))
        rows = conn.execute(text(" UNION ALL ".join(
            f"SELECT '{table}' AS kind, id FROM \"{table}\" WHERE id = ANY(:{table})"
            for table, _ in TABLES)), ids).all()
    found: dict[str, set[int]] = {table: set() for table, _ in TABLES}
    for kind, row_id in rows:
        found[kind].add(row_id)
    return found


def _session_ids(backend: Backend, viewer: Viewer, ids: dict[str, list[int]]
                 ) -> dict[str, set[int]]:
    """What the app's read session shows ``viewer`` of each entity (one unit of work)."""
    with backend.sessions.read(viewer, now=NOW) as session:
        return {table: set(session.scalars(select(entity.id).where(entity.id.in_(ids[table]))))
                for table, entity in TABLES}


def _drafts(world: World) -> list[dict[str, object]]:
    """One draft per note author and case of the world: only its author sees it."""
    seen = {(n.author_id, n.case_id) for n in world.notes}
    return [{"id": note_id, "author_id": author, "case_id": case, "supersedes_id": None,
             "category": "general", "template": None, "body": f"draft-{note_id}",
             "updated_at": NOW}
            for note_id, (author, case) in zip((n.id for n in world.notes), sorted(seen),
                                               strict=False)]


def _reasons(world: World) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """A change to each note's case with a reason that has the note's facts (and its
    id): the reason must be shown exactly where the note is."""
    events = [{"id": n.id, "case_id": n.case_id, "actor_id": n.author_id, "kind": "screened",
               "at": NOW, "from_value": "screening", "to_value": "take"} for n in world.notes]
    reasons = [{"id": n.id, "event_id": n.id, "case_id": n.case_id, "author_id": n.author_id,
                "author_profession": n.author_profession, "category": n.category,
                "text": f"reason-{n.id}"} for n in world.notes]
    return events, reasons


def check_world(walls: Walls, world: World) -> int:
    insert_world(walls.admin, world)
    drafts = _drafts(world)
    events, reasons = _reasons(world)
    with walls.admin.begin() as conn:
        conn.execute(insert(m.Draft), drafts)
        conn.execute(insert(m.CaseEvent), events)
        conn.execute(insert(m.CaseEventReason), reasons)
        # A task typed in a huddle over a reason (each reason has its note's id).
        told = [{"task_id": t.id, "reason_id": r.id}
                for t in world.tasks for r in t.source_reasons]
        if told:
            conn.execute(insert(m.TaskSourceReason), told)
    ctx = world.context()
    policy = walls.policy
    compared = 0
    for viewer in world.viewers:
        expected = {
            "note": {n.id for n in world.notes if policy.decide(viewer, n, ctx).allowed},
            "task": {t.id for t in world.tasks if policy.decide_task(viewer, t, ctx).allowed},
            "draft": {int(str(d["id"])) for d in drafts
                      if viewer.purpose == "individual" and d["author_id"] == viewer.user_id},
            "case_event_reason": {n.id for n in world.notes
                                  if policy.decide(viewer, n, ctx).allowed},
        }
        ids = {"note": [n.id for n in world.notes], "task": [t.id for t in world.tasks],
               "draft": [int(str(d["id"])) for d in drafts],
               "case_event_reason": [n.id for n in world.notes]}
        assert _rls_only(walls.app, viewer, ids) == expected, ("RLS alone", viewer)
        assert _session_ids(walls.filter_only, viewer, ids) == expected, ("filter", viewer)
        assert _session_ids(walls.terminal, viewer, ids) == expected, ("both", viewer)
        compared += 1
    return compared


@pytest.mark.slow(seconds=120)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds())
def test_rls_agrees_with_the_filter_and_decide(walls: Walls, world: World) -> None:
    assert check_world(walls, world) == len(world.viewers)


@pytest.mark.slow(seconds=15)
@settings(max_examples=max(1, EXAMPLES // 5), deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds(), window=WINDOWS)
def test_search_through_both_walls_finds_what_decide_allows(
    walls: Walls, world: World, window: int, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A search as a terminal runs it (the application role: the central filter and
    row-level security), in its two windows of note ids, lists exactly what decide()
    allows."""
    caplog.set_level(logging.ERROR, logger="anchor_tui.disclosure")
    monkeypatch.setattr(search_postgres, "WINDOW", window)
    write_world(walls.admin, world)
    assert check_search(walls.terminal, world, caplog) == len(world.viewers)


def test_a_huddle_actions_task_behind_both_walls(walls: Walls) -> None:
    """The tasks of huddle actions over a health note and over the birth date: row-level
    security, the filter and decide() agree for each member and for a huddle."""
    from tests.integration.test_disclosure_differential import sourced_world

    world = sourced_world(8_100_000)
    assert check_world(walls, world) == len(world.viewers)


def test_a_task_typed_over_a_reason_behind_both_walls(walls: Walls) -> None:
    """A task typed in a huddle over the nurse's health reason (not over the health note
    itself): the police, who work the case, see it through neither wall; row-level
    security, the filter and decide() agree for each member and for the huddle."""
    from anchor_tui.domain import Attendee
    from anchor_tui.policy import MembershipFacts
    from tests.worlds import TODAY

    b = 8_200_000
    users = ((b, "police"), (b + 1, "social_work"), (b + 2, "health"))
    health = NoteFacts(b, b, b, "health", b + 2, "health")
    general = NoteFacts(b + 1, b, b, "general", b + 1, "social_work")
    world = World(
        users=users, persons=(b,), cases=((b, b),),
        memberships=tuple(MembershipFacts(b, u, TODAY, None) for u, _ in users),
        notes=(health, general),
        tasks=(TaskFacts(b, b, None, b + 2, source_notes=(general,), source_reasons=(health,)),
               TaskFacts(b + 1, b, None, b + 2, source_notes=(general,))),
        consents=(),
        viewers=(*(Viewer(u, f"u{u}", "U", p, "member") for u, p in users),
                 Viewer(b + 1, "h", "Huddle", "social_work", "member", purpose="huddle",
                        attendees=(Attendee(b + 1, "social_work"), Attendee(b, "police")))),
    )
    ctx = world.context()
    police = world.viewers[0]
    assert not walls.policy.decide_task(police, world.tasks[0], ctx).allowed
    assert walls.policy.decide_task(police, world.tasks[1], ctx).allowed
    assert check_world(walls, world) == len(world.viewers)


def test_no_viewer_sees_no_protected_row(walls: Walls) -> None:
    """A transaction of the application role that says nobody gets 0 rows, whatever it
    asks; an administration transaction that names its reason sees them all."""
    # Rows of every table, whichever tests ran before on this worker.
    b = 8_000_000
    check_world(walls, World(
        users=((b, "police"),), persons=(b,), cases=((b, b),), memberships=(),
        notes=(NoteFacts(b, b, b, "general", b, "police"),),
        tasks=(TaskFacts(b, b, None, b),), consents=(),
        viewers=(Viewer(b, "p", "Police", "police", "member"),)))
    with walls.admin.connect() as conn:
        totals = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar()
                  for t in ("note", "task", "draft", "case_event_reason")}
    assert all(totals.values())
    with walls.app.connect() as conn:
        for table in totals:
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == 0
            assert conn.execute(text(f'SELECT id FROM "{table}" LIMIT 5')).all() == []
        conn.rollback()
        rls.apply_settings(conn, rls.system_settings("test: count everything"))
        for table, total in totals.items():
            assert conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == total
        conn.rollback()
        # SET LOCAL: the next transaction on the same connection says nobody again.
        assert conn.execute(text("SELECT count(*) FROM note")).scalar() == 0


def test_the_viewer_is_not_left_on_a_pooled_connection(walls: Walls) -> None:
    """After a session of one viewer, a raw transaction on the same pooled connection
    sees nothing: the settings were local to the session's transaction."""
    viewer = Viewer(1, "x", "X", "police", "member")
    with walls.terminal.sessions.read(viewer, now=NOW) as session:
        session.scalars(select(m.Note.id).limit(1)).all()
        raw = session.connection().connection.dbapi_connection
    with walls.app.connect() as conn:
        assert conn.connection.dbapi_connection is raw  # the pool handed back the same one
        assert conn.execute(text("SELECT current_setting('anchor.viewer', true)")).scalar() \
            in ("", None)
        assert conn.execute(text("SELECT count(*) FROM note")).scalar() == 0
