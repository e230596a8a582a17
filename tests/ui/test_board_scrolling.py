"""The board's scroll bars: the row's, there exactly when not every stage fits the
terminal's width."""

from __future__ import annotations

from anchor_tui.widgets.stage_column import StageColumn, StageRow
from tests.ui.conftest import AppFactory, sign_in


async def test_the_stage_row_scrolls_sideways_only_when_the_stages_do_not_fit(
        make_app: AppFactory) -> None:
    for size, fits in (((80, 24), False), ((160, 48), True)):
        app = make_app()
        async with app.run_test(size=size) as pilot:
            await sign_in(pilot, "nurse")
            row = app.screen.query_one(StageRow)
            columns = list(row.query_children(StageColumn))
            assert (sum(c.outer_size.width for c in columns) <= row.size.width) is fits
            assert row.styles.overflow_x == ("hidden" if fits else "scroll")
            # Decided before the first layout: the scroll bar is there from the start.
            assert row.show_horizontal_scrollbar is not fits
