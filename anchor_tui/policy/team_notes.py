"""The team's settings checked against the policy: every profession and note category
that ``anchor.yaml`` names must be one ``disclosure.yaml`` declares.

A profession the policy does not know would see nothing and be refused everywhere; a
template defaulting to an unknown category would write notes no rule covers; a
misspelt profession in ``child_welfare.professions`` would silently skip the statutory
prompt; a misspelt category under ``retention.note_categories`` would silently give
those notes the case's period (erased too early, or kept too long). All of them stop
the app at start (and ``config check``), naming the file, line and key that is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anchor_tui.errors import ConfigError
from anchor_tui.policy.document import PolicyFile

if TYPE_CHECKING:
    from anchor_tui.settings import TeamConfig


def check_team_notes(policy_path: str, pf: PolicyFile, team: TeamConfig) -> None:
    """Raise :class:`ConfigError` for a profession or note category the policy lacks."""
    categories = {k.id for k in pf.categories}
    professions = {p.id for p in pf.professions}

    def refuse(key: str, kind: str, value: str) -> ConfigError:
        known = sorted(categories if kind == "category" else professions)
        return team.error(key, f"names {kind} '{value}', which {policy_path} does not "
                          "declare", f"use one of: {', '.join(known)}")

    for index, profession in enumerate(team.professions):
        if profession not in professions:
            raise team.error(f"professions.{index}", f"names '{profession}', which "
                             f"{policy_path} does not declare",
                             "declare it in disclosure.yaml or remove it from anchor.yaml")
    for index, template in enumerate(team.note_templates):
        if template.category not in categories:
            raise refuse(f"note_templates.{index}.category", "category", template.category)
    for profession, category in team.default_note_category.items():
        if profession not in professions:
            raise refuse(f"default_note_category.{profession}", "profession", profession)
        if category not in categories:
            raise refuse(f"default_note_category.{profession}", "category", category)
    rules = team.child_welfare
    for index, profession in enumerate(rules.professions):
        if profession not in professions:
            raise refuse(f"child_welfare.professions.{index}", "profession", profession)
    for index, category in enumerate(rules.categories):
        if category not in categories:
            raise refuse(f"child_welfare.categories.{index}", "category", category)
    for category in team.retention.note_categories:
        if category not in categories:
            raise refuse(f"retention.note_categories.{category}", "category", category)
