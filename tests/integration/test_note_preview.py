"""The editor's disclosure preview, on SQLite and PostgreSQL: what it says, and that it
says what the central filter then does with the saved note."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError
from anchor_tui.services.note_preview import author_may_read, huddle_line, preview, read_facts
from anchor_tui.services.notes import NoteInput, save_note
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, make_backend


@pytest.fixture
def world(engine: Engine) -> TeamWorld:
    return build(make_backend(engine))


def lines(world: TeamWorld, author: str, category: str) -> dict[str, str]:
    facts = read_facts(world.backend, world.viewers[author], world.case_a, NOW)
    return {v.profession: v.text() for v in preview(world.backend.policy, facts, category)}


def test_the_preview_says_who_sees_a_health_note_and_why(world: TeamWorld) -> None:
    with world.backend.sessions.system("test: a consent with an end") as s:
        person = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_a))
        s.add(m.Consent(person_id=person, grantor="self", decision="permit", category="health",
                        receiving_profession="youth_work", valid_from=TODAY,
                        valid_to=dt.date(2027, 1, 31),
                        recorded_by_id=world.viewers["youth"].user_id))
    assert lines(world, "nurse", "health") == {
        "police": "Police: no, the health record never reaches the police",
        "social_work": "Social work: yes, consent in force (no end date)",
        "health": "Health: no, nobody else of Health works this case",
        "youth_work": "Youth work: yes, consent until 2027-01-31",
    }


def test_the_preview_says_nothing_of_consents_to_who_may_not_see_them(
        world: TeamWorld) -> None:
    """Consents are shown to the case's members and leads in their own work: a writer
    who does not work the case, or a huddle, reads the same preview whatever the young
    person has allowed ("if consent" where only a consent could let a profession in);
    a member sees the consent take effect. (Youth work's notes: the health record never
    reaches the police, whatever consent says.)"""
    from tests.integration.case_world import huddle

    def police_line(viewer: object, case_id: int) -> str:
        from anchor_tui.domain import Viewer

        assert isinstance(viewer, Viewer)
        facts = read_facts(world.backend, viewer, case_id, NOW)
        verdicts = preview(world.backend.policy, facts, "youth_work")
        return next(v.text() for v in verdicts if v.profession == "police")

    nurse, police = world.viewers["nurse"], world.viewers["police"]
    room = huddle(world, "nurse", "police")
    seen = [(nurse, world.case_b), (room, world.case_a), (nurse, world.case_a)]
    before = [police_line(who, case) for who, case in seen]
    with world.backend.sessions.system("test: the young people consent") as s:
        for case in (world.case_a, world.case_b):
            person = s.scalar(select(m.Case.person_id).where(m.Case.id == case))
            s.add(m.Consent(person_id=person, grantor="self", decision="permit",
                            category="youth_work", receiving_profession="police",
                            valid_from=TODAY, valid_to=dt.date(2027, 3, 31),
                            recorded_by_id=police.user_id))
    after = [police_line(who, case) for who, case in seen]
    assert before[:2] == after[:2]  # not a member of B; the room
    assert "consent" in after[0] and "2027" not in after[0]
    assert before[2] != after[2] == "Police: yes, consent until 2027-03-31"  # works A


def test_the_preview_says_nothing_of_who_works_the_case_to_who_may_not_see_it(
        engine: Engine) -> None:
    """Under a policy where youth work may not see a case's members, the preview a youth
    worker reads is the same on a case social work works (A) and on one it does not (B):
    "if member" where working the case is what decides; with the shipped policy, it
    differs as the memberships do."""
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    shipped = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text(encoding="utf-8")
    hidden = shipped.replace("youth_work: [person_name, municipality, summary, lead, members]",
                             "youth_work: [person_name, municipality, summary]")
    assert hidden != shipped
    world = build(make_backend(engine))
    youth = world.viewers["youth"]
    for text, differs in ((shipped, True), (hidden, False)):
        backend = make_backend(engine, text)  # the same database, read under each policy
        social = {}
        for case in (world.case_a, world.case_b):
            facts = read_facts(backend, youth, case, NOW)
            social[case] = next(v.text() for v in preview(backend.policy, facts, "general")
                                if v.profession == "social_work")
        assert (social[world.case_a] != social[world.case_b]) is differs, social
        if not differs:
            assert social[world.case_a].startswith("Social work: if member")


def test_the_preview_names_forbids_and_the_huddle(world: TeamWorld) -> None:
    said = lines(world, "police", "police_intel")
    assert said["social_work"] == ("Social work: no, police intelligence never leaves the "
                                   "police")
    facts = read_facts(world.backend, world.viewers["police"], world.case_a, NOW)
    assert huddle_line(world.backend.policy, facts, "police_intel") == (
        "Huddle: never, police intelligence never shows in a huddle")
    assert huddle_line(world.backend.policy, facts, "general") == (
        "Huddle: only when everyone present may see it")
    general = lines(world, "police", "general")
    assert general["social_work"] == "Social work: yes, works the case"
    welfare = lines(world, "police", "child_welfare")
    assert welfare["social_work"] == "Social work: yes, child welfare notes reach Social work"
    assert welfare["health"] == "Health: no, child welfare notes need consent"


def test_the_author_is_told_when_they_could_not_read_the_note_back(world: TeamWorld) -> None:
    facts = read_facts(world.backend, world.viewers["nurse"], world.case_a, NOW)
    [you, *_rest] = preview(world.backend.policy, facts, "police_intel")
    assert you.text() == "You: no, police intelligence never leaves the police"
    assert not author_may_read(world.backend.policy, facts, "police_intel")
    assert author_may_read(world.backend.policy, facts, "health")


def test_a_profession_not_on_the_case_is_told_so(world: TeamWorld) -> None:
    facts = read_facts(world.backend, world.viewers["police"], world.case_b, NOW)
    said = {v.profession: v.text() for v in preview(world.backend.policy, facts, "general")}
    assert said["health"] == "Health: no, nobody of Health works this case"
    assert said["police"] == "Police: no, nobody else of Police works this case"


def test_the_preview_agrees_with_the_filter_for_every_author_and_category(
    world: TeamWorld
) -> None:
    """Save a note of every category by every author; each other member then sees it
    through the central filter exactly when the preview said yes. (Police intelligence
    by anyone but the police is refused: its author could not read it back.)"""
    backend = world.backend
    for author, viewer in world.viewers.items():
        facts = read_facts(backend, viewer, world.case_a, NOW)
        for category in backend.policy.categories:
            verdicts = {v.profession: v.visible for v in preview(backend.policy, facts,
                                                                   category)}
            if not author_may_read(backend.policy, facts, category):
                # A note its author could not read back is refused, and the preview says so.
                assert verdicts[""] == "no"
                with pytest.raises(AnchorError, match="note back yourself"):
                    save_note(backend, viewer, NoteInput(world.case_a, "x", category),
                              today=TODAY, now=NOW)
                continue
            assert "" not in verdicts
            saved = save_note(backend, viewer, NoteInput(world.case_a, f"{author} {category}",
                                                         category), today=TODAY, now=NOW)
            for reader, other in world.viewers.items():
                if reader == author:
                    continue
                with backend.sessions.read(other, NOW) as s:
                    seen = s.get(m.Note, saved.note_id) is not None
                assert seen == (verdicts[other.profession] == "yes"), (author, category, reader)
