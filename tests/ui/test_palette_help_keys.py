"""The command palette, F1 help and the keymap: on the real app with the demo team."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.content import Content
from textual.widgets import Input, Static

from anchor_tui.app import AnchorApp, check_keys
from anchor_tui.errors import ConfigError
from anchor_tui.keys import binding_ids
from anchor_tui.palette import AnchorCommands, PaletteCommand, commands_for
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.help import HelpScreen
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings, load_settings
from tests.ui.conftest import TODAY, AppFactory, board_cards, settle, sign_in


def palette_options(app: AnchorApp) -> list[str]:
    from textual.widgets import OptionList

    palette = app.screen
    assert isinstance(palette, CommandPalette)
    options = palette.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt).split("\n")[0]
            for i in range(options.option_count)]


async def test_colon_opens_the_palette_with_area_verb_commands(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await pilot.press("colon")
        await settle(pilot)
        names = palette_options(app)
        assert "board: filter" in names and "app: sign out" in names
        assert all(": " in name for name in names)
        assert not any(name.startswith("case: open") for name in names), \
            "per-case commands appear only as one types"
        await pilot.press(*"saved filter my")
        await settle(pilot)
        names = palette_options(app)
        assert names and names[0] == "board: saved filter My cases"
        await pilot.press("enter")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, BoardScreen) and board.spec.saved_id == "my_cases"


async def test_palette_opens_only_cases_the_board_shows(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "youth")
        board = app.screen
        assert isinstance(board, BoardScreen)
        shown = {card.case_id for card in board_cards(board)}
        opened = [c for c in commands_for(board, app) if c.name.startswith("case: open")]
        assert {int(c.name.rsplit("#", 1)[1]) for c in opened} == shown
        first = board_cards(board)[0]
        await pilot.press("ctrl+p")
        await pilot.press(*f"open {first.person_label} #{first.case_id}")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == first.case_id


async def test_palette_shows_user_text_plain(make_app: AppFactory) -> None:
    app = make_app()
    ran: list[str] = []
    hostile = PaletteCommand("case: open [@click=app.quit]x[/] #1", "[b]help[/b] \x1b[2J",
                             lambda: ran.append("ran"))

    class Hostile(BoardScreen):
        def palette_commands(self):  # type: ignore[no-untyped-def]
            yield hostile

    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        board = app.screen
        assert isinstance(board, BoardScreen)
        provider = AnchorCommands(Hostile(board._backend, board.viewer, lambda: TODAY))
        hits = [hit async for hit in provider.search("click")]
        assert len(hits) == 1
        assert str(hits[0].prompt) == "case: open [@click=app.quit]x[/] #1"
        # The palette parses help as markup: what it shows is the text, literally.
        assert hits[0].help is not None
        assert Content.from_markup(hits[0].help).plain == "[b]help[/b] \\x1b[2J"


async def test_f1_shows_help_for_the_focus_with_binding_ids(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        await pilot.press("f1")
        await settle(pilot)
        helper = app.screen
        assert isinstance(helper, HelpScreen)
        text = "\n".join(str(s.render()) for s in helper.query(Static))
        assert "The case board" in text
        for ident in ("board.move_next", "board.filter", "app.search", "app.quit"):
            assert ident in text
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_keymap_rebinds_a_key_by_id(make_app: AppFactory, demo_backend: Backend,
                                          demo_settings: Settings) -> None:
    team = dataclasses.replace(demo_backend.team, keymap={"board.filter": "f2"})
    backend = dataclasses.replace(demo_backend, team=team)
    settings = dataclasses.replace(demo_settings, team=team)
    app = AnchorApp(backend, settings, today=lambda: TODAY)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        await pilot.press("slash")
        assert not isinstance(app.focused, Input), "the old key no longer filters"
        await pilot.press("f2")
        assert isinstance(app.focused, Input) and app.focused.id == "board-filter"


def test_every_binding_has_a_unique_id() -> None:
    import inspect

    from textual.binding import Binding

    from anchor_tui import keys

    ids = binding_ids()
    assert {"app.quit", "board.move_next", "case.back", "help.close"} <= ids
    for module in keys._modules():
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            for binding in cls.__dict__.get("BINDINGS", ()):
                assert isinstance(binding, Binding) and binding.id, \
                    f"{cls.__name__}: a binding without an id: {binding}"


def test_an_unknown_binding_id_stops_the_app_with_file_line_key(tmp_path: Path) -> None:
    (tmp_path / "anchor.yaml").write_text("keymap:\n  board.move_nxt: ']'\n")
    settings = load_settings(config_flag=str(tmp_path))
    with pytest.raises(ConfigError) as caught:
        check_keys(settings)
    text = str(caught.value)
    assert "anchor.yaml" in text and ":2" in text and "keymap.board.move_nxt" in text
    assert "board.move_next" in caught.value.fix
