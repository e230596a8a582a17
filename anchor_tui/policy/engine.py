"""The disclosure policy in force: ``decide()`` in Python and the same rules as SQL.

Semantics (both translations):
- default deny: a record is shown only if some ``permit`` rule holds;
- a ``forbid`` rule that holds beats every permit;
- a rule holds when the record's category is among its categories (note rules) and all
  of its conditions hold;
- a huddle sees the intersection of what each attendee may see; an empty huddle sees
  nothing; drafts are the author's alone and never shown in a huddle;
- a task that tells of more than itself is shown, besides its task rules, only where
  that is shown too: the note it was made from (``from_note_id``), and for a huddle
  action's task its sources (``task_source``: every note and case field the room saw).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    and_,
    bindparam,
    exists,
    false,
    not_,
    or_,
    true,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import False_, True_

from anchor_tui.db import models
from anchor_tui.db.types import UTCDateTime
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.policy.conditions import Scope, SqlAttendee, SqlScope, Subject, sql_word
from anchor_tui.policy.criteria import DisclosureCriteria, Shape
from anchor_tui.policy.document import (
    CASE_FIELDS,
    PolicyFile,
    Rule,
    policy_hash,
    read_policy,
)
from anchor_tui.policy.factoring import factored, is_category
from anchor_tui.policy.facts import Decision, DecisionContext, NoteFacts, TaskFacts
from anchor_tui.policy.team_notes import check_team_notes

if TYPE_CHECKING:
    from anchor_tui.settings import TeamConfig


def calendar_day(now: dt.datetime) -> dt.date:
    """The team's calendar day at ``now`` (the terminal's local time zone)."""
    return now.astimezone().date()


@dataclass(frozen=True)
class Verdict:
    """One audience member's result for one record."""

    allowed: bool
    rule_ids: tuple[str, ...]
    reason: str


class Policy:
    """A loaded, validated disclosure policy."""

    def __init__(self, path: str, pf: PolicyFile, rules: tuple[Rule, ...], digest: str) -> None:
        self.path = path
        self.file = pf
        self.rules = rules
        self.hash = digest
        self.professions = {p.id: p.label for p in pf.professions}
        self.categories = {k.id: k for k in pf.categories}
        self._fields = {p: frozenset(f) for p, f in pf.case_fields.items()}
        self._sql_cache: dict[tuple[Any, ...], ColumnElement[bool]] = {}

    # --- Python translation -------------------------------------------------------------

    def _judge(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext,
               kind: str) -> Verdict:
        category = subject.category if isinstance(subject, NoteFacts) else None
        permits: list[str] = []
        forbids: list[str] = []
        for rule in self.rules:
            if rule.applies_to != kind:
                continue
            if kind == "note" and category not in rule.categories:
                continue
            if all(cond.holds(who, scope, subject, ctx) for cond in rule.conditions):
                (permits if rule.effect == "permit" else forbids).append(rule.id)
        if forbids:
            return Verdict(False, tuple(forbids), "forbidden by " + ", ".join(forbids))
        if not permits:
            return Verdict(False, (), "no rule permits it")
        if isinstance(subject, TaskFacts):
            hidden = self._hidden_source(who, scope, subject, ctx)
            if hidden is not None:
                return hidden
        return Verdict(True, tuple(permits), "permitted by " + ", ".join(permits))

    def _hidden_source(self, who: Attendee, scope: Scope, task: TaskFacts,
                       ctx: DecisionContext) -> Verdict | None:
        """The denial when ``who`` may not see what ``task`` tells of, else None."""
        if task.from_note is not None:
            # A task made from a note tells of it: seen only where the note is too.
            source = self._judge(who, scope, task.from_note, ctx, "note")
            if not source.allowed:
                return Verdict(False, source.rule_ids,
                               f"it was made from a note not shown ({source.reason})")
        # A huddle action's task may repeat anything the room saw of the case when it
        # was typed: seen only by whoever may see every note and field the room saw.
        for note in task.source_notes:
            source = self._judge(who, scope, note, ctx, "note")
            if not source.allowed:
                return Verdict(False, source.rule_ids, "it was typed in a huddle over a "
                               f"note not shown ({source.reason})")
        for reason in task.source_reasons:
            source = self._judge(who, scope, reason, ctx, "note")
            if not source.allowed:
                return Verdict(False, source.rule_ids, "it was typed in a huddle over a "
                               f"reason not shown ({source.reason})")
        missing = task.source_fields - self.fields_of(who.profession)
        if missing:
            return Verdict(False, (), "it was typed in a huddle that saw the case's "
                           + ", ".join(sorted(missing)))
        return None

    def _decide(self, viewer: Viewer, subject: Subject, ctx: DecisionContext,
                kind: str) -> Decision:
        audience = viewer.audience
        if not audience:
            return Decision(False, (), "a huddle with nobody present sees nothing")
        scope = Scope(viewer.purpose, viewer.break_glass, ctx.now, ctx.today)
        rule_ids: list[str] = []
        for who in audience:
            verdict = self._judge(who, scope, subject, ctx, kind)
            if not verdict.allowed:
                prefix = f"{self.professions.get(who.profession, who.profession)}: " \
                    if viewer.purpose == "huddle" else ""
                return Decision(False, verdict.rule_ids, prefix + verdict.reason)
            rule_ids.extend(r for r in verdict.rule_ids if r not in rule_ids)
        return Decision(True, tuple(rule_ids), "permitted by " + ", ".join(rule_ids))

    def decide(self, viewer: Viewer, note: NoteFacts, ctx: DecisionContext) -> Decision:
        """May ``viewer`` (everyone present, in a huddle) see ``note``? Pure; no database."""
        return self._decide(viewer, note, ctx, "note")

    def decide_task(self, viewer: Viewer, task: Subject, ctx: DecisionContext) -> Decision:
        return self._decide(viewer, task, ctx, "task")

    def decide_for(self, who: Attendee, purpose: str, note: NoteFacts,
                   ctx: DecisionContext) -> Decision:
        """What one profession/person would see (the editor's disclosure preview)."""
        scope = Scope(purpose, False, ctx.now, ctx.today)
        verdict = self._judge(who, scope, note, ctx, "note")
        return Decision(verdict.allowed, verdict.rule_ids, verdict.reason)

    # --- SQL translation ----------------------------------------------------------------

    def sql_filter(self, entity: type[Any], viewer: Viewer) -> ColumnElement[bool]:
        """The condition under which ``viewer`` may see rows of ``entity``.

        Built once per audience shape (entity, purpose, break-glass, professions) and
        cached; user ids and the moment are bound parameters whose values come from
        :meth:`sql_params`. Constant conditions (purpose, profession) are folded away.
        The result is wrapped so that SQLAlchemy's statement cache keys it by its shape
        instead of walking it on every query (``policy.criteria``).
        """
        audience = viewer.audience
        key = (entity, viewer.purpose, viewer.break_glass,
               tuple(a.profession for a in audience))
        cached = self._sql_cache.get(key)
        if cached is None:
            inner = self._build_sql(entity, viewer.purpose, viewer.break_glass, key[3])
            shape: Shape = (entity.__name__, viewer.purpose, viewer.break_glass, key[3],
                            self.hash)
            cached = DisclosureCriteria(shape, inner)
            self._sql_cache[key] = cached
        return cached

    @staticmethod
    def sql_params(viewer: Viewer, now: dt.datetime) -> dict[str, Any]:
        """Values of the bound parameters used by :meth:`sql_filter`."""
        params: dict[str, Any] = {"anchor_viewer": viewer.user_id, "anchor_now": now,
                                  "anchor_today": calendar_day(now)}
        for index, who in enumerate(viewer.audience):
            params[f"anchor_user_{index}"] = who.user_id
        return params

    def _build_sql(self, entity: type[Any], purpose: str, break_glass: bool,
                   professions: tuple[str, ...]) -> ColumnElement[bool]:
        if not professions:
            return false()
        scope = SqlScope(purpose, break_glass,
                         bindparam("anchor_now", type_=UTCDateTime()),
                         bindparam("anchor_today", type_=Date()))
        if entity in (models.Draft, models.FormDraft):
            # The viewer's own drafts (the audience of an individual purpose is the viewer).
            who = SqlAttendee(bindparam("anchor_viewer", type_=Integer()), professions[0])
            return self.attendee_sql(entity, who, scope)
        audience = [SqlAttendee(bindparam(f"anchor_user_{i}", type_=Integer()), profession)
                    for i, profession in enumerate(professions)]
        return and_(true(), *(self.attendee_sql(entity, who, scope) for who in audience))

    def attendee_sql(self, entity: type[Any], who: SqlAttendee, scope: SqlScope
                     ) -> ColumnElement[bool]:
        """What one member of the audience may see of ``entity``, in SQL.

        The filter of a viewer is this for each member of the audience, joined with AND.
        The PostgreSQL row-level security policies (``policy.rls``) are compiled from
        this same expression, with the person and the moment read from the
        transaction's settings instead of bound parameters: one translation, two walls.
        """
        if entity in (models.Draft, models.FormDraft):
            # A kept form holds a draft's kind of words (consent evidence, a reason):
            # its author's alone, never in a huddle, in both walls alike.
            if scope.purpose != "individual":
                return false()
            return entity.author_id == who.user_id  # type: ignore[no-any-return]
        # A reason given for a change to a case is disclosed like a note of its writer's
        # profession: it carries a note's facts (case, category, author, profession).
        kind = {models.Note: "note", models.CaseEventReason: "note",
                models.Task: "task"}.get(entity)
        if kind is None:
            raise ValueError(f"{entity.__name__} is not a protected entity")
        allowed = self._sql_for(who, scope, entity, kind)
        if kind == "note":
            return allowed
        # A task made from a note tells of it (its title): seen only where the note is.
        # The note is an alias, so its conditions never bind to a note the query around
        # reads itself; the same expression is the row-level security's (policy.rls).
        source = aliased(models.Note, name="source_note")
        note_seen = exists().where(source.id == models.Task.from_note_id,
                                   self._sql_for(who, scope, source, "note"))
        return and_(allowed, or_(models.Task.from_note_id.is_(None), note_seen),
                    not_(self._source_hidden_sql(who, scope)))

    def _source_hidden_sql(self, who: SqlAttendee, scope: SqlScope) -> ColumnElement[bool]:
        """A huddle action's task: some source (what the room saw of the case when it
        was typed) that ``who`` may not see now: a note the note rules do not show them,
        a case field not among their profession's (a constant here), or a reason given
        for a change to the case that the note rules do not show them. A subquery over
        the task's sources and one over its reasons, each correlated only to the query
        directly around it."""
        row = aliased(models.TaskSource, name="anchor_task_source")
        note = aliased(models.Note, name="anchor_source_note")
        note_hidden = and_(row.note_id.is_not(None), not_(exists().where(
            note.id == row.note_id, self._sql_for(who, scope, note, "note"))))
        fields = sorted(self.fields_of(who.profession))
        field_hidden: ColumnElement[bool] = row.field.is_not(None)
        if fields:
            field_hidden = and_(field_hidden, row.field.not_in([sql_word(f) for f in fields]))
        # A reason the room read (disclosed as a note of its writer's profession).
        told = aliased(models.TaskSourceReason, name="anchor_task_source_reason")
        reason = aliased(models.CaseEventReason, name="anchor_source_reason")
        reason_hidden = exists().where(told.task_id == models.Task.id, not_(exists().where(
            reason.id == told.reason_id, self._sql_for(who, scope, reason, "note"))))
        return or_(exists().where(row.task_id == models.Task.id,
                                  or_(note_hidden, field_hidden)), reason_hidden)

    def _sql_for(self, who: SqlAttendee, scope: SqlScope, entity: type[Any], kind: str
                 ) -> ColumnElement[bool]:
        """Permitted and not forbidden, for one audience member, in SQL.

        Conditions that are constant for this member (purpose, profession,
        break-the-glass) are folded first; what remains is factored so that each
        subquery (membership, consent) is written once (``policy.factoring``). One
        expression object per distinct condition keeps the statement small as well.
        """
        built: dict[Any, ColumnElement[bool]] = {}

        def atom_sql(atom: Any) -> ColumnElement[bool]:
            if atom not in built:
                if is_category(atom):
                    words = [sql_word(c) for c in sorted(atom[1])]
                    built[atom] = entity.category.in_(words) if words else false()
                else:
                    built[atom] = atom.sql(who, scope, entity)
            return built[atom]

        def term(rule: Rule) -> frozenset[Any] | None:
            """The rule's atoms, without those always true; None if one is always false."""
            atoms: set[Any] = set()
            if kind == "note":
                if not rule.categories:
                    return None
                atoms.add(("category", rule.categories))
            for cond in rule.conditions:
                expr = atom_sql(cond)
                if isinstance(expr, False_):
                    return None
                if not isinstance(expr, True_):
                    atoms.add(cond)
            return frozenset(atoms)

        def terms(effect: str) -> list[frozenset[Any]]:
            found = (term(r) for r in self.rules if r.applies_to == kind and r.effect == effect)
            return [t for t in found if t is not None]

        permits = factored(terms("permit"), atom_sql, _cost)
        forbids = factored(terms("forbid"), atom_sql, _cost)
        return and_(permits, not_(forbids))

    # --- case fields --------------------------------------------------------------------

    def case_fields(self, viewer: Viewer) -> frozenset[str]:
        """Case fields every member of the audience may see (intersection in a huddle)."""
        audience = viewer.audience
        if not audience:
            return frozenset()
        fields = frozenset(CASE_FIELDS)
        for who in audience:
            fields &= self.fields_of(who.profession)
        return fields

    def fields_of(self, profession: str) -> frozenset[str]:
        """Case fields a person of ``profession`` may see (none for an unknown one)."""
        return frozenset(CASE_FIELDS) & self._fields.get(profession, frozenset())


def _cost(atom: Any) -> int:
    """Subqueries first when choosing what to factor out."""
    return {"case_member": 2, "consent": 3}.get(getattr(atom, "name", ""), 0)


def load_policy(path: Path | str, *, team: TeamConfig | None = None,
                text: str | None = None) -> Policy:
    """Load and validate a policy file; with ``team``, check that the professions and
    note categories the team's settings name exist in it."""
    doc, pf, rules = read_policy(path, text)
    if team is not None:
        check_team_notes(doc.path, pf, team)
    return Policy(doc.path, pf, rules, policy_hash(doc.data))
