"""Every audited action has words in the access report, and nothing else does."""

from __future__ import annotations

from anchor_tui.services.access_report import ACTION_LABELS
from anchor_tui.services.audit import ACTIONS


def test_every_action_has_a_label_and_every_label_an_action() -> None:
    assert set(ACTION_LABELS) == set(ACTIONS)
    assert all(label and label == label.strip() for label in ACTION_LABELS.values())
