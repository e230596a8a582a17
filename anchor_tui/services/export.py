"""Subject access export: what one user may see of one young person, as Markdown or JSON.

Everything is read through that user's own viewer (``backend.sessions.write(viewer)``:
the central filter) and each note is re-checked with ``decide()`` before it is written,
exactly as the case view does. The export is recorded in the audit trail with the
disclosure ledger for notes of other professions, in the same unit of work as the read:
if the audit write fails, no file is written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from anchor_tui.db.models import Case, Consent, Note, Task, User
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import calendar_day
from anchor_tui.private_file import write_private
from anchor_tui.services import audit
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import initials
from anchor_tui.services.consents import may_handle, status
from anchor_tui.services.disclosure import load_context, note_facts, recheck, visible_revision

FORMATS = ("md", "json")


@dataclass(frozen=True)
class ExportedNote:
    note_id: int
    written_at: str
    author_profession: str
    category: str
    revision: int
    entered_in_error: bool
    body: str


@dataclass(frozen=True)
class ExportedCase:
    case_id: int
    category: str
    stage: str
    opened_at: str
    closed_at: str | None
    closed_reason: str | None
    summary: str | None
    notes: list[ExportedNote]
    tasks: list[dict[str, Any]]


@dataclass(frozen=True)
class PersonExport:
    person_id: int
    person: str
    birth_date: str | None
    municipality: str | None
    exported_for: str
    exported_at: str
    policy_hash: str
    cases: list[ExportedCase]
    consents: list[dict[str, Any]]


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _viewer(backend: Backend, username: str) -> Viewer:
    with backend.sessions.system("export: find user") as session:
        user = session.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise AnchorError(f"There is no user '{username}'.", "See: anchor-tui user list")
        return viewer_for(user)


def collect(backend: Backend, username: str, person_id: int,
            now: dt.datetime | None = None) -> PersonExport:
    """What ``username`` may see of the young person ``person_id`` (audited)."""
    now = now or utcnow()
    viewer = _viewer(backend, username)
    fields = backend.policy.case_fields(viewer)
    with backend.sessions.write(viewer, now) as session:
        cases = list(session.scalars(select(Case).where(Case.person_id == person_id)
                                     .order_by(Case.id)))
        if not cases:
            raise AnchorError(f"Young person {person_id} has no cases.",
                              "Check the id (the case view shows the case's person).")
        person = cases[0].person
        ids = [c.id for c in cases]
        ctx = load_context(session, ids, now)
        loaded = list(session.scalars(select(Note).where(Note.case_id.in_(ids))
                                      .order_by(Note.created_at, Note.id)))
        notes = recheck(backend.policy, viewer, [(n, person_id) for n in loaded], ctx)
        corrected = {n.id: n.supersedes_id for n in notes}  # (numbered among these)
        tasks = list(session.scalars(select(Task).where(Task.case_id.in_(ids))
                                     .order_by(Task.id)))
        today = calendar_day(now)
        consents: list[dict[str, Any]] = []
        if any(may_handle(session, viewer, c, today) for c in cases):
            consents = [
                {"consent_id": c.id, "grantor": c.grantor, "decision": c.decision,
                 "category": c.category, "receiving_profession": c.receiving_profession,
                 "valid_from": _iso(c.valid_from), "valid_to": _iso(c.valid_to),
                 "withdrawn_at": _iso(c.withdrawn_at), "status": status(c, now),
                 "evidence": c.evidence}
                for c in session.scalars(select(Consent).where(Consent.person_id == person_id)
                                         .order_by(Consent.id))]
        exported = [ExportedCase(
            case_id=c.id, category=c.category, stage=c.stage, opened_at=_iso(c.opened_at) or "",
            closed_at=_iso(c.closed_at), closed_reason=c.closed_reason,
            summary=c.summary if "summary" in fields else None,
            notes=[ExportedNote(n.id, _iso(n.created_at) or "", n.author_profession, n.category,
                                visible_revision(corrected, n.id), n.entered_in_error, n.body)
                   for n in notes if n.case_id == c.id],
            tasks=[{"task_id": t.id, "title": t.title, "due": _iso(t.due),
                    "done": t.done_at is not None} for t in tasks if t.case_id == c.id],
        ) for c in cases]
        result = PersonExport(
            person_id=person_id,
            person=f"{person.first_name} {person.last_name}" if "person_name" in fields
            else initials(person.first_name, person.last_name),
            birth_date=_iso(person.birth_date) if "birth_date" in fields else None,
            municipality=person.municipality if "municipality" in fields else None,
            exported_for=f"{viewer.display_name} ({viewer.username}, {viewer.profession})",
            exported_at=now.isoformat(), policy_hash=backend.policy.hash,
            cases=exported, consents=consents,
        )
        recorded = audit.Batch(session, viewer)
        recorded.add("export", object_type="person", object_id=person_id,
                     person_id=person_id)
        recorded.disclosed([note_facts(n, person_id) for n in notes], ctx)
        recorded.write()
    return result


def render_json(export: PersonExport) -> str:
    return json.dumps(asdict(export), indent=2, ensure_ascii=False) + "\n"


def fenced(value: str) -> list[str]:
    """User text as a fenced code block whose fence no run of backticks in it can close:
    whatever it holds (Markdown, HTML, links) stays characters."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * max(3, longest + 1)
    return ["", fence + "text", *(value.splitlines() or [""]), fence, ""]


def render_markdown(export: PersonExport) -> str:
    """Markdown: our words as headings and lines, every piece of user text (names,
    summaries, notes, task titles, evidence) in a fenced block of its own."""
    out = [f"# What {export.exported_for} may see of young person {export.person_id}", "",
           f"Exported: {export.exported_at}  ", f"Policy hash: {export.policy_hash}", "",
           "Young person:", *fenced(export.person)]
    if export.birth_date:
        out += [f"Born: {export.birth_date}", ""]
    if export.municipality is not None:
        out += ["Municipality:", *fenced(export.municipality)]
    for case in export.cases:
        out += [f"## Case {case.case_id} ({case.category}, {case.stage})", "",
                f"Opened: {case.opened_at}  "]
        if case.closed_at:
            out.append(f"Closed: {case.closed_at} ({case.closed_reason or '-'})  ")
        if case.summary is not None:
            out += ["", "Summary:", *fenced(case.summary)]
        out += ["", f"### Notes ({len(case.notes)})", ""]
        for note in case.notes:
            flag = ", entered in error" if note.entered_in_error else ""
            out += [f"Note {note.note_id}, {note.written_at}, {note.author_profession}, "
                    f"{note.category}, revision {note.revision}{flag}:", *fenced(note.body)]
        out += [f"### Tasks ({len(case.tasks)})", ""]
        for task in case.tasks:
            out += [f"Task {task['task_id']} (due {task['due'] or '-'}, "
                    f"{'done' if task['done'] else 'open'}):", *fenced(str(task["title"]))]
    if export.consents:
        out += [f"## Consents ({len(export.consents)})", ""]
        for c in export.consents:
            out += [f"Consent {c['consent_id']}: {c['grantor']} {c['decision']}s "
                    f"{c['category']} to {c['receiving_profession']}, {c['valid_from']} – "
                    f"{c['valid_to'] or 'open'}, {c['status']}; evidence:",
                    *fenced(str(c["evidence"]))]
    return "\n".join(out).rstrip("\n") + "\n"


def format_for(path: Path, given: str | None) -> str:
    if given:
        if given not in FORMATS:
            raise AnchorError(f"--format must be md or json (got {given}).",
                              "Use --format md or --format json.")
        return given
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("md", "markdown"):
        return "md"
    if suffix == "json":
        return "json"
    raise AnchorError(f"Cannot tell the format from '{path.name}'.",
                      "End the file name in .md or .json, or give --format md|json.")


def export_person(backend: Backend, username: str, person_id: int, path: Path,
                  fmt: str | None = None) -> PersonExport:
    """Collect (audited), then write ``path``; nothing is written if the read failed."""
    chosen = format_for(path, fmt)
    export = collect(backend, username, person_id)
    text = render_json(export) if chosen == "json" else render_markdown(export)
    try:
        write_private(path, text)
    except OSError as exc:
        raise AnchorError(f"Cannot write {path} ({exc.strerror}).",
                          "Give a file in a folder you may write to.") from exc
    return export

