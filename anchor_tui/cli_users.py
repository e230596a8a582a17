"""``anchor-tui user add|list|passwd|deactivate``: who may sign in, from the command line.

Passphrases are asked twice (or read from standard input with ``--passphrase-stdin``)
and checked as the sign-in screen checks them; names are printed with control
characters escaped.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _user_add(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.users import add_user, check_new_user, check_passphrase

    with cli._backend(args) as backend:
        check_new_user(backend, args.username, args.display_name, args.profession, args.role)
        passphrase = cli._read_secret(args, f"Passphrase for {args.username}: ", confirm=True)
        check_passphrase(passphrase)
        info = add_user(backend, args.username, args.display_name, args.profession, args.role,
                        passphrase)
    print(f"Added {info.username} ({info.profession}, {info.role}).")
    return 0


def _user_list(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.users import list_users

    with cli._backend(args) as backend:
        users = list_users(backend)
    rows = [("USERNAME", "NAME", "PROFESSION", "ROLE", "STATUS")]
    for user in users:
        status = "locked" if user.locked else "active" if user.active else "deactivated"
        rows.append((cli._plain(user.username), cli._plain(user.display_name), user.profession,
                     user.role, status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    return 0


def _user_passwd(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.users import check_passphrase, get_user, set_passphrase

    with cli._backend(args) as backend:
        get_user(backend, args.username)
        passphrase = cli._read_secret(args, f"New passphrase for {args.username}: ", confirm=True)
        check_passphrase(passphrase)
        set_passphrase(backend, args.username, passphrase)
    print(f"Changed the passphrase of {cli._plain(args.username)}.")
    return 0


def _user_deactivate(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.users import deactivate

    with cli._backend(args) as backend:
        changed = deactivate(backend, args.username)
    name = cli._plain(args.username)
    print(f"Deactivated {name}." if changed else f"{name} was already deactivated.")
    return 0


def add_user_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    from anchor_tui import cli

    user = commands.add_parser("user", help="add, list, change or deactivate users",
                               description="Manage who may sign in.")
    actions = user.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    stdin_help = "read the passphrase from standard input instead of asking twice"
    add = cli._command(actions, "add", _user_add, "add a user", common)
    add.add_argument("username", help="lowercase letters, digits, '.', '-', '_'")
    add.add_argument("--display-name", required=True, metavar="NAME",
                     help="the name shown on screen")
    add.add_argument("--profession", required=True,
                     help="one of the team's professions (anchor.yaml)")
    add.add_argument("--role", default="member", help="member, lead, auditor or admin")
    add.add_argument("--passphrase-stdin", action="store_true", help=stdin_help)
    cli._command(actions, "list", _user_list, "list users", common)
    passwd = cli._command(actions, "passwd", _user_passwd,
                          "set a new passphrase (also ends a lockout)", common)
    passwd.add_argument("username")
    passwd.add_argument("--passphrase-stdin", action="store_true", help=stdin_help)
    deactivate = cli._command(actions, "deactivate", _user_deactivate,
                              "stop a user from signing in (their notes stay)", common)
    deactivate.add_argument("username")
