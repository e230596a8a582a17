"""The policy as a table: category x author profession x receiving profession x consent.

Computed with ``decide()`` on small synthetic situations (the receiver works the case
and did not write the note), so the table always shows what the engine really does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from anchor_tui.domain import Attendee, Viewer
from anchor_tui.policy.engine import Policy, calendar_day
from anchor_tui.policy.facts import (
    ConsentFacts,
    Decision,
    DecisionContext,
    MembershipFacts,
    NoteFacts,
)

CONSENT_STATES = ("none", "permit", "refused by the young person", "withdrawn")
"""Consent of the young person (and for 'refused', a guardian's permit beside it)."""


@dataclass(frozen=True)
class MatrixRow:
    category: str
    author_profession: str
    receiving_profession: str
    consent: str
    individual: Decision
    huddle: Decision


def _consents(state: str, category: str, profession: str, now: dt.datetime,
              today: dt.date) -> tuple[ConsentFacts, ...]:
    def one(grantor: str, decision: str, withdrawn: bool = False) -> ConsentFacts:
        return ConsentFacts(1, grantor, decision, category, profession,
                            today - dt.timedelta(days=30), None,
                            now - dt.timedelta(hours=1) if withdrawn else None)

    if state == "permit":
        return (one("self", "permit"),)
    if state == "refused by the young person":
        return (one("self", "deny"), one("guardian", "permit"))
    if state == "withdrawn":
        return (one("self", "permit", withdrawn=True),)
    return ()


def policy_matrix(policy: Policy, now: dt.datetime | None = None) -> list[MatrixRow]:
    now = now or dt.datetime.now(dt.UTC)
    today = calendar_day(now)
    receiver_id, author_id, case_id, person_id = 1, 2, 1, 1
    rows = []
    for category in policy.categories:
        for author in policy.professions:
            for receiver in policy.professions:
                for state in CONSENT_STATES:
                    ctx = DecisionContext(
                        now, today,
                        (MembershipFacts(case_id, receiver_id, today, None),),
                        _consents(state, category, receiver, now, today),
                    )
                    note = NoteFacts(1, case_id, person_id, category, author_id, author)
                    alone = Viewer(receiver_id, "r", "r", receiver, "member")
                    huddle = Viewer(receiver_id, "r", "r", receiver, "member", purpose="huddle",
                                    attendees=(Attendee(receiver_id, receiver),))
                    rows.append(MatrixRow(category, author, receiver, state,
                                          policy.decide(alone, note, ctx),
                                          policy.decide(huddle, note, ctx)))
    return rows
