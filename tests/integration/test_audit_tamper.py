"""Every tampering with the audit trail is found, for every chain and every change
(hypothesis), on SQLite and PostgreSQL: an edited field of any row, a row inserted
anywhere, rows deleted anywhere, two rows swapped, the newest rows cut off.

Each example writes a fresh chain of ``length`` rows (as the app writes them, one batch
after another), takes a checkpoint, tampers with the rows directly in SQL as someone
with database access but without the key would, and verifies. With the checkpoint
every change is found, and the first bad row named is where the change is; without it,
every change but cutting off the newest rows is found.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text

from anchor_tui.db import models as m
from anchor_tui.services import audit
from anchor_tui.services.audit_chain import Checkpoint, checkpoint, fields_of, row_hash, verify
from anchor_tui.services.backend import Backend
from tests.integration.test_audit import Team, backend_for, team

FORGED_KEY = b"a key someone without the real one guessed"
EDITABLE = ("at", "actor_id", "action", "purpose", "person_id", "object_type", "object_id",
            "policy_hash", "rule_ids", "consent_ids", "prev_hash", "hash")
"""Columns an edit changes (huddle ids stay: a made-up one would break its foreign key)."""


@dataclass(frozen=True)
class Tamper:
    kind: str
    row: int
    """1-based position of the row the change is about."""
    other: int = 0
    """The second row of a swap, or how many newest rows are cut off."""
    column: str = ""
    forge_hash: bool = False
    """An edit or insert that also writes a hash made with a guessed key."""


@st.composite
def chains_and_tampers(draw: st.DrawFn) -> tuple[int, Tamper]:
    length = draw(st.integers(min_value=1, max_value=12))
    kind = draw(st.sampled_from(["edit", "delete", "insert", "swap", "truncate"]))
    row = draw(st.integers(min_value=1, max_value=length))
    if kind == "swap":
        if length < 2:
            kind = "edit"
        else:
            other = draw(st.integers(min_value=1, max_value=length).filter(lambda r: r != row))
            return length, Tamper(kind, row, other)
    if kind == "truncate":
        return length, Tamper(kind, row, draw(st.integers(min_value=1, max_value=length)))
    if kind == "insert":
        # Inserted before ``row`` (ids shifted up), or after the last row (row = length+1).
        return length, Tamper(kind, draw(st.integers(min_value=1, max_value=length + 1)),
                              forge_hash=draw(st.booleans()))
    return length, Tamper(kind, row, column=draw(st.sampled_from(EDITABLE)),
                          forge_hash=draw(st.booleans()))


def write_chain(backend: Backend, world: Team, length: int) -> None:
    """``length`` events in batches of one to three, like reads and changes write them."""
    names = ["social", "nurse", "police", "lead"]
    written = 0
    while written < length:
        viewer = world.viewers[names[written % len(names)]]
        size = min(length - written, 1 + written % 3)
        with backend.sessions.write(viewer) as s:
            batch = audit.Batch(s, viewer)
            for offset in range(size):
                number = written + offset
                batch.add("case.view" if number % 2 else "note.disclosed",
                          object_type="case", object_id=world.case_id, person_id=number,
                          rule_ids=("own-profession",) * (number % 2),
                          consent_ids=(number,) * (number % 3 == 0))
            batch.write()
        written += size


def _exec(engine: Engine, *statements: tuple[str, dict[str, object]]) -> None:
    with engine.begin() as conn:
        for statement, params in statements:
            conn.execute(text(statement), params)


def _changed(column: str, value: object, other_user: int) -> object:
    """A value for ``column`` that differs from ``value``."""
    if column == "at":
        return "2001-02-03 04:05:06.000007"
    if column == "actor_id":
        return None if value is not None else other_user
    if column in ("person_id", "object_id"):
        return (value if isinstance(value, int) else 0) + 1000
    if column in ("prev_hash", "hash", "policy_hash"):
        return ("f" if str(value)[:1] != "f" else "e") * 64
    return f"{value}x"


def tamper(backend: Backend, world: Team, change: Tamper) -> int:
    """Apply ``change``; the id of the first row that is no longer as written."""
    engine = backend.engine
    with backend.sessions.system("test: the rows as written") as s:
        rows = list(s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id)))
        fields = [fields_of(r) | {"hash": r.hash} for r in rows]
    with engine.connect() as conn:  # as stored (SQLite: the timestamp's own text)
        raw = [dict(r) for r in conn.execute(text("SELECT * FROM audit_event ORDER BY id"))
               .mappings()]
    ids = [f["id"] for f in fields]
    if change.kind == "edit":
        target = fields[change.row - 1]
        new = _changed(change.column, target[change.column], world.viewers["youth"].user_id)
        sets = {change.column: new}
        if change.forge_hash and change.column != "hash":
            forged = dict(target) | sets
            if change.column == "at":
                forged["at"] = target["at"].replace(year=2001)
            sets["hash"] = row_hash(FORGED_KEY, forged)
        assignments = ", ".join(f"{column} = :{column}" for column in sets)
        _exec(engine, (f"UPDATE audit_event SET {assignments} WHERE id = :id",
                       {**sets, "id": target["id"]}))
        return target["id"]
    if change.kind == "delete":
        _exec(engine, ("DELETE FROM audit_event WHERE id = :id", {"id": ids[change.row - 1]}))
        return ids[change.row - 1]
    if change.kind == "truncate":
        cut = ids[-change.other:]
        _exec(engine, ("DELETE FROM audit_event WHERE id >= :id", {"id": cut[0]}))
        return cut[0]
    if change.kind == "swap":
        a, b = raw[change.row - 1], raw[change.other - 1]
        columns = [c for c in (*EDITABLE, "huddle_id") if c != "at"] + ["at"]
        assignments = ", ".join(f"{c} = :{c}" for c in columns)
        _exec(engine,
              (f"UPDATE audit_event SET {assignments} WHERE id = :id",
               {**{c: b[c] for c in columns}, "id": a["id"]}),
              (f"UPDATE audit_event SET {assignments} WHERE id = :id",
               {**{c: a[c] for c in columns}, "id": b["id"]}))
        return min(a["id"], b["id"])
    # insert: a made-up row linked to the row before it, placed before row ``change.row``.
    position = change.row
    before = fields[position - 2]["hash"] if position > 1 else fields[0]["prev_hash"]
    if position <= len(ids):
        _exec(engine, ("UPDATE audit_event SET id = id + 1000 WHERE id >= :id",
                       {"id": ids[position - 1]}))
    new_id = ids[position - 1] if position <= len(ids) else ids[-1] + 1
    made_up = {"id": new_id, "at": raw[0]["at"], "actor_id": None, "action": "sign_in",
               "purpose": None, "huddle_id": None, "person_id": None, "object_type": None,
               "object_id": None, "policy_hash": backend.policy.hash, "rule_ids": None,
               "consent_ids": None, "prev_hash": before}
    made_up["hash"] = row_hash(FORGED_KEY, made_up) if change.forge_hash else "0" * 64
    columns = ", ".join(made_up)
    _exec(engine, (f"INSERT INTO audit_event ({columns}) VALUES "
                   f"({', '.join(':' + c for c in made_up)})", made_up))
    return new_id


@pytest.fixture
def backend(engine: Engine) -> Backend:
    return backend_for(engine)


@pytest.fixture
def world(backend: Backend) -> Team:
    return team(backend)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=chains_and_tampers())
def test_every_tampering_is_found(backend: Backend, world: Team,
                                  case: tuple[int, Tamper]) -> None:
    """The fixtures are built once for all examples: each example starts a new chain."""
    length, change = case
    _exec(backend.engine, ("DELETE FROM audit_event", {}))
    write_chain(backend, world, length)
    head: Checkpoint = checkpoint(backend)
    assert head.rows == length and verify(backend, head).ok

    first_bad = tamper(backend, world, change)

    found = verify(backend, head)
    assert not found.ok, change
    if change.kind == "insert" and change.row <= length:
        # The made-up row takes the id of the row it was put before, which moved on.
        assert found.bad_id == first_bad, (change, found)
    elif change.kind == "swap":
        assert found.bad_id == first_bad, (change, found)
    elif change.kind in ("delete", "truncate"):
        # A deleted row is missed where the chain next breaks: the row after it, or
        # (for the newest rows) the checkpoint's.
        assert found.bad_id is not None and found.bad_id >= first_bad, (change, found)
    else:
        assert found.bad_id == first_bad, (change, found)
    without_checkpoint = verify(backend)
    cuts_the_end = change.kind == "truncate" or (change.kind == "delete"
                                                  and change.row == length)
    assert without_checkpoint.ok is cuts_the_end, (change, without_checkpoint)
