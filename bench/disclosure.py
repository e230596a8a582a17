"""Benchmark: what the disclosure filter costs on the board and on a case's notes.

    python bench/disclosure.py --quick        # 2,000 cases: a smoke run
    python bench/disclosure.py                # 100,000 cases x 10 notes, SQLite + PostgreSQL
    python bench/disclosure.py --reuse        # keep databases whose row counts already match
    python bench/disclosure.py --no-pg --explain   # also print the query plans

Seeds (through the migrations and the project's seeder) a SQLite file and a PostgreSQL
database ``anchor_bench``, then times each unit of work (open a session, query, fetch,
close) for the seeded team users, filtered (``sessions.read(viewer)``, the central
disclosure hook) and unfiltered (the same code in ``sessions.system(...)``), interleaved so
that machine noise hits both alike. The target (issue): filtered at most 2x unfiltered on
the board and on a case's note list. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import platform
import random
import sqlite3
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
from sqlalchemy import Engine, event, func, insert, literal, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.db.models import Case, CaseMember, Consent, Note, Person, User
from anchor_tui.db.session import SessionFactory
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import load_policy
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns
from anchor_tui.services.seed import seed
from anchor_tui.settings import load_settings

TARGET_RATIO = 2.0
"""Issue: a filtered board or note list takes at most twice the unfiltered one."""
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIG_CASE_NOTES = 100
BIG_CASE_SUMMARY = "Benchmark case with 100 notes"
BIG_CASE_WRITERS = (("police", ("general", "police_intel")),
                    ("social", ("general", "child_welfare")),
                    ("nurse", ("general", "health")))
"""Members of the 100-note case and the categories each writes (``youth`` does not work it)."""


class UnfilteredSessions(SessionFactory):
    """The same code paths with the viewer's session swapped for a system session."""

    @contextmanager
    def read(self, viewer: Viewer, now: dt.datetime | None = None) -> Iterator[Session]:
        with self.system("bench: unfiltered baseline") as session:
            yield session


# --- units of work (each returns how many rows it produced) -----------------------------

def board_page(b: Backend, v: Viewer, _case: int) -> int:
    return sum(len(column.cards) for column in board_columns(b, v))


def case_notes(b: Backend, v: Viewer, case_id: int) -> int:
    with b.sessions.read(v) as s:
        return len(s.scalars(select(Note).where(Note.case_id == case_id)
                             .order_by(Note.created_at)).all())


def newest_notes(b: Backend, v: Viewer, _case: int) -> int:
    with b.sessions.read(v) as s:
        return len(s.scalars(select(Note).order_by(Note.created_at.desc()).limit(50)).all())


def count_notes(b: Backend, v: Viewer, case_id: int) -> int:
    with b.sessions.read(v) as s:
        return int(s.scalar(select(func.count()).select_from(Note)
                            .where(Note.case_id == case_id)) or 0)


def empty_unit(b: Backend, v: Viewer, _case: int) -> int:
    with b.sessions.read(v) as s:
        return int(s.execute(select(literal(1))).scalar_one())


@dataclasses.dataclass(frozen=True)
class Probe:
    label: str
    work: Callable[[Backend, Viewer, int], int]
    cases: str
    """Which case each repetition uses: none, worked, other (not worked), any, big."""
    reps: str
    """Which option gives the repetitions: reps, board_reps, slow_reps."""
    target: bool


PROBES = (
    Probe("a. board: first page per stage", board_page, "none", "board_reps", True),
    Probe("b. notes of a case · worked", case_notes, "worked", "reps", True),
    Probe("b. notes of a case · not worked", case_notes, "other", "reps", True),
    Probe("b. notes of the 100-note case", case_notes, "big", "reps", True),
    Probe("c. 50 newest notes, all cases", newest_notes, "none", "slow_reps", False),
    Probe("c. count of notes on a case", count_notes, "any", "reps", False),
    Probe("c. empty unit of work (SELECT 1)", empty_unit, "none", "reps", False),
)


@dataclasses.dataclass
class Samples:
    filtered: list[float] = dataclasses.field(default_factory=list)
    unfiltered: list[float] = dataclasses.field(default_factory=list)
    rows_filtered: int = 0
    rows_unfiltered: int = 0


# --- preparing the databases -------------------------------------------------------------

def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: int(conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() or 0)
                for t in ("person", "case", "case_member", "note", "consent", "task")}


def matches(engine: Engine, args: argparse.Namespace) -> bool:
    """Whether a database holds this run's rows (an older known schema is upgraded first)."""
    revision = schema.current_revision(engine)
    if revision not in schema.KNOWN:
        return False
    if revision != schema.HEAD:
        schema.upgrade(engine, schema.HEAD)
    found = counts(engine)
    cases: int = args.cases
    notes: int = args.notes_per_case
    return found["case"] == cases + 1 and found["note"] == cases * notes + BIG_CASE_NOTES


def add_big_case(backend: Backend) -> None:
    """One more case, worked by police, social work and health, with 100 notes."""
    team = backend.team
    today = dt.date.today()
    with backend.sessions.system("bench: a case with 100 notes") as s:
        users = {u.username: u for u in s.scalars(select(User))}
        person = Person(first_name="Aino", last_name="Sadanmaa", birth_date=dt.date(2011, 5, 4),
                        municipality="Espoo")
        case = Case(person=person, category=team.case_categories[0].id, stage=team.stages[2].id,
                    priority=1, next_review=today + dt.timedelta(days=3),
                    lead_user_id=users["social"].id, summary=BIG_CASE_SUMMARY)
        s.add(case)
        s.flush()
        opened = today - dt.timedelta(days=BIG_CASE_NOTES + 10)
        for username, _ in BIG_CASE_WRITERS:
            s.add(CaseMember(case_id=case.id, user_id=users[username].id, valid_from=opened))
        s.add(Consent(person_id=person.id, grantor="self", decision="permit", category="health",
                      receiving_profession="police", valid_from=opened,
                      recorded_by_id=users["social"].id, evidence="Signed form"))
        start = dt.datetime.combine(opened, dt.time(9), tzinfo=dt.UTC)
        rows: list[dict[str, Any]] = []
        for k in range(BIG_CASE_NOTES):
            username, categories = BIG_CASE_WRITERS[k % len(BIG_CASE_WRITERS)]
            author = users[username]
            rows.append({"case_id": case.id, "author_id": author.id,
                         "author_profession": author.profession,
                         "category": categories[(k // 3) % len(categories)],
                         "body": f"Benchmark note {k + 1}.",
                         "created_at": start + dt.timedelta(days=k, minutes=7 * k)})
        s.execute(insert(Note), rows)


def fill(backend: Backend, args: argparse.Namespace, console: Console) -> None:
    started = time.perf_counter()
    step = max(args.cases // 10, 1)

    def progress(done: int, total: int) -> None:
        if done % step < 500 or done == total:
            console.print(f"  seeded {done:,}/{total:,} cases "
                          f"({time.perf_counter() - started:.0f} s)", markup=False)

    seed(backend, cases=args.cases, notes_per_case=args.notes_per_case, seed=args.seed,
         progress=progress)
    add_big_case(backend)


def open_backend(url: str) -> Backend:
    settings = load_settings(url)
    policy = load_policy(settings.policy_path, team=settings.team)
    return Backend.from_engine(make_engine(url), policy, settings.team)


def prepare_sqlite(path: Path, args: argparse.Namespace, console: Console) -> Backend:
    url = f"sqlite:///{path}"
    if args.reuse and path.exists():
        backend = open_backend(url)
        if matches(backend.engine, args):
            console.print(f"SQLite: reusing {path}", markup=False)
            return backend
        backend.close()
    for leftover in path.parent.glob(path.name + "*"):
        leftover.unlink()
    console.print(f"SQLite: seeding {path}", markup=False)
    backend = open_backend(url)
    schema.upgrade(backend.engine, schema.HEAD)
    fill(backend, args, console)
    with backend.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return backend


def prepare_pg(admin_url: str, name: str, args: argparse.Namespace,
               console: Console) -> Backend:
    if not name.replace("_", "").isalnum() or not name.islower():
        raise AnchorError(f"'{name}' is not a plain database name.",
                          "Use lowercase letters, digits and '_' for --pg-db.")
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).scalar() is not None
        if exists and args.reuse:
            backend = open_backend(url)
            if matches(backend.engine, args):
                console.print(f"PostgreSQL: reusing database {name}", markup=False)
                return backend
            backend.close()
        console.print(f"PostgreSQL: seeding database {name}", markup=False)
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.engine.dispose()
    backend = open_backend(url)
    schema.upgrade(backend.engine, schema.HEAD)
    fill(backend, args, console)
    with backend.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    return backend


def without_jit(backend: Backend) -> Backend:
    """The same database through a second engine whose connections run ``SET jit = off``."""
    engine = make_engine(backend.engine.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "connect")
    def _jit_off(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()

    return Backend.from_engine(engine, backend.policy, backend.team)


# --- measuring ---------------------------------------------------------------------------

def team_viewers(backend: Backend, usernames: list[str]) -> list[Viewer]:
    with backend.sessions.system("bench: viewers") as s:
        users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(usernames)))}
        missing = [u for u in usernames if u not in users]
        if missing:
            raise AnchorError(f"No user {', '.join(missing)} in the bench database.",
                              "Run without --reuse so that the seeder creates the team users.")
        return [viewer_for(users[u]) for u in usernames]


def case_pools(backend: Backend, viewer: Viewer) -> dict[str, list[int]]:
    today = dt.date.today()
    with backend.sessions.system("bench: case pools") as s:
        every = list(s.scalars(select(Case.id).order_by(Case.id)))
        big = s.scalars(select(Case.id).where(Case.summary == BIG_CASE_SUMMARY)).one()
        worked = set(s.scalars(select(CaseMember.case_id).where(
            CaseMember.user_id == viewer.user_id, CaseMember.valid_from <= today,
            or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today))))
    worked.discard(big)
    return {"none": [0], "any": every, "big": [big], "worked": sorted(worked),
            "other": [c for c in every if c not in worked and c != big]}


def measure(probe: Probe, filtered: Backend, unfiltered: Backend, viewer: Viewer,
            ids: list[int], reps: int, warmup: int, rng: random.Random) -> Samples:
    samples = Samples()
    for i in range(warmup + reps):
        case_id = rng.choice(ids)
        for is_filtered in ((True, False) if i % 2 == 0 else (False, True)):
            backend = filtered if is_filtered else unfiltered
            started = time.perf_counter()
            rows = probe.work(backend, viewer, case_id)
            seconds = time.perf_counter() - started
            if i < warmup:
                continue
            if is_filtered:
                samples.filtered.append(seconds)
                samples.rows_filtered += rows
            else:
                samples.unfiltered.append(seconds)
                samples.rows_unfiltered += rows
    return samples


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.2f}"


# --- query plans -------------------------------------------------------------------------

@contextmanager
def last_select(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def grab(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
             _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def explain(db: str, backend: Backend, unfiltered: Backend, viewer: Viewer,
            pools: dict[str, list[int]], console: Console) -> None:
    prefix = "EXPLAIN QUERY PLAN " if backend.engine.dialect.name == "sqlite" \
        else "EXPLAIN (ANALYZE, COSTS OFF) "
    for probe in PROBES[1:6]:
        case_id = pools[probe.cases][len(pools[probe.cases]) // 2]
        for label, b in (("filtered", backend), ("unfiltered", unfiltered)):
            with last_select(backend.engine) as seen:
                probe.work(b, viewer, case_id)
            statement, parameters = seen[-1]
            with backend.engine.connect() as conn:
                plan = conn.exec_driver_sql(prefix + statement, parameters).all()
            console.rule(f"{db} · {probe.label} · {label} · {viewer.username} · case {case_id}")
            for row in plan:
                console.print(str(row[-1]), markup=False, highlight=False)


# --- report ------------------------------------------------------------------------------

def report(results: dict[tuple[str, str, str], Samples], dbs: list[str],
           usernames: list[str], console: Console) -> bool:
    table = Table(title="disclosure filter: filtered vs unfiltered, ms per unit of work")
    for column, justify in (("database", "left"), ("query", "left"), ("n", "right"),
                            ("rows unf→filt", "right"), ("unfilt. median", "right"),
                            ("unfilt. p95", "right"), ("filt. median", "right"),
                            ("filt. p95", "right"), ("ratio", "right"),
                            ("worst viewer", "right"), ("target", "right"),
                            ("result", "left")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    detail = Table(title="ratio filtered/unfiltered median, per viewer")
    for column in ("database", "query", *usernames):
        detail.add_column(column, justify="left" if column in ("database", "query") else "right")
    passed = True
    for db in dbs:
        for probe in PROBES:
            per = [results[(db, probe.label, u)] for u in usernames]
            f = [x for s in per for x in s.filtered]
            u = [x for s in per for x in s.unfiltered]
            ratios = [statistics.median(s.filtered) / statistics.median(s.unfiltered) for s in per]
            worst = max(ratios)
            verdict = "-"
            if probe.target:
                verdict = "PASS" if worst <= TARGET_RATIO else "FAIL"
                passed &= worst <= TARGET_RATIO
            rows = (f"{sum(s.rows_unfiltered for s in per) / len(u):,.1f}→"
                    f"{sum(s.rows_filtered for s in per) / len(f):,.1f}")
            table.add_row(db, probe.label, str(len(f)), rows, ms(statistics.median(u)), ms(p95(u)),
                          ms(statistics.median(f)), ms(p95(f)),
                          f"{statistics.median(f) / statistics.median(u):.2f}×",
                          f"{worst:.2f}×", f"≤ {TARGET_RATIO:.0f}×" if probe.target else "none",
                          verdict)
            detail.add_row(db, probe.label, *(f"{r:.2f}×" for r in ratios))
        table.add_section()
    console.print(table)
    console.print(detail)
    console.print(
        "notes: n = timed runs of each side, pooled over the viewers; ratio = filtered median / "
        "unfiltered median over all viewers, worst viewer = the largest per-viewer ratio (the "
        "target is judged on it). Filtered = sessions.read(viewer) with the central disclosure "
        "hook; unfiltered = the same code in sessions.system(...) (a write transaction: BEGIN "
        "IMMEDIATE + commit on SQLite). Cases are not row-filtered (the shared board): the "
        "board's filtered path differs only in the hook and the case fields shown. 'worked' = "
        "the viewer has an active case_member row; the 100-note case is worked by police, "
        "social and nurse, not by youth.", markup=False)
    return passed


def machine(backends: dict[str, Backend]) -> str:
    parts = [f"{platform.platform()}, {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} CPUs", f"Python {platform.python_version()}",
             f"SQLite {sqlite3.sqlite_version}"]
    if "PostgreSQL" in backends:  # the server's version
        with backends["PostgreSQL"].engine.connect() as conn:
            parts.append(f"PostgreSQL {conn.execute(text('SHOW server_version')).scalar()}")
    return "machine: " + "; ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="default 100,000 (2,000 quick)")
    parser.add_argument("--notes-per-case", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2,000 cases, fewer repetitions")
    parser.add_argument("--reuse", action="store_true",
                        help="keep databases whose row counts already match")
    parser.add_argument("--sqlite", type=Path, default=None, help="the SQLite file "
                        "(default: <tmp>/anchor-bench/disclosure-<cases>x<notes>.sqlite3)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL,
                        help="a PostgreSQL server connection allowed to create databases")
    parser.add_argument("--pg-db", default=None,
                        help="database name (default anchor_bench; quick: anchor_bench_quick)")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--viewers", default="police,social,nurse,youth")
    parser.add_argument("--reps", type=int, default=None, help="per viewer (default 200)")
    parser.add_argument("--board-reps", type=int, default=None, help="per viewer (default 30)")
    parser.add_argument("--slow-reps", type=int, default=None,
                        help="per viewer for the 50 newest notes (default 5)")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print query plans (first viewer)")
    parser.add_argument("--prepare-only", action="store_true",
                        help="seed (or reuse) the databases and print their row counts")
    parser.add_argument("--pg-jit-off", action="store_true",
                        help="also measure PostgreSQL with jit=off (set per connection)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.cases = args.cases if args.cases is not None else (2_000 if quick else 100_000)
    args.reps = args.reps or (40 if quick else 200)
    args.board_reps = args.board_reps or (10 if quick else 30)
    args.slow_reps = args.slow_reps or (3 if quick else 5)
    console = Console() if sys.stdout.isatty() else Console(width=180)
    sqlite_path = args.sqlite or (Path(tempfile.gettempdir()) / "anchor-bench"
                                  / f"disclosure-{args.cases}x{args.notes_per_case}.sqlite3")
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        backends: dict[str, Backend] = {}
        if not args.no_sqlite:
            backends["SQLite"] = prepare_sqlite(sqlite_path, args, console)
        if not args.no_pg:
            name = args.pg_db or ("anchor_bench_quick" if quick else "anchor_bench")
            backends["PostgreSQL"] = prepare_pg(args.pg_url, name, args, console)
            if args.pg_jit_off:
                backends["PostgreSQL jit=off"] = without_jit(backends["PostgreSQL"])
        usernames = [u.strip() for u in args.viewers.split(",") if u.strip()]
        rng = random.Random(args.seed)
        results: dict[tuple[str, str, str], Samples] = {}
        for db, backend in backends.items() if not args.prepare_only else ():
            unfiltered = dataclasses.replace(
                backend, sessions=UnfilteredSessions(backend.engine, backend.policy))
            for viewer in team_viewers(backend, usernames):
                pools = case_pools(backend, viewer)
                if args.explain and viewer.username == usernames[0]:
                    explain(db, backend, unfiltered, viewer, pools, console)
                for probe in PROBES:
                    started = time.perf_counter()
                    results[(db, probe.label, viewer.username)] = measure(
                        probe, backend, unfiltered, viewer, pools[probe.cases],
                        getattr(args, probe.reps),
                        min(args.warmup, 1) if probe.reps == "slow_reps" else args.warmup, rng)
                    console.print(f"  {db} · {viewer.username} · {probe.label}: "
                                  f"{time.perf_counter() - started:.1f} s", markup=False)
        passed = args.prepare_only or report(results, list(backends), usernames, console)
        for db, backend in backends.items():
            found = counts(backend.engine)
            if db.endswith("jit=off"):
                continue
            where = sqlite_path if db == "SQLite" else backend.engine.url.render_as_string()
            console.print(f"{db} ({where}): " + ", ".join(f"{v:,} {k}" for k, v in found.items()),
                          markup=False)
        console.print(machine(backends), markup=False)
        for backend in backends.values():
            backend.close()
    except AnchorError as exc:
        console.print(f"error: {exc.message} {exc.fix}", markup=False)
        return 2
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
