"""Benchmark: only the search figure of bench/board.py, on databases seeded before.

    python bench/search.py --db URL [--rounds 5] [--json]

The real app under Textual's pilot (as ``board_inprocess`` measures it): signed in as
the seeded social worker, ctrl+f, then each of bench/board.py's queries put in at once,
from the query to the results drawn. ``--service`` times the search service alone
(``services.search.search``), without the screen.

Made to compare two checkouts in one run on a shared machine: run it with each
checkout's Python in turn (``--json`` prints the samples), alternating. The database is
only read (and the audit trail written, as any search is audited); use a copy of a
seeded database, never one another checkout still needs at an older schema: opening it
upgrades an embedded SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

from textual.widgets import Input

sys.path.insert(0, str(Path(__file__).parent))
from board import AUDIT_KEY, QUERIES
from board_inprocess import SIZE, Figures, Shown, idle, sign_in, timed

from anchor_tui.app import AnchorApp
from anchor_tui.screens.search import SearchScreen
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings, load_settings


async def screen_figures(backend: Backend, settings: Settings, figures: Figures,
                         rounds: int) -> None:
    shown = Shown()
    shown.after(SearchScreen, "on_search_done", lambda search, m: search.results is m.results)
    app = AnchorApp(backend, settings)
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot)
        await sign_in(pilot, "social")
        await pilot.press("ctrl+f")
        await idle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        words = search.query_one("#search-input", Input)
        for _ in range(rounds):
            for query in QUERIES:
                def put(q: str = query) -> None:
                    words.value = q
                await timed(figures, query, pilot, shown, put)
                assert search.results is not None and search.results.words


def service_figures(backend: Backend, figures: Figures, rounds: int) -> None:
    from sqlalchemy import select

    from anchor_tui.db.models import User
    from anchor_tui.services.auth import viewer_for
    from anchor_tui.services.search import search

    with backend.sessions.system("bench: the social worker") as s:
        user = s.scalars(select(User).where(User.username == "social")).one()
        viewer = viewer_for(user)
    for _ in range(rounds):
        for query in QUERIES:
            started = time.perf_counter()
            search(backend, viewer, query)
            figures.add(query, time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", required=True, help="a seeded database's URL")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--service", action="store_true", help="the service alone")
    parser.add_argument("--json", action="store_true", help="print the samples as JSON")
    args = parser.parse_args(argv)
    os.environ["ANCHOR_AUDIT_KEY"] = AUDIT_KEY
    settings = load_settings(args.db)
    backend = Backend.open(settings)
    figures = Figures()
    try:
        if args.service:
            service_figures(backend, figures, 1)  # warm up
            figures = Figures()
            service_figures(backend, figures, args.rounds)
        else:
            asyncio.run(screen_figures(backend, settings, figures, args.rounds))
    finally:
        backend.close()
    every = [v for values in figures.samples.values() for v in values]
    if args.json:
        print(json.dumps({"samples": figures.samples, "load": os.getloadavg()}))
        return 0
    for query, values in figures.samples.items():
        print(f"{query:22} median {statistics.median(values) * 1000:7.1f} ms  "
              f"max {max(values) * 1000:7.1f} ms")
    print(f"{'all':22} median {statistics.median(every) * 1000:7.1f} ms  (n={len(every)}, "
          f"load {os.getloadavg()[0]:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
