"""The view layer's second look: a note that decide() denies is dropped and logged."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.policy import DecisionContext, MembershipFacts, load_policy
from anchor_tui.services.disclosure import recheck
from anchor_tui.settings import PACKAGE_CONFIG_DIR

NOW = dt.datetime(2026, 5, 4, 8, 0, tzinfo=dt.UTC)
TODAY = NOW.astimezone().date()


def test_recheck_keeps_allowed_and_drops_denied(caplog: pytest.LogCaptureFixture) -> None:
    policy = load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")
    social = Viewer(1, "social", "Social", "social_work", "member")
    ctx = DecisionContext(NOW, TODAY, (MembershipFacts(10, 1, TODAY, None),), ())
    general = m.Note(id=100, case_id=10, author_id=2, author_profession="health",
                     category="general", body="fine to show")
    intel = m.Note(id=101, case_id=10, author_id=3, author_profession="police",
                   category="police_intel", body="SECRET-INTEL")
    with caplog.at_level(logging.ERROR, logger="anchor_tui.disclosure"):
        kept = recheck(policy, social, [(general, 20), (intel, 20)], ctx)
    assert kept == [general]
    assert "note 101" in caplog.text and "user 1" in caplog.text
    assert "SECRET-INTEL" not in caplog.text  # ids only, never the text
