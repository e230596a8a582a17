"""The note editor's template, category and disclosure preview (a mixin of
``NoteEditorScreen``).

F3 picks a template offered to the author's profession (it fills in headings and sets
the category; over text already written it is inserted at the cursor, never replacing a
word), F4 the category (only those the author could read back). In a huddle both offer
only the categories whose notes everyone present may read (``services.note_form``), and
say why the others are not offered. The preview is computed
by ``services.note_preview`` from facts read when the editor opened and again every
``PREVIEW_REFRESH_SECONDS``, so consents that change while writing show up too.
"""

from __future__ import annotations

from dataclasses import replace

from textual import work
from textual.message import Message
from textual.widgets import Static

from anchor_tui.screens.note_drafts import NoteDrafts
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.clock import moment_on
from anchor_tui.services.note_form import CONFIDENTIALITY, EditorStart
from anchor_tui.services.note_preview import (
    PreviewFacts,
    author_may_read,
    huddle_line,
    preview,
    read_facts,
)
from anchor_tui.services.note_text import is_blank
from anchor_tui.widgets.disclosure_preview import DisclosurePreview
from anchor_tui.widgets.plain_text import plain

PREVIEW_REFRESH_SECONDS = 30.0
"""The preview's facts (members, consents) are read again this often while writing."""


class PreviewFactsRead(Message):
    def __init__(self, facts: PreviewFacts) -> None:
        super().__init__()
        self.facts = facts


class NoteSettings(NoteDrafts):
    """Template, category and preview of the note being written."""

    start: EditorStart | None
    _saved: object | None

    def show_settings(self) -> None:
        start = self.start
        if start is None:
            return
        template = next((t.label for t in start.templates if t.id == self.template_id), None)
        category = next((c for c in start.categories if c.id == self.category), None)
        label = category.label if category else self.category
        level = CONFIDENTIALITY.get(category.confidentiality, "") if category else ""
        withheld = ", ".join(w.label for w in start.withheld)
        self.query_one("#editor-settings", Static).update(plain(
            f"Template: {template or 'none'} (F3) · Category: {label}"
            f"{' — ' + level if level else ''} (F4)"
            + (f" · Not offered in the huddle: {withheld} (F4 says why)" if withheld
               else "")))
        self.show_preview()

    def show_preview(self) -> None:
        if self.start is None:
            return
        policy = self.backend.policy
        facts = self.start.facts
        label = next((c.label for c in self.start.categories if c.id == self.category),
                     self.category)
        self.query_one(DisclosurePreview).show(preview(policy, facts, self.category),
                                               huddle_line(policy, facts, self.category), label)

    def refresh_facts(self) -> None:
        if self.start is not None and self._saved is None:
            self.read_preview_facts()

    @work(thread=True, exclusive=True, group="note-preview", exit_on_error=False)
    def read_preview_facts(self) -> None:
        facts = read_facts(self.backend, self.viewer, self.case_id,
                           moment_on(self.host.today()))
        self.post_message(PreviewFactsRead(facts))

    def on_preview_facts_read(self, message: PreviewFactsRead) -> None:
        if self.start is not None:
            self.start = replace(self.start, facts=message.facts)
            self.show_preview()

    @work(exclusive=True, group="note-ask")
    async def action_pick_template(self) -> None:
        start = self.start
        if start is None:
            return
        choices = [("", "No template")] + [(t.id, t.label) for t in start.templates]
        note = "A template fills in headings and may set the category and a follow-up."
        if start.withheld:
            note += (" In the huddle only templates of categories everyone present may "
                     "read are offered.")
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            "Template", choices, current=self.template_id or "", note=note))
        if chosen is None:
            return
        template = next((t for t in start.templates if t.id == chosen), None)
        old = next((t.body for t in start.templates if t.id == self.template_id), "")
        self.template_id = template.id if template else None
        if template is not None:
            self.category = template.category
            text = self.body.text
            if is_blank(text) or text == old or text == self.baseline:
                self.body.load_body(template.body)
                if start.supersedes is None:
                    self.baseline = template.body  # headings alone are nothing to keep
            else:
                self.body.insert_body(template.body)  # never replaces the author's words
        self.text_changed()
        self.show_settings()

    @work(exclusive=True, group="note-ask")
    async def action_pick_category(self) -> None:
        start = self.start
        if start is None:
            return
        policy = self.backend.policy
        choices = [(c.id, f"{c.label} ({CONFIDENTIALITY.get(c.confidentiality, '')})")
                   for c in start.categories if author_may_read(policy, start.facts, c.id)]
        note = ("The category decides who may see the note: the preview shows it. "
                "Categories you could not read back yourself are not offered.")
        if start.withheld:
            note += " " + start.in_huddle_why_not()
        chosen = await self.app.push_screen_wait(ChoiceScreen(
            "Category", choices, current=self.category, note=note))
        if chosen is not None and chosen != self.category:
            self.category = chosen
            self.text_changed()
            self.show_settings()
