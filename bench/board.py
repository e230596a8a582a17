"""Benchmark: the board, queue, case view and search at 100,000 cases and 1,000,000 notes.

    python bench/board.py --quick        # 2,000 cases: a smoke run (a few minutes)
    python bench/board.py                # 100,000 cases x 10 notes, SQLite and PostgreSQL
    python bench/board.py --reuse        # keep databases whose row counts already match
    python bench/board.py --no-pg        # SQLite only

Seeds the databases as bench/disclosure.py does (migrations, the project's seeder, one
case with 100 notes). Then, per database:

- in a real terminal (tmux, a server of its own): the real app (``python -m anchor_tui
  run --db URL``) against a bare Textual app (Header, Static, Footer), alternating,
  each launched the same way: launch to first screen drawn, Enter on the sign-in form
  to the board drawn, and resident memory (VmRSS) with the board shown;
- in-process (Textual's pilot, headless): a keystroke in the board filter, opening the
  case with 100 notes, a search, opening the queue (see ``board_inprocess``).

Prints one table with the baseline of the same run and the ratios. Exit status 1 when
a target is missed. bench/README.md says exactly what is timed.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from bare_app import READY
from board_inprocess import Figures, app_figures, bare_keystrokes
from disclosure import BIG_CASE_SUMMARY, PG_ADMIN_URL, prepare_pg, prepare_sqlite
from terminal import Terminal

import anchor_tui
from anchor_tui.db.models import Case, User
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.settings import DEMO_PASSPHRASE, load_settings

AUDIT_KEY = "bench audit key, not a secret"
LAUNCH_RATIO = 1.5
MEMORY_RATIO = 1.5
KEYSTROKE_MS = 50
OPEN_CASE_MS = 100
SEARCH_MS = 150
TYPING_PAUSE = 2.0
"""Seconds a person takes to type a username and a passphrase (at least)."""
FILTER_WORDS = ["aino", "koski", "school", "joint", "sanna", "high"]
BROAD_WORDS = ["sanna", "hanna", "jussi", "mikko"]
"""Team members' first names: each matches every case the person leads or works on."""
QUERIES = ["guardian", "floorball", "kamppi", "school psychologist", "aino", "supermarket job"]


def app_environment(home: Path) -> dict[str, str]:
    """What the app under test gets: an audit key, no keyring, no user config."""
    return {"ANCHOR_AUDIT_KEY": AUDIT_KEY,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
            "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
            "XDG_STATE_HOME": str(home / "state")}


def terminal_figures(url: str, display_name: str, launches: int, home: Path,
                     console: Console) -> Figures:
    figures = Figures()
    env = " ".join(shlex.quote(f"{k}={v}") for k, v in app_environment(home).items())
    python = shlex.quote(sys.executable)
    bare = f"exec {python} {shlex.quote(str(Path(__file__).parent / 'bare_app.py'))}"
    app = f"exec env {env} {python} -m anchor_tui run --db {shlex.quote(url)}"
    board_words = (display_name, " cases", "priority")
    terminal = Terminal()

    def run_bare() -> None:
        started = terminal.start(bare)
        figures.add("first screen", terminal.wait_for(READY) - started)
        figures.add("memory", terminal.rss_kib() * 1024)
        terminal.stop()

    def run_app(pause: float) -> None:
        started = terminal.start(app)
        drawn = terminal.wait_for("Sign in to anchor-tui", "Passphrase")
        figures.add("app first screen", drawn - started)
        time.sleep(pause)
        terminal.keys("social", literal=True)
        terminal.keys("Enter")
        terminal.keys(DEMO_PASSPHRASE, literal=True)
        entered = time.perf_counter()
        terminal.keys("Enter")
        board = terminal.wait_for(*board_words, absent=("Reading the board",))
        what = "at once" if pause == 0 else "settled"
        figures.add(f"enter to board {what}", board - entered)
        if pause == 0:
            figures.add("launch to board", drawn - started + board - entered)
        figures.add(f"app memory {what}", terminal.rss_kib() * 1024)
        terminal.keys("C-q")
        terminal.stop()

    try:
        for n in range(launches):
            order = [run_bare, lambda: run_app(0), lambda: run_app(TYPING_PAUSE)]
            for step in order if n % 2 == 0 else order[::-1]:
                step()
            console.print(f"  terminal: launch {n + 1}/{launches}", markup=False)
    finally:
        terminal.close()
    return figures


def compile_package(console: Console) -> None:
    """Byte-compile anchor_tui, as installing it from a wheel does.

    Textual and the bare app's other modules were compiled when pip installed them; an
    editable install of anchor_tui is not, and where ``PYTHONDONTWRITEBYTECODE`` is set
    (as on these machines) every launch would compile the app's own modules from source
    again: about 60 ms of the first screen (measured here) that no installed copy
    spends. Compiling first makes both programs start from bytecode."""
    package = Path(anchor_tui.__file__).parent
    if not compileall.compile_dir(str(package), quiet=1):
        raise SystemExit(f"could not byte-compile {package}")
    console.print(f"byte-compiled {package} (as a wheel install does)", markup=False)


def big_case_and_name(backend: Backend) -> tuple[int, str]:
    with backend.sessions.system("bench: the case with 100 notes") as s:
        big = s.scalars(select(Case.id).where(Case.summary == BIG_CASE_SUMMARY)).one()
        name = s.scalars(select(User.display_name).where(User.username == "social")).one()
    return big, name


def median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def report(db: str, term: Figures, bare: Figures, inproc: Figures,
           table: Table) -> bool:
    passed = True
    t, b, f = term.samples, bare.samples, inproc.samples

    def row(what: str, n: int, base: str, value: str, spread: str, ratio: str,
            target: str, ok: bool | None) -> None:
        nonlocal passed
        if ok is not None:
            passed &= ok
        verdict = "-" if ok is None else "PASS" if ok else "FAIL"
        table.add_row(db, what, str(n), base, value, spread, ratio, target, verdict)

    def s(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} s"

    first, first_app = t["first screen"], t["app first screen"]
    ratio = statistics.median(first_app) / statistics.median(first)
    row("launch → first screen drawn (sign-in)", len(first_app), s(first), s(first_app),
        f"max {max(first_app):.3f} s", f"{ratio:.2f}×", f"≤ {LAUNCH_RATIO}×",
        ratio <= LAUNCH_RATIO)
    for what, key in (("Enter → board drawn, typed at once", "enter to board at once"),
                      (f"Enter → board drawn, typed after {TYPING_PAUSE:.0f} s",
                       "enter to board settled")):
        row(what, len(t[key]), "-", s(t[key]), f"max {max(t[key]):.3f} s", "-", "none", None)
    total = t["launch to board"]
    ratio = statistics.median(total) / statistics.median(first)
    row("launch → board, signed in (typing not counted)", len(total), s(first), s(total),
        f"max {max(total):.3f} s", f"{ratio:.2f}×", f"≤ {LAUNCH_RATIO}×", ratio <= LAUNCH_RATIO)
    memory = t["app memory settled"] + t["app memory at once"]
    ratio = statistics.median(memory) / statistics.median(t["memory"])
    row("resident memory, board shown", len(memory),
        f"{statistics.median(t['memory']) / 2**20:.0f} MiB",
        f"{statistics.median(memory) / 2**20:.0f} MiB",
        f"max {max(memory) / 2**20:.0f} MiB", f"{ratio:.2f}×", f"≤ {MEMORY_RATIO}×",
        ratio <= MEMORY_RATIO)
    base_key = median_ms(b["keystroke"])
    for what, key, target in (
        ("filter keystroke → board redrawn", "filter keystroke", KEYSTROKE_MS),
        ("open the case with 100 notes", "open case (100 notes)", OPEN_CASE_MS),
        ("a search → results drawn", "search", SEARCH_MS),
        ("exact counts of a broad filter (after the pause)", "exact counts", None),
        ("open the queue (t)", "open queue (t)", None),
    ):
        values = f[key]
        med = median_ms(values)
        p95 = statistics.quantiles(values, n=20)[18] * 1000 if len(values) > 1 else med
        row(what, len(values), f"{base_key:.1f} ms", f"{med:.1f} ms", f"p95 {p95:.1f} ms",
            f"{med / base_key:.1f}×", f"≤ {target} ms" if target else "none",
            None if target is None else med <= target)
    table.add_section()
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=None, help="default 100,000 (2,000 quick)")
    parser.add_argument("--notes-per-case", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="2,000 cases, fewer runs")
    parser.add_argument("--reuse", action="store_true",
                        help="keep databases whose row counts already match")
    parser.add_argument("--sqlite", type=Path, default=None,
                        help="default <tmp>/anchor-bench/board-<cases>x<notes>.sqlite3")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--pg-url", default=PG_ADMIN_URL,
                        help="a PostgreSQL server connection allowed to create databases")
    parser.add_argument("--pg-db", default=None,
                        help="default anchor_bench_board (quick: anchor_bench_board_quick)")
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--launches", type=int, default=None, help="default 5 (quick 2)")
    parser.add_argument("--reps", type=int, default=None, help="default 20 (quick 6)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    quick = args.quick
    args.cases = args.cases if args.cases is not None else (2_000 if quick else 100_000)
    launches = args.launches or (2 if quick else 5)
    reps = args.reps or (6 if quick else 20)
    console = Console() if sys.stdout.isatty() else Console(width=200)
    os.environ["ANCHOR_AUDIT_KEY"] = AUDIT_KEY  # the in-process app writes audit events too
    sqlite_path = args.sqlite or (Path(tempfile.gettempdir()) / "anchor-bench"
                                  / f"board-{args.cases}x{args.notes_per_case}.sqlite3")
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    table = Table(title="anchor-tui board, queue and search: against a bare Textual app "
                        "measured in the same run")
    for column in ("database", "measurement", "n", "baseline", "anchor-tui", "spread",
                   "ratio", "target", "result"):
        table.add_column(column, justify="left" if column in ("database", "measurement")
                         else "right")
    passed = True
    try:
        urls: dict[str, str] = {}
        if not args.no_sqlite:
            prepare_sqlite(sqlite_path, args, console).close()
            urls["SQLite"] = f"sqlite:///{sqlite_path}"
        if not args.no_pg:
            name = args.pg_db or ("anchor_bench_board_quick" if quick else "anchor_bench_board")
            backend = prepare_pg(args.pg_url, name, args, console)
            urls["PostgreSQL"] = backend.engine.url.render_as_string(hide_password=False)
            backend.close()
        compile_package(console)
        bare = Figures()
        asyncio.run(bare_keystrokes(bare, FILTER_WORDS))
        with tempfile.TemporaryDirectory(prefix="anchor-bench-home-") as home:
            for db, url in urls.items():
                settings = load_settings(url)
                backend = Backend.open(settings)
                big, display_name = big_case_and_name(backend)
                console.print(f"{db}: in a real terminal ({launches} launches)", markup=False)
                term = terminal_figures(url, display_name, launches, Path(home), console)
                console.print(f"{db}: in-process ({reps} repetitions)", markup=False)
                inproc = Figures()
                asyncio.run(app_figures(backend, settings, inproc, filter_words=FILTER_WORDS,
                                        queries=QUERIES, big_case=big, reps=reps,
                                        broad_words=BROAD_WORDS))
                backend.close()
                passed &= report(db, term, bare, inproc, table)
    except AnchorError as exc:
        console.print(f"error: {exc.message} {exc.fix}", markup=False)
        return 2
    console.print(table)
    load = os.getloadavg()
    console.print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"at the end; {args.cases:,} cases x {args.notes_per_case} notes (+ one case with "
        "100 notes). Baselines: the bare Textual app (Header, Static, Footer) launched the "
        "same way in the same tmux, and a keystroke into a bare Input for the in-process "
        "rows.", markup=False)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
