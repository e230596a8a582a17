"""Exhaustive decision table for the shipped default policy.

Every note category x author profession x viewer profession x consent state x purpose
x membership, with the expected outcome written here independently of the engine,
from the policy's own words:
- notes of one's own profession are visible within the profession on cases one works;
- general notes are visible to every member of the case;
- youth work and health notes reach another profession only with active consent;
- child-welfare notes reach social work; others only with consent;
- police intelligence never leaves the police, whatever consent says, and never shows
  in a huddle;
- the young person's own decision beats a guardian's; a refusal beats a permit at the
  same level; withdrawn, expired and not-yet-valid consents do not count.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from anchor_tui.domain import Attendee, Viewer
from anchor_tui.policy import (
    ConsentFacts,
    DecisionContext,
    MembershipFacts,
    NoteFacts,
    Policy,
    load_policy,
)
from anchor_tui.settings import PACKAGE_CONFIG_DIR

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TODAY = NOW.astimezone().date()
PROFESSIONS = ("police", "social_work", "health", "youth_work")
CATEGORIES = ("general", "youth_work", "health", "child_welfare", "police_intel")
VIEWER, AUTHOR, CASE, PERSON = 1, 2, 10, 20


def _consent(grantor: str, decision: str, category: str, profession: str, *,
             start: int = -30, end: int | None = 30, withdrawn: bool = False) -> ConsentFacts:
    return ConsentFacts(
        person_id=PERSON, grantor=grantor, decision=decision, category=category,
        receiving_profession=profession,
        valid_from=TODAY + dt.timedelta(days=start),
        valid_to=None if end is None else TODAY + dt.timedelta(days=end),
        withdrawn_at=NOW - dt.timedelta(hours=1) if withdrawn else None,
    )


# name -> (consents for (category, viewer profession), does consent hold?)
CONSENT_STATES = {
    "none": (lambda c, p: [], False),
    "self permit": (lambda c, p: [_consent("self", "permit", c, p)], True),
    "guardian permit": (lambda c, p: [_consent("guardian", "permit", c, p)], True),
    "legal representative permit": (
        lambda c, p: [_consent("legal_representative", "permit", c, p)], True),
    "self refuses, guardian permits": (
        lambda c, p: [_consent("self", "deny", c, p), _consent("guardian", "permit", c, p)],
        False),
    "self permits, guardian refuses": (
        lambda c, p: [_consent("self", "permit", c, p), _consent("guardian", "deny", c, p)],
        True),
    "guardian permits and refuses": (
        lambda c, p: [_consent("guardian", "permit", c, p), _consent("guardian", "deny", c, p)],
        False),
    "self permit withdrawn": (
        lambda c, p: [_consent("self", "permit", c, p, withdrawn=True)], False),
    "self permit expired": (
        lambda c, p: [_consent("self", "permit", c, p, start=-60, end=-1)], False),
    "self permit not yet valid": (
        lambda c, p: [_consent("self", "permit", c, p, start=1, end=None)], False),
    "self permit ends today": (
        lambda c, p: [_consent("self", "permit", c, p, start=-5, end=0)], True),
    "self permit for another profession": (
        lambda c, p: [_consent("self", "permit", c,
                               "police" if p != "police" else "health")], False),
    "self permit for another category": (
        lambda c, p: [_consent("self", "permit", "general" if c != "general" else "health",
                               p)], False),
}


def expected(category: str, author: str, viewer: str, consent: bool, purpose: str,
             member: bool) -> bool:
    if category == "police_intel":
        return viewer == "police" and author == "police" and member and purpose == "individual"
    if not member:
        return False
    if category == "health" and viewer == "police":
        return False  # the record never reaches the police (the table's viewer is never
        # the author, who alone still sees their own note)
    if author == viewer:
        return True
    if category == "general":
        return True
    if category in ("youth_work", "health"):
        return consent
    if category == "child_welfare":
        return viewer == "social_work" or consent
    raise AssertionError(category)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")


def _viewer(profession: str, purpose: str, user_id: int = VIEWER,
            attendees: tuple[Attendee, ...] | None = None) -> Viewer:
    if purpose == "huddle" and attendees is None:
        attendees = (Attendee(user_id, profession),)
    return Viewer(user_id, "v", "Viewer", profession, "member", purpose=purpose,
                  attendees=attendees or ())


def test_decision_table(policy: Policy) -> None:
    rows = 0
    mismatches = []
    for category, author, viewer, state, purpose, member in itertools.product(
        CATEGORIES, PROFESSIONS, PROFESSIONS, CONSENT_STATES, ("individual", "huddle"),
        (True, False),
    ):
        make, consent_holds = CONSENT_STATES[state]
        ctx = DecisionContext(
            NOW, TODAY,
            memberships=(MembershipFacts(CASE, VIEWER, TODAY - dt.timedelta(days=3), None),)
            if member else (),
            consents=tuple(make(category, viewer)),
        )
        note = NoteFacts(1, CASE, PERSON, category, AUTHOR, author)
        decision = policy.decide(_viewer(viewer, purpose), note, ctx)
        want = expected(category, author, viewer, consent_holds, purpose, member)
        rows += 1
        if decision.allowed != want:
            mismatches.append((category, author, viewer, state, purpose, member, decision))
        if decision.allowed:
            assert decision.rule_ids, "an allowed note names the rules that allowed it"
    assert rows == 5 * 4 * 4 * len(CONSENT_STATES) * 2 * 2
    assert mismatches == []


def test_huddle_is_the_intersection(policy: Policy) -> None:
    """Two and three attendees of different professions: shown iff every one may see it."""
    mismatches = []
    for category, author, state in itertools.product(CATEGORIES, PROFESSIONS, CONSENT_STATES):
        make, _ = CONSENT_STATES[state]
        for group in itertools.chain(itertools.combinations(PROFESSIONS, 2),
                                     itertools.combinations(PROFESSIONS, 3)):
            attendees = tuple(Attendee(100 + i, p) for i, p in enumerate(group))
            consents = tuple(c for p in group for c in make(category, p))
            ctx = DecisionContext(
                NOW, TODAY,
                memberships=tuple(MembershipFacts(CASE, a.user_id, TODAY, None)
                                  for a in attendees),
                consents=consents,
            )
            note = NoteFacts(1, CASE, PERSON, category, AUTHOR, author)
            huddle = _viewer(group[0], "huddle", 100, attendees)
            each = [
                policy.decide(_viewer(a.profession, "huddle", a.user_id), note, ctx).allowed
                for a in attendees
            ]
            if policy.decide(huddle, note, ctx).allowed != all(each):
                mismatches.append((category, author, state, group))
    assert mismatches == []


def test_empty_huddle_sees_nothing(policy: Policy) -> None:
    ctx = DecisionContext(NOW, TODAY, (MembershipFacts(CASE, VIEWER, TODAY, None),), ())
    for category in CATEGORIES:
        note = NoteFacts(1, CASE, PERSON, category, VIEWER, "social_work")
        decision = policy.decide(_viewer("social_work", "huddle", attendees=()), note, ctx)
        assert not decision.allowed


def test_undeclared_category_is_denied(policy: Policy) -> None:
    ctx = DecisionContext(NOW, TODAY, (MembershipFacts(CASE, VIEWER, TODAY, None),), ())
    note = NoteFacts(1, CASE, PERSON, "unknown", AUTHOR, "social_work")
    decision = policy.decide(_viewer("social_work", "individual"), note, ctx)
    assert decision == decision.__class__(False, (), "no rule permits it")


def test_forbid_names_the_rule(policy: Policy) -> None:
    ctx = DecisionContext(NOW, TODAY, (MembershipFacts(CASE, VIEWER, TODAY, None),), ())
    note = NoteFacts(1, CASE, PERSON, "police_intel", VIEWER, "police")
    decision = policy.decide(_viewer("police", "huddle"), note, ctx)
    assert not decision.allowed
    assert decision.rule_ids == ("police-intel-not-in-huddle",)


def test_author_sees_own_note_even_after_leaving_the_case(policy: Policy) -> None:
    ctx = DecisionContext(NOW, TODAY, (), ())
    note = NoteFacts(1, CASE, PERSON, "health", VIEWER, "health")
    assert policy.decide(_viewer("health", "individual"), note, ctx).allowed
