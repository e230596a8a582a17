"""The editor's disclosure preview: who will see this note, and why, before it is saved.

For each profession of the team the preview asks the policy in force, with the same
``decide_for()`` the re-check uses, whether that profession's members of the case would
see a note of the chosen category by this author, and says why in a few words
("Social work: yes, consent until 2027-01-31", "Police: no, health notes need consent").

The facts (memberships, consents) are read from the database once, in a worker
(:func:`read_facts`); the verdicts are then computed without the database
(:func:`preview`), so changing the category updates the preview at once and typing
costs nothing. What the preview shows is only what the author may know anyway: which
professions work the case and, for the case's members and leads in their own work (who
see the young person's consents: ``consents.may_handle``), what the consents allow. For
anyone else (a huddle, someone who does not work the case) the preview is worked out
as if there were no consents, and a profession that only a consent could let in reads
"if consent": it must not say what the young person has allowed or refused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import (
    ConsentFacts,
    Decision,
    DecisionContext,
    MembershipFacts,
    NoteFacts,
    Policy,
)
from anchor_tui.policy.conditions import (
    Author,
    BreakGlass,
    CaseMember,
    Condition,
    Consent,
    Not,
    ProfessionIn,
    Purpose,
    SameProfession,
    Scope,
)
from anchor_tui.policy.document import Rule
from anchor_tui.services.backend import Backend
from anchor_tui.services.consents import may_handle
from anchor_tui.services.disclosure import load_context

PREVIEW_NOTE_ID = 0
"""The note being written has no id yet."""


@dataclass(frozen=True)
class PreviewFacts:
    """What the preview needs about one case, read once (and refreshed now and then)."""

    case_id: int
    person_id: int
    author: Attendee
    members: tuple[Attendee, ...]
    """Active members of the case today (the author included, if a member)."""
    ctx: DecisionContext
    professions: tuple[str, ...]
    """The team's professions, in the team's order."""
    read_at: dt.datetime
    consents_known: bool = True
    """The writer may see the young person's consents; if not, ``ctx`` holds none."""
    members_known: bool = True
    """The writer may see who works the case (the ``members`` field); if not, ``ctx``
    and ``members`` hold only the writer's own membership (none in a huddle)."""


@dataclass(frozen=True)
class Verdict:
    """One profession's line of the preview."""

    profession: str
    label: str
    visible: str
    """``yes``, ``no``, or ``some`` (members of the profession differ)."""
    why: str

    def text(self) -> str:
        return f"{self.label}: {self.visible}, {self.why}" if self.why else \
            f"{self.label}: {self.visible}"


def read_facts(backend: Backend, viewer: Viewer, case_id: int,
               now: dt.datetime | None = None) -> PreviewFacts:
    """Memberships and consents of the case (run in a worker)."""
    now = now or utcnow()
    with backend.sessions.read(viewer, now) as session:
        case = session.get(m.Case, case_id)
        if case is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        person_id = case.person_id
        ctx = load_context(session, [case_id], now)
        known = may_handle(session, viewer, case, ctx.today)
        if not known:
            ctx = DecisionContext(ctx.now, ctx.today, ctx.memberships, ())
        members_known = "members" in backend.policy.case_fields(viewer)
        if not members_known:
            own = tuple(mf for mf in ctx.memberships if mf.user_id == viewer.user_id
                        and viewer.purpose == "individual")
            ctx = DecisionContext(ctx.now, ctx.today, own, ctx.consents)
        ids = sorted({mf.user_id for mf in ctx.memberships if mf.active_on(ctx.today)})
        rows = session.execute(select(m.User.id, m.User.profession).where(
            m.User.id.in_(ids))).all() if ids else []
    members = tuple(Attendee(user_id, profession) for user_id, profession in rows)
    return PreviewFacts(case_id, person_id, Attendee(viewer.user_id, viewer.profession),
                        members, ctx, tuple(backend.team.professions), now,
                        consents_known=known, members_known=members_known)


def preview(policy: Policy, facts: PreviewFacts, category: str) -> tuple[Verdict, ...]:
    """Each profession's verdict on a note of ``category`` by the author (pure, fast);
    first a line for the author when they could not read it back themselves."""
    note = NoteFacts(PREVIEW_NOTE_ID, facts.case_id, facts.person_id, category,
                     facts.author.user_id, facts.author.profession)
    verdicts = tuple(_verdict(policy, facts, note, p) for p in facts.professions)
    own = policy.decide_for(facts.author, "individual", note, facts.ctx)
    if own.allowed:
        return verdicts
    mine = Verdict("", "You", "no", _why_denied(policy, facts, note, facts.author, own))
    return (mine, *verdicts)


def author_may_read(policy: Policy, facts: PreviewFacts, category: str) -> bool:
    """Whether the author could read a note of ``category`` they wrote on this case
    (a note nobody who wrote it may read back is refused)."""
    note = NoteFacts(PREVIEW_NOTE_ID, facts.case_id, facts.person_id, category,
                     facts.author.user_id, facts.author.profession)
    return policy.decide_for(facts.author, "individual", note, facts.ctx).allowed


def huddle_line(policy: Policy, facts: PreviewFacts, category: str) -> str:
    """Whether the note can ever show in a huddle (the author present, individually fine)."""
    note = NoteFacts(PREVIEW_NOTE_ID, facts.case_id, facts.person_id, category,
                     facts.author.user_id, facts.author.profession)
    decision = policy.decide_for(facts.author, "huddle", note, facts.ctx)
    if decision.allowed:
        return "Huddle: only when everyone present may see it"
    forbids = [r for r in policy.rules if r.id in decision.rule_ids and r.effect == "forbid"]
    return "Huddle: never" + (f", {_sentence(forbids[0])}" if forbids else "")


def _verdict(policy: Policy, facts: PreviewFacts, note: NoteFacts, profession: str) -> Verdict:
    label = policy.professions.get(profession, profession)
    if not facts.members_known:
        return _verdict_for_anyone(policy, facts, note, profession, label)
    others = [a for a in facts.members
              if a.profession == profession and a.user_id != facts.author.user_id]
    if not others:
        # Nobody of the profession works the case: judge for someone who does not.
        stranger = Attendee(-1, profession)
        if not facts.consents_known and _consent_decides(policy, facts, note, stranger):
            return _if_consent(profession, label)
        decision = policy.decide_for(stranger, "individual", note, facts.ctx)
        if decision.allowed:
            return Verdict(profession, label, "yes", _why_allowed(policy, facts, note,
                                                                  stranger, decision))
        own = " else" if profession == facts.author.profession else ""
        return Verdict(profession, label, "no", f"nobody{own} of {label} works this case")
    if not facts.consents_known and any(_consent_decides(policy, facts, note, who)
                                        for who in others):
        return _if_consent(profession, label)
    decisions = [(who, policy.decide_for(who, "individual", note, facts.ctx))
                 for who in others]
    allowed = [(who, d) for who, d in decisions if d.allowed]
    if len(allowed) == len(decisions):
        who, decision = allowed[0]
        return Verdict(profession, label, "yes",
                       _why_allowed(policy, facts, note, who, decision))
    denied = next((who, d) for who, d in decisions if not d.allowed)
    why = _why_denied(policy, facts, note, *denied)
    return Verdict(profession, label, "some" if allowed else "no", why)


def _verdict_for_anyone(policy: Policy, facts: PreviewFacts, note: NoteFacts,
                        profession: str, label: str) -> Verdict:
    """The verdict for a writer who may not see who works the case: for someone of the
    profession who does not work it, and for one who does, never for the real members."""
    stranger = Attendee(-1, profession)
    if not facts.consents_known and _consent_decides(policy, facts, note, stranger):
        return _if_consent(profession, label)
    decision = policy.decide_for(stranger, "individual", note, facts.ctx)
    if decision.allowed:
        return Verdict(profession, label, "yes",
                       _why_allowed(policy, facts, note, stranger, decision))
    member = Attendee(-2, profession)
    joined = MembershipFacts(facts.case_id, member.user_id, facts.ctx.today, None)
    with_member = dataclasses.replace(
        facts, ctx=DecisionContext(facts.ctx.now, facts.ctx.today,
                                   (*facts.ctx.memberships, joined), facts.ctx.consents))
    if not facts.consents_known and _consent_decides(policy, with_member, note, member):
        return _if_consent(profession, label)
    decision = policy.decide_for(member, "individual", note, with_member.ctx)
    if decision.allowed:
        return Verdict(profession, label, "if member",
                       "if they work the case (who does is not shown to you)")
    return Verdict(profession, label, "no",
                   _why_denied(policy, with_member, note, member, decision))


def _if_consent(profession: str, label: str) -> Verdict:
    return Verdict(profession, label, "if consent",
                   "as the young person's consents allow (members and leads see them)")


def _consent_decides(policy: Policy, facts: PreviewFacts, note: NoteFacts,
                          who: Attendee) -> bool:
    """Whether the young person's consent would decide for ``who`` (the writer may not
    see the consents, so the preview may not say whether there is one).

    Asked of the policy itself, forbids and all: ``who``'s decision with an effective
    consent for their profession, and with none, differ. (Not "a permit fails only for
    want of consent": the health record never reaches the police whatever consent says,
    and a forbid may itself depend on consent.)"""
    granted = policy.decide_for(who, "individual", note,
                                consent_world(facts.ctx, note, {who.profession}, True))
    refused = policy.decide_for(who, "individual", note,
                                consent_world(facts.ctx, note, {who.profession}, False))
    return granted.allowed != refused.allowed


def consent_world(ctx: DecisionContext, note: NoteFacts, professions: Collection[str],
                  permitted: bool) -> DecisionContext:
    """``ctx`` with the young person's own consent for the note's category to each of
    ``professions`` in force (``permitted``), or with none to them at all."""
    others = tuple(c for c in ctx.consents
                   if not (c.person_id == note.person_id and c.category == note.category
                           and c.receiving_profession in professions))
    own = tuple(ConsentFacts(note.person_id, "self", "permit", note.category, profession,
                             ctx.today, None, None)
                for profession in sorted(professions)) if permitted else ()
    return DecisionContext(ctx.now, ctx.today, ctx.memberships, others + own)


def _permits_failing(policy: Policy, facts: PreviewFacts, note: NoteFacts, who: Attendee
                     ) -> Iterator[tuple[Rule, list[Condition]]]:
    """Each permit rule for the note's category, with its conditions ``who`` fails."""
    scope = Scope("individual", False, facts.ctx.now, facts.ctx.today)
    for rule in policy.rules:
        if rule.applies_to == "note" and rule.effect == "permit" \
                and note.category in rule.categories:
            yield rule, [c for c in rule.conditions
                         if not c.holds(who, scope, note, facts.ctx)]


def _category_label(policy: Policy, category: str) -> str:
    entry = policy.categories.get(category)
    return entry.label if entry is not None else category


def _consent_until(facts: PreviewFacts, note: NoteFacts, profession: str) -> str:
    ids = set(facts.ctx.consent_basis(note.person_id, note.category, profession))
    ends = [c.valid_to for c in facts.ctx.consents if c.id in ids]
    if not ends or any(end is None for end in ends):
        return "consent in force (no end date)"
    latest = max(end for end in ends if end is not None)
    return f"consent until {latest.isoformat()}"


def _phrase(policy: Policy, cond: Condition, facts: PreviewFacts, note: NoteFacts,
            who: Attendee) -> str:
    if isinstance(cond, Consent):
        return _consent_until(facts, note, who.profession)
    if isinstance(cond, SameProfession):
        return "own profession"
    if isinstance(cond, Author):
        return "the author"
    if isinstance(cond, ProfessionIn):
        return f"{_category_label(policy, note.category).lower()} notes reach " + \
            " and ".join(policy.professions.get(p, p) for p in cond.professions)
    if isinstance(cond, BreakGlass):
        return "emergency access"
    return ""


_WEIGHT = {Consent: 4, ProfessionIn: 3, SameProfession: 2, Author: 1}


def _why_allowed(policy: Policy, facts: PreviewFacts, note: NoteFacts, who: Attendee,
                 decision: Decision) -> str:
    rules = [r for r in policy.rules if r.id in decision.rule_ids and r.effect == "permit"]
    if not rules:
        return ""

    def weight(rule: Rule) -> int:
        return max((_WEIGHT.get(type(c), 0) for c in rule.conditions), default=0)

    best = max(rules, key=weight)
    phrases = [p for p in (_phrase(policy, c, facts, note, who) for c in best.conditions) if p]
    return ", ".join(phrases) or ("works the case" if any(
        isinstance(c, CaseMember) for c in best.conditions) else best.id)


def _failure(policy: Policy, cond: Condition, note: NoteFacts) -> str:
    category = _category_label(policy, note.category).lower()
    if isinstance(cond, Consent):
        return f"{category} notes need consent"
    if isinstance(cond, CaseMember):
        return "does not work this case"
    if isinstance(cond, ProfessionIn):
        return f"{category} notes reach only " + " and ".join(
            policy.professions.get(p, p) for p in cond.professions)
    if isinstance(cond, SameProfession):
        return "another profession's notes"
    if isinstance(cond, Purpose):
        return f"only when {cond.describe()}"
    if isinstance(cond, Not):
        return f"not when {cond.inner.describe() if cond.inner else '?'}"
    return f"needs {cond.describe()}"


_SKIP = (Author, BreakGlass)
"""Ways in that do not explain a refusal: being the author, declaring an emergency."""
_ORDER = {Consent: 0, CaseMember: 1, ProfessionIn: 2, SameProfession: 3}


def _why_denied(policy: Policy, facts: PreviewFacts, note: NoteFacts, who: Attendee,
                decision: Decision) -> str:
    forbids = [r for r in policy.rules if r.id in decision.rule_ids and r.effect == "forbid"]
    if forbids:
        return _sentence(forbids[0])
    best: tuple[int, int, str] | None = None
    for rule, failing in _permits_failing(policy, facts, note, who):
        if any(isinstance(c, _SKIP) for c in rule.conditions) or not failing:
            continue
        first = min(failing, key=lambda c: _ORDER.get(type(c), 9))
        rank = (len(failing), _ORDER.get(type(first), 9), _failure(policy, first, note))
        best = rank if best is None or rank < best else best
    return best[2] if best is not None else "no rule lets this category out"


def denial_reason(policy: Policy, facts: PreviewFacts, note: NoteFacts, who: Attendee,
                  decision: Decision) -> str:
    """Why ``who`` may not read ``note`` in a few words (a forbid's own sentence first)."""
    return _why_denied(policy, facts, note, who, decision)


def _sentence(rule: Rule) -> str:
    """A rule's description as a clause ("police intelligence never leaves the police")."""
    text = rule.description.strip().rstrip(".")
    if not text:
        return f"rule {rule.id}"
    head = text.split(",")[0].strip() or text
    return head[:1].lower() + head[1:]
