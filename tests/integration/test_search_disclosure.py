"""Search finds exactly the notes decide() allows, on random worlds, on SQLite and PostgreSQL.

Each world (``tests/worlds.py``) is written with a word of its own in every note; then
for every viewer of the world (each user, with or without break-the-glass, and a
huddle of a random subset, possibly empty) a search for that word must list exactly
the notes ``decide()`` allows, newest first, and count them; and the SQL filter must
have found them by itself (the re-check before drawing drops nothing, so it hides no
disagreement). On PostgreSQL the search reads in two windows of note ids
(``search_postgres``): random window sizes put the world's notes on either side of the
boundary, or across it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from anchor_tui.policy import NoteFacts, load_policy
from anchor_tui.services import search_postgres
from anchor_tui.services.backend import Backend
from anchor_tui.services.search import COUNT_CAP, search
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config
from tests.worlds import NOW, World, insert_world, worlds

EXAMPLES = int(os.environ.get("ANCHOR_SEARCH_DIFFERENTIAL_EXAMPLES", "150"))
WINDOWS = st.sampled_from([1, 2, 3, 5, 8, search_postgres.WINDOW])


def world_word(world: World) -> str:
    """A word only this world's notes hold (letters and digits: one search word; no
    world's word is the start of another's)."""
    return f"qx{world.notes[0].id}word"


def note_body(world: World) -> Callable[[NoteFacts], str]:
    word = world_word(world)
    return lambda note: f"{word} note {note.id} of case {note.case_id}"


def write_world(engine: Engine, world: World) -> None:
    insert_world(engine, world, note_body(world))
    if engine.dialect.name == "postgresql":
        # As if the notes had been written through the id sequence (the worlds carry
        # explicit ids): the search's windows count back from the sequence.
        with engine.begin() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('note', 'id'), :id)"),
                         {"id": max(n.id for n in world.notes)})


def check_search(backend: Backend, world: World, caplog: pytest.LogCaptureFixture) -> int:
    ctx = world.context()
    word = world_word(world)
    compared = 0
    for viewer in world.viewers:
        allowed: list[NoteFacts] = sorted(
            (n for n in world.notes if backend.policy.decide(viewer, n, ctx).allowed),
            key=lambda n: n.id, reverse=True)
        caplog.clear()
        results = search(backend, viewer, word, now=NOW)
        assert [hit.note_id for hit in results.notes] == [n.id for n in allowed], viewer
        assert results.note_count == min(len(allowed), COUNT_CAP + 1), viewer
        assert {hit.case_id for hit in results.notes} == {n.case_id for n in allowed}
        mismatches = [r for r in caplog.records if "disclosure mismatch" in r.getMessage()]
        assert mismatches == [], ("the SQL filter let through what decide() denies", viewer)
        compared += 1
    return compared


@pytest.fixture
def backend(engine: Engine) -> Backend:
    team = load_team_config(None)
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
    return Backend.from_engine(engine, policy, team)


@pytest.mark.slow(seconds=20)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds(), window=WINDOWS)
def test_search_finds_exactly_what_decide_allows(
    backend: Backend, world: World, window: int, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.ERROR, logger="anchor_tui.disclosure")
    monkeypatch.setattr(search_postgres, "WINDOW", window)
    write_world(backend.engine, world)
    assert check_search(backend, world, caplog) == len(world.viewers)


@pytest.mark.postgres
def test_the_windows_find_what_one_statement_finds(pg_url: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """More matches than are listed, on both sides of the windows' boundary, some of them
    hidden: the newest visible ones are listed and counted up to the cap, whatever the
    window."""
    from anchor_tui.db import schema
    from anchor_tui.db.engine import make_engine
    from anchor_tui.domain import Viewer
    from anchor_tui.policy import MembershipFacts
    from tests.worlds import TODAY

    engine = make_engine(pg_url)
    try:
        schema.upgrade(engine)
        team = load_team_config(None)
        backend = Backend.from_engine(
            engine, load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team), team)
        base = 7_000_000
        # The police officer works one case: general notes (visible to members) and
        # child-welfare notes (not visible to the police) interleaved, 3 : 1.
        notes = tuple(
            NoteFacts(base + i, base, base, "child_welfare" if i % 4 == 0 else "general",
                      base + 1, "social_work")
            for i in range(400))
        world = World(
            users=((base, "police"), (base + 1, "social_work")), persons=(base,),
            cases=((base, base),),
            memberships=(MembershipFacts(base, base, TODAY, None),),
            notes=notes, tasks=(), consents=(),
            viewers=(Viewer(base, "p", "Police", "police", "member"),))
        write_world(engine, world)
        visible = [n.id for n in reversed(notes) if n.category == "general"]
        for window in (1, 7, 50, 133, 399, 400, 20_000):
            monkeypatch.setattr(search_postgres, "WINDOW", window)
            results = search(backend, world.viewers[0], world_word(world), now=NOW)
            assert [hit.note_id for hit in results.notes] == visible[:len(results.notes)]
            assert len(results.notes) == 30 and results.note_count == COUNT_CAP + 1, window
            assert results.more_notes
    finally:
        engine.dispose()
