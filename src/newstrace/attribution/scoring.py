"""Span-level scores for attribution extraction (source, cue, content), as CofeNet and Citron report them.

Everything here is pure Python and works on character offsets, so any extractor can be scored: a document
is its text, the predicted spans and the gold spans, each span a ``(role, start, end)`` triple
(:class:`RoleSpan`; plain tuples work too). :func:`attribution_spans` turns attributions (PolNeAR's
:class:`~newstrace.attribution.polnear.GoldAttribution`, or anything with ``.source``, ``.cue`` and ``.content``
fragment tuples) into that form.

**Tokens.** Texts are tokenised with :data:`TOKEN` = ``\\w+|[^\\w\\s]``: runs of word characters, and
every other non-space character on its own (``“``, ``,``, ``—``, the apostrophe of ``’s``). Every non-space
character is in exactly one token. Apostrophes split words on purpose: PolNeAR annotates "He’s claiming"
as source ``He`` and cue ``’s claiming``, "Trump’s latest effort" with source ``Trump``, and a tokenizer
keeping ``He’s`` whole would snap both spans to the same token.

**Snapping.** Every span, gold and predicted alike, is snapped to the tokens it overlaps: it becomes the
token range from the first to the last token sharing a character with it. A span that overlaps no token
(whitespace only, or empty) is dropped. Two spans are "the same" when their snapped token ranges are.

**Discontinuous spans.** Each fragment of a discontinuous span (brat ``s e;s e``) is scored as a span of
its own, which is what a BIO tagger produces. Fragments of one role of one attribution that have no token
between them (brat splits a span at a line break, and a few annotations split at a space) are first merged
into one span, since a tagger would see one run of tokens.

**Duplicates.** Within a document, the spans of one role are a set: the same snapped span given twice (a
source shared by two attributions, "Trump said ... and tweeted ...") is counted once, for gold and
predictions alike, because one labelling of the tokens cannot say it twice.

**Metrics** (per role, micro-summed over documents):

* ``exact``: a predicted span is correct when a gold span of the same role has the same first and last
  token. Precision = correct / predicted spans, recall = correct / gold spans.
* ``begin``: the same with only the first token required to match. Matching is one-to-one: a gold span
  is matched at most once and so is a prediction (when several gold spans of a role share a first token,
  at most that many predictions starting there are correct).
* ``overlap``: per-span token overlap. Precision = mean over predicted spans of the share of the
  prediction's tokens that lie in some gold span of the same role; recall = mean over gold spans of the
  share of its tokens covered by some prediction of the same role; F1 = their harmonic mean. Token sets are
  per document, so overlapping spans do not count a token twice. (EVALUATION.md calls this "Citron's
  definition"; Citron's code, bbc/citron ``citron/metrics.py``, actually pools tokens, which is ``tokens``
  below, and passes its "all quote spans" overlap lengths in swapped order, so its P and R are swapped
  there. Neither quirk is copied.)
* ``tokens``: pooled token overlap, Citron's ``get_overlap_scores``: precision = tokens of the role
  predicted and gold / tokens predicted, recall = the same / tokens gold, summed over documents. It
  weights long spans (contents) by their length where ``overlap`` weights every span equally.

**Relations** (:func:`score_relations`): a predicted attribution is correct when a gold one has the same
snapped cue, the same snapped source and the same snapped content (fragment by fragment, after merging
as above; a role absent from both also matches). Matching is one-to-one. Attributions with no token in any
role (PolNeAR dev has one stray ``E`` line with only its trigger) are dropped and counted.

When nothing is predicted and nothing is gold, precision, recall and F1 are 1.0 (perfect agreement on
nothing); when only one side is empty, its undefined ratio is 0.0.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

ROLES = ("source", "cue", "content")
SPAN_METRICS = ("exact", "begin", "overlap", "tokens")
TOKEN = re.compile(r"\w+|[^\w\s]")

Fragments = tuple[tuple[int, int], ...]
TokenRange = tuple[int, int]
"""A snapped span as (first token, one past the last token)."""


class RoleSpan(NamedTuple):
    """One span of a document in character offsets: its role (``source``, ``cue``, ``content``), start, end."""

    role: str
    start: int
    end: int


class AttributionLike(Protocol):
    """What an extractor returns per attribution (``GoldAttribution`` is one): fragment tuples per role."""

    @property
    def source(self) -> Fragments: ...
    @property
    def cue(self) -> Fragments: ...
    @property
    def content(self) -> Fragments: ...


# -- tokens ----------------------------------------------------------------------------------------------


class Tokens:
    """The tokens of one text (see :data:`TOKEN`) and the snapping of character spans to them."""

    __slots__ = ("ends", "starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts: list[int] = []
        self.ends: list[int] = []
        for match in TOKEN.finditer(text):
            self.starts.append(match.start())
            self.ends.append(match.end())

    def __len__(self) -> int:
        return len(self.starts)

    def snap(self, start: int, end: int) -> TokenRange | None:
        """The tokens ``[start, end)`` overlaps as (first, one past last); None when it overlaps none
        (whitespace only, or an empty or reversed range)."""
        if end <= start:
            return None
        first = bisect_right(self.ends, start)  # first token ending after start
        stop = bisect_left(self.starts, end)  # tokens starting before end
        return (first, stop) if first < stop else None

    def chars(self, span: TokenRange) -> tuple[int, int]:
        """The character offsets of a token range (start of its first token, end of its last)."""
        return self.starts[span[0]], self.ends[span[1] - 1]


def snap_fragments(fragments: Iterable[tuple[int, int]], tokens: Tokens) -> tuple[TokenRange, ...]:
    """Snap fragments to tokens, drop empty ones and merge those with no token between them."""
    snapped = sorted(s for s in (tokens.snap(start, end) for start, end in fragments) if s is not None)
    merged: list[TokenRange] = []
    for first, stop in snapped:
        if merged and first <= merged[-1][1]:  # touching or overlapping: one run of tokens
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((first, stop))
    return tuple(merged)


# -- counts ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class PRF:
    """Precision, recall and F1 from summed counts.

    Precision = ``hit_predicted / predicted`` and recall = ``hit_gold / gold``. For ``exact``, ``begin``
    and relations both hits are the number of matches; for ``overlap`` they are sums of per-span shares;
    for ``tokens`` the three counts are tokens.
    """

    hit_predicted: float = 0.0
    predicted: int = 0
    hit_gold: float = 0.0
    gold: int = 0

    def __iadd__(self, other: PRF) -> PRF:
        self.hit_predicted += other.hit_predicted
        self.predicted += other.predicted
        self.hit_gold += other.hit_gold
        self.gold += other.gold
        return self

    @property
    def precision(self) -> float:
        if self.predicted:
            return self.hit_predicted / self.predicted
        return 1.0 if not self.gold else 0.0

    @property
    def recall(self) -> float:
        if self.gold:
            return self.hit_gold / self.gold
        return 1.0 if not self.predicted else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _matches(predicted: Iterable[object], gold: Iterable[object]) -> int:
    """One-to-one matches between two multisets of keys (equal keys match)."""
    pred, ref = Counter(predicted), Counter(gold)
    return sum(min(n, ref[key]) for key, n in pred.items())


def _covered(spans: Iterable[TokenRange]) -> set[int]:
    return {i for first, stop in spans for i in range(first, stop)}


def score_span_sets(predicted: set[TokenRange], gold: set[TokenRange]) -> dict[str, PRF]:
    """The four span metrics of one role in one document, from snapped token ranges."""
    exact = _matches(predicted, gold)
    begin = _matches((first for first, _ in predicted), (first for first, _ in gold))
    pred_tokens, gold_tokens = _covered(predicted), _covered(gold)
    overlap = PRF(
        hit_predicted=sum(len(_covered([s]) & gold_tokens) / (s[1] - s[0]) for s in predicted),
        predicted=len(predicted),
        hit_gold=sum(len(_covered([s]) & pred_tokens) / (s[1] - s[0]) for s in gold),
        gold=len(gold),
    )
    both = len(pred_tokens & gold_tokens)
    return {
        "exact": PRF(exact, len(predicted), exact, len(gold)),
        "begin": PRF(begin, len(predicted), begin, len(gold)),
        "overlap": overlap,
        "tokens": PRF(both, len(pred_tokens), both, len(gold_tokens)),
    }


def _empty_scores() -> dict[str, dict[str, PRF]]:
    return {role: {metric: PRF() for metric in SPAN_METRICS} for role in ROLES}


def _role_sets(spans: Iterable[tuple[str, int, int]], tokens: Tokens) -> dict[str, set[TokenRange]]:
    sets: dict[str, set[TokenRange]] = {role: set() for role in ROLES}
    for role, start, end in spans:
        if role not in sets:
            raise ValueError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
        snapped = tokens.snap(start, end)
        if snapped is not None:
            sets[role].add(snapped)
    return sets


def _add_span_scores(
    scores: dict[str, dict[str, PRF]],
    tokens: Tokens,
    predicted: Iterable[tuple[str, int, int]],
    gold: Iterable[tuple[str, int, int]],
) -> None:
    pred_sets, gold_sets = _role_sets(predicted, tokens), _role_sets(gold, tokens)
    for role in ROLES:
        for metric, prf in score_span_sets(pred_sets[role], gold_sets[role]).items():
            scores[role][metric] += prf


def score_documents(
    pairs: Iterable[tuple[str, Sequence[tuple[str, int, int]], Sequence[tuple[str, int, int]]]],
) -> dict[str, dict[str, PRF]]:
    """Span scores per role and metric, micro-summed over documents.

    ``pairs`` yields ``(text, predicted spans, gold spans)`` per document, spans as ``(role, start, end)``
    character offsets. Returns ``{role: {"exact"|"begin"|"overlap"|"tokens": PRF}}``.
    """
    scores = _empty_scores()
    for text, predicted, gold in pairs:
        _add_span_scores(scores, Tokens(text), predicted, gold)
    return scores


def attribution_spans(attributions: Iterable[AttributionLike], text: str | Tokens) -> list[RoleSpan]:
    """The role spans of some attributions, in character offsets snapped to tokens, ready to score.

    Fragments of one role of one attribution with no token between them are merged (see the module
    docstring); the same span in several attributions is listed each time (scoring counts it once).
    """
    tokens = text if isinstance(text, Tokens) else Tokens(text)
    spans = []
    for attribution in attributions:
        for role in ROLES:
            for snapped in snap_fragments(getattr(attribution, role), tokens):
                spans.append(RoleSpan(role, *tokens.chars(snapped)))
    return spans


RelationKey = tuple[tuple[TokenRange, ...], tuple[TokenRange, ...], tuple[TokenRange, ...]]


def relation_key(attribution: AttributionLike, tokens: Tokens) -> RelationKey | None:
    """An attribution as its snapped, merged (source, cue, content) fragments; None when all are empty."""
    key = tuple(snap_fragments(getattr(attribution, role), tokens) for role in ROLES)
    return key if any(key) else None  # type: ignore[return-value]


@dataclass(slots=True)
class RelationScore:
    """Whole-attribution scores, and how many attributions were dropped for having no token at all."""

    prf: PRF = field(default_factory=PRF)
    empty_predicted: int = 0
    empty_gold: int = 0


def _add_relations(
    score: RelationScore,
    tokens: Tokens,
    predicted: Iterable[AttributionLike],
    gold: Iterable[AttributionLike],
) -> None:
    pred_keys = [relation_key(a, tokens) for a in predicted]
    gold_keys = [relation_key(a, tokens) for a in gold]
    score.empty_predicted += pred_keys.count(None)
    score.empty_gold += gold_keys.count(None)
    pred = [k for k in pred_keys if k is not None]
    ref = [k for k in gold_keys if k is not None]
    correct = _matches(pred, ref)
    score.prf += PRF(correct, len(pred), correct, len(ref))


def score_relations(
    triples: Iterable[tuple[str, Sequence[AttributionLike], Sequence[AttributionLike]]],
) -> RelationScore:
    """Whole attributions, one-to-one: correct when cue, source and content all match exactly (or are absent
    from both). ``triples`` yields ``(text, predicted attributions, gold attributions)`` per document."""
    score = RelationScore()
    for text, predicted, gold in triples:
        _add_relations(score, Tokens(text), predicted, gold)
    return score


# -- both at once ----------------------------------------------------------------------------------------


@dataclass(slots=True)
class Evaluation:
    """Span and relation scores of a corpus, with the counts a report needs."""

    spans: dict[str, dict[str, PRF]] = field(default_factory=_empty_scores)
    relations: RelationScore = field(default_factory=RelationScore)
    documents: int = 0
    words: int = 0  # ``\w+`` runs in the texts
    gold_attributions: int = 0
    predicted_attributions: int = 0
    gold_fragments: int = 0  # gold role fragments as given (before snapping, merging, de-duplication)
    merged_fragments: int = 0  # gold fragments merged into the one before (no token between)
    duplicate_gold_spans: int = 0  # gold spans already given by another attribution of the document
    duplicate_predicted_spans: int = 0
    gold_boundaries_inside_tokens: int = 0  # gold fragment starts/ends inside a token (snapping widened)
    gold_boundaries_trimmed: int = 0  # gold fragment starts/ends on whitespace (snapping narrowed)


def _duplicates(spans: Sequence[RoleSpan]) -> int:
    return len(spans) - len(set(spans))


WORD = re.compile(r"\w+")


def evaluate(
    documents: Iterable[tuple[str, Sequence[AttributionLike], Sequence[AttributionLike]]],
) -> Evaluation:
    """Score predicted attributions against gold ones: ``(text, predicted, gold)`` per document."""
    result = Evaluation()
    for text, predicted, gold in documents:
        tokens = Tokens(text)
        result.documents += 1
        result.words += sum(1 for _ in WORD.finditer(text))
        result.gold_attributions += len(gold)
        result.predicted_attributions += len(predicted)
        for attribution in gold:
            for role in ROLES:
                fragments = getattr(attribution, role)
                result.gold_fragments += len(fragments)
                snapped = [tokens.snap(s, e) for s, e in fragments]
                kept = [s for s in snapped if s is not None]
                result.merged_fragments += len(kept) - len(snap_fragments(fragments, tokens))
                for (start, end), span in zip(fragments, snapped, strict=True):
                    if span is not None:
                        first, last = tokens.chars(span)
                        result.gold_boundaries_inside_tokens += (first < start) + (last > end)
                        result.gold_boundaries_trimmed += (first > start) + (last < end)
        gold_spans = attribution_spans(gold, tokens)
        pred_spans = attribution_spans(predicted, tokens)
        result.duplicate_gold_spans += _duplicates(gold_spans)
        result.duplicate_predicted_spans += _duplicates(pred_spans)
        _add_span_scores(result.spans, tokens, pred_spans, gold_spans)
        _add_relations(result.relations, tokens, predicted, gold)
    return result
