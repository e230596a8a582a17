"""A child-welfare form kept before its screen read its notification gets its case.

The child-welfare recording form is named by its notification (``notification:7``). A
form kept in the moment between the screen opening and its reading of the notification
(a takeover at the idle lock just then) was kept with no case: retention and the removal
of the case did not erase it, and the sign-in message did not name its case. The app
now finds the case from the notification when it keeps such a form; this gives the rows
kept before the same case, from the author's own notification (another's names none).

Data only. Downgrade leaves the cases in place: the older version reads them as they are.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

PREFIX = "notification:"


def upgrade() -> None:
    # The id compared as text: a target that is not a number matches nothing and fails
    # nothing (a cast would fail the whole upgrade on PostgreSQL).
    op.get_bind().execute(sa.text(
        "UPDATE form_draft SET case_id = (SELECT n.case_id FROM "
        "child_welfare_notification n WHERE n.notifier_id = form_draft.author_id "
        "AND CAST(n.id AS VARCHAR(20)) = substr(form_draft.target, :start)) "
        "WHERE case_id IS NULL AND target LIKE :prefix"),
        {"start": len(PREFIX) + 1, "prefix": f"{PREFIX}%"})


def downgrade() -> None:
    pass
