"""Deterministic synthetic data: the demo team's week, and large seeds for benchmarks.

``seed()`` creates the team users (``settings.DEMO_USERS``, one per profession present
plus a lead and an auditor), then young people, cases over every stage and category,
case members, notes in every policy category (each written by a profession that writes
such notes), consents of every kind and follow-up tasks. The same ``seed`` and ``today``
give the same rows (``random.Random(seed)``; no wall clock except ``today``'s default).

Speed: rows are built as plain tuples from pre-built strings (``seed_rows``) and
written with the driver's ``executemany`` in one transaction, ids assigned as they are
built (continuing from the largest id present, so seeding into a used database works).
Timestamps are pre-formatted the way the column type stores them (SQLite: naive UTC
text; PostgreSQL: ``+00``). Notes are append-only: the seeder only ever inserts.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import OperationalError

from anchor_tui.db.engine import SYSTEM, WRITE, describe_connect_error
from anchor_tui.db.models import Case, InputRequest, User
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.passphrase import MIN_LENGTH
from anchor_tui.services.seed_rows import COLUMNS, Row, RowMaker
from anchor_tui.services.users import ensure_team_users
from anchor_tui.settings import DEMO_PASSPHRASE

CHUNK_CASES = 500
"""Cases per batch: about 5,000 note rows per executemany at 10 notes a case."""

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SeedReport:
    """What one seeding wrote."""

    users_created: int
    persons: int
    cases: int
    case_members: int
    notes: int
    consents: int
    tasks: int
    usernames: tuple[str, ...] = ()
    """The team users present after seeding (created now or before)."""

    @property
    def rows(self) -> int:
        return (self.users_created + self.persons + self.cases + self.case_members
                + self.notes + self.consents + self.tasks)


def seed_demo(backend: Backend, *, today: dt.date | None = None) -> SeedReport:
    """A real Anchor team's week: about 200 cases with about 6 notes each, and a few
    open requests for a profession's input (the queue's "input asked" section)."""
    report = seed(backend, cases=200, notes_per_case=6, seed=2026, today=today)
    _ask_for_input(backend, today or dt.date.today())
    return report


_DEMO_QUESTIONS = (
    "Is a health check needed before the anchor meeting?",
    "Has the school reported anything new?",
    "Is there a youth work contact we could use?",
    "Is a child welfare notification already made?",
)
_DEMO_REQUESTS = 12


def _ask_for_input(backend: Backend, today: dt.date) -> None:
    """Open input requests on the first open cases of the middle stages, each asked by
    the case's lead of another profession present in the team (deterministic)."""
    professions = list(backend.team.professions)
    middle = [s.id for s in backend.team.stages[2:] if not s.closed][:2]
    asked_at = dt.datetime.combine(today, dt.time(8), tzinfo=dt.UTC)
    with backend.sessions.system("seed: requests for input") as session:
        leads: dict[int, str] = {u: p for u, p in session.execute(
            select(User.id, User.profession))}
        cases = session.execute(
            select(Case.id, Case.lead_user_id).where(Case.stage.in_(middle))
            .order_by(Case.id).limit(_DEMO_REQUESTS)).all()
        for k, (case_id, lead) in enumerate(cases):
            others = [p for p in professions if p != leads.get(lead or -1)]
            if lead is None or not others:
                continue
            session.add(InputRequest(
                case_id=case_id, profession=others[k % len(others)], asked_by_id=lead,
                question=_DEMO_QUESTIONS[k % len(_DEMO_QUESTIONS)],
                asked_at=asked_at - dt.timedelta(days=k % 5, minutes=7 * k)))


def seed(
    backend: Backend,
    *,
    cases: int,
    notes_per_case: int,
    seed: int = 1,
    passphrase: str = DEMO_PASSPHRASE,
    today: dt.date | None = None,
    progress: Progress | None = None,
) -> SeedReport:
    """Create the team users (if missing) and ``cases`` cases of synthetic data."""
    if cases < 0 or notes_per_case < 0:
        raise AnchorError(
            f"Cannot seed a negative number of cases or notes ({cases} cases, "
            f"{notes_per_case} notes per case).",
            "Pass --cases and --notes-per-case as 0 or more.",
        )
    if len(passphrase) < MIN_LENGTH:
        raise AnchorError(
            f"The passphrase for the seeded users is shorter than {MIN_LENGTH} characters.",
            f"Pass a passphrase of at least {MIN_LENGTH} characters.",
        )
    users, created = ensure_team_users(backend, passphrase)
    world = RowMaker(backend, random.Random(seed), today or dt.date.today(), users)
    counts = dict.fromkeys(COLUMNS, 0)
    url = backend.engine.url.render_as_string(hide_password=True)
    try:
        with backend.engine.execution_options(**WRITE, **{SYSTEM: "seed"}).begin() as conn:
            world.start_ids(conn)
            done = 0
            while done < cases:
                size = min(CHUNK_CASES, cases - done)
                rows = world.chunk(done, size, notes_per_case)
                for table, batch in rows.items():
                    _insert(conn, table, batch)
                    counts[table] += len(batch)
                done += size
                if progress is not None:
                    progress(done, cases)
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn)
    except OperationalError as exc:
        raise describe_connect_error(url, exc) from exc
    if progress is not None and cases == 0:
        progress(0, 0)
    return SeedReport(
        users_created=created,
        persons=counts["person"],
        cases=counts["case"],
        case_members=counts["case_member"],
        notes=counts["note"],
        consents=counts["consent"],
        tasks=counts["task"],
        usernames=tuple(users),
    )


def _insert(conn: Connection, table: str, rows: list[Row]) -> None:
    if not rows:
        return
    columns = COLUMNS[table]
    quote = conn.dialect.identifier_preparer.quote
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
           f"VALUES ({', '.join(mark for _ in columns)})")  # fixed names; values are bound
    conn.exec_driver_sql(sql, rows)


def _reset_sequences(conn: Connection) -> None:
    """After explicit ids, PostgreSQL's sequences must continue after the largest id."""
    quote = conn.dialect.identifier_preparer.quote
    for table in COLUMNS:
        name = quote(table)
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence(:table, 'id'), "  # noqa: S608 - fixed names
            f"COALESCE((SELECT max(id) FROM {name}), 1), "
            f"(SELECT max(id) FROM {name}) IS NOT NULL)"
        ), {"table": name})
