"""The team's note settings checked against the policy: every category and profession
that ``anchor.yaml`` names for notes must be one ``disclosure.yaml`` declares.

A template defaulting to a category the policy does not know would write notes no rule
covers; a misspelt profession in ``child_welfare.professions`` would silently skip the
statutory prompt. Both stop the app at start, with the key that is wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from anchor_tui.errors import ConfigError
from anchor_tui.policy.document import PolicyFile

if TYPE_CHECKING:
    from anchor_tui.settings import TeamConfig


def check_team_notes(policy_path: str, pf: PolicyFile, team: TeamConfig,
                     team_path: str) -> None:
    """Raise :class:`ConfigError` for a note category or profession the policy lacks."""
    categories = {k.id for k in pf.categories}
    professions = {p.id for p in pf.professions}

    def refuse(key: str, kind: str, value: str) -> ConfigError:
        known = sorted(categories if kind == "category" else professions)
        return ConfigError(team_path, None, key, f"names {kind} '{value}', which "
                           f"{policy_path} does not declare", f"use one of: {', '.join(known)}")

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
