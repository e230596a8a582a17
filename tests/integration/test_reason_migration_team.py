"""Migration 0015 files each existing reason as the team in use would file it now.

A reason moved out of the case's history is disclosed like a note of its writer's
profession, in the category the note editor starts that profession with: the team's
``default_note_category`` (anchor.yaml) and the team's policy, as the app writes every
reason from then on. The migration read the shipped anchor.yaml instead: on a team whose
social workers write child-welfare notes by default, their old screening reasons became
general notes, read by every member of the case (the police too), while a reason they
give after the upgrade is not.

The embedded database is upgraded when the app opens it (``Backend.open``), with the
team's settings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from anchor_tui.db import schema
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import case_ref, mark_screened
from anchor_tui.services.case_view import open_case
from anchor_tui.services.disclosure import reason_category
from anchor_tui.settings import load_settings
from tests.integration.case_world import build, make_backend

TEAM_YAML = """\
default_note_category:
  police: general
  social_work: child_welfare
  health: health
  youth_work: youth_work
"""


@pytest.mark.parametrize("db_kind", ["sqlite"], indirect=True)
def test_0015_files_old_reasons_under_the_teams_own_categories(
        engine: Engine, tmp_path: Path) -> None:
    world = build(make_backend(engine))
    backend, social = world.backend, world.viewers["social"]
    mark_screened(backend, social, world.case_a,
                  case_ref(backend, social, world.case_a).version, take=True,
                  reason="Mother says the father drinks")
    schema.downgrade(engine, "0014")  # a database of the version before the reasons' table

    config = tmp_path / "config"
    config.mkdir()
    (config / "anchor.yaml").write_text(TEAM_YAML)
    settings = dataclasses.replace(load_settings(None, str(config)),
                                   db_url=engine.url.render_as_string(hide_password=False))
    team_backend = Backend.open(settings)  # upgrades the embedded database
    try:
        assert schema.current_revision(engine) == schema.HEAD
        police = world.viewers["police"]  # a member of case A, no consent on record
        reasons = [e.reason for e in open_case(team_backend, police, world.case_a).history
                   if e.kind in ("screened", "stage")]
        assert reasons and all(r is None for r in reasons), reasons
        filed = reason_category(team_backend, "social_work")
        assert filed == "child_welfare"
        with engine.connect() as conn:
            moved = set(conn.execute(text(
                "SELECT author_profession, category FROM case_event_reason")).all())
        assert moved == {("social_work", filed)}, "not filed as the team files it now"
        assert "Mother says the father drinks" in [
            e.reason for e in open_case(team_backend, social, world.case_a).history]
    finally:
        team_backend.close()


def test_0016_gives_earlier_huddle_tasks_every_reason_given_before_them(
        engine: Engine) -> None:
    """Tasks typed in a huddle before 0016 carry no reasons, and what the room read was
    not recorded: the upgrade gives each every reason of its case given at or before it
    (only narrower); a task made elsewhere gets none."""
    import datetime as dt

    from anchor_tui.services import huddle
    from anchor_tui.services.tasks import add_task
    from tests.integration.huddle_world import NOW, PASSPHRASE, TODAY
    from tests.integration.huddle_world import build as build_huddle
    from tests.integration.huddle_world import make_backend as huddle_backend

    world = build_huddle(huddle_backend(engine))
    backend, social, nurse = world.backend, world.viewers["social"], world.viewers["nurse"]
    mark_screened(backend, nurse, world.case_a, case_ref(backend, nurse, world.case_a).version,
                  take=True, reason="Known to psychiatry")
    with engine.begin() as conn:  # given before the huddle (the world's clock is fixed)
        conn.execute(text("UPDATE case_event SET at = :at WHERE case_id = :c"),
                     {"at": NOW - dt.timedelta(days=1), "c": world.case_a})
    roster = huddle.start_huddle(backend, social, TODAY, NOW)
    roster = huddle.join_huddle(backend, huddle.huddle_viewer(roster, social), "nurse",
                                PASSPHRASE, TODAY, NOW + dt.timedelta(minutes=1))
    room = huddle.huddle_viewer(roster, social)
    typed = NOW + dt.timedelta(minutes=2)
    huddle.add_action(backend, room, world.case_a, "Refer to detox", None,
                      TODAY + dt.timedelta(days=3), TODAY, typed)
    add_task(backend, social, world.case_a, "Call home", None, None, TODAY)

    def told() -> dict[str, int]:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT task.title, count(s.id) FROM task LEFT JOIN task_source_reason s "
                "ON s.task_id = task.id WHERE task.title IN ('Refer to detox', 'Call home') "
                "GROUP BY task.title")).all()
        return {title: count for title, count in rows}

    with engine.connect() as conn:
        reasons = conn.execute(text(
            "SELECT count(*) FROM case_event_reason WHERE case_id = :c"),
            {"c": world.case_a}).scalar()
    assert reasons
    recorded = told()
    assert recorded["Call home"] == 0
    seen_by_room = recorded["Refer to detox"]
    schema.downgrade(engine, "0015")
    assert "task_source_reason" not in _tables(engine)
    schema.upgrade(engine)
    assert told() == {"Refer to detox": reasons, "Call home": 0}
    assert seen_by_room == reasons  # the room of social work and the nurse read them all


def _tables(engine: Engine) -> set[str]:
    from sqlalchemy import inspect

    with engine.connect() as conn:
        return set(inspect(conn).get_table_names())
