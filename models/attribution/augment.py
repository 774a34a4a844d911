"""Training-data augmentation: appositions inserted inside reported contents.

A reported clause can carry an apposition after its subject ("He added that the group, previously known as
X, has carried out …"). PolNeAR labels "known as" a cue in about half of its occurrences ("the contests known
as Super Tuesday"; benchmarks/polnear_conventions.py), and a tagger trained on it ends such a content before
the apposition and reads "known as" as a new cue. This module inserts appositions after the subject of a
clause inside a gold content, and the content grows to cover them; every other span keeps its words, its
offsets shifted. The labels stay PolNeAR's everywhere else.

Where: a subject (``nsubj``/``nsubjpass``: a proper noun, or a noun with a determiner; from the parse of
``en_core_web_md``) whose verb follows it in the same content fragment, with a space after the subject phrase
and no source or cue boundary there. What: a naming apposition ("previously known as N", "sometimes called
N") or a descriptive one ("a longtime ally of N"), where N is a name spaCy's NER finds in the training texts
themselves. ``models/attribution/README.md``, "Runs 15 and 16", has what it did to the tagger.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import replace

from newstrace.attribution.polnear import GoldAttribution, PolnearArticle

NAMING = (
    "previously known as {}",
    "formerly known as {}",
    "also known as {}",
    "better known as {}",
    "now known as {}",
    "once known as {}",
    "sometimes called {}",
    "formerly called {}",
)
DESCRIPTIVE = (
    "a longtime ally of {}",
    "a group backed by {}",
    "the former adviser to {}",
    "a faction linked to {}",
    "an offshoot of {}",
)
SUBJECTS = ("nsubj", "nsubjpass")
NAMED = ("PERSON", "ORG", "GPE", "NORP")


def names_in(docs: Iterable, min_count: int = 2) -> list[str]:
    """Names of people, organisations and places of two to four words that spaCy's NER finds
    ``min_count`` times in the parsed ``docs``, most frequent first."""
    from collections import Counter

    counts = Counter(
        ent.text
        for doc in docs
        for ent in doc.ents
        if ent.label_ in NAMED and 2 <= len(ent) <= 4 and ent.text[0].isupper() and "\n" not in ent.text
    )
    return [name for name, count in counts.most_common() if count >= min_count]


def insertion_points(article: PolnearArticle, doc) -> list[int]:
    """Character offsets right after a subject phrase inside a gold content whose verb follows in the same
    fragment; none inside or at the edge of a source or cue fragment."""
    contents = sorted({f for a in article.attributions for f in a.content})
    others = [f for a in article.attributions for role in (a.source, a.cue) for f in role]
    text = article.text
    points = []
    for token in doc:
        if token.dep_ not in SUBJECTS or token.head.i <= token.i or token.right_edge.is_punct:
            continue
        # a named subject or a determined noun phrase: "the group", "Russia", not "flying" or "who"
        if not (
            token.pos_ == "PROPN" or (token.pos_ == "NOUN" and any(c.dep_ == "det" for c in token.children))
        ):
            continue
        end = token.right_edge.idx + len(token.right_edge.text)
        if end >= len(text) or text[end] != " " or token.head.idx <= end:
            continue
        if not any(
            s <= token.left_edge.idx and token.head.idx + len(token.head.text) <= e for s, e in contents
        ):
            continue
        if any(s <= end <= e for s, e in others):
            continue
        points.append(end)
    return sorted(set(points))


def _shift(fragments: Sequence[tuple[int, int]], at: int, by: int) -> tuple[tuple[int, int], ...]:
    # a fragment starting at the insertion point (never: the point is a space) moves; one ending there stays
    return tuple((s + by if s >= at else s, e + by if e > at else e) for s, e in fragments)


def insert(article: PolnearArticle, at: int, phrase: str) -> PolnearArticle:
    """``article`` with ``", <phrase>,"`` inserted at ``at``; spans after it shift, spans around it grow."""
    piece = f", {phrase},"
    text = article.text[:at] + piece + article.text[at:]
    attributions = [
        GoldAttribution(*(_shift(a.role(r), at, len(piece)) for r in ("source", "cue", "content")))
        for a in article.attributions
    ]
    return replace(article, text=text, attributions=attributions)


def augment(
    articles: Sequence[PolnearArticle], docs: Sequence, rate: float, names: Sequence[str], seed: int = 13
) -> tuple[list[PolnearArticle], int]:
    """Each article with an apposition inserted at each insertion point kept with probability ``rate``
    (points are taken from the last, so earlier offsets stay valid), and the number inserted. ``docs``
    are the parses of the articles' texts. A changed article's id gains ``+appos<rate>-<seed>``, so caches
    keyed by article id (the parses of train.py --syntax) tell its texts apart."""
    rng = random.Random(seed)
    out, inserted = [], 0
    for article, doc in zip(articles, docs, strict=True):
        chosen = [p for p in insertion_points(article, doc) if rng.random() < rate]
        for at in reversed(chosen):
            templates = NAMING if rng.random() < 0.7 else DESCRIPTIVE
            article = insert(article, at, rng.choice(templates).format(rng.choice(names)))
        if chosen:
            article = replace(article, article_id=f"{article.article_id}+appos{rate}-{seed}")
            inserted += len(chosen)
        out.append(article)
    return out, inserted
