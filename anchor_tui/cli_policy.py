"""``anchor-tui policy check|matrix|explain``: the disclosure policy from the command line."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from anchor_tui.policy import Decision, Policy

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _policy(args: argparse.Namespace) -> Policy:
    """The policy file given on the command line, else the one in force for the team."""
    from anchor_tui import cli
    from anchor_tui.policy import load_policy

    if args.file:
        return load_policy(args.file)
    settings = cli._settings(args)
    return load_policy(settings.policy_path, team=settings.team)


def _check(args: argparse.Namespace) -> int:
    policy = _policy(args)
    print(f"ok: {policy.path}")
    print(f"policy hash {policy.hash}")
    print(f"{len(policy.professions)} professions, {len(policy.categories)} categories, "
          f"{len(policy.rules)} rules")
    return 0


def _cell(decision: Decision) -> str:
    if decision.allowed:
        return "shown: " + ", ".join(decision.rule_ids)
    if decision.rule_ids:
        return "hidden: " + ", ".join(decision.rule_ids)
    return "hidden: no rule permits"


def _matrix(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from anchor_tui.policy.matrix import policy_matrix

    policy = _policy(args)
    if args.category and args.category not in policy.categories:
        from anchor_tui.errors import AnchorError

        raise AnchorError(f"The policy has no note category '{args.category}'.",
                          f"Use one of: {', '.join(sorted(policy.categories))}.")
    table = Table(title=f"Disclosure matrix ({policy.path}, hash {policy.hash[:12]})",
                  caption="The receiver works the case and did not write the note. "
                          "Consent is the young person's; 'refused' has a guardian's "
                          "permit beside the refusal.")
    for column in ("category", "written by", "shown to", "consent", "individual", "huddle"):
        table.add_column(column, overflow="fold")
    for row in policy_matrix(policy):
        if args.category and row.category != args.category:
            continue
        table.add_row(row.category, row.author_profession, row.receiving_profession,
                      row.consent, _cell(row.individual), _cell(row.huddle))
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = 200  # piped or captured: don't fold rule ids mid-word
    console.print(table)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from anchor_tui import cli
    from anchor_tui.services.disclosure import explain

    backend = cli._open_backend(args)
    try:
        e = explain(backend, args.user, args.note)
    finally:
        backend.close()
    verdict = "SEES" if e.decision.allowed else "does NOT see"
    print(f"{cli._plain(e.username)} ({e.profession}) {verdict} note {e.note_id}.")
    print(f"  note: case {e.case_id}, category {e.category}, "
          f"written as {e.author_profession}")
    print(f"  works the case today: {'yes' if e.is_member else 'no'}")
    consent = "yes (consent ids " + ", ".join(map(str, e.consent_ids)) + ")" \
        if e.has_consent else "no"
    print(f"  consent for {e.category} to {e.profession}: {consent}")
    print(f"  decision: {e.decision.reason}")
    print(f"  policy hash: {backend.policy.hash}")
    return 0


def add_policy_commands(commands: Commands, common: argparse.ArgumentParser) -> None:
    from anchor_tui import cli

    policy = commands.add_parser("policy", help="check, tabulate and explain the disclosure "
                                 "policy", description="The disclosure policy (disclosure.yaml).")
    actions = policy.add_subparsers(dest="policy_action", metavar="ACTION", required=True)
    check = cli._command(actions, "check", _check, "validate a policy file and print its hash",
                         common, "Validate disclosure.yaml (the team's, or FILE) strictly; "
                         "errors name file:line:key.")
    check.add_argument("file", nargs="?", help="a policy file (default: the one in force)")
    matrix = cli._command(actions, "matrix", _matrix, "table of who sees which category",
                          common, "Category x author x receiving profession x consent state: "
                          "shown or hidden, with the rule ids that decided.")
    matrix.add_argument("--file", help="a policy file (default: the one in force)")
    matrix.add_argument("--category", help="only this note category")
    explain = cli._command(actions, "explain", _explain,
                           "why a user sees (or does not see) a note", common,
                           "Explain the decision for one user and one note (ids and "
                           "categories only; the note text is never printed).")
    explain.add_argument("--user", required=True, metavar="NAME")
    explain.add_argument("--note", required=True, type=int, metavar="ID")
