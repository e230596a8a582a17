"""A paste into a reason prompt loses nothing in silence.

Textual's one-line input kept only a paste's first line, and dropped a paste longer
than the field's room (500 characters) whole, both without a word. A paste of several
lines is now joined with spaces; one too long is cut to fit and the prompt says so.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input, Static

from anchor_tui.screens.prompt import ReasonScreen
from tests.ui.conftest import AppFactory, sign_in
from tests.ui.test_note_editor import asked


async def reason_prompt(app: object, pilot: object) -> ReasonScreen:
    await sign_in(pilot, "social")  # type: ignore[arg-type]
    await app.push_screen(ReasonScreen("Snooze", "Why?"))  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]
    prompt = await asked(app, pilot, ReasonScreen)  # type: ignore[arg-type]
    assert isinstance(prompt, ReasonScreen)
    return prompt


async def test_a_paste_of_several_lines_keeps_every_line(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = await reason_prompt(app, pilot)
        field = prompt.query_one("#reason-input", Input)
        field.post_message(events.Paste("Waiting for the school\nand the nurse's reply"))
        await pilot.pause()
        assert field.value == "Waiting for the school and the nurse's reply", (
            f"lines of the paste were dropped: {field.value!r}")


async def test_a_paste_too_long_is_cut_to_fit_and_said(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        prompt = await reason_prompt(app, pilot)
        field = prompt.query_one("#reason-input", Input)
        await pilot.press(*"Seen ")
        field.post_message(events.Paste("y" * 600))
        await pilot.pause()
        assert field.value == "Seen " + "y" * 495, "the too long paste was dropped"
        said = str(prompt.query_one("#reason-message", Static).render())
        assert "too long" in said and "105" in said



async def test_the_forms_one_line_fields_keep_every_line_of_a_paste(
    make_app: AppFactory,
) -> None:
    """The task's title, the consent's evidence and the child-welfare notification's
    recipient and reference: a paste of several lines kept only its first."""
    from anchor_tui.screens.child_welfare import ChildWelfareScreen
    from anchor_tui.screens.consent_form import ConsentFormScreen
    from anchor_tui.screens.task_form import TaskFormScreen
    from tests.ui.test_consent_screen import open_case, press
    from tests.ui.test_note_editor import CASE

    async def pasted(screen: object, selector: str) -> str:
        field = screen.query_one(selector, Input)  # type: ignore[attr-defined]
        field.value = ""
        field.post_message(events.Paste("First line\nsecond line"))
        await pilot.pause()
        return str(field.value)

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse")
        await open_case(app, pilot)
        await press(pilot, "c", "n")
        assert isinstance(app.screen, ConsentFormScreen)
        assert await pasted(app.screen, "#consent-evidence") == "First line second line"
        for screen, selectors in ((TaskFormScreen(CASE), ("#task-title",)),
                                  (ChildWelfareScreen(1),
                                   ("#welfare-recipient", "#welfare-reference"))):
            await app.push_screen(screen)
            await pilot.pause()
            for selector in selectors:
                assert await pasted(screen, selector) == "First line second line", selector
            app.pop_screen()
            await pilot.pause()
