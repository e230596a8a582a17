"""Benchmark: 20 terminals on one shared PostgreSQL, against one terminal alone.

    python bench/terminals.py --quick         # 10,000 cases x 5 notes, 30 s of 20 terminals
    python bench/terminals.py                 # 100,000 cases x 10 notes, 60 s per phase
    python bench/terminals.py --reuse         # keep a database whose row counts match

Sets up a team database the way a team does (``db init``: an owner role, an application
role without BYPASSRLS, row-level security from the shipped policy), seeds it as the
owner, then runs terminals as separate processes, each with its own engine and
connections, signed in as a team member (police, social work, health, youth work and a
lead, in turn), through both walls (the central filter and row-level security). Each
terminal, after a warm-up, repeats: open a case (``open_case``: summary, history, the
first page of notes, tasks, consents, members; half of them cases the person works),
read the board (``board_columns``: every column's count and first page) and the next
page of a column (``stage_page``), with a think time between actions (exponential,
``--think`` seconds on average: people read what they opened).

Phase 1: one terminal alone, without pauses (the baseline, same run). Phase 2:
``--terminals`` at once, each with its think time.
Target (issue): p95 case open <= 50 ms and p95 board page <= 50 ms with 20 terminals.
Exit status 1 when a target is missed. Needs a server that trusts loopback connections
for the bench roles (as the test server does): the roles' passwords are random.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from anchor_tui.db.deploy import init_deployment
from anchor_tui.db.engine import make_engine
from anchor_tui.db.models import Case, CaseMember
from anchor_tui.domain import CardKey
from anchor_tui.policy import load_policy
from anchor_tui.services.auth import sign_in
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns, stage_page
from anchor_tui.services.case_view import open_case
from anchor_tui.services.seed import seed
from anchor_tui.settings import DEMO_PASSPHRASE, PACKAGE_CONFIG_DIR, load_settings

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
OWNER, APP_ROLE = "anchor_bench_owner", "anchor_bench_app"
USERS = ("police", "social", "nurse", "youth", "lead")
TARGET_MS = 50.0
OPERATIONS = ("case open", "board page", "next page of a column")
TARGETS = {"case open": TARGET_MS, "board page": TARGET_MS}


@dataclass
class Samples:
    seconds: dict[str, list[float]] = field(default_factory=lambda: {o: [] for o in OPERATIONS})
    errors: list[str] = field(default_factory=list)

    def merge(self, other: Samples) -> None:
        for name, values in other.seconds.items():
            self.seconds[name] += values
        self.errors += other.errors


# --- the database ------------------------------------------------------------------------

def _urls(admin_url: str, database: str) -> tuple[str, str, str]:
    base = make_url(admin_url).set(database=database)
    in_schema = base.update_query_dict({"options": "-csearch_path=anchor"})
    return (base.render_as_string(hide_password=False),
            in_schema.set(username=OWNER, password=None).render_as_string(hide_password=False),
            in_schema.set(username=APP_ROLE, password=None)
            .render_as_string(hide_password=False))


def _counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT set_config('anchor.system', 'bench: count', false)"))
            cases = int(conn.execute(text('SELECT count(*) FROM "case"')).scalar() or 0)
            notes = int(conn.execute(text("SELECT count(*) FROM note")).scalar() or 0)
            return cases, notes
    finally:
        engine.dispose()


def prepare(args: argparse.Namespace, console: Console) -> str:
    """The team database (made, or reused when its counts match); the app role's URL."""
    admin, owner, app = _urls(args.pg_url, args.pg_db)
    server = make_engine(args.pg_url).execution_options(isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": args.pg_db}).scalar() is not None
        if exists and not args.reuse:
            conn.exec_driver_sql(f'DROP DATABASE "{args.pg_db}" WITH (FORCE)')
            exists = False
    server.dispose()
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")
    init_deployment(admin, policy, lambda _role: secrets.token_urlsafe(24), owner=OWNER,
                    app_role=APP_ROLE, schema_name="anchor")
    if exists and _counts(owner) == (args.cases, args.cases * args.notes_per_case):
        console.print(f"PostgreSQL: reusing database {args.pg_db}", markup=False)
        return app
    if exists:
        raise SystemExit(f"{args.pg_db} holds other data: run without --reuse to seed it again")
    console.print(f"PostgreSQL: seeding {args.cases:,} cases into {args.pg_db} (as the owner)",
                  markup=False)
    started = time.perf_counter()
    backend = Backend.open(load_settings(owner))
    try:
        seed(backend, cases=args.cases, notes_per_case=args.notes_per_case, seed=1)
    finally:
        backend.close()
    engine = make_engine(admin).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    console.print(f"  seeded in {time.perf_counter() - started:.0f} s", markup=False)
    return app


# --- one terminal ----------------------------------------------------------------------

def terminal(url: str, index: int, seconds: float, rounds: int, think: float, warmup: int,
             ready: Any, results: Any) -> None:
    """One terminal (its own process): sign in, warm up, wait for the others, then work
    for ``seconds`` (or ``rounds`` rounds) and send its samples back."""
    rng = random.Random(index)
    backend = Backend.open(load_settings(url))
    samples = Samples()
    try:
        viewer = sign_in(backend, USERS[index % len(USERS)], DEMO_PASSPHRASE)
        with backend.sessions.read(viewer) as s:
            worked = list(s.scalars(select(CaseMember.case_id)
                                    .where(CaseMember.user_id == viewer.user_id).limit(500)))
            highest = int(s.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 1)
        state: dict[str, Any] = {}

        def case_open() -> None:
            case_id = rng.choice(worked) if worked and rng.random() < 0.5 \
                else rng.randint(1, highest)
            open_case(backend, viewer, case_id)

        def board() -> None:
            columns = board_columns(backend, viewer)
            full = [c for c in columns if c.cards and c.total > len(c.cards)]
            state["column"] = rng.choice(full) if full else None

        def next_page() -> None:
            column = state.get("column")
            if column is not None:
                stage_page(backend, viewer, column.stage, CardKey.of(column.cards[-1]))

        work = {"case open": case_open, "board page": board, "next page of a column": next_page}
        for _ in range(warmup):  # connections made, statements and plans cached
            for action in work.values():
                action()
        ready.wait()  # every terminal begins together, then at its own pace
        if think > 0:
            time.sleep(rng.random() * think)
        until = time.time() + seconds
        done = 0
        while (time.time() < until) if seconds else (done < rounds):
            done += 1
            for name, action in work.items():
                started = time.perf_counter()
                try:
                    action()
                except Exception as exc:  # reported under the table
                    samples.errors.append(f"{name}: {exc.__class__.__name__}: {exc}")
                    continue
                samples.seconds[name].append(time.perf_counter() - started)
                if think > 0:
                    time.sleep(rng.expovariate(1 / think))
    finally:
        backend.close()
        results.put(samples)


def run_phase(url: str, terminals: int, *, seconds: float, rounds: int, think: float,
              warmup: int) -> Samples:
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(terminals + 1)
    results = context.Queue()
    processes = [context.Process(target=terminal, args=(url, i, seconds, rounds, think, warmup,
                                                        ready, results))
                 for i in range(terminals)]
    for process in processes:
        process.start()
    ready.wait(timeout=600)
    total = Samples()
    for _ in processes:
        total.merge(results.get(timeout=600 + seconds))
    for process in processes:
        process.join(60)
    return total


# --- the table ---------------------------------------------------------------------------

def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 \
        else values[0]


def report(console: Console, args: argparse.Namespace, alone: Samples,
           together: Samples) -> bool:
    actions = sum(len(v) for v in together.seconds.values())
    table = Table(title=f"{args.terminals} terminals vs one alone · PostgreSQL, "
                        f"{args.cases:,} cases × {args.notes_per_case} notes · the application "
                        f"role through both walls · {args.terminals} terminals: think "
                        f"{args.think} s, {actions / args.seconds:.0f} actions/s for "
                        f"{args.seconds:.0f} s · alone: {args.rounds} rounds, no pause")
    for column in ("operation", "terminals", "n", "median ms", "p95 ms", "max ms",
                   "p95 vs alone", "target"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    ok = True
    for name in OPERATIONS:
        base = p95(alone.seconds[name]) if alone.seconds[name] else float("nan")
        for label, samples in (("1", alone), (str(args.terminals), together)):
            values = samples.seconds[name]
            if not values:
                table.add_row(name, label, "0", "-", "-", "-", "-", "-")
                continue
            value = p95(values)
            target = TARGETS.get(name)
            verdict = "-"
            if target is not None and samples is together:
                met = value * 1000 <= target
                ok &= met
                verdict = f"≤ {target:.0f} {'ok' if met else 'MISSED'}"
            table.add_row(name, label, f"{len(values):,}",
                          f"{statistics.median(values) * 1000:.1f}", f"{value * 1000:.1f}",
                          f"{max(values) * 1000:.1f}", f"{value / base:.2f}×", verdict)
    console.print(table)
    for errors, label in ((alone.errors, "alone"), (together.errors, "together")):
        if errors:
            console.print(f"{len(errors)} failed actions ({label}), first: {errors[0]}",
                          markup=False)
            ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="10,000 cases x 5 notes, 30 s of 20 terminals")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the database when its case and note counts match")
    parser.add_argument("--cases", type=int, default=None)
    parser.add_argument("--notes-per-case", type=int, default=None)
    parser.add_argument("--terminals", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=None, help="length of each phase")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between a terminal's actions (default 1.0)")
    parser.add_argument("--rounds", type=int, default=100,
                        help="the lone terminal's rounds of the three actions (default 100)")
    parser.add_argument("--warmup", type=int, default=5,
                        help="unmeasured rounds per terminal before its phase")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL,
                        help="a superuser's URL on the server (db init runs through it)")
    parser.add_argument("--pg-db", default=None,
                        help="database name (default anchor_terminals[_quick])")
    args = parser.parse_args(argv)
    args.cases = args.cases or (10_000 if args.quick else 100_000)
    args.notes_per_case = args.notes_per_case or (5 if args.quick else 10)
    args.seconds = args.seconds or (30.0 if args.quick else 60.0)
    args.pg_db = args.pg_db or ("anchor_terminals_quick" if args.quick else "anchor_terminals")
    console = Console()
    # Sign-in is audited: the bench's synthetic team has a key of its own (inherited by
    # the terminals' processes).
    os.environ.setdefault("ANCHOR_AUDIT_KEY", "bench audit key, synthetic data only")
    url = prepare(args, console)
    console.print(f"Phase 1: one terminal alone, {args.rounds} rounds without pause "
                  f"(load average {os.getloadavg()[0]:.1f})", markup=False)
    alone = run_phase(url, 1, seconds=0, rounds=args.rounds, think=0, warmup=args.warmup)
    console.print(f"Phase 2: {args.terminals} terminals at once for {args.seconds:.0f} s "
                  f"(load average {os.getloadavg()[0]:.1f})", markup=False)
    together = run_phase(url, args.terminals, seconds=args.seconds, rounds=0, think=args.think,
                         warmup=args.warmup)
    console.print(f"Done (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores: "
                  "other work on the machine slows both phases)", markup=False)
    return 0 if report(console, args, alone, together) else 1


if __name__ == "__main__":
    sys.exit(main())
