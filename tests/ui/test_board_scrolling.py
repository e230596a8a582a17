"""The board's scroll bars: each column's own (its last cell), and the row's, there
exactly when not every stage fits the terminal's width."""

from __future__ import annotations

from rich.style import Style
from textual.strip import Strip

from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.stage_column import StageColumn, StageRow
from tests.ui.conftest import AppFactory, board_for, sign_in


def bar(column: CardColumn) -> list[Style]:
    """The style of the scroll bar's cell on each line of ``column`` as drawn now."""
    styles = []
    for y in range(column.scrollable_content_region.height):
        strip: Strip = column.render_line(y)
        assert strip.cell_length == column.scrollable_content_region.width
        last = list(strip)[-1]
        assert last.text == " "
        styles.append(last.style or Style())
    return styles


def thumb_lines(column: CardColumn) -> list[int]:
    thumb = column.get_component_rich_style("card-column--thumb")
    return [y for y, style in enumerate(bar(column)) if style == thumb]


async def test_a_column_draws_its_own_scroll_bar_which_follows_the_cursor(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await board_for(app, pilot, "nurse")
        column = screen.query(StageColumn).first().card_list
        assert column.has_focus and len(column.cards) > 4  # more than fit: a thumb
        height = column.scrollable_content_region.height
        assert column.virtual_size.height > height
        at_top = thumb_lines(column)
        assert at_top and at_top[0] == 0 and len(at_top) < height
        for _ in range(len(column.cards) - 1):
            await pilot.press("j")
        await pilot.pause()
        assert column.scroll_offset.y > 0
        at_end = thumb_lines(column)
        # Further down, and where the part shown lies among the cards read so far (more
        # were read on the way: the thumb is shorter than at the top).
        total = column.virtual_size.height
        assert at_end and at_end[0] > at_top[0], (at_top, at_end)
        assert abs(at_end[0] - column.scroll_offset.y * height / total) <= 1
        assert abs(len(at_end) - height * height / total) <= 1
        # Focus elsewhere: the thumb is drawn in the scroll bar's resting colour.
        focused = column.get_component_rich_style("card-column--thumb")
        await pilot.press("l")
        await pilot.pause()
        assert not column.has_focus
        assert column.get_component_rich_style("card-column--thumb") != focused
        assert thumb_lines(column) == at_end


async def test_a_column_whose_cards_fit_has_a_bar_without_a_thumb(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await board_for(app, pilot, "nurse")
        await pilot.press("slash", *"koski")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        fitting = [c.card_list for c in screen.query(StageColumn)
                   if c.card_list.virtual_size.height
                   <= c.card_list.scrollable_content_region.height]
        assert fitting, "the filter leaves columns whose cards all fit"
        for column in fitting:
            track = column.get_component_rich_style("card-column--track")
            assert set(bar(column)) == {track}


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
