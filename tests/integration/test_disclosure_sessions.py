"""The central filter in real sessions: fail closed, viewer switches, live consent changes,
and the policy commands."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm.exc import DetachedInstanceError

from anchor_tui.cli import main
from anchor_tui.db import models as m
from anchor_tui.db.session import ViewerSession
from anchor_tui.domain import Viewer
from anchor_tui.errors import NoViewerError
from anchor_tui.policy import load_policy
from anchor_tui.services.backend import Backend
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

TODAY = dt.date.today()


@pytest.fixture
def backend(engine: Engine) -> Backend:
    team = load_team_config(None)
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team)
    return Backend.from_engine(engine, policy, team)


def _team(backend: Backend) -> dict[str, Viewer]:
    """One case worked by a police officer, a social worker and a nurse, with notes of
    each category and the young person's consent for health -> social work."""
    with backend.sessions.system("test world") as s:
        users = {
            name: m.User(username=name, display_name=name.title(), profession=prof,
                         passphrase_hash="-")
            for name, prof in [("police", "police"), ("social", "social_work"),
                               ("nurse", "health")]
        }
        s.add_all(users.values())
        person = m.Person(first_name="Aino", last_name="Testinen")
        s.add(person)
        s.flush()
        case = m.Case(person_id=person.id, category="substance_use", stage="assessment")
        s.add(case)
        s.flush()
        for user in users.values():
            s.add(m.CaseMember(case_id=case.id, user_id=user.id,
                               valid_from=TODAY - dt.timedelta(days=10)))
        for author, category in [("police", "police_intel"), ("nurse", "health"),
                                 ("social", "general"), ("social", "child_welfare")]:
            u = users[author]
            s.add(m.Note(case_id=case.id, author_id=u.id, author_profession=u.profession,
                         category=category, body=f"marker {category}"))
        s.add(m.Task(case_id=case.id, title="call home", assignee_id=users["social"].id,
                     created_by_id=users["social"].id))
        s.add(m.Draft(author_id=users["nurse"].id, case_id=case.id, category="health",
                      body="unfinished"))
        s.add(m.Consent(person_id=person.id, grantor="self", decision="permit",
                        category="health", receiving_profession="social_work",
                        valid_from=TODAY - dt.timedelta(days=5),
                        recorded_by_id=users["social"].id))
        s.flush()
        return {name: Viewer(u.id, u.username, u.display_name, u.profession, "member")
                for name, u in users.items()}


def _categories(backend: Backend, viewer: Viewer) -> set[str]:
    with backend.sessions.read(viewer) as s:
        return set(s.scalars(select(m.Note.category)))


@pytest.mark.parametrize(
    "statement",
    [
        select(m.Note),
        select(func.count()).select_from(m.Note),
        select(m.Case.id).where(select(m.Note.id).where(m.Note.case_id == m.Case.id).exists()),
        select(m.Case.id).join(m.Task, m.Task.case_id == m.Case.id),
        select(m.Draft.body),
    ],
    ids=["notes", "count", "exists", "join-task", "drafts"],
)
def test_protected_query_without_viewer_fails_closed(backend: Backend, statement: object) -> None:
    _team(backend)
    with ViewerSession(bind=backend.engine) as session, pytest.raises(NoViewerError):
        session.execute(statement)  # type: ignore[call-overload]


def test_unprotected_query_without_viewer_works(backend: Backend) -> None:
    _team(backend)
    with ViewerSession(bind=backend.engine) as session:
        assert session.scalar(select(func.count()).select_from(m.Case)) == 1


def test_each_viewer_sees_what_the_policy_allows(backend: Backend) -> None:
    viewers = _team(backend)
    assert _categories(backend, viewers["police"]) == {"police_intel", "general"}
    assert _categories(backend, viewers["social"]) == {"general", "child_welfare", "health"}
    assert _categories(backend, viewers["nurse"]) == {"general", "health"}
    with backend.sessions.read(viewers["nurse"]) as s:
        assert s.scalars(select(m.Draft.body)).all() == ["unfinished"]
    with backend.sessions.read(viewers["social"]) as s:
        assert s.scalars(select(m.Draft.body)).all() == []


def test_nothing_survives_a_viewer_switch(backend: Backend) -> None:
    viewers = _team(backend)
    with backend.sessions.read(viewers["police"]) as first:
        intel = first.scalars(select(m.Note).where(m.Note.category == "police_intel")).one()
        intel_id = intel.id
        assert intel in first
    # The first viewer's objects were expired when their unit of work ended: their
    # content cannot be read any more, by anyone.
    with pytest.raises(DetachedInstanceError):
        _ = intel.body
    with backend.sessions.read(viewers["social"]) as second:
        assert intel not in second
        assert second.get(m.Note, intel_id) is None
        assert second.scalars(select(m.Note).where(m.Note.id == intel_id)).all() == []
        assert all(obj is not intel for obj in second.identity_map.values())


def test_a_read_unit_of_work_never_writes(backend: Backend) -> None:
    """PostgreSQL reads run READ ONLY (and end with COMMIT, keeping psycopg's prepared
    statements); SQLite reads roll back. Either way a write inside a read is not kept."""
    viewers = _team(backend)
    with backend.sessions.system("test") as s:
        before = s.scalars(select(m.Person.first_name)).all()
    try:
        with backend.sessions.read(viewers["police"]) as s:
            s.execute(update(m.Person).values(first_name="Changed"))
    except Exception as error:  # PostgreSQL refuses the write itself
        assert backend.engine.dialect.name == "postgresql", error
        assert "read-only" in str(error.__cause__ or error)
    else:
        assert backend.engine.dialect.name == "sqlite"
    with backend.sessions.system("test") as s:
        assert s.scalars(select(m.Person.first_name)).all() == before


@pytest.mark.parametrize("db_kind", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_board_reads_plan_each_statement_for_its_parameters(backend: Backend) -> None:
    """PostgreSQL: a read asking for custom plans (the board's filter, whose name prefixes
    a generic plan cannot look up by index) has them in its transaction only; any other
    read keeps PostgreSQL's default (a prepared note query keeps its plan). The viewer's
    settings come with it, so row-level security still sees who reads. (SQLite plans
    every statement anew.)"""
    from sqlalchemy import text

    viewers = _team(backend)
    seen = []
    for custom, mode in ((True, "force_custom_plan"), (False, "auto"), (True,
                                                                      "force_custom_plan")):
        with backend.sessions.read(viewers["police"], custom_plans=custom) as s:
            assert s.execute(text("SHOW plan_cache_mode")).scalar_one() == mode
            assert s.execute(text("SELECT current_setting('anchor.viewer')")).scalar_one()
            seen.append(sorted(s.scalars(select(m.Note.category))))
        with backend.sessions.read(viewers["police"]) as s:  # not left on the connection
            assert s.execute(text("SHOW plan_cache_mode")).scalar_one() == "auto"
    assert seen == [["general", "police_intel"]] * 3


def test_huddle_sees_the_intersection_and_empty_huddle_nothing(backend: Backend) -> None:
    viewers = _team(backend)
    social, nurse = viewers["social"], viewers["nurse"]
    huddle = Viewer(social.user_id, "social", "Social", "social_work", "member",
                    purpose="huddle", attendees=(*social.audience, *nurse.audience))
    assert _categories(backend, huddle) == {"general", "health"}
    with backend.sessions.read(huddle) as s:
        assert s.scalars(select(m.Draft)).all() == []  # drafts never show in a huddle
    empty = Viewer(social.user_id, "social", "Social", "social_work", "member",
                   purpose="huddle", attendees=())
    assert _categories(backend, empty) == set()
    with backend.sessions.read(empty) as s:
        assert s.scalar(select(func.count()).select_from(m.Note)) == 0
        assert s.scalar(select(func.count()).select_from(m.Task)) == 0


def test_withdrawal_in_another_process_applies_to_the_next_query(
    backend: Backend, tmp_path: Path
) -> None:
    viewers = _team(backend)
    db_url = backend.engine.url.render_as_string(hide_password=False)
    assert "health" in _categories(backend, viewers["social"])
    script = tmp_path / "withdraw.py"
    script.write_text(textwrap.dedent(f"""
        import datetime as dt
        from sqlalchemy import update
        from anchor_tui.db import models as m
        from anchor_tui.db.engine import make_engine
        engine = make_engine({db_url!r})
        with engine.begin() as conn:
            conn.execute(update(m.Consent).values(
                withdrawn_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    """))
    subprocess.run([sys.executable, str(script)], check=True, timeout=60)
    assert "health" not in _categories(backend, viewers["social"])
    # ...and a new consent, recorded elsewhere, applies just as fast.
    with backend.engine.begin() as conn:
        conn.execute(update(m.Consent).values(withdrawn_at=None))
    assert "health" in _categories(backend, viewers["social"])


def test_policy_commands(backend: Backend, sqlite_url: str, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check"]) == 0
    assert load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml").hash in capsys.readouterr().out

    bad = tmp_path / "disclosure.yaml"
    bad.write_text((PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text("utf-8")
                   .replace("when: [case_member, same_profession]", "when: [is_friend]"))
    assert main(["policy", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "unknown condition 'is_friend'" in err and "Traceback" not in err

    assert main(["policy", "matrix", "--category", "police_intel"]) == 0
    out = capsys.readouterr().out
    assert "police-intel-stays-with-police" in out and "police-intel-not-in-huddle" in out

    # A misspelt category is said, not answered with an empty table (which would read
    # as "nobody sees it").
    assert main(["policy", "matrix", "--category", "helth"]) == 2
    captured = capsys.readouterr()
    assert "no note category 'helth'" in captured.err and "health" in captured.err
    assert captured.out == ""


def test_policy_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'explain.sqlite3'}"
    from anchor_tui.db import schema
    from anchor_tui.db.engine import make_engine

    engine = make_engine(url)
    schema.upgrade(engine)
    team = load_team_config(None)
    backend = Backend.from_engine(
        engine, load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml", team=team), team)
    viewers = _team(backend)
    with backend.sessions.system("test") as s:
        intel = s.scalars(select(m.Note.id).where(m.Note.category == "police_intel")).one()
        health = s.scalars(select(m.Note.id).where(m.Note.category == "health")).one()
    assert main(["--db", url, "policy", "explain", "--user", "social", "--note", str(intel)]) == 0
    out = capsys.readouterr().out
    assert "does NOT see" in out and "police-intel-stays-with-police" in out
    assert "marker" not in out  # never the note text
    assert main(["--db", url, "policy", "explain", "--user", "social", "--note", str(health)]) == 0
    out = capsys.readouterr().out
    assert "SEES" in out and "health-with-consent" in out and "consent ids" in out
    assert main(["--db", url, "policy", "explain", "--user", "nobody", "--note", "1"]) == 2
    assert viewers


def test_app_refuses_to_start_with_a_bad_policy(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "disclosure.yaml").write_text(
        "version: 1\nprofessions: []\nrules: !!python/object:os.system x\n")
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["--db", url, "--config", str(config), "run"]) == 2
    err = capsys.readouterr().err
    assert "disclosure.yaml:3" in err and "Traceback" not in err
