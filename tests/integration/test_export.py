"""Subject access export on SQLite and PostgreSQL: what the user may see and nothing else,
Markdown or JSON, audited, and no file when the audit write fails."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from anchor_tui.cli import main
from anchor_tui.services.backend import Backend
from anchor_tui.services.consents import ConsentInput, record_consent
from anchor_tui.services.export import collect
from tests.integration.test_audit import (
    PASSPHRASE,
    TEST_KEY,
    TODAY,
    Team,
    _failing_audit_inserts,
    backend_for,
    events,
    team,
)


@pytest.fixture(autouse=True)
def audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANCHOR_AUDIT_KEY", TEST_KEY)


@pytest.fixture(autouse=True)
def typed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exporting user's passphrase, piped in (``--passphrase-stdin``)."""
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSPHRASE + "\n"))


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


@pytest.fixture
def world(backend: Backend) -> Team:
    world = team(backend)
    record_consent(backend, world.viewers["nurse"], world.case_id, ConsentInput(
        "self", "permit", "health", ("social_work",), TODAY, None, "signed"))
    return world


def _url(backend: Backend) -> str:
    return backend.engine.url.render_as_string(hide_password=False)


def test_json_export_holds_what_the_user_may_see(backend: Backend, world: Team,
                                                 tmp_path: Path) -> None:
    out = tmp_path / "aino.json"
    assert main(["export", "person", str(world.person_id), "--as", "social", str(out),
                 "--db", _url(backend), "--passphrase-stdin"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    (case,) = data["cases"]
    assert {n["category"] for n in case["notes"]} == {"general", "child_welfare", "health"}
    assert "police_intel" not in out.read_text(encoding="utf-8")
    assert data["person"] == "Aino Testinen" and data["policy_hash"] == backend.policy.hash
    assert [c["status"] for c in data["consents"]] == ["in force"]
    assert out.stat().st_mode & 0o777 == 0o600
    recorded = [(e.action, e.object_id, e.consent_ids) for e in events(backend)
                if e.action in ("export", "note.disclosed")]
    consent = next(e.object_id for e in events(backend) if e.action == "consent.record")
    assert recorded == [("export", world.person_id, None),
                        ("note.disclosed", world.notes["health"], str(consent))]


def test_markdown_export_for_a_profession_that_sees_less(backend: Backend, world: Team,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "aino.md"
    assert main(["export", "person", str(world.person_id), "--as", "police", str(out),
                 "--db", _url(backend), "--passphrase-stdin"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "marker police_intel" in text and "marker general" in text
    assert "marker health" not in text and "marker child_welfare" not in text
    assert "### Notes (2)" in text


def test_export_shows_no_note_to_someone_outside_the_case(backend: Backend,
                                                          world: Team) -> None:
    export = collect(backend, "youth", world.person_id)
    assert [len(c.notes) for c in export.cases] == [0]
    assert export.consents == []
    assert export.person == "Aino Testinen"  # youth work sees names, not birth dates
    assert export.birth_date is None


def test_no_file_when_the_audit_write_fails(backend: Backend, world: Team,
                                            tmp_path: Path) -> None:
    _failing_audit_inserts(backend)
    out = tmp_path / "aino.json"
    assert main(["export", "person", str(world.person_id), "--as", "social", str(out),
                 "--db", _url(backend), "--passphrase-stdin"]) == 2
    assert not out.exists()


def test_a_wrong_format_or_user_is_said(backend: Backend, world: Team, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSPHRASE}\n" * 3))
    assert main(["export", "person", str(world.person_id), "--as", "social",
                 str(tmp_path / "aino.txt"), "--db", _url(backend), "--passphrase-stdin"]) == 2
    assert "--format md|json" in capsys.readouterr().err
    assert main(["export", "person", str(world.person_id), "--as", "nobody",
                 str(tmp_path / "a.md"), "--db", _url(backend), "--passphrase-stdin"]) == 2
    # As at sign-in: which usernames exist is not said.
    assert "Wrong username or passphrase" in capsys.readouterr().err
    assert main(["export", "person", "999", "--as", "social", str(tmp_path / "a.md"),
                 "--db", _url(backend), "--passphrase-stdin"]) == 2
    assert not list(tmp_path.glob("a.*"))


def test_the_export_is_made_only_with_the_users_own_passphrase(
        backend: Backend, world: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The export is recorded as USER's: without USER's passphrase nothing is read or
    written, and the wrong passphrase counts as a failed sign-in."""
    monkeypatch.setattr("sys.stdin", io.StringIO("not the passphrase\n"))
    out = tmp_path / "aino.md"
    assert main(["export", "person", str(world.person_id), "--as", "social", str(out),
                 "--db", _url(backend), "--passphrase-stdin"]) == 2
    assert "Wrong username or passphrase" in capsys.readouterr().err
    assert not out.exists()
    actions = [e.action for e in events(backend)]
    assert "export" not in actions and "sign_in.failed" in actions


def test_markdown_keeps_user_text_as_characters(backend: Backend, world: Team) -> None:
    """Whatever a note, a name or a task holds, the Markdown shows it, never renders it."""
    from markdown_it import MarkdownIt
    from sqlalchemy import update

    from anchor_tui.db import models as m
    from anchor_tui.services.export import render_markdown

    tricky = "````\n**loud** <script>alert(1)</script> [link](http://example.org)\n```"
    social = world.viewers["social"]
    with backend.sessions.system("test: tricky text") as s:
        s.add(m.Note(case_id=world.case_id, author_id=social.user_id,
                     author_profession="social_work", category="general", body=tricky))
        s.add(m.Task(case_id=world.case_id, title="# not a heading <b>x</b>",
                     created_by_id=social.user_id))
        s.execute(update(m.Person).where(m.Person.id == world.person_id)
                  .values(last_name="*Testinen*"))
    html = MarkdownIt("commonmark").render(render_markdown(collect(backend, "social",
                                                                   world.person_id)))
    assert "<script>" not in html and "<strong>" not in html and "<em>" not in html
    assert "<a href" not in html and "<b>" not in html
    assert html.count("<h1>") == 1  # only our own title
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "# not a heading &lt;b&gt;x&lt;/b&gt;" in html and "*Testinen*" in html


def test_an_export_is_never_readable_by_others_not_even_for_a_moment(
        backend: Backend, world: Team, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The text goes into a new 0600 file that then takes the name: a file already there
    (perhaps made by someone else, readable by all) never receives it; if the rename
    fails, nothing of it is left behind."""
    import os
    import stat

    from anchor_tui import private_file
    from anchor_tui.errors import AnchorError
    from anchor_tui.services import export as export_service

    out = tmp_path / "aino.md"
    out.write_text("someone else's file\n", encoding="utf-8")
    out.chmod(0o666)
    seen: list[int] = []
    real_replace = os.replace

    def replace(source: str, target: object) -> None:
        seen.append(stat.S_IMODE(os.stat(source).st_mode))
        assert out.read_text(encoding="utf-8") == "someone else's file\n"
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(private_file.os, "replace", replace)
    export_service.export_person(backend, "social", world.person_id, out)
    assert seen == [0o600] and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "Aino" in out.read_text(encoding="utf-8")

    def refused(source: str, target: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    again = tmp_path / "again.md"
    again.write_text("theirs\n", encoding="utf-8")
    monkeypatch.setattr(private_file.os, "replace", refused)
    with pytest.raises(AnchorError, match="Cannot write"):
        export_service.export_person(backend, "social", world.person_id, again)
    assert again.read_text(encoding="utf-8") == "theirs\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
