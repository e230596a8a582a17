"""The caseload panel mounts anywhere, reads in its own worker, labels every line."""

from __future__ import annotations

from sqlalchemy import func, select
from textual.app import App, ComposeResult

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.caseload import WEEKS
from anchor_tui.widgets.sparkline_panel import SparklinePanel, sparkline
from tests.ui.conftest import TODAY


class Host(App[None]):
    def __init__(self, backend: Backend, viewer: Viewer) -> None:
        super().__init__()
        self.panel = SparklinePanel(backend, viewer, today=lambda: TODAY)

    def compose(self) -> ComposeResult:
        yield self.panel


def viewer(backend: Backend, username: str) -> Viewer:
    with backend.sessions.system("test: who") as s:
        user = s.scalars(select(m.User).where(m.User.username == username)).one()
        return Viewer(user.id, user.username, user.display_name, user.profession, user.role)


async def test_every_stage_has_a_label_a_line_and_the_number_now(demo_backend: Backend) -> None:
    app = Host(demo_backend, viewer(demo_backend, "nurse"))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        load = app.panel.load
        assert load is not None and len(load.points) == WEEKS
        text = str(app.panel.render())
        with demo_backend.sessions.system("test: the board") as s:
            board = dict(s.execute(select(m.Case.stage, func.count())
                                   .group_by(m.Case.stage)).all())
        for stage in demo_backend.team.stages:
            line = next(li for li in text.splitlines() if li.startswith(stage.label))
            assert line.endswith(f" {board.get(stage.id, 0)} now"), line
            assert any(block in line for block in "▁▂▃▄▅▆▇█")


async def test_an_empty_huddle_sees_zero_everywhere(demo_backend: Backend) -> None:
    nurse = viewer(demo_backend, "nurse")
    empty = Viewer(nurse.user_id, nurse.username, "Huddle", nurse.profession, "member",
                   purpose="huddle", attendees=())
    app = Host(demo_backend, empty)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.panel.load is not None
        assert all(stage.counts == (0,) * WEEKS for stage in app.panel.load.stages)


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline((0, 0, 0)) == "▁▁▁"
    assert sparkline((0, 7, 14)) == "▁▅█"
    assert sparkline((1, 100)) == "▂█"
