"""The case board: cases per stage, with only the case fields the viewer may see."""

from __future__ import annotations

from sqlalchemy import func, select

from anchor_tui.db.models import Case, Person, User
from anchor_tui.domain import BoardColumn, CaseCard, Viewer
from anchor_tui.services.backend import Backend


def initials(first: str, last: str) -> str:
    parts = [p[:1].upper() + "." for p in (first, last) if p]
    return " ".join(parts) or "?"


def board_columns(backend: Backend, viewer: Viewer, per_stage: int = 50) -> list[BoardColumn]:
    """One column per configured stage: its total and its first ``per_stage`` cards.

    Cards are ordered by priority, then next review (soonest first), then id. An empty
    huddle sees nothing: every column is empty and counts are zero.
    """
    stages = backend.team.stages
    if not viewer.audience:
        return [BoardColumn(s.id, s.label, 0, ()) for s in stages]
    fields = backend.policy.case_fields(viewer)
    columns: list[BoardColumn] = []
    with backend.sessions.read(viewer) as session:
        totals = dict(
            session.execute(select(Case.stage, func.count()).group_by(Case.stage)).all()
        )
        for stage in stages:
            rows = session.execute(
                select(Case.id, Case.category, Case.stage, Case.priority, Case.next_review,
                       Person.first_name, Person.last_name, User.display_name)
                .join(Person, Person.id == Case.person_id)
                .outerjoin(User, User.id == Case.lead_user_id)
                .where(Case.stage == stage.id)
                .order_by(Case.priority, Case.next_review.is_(None), Case.next_review, Case.id)
                .limit(per_stage)
            ).all()
            cards = tuple(
                CaseCard(
                    case_id=case_id,
                    person_label=f"{first} {last}" if "person_name" in fields
                    else initials(first, last),
                    category=category,
                    stage=stage_id,
                    priority=priority,
                    next_review=next_review,
                    lead=lead if "lead" in fields else None,
                )
                for case_id, category, stage_id, priority, next_review, first, last, lead in rows
            )
            columns.append(BoardColumn(stage.id, stage.label, totals.get(stage.id, 0), cards))
    return columns
