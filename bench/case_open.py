"""Benchmark: what the audit trail costs when a case with 100 notes is opened.

    python bench/case_open.py --quick       # 2,000 earlier audit rows, fewer repetitions
    python bench/case_open.py               # 200,000 earlier audit rows
    python bench/case_open.py --no-pg       # SQLite only

Builds a SQLite file and a PostgreSQL database (through the migrations; the PostgreSQL
one is dropped at the end) with a small team and one case of 100 notes written by three
professions (police, social work, health), a consent that lets health notes reach
social work, and many earlier audit rows (the chain's head is read, not the chain).
Then times ``open_case`` as the app calls it, for a social worker (notes of two other
professions, so a disclosure ledger row for most notes), a police officer and a huddle
of the two, with the first page (50 notes, the app's default) and all 100 on one page:

- *audited*: the shipped code: the viewer's write unit of work, ``case.view``,
  ``note.list`` and one ledger row per note of another profession, one insert;
- *unaudited*: the same read in a read-only unit of work with the audit call removed
  (what opening a case cost before the audit trail).

Audited and unaudited runs alternate (swapping order each repetition) after a warm-up.
Target (issue 4): opening a case with 100 notes takes at most 100 ms (median, audited).
Exit status 1 when it is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

os.environ.setdefault("ANCHOR_AUDIT_KEY", "benchmark audit key, not a secret")

from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.policy import load_policy
from anchor_tui.services import audit, case_view
from anchor_tui.services.audit_chain import verify
from anchor_tui.services.backend import Backend
from anchor_tui.settings import PACKAGE_CONFIG_DIR, load_team_config

TARGET_MS = 100.0
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DB = "anchor_bench_case_open"
NOTES = 100
WRITERS = (("police", "police", ("general", "police_intel")),
           ("social", "social_work", ("general", "child_welfare")),
           ("nurse", "health", ("general", "health")))


def build(engine: Engine, earlier_rows: int) -> tuple[Backend, int, dict[str, Viewer]]:
    schema.upgrade(engine)
    team = load_team_config(None)
    backend = Backend.from_engine(engine, load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml",
                                                      team=team), team)
    now = dt.datetime.now(dt.UTC)
    with backend.sessions.system("bench: the case") as s:
        users = {name: m.User(username=name, display_name=name.title(), profession=prof,
                              passphrase_hash="-")  # noqa: S106 - nobody signs in
                 for name, prof, _ in WRITERS}
        s.add_all(users.values())
        person = m.Person(first_name="Aino", last_name="Penkki")
        s.add(person)
        s.flush()
        case = m.Case(person_id=person.id, category="substance_use", stage="assessment",
                      summary="Benchmark case with 100 notes")
        s.add(case)
        s.flush()
        for user in users.values():
            s.add(m.CaseMember(case_id=case.id, user_id=user.id,
                               valid_from=now.date() - dt.timedelta(days=90)))
        for index in range(NOTES):
            name, prof, categories = WRITERS[index % len(WRITERS)]
            s.add(m.Note(case_id=case.id, author_id=users[name].id, author_profession=prof,
                         category=categories[index // len(WRITERS) % 2],
                         body=f"Benchmark note {index} " + "words " * 40,
                         created_at=now - dt.timedelta(hours=NOTES - index)))
        s.add(m.Consent(person_id=person.id, grantor="self", decision="permit",
                        category="health", receiving_profession="social_work",
                        valid_from=now.date() - dt.timedelta(days=30),
                        recorded_by_id=users["nurse"].id))
        s.flush()
        viewers = {name: Viewer(u.id, u.username, u.display_name, u.profession, "member")
                   for name, u in users.items()}
        case_id = case.id
    # Earlier trail: written through the chain in big batches.
    social = viewers["social"]
    entry = audit.Entry("case.view", actor_id=social.user_id, object_type="case",
                        object_id=case_id, person_id=person.id)
    for start in range(0, earlier_rows, 5000):
        with backend.sessions.write(social) as s:
            audit.append(s, [entry] * min(5000, earlier_rows - start), backend.policy.hash)
    if engine.dialect.name == "sqlite":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    else:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    social_police = Viewer(social.user_id, "social", "Huddle", "social_work", "member",
                           purpose="huddle", attendees=(
                               Attendee(social.user_id, "social_work"),
                               Attendee(viewers["police"].user_id, "police")))
    return backend, case_id, {"social": social, "police": viewers["police"],
                              "huddle social+police": social_police}


@contextmanager
def unaudited(backend: Backend) -> Iterator[None]:
    """``open_case`` as it was before the audit: a read-only unit of work, no insert."""
    sessions = backend.sessions
    write, shown = sessions.write, audit.notes_shown

    def nothing(*_args: Any, **_kwargs: Any) -> list[int]:
        return []

    sessions.write = sessions.read  # type: ignore[method-assign]
    audit.notes_shown = nothing  # type: ignore[assignment]
    try:
        yield
    finally:
        sessions.write = write  # type: ignore[method-assign]
        audit.notes_shown = shown


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def audit_rows(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(m.AuditEvent)) or 0)


def measure(backend: Backend, case_id: int, viewer: Viewer, page: int, reps: int
            ) -> tuple[list[float], list[float], int, int]:
    def opened() -> object:
        return case_view.open_case(backend, viewer, case_id, page_size=page)

    shown = len(case_view.open_case(backend, viewer, case_id, page_size=page).notes.notes)
    for _ in range(3):  # warm-up: caches, compiled statements, the pool
        opened()
        with unaudited(backend):
            opened()
    before = audit_rows(backend.engine)
    opened()
    per_open = audit_rows(backend.engine) - before
    audited_ms: list[float] = []
    plain_ms: list[float] = []
    for rep in range(reps):
        order = (True, False) if rep % 2 == 0 else (False, True)
        for with_audit in order:
            if with_audit:
                audited_ms.append(timed(opened))
            else:
                with unaudited(backend):
                    plain_ms.append(timed(opened))
    return audited_ms, plain_ms, shown, per_open


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def pg_engine(admin_url: str) -> Engine:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=PG_DB).render_as_string(hide_password=False)
    return make_engine(url)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2,000 earlier rows, 20 reps")
    parser.add_argument("--reps", type=int, default=None, help="timed opens per row")
    parser.add_argument("--earlier-rows", type=int, default=None,
                        help="audit rows written before timing (default 200,000)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL,
                        help="a PostgreSQL connection allowed to CREATE DATABASE")
    args = parser.parse_args()
    reps = args.reps or (20 if args.quick else 60)
    earlier = args.earlier_rows if args.earlier_rows is not None else \
        (2_000 if args.quick else 200_000)
    console = Console(width=max(Console().width, 132))
    folder = Path(tempfile.mkdtemp(prefix="anchor-bench-case-open-"))
    engines = [("SQLite", make_engine(f"sqlite:///{folder / 'case-open.sqlite3'}"))]
    if not args.no_pg:
        engines.append(("PostgreSQL", pg_engine(args.pg_url)))
    table = Table(title=f"Opening a case with {NOTES} notes: audited vs unaudited "
                  f"({reps} reps, {earlier:,} earlier audit rows)")
    for column in ("database", "viewer", "page", "notes shown", "audit rows",
                   "audited median ms",
                   "audited p95 ms", "unaudited median ms", "extra ms", "ratio"):
        table.add_column(column, justify="left" if column in ("database", "viewer")
                         else "right")
    missed = False
    for label, engine in engines:
        console.print(f"Building the {label} database…")
        backend, case_id, viewers = build(engine, earlier)
        for name, viewer in viewers.items():
            for page in (case_view.NOTE_PAGE, NOTES):
                audited_ms, plain_ms, shown, per_open = measure(backend, case_id, viewer,
                                                                page, reps)
                a, u = statistics.median(audited_ms), statistics.median(plain_ms)
                missed |= page == case_view.NOTE_PAGE and a > TARGET_MS
                table.add_row(label, name, str(page), str(shown), str(per_open), f"{a:.1f}",
                              f"{p95(audited_ms):.1f}", f"{u:.1f}", f"{a - u:+.1f}",
                              f"{a / u:.2f}x")
        assert verify(backend).ok, "the chain must still verify"
        backend.close()
    if not args.no_pg:
        admin = create_engine(args.pg_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
        admin.dispose()
    console.print(table)
    console.print(f"Target: audited median ≤ {TARGET_MS:.0f} ms for the app's first page "
                  f"({case_view.NOTE_PAGE} notes) of a {NOTES}-note case. "
                  + ("[bold red]MISSED[/]" if missed else "[bold green]met[/]"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
