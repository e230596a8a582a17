"""``anchor-tui audit verify|checkpoint|access-report|key-new|key-set``: the audit trail.

``verify`` exits 1 naming the first row that fails (edited, inserted, reordered or
deleted); with ``--checkpoint FILE`` it also finds the newest rows deleted since the
checkpoint was written. ``checkpoint FILE`` writes the chain's head (last id, hash,
time) as JSON: keep it away from the database (another machine, paper). ``key-new``
makes a shared database's key once (stored in this terminal's keyring, printed for the
others) and ``key-set`` stores it on each other terminal, refusing a key that does not
verify the trail.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from anchor_tui.errors import AnchorError

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

EXIT_BROKEN = 1


def _verify(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.audit_chain import Checkpoint, verify

    head = None
    if args.checkpoint:
        path = Path(args.checkpoint)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise AnchorError(f"Cannot read the checkpoint {path} ({exc.strerror}).",
                              "Give the file written by: anchor-tui audit checkpoint FILE"
                              ) from exc
        head = Checkpoint.from_json(text, str(path))
    with cli._backend(args) as backend:
        result = verify(backend, head)
    if not result.ok:
        print(f"anchor-tui: the audit trail does NOT verify: {result.problem} "
              f"(first bad row: id {result.bad_id}).", file=sys.stderr)
        if result.wrong_key:
            print("  fix: check the audit key first (the OS keyring entry, or "
                  "ANCHOR_AUDIT_KEY: the team's key for this database); if it is right, keep "
                  "a copy of the database and tell the data protection officer.",
                  file=sys.stderr)
        else:
            print("  fix: keep a copy of the database as it is now and tell the data "
                  "protection officer; compare with a backup to see what changed.",
                  file=sys.stderr)
        return EXIT_BROKEN
    against = f", including the checkpoint up to row {head.last_id}" if head else ""
    print(f"ok: {result.rows} rows verify{against}; last row {result.last_id or '-'}.")
    return 0


def _checkpoint(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.audit_chain import checkpoint

    with cli._backend(args) as backend:
        head = checkpoint(backend)
    path = Path(args.file)
    try:
        path.write_text(head.to_json(), encoding="utf-8")
    except OSError as exc:
        raise AnchorError(f"Cannot write {path} ({exc.strerror}).",
                          "Give a file in a folder you may write to.") from exc
    print(f"Wrote the audit chain's head (row {head.last_id}, {head.rows} rows) to {path}. "
          "Keep it away from the database.")
    return 0


def _access_report(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.access_report import access_report

    with cli._backend(args) as backend:
        report = access_report(backend, args.person)
    print(f"Access report for young person {report.person_id} "
          f"({cli._plain(report.person_name)}): {len(report.lines)} events, "
          f"{len(report.disclosures)} disclosures to another profession.")
    for line in report.lines:
        when = line.at.astimezone().strftime("%Y-%m-%d %H:%M")
        purpose = f" for {line.purpose}" if line.purpose else ""
        huddle = f" (huddle {line.huddle_id})" if line.huddle_id else ""
        what = f" [{line.what}]" if line.what else ""
        basis = f" basis: {line.basis}" if line.action == "note.disclosed" else ""
        profession = f", {line.profession}" if line.profession else ""
        print(f"{when}  {cli._plain(line.who)}{profession}  {line.action_label}"
              f"{purpose}{huddle}{what}{basis}")
    return 0


def _key_set(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.audit_chain import check_key, database_id, key_fits, store_key

    with cli._backend(args) as backend:
        url = backend.engine.url
        key = sys.stdin.readline().rstrip("\r\n") if args.key_stdin else \
            cli._read_secret(args, f"Audit key for {database_id(url)}: ", confirm=True)
        if key_fits(backend, check_key(key)) is False:
            raise AnchorError("That key does not verify this database's audit trail.",
                              "Copy the key from a terminal where the trail verifies, or "
                              "from where the team keeps it.")
        store_key(url, key)
    print(f"Stored the audit key for {database_id(url)} in the OS keyring.")
    return 0


def _key_new(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.db.engine import keyring_available
    from anchor_tui.services.audit_chain import KEY_ENV, database_id, new_key, store_key, verify

    with cli._backend(args) as backend:
        url = backend.engine.url
        if verify(backend).rows:
            raise AnchorError(
                f"The audit trail of {database_id(url)} already has rows under a key.",
                "Get that key from a terminal where the trail verifies and store it with: "
                "anchor-tui audit key-set")
        key = new_key()
        stored = keyring_available()
        if stored:
            store_key(url, key)
    where = "Stored it in this terminal's OS keyring." if stored else (
        f"No OS keyring here: set {KEY_ENV} to it on this terminal.")
    print(f"A new audit key for {database_id(url)}:\n\n    {key}\n\n{where} On every other "
          "terminal of this database run: anchor-tui audit key-set (or set "
          f"{KEY_ENV}). Keep a copy where the team keeps its secrets: without it the trail "
          "cannot be verified.")
    return 0


def add_audit_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    from anchor_tui import cli

    group = commands.add_parser("audit", help="verify the audit trail, checkpoint it, "
                                "report accesses", description="The tamper-evident audit "
                                "trail (ids only, never note text).")
    actions = group.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    verify = cli._command(actions, "verify", _verify, "check the hash chain", common,
                          "Recompute the keyed hash of every audit row; exit status 1 "
                          "naming the first row edited, inserted, reordered or deleted.")
    verify.add_argument("--checkpoint", metavar="FILE",
                        help="also check against a checkpoint (finds deleted newest rows)")
    checkpoint = cli._command(actions, "checkpoint", _checkpoint,
                              "write the chain's head to FILE (JSON)", common,
                              "Verify the chain, then write its last row id and hash.")
    checkpoint.add_argument("file", metavar="FILE")
    report = cli._command(actions, "access-report", _access_report,
                          "who saw a young person's data, when and why", common,
                          "Every recorded access to one young person's data, with the "
                          "basis of each disclosure to another profession.")
    report.add_argument("--person", type=int, required=True, metavar="ID",
                        help="the young person's id")
    key = cli._command(actions, "key-set", _key_set,
                       "store this database's audit key in the OS keyring", common,
                       "Store the team's audit key (the same on every terminal of a "
                       "shared database) in the OS keyring.")
    key.add_argument("--key-stdin", action="store_true",
                     help="read the key from standard input (for scripts)")
    cli._command(actions, "key-new", _key_new,
                 "make this database's audit key (once, before its first row)", common,
                 "Make a random audit key for a database whose trail is still empty, store "
                 "it in this terminal's OS keyring and print it once, for key-set on the "
                 "team's other terminals.")
