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
