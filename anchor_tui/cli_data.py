"""``anchor-tui retention run [--apply]``, ``anchor-tui export person ID --as USER FILE``
and ``anchor-tui huddle end-left-on [--apply]``: data duties from the command line.

The retention run is a dry run unless ``--apply`` is given: it lists (ids and counts
only) what would be erased. The export writes what one user may see of one young
person, and is recorded in the audit trail.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _retention_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from anchor_tui import cli
    from anchor_tui.services import retention

    with cli._backend(args) as backend:
        plans = retention.plan(backend)
        for item in plans:
            parts = []
            if item.note_ids:
                parts.append(f"{len(item.note_ids)} notes")
            if item.case_content:
                parts.append(f"case content ({item.tasks} tasks, {item.drafts} drafts)")
            if item.person:
                parts.append(f"young person {item.person_id}'s name and details")
            print(f"case {item.case_id} (closed {item.closed_at.date()}, "
                  f"{item.closed_reason or 'no reason'}, kept until {item.kept_until}): "
                  + ", ".join(parts))
        summary = retention.summarise(plans)
        counts = (f"{summary.notes} notes, {summary.cases} cases' content, {summary.tasks} "
                  f"tasks, {summary.drafts} drafts, {summary.persons} young people's names")
        if not args.apply:
            print(f"Dry run: would erase {counts}. Nothing was changed; run again with "
                  "--apply to erase.")
            return 0
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True)) as bar:
            task = bar.add_task("Erasing", total=len(plans) or 1)
            from anchor_tui.services.minutes import default_minutes_dir

            minutes_dir = cli._settings(args).minutes_dir or default_minutes_dir()
            retention.apply(backend, plans, minutes_dir=minutes_dir,
                            progress=lambda done, _total: bar.update(task, completed=done))
            bar.update(task, completed=len(plans) or 1)
    print(f"Erased {counts}. The audit trail still verifies: anchor-tui audit verify")
    return 0


def _huddle_end_left_on(args: argparse.Namespace) -> int:
    """List (ids and moments only) the huddles left on; with ``--apply`` end them
    (``services.huddle_left_on``), or with ``--huddle ID`` that one only. No terminal
    but the one that ran a huddle ends it by itself: a person who knows the rooms have
    gone runs this."""
    from anchor_tui import cli
    from anchor_tui.db.types import utcnow
    from anchor_tui.services.huddle_left_on import end_left_on, left_on_moments
    from anchor_tui.services.minutes import default_minutes_dir

    settings = cli._settings(args)
    limit = settings.team.huddle_left_on_minutes
    now = utcnow()
    with cli._backend(args) as backend:
        found = [one for one in left_on_moments(backend, now, limit)
                 if args.huddle is None or one[0] == args.huddle]
        if args.huddle is not None and not found:
            print(f"Huddle {args.huddle} is not left on (no such huddle, ended already, or "
                  f"with activity in the last {limit} min). Nothing was changed.")
            return 1
        if not args.apply:
            for huddle_id, started, last in found:
                when = f"{started.astimezone():%Y-%m-%d %H:%M}"
                print(f"huddle {huddle_id}: left on, started {when}, last activity "
                      f"{last.astimezone():%Y-%m-%d %H:%M} (no activity for {limit} min)")
            print(f"Dry run: {_huddles(len(found))} left on. Nothing was changed; run "
                  "again with --apply to end them with their minutes.")
            return 0
        directory = settings.minutes_dir or default_minutes_dir()
        ended = end_left_on(backend, now, limit, directory,
                            ids=[huddle_id for huddle_id, _started, _last in found])
    for result in ended:
        where = result.path if result.path is not None else result.problem
        print(f"huddle {result.huddle_id}: ended at its last activity; minutes stored "
              f"({where})")
    print(f"Ended {_huddles(len(ended))} left on.")
    return 0


def _huddles(count: int) -> str:
    return f"{count} huddle" if count == 1 else f"{count} huddles"


def _export_person(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.auth import authenticate
    from anchor_tui.services.export import export_person, format_for

    path = Path(args.file)
    format_for(path, args.format)  # a wrong format is said before anything is read
    with cli._backend(args) as backend:
        # The export is recorded as USER's: USER signs in for it (the sign-in rules,
        # waits and lockout apply), so nobody exports a view in someone else's name.
        passphrase = cli._read_secret(args, f"Passphrase of {cli._plain(args.as_user)}: ",
                                      confirm=False)
        authenticate(backend, args.as_user, passphrase)
        export = export_person(backend, args.as_user, args.person, path, args.format)
    notes = sum(len(c.notes) for c in export.cases)
    print(f"Wrote what {cli._plain(args.as_user)} may see of young person {args.person} "
          f"({len(export.cases)} cases, {notes} notes) to {path}. The export was recorded "
          "in the audit trail.", file=sys.stdout)
    return 0


def add_data_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    from anchor_tui import cli

    group = commands.add_parser("retention", help="erase the content of expired closed cases",
                                description="Retention periods are in anchor.yaml "
                                "(retention).")
    actions = group.add_subparsers(dest="retention_action", metavar="ACTION", required=True)
    run = cli._command(actions, "run", _retention_run,
                       "list (or with --apply erase) what has passed its period", common,
                       "A dry run by default: prints what would be erased (ids and counts, "
                       "never content). With --apply, erases it; ids and the audit trail stay.")
    run.add_argument("--apply", action="store_true", help="erase (default: only list)")

    huddle = commands.add_parser("huddle", help="end huddles left on",
                                 description="Huddles nobody ended (their terminal quit "
                                 "with the database away, or was switched off).")
    huddle_actions = huddle.add_subparsers(dest="huddle_action", metavar="ACTION",
                                           required=True)
    left_on = cli._command(
        huddle_actions, "end-left-on", _huddle_end_left_on,
        "list (or with --apply end) the huddles left on", common,
        "A dry run by default: lists the huddles without activity for the team's "
        "huddle_left_on_minutes (ids, start and last activity only). With --apply, ends "
        "each at its last activity and stores its minutes (written to the minutes folder "
        "too). Only the terminal that ran a huddle ends it by itself (at its next start): "
        "check that each room has really gone first (a room quietly on one case records "
        "no activity).")
    left_on.add_argument("--apply", action="store_true", help="end them (default: only list)")
    left_on.add_argument("--huddle", type=int, metavar="ID",
                         help="only this huddle (as listed)")

    export = commands.add_parser("export", help="subject access export",
                                 description="Write what a user may see of a young person.")
    kinds = export.add_subparsers(dest="export_kind", metavar="WHAT", required=True)
    person = cli._command(kinds, "person", _export_person,
                          "what USER may see of young person ID, to FILE", common,
                          "Read through USER's own view (the disclosure policy), write "
                          "Markdown or JSON, and record the export in the audit trail as "
                          "USER's. USER's passphrase is asked (sign-in rules apply).")
    person.add_argument("person", type=int, metavar="ID", help="the young person's id")
    person.add_argument("--as", dest="as_user", required=True, metavar="USER",
                        help="whose view: the username")
    person.add_argument("file", metavar="FILE", help="where to write (.md or .json)")
    person.add_argument("--passphrase-stdin", action="store_true",
                        help="read USER's passphrase from standard input instead of asking")
    person.add_argument("--format", choices=("md", "json"), default=None,
                        help="md or json (default: from FILE's extension)")
