"""Search results on screen: matched words highlighted, the text itself never markup.

The text is cut at the matched spans and each piece goes through ``plain`` on its own
(so a control character or a ``[@click=...]`` in a note stays inert characters, and
escaping one piece cannot shift another's highlight). Highlighted words are bold and
underlined, not only coloured.
"""

from __future__ import annotations

from textual.content import Content

from anchor_tui.services.search import CaseHit, Highlighted, NoteHit, SearchResults
from anchor_tui.widgets.plain_text import plain

MATCH_STYLE = "bold underline $text-accent"


def highlighted(value: Highlighted, style: str = "") -> Content:
    pieces: list[Content] = []
    at = 0
    text = value.text
    for start, end in value.spans:
        if start > at:
            pieces.append(plain(text[at:start], style, after=text[:at]))
        pieces.append(plain(text[start:end], f"{style} {MATCH_STYLE}".strip(),
                            after=text[:start]))
        at = end
    if at < len(text):
        pieces.append(plain(text[at:], style, after=text[:at]))
    return Content.assemble(*pieces)


def case_hit_content(hit: CaseHit) -> Content:
    first = Content.assemble(("Case ", "bold"), (str(hit.case_id), "bold"), "  ",
                             plain(hit.person_label, "bold"), "  ·  ", plain(hit.stage),
                             "  ·  ", plain(hit.category))
    return Content("\n").join([first, Content.assemble("  ", highlighted(hit.matched))])


def note_hit_content(hit: NoteHit) -> Content:
    written = hit.created_at.astimezone().strftime("%Y-%m-%d")
    first = Content.assemble(("Note", "bold"), f"  {written}  case {hit.case_id}  ",
                             plain(hit.person_label, "bold"), "  ·  ", plain(hit.category),
                             "  ·  ", plain(hit.author))
    return Content("\n").join([first, Content.assemble("  ", highlighted(hit.snippet))])


def count_label(count: int, more: bool, noun: str) -> str:
    if more:
        return f"more than {count - 1} {noun}s"
    return f"{count} {noun}" + ("" if count == 1 else "s")


def status_line(results: SearchResults) -> str:
    if not results.words:
        return "Type words to search the cases and notes you may see."
    cases = count_label(results.case_count, results.more_cases, "case")
    notes = count_label(results.note_count, results.more_notes, "note")
    shown = ""
    if results.note_count > len(results.notes):
        shown = f" (newest {len(results.notes)} listed)"
    return f"Found {cases} and {notes}{shown}."


