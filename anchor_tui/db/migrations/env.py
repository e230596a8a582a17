"""Alembic environment: runs on the connection anchor-tui hands it (see db/schema.py)."""

from __future__ import annotations

from alembic import context

from anchor_tui.db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via anchor-tui's own commands
    raise RuntimeError("run migrations with `anchor-tui db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
