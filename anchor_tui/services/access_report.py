"""The access report: who saw a young person's data, when, and for what purpose.

The client's right to know (Finnish law) is answered from the audit trail: every event
about the person (case opened, note list shown, notes disclosed to another profession
with the basis of each disclosure, consents, exports). The auditor screen reads the same
events with filters (person, user, dates, action). Reading the trail is itself recorded
(``audit.report``). The report holds ids, names of the professionals and labels only:
never note text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from anchor_tui.db.models import AuditEvent, Person, User
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend

ACTION_LABELS = {
    "sign_in": "signed in", "sign_in.failed": "failed to sign in", "sign_out": "signed out",
    "account.locked": "was locked out after wrong passphrases",
    "lock": "locked the terminal", "unlock": "unlocked the terminal",
    "huddle.join": "joined a huddle", "huddle.leave": "left a huddle",
    "case.view": "opened the case", "note.list": "was shown the case's notes",
    "note.write": "wrote a note",
    "note.disclosed": "was shown a note of another profession",
    "search.results": "was shown the case in search results",
    "consent.list": "was shown the consents", "consent.record": "recorded a consent",
    "consent.withdraw": "withdrew a consent", "export": "exported the data",
    "policy.load": "loaded the disclosure policy", "access.denied": "was refused access",
    "break_glass": "opened restricted notes in an emergency",
    "audit.report": "read the audit trail", "retention.erase": "erased expired content",
}
"""What each action means, in words (every action of ``audit.ACTIONS``)."""
PURPOSE_LABELS = {"individual": "own work", "huddle": "daily huddle"}


@dataclass(frozen=True)
class AccessFilter:
    """Which events: all given criteria must hold (dates are calendar days, inclusive)."""

    person_id: int | None = None
    username: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    action: str | None = None


@dataclass(frozen=True)
class AccessLine:
    event_id: int
    at: dt.datetime
    who: str
    """The professional's display name and username, or "anchor-tui (system)"."""
    profession: str
    action: str
    action_label: str
    purpose: str
    huddle_id: int | None
    person_id: int | None
    object_type: str | None
    object_id: int | None
    rule_ids: tuple[str, ...]
    consent_ids: tuple[int, ...]

    @property
    def basis(self) -> str:
        """Why it was shown: the consents and/or rules (for the disclosure ledger)."""
        parts = [f"consent {c}" for c in self.consent_ids]
        parts += [f"rule {r}" for r in self.rule_ids]
        return ", ".join(parts)

    @property
    def what(self) -> str:
        return f"{self.object_type} {self.object_id}" if self.object_type else ""


@dataclass(frozen=True)
class AccessReport:
    person_id: int
    person_name: str
    lines: tuple[AccessLine, ...]

    @property
    def disclosures(self) -> tuple[AccessLine, ...]:
        return tuple(line for line in self.lines if line.action == "note.disclosed")


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min).astimezone().astimezone(dt.UTC)


def _query(flt: AccessFilter) -> Select[AuditEvent, User]:
    query = (select(AuditEvent, User).outerjoin(User, User.id == AuditEvent.actor_id)
             .order_by(AuditEvent.id))
    if flt.person_id is not None:
        query = query.where(AuditEvent.person_id == flt.person_id)
    if flt.username:
        query = query.where(User.username == flt.username.strip())
    if flt.since is not None:
        query = query.where(AuditEvent.at >= _day_start(flt.since))
    if flt.until is not None:
        query = query.where(AuditEvent.at < _day_start(flt.until + dt.timedelta(days=1)))
    if flt.action:
        query = query.where(AuditEvent.action == flt.action)
    return query


def _lines(session: Session, flt: AccessFilter, limit: int | None) -> tuple[AccessLine, ...]:
    """Matching events oldest first; with ``limit``, only the newest ``limit``."""
    query = _query(flt)
    if limit is not None:
        query = query.order_by(None).order_by(AuditEvent.id.desc()).limit(limit)
    rows = list(session.execute(query).all())
    if limit is not None:
        rows.reverse()
    lines = []
    for event, user in rows:  # user None: the system
        lines.append(AccessLine(
            event_id=event.id, at=event.at,
            who=f"{user.display_name} ({user.username})" if user else "anchor-tui (system)",
            profession=user.profession if user else "",
            action=event.action, action_label=ACTION_LABELS.get(event.action, event.action),
            purpose=PURPOSE_LABELS.get(event.purpose or "", event.purpose or ""),
            huddle_id=event.huddle_id, person_id=event.person_id,
            object_type=event.object_type, object_id=event.object_id,
            rule_ids=tuple(r for r in (event.rule_ids or "").split(",") if r),
            consent_ids=tuple(int(c) for c in (event.consent_ids or "").split(",") if c),
        ))
    return tuple(lines)


def access_report(backend: Backend, person_id: int) -> AccessReport:
    """Every recorded access to the young person's data (the command line's report).

    Recorded as ``audit.report`` by the system, in the same unit of work.
    """
    with backend.sessions.system("audit access report") as session:
        person = session.get(Person, person_id)
        if person is None:
            raise AnchorError(f"There is no young person {person_id}.",
                              "Check the id (the case view shows the case's person).")
        lines = _lines(session, AccessFilter(person_id=person_id), None)
        audit.record(session, None, "audit.report", object_type="person",
                     object_id=person_id, person_id=person_id,
                     policy_hash=backend.policy.hash)
        return AccessReport(person_id, f"{person.first_name} {person.last_name}", lines)


def auditor_events(backend: Backend, viewer: Viewer, flt: AccessFilter,
                   limit: int = 500) -> tuple[AccessLine, ...]:
    """The auditor screen's events (auditors only, in their own work: never a huddle's
    shared screen, whose viewer carries its chair's role), newest ``limit``, oldest first."""
    if viewer.role != "auditor" or viewer.purpose != "individual":
        with backend.sessions.write(viewer) as session:  # the refusal is recorded
            audit.access_denied(session, viewer, "audit_trail", None,
                                person_id=flt.person_id)
        raise AnchorError("Only auditors may read the audit trail, in their own work "
                          "(not in a huddle).", "Ask an auditor of the team.")
    if flt.action and flt.action not in audit.ACTIONS:
        raise AnchorError(f"'{flt.action}' is not an audited action.",
                          "Pick an action from the list.")
    with backend.sessions.write(viewer) as session:
        lines = _lines(session, flt, limit)
        audit.record(session, viewer, "audit.report",
                     object_type="person" if flt.person_id is not None else None,
                     object_id=flt.person_id, person_id=flt.person_id)
    return lines
