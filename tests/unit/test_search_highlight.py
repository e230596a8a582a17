"""Highlighting folds text as the index does, fast or not: the ASCII shortcut and the
per-character cache give the same spans as folding each character in full."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from anchor_tui.services.search import highlight, search_words, snippet

LETTERS = st.sampled_from(list("abcAÄäöÖßﬁİıΣσς e-_.x1Ǆǅ　ｱ\u0301\u0308\n"))
TEXTS = st.lists(LETTERS, max_size=60).map("".join) | st.text(max_size=60)


def reference(text: str, words: tuple[str, ...], anywhere: bool) -> tuple[tuple[int, int], ...]:
    """Every character folded in full (NFKD, no combining marks, casefold), as before."""
    def folded(value: str) -> tuple[str, list[int]]:
        out, origin = [], []
        for index, char in enumerate(value):
            base = "".join(c for c in unicodedata.normalize("NFKD", char)
                           if not unicodedata.combining(c)).casefold() or char
            out.append(base)
            origin.extend([index] * len(base))
        return "".join(out), origin

    body, origin = folded(text)
    spans = []
    for word in words:
        target = re.escape(folded(word)[0])
        pattern = target if anywhere else rf"(?<![^\W_]){target}[^\W_]*"
        spans += [(origin[f.start()], origin[f.end() - 1] + 1)
                  for f in re.finditer(pattern, body)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


@settings(max_examples=400, deadline=None)
@given(text=TEXTS, query=TEXTS, anywhere=st.booleans())
def test_highlight_matches_the_full_fold(text: str, query: str, anywhere: bool) -> None:
    words = search_words(query)
    assert highlight(text, words, anywhere=anywhere).spans == reference(text, words, anywhere)


@settings(max_examples=200, deadline=None)
@given(text=TEXTS, query=TEXTS)
def test_snippet_spans_mark_matched_words(text: str, query: str) -> None:
    words = search_words(query)
    result = snippet(text, words, width=20)
    assert "\n" not in result.text
    for start, end in result.spans:
        assert 0 <= start < end <= len(result.text)
