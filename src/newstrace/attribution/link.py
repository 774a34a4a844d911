"""Linking role spans into attribution relations: which source and which content belong to which cue.

A tagger finds SOURCE, CUE and CONTENT spans; an attribution ties one cue to its source (at most one) and its
content (one or more fragments, for a quote interrupted by "he said"). In news prose the parts of one
attribution sit next to each other, so each source and each content fragment goes to the nearest cue, where
"near" counts the characters between them and charges a sentence boundary or a paragraph break heavily.
Pairs are taken nearest first, one source per cue; a cue left without a source then shares that of the cue
before it in the same sentence. A cue keeps at most one content fragment on each side of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from newstrace.model import Attribution

Span = tuple[int, int]

_SENTENCE_END = re.compile(r"[.!?][”\"’')\]]*\s+(?=[“\"‘'(\[]?[A-Z0-9])")
SENTENCE_COST = 200
PARAGRAPH_COST = 400
MAX_SOURCE_DISTANCE = 300  # a source further than this from every cue is left unlinked
MAX_CONTENT_DISTANCE = 500
_REACH = max(MAX_SOURCE_DISTANCE, MAX_CONTENT_DISTANCE)
# A quotation that ends a sentence or clause: , . ! or ? then a closing double quote mark.
QUOTE_END = re.compile(r"[,.!?][”\"](?=\s|$|[,;:.)])")


def distance(text: str, a: Span, b: Span, beyond: int | None = None) -> int:
    """Characters between two spans, plus a toll for each sentence end and paragraph break in between.

    A gap longer than ``beyond`` characters is returned as its bare length: the tolls only add, so the pair
    is out of reach either way, and skipping the sentence search keeps linking a long article's spans linear.
    """
    if a[1] <= b[0]:
        start, end = a[1], b[0]
    elif b[1] <= a[0]:
        start, end = b[1], a[0]
    else:
        return 0
    if beyond is not None and end - start > beyond:
        return end - start
    gap = text[start:end]
    # A sentence end is only seen with the capital after it, which is the later span's first character: without
    # it, a sentence ending right before that span cost nothing ("…the explosion. Asked to …"). Counting it
    # lifted relation F1 on PolNeAR dev from 48.8 to 49.2 (models/attribution/README.md, "Rules after decoding").
    ends = len(_SENTENCE_END.findall(text[start : end + 1]))
    return len(gap) + SENTENCE_COST * ends + PARAGRAPH_COST * gap.count("\n\n")


def link(
    text: str, sources: Sequence[Span], cues: Sequence[Span], contents: Sequence[Span]
) -> list[Attribution]:
    """Attributions, one per cue, in text order."""
    cues = sorted(cues)
    if not cues:
        return []
    linked_sources: dict[int, Span] = {}
    pairs = sorted(
        (distance(text, source, cue, _REACH), s, c)
        for s, source in enumerate(sources)
        for c, cue in enumerate(cues)
    )
    used_sources: set[int] = set()
    for cost, s, c in pairs:
        if cost > MAX_SOURCE_DISTANCE or s in used_sources or c in linked_sources:
            continue
        linked_sources[c] = sources[s]
        used_sources.add(s)
    # One subject often speaks through several cues of a sentence ("he said, adding that …", "X complained
    # about …, even suggesting …", "Merrill says … and said …"); PolNeAR gives each cue that source, where the
    # pass above links a source once. So a cue left without one shares that of the cue before it in the same
    # sentence. On PolNeAR dev this lifts relation F1 from 49.2 to 51.8 and leaves the span scores as they are
    # (models/attribution/README.md, "Rules after decoding").
    for c in range(1, len(cues)):
        if c not in linked_sources and c - 1 in linked_sources:
            # the gap and the cue's first character: a sentence end needs to see the capital after it
            gap = text[cues[c - 1][1] : cues[c][0] + 1]
            if len(gap) <= MAX_SOURCE_DISTANCE and "\n" not in gap and not _SENTENCE_END.search(gap):
                linked_sources[c] = linked_sources[c - 1]
    linked_contents: dict[int, list[Span]] = {c: [] for c in range(len(cues))}
    for content in contents:
        costs = [(distance(text, content, cue, _REACH), c) for c, cue in enumerate(cues)]
        cost, c = min(costs)
        if cost <= MAX_CONTENT_DISTANCE:
            linked_contents[c].append(content)
    closed = {c: [close_quote(text, span, cue) for span in linked_contents[c]] for c, cue in enumerate(cues)}
    one_per_side(text, cues, closed)
    return [
        Attribution(
            source=(linked_sources[c],) if c in linked_sources else (),
            cue=(cue,),
            content=tuple(sorted(closed[c])),
        )
        for c, cue in enumerate(cues)
    ]


def _side(content: Span, cue: Span) -> int:
    """-1 for a content before its cue, 1 after it, 0 around or inside it."""
    return -1 if content[1] <= cue[0] else 1 if content[0] >= cue[1] else 0


def one_per_side(text: str, cues: Sequence[Span], contents: dict[int, list[Span]]) -> None:
    """Leave each cue at most one content fragment before it and one after it, in place.

    A content in several fragments is a quotation interrupted by its cue ("“…,” he said, “…”"): one part on
    each side. A second fragment on the same side is most often a quotation or clause of another
    attribution that the distance gave to this cue. It goes instead to the nearest other cue within reach
    that has no fragment on that side of it, or, when there is none, is dropped. The fragment nearest the
    cue stays. On PolNeAR dev this lifts relation F1 from 51.8 to 52.7, and content exact F1 does not fall
    (models/attribution/README.md, "Rules after decoding").
    """
    for c, cue in enumerate(cues):
        for side in (-1, 1):
            fragments = sorted(f for f in contents[c] if _side(f, cue) == side)
            if len(fragments) < 2:
                continue
            nearest = fragments[-1] if side < 0 else fragments[0]
            for fragment in fragments:
                if fragment == nearest:
                    continue
                contents[c].remove(fragment)
                free = sorted(
                    (distance(text, fragment, other, _REACH), d)
                    for d, other in enumerate(cues)
                    if d != c and all(_side(g, other) != _side(fragment, other) for g in contents[d])
                )
                if free and free[0][0] <= MAX_CONTENT_DISTANCE:
                    contents[free[0][1]].append(fragment)


def close_quote(text: str, content: Span, cue: Span) -> Span:
    """A content that opens with a quotation mark, before its cue, ends where the quotation does.

    In "“…,” the deputy warden has warned, Colonel Ivo Marsh, said" the words between the
    closing mark and the cue introduce the speaker; a tagger that reads on past the mark takes them into the
    content. Only a content that is itself a quotation is cut: one that merely holds a quoted phrase
    (called it “a disaster,” adding that…) does not open with the mark. On PolNeAR dev this changes two
    contents, both for the better (models/attribution/README.md, "Rules after decoding").
    """
    start, end = content
    if start >= cue[0] or text[start] not in '“"':
        return content
    for mark in QUOTE_END.finditer(text, start, end):
        if mark.end() > cue[0]:
            break
        if text[mark.end() : end].strip():
            return (start, mark.end())
    return content
