"""The audit trail: who saw or changed what, when, why, under which policy. Ids only.

Every event is an ``audit_event`` row written in the *same* unit of work as what it
records: if the row cannot be written, the read or change it records fails with it and
nothing is shown. A read that is audited therefore runs in a write unit of work
(``backend.sessions.write(viewer)``); :func:`record` refuses a read-only one.

Rows form a chain: each row's ``hash`` is an HMAC-SHA256, under a secret key, of the
row's fields (a canonical JSON) and the previous row's hash. Editing, inserting,
reordering or deleting a row breaks the chain (``services.audit_chain.verify``); deleting
the newest rows is caught against a checkpoint kept elsewhere.

The key (per database) lives in the OS keyring (service ``anchor-tui``, entry
``audit-key <database>``) or, where no keyring backend exists, in the environment
variable ``ANCHOR_AUDIT_KEY``: never in a file. A new, empty chain on a machine with a
keyring gets a fresh random key stored there.

Writers stay in one line: SQLite write units of work hold the database's write lock
(BEGIN IMMEDIATE) and PostgreSQL takes a transaction-level advisory lock before reading
the chain's head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from weakref import WeakSet

from sqlalchemy import Connection, Engine, Table, func, select
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from anchor_tui.db.models import AuditEvent, Case, Note
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import DecisionContext, NoteFacts, Policy
from anchor_tui.policy.conditions import Consent as ConsentCondition
from anchor_tui.services.audit_chain import GENESIS, KEY_ENV, AuditKeyError, audit_key, row_hash
from anchor_tui.services.backend import Backend

__all__ = ["ACTIONS", "KEY_ENV", "AuditKeyError", "AuditWriteError", "Batch", "Entry",
           "append", "notes_shown", "record", "record_disclosures"]

_PG_LOCK = 0x616E63686F72  # "anchor": the advisory lock that keeps the chain linear
_AUDIT_TABLE = cast(Table, AuditEvent.__table__)

ACTIONS = frozenset({
    "sign_in", "sign_in.failed", "account.locked", "sign_out", "lock", "unlock",
    "huddle.join", "huddle.leave",
    "case.view", "note.list", "note.write", "note.disclosed", "search.results",
    "consent.list", "consent.record", "consent.withdraw",
    "export", "policy.load", "access.denied", "break_glass",
    "audit.report", "retention.erase",
})
"""Every action the trail knows; a typo is a programming error, not a new action."""


class AuditWriteError(AnchorError):
    """The audit event could not be written, so what it records did not happen."""

    title = "Not recorded"


@dataclass(frozen=True)
class Entry:
    """One event to append (ids only)."""

    action: str
    actor_id: int | None = None
    purpose: str | None = None
    huddle_id: int | None = None
    person_id: int | None = None
    object_type: str | None = None
    object_id: int | None = None
    rule_ids: tuple[str, ...] = ()
    consent_ids: tuple[int, ...] = ()


def _url_of(bind: Engine | Connection) -> URL:
    return bind.engine.url if isinstance(bind, Connection) else bind.url


def append(session: Session, entries: Sequence[Entry], policy_hash: str) -> list[int]:
    """Append ``entries`` to the chain inside ``session``'s unit of work; their ids.

    One batch is one round trip for the chain's head and one multi-row insert, however
    many entries (a case view with its disclosure ledger is a single batch). Raises
    :class:`AuditWriteError` (and the caller's unit of work rolls back) when the rows
    cannot be written.
    """
    if not entries:
        return []
    bind = session.get_bind()
    if not bind.get_execution_options().get("anchor_write"):
        raise RuntimeError("audit events are written in a write unit of work "
                           "(backend.sessions.write), never in a read-only one")
    for entry in entries:
        if entry.action not in ACTIONS:
            raise ValueError(f"unknown audit action {entry.action!r}")
    session.flush()  # the caller's own changes first: their errors are theirs
    try:
        if bind.dialect.name == "postgresql":
            session.execute(select(func.pg_advisory_xact_lock(_PG_LOCK)))
        head = session.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
        ).first()
        # A new key is made only for an embedded database's first row: a shared one
        # needs the team's key on every terminal (anchor-tui audit key-new / key-set).
        key = audit_key(_url_of(bind),
                        create=head is None and bind.dialect.name == "sqlite")
        last_id, prev = (head[0], head[1] or "") if head is not None else (0, GENESIS)
        now = utcnow()
        rows: list[dict[str, Any]] = []
        for offset, entry in enumerate(entries, start=1):
            fields: dict[str, Any] = {
                "id": last_id + offset, "at": now, "actor_id": entry.actor_id,
                "action": entry.action, "purpose": entry.purpose,
                "huddle_id": entry.huddle_id, "person_id": entry.person_id,
                "object_type": entry.object_type, "object_id": entry.object_id,
                "policy_hash": policy_hash,
                "rule_ids": ",".join(entry.rule_ids) or None,
                "consent_ids": ",".join(map(str, entry.consent_ids)) or None,
                "prev_hash": prev,
            }
            prev = row_hash(key, fields)
            fields["hash"] = prev
            rows.append(fields)
        session.execute(_AUDIT_TABLE.insert(), rows)
    except SQLAlchemyError as exc:
        raise AuditWriteError(
            "The access could not be recorded in the audit trail, so it was not done "
            "and nothing was shown.",
            "Try again; if it keeps failing, tell the database owner (anchor-tui audit "
            "verify).",
        ) from exc
    return [row["id"] for row in rows]


def _policy_hash(session: Session) -> str:
    policy = session.info.get("filter")
    if isinstance(policy, Policy):
        return policy.hash
    raise RuntimeError("an audited unit of work needs the policy: open it with "
                       "backend.sessions.write(viewer) or pass policy_hash")


def record(session: Session, viewer: Viewer | None, action: str, *,
           object_type: str | None = None, object_id: int | None = None,
           person_id: int | None = None, rule_ids: Iterable[str] = (),
           consent_ids: Iterable[int] = (), purpose: str | None = None,
           huddle_id: int | None = None, policy_hash: str | None = None) -> int:
    """Record one event in ``session``'s unit of work; its id.

    ``viewer`` None is the system (a command-line job). Purpose and huddle default to
    the viewer's. The policy hash is the session's policy's unless given.
    """
    entry = Entry(
        action=action, actor_id=viewer.user_id if viewer else None,
        purpose=purpose or (viewer.purpose if viewer else None),
        huddle_id=huddle_id if huddle_id is not None else (viewer.huddle_id if viewer
                                                           else None),
        person_id=person_id, object_type=object_type, object_id=object_id,
        rule_ids=tuple(rule_ids), consent_ids=tuple(consent_ids),
    )
    return append(session, [entry], policy_hash or _policy_hash(session))[0]


# --- batches: a read and everything it showed, in one insert --------------------------

def _uses_consent(policy: Policy, rule_ids: Iterable[str]) -> bool:
    wanted = set(rule_ids)
    return any(isinstance(cond, ConsentCondition)
               for rule in policy.rules if rule.id in wanted for cond in rule.conditions)


ShownNote = NoteFacts | tuple[Note, int]
"""A note that was shown: its facts, or the row with its young person's id."""


def _facts(item: ShownNote) -> NoteFacts:
    if isinstance(item, NoteFacts):
        return item
    note, person_id = item
    return NoteFacts(note.id, note.case_id, person_id, note.category, note.author_id,
                     note.author_profession)


class Batch:
    """The events of one read or change, appended together by :meth:`write`.

    ``session`` is the viewer's write unit of work that did the read; nothing is
    written until :meth:`write` (call it last, before the unit of work commits).
    """

    def __init__(self, session: Session, viewer: Viewer) -> None:
        policy = session.info.get("filter")
        if not isinstance(policy, Policy):
            raise RuntimeError("an audited read needs the viewer's write unit of work "
                               "(backend.sessions.write(viewer))")
        self.session = session
        self.viewer = viewer
        self.policy = policy
        self.entries: list[Entry] = []

    def add(self, action: str, *, object_type: str | None = None,
            object_id: int | None = None, person_id: int | None = None,
            rule_ids: Iterable[str] = (), consent_ids: Iterable[int] = ()) -> None:
        viewer = self.viewer
        self.entries.append(Entry(
            action=action, actor_id=viewer.user_id, purpose=viewer.purpose,
            huddle_id=viewer.huddle_id, person_id=person_id, object_type=object_type,
            object_id=object_id, rule_ids=tuple(rule_ids), consent_ids=tuple(consent_ids)))

    def disclosed(self, notes: Iterable[ShownNote], ctx: DecisionContext) -> tuple[str, ...]:
        """The disclosure ledger: one event per note shown to someone of another
        profession (in a huddle: each attendee of another profession), with the rule ids
        that allowed it and, where a consent rule did, the consents it rested on.

        Give the notes that passed the re-check. Returns the ids of every rule that let
        the notes be shown (for the event that records the list itself).
        """
        viewer, policy = self.viewer, self.policy
        deciding: dict[str, None] = {}
        huddle = viewer.purpose == "huddle"
        for item in notes:
            facts = _facts(item)
            own = None if huddle else policy.decide(viewer, facts, ctx)
            for who in viewer.audience:
                decision = own if own is not None else \
                    policy.decide_for(who, viewer.purpose, facts, ctx)
                deciding.update(dict.fromkeys(decision.rule_ids))
                if who.profession == facts.author_profession or not decision.allowed:
                    continue  # no disclosure, or never shown (the re-check dropped it)
                consent_ids: list[int] = []
                if _uses_consent(policy, decision.rule_ids):
                    consent_ids = ctx.consent_basis(facts.person_id, facts.category,
                                                    who.profession)
                self.entries.append(Entry(
                    action="note.disclosed", actor_id=who.user_id, purpose=viewer.purpose,
                    huddle_id=viewer.huddle_id, person_id=facts.person_id,
                    object_type="note", object_id=facts.id, rule_ids=decision.rule_ids,
                    consent_ids=tuple(consent_ids)))
        return tuple(deciding)

    def cases_listed(self, action: str, case_ids: Iterable[int]) -> None:
        """One ``action`` event per case (each with its young person), in one query."""
        ids = list(dict.fromkeys(case_ids))
        if not ids:
            return
        persons: dict[int, int] = {case_id: person_id for case_id, person_id in
                                   self.session.execute(select(Case.id, Case.person_id)
                                                        .where(Case.id.in_(ids)))}
        for case_id in ids:
            self.add(action, object_type="case", object_id=case_id,
                     person_id=persons.get(case_id))

    def write(self) -> list[int]:
        ids = append(self.session, self.entries, self.policy.hash)
        self.entries = []
        return ids


def record_disclosures(session: Session, viewer: Viewer, notes: Iterable[ShownNote],
                       ctx: DecisionContext) -> list[int]:
    """Only the disclosure ledger of ``notes`` (see :meth:`Batch.disclosed`)."""
    batch = Batch(session, viewer)
    batch.disclosed(notes, ctx)
    return batch.write()


def notes_shown(session: Session, viewer: Viewer, case_id: int, person_id: int,
                notes: Sequence[ShownNote], ctx: DecisionContext, *,
                case_opened: bool, consents_listed: bool = False) -> list[int]:
    """A case's notes were shown: ``case.view`` (when the case itself was opened),
    ``note.list`` with the rules that let them be shown, the disclosure ledger and
    ``consent.list`` (when the case view listed the young person's consents); one
    insert. Call in the unit of work that read them, before anything is returned."""
    batch = Batch(session, viewer)
    if case_opened:
        batch.add("case.view", object_type="case", object_id=case_id, person_id=person_id)
    rules = batch.disclosed(notes, ctx)
    batch.entries.insert(1 if case_opened else 0, Entry(
        "note.list", actor_id=viewer.user_id, purpose=viewer.purpose,
        huddle_id=viewer.huddle_id, person_id=person_id, object_type="case",
        object_id=case_id, rule_ids=rules))
    if consents_listed:
        batch.add("consent.list", object_type="case", object_id=case_id, person_id=person_id)
    return batch.write()


# --- single events ------------------------------------------------------------------------

def _person_of_case(session: Session, case_id: int) -> int | None:
    return session.scalar(select(Case.person_id).where(Case.id == case_id))


def case_viewed(session: Session, viewer: Viewer, case_id: int) -> int:
    """A case was opened (its fields shown). A case view records this together with its
    notes through :func:`notes_shown`."""
    return record(session, viewer, "case.view", object_type="case", object_id=case_id,
                  person_id=_person_of_case(session, case_id))


def note_list_shown(session: Session, viewer: Viewer, case_id: int) -> int:
    """A case's note list was shown (without its ledger: see :func:`notes_shown`)."""
    return record(session, viewer, "note.list", object_type="case", object_id=case_id,
                  person_id=_person_of_case(session, case_id))


def note_written(session: Session, viewer: Viewer, note: Note) -> int:
    """A note (or a correction) was saved; call after ``session.flush()`` gave it an id."""
    return record(session, viewer, "note.write", object_type="note", object_id=note.id,
                  person_id=_person_of_case(session, note.case_id))


def access_denied(session: Session, viewer: Viewer, object_type: str, object_id: int | None,
                  *, person_id: int | None = None, rule_ids: Iterable[str] = ()) -> int:
    """A refused access. Record it in a unit of work that then *commits* (return the
    refusal normally; raising inside the unit of work would roll this back)."""
    return record(session, viewer, "access.denied", object_type=object_type,
                  object_id=object_id, person_id=person_id, rule_ids=rule_ids)


def record_now(backend: Backend, viewer: Viewer | None, action: str, *,
               object_type: str | None = None, object_id: int | None = None,
               person_id: int | None = None, huddle_id: int | None = None) -> int:
    """Record an event in a unit of work of its own (sign-in, sign-out, lock, huddle)."""
    if viewer is not None:
        with backend.sessions.write(viewer) as session:
            return record(session, viewer, action, object_type=object_type,
                          object_id=object_id, person_id=person_id, huddle_id=huddle_id)
    with backend.sessions.system(f"audit: {action}") as session:
        return record(session, None, action, object_type=object_type, object_id=object_id,
                      person_id=person_id, huddle_id=huddle_id,
                      policy_hash=backend.policy.hash)


_LOADED: WeakSet[Policy] = WeakSet()
"""Policies whose loading this process has recorded."""


def signed_in(session: Session, backend: Backend, viewer: Viewer) -> None:
    """A sign-in, in the sign-in's own unit of work; the first one of a process also
    records that this terminal loaded the policy in force."""
    entries = [Entry("sign_in", actor_id=viewer.user_id, purpose=viewer.purpose)]
    if backend.policy not in _LOADED:
        entries.insert(0, Entry("policy.load", actor_id=viewer.user_id))
    append(session, entries, backend.policy.hash)
    _LOADED.add(backend.policy)


def sign_in_failed(session: Session, backend: Backend, user_id: int | None) -> None:
    """A wrong passphrase (``user_id`` None: an unknown username), a locked or a
    deactivated account. The unit of work must commit: raise the refusal after it."""
    append(session, [Entry("sign_in.failed", actor_id=user_id)], backend.policy.hash)


def account_locked(session: Session, backend: Backend, user_id: int) -> None:
    """Too many wrong passphrases locked ``user_id``'s account (in the refusal's unit of
    work, which must commit)."""
    append(session, [Entry("account.locked", actor_id=user_id, object_type="user",
                           object_id=user_id)], backend.policy.hash)


def signed_out(backend: Backend, viewer: Viewer) -> int:
    return record_now(backend, viewer, "sign_out")


def locked(backend: Backend, viewer: Viewer) -> int:
    """The shared terminal locked (idle, or a key) with ``viewer`` signed in."""
    return record_now(backend, viewer, "lock")


def unlocked(backend: Backend, viewer: Viewer) -> int:
    return record_now(backend, viewer, "unlock")


def huddle_joined(backend: Backend, viewer: Viewer, huddle_id: int, user_id: int) -> int:
    """``user_id`` joined huddle ``huddle_id`` (``viewer``: who is at the keyboard)."""
    return record_now(backend, viewer, "huddle.join", object_type="user", object_id=user_id,
                      huddle_id=huddle_id)


def huddle_left(backend: Backend, viewer: Viewer, huddle_id: int, user_id: int) -> int:
    return record_now(backend, viewer, "huddle.leave", object_type="user", object_id=user_id,
                      huddle_id=huddle_id)


def policy_loaded(backend: Backend) -> int:
    """This terminal loaded the policy (its hash is in the event)."""
    event_id = record_now(backend, None, "policy.load")
    _LOADED.add(backend.policy)
    return event_id
