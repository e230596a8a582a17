"""The preview a huddle reads agrees with the real disclosure, forbids included.

A huddle may not learn the young person's consents, so its preview says "if consent"
where only a consent decides. That is true only if a consent really would let the
profession in: the health record never reaches the police whatever consent says, so a
health note's police line in a huddle is "no", never "if consent". And where a forbid
rule itself depends on consent, "no" would be as wrong as "if consent" is there.

Each author writes a note of each category they may read back; then, for every state
of the young person's consents to that category (none, each profession alone, all),
each other member reads it through the central filter. The huddle's verdict for a
profession must be: ``yes`` seen in every state, ``no`` in none, ``if consent`` seen in
some and not in others. The huddle's preview is the same in every state.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, select

from anchor_tui.db import models as m
from anchor_tui.services.note_preview import author_may_read, preview, read_facts
from anchor_tui.services.notes import NoteInput, save_note
from anchor_tui.settings import PACKAGE_CONFIG_DIR
from tests.integration.case_world import NOW, TODAY, TeamWorld, build, huddle, make_backend

SHIPPED = (PACKAGE_CONFIG_DIR / "disclosure.yaml").read_text(encoding="utf-8")

CONSENT_FORBID = SHIPPED.replace("""  - id: police-intel-not-in-huddle""", """\
  - id: general-to-health-only-with-consent
    effect: forbid
    description: General notes reach health only with the young person's consent.
    categories: [general]
    when: [{profession_in: [health]}, {not: author}, {not: consent}]

  - id: police-intel-not-in-huddle""")
"""A policy whose forbid rule depends on consent: without one, "no" would be wrong."""

MEMBERS_HIDDEN = CONSENT_FORBID.replace(
    "youth_work: [person_name, municipality, summary, lead, members]",
    "youth_work: [person_name, municipality, summary]")
"""And youth work may not see who works a case: a huddle with youth work present is told
"if member" (every reader here works the case) where membership decides."""

NAMES = ("police", "social", "nurse", "youth")


def consent_states(world: TeamWorld) -> list[frozenset[str]]:
    professions = [world.viewers[name].profession for name in NAMES]
    return [frozenset(), *(frozenset({p}) for p in professions), frozenset(professions)]


def consent_to(world: TeamWorld, category: str, professions: frozenset[str]) -> None:
    """The young person's own consents of case A: ``category`` to ``professions`` only."""
    with world.backend.sessions.system("test: consents") as s:
        person = s.scalar(select(m.Case.person_id).where(m.Case.id == world.case_a))
        s.execute(delete(m.Consent).where(m.Consent.person_id == person))
        for profession in sorted(professions):
            s.add(m.Consent(person_id=person, grantor="self", decision="permit",
                            category=category, receiving_profession=profession,
                            valid_from=TODAY, recorded_by_id=world.viewers["social"].user_id))


def seen_by(world: TeamWorld, reader: str, note_id: int) -> bool:
    with world.backend.sessions.read(world.viewers[reader], NOW) as s:
        return s.get(m.Note, note_id) is not None


@pytest.mark.parametrize("policy_text", [SHIPPED, CONSENT_FORBID, MEMBERS_HIDDEN],
                         ids=["shipped", "forbid-needs-consent", "members-hidden"])
def test_the_huddles_preview_agrees_with_the_real_disclosure(
        engine: Engine, policy_text: str) -> None:
    world = build(make_backend(engine, policy_text))
    backend = world.backend
    policy = backend.policy
    states = consent_states(world)
    for chair in NAMES:
        room = huddle(world, chair, "youth" if chair != "youth" else "police")
        for category in policy.categories:
            facts = read_facts(backend, world.viewers[chair], world.case_a, NOW)
            if not author_may_read(policy, facts, category):
                continue
            saved = save_note(backend, world.viewers[chair],
                              NoteInput(world.case_a, f"{chair} {category}", category),
                              today=TODAY, now=NOW)
            said: list[dict[str, str]] = []
            seen: dict[str, list[bool]] = {name: [] for name in NAMES if name != chair}
            for state in states:
                consent_to(world, category, state)
                facts = read_facts(backend, room, world.case_a, NOW)
                said.append({v.profession: v.visible for v in preview(policy, facts,
                                                                         category)})
                for reader in seen:
                    seen[reader].append(seen_by(world, reader, saved.note_id))
            assert all(s == said[0] for s in said), (
                "the huddle's preview changed with the consents", chair, category, said)
            for reader, results in seen.items():
                profession = world.viewers[reader].profession
                verdict = said[0][profession]
                verdict = "yes" if verdict == "if member" else verdict  # all work case A
                expected = ("yes" if all(results) else "no" if not any(results)
                            else "if consent")
                assert verdict == expected, (
                    f"{chair} writes {category} in a huddle: the preview says "
                    f"{profession} {verdict!r}, the real disclosure over the consent "
                    f"states {results} says {expected!r}")
