"""Benchmark: seed a fresh SQLite database and time it against the target.

    python bench/seed.py                      # 100,000 cases x 10 notes (issue 2's target)
    python bench/seed.py --cases 10000 --notes-per-case 5

Runs the seed service in-process (what ``anchor-tui seed`` runs) on a new SQLite file in a
temporary directory, schema built through the migrations first (not timed), and prints a
table: cases, notes, seconds, rows/s, database size, the target and pass/fail, plus the
machine. Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from anchor_tui.services.backend import Backend
from anchor_tui.services.seed import seed
from anchor_tui.settings import load_settings

TARGET_SECONDS = 120.0
"""Issue 2: 100,000 cases with 10 notes each into SQLite in at most 120 s (2 cores)."""


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--notes-per-case", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", type=float, default=TARGET_SECONDS,
                        help="seconds allowed (default 120)")
    args = parser.parse_args(argv)
    console = Console() if sys.stdout.isatty() else Console(width=120)  # whole table in logs
    with tempfile.TemporaryDirectory(prefix="anchor-bench-") as tmp:
        path = Path(tmp) / "bench.sqlite3"
        backend = Backend.open(load_settings(f"sqlite:///{path}"))  # migrations run here
        started = time.perf_counter()
        report = seed(backend, cases=args.cases, notes_per_case=args.notes_per_case,
                      seed=args.seed, today=dt.date(2026, 11, 23))
        seconds = time.perf_counter() - started
        backend.close()
        size = _size(path)
    passed = seconds <= args.target
    table = Table(title="anchor-tui seed into SQLite")
    for column in ("cases", "notes", "all rows", "seconds", "rows/s", "DB size", "target",
                   "result"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{report.cases:,}", f"{report.notes:,}", f"{report.rows:,}", f"{seconds:.1f}",
        f"{report.rows / seconds:,.0f}" if seconds else "-", f"{size / 2**20:,.0f} MiB",
        f"≤ {args.target:.0f} s", "PASS" if passed else "FAIL",
    )
    console.print(table)
    console.print(
        f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"SQLite {sqlite3.sqlite_version}",
        markup=False,
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
