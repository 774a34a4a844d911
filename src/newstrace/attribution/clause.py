"""Reported clauses cut before their verb, completed from the parse.

The tagger sometimes ends the content of indirect speech at the subject of the reported clause, where an
apposition, a relative clause or a parenthesis interrupts it:

    He added that [the Takfiri terrorist group], previously known as Jabhat al-Nusra, has carried out …
    … alleged that [the FBI], along with state and local police, lied about …

PolNeAR's annotators cut such a content around the interruption into two fragments in some articles and
keep it whole in others, so the tagger learned to stop at the interruption, and it often misses the part
after it. A content that opens with the complementiser "that" and holds no verb is a clause cut short: "that"
introduces a clause with a finite verb. When the parse of spaCy's English pipeline finds that verb after the
content, with the clause's subject inside the content, and no content of any attribution holds the verb
already (the tagger found the rest as a fragment of its own), the content runs on to the end of the verb's
subtree: the end of the reported clause, where the hand-labelling guidelines end indirect speech
(benchmarks/data/ATTRIBUTION_SAMPLE.md).

The rule changes no content on PolNeAR dev; on the articles of other corpora where it fires, it is measured
by ``benchmarks/clause_eval.py`` against hand-labelled ends (models/attribution/README.md, "Reported
clauses cut before their verb").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from newstrace.attribution.link import sentence_breaks
from newstrace.model import Attribution

Span = tuple[int, int]

_THAT = re.compile(r"that\b", re.IGNORECASE)
_WORDS = re.compile(r"\w+")
# A subject cut from its verb is a noun phrase; a longer verbless content is not worth a parse.
MAX_WORDS = 20
_SUBJECTS = frozenset({"nsubj", "nsubjpass", "expl", "csubj", "csubjpass"})
# Finite forms (and the base form of a subjunctive, "that the plan be abandoned"): a verb of a "that" clause.
_FINITE = frozenset({"VBD", "VBZ", "VBP", "MD", "VB"})
_TRAILING = " \t\n,;:."
_LOOK_BACK = 2000  # characters searched for the start of a content's sentence
# The end of a quotation the clause opened: the guidelines keep a closing mark that ends the clause.
_QUOTE_CLOSE = re.compile(r"[.,!?]?[”\"]")


def _sentence(text: str, start: int, end: int) -> Span:
    """The sentence (or sentences) around ``text[start:end]``, within its line: what is parsed for a content.
    A reported clause ends in its sentence, and a scraped article is often one line long."""
    first = text.rfind("\n", 0, start) + 1
    last = text.find("\n", end)
    last = len(text) if last == -1 else last
    first = max([first, *sentence_breaks(text, max(first, start - _LOOK_BACK), start)])
    return first, next(sentence_breaks(text, end, last), last)


def candidates(text: str, attributions: Sequence[Attribution]) -> list[tuple[int, int]]:
    """(attribution index, fragment index) of each content that may be a "that" clause cut short: it opens
    with "that" right after a cue of its attribution and is short enough to be a subject alone."""
    found = []
    for k, attribution in enumerate(attributions):
        for f, (start, end) in enumerate(attribution.content):
            after_cue = any(
                cue_end <= start and not text[cue_end:start].strip() for _, cue_end in attribution.cue
            )
            if not after_cue or not _THAT.match(text, start, end):
                continue
            if len(_WORDS.findall(text, start, end)) <= MAX_WORDS:
                found.append((k, f))
    return found


def clause_end(doc: Any, offset: int, start: int, end: int) -> Span | None:
    """Where the verb of the clause a content ``text[start:end]`` opens begins, and where the clause ends,
    from the parse ``doc`` of the text that begins at ``offset``; None unless the content is a "that"
    clause cut before its verb."""
    inside = [token for token in doc if start <= offset + token.idx < end]
    if not inside or inside[0].lower_ != "that" or inside[0].dep_ != "mark":
        return None
    if any(token.pos_ in ("VERB", "AUX") for token in inside):
        return None
    verb = inside[0].head
    if verb.pos_ not in ("VERB", "AUX") or offset + verb.idx < end:
        return None
    subjects = [child for child in verb.children if child.dep_ in _SUBJECTS]
    if not subjects or not all(start <= offset + child.idx < end for child in subjects):
        return None
    if not any(
        token.tag_ in _FINITE and (token is verb or token.dep_ in ("aux", "auxpass"))
        for token in (verb, *verb.children)
    ):
        return None
    stop = offset + max(token.idx + len(token) for token in verb.subtree)
    parsed = doc.text
    while stop > end and parsed[stop - offset - 1] in _TRAILING:
        stop -= 1
    quoted = parsed[start - offset : stop - offset]
    if quoted.count("“") > quoted.count("”") or quoted.count('"') % 2:
        close = _QUOTE_CLOSE.match(parsed, stop - offset)
        if close:
            stop = offset + close.end()
    return (offset + verb.idx, stop) if stop > end else None


def complete_clauses(
    text: str, attributions: Sequence[Attribution], parser: Callable[[], Any] | None = None
) -> list[Attribution]:
    """``attributions`` with each "that" clause cut before its verb run on to the end of the clause.

    ``parser`` returns a spaCy pipeline with a dependency parser (default: the English pipeline,
    :func:`newstrace.attribution.syntax.default_parser`); it is loaded only when some content may be cut
    short. Without it the attributions are returned as they are, with a warning.
    """
    found = list(attributions)
    todo = candidates(text, found)
    if not todo:
        return found
    try:
        nlp = (parser or _default_parser)()
    except RuntimeError as exc:
        warnings.warn(f"reported clauses are not completed: {exc}", stacklevel=2)
        return found
    sentence_of = {(k, f): _sentence(text, *found[k].content[f]) for k, f in todo}
    sentences = sorted(set(sentence_of.values()))
    docs = dict(zip(sentences, nlp.pipe(text[a:b] for a, b in sentences), strict=True))
    taken = [span for attribution in found for span in attribution.content]
    for k, f in todo:
        attribution = found[k]
        start, end = attribution.content[f]
        sentence = sentence_of[(k, f)]
        clause = clause_end(docs[sentence], sentence[0], start, end)
        if clause is None:
            continue
        verb, stop = clause
        # The verb already in a content: the tagger cut the clause around the interruption itself.
        if any(a <= verb < b for a, b in taken):
            continue
        if any(a < stop and end < b for a, b in (*attribution.source, *attribution.cue)):
            continue
        content = list(attribution.content)
        content[f] = (start, stop)
        found[k] = replace(attribution, content=tuple(content))
    return found


def _default_parser() -> Any:
    from newstrace.attribution.syntax import default_parser

    return default_parser()
