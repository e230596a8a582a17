"""Benchmark: what a huddle costs over individual work (the intersection of 2-4 audiences).

    python bench/huddle.py --quick        # 2,000 cases x 10 notes (about a minute)
    python bench/huddle.py                # 20,000 cases x 10 notes

Seeds a fresh SQLite file (migrations, then the project's seeder; not timed), starts a
huddle with the social worker and lets the nurse, the youth worker and the police join
(their passphrases checked as in the app; not timed). Then times, as the screens run them
(one unit of work each, ``time.perf_counter``, the median of ``--reps`` after a warm-up,
on random cases the social worker works; the machine is shared, so compare the ratios
of one run, not the milliseconds of two):

- the case view: ``open_case`` for the social worker alone (the baseline) and
  ``huddle_case`` for a huddle of two and of four (notes, tasks and the items rule);
- the board's first pages: ``board_columns`` alone and for the huddle of four;
- the agenda: ``read_agenda`` for the huddle of four;
- the minutes: ``build_minutes`` after 40 decisions on 20 cases.

Prints a table with each row's ratio to the baseline; exit status 1 when the huddle of
four's case view is more than ``--target`` (3) times the individual one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.services import huddle as service
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import board_columns
from anchor_tui.services.case_view import open_case
from anchor_tui.services.huddle_agenda import huddle_case, read_agenda
from anchor_tui.services.minutes import build_minutes
from anchor_tui.services.seed import seed
from anchor_tui.settings import DEMO_PASSPHRASE, load_settings

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC)


def median_ms(run: Callable[[], object], reps: int) -> float:
    run()  # warm-up
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--notes-per-case", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2,000 cases")
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--target", type=float, default=3.0)
    args = parser.parse_args(argv)
    # The huddle's joins and minutes are audited: the benchmark's throwaway database needs
    # a key, as the other benchmarks give theirs (synthetic data only).
    os.environ.setdefault("ANCHOR_AUDIT_KEY", "huddle benchmark audit key, not a secret")
    cases = 2_000 if args.quick else args.cases
    console = Console() if sys.stdout.isatty() else Console(width=120)
    with tempfile.TemporaryDirectory(prefix="anchor-bench-") as tmp:
        backend = Backend.open(load_settings(f"sqlite:///{Path(tmp) / 'huddle.sqlite3'}"))
        try:
            seed(backend, cases=cases, notes_per_case=args.notes_per_case, seed=1,
                 today=TODAY)
            rows = measure(backend, args.reps)
        finally:
            backend.close()
    baseline = rows[0][1]
    table = Table(title=f"huddle vs individual, SQLite, {cases:,} cases × "
                        f"{args.notes_per_case} notes (median of {args.reps})")
    for column in ("what", "ms", "× individual case view"):
        table.add_column(column, justify="right" if column != "what" else "left")
    for label, ms in rows:
        table.add_row(label, f"{ms:.1f}", f"{ms / baseline:.2f}")
    console.print(table)
    worst = rows[2][1] / baseline
    passed = worst <= args.target
    console.print(f"huddle of four, case view: {worst:.2f}× individual (target ≤ "
                  f"{args.target:.0f}×): {'PASS' if passed else 'FAIL'}", markup=False)
    return 0 if passed else 1


def measure(backend: Backend, reps: int) -> list[tuple[str, float]]:
    with backend.sessions.system("bench: users") as s:
        users = {u.username: viewer_for(u) for u in s.scalars(select(m.User))}
        social_cases = list(s.scalars(select(m.CaseMember.case_id).where(
            m.CaseMember.user_id == users["social"].user_id).limit(200)))
    social = users["social"]
    roster = service.start_huddle(backend, social, TODAY, NOW)
    two: Viewer | None = None
    for minute, name in enumerate(("nurse", "youth", "police"), start=1):
        viewer = service.huddle_viewer(roster, social)
        roster = service.join_huddle(backend, viewer, name, DEMO_PASSPHRASE, TODAY,
                                     NOW + dt.timedelta(minutes=minute))
        if two is None:
            two = service.huddle_viewer(roster, social)
    four = service.huddle_viewer(roster, social)
    assert two is not None
    rng = random.Random(1)
    picks = [rng.choice(social_cases) for _ in range(reps + 1)]
    for index, case_id in enumerate(picks[:20]):
        for turn in range(2):
            service.add_decision(backend, four, case_id, f"Decision {index}.{turn}",
                                 NOW + dt.timedelta(minutes=10 + index))
        service.record_time(backend, four, case_id, 60)
    cycle = iter(picks * 10)

    def case_view(viewer: Viewer, huddle: bool) -> Callable[[], object]:
        if huddle:
            return lambda: huddle_case(backend, viewer, next(cycle), NOW)
        return lambda: open_case(backend, viewer, next(cycle), now=NOW)

    return [
        ("case view, social worker alone", median_ms(case_view(social, False), reps)),
        ("case view, huddle of two", median_ms(case_view(two, True), reps)),
        ("case view, huddle of four", median_ms(case_view(four, True), reps)),
        ("board first pages, alone", median_ms(
            lambda: board_columns(backend, social, today=TODAY), max(5, reps // 3))),
        ("board first pages, huddle of four", median_ms(
            lambda: board_columns(backend, four, today=TODAY), max(5, reps // 3))),
        ("agenda, huddle of four", median_ms(lambda: read_agenda(backend, four, TODAY),
                                             reps)),
        ("minutes (40 decisions, 20 cases)", median_ms(
            lambda: build_minutes(backend, four, TODAY, NOW + dt.timedelta(hours=1)),
            max(3, reps // 10))),
    ]


if __name__ == "__main__":
    sys.exit(main())
