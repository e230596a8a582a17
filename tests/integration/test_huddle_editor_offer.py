"""What the note editor offers in a huddle agrees with what the central filter shows.

For every huddle of two of the team (each as chair), and one of three, on a case all of them work
and on one only the police work, the editor's categories are exactly those whose note,
written by the chair, every person present reads (and the room reads) through the
central filter in every state of the young person's consents to that category; the
default is one of them, and so is every template's category. A category not offered is
one that someone present would not read in some state, and the editor says who.
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine, delete, select

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.note_form import start_editor
from anchor_tui.services.notes import NoteInput, save_note
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, huddle, make_backend

NAMES = ("police", "social", "nurse", "youth")


def consent_to(world: TeamWorld, case_id: int, category: str,
               professions: tuple[str, ...]) -> None:
    with world.backend.sessions.system("test: consents") as s:
        person = s.scalar(select(m.Case.person_id).where(m.Case.id == case_id))
        s.execute(delete(m.Consent).where(m.Consent.person_id == person))
        for profession in professions:
            s.add(m.Consent(person_id=person, grantor="self", decision="permit",
                            category=category, receiving_profession=profession,
                            valid_from=TODAY, recorded_by_id=world.viewers["social"].user_id))


def read_everywhere(world: TeamWorld, room: Viewer, case_id: int, category: str,
                    note_id: int) -> list[bool]:
    """Whether everyone present, and the room, read the note: per state of consents."""
    present = sorted({a.profession for a in room.audience})
    results = []
    for size in range(len(present) + 1):
        for granted in itertools.combinations(present, size):
            consent_to(world, case_id, category, granted)
            readers = [v for v in world.viewers.values()
                       if v.user_id in {a.user_id for a in room.audience}] + [room]
            seen = True
            for reader in readers:
                with world.backend.sessions.read(reader, NOW) as s:
                    seen = seen and s.get(m.Note, note_id) is not None
            results.append(seen)
    consent_to(world, case_id, category, ())
    return results


@pytest.mark.slow(seconds=10)
def test_the_huddles_offer_is_what_everyone_present_reads(engine: Engine) -> None:
    world = build(make_backend(engine))
    backend = world.backend
    rooms = [*itertools.permutations(NAMES, 2), ("nurse", "social", "police")]
    for names in rooms:
        room = huddle(world, *names)
        for case_id in (world.case_a, world.case_b):
            start = start_editor(backend, room, case_id, now=NOW)
            offered = {c.id for c in start.categories}
            withheld = {w.category: w.why for w in start.withheld}
            assert offered.isdisjoint(withheld)
            assert offered | set(withheld) == set(backend.policy.categories)
            assert start.default_category in offered or (
                not offered and start.default_category == "")
            assert {t.category for t in start.templates} <= offered
            for category in backend.policy.categories:
                chair = world.viewers[names[0]]
                try:
                    note = NoteInput(case_id, f"{names} {category}", category)
                    saved = save_note(backend, chair, note, today=TODAY, now=NOW)
                except AnchorError:  # one its author could not read back
                    assert category not in offered, (names, category)
                    continue
                everyone = read_everywhere(world, room, case_id, category, saved.note_id)
                assert (category in offered) == all(everyone), (
                    names, case_id, category, everyone, withheld.get(category))
                if category in withheld:
                    label = withheld[category].split(":")[0]
                    assert label in {backend.policy.professions[world.viewers[n].profession]
                                     for n in names}, withheld[category]
