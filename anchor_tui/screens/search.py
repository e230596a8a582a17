"""Search (ctrl+f): cases and notes the viewer may see, matched words highlighted.

Each change of the query starts a search in a thread worker (exclusive: a newer query
replaces an older one, whose result is dropped). Enter or down moves from the query to
the results; Enter on a result opens its case; Escape goes back.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.messages import CasesChanged
from anchor_tui.palette import PaletteCommand
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.case import AppHost, CaseScreen
from anchor_tui.services.clock import moment_on
from anchor_tui.services.search import SearchResults, search, search_words
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.search_result import case_hit_content, note_hit_content, status_line


class SearchDone(Message):
    """A search for ``query`` was run for ``viewer``."""

    def __init__(self, viewer: Viewer, query: str, results: SearchResults) -> None:
        super().__init__()
        self.viewer = viewer
        self.query = query
        self.results = results


class SearchScreen(AnchorScreen):
    """Full-text search over what the signed-in viewer may see."""

    HELP = ("Search the cases and notes you may see: type words (each matches the start "
            "of a word; all must match). Down or Enter moves to the results, Enter opens "
            "a result's case, ctrl+l goes back to the words, Esc closes the search.")

    DEFAULT_CSS = """
    SearchScreen #search-title { height: 1; background: $panel; padding: 0 1; }
    SearchScreen #search-status { height: 1; padding: 0 1; color: $text-muted; }
    SearchScreen #search-results { height: 1fr; }
    SearchScreen #search-results > .option-list--option { padding: 0 1; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "back", "Back", id="search.back"),
        Binding("down", "results", "Results", show=False, id="search.results"),
        Binding("ctrl+l", "edit_query", "Edit query", id="search.edit"),
    ]

    def __init__(self, query: str = "") -> None:
        super().__init__()
        self._initial = query
        self.results: SearchResults | None = None
        self._shown_query = ""

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    def compose(self) -> ComposeResult:
        yield Static("Search cases and notes", id="search-title")
        yield Input(self._initial, placeholder="Words to find (names, summaries, notes)",
                    id="search-input")
        yield Static(status_line(SearchResults(())), id="search-status")
        yield OptionList(id="search-results")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#search-input", Input).focus()
        if self._initial:
            self.run_search(self._initial)

    @on(Input.Changed, "#search-input")
    def query_changed(self, event: Input.Changed) -> None:
        if not search_words(event.value):
            self.workers.cancel_group(self, "search")
            self._show(SearchResults(()))
            return
        self.query_one("#search-status", Static).update("Searching…")
        self.run_search(event.value)

    @on(Input.Submitted, "#search-input")
    def query_submitted(self) -> None:
        self.action_results()

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def run_search(self, query: str) -> None:
        viewer = self.host.viewer
        if viewer is None:
            return
        results = search(self.host.backend, viewer, query, now=moment_on(self.host.today()))
        if not get_current_worker().is_cancelled:
            self.post_message(SearchDone(viewer, query, results))

    def on_cases_changed(self, message: CasesChanged) -> None:
        """Notes or cases changed, or anything may have (a consent withdrawn): search
        again, so a result the person may no longer see goes (the place is kept)."""
        query = self.query_one("#search-input", Input).value
        results = self.results or SearchResults(())
        shown = [hit.case_id for hit in results.cases] + [hit.case_id for hit in results.notes]
        if search_words(query) and (message.case_ids is None
                                    or any(message.touches(c) for c in shown)):
            self.run_search(query)

    def on_search_done(self, message: SearchDone) -> None:
        if message.viewer != self.host.viewer:
            return  # read for someone else: never shown here
        if message.query != self.query_one("#search-input", Input).value:
            return  # an older query: a newer search is on its way
        self._show(message.results, again=message.query == self._shown_query)
        self._shown_query = message.query

    def _show(self, results: SearchResults, *, again: bool = False) -> None:
        """Show ``results``; ``again``: the same words searched again (a change), so the
        highlight stays where it was."""
        self.results = results
        self.query_one("#search-status", Static).update(status_line(results))
        options = self.query_one("#search-results", OptionList)
        place = options.highlighted
        options.clear_options()
        options.add_options(
            [Option(case_hit_content(hit), id=f"case-{hit.case_id}") for hit in results.cases]
            + [Option(note_hit_content(hit), id=f"note-{hit.note_id}-case-{hit.case_id}")
               for hit in results.notes]
        )
        if again and place is not None and options.option_count:
            options.highlighted = min(place, options.option_count - 1)

    @on(OptionList.OptionSelected, "#search-results")
    def open_result(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        self.open_case(int(option_id.rsplit("-", 1)[1]))

    def action_results(self) -> None:
        options = self.query_one("#search-results", OptionList)
        if options.option_count:
            options.focus()
            if options.highlighted is None:
                options.highlighted = 0

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("search: results", "Move to the results (down)",
                             self.action_results)
        yield PaletteCommand("search: edit words", "Back to the words (ctrl+l)",
                             self.action_edit_query)
        yield PaletteCommand("search: back", "Close the search (Esc)", self.action_back)
        for hit in self.results.cases if self.results else ():
            yield PaletteCommand(f"case: open {hit.person_label} #{hit.case_id}",
                                 "A case found by this search",
                                 partial(self.open_case, hit.case_id), discover=False)

    def open_case(self, case_id: int) -> None:
        self.app.push_screen(CaseScreen(case_id))

    def action_edit_query(self) -> None:
        self.query_one("#search-input", Input).focus()

    def action_back(self) -> None:
        self.dismiss()
