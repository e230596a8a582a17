"""The disclosure policy: load and validate ``disclosure.yaml``, ``decide()``, compile to SQL.

Pure: no Textual, no database session. See ``engine.py`` for the semantics.
"""

from anchor_tui.policy.engine import Policy, calendar_day, load_policy
from anchor_tui.policy.facts import (
    ConsentFacts,
    Decision,
    DecisionContext,
    MembershipFacts,
    NoteFacts,
    TaskFacts,
)

__all__ = [
    "ConsentFacts",
    "Decision",
    "DecisionContext",
    "MembershipFacts",
    "NoteFacts",
    "Policy",
    "TaskFacts",
    "calendar_day",
    "load_policy",
]
