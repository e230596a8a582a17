"""The board bench finds the handlers it times (they move when screens are split).

``bench/board.py`` times each action until the screen's handler for its result has run;
it wraps those handlers by name. Run in a fresh interpreter: the wrapping is for the
bench's own process and would change the classes for every later test here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_the_board_bench_wraps_the_handlers_that_show_results() -> None:
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import board_inprocess as b; "
            "shown, counts = b.watch_results(); print('wrapped')")
    done = subprocess.run([sys.executable, "-c", code, str(BENCH)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "wrapped"
