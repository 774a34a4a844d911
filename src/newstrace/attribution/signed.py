"""Signed quotations: a paragraph that is a quotation, then a dash and the speaker's name.

    “I bought my first book here when I was nine.” ― Maren Holloway

Vox pops, testimonials and epigraphs print a quotation this way, one per line, with the name after it. The
tagger, trained on running prose, rarely tags a bare dash as a cue (PolNeAR train has no such line), so
these are found by pattern: the quotation is the content, the dash the cue, the name the source. A line
qualifies only when it opens with a double quotation mark (“ ” or ", since scraped text sometimes opens with
the closing one), the quotation closes before the dash, and nothing but the name (and a full stop)
follows it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from newstrace.model import Attribution, overlaps

_SPACE = r"[ \t\xa0]*"
# One to six capitalised words, with the particles of names between them ("Nell Carden Grey", "Edwin G. Monroy").
_NAME = r"[A-Z][\w'’.-]*(?:[ \t\xa0]+(?:[A-Z][\w'’.-]*|de|da|van|von|al|el|bin|ibn)){0,5}"
SIGNED = re.compile(
    rf"(?m)^{_SPACE}(?P<content>[“”\"][^\n]*?[”\"]){_SPACE}(?P<cue>[―—–]|--){_SPACE}(?P<source>{_NAME}){_SPACE}\.?{_SPACE}$"
)


def signed_quotations(text: str) -> list[Attribution]:
    """Every signed quotation of a text, as an attribution (source, cue and content one span each)."""
    found = []
    for m in SIGNED.finditer(text):
        start, end = m.span("source")
        if text[end - 1] == "." and len(text[start:end].split()[-1]) > 2:
            end -= 1  # the line's full stop, not an initial ("Edwin G.")
        found.append(Attribution(source=((start, end),), cue=(m.span("cue"),), content=(m.span("content"),)))
    return found


def with_signed_quotations(text: str, found: Sequence[Attribution]) -> list[Attribution]:
    """``found`` plus the signed quotations whose dash no attribution in it already has as its cue, in the
    order of their cues. A signed quotation belongs to its signer: a content fragment of another attribution
    that overlaps it is dropped (the linker gives a quotation with no cue of its own to the nearest cue)."""
    cues = [span for attribution in found for span in attribution.cue]
    added = [a for a in signed_quotations(text) if not overlaps(*a.cue[0], cues)]
    if not added:
        return list(found)
    quoted = [a.content[0] for a in added]
    kept = [
        replace(
            a,
            content=tuple(span for span in a.content if not overlaps(*span, quoted)),
        )
        for a in found
    ]
    return sorted([*kept, *added], key=lambda a: a.cue[0])  # the linker gives every attribution its cue
