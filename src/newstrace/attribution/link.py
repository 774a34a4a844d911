"""Linking role spans into attribution relations: which source and which content belong to which cue.

A tagger finds SOURCE, CUE and CONTENT spans; an attribution ties one cue to its source (at most one) and its
content (one or more fragments, for a quote interrupted by "he said"). In news prose the parts of one
attribution sit next to each other, so each source and each content fragment goes to the nearest cue, where
"near" counts the characters between them and charges a sentence boundary or a paragraph break heavily.
Pairs are taken nearest first, one source per cue; a cue left without a source then shares that of the cue
before it in the same sentence. A cue keeps at most one content fragment on each side of it, and one before it
only when nothing separates the two like a sentence end, a line break or an "and" (an interrupted quotation is
one sentence). A full stop after an abbreviation or an initial ("Mr. Obama", "U.S.") ends no sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from newstrace.model import Attribution

Span = tuple[int, int]

_SENTENCE_END = re.compile(r"[.!?][”\"’')\]]*\s+(?=[“\"‘'(\[]?[A-Z0-9])")
# A full stop after one of these, or after an initial ("Donald J. Trump", "U.S. officials"), ends no sentence.
ABBREVIATIONS = frozenset(
    (  # noqa: SIM905 (a line of words reads better than fifty quoted strings)
        "mr mrs ms dr prof sen sens rep reps gov gen gens lt col sgt capt maj adm cmdr cpl pvt rev hon pres atty "
        "st mt ft jr sr no inc corp ltd co bros dept univ assn vs etc ave blvd rd "
        "jan feb aug sep sept oct nov dec"
    ).split()
)
_WORD_BEFORE = re.compile(r"(\w+)\.$")
SENTENCE_COST = 200
PARAGRAPH_COST = 400
MAX_SOURCE_DISTANCE = 300  # a source further than this from every cue is left unlinked
MAX_CONTENT_DISTANCE = 500
_REACH = max(MAX_SOURCE_DISTANCE, MAX_CONTENT_DISTANCE)
# A quotation that ends a sentence or clause: , . ! or ? then a closing double quote mark.
QUOTE_END = re.compile(r"[,.!?][”\"](?=\s|$|[,;:.)])")


def sentence_breaks(text: str, start: int, end: int) -> Iterator[int]:
    """Where each sentence that ends in ``text[start:end]`` stops: after its full stop, question or
    exclamation mark, any closing quote or bracket, and the space after them. A sentence end is such a mark
    before a capital or a digit, unless the full stop closes an abbreviation or an initial.

    Without the exceptions every "Mr. Obama" and "U.S. officials" counted as a sentence end, so the linker
    kept a source and a content apart that it charged a sentence for ("“…,” Mr. Obama said, “…”")."""
    for m in _SENTENCE_END.finditer(text, start, end):
        if text[m.start()] == ".":
            word = _WORD_BEFORE.search(text, max(0, m.start() - 12), m.start() + 1)
            if word and (len(word.group(1)) == 1 or word.group(1).lower() in ABBREVIATIONS):
                continue
        yield m.end()


def sentence_ends(text: str, start: int, end: int) -> int:
    """How many sentences end in ``text[start:end]`` (:func:`sentence_breaks`)."""
    return sum(1 for _ in sentence_breaks(text, start, end))


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
    ends = sentence_ends(text, start, end + 1)
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
            start, end = cues[c - 1][1], cues[c][0] + 1
            gap = text[start:end]
            if len(gap) <= MAX_SOURCE_DISTANCE and "\n" not in gap and not sentence_ends(text, start, end):
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
                other = _free_cue(text, cues, contents, c, fragment)
                if other is not None:
                    contents[other].append(fragment)
    # An interrupted quotation is one sentence: "“…,” he said, “…”". A fragment before the cue that a line
    # break, a sentence end or an "and"/"but" keeps from it ("… the clashes. Clinton wants to …", "called for
    # calm and said that …") belongs to another cue, when one within reach has no fragment on that side, and
    # otherwise stays. With the abbreviations of sentence_ends(), this lifts relation F1 on PolNeAR dev from 52.7
    # to 53.3 and leaves the spans as they are (models/attribution/README.md, "Rules after decoding").
    for c, cue in enumerate(cues):
        before = sorted(f for f in contents[c] if _side(f, cue) < 0)
        if not before or not any(_side(f, cue) > 0 for f in contents[c]):
            continue
        start, end = before[-1][1], cue[0] + 1
        gap = f" {text[start:end]} "
        if "\n" in gap or " and " in gap or " but " in gap or sentence_ends(text, start, end):
            other = _free_cue(text, cues, contents, c, before[-1])
            if other is not None:
                contents[c].remove(before[-1])
                contents[other].append(before[-1])


def _free_cue(
    text: str, cues: Sequence[Span], contents: dict[int, list[Span]], c: int, fragment: Span
) -> int | None:
    """The cue nearest ``fragment``, within reach, other than cue ``c``, with no fragment on that side of it."""
    free = sorted(
        (distance(text, fragment, other, _REACH), d)
        for d, other in enumerate(cues)
        if d != c and all(_side(g, other) != _side(fragment, other) for g in contents[d])
    )
    return free[0][1] if free and free[0][0] <= MAX_CONTENT_DISTANCE else None


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
