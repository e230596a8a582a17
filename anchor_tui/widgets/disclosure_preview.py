"""The disclosure preview under the note: each profession, visible or not, and why.

The verdicts come from ``services.note_preview`` (the policy's own ``decide_for``); this
widget only draws them. Every verdict is a word (yes, no, some, if consent,
if member); colour only
repeats it.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from anchor_tui.services.note_preview import Verdict
from anchor_tui.widgets.plain_text import plain

STYLES = {"yes": "$text-success", "no": "$text-error", "some": "$text-warning",
          "if consent": "$text-warning", "if member": "$text-warning"}


def preview_content(verdicts: tuple[Verdict, ...], huddle: str, category_label: str
                    ) -> Content:
    parts = [Content.assemble(plain(v.label, "bold"), ": ", (v.visible, STYLES[v.visible]),
                              plain(f", {v.why}" if v.why else "")) for v in verdicts]
    head = Content.assemble(("Who will see this ", "dim"), plain(category_label.lower(), "dim"),
                            (" note: ", "dim"))
    return Content("\n").join([Content.assemble(head, Content(" · ").join(parts)),
                               plain(huddle, "dim")])


class DisclosurePreview(Static):
    """Who will see the note being written, recomputed when its category changes."""

    HELP = ("Who will see this note once it is saved, profession by profession, and why: "
            "computed by the disclosure policy in force from the case's members and the "
            "young person's consents. Changing the category (F4) changes it at once.")

    def show(self, verdicts: tuple[Verdict, ...], huddle: str, category_label: str) -> None:
        self.update(preview_content(verdicts, huddle, category_label))
