"""Consents on a case's young person: record, withdraw, history, and those expiring.

A consent (or refusal) is given by the young person, a guardian or a legal
representative, for one note category, to one receiving profession, for a period. One
form naming several professions becomes one row each. The disclosure policy reads these
rows on every query (``consent`` condition), so a withdrawal hides previously visible
notes on the next query. A record is never deleted or edited: it is withdrawn, and the
history shows every one.

A recording carries the moment the person saved it (``at``, written as its recorded
time) and a withdrawal the moment they confirmed it (written as its withdrawn time): the
same for every attempt of one save. A save made again after its commit's answer was lost
(the connection cut as it committed) first looks for what the first attempt wrote
(:func:`recorded_at`, :func:`withdrawn_at`, ``saving.made_once``), so a consent is not
recorded twice, nor is a person's own withdrawal refused as already withdrawn.

Who may see and change a person's consents: the members of one of their cases (an
active membership) and leads. Every list, recording and withdrawal is audited; a
refused attempt is audited too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from anchor_tui.db.models import (
    CONSENT_DECISIONS,
    GRANTORS,
    AuditEvent,
    Case,
    CaseMember,
    Consent,
    User,
)
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import ConsentFacts, calendar_day
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label

GRANTOR_LABELS = {"self": "The young person", "guardian": "Guardian",
                  "legal_representative": "Legal representative"}
DECISION_LABELS = {"permit": "permits", "deny": "refuses"}


@dataclass(frozen=True)
class ConsentInput:
    """What the consent form holds."""

    grantor: str
    decision: str
    category: str
    professions: tuple[str, ...]
    valid_from: dt.date
    valid_to: dt.date | None
    evidence: str
    """How it was given: "signed form in the anchor meeting", "by phone, witnessed by…"."""


@dataclass(frozen=True)
class ConsentLine:
    """One consent record as the history shows it."""

    consent_id: int
    grantor: str
    decision: str
    category: str
    profession: str
    valid_from: dt.date
    valid_to: dt.date | None
    withdrawn_at: dt.datetime | None
    recorded_by: str
    recorded_at: dt.datetime
    evidence: str
    status: str
    """``in force``, ``withdrawn``, ``expired`` or ``not yet in force`` (a text label)."""


@dataclass(frozen=True)
class ConsentHistory:
    case_id: int
    person_label: str
    lines: tuple[ConsentLine, ...]


@dataclass(frozen=True)
class ExpiringConsent:
    """A consent in force that ends soon, on a case the viewer works (for the queue)."""

    case_id: int
    consent_id: int
    category: str
    profession: str
    valid_to: dt.date


@dataclass(frozen=True)
class ConsentChoices:
    """What the consent form offers, as (id, label) pairs in the team's words."""

    grantors: tuple[tuple[str, str], ...]
    decisions: tuple[tuple[str, str], ...]
    categories: tuple[tuple[str, str], ...]
    professions: tuple[tuple[str, str], ...]
    """Receiving professions: those of the policy that this team has."""

    def label(self, kind: str, value: str) -> str:
        """The label of ``value`` among ``kind`` (grantors, decisions, categories...)."""
        pairs: tuple[tuple[str, str], ...] = getattr(self, kind)
        return next((label for key, label in pairs if key == value), value)


def consent_choices(backend: Backend) -> ConsentChoices:
    policy = backend.policy
    return ConsentChoices(
        grantors=tuple(GRANTOR_LABELS.items()),
        decisions=(("permit", "Permits"), ("deny", "Refuses")),
        categories=tuple((c.id, c.label) for c in policy.categories.values()),
        professions=tuple((p, label) for p, label in policy.professions.items()
                          if p in backend.team.professions),
    )


def _refused(case_id: int) -> AnchorError:
    return AnchorError(f"Only the members and leads of case {case_id} may see or change "
                       "its young person's consents.",
                       "Ask the case's lead to add you to the case.")


def _case(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise AnchorError(f"Case {case_id} is not there any more.",
                          "Go back to the board and press r to read it again.")
    return case


def may_handle(session: Session, viewer: Viewer, case: Case, today: dt.date) -> bool:
    """Members of the case (active today) and leads, in individual work (not a huddle)."""
    if viewer.purpose != "individual":
        return False
    if viewer.role == "lead" or case.lead_user_id == viewer.user_id:
        return True
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case.id, CaseMember.user_id == viewer.user_id,
        CaseMember.valid_from <= today,
        or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today)).limit(1)) is not None


def status(consent: Consent, now: dt.datetime) -> str:
    if consent.withdrawn_at is not None and consent.withdrawn_at <= now:
        return "withdrawn"
    today = calendar_day(now)
    if consent.valid_from > today:
        return "not yet in force"
    if consent.valid_to is not None and consent.valid_to < today:
        return "expired"
    return "in force"


def consent_history(backend: Backend, viewer: Viewer, case_id: int,
                    now: dt.datetime | None = None) -> ConsentHistory:
    """Every consent of the case's young person, newest first (audited)."""
    now = now or utcnow()
    history: ConsentHistory | None = None
    with backend.sessions.write(viewer, now) as session:
        case = _case(session, case_id)
        if not may_handle(session, viewer, case, calendar_day(now)):
            audit.access_denied(session, viewer, "case", case_id, person_id=case.person_id)
        else:
            rows = session.execute(
                select(Consent, User.display_name)
                .join(User, User.id == Consent.recorded_by_id)
                .where(Consent.person_id == case.person_id)
                .order_by(Consent.recorded_at.desc(), Consent.id.desc())).all()
            lines = tuple(
                ConsentLine(c.id, c.grantor, c.decision, c.category, c.receiving_profession,
                            c.valid_from, c.valid_to, c.withdrawn_at, recorder,
                            c.recorded_at, c.evidence, status(c, now))
                for c, recorder in rows)
            fields = backend.policy.case_fields(viewer)
            label = person_label(case.person.first_name, case.person.last_name, fields)
            audit.record(session, viewer, "consent.list", object_type="case",
                         object_id=case_id, person_id=case.person_id)
            history = ConsentHistory(case_id, label, lines)
    if history is None:
        raise _refused(case_id)
    return history


class ConsentInputError(AnchorError):
    """A form field to fix: ``field`` names it (a ``ConsentInput`` attribute)."""

    title = "Consent not recorded"

    def __init__(self, field: str, message: str, fix: str) -> None:
        super().__init__(message, fix)
        self.field = field


def check_input(backend: Backend, data: ConsentInput) -> None:
    """Refuse an incomplete or unknown choice, naming the field to fix."""
    policy = backend.policy
    if data.grantor not in GRANTORS:
        raise ConsentInputError("grantor", "Choose who gave it: the young person, a "
                                "guardian or a legal representative.", "Pick the grantor.")
    if data.decision not in CONSENT_DECISIONS:
        raise ConsentInputError("decision", "Choose whether it permits or refuses.",
                                "Pick permit or deny.")
    if data.category not in policy.categories:
        raise ConsentInputError("category",
                                f"'{data.category}' is not a note category of the policy.",
                                "Pick a category from the list.")
    if not data.professions:
        raise ConsentInputError("professions", "Choose at least one receiving profession.",
                                "Mark the professions it concerns.")
    for profession in data.professions:
        if profession not in policy.professions or profession not in backend.team.professions:
            raise ConsentInputError("professions",
                                    f"'{profession}' is not a profession of this team.",
                                    "Pick professions from the list.")
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise ConsentInputError("valid_to", "The consent ends before it starts.",
                                "Give an end date on or after the start date.")
    if not data.evidence.strip():
        raise ConsentInputError("evidence", "Say how the consent was given (the evidence).",
                                'For example: "signed form in the anchor meeting".')


def record_consent(backend: Backend, viewer: Viewer, case_id: int, data: ConsentInput,
                   now: dt.datetime | None = None, *,
                   at: dt.datetime | None = None) -> tuple[int, ...]:
    """Record a consent or refusal: one row per receiving profession; their ids.

    ``now`` is the moment who may record is judged at (the app's day); ``at`` the moment
    the person saved it (``now`` if not given), written as the rows' recorded time: the
    same for every attempt of one save, so :func:`recorded_at` finds what a first attempt
    wrote when its commit's answer was lost."""
    check_input(backend, data)
    now = now or utcnow()
    moment = at if at is not None else now
    ids: tuple[int, ...] | None = None
    with backend.sessions.write(viewer, now) as session:
        case = _case(session, case_id)
        if not may_handle(session, viewer, case, calendar_day(now)):
            audit.access_denied(session, viewer, "case", case_id, person_id=case.person_id)
        else:
            rows = [Consent(person_id=case.person_id, grantor=data.grantor,
                            decision=data.decision, category=data.category,
                            receiving_profession=profession, valid_from=data.valid_from,
                            valid_to=data.valid_to, recorded_by_id=viewer.user_id,
                            recorded_at=moment, evidence=data.evidence.strip())
                    for profession in dict.fromkeys(data.professions)]
            session.add_all(rows)
            session.flush()
            for row in rows:
                audit.record(session, viewer, "consent.record", object_type="consent",
                             object_id=row.id, person_id=case.person_id)
            ids = tuple(row.id for row in rows)
    if ids is None:
        raise _refused(case_id)
    return ids


def recorded_at(backend: Backend, viewer: Viewer, case_id: int, data: ConsentInput,
                at: dt.datetime, now: dt.datetime | None = None) -> tuple[int, ...] | None:
    """The ids of the consent rows :func:`record_consent` wrote for this person on this
    case's young person, with this content, at the moment ``at`` (a first attempt whose
    answer was lost, the connection cut as it committed), so the attempt made again
    says recorded instead of recording it twice. None if there are none: an older
    consent alike carries another moment, or another recorder, and is never taken for
    it. Read only for whoever may handle the young person's consents (as of ``now``)."""
    now = now or utcnow()
    professions = tuple(dict.fromkeys(data.professions))
    with backend.sessions.read(viewer, now) as session:
        case = session.get(Case, case_id)
        if case is None or not may_handle(session, viewer, case, calendar_day(now)):
            return None
        until = (Consent.valid_to.is_(None) if data.valid_to is None
                 else Consent.valid_to == data.valid_to)
        rows = session.execute(
            select(Consent.id, Consent.receiving_profession)
            .where(Consent.person_id == case.person_id,
                   Consent.recorded_by_id == viewer.user_id, Consent.recorded_at == at,
                   Consent.grantor == data.grantor, Consent.decision == data.decision,
                   Consent.category == data.category,
                   Consent.receiving_profession.in_(professions),
                   Consent.valid_from == data.valid_from, until,
                   Consent.evidence == data.evidence.strip())
            .order_by(Consent.id)).all()
    if not rows:
        return None
    return tuple(consent_id for consent_id, _ in rows)


def withdraw_consent(backend: Backend, viewer: Viewer, case_id: int, consent_id: int,
                     now: dt.datetime | None = None) -> None:
    """Withdraw a consent from now on (it stays in the history as withdrawn).

    ``now`` is the moment the person confirmed it, written as its withdrawn time: the
    same for every attempt of one save, so :func:`withdrawn_at` finds a withdrawal a
    first attempt wrote when its commit's answer was lost."""
    now = now or utcnow()
    done = False
    with backend.sessions.write(viewer, now) as session:
        case = _case(session, case_id)
        consent = session.get(Consent, consent_id)
        if not may_handle(session, viewer, case, calendar_day(now)):
            # Refused before anything about the consent is said (not even whether it
            # exists).
            audit.access_denied(session, viewer, "consent", consent_id,
                                person_id=case.person_id)
        elif consent is None or consent.person_id != case.person_id:
            raise AnchorError(f"Consent {consent_id} is not one of this young person's.",
                              "Pick a consent from the history.")
        else:
            if consent.withdrawn_at is not None:
                raise AnchorError(f"Consent {consent_id} was already withdrawn.",
                                  "Nothing to do.")
            consent.withdrawn_at = now
            audit.record(session, viewer, "consent.withdraw", object_type="consent",
                         object_id=consent_id, person_id=case.person_id)
            done = True
    if not done:
        raise _refused(case_id)


def withdrawn_at(backend: Backend, viewer: Viewer, case_id: int, consent_id: int,
                 at: dt.datetime) -> bool | None:
    """True if this person withdrew the consent at the moment ``at``: what
    :func:`withdraw_consent` wrote for them (a first attempt whose answer was lost), so
    the attempt made again says withdrawn instead of "already withdrawn". None
    otherwise: a withdrawal made by someone else, or at another moment, is still
    refused as already made. Who withdrew it is read from the audit trail, written in
    the withdrawal's own unit of work. Read only for whoever may handle the young
    person's consents (as of ``at``)."""
    with backend.sessions.read(viewer, at) as session:
        case = session.get(Case, case_id)
        if case is None or not may_handle(session, viewer, case, calendar_day(at)):
            return None
        consent = session.scalar(select(Consent.id).where(
            Consent.id == consent_id, Consent.person_id == case.person_id,
            Consent.withdrawn_at == at))
        if consent is None:
            return None
        theirs = session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "consent.withdraw", AuditEvent.object_type == "consent",
            AuditEvent.object_id == consent_id, AuditEvent.actor_id == viewer.user_id)
            .limit(1))
    return None if theirs is None else True


def expiring_consents(backend: Backend, viewer: Viewer, within_days: int = 14,
                      now: dt.datetime | None = None) -> list[ExpiringConsent]:
    """Consents in force ending within ``within_days`` on cases the viewer works."""
    now = now or utcnow()
    today = calendar_day(now)
    horizon = today + dt.timedelta(days=within_days)
    with backend.sessions.read(viewer, now) as session:
        rows = session.execute(
            select(Case.id, Consent)
            .join(Consent, Consent.person_id == Case.person_id)
            .join(CaseMember, and_(CaseMember.case_id == Case.id,
                                   CaseMember.user_id == viewer.user_id))
            .where(Case.closed_at.is_(None), CaseMember.valid_from <= today,
                   or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today),
                   Consent.valid_to.is_not(None), Consent.valid_to <= horizon)
            .order_by(Consent.valid_to, Case.id, Consent.id)).all()
        found = []
        for case_id, c in rows:
            facts = ConsentFacts(c.person_id, c.grantor, c.decision, c.category,
                                 c.receiving_profession, c.valid_from, c.valid_to,
                                 c.withdrawn_at, c.id)
            if facts.active_at(now, today) and c.valid_to is not None:
                found.append(ExpiringConsent(case_id, c.id, c.category,
                                             c.receiving_profession, c.valid_to))
    return found
