"""Narratives: claims that recur across documents, outlets and years, clustered incrementally.

Claims are taken in date order. Each joins the narrative of its most similar earlier claim in another
document when they are close enough (the same statement, repeated), or else of a close claim of its own
document (a new detail next to a repeated statement); otherwise it starts a narrative. Candidates come from
the fast static embedder; an exact embedder can re-score them. A narrative never loses a claim and never changes id,
so adding documents extends narratives and keeps their ids. See docs/narratives.md for how the thresholds
were chosen.

Per narrative, :func:`chain` orders the claims in time and marks the first statement, then each repeat as
verbatim (a reused passage), paraphrase or new detail; it flags outlet-voice claims that repeat what was first
attributed to a source (dropped attribution) and counts earlier predictions.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from spacy.lang.en.stop_words import STOP_WORDS

from newstrace.link.lexical import TfIdf, cosine, row_cosines
from newstrace.model import Claim

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True, slots=True)
class NarrativeConfig:
    """Similarities are ``(1 - lexical_weight) * embedding cosine + lexical_weight * TF-IDF cosine``."""

    # A claim joins the narrative of its most similar earlier claim (of another document) at this similarity.
    threshold: float = 0.36
    # ... or, below that, the narrative of a claim of its own document at this similarity (a new detail).
    context: float = 0.25
    lexical_weight: float = 0.5
    candidates: int = 20  # nearest earlier claims by embedding considered for each claim
    shortlist: float = 0.4  # embedding cosine below which a claim is never a candidate
    paraphrase: float = 0.45  # a repeat this close to an earlier claim is a paraphrase, not new detail
    min_documents: int = 2  # a cluster is a narrative once it spans this many documents


@dataclass
class NarrativeIndex:
    """The incremental state: every claim already placed, with its document, narrative and unit vector."""

    dim: int
    claim_ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    narratives: list[str] = field(default_factory=list)
    anchors: list[bool] = field(default_factory=list)  # may attract claims of other documents
    vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 0), dtype=np.float32))

    def __post_init__(self) -> None:
        if self.vectors.size == 0:
            self.vectors = np.zeros((0, self.dim), dtype=np.float32)

    def extend(
        self,
        claim_ids: Sequence[str],
        texts: Sequence[str],
        doc_ids: Sequence[str],
        narratives: Sequence[str],
        anchors: Sequence[bool],
        vectors: np.ndarray,
    ) -> None:
        self.claim_ids.extend(claim_ids)
        self.texts.extend(texts)
        self.anchors.extend(anchors)
        self.doc_ids.extend(doc_ids)
        self.narratives.extend(narratives)
        self.vectors = np.vstack([self.vectors, vectors.astype(np.float32)])


def narrative_id(first_claim_id: str) -> str:
    return "n" + hashlib.blake2b(first_claim_id.encode(), digest_size=5).hexdigest()


def claim_order(claim: Claim) -> tuple[date, str, int]:
    """Time order: dated claims first by date, then document and position; undated claims last."""
    return (claim.published or date.max, claim.doc_id, claim.start)


# float32 products of unit vectors are within ~2e-5 of the float64 ones; twice that, with room for rounding.
_SLACK = 1e-4


def nearest(
    queries: np.ndarray, pool: np.ndarray, k: int, floor: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each row of ``queries``: the positions in ``pool`` of its k most similar rows with a cosine of at
    least ``floor``, most similar first, and those cosines.

    Cosines are float64 rounded to 9 decimals, and ties go to the lower pool position, so that the lists do
    not depend on how the products were blocked: the Spark engine computes them block by block and must find
    the same ones (duplicate claims give exact ties). A float32 product of the whole block picks the few pool
    rows that can be among the k (within :data:`_SLACK` of the k-th or the floor); only those are recomputed
    in float64, which is what makes this fast on large pools.
    """
    if len(queries) == 0:
        return []
    if k <= 0 or len(pool) == 0:
        empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
        return [empty for _ in range(len(queries))]
    top = min(k, len(pool))
    pool = np.asarray(pool)
    rough = np.asarray(queries, dtype=np.float32) @ pool.astype(np.float32, copy=False).T
    cut = np.maximum(np.partition(rough, len(pool) - top, axis=1)[:, len(pool) - top], floor) - _SLACK
    found = []
    for query, row, limit in zip(np.asarray(queries, dtype=np.float64), rough, cut, strict=True):
        near = np.flatnonzero(row >= limit)
        # only the candidates go to float64: callers pass the same whole pool block after block
        sims = np.round(np.asarray(pool[near], dtype=np.float64) @ query, 9)
        chosen = top_neighbours(sims, k, floor)
        found.append((near[chosen], sims[chosen]))
    return found


def _shortlists(
    vectors: np.ndarray, pool: np.ndarray, k: int, floor: float, block: int = 512
) -> list[np.ndarray]:
    """For each row of ``vectors``, the indices into ``pool`` of its k most similar rows with a cosine of at
    least ``floor``, most similar first (see :func:`nearest`)."""
    found: list[np.ndarray] = []
    for start in range(0, len(vectors), block):
        found.extend(positions for positions, _ in nearest(vectors[start : start + block], pool, k, floor))
    return found


def top_neighbours(sims: np.ndarray, k: int, floor: float, ids: np.ndarray | None = None) -> np.ndarray:
    """The positions (or ``ids``) of the k largest ``sims`` that reach ``floor``, largest first, ties to the
    lower id (``ids`` defaults to the positions and must be increasing)."""
    if k <= 0 or sims.size == 0:
        return np.empty(0, dtype=np.int64)
    top = min(k, sims.size)
    kth = sims[np.argpartition(-sims, top - 1)[top - 1]]
    chosen = np.flatnonzero(sims >= max(kth, floor))
    chosen = chosen[np.lexsort((chosen, -sims[chosen]))][:top]
    return chosen if ids is None else ids[chosen]


def similarity(
    pool: np.ndarray,
    texts: Sequence[str],
    pairs: Sequence[tuple[int, int]],
    config: NarrativeConfig,
    tfidf: TfIdf | None = None,
) -> dict[tuple[int, int], float]:
    """The mixed embedding and lexical similarity of the given pairs of pool positions; the TF-IDF statistics
    come from ``texts`` unless ``tfidf`` is given. Both cosines are float64; the lexical ones come from
    products of sparse TF-IDF rows."""
    tfidf = tfidf or TfIdf(texts)
    if not pairs:
        return {}
    index = np.asarray(pairs, dtype=np.int64)
    used, rows = np.unique(index, return_inverse=True)
    rows = rows.reshape(index.shape)
    lexical = row_cosines(tfidf.matrix([texts[i] for i in used]), rows[:, 0], rows[:, 1])
    # Embedding cosines a left claim at a time: its candidates are a handful of rows of the pool.
    vectors = np.asarray(pool[used], dtype=np.float64)
    embedding = np.empty(len(index), dtype=np.float64)
    order = np.argsort(rows[:, 0], kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(rows[order, 0]) != 0])
    for first, stop in zip(starts, [*starts[1:], len(order)], strict=True):
        members = order[first:stop]
        embedding[members] = vectors[rows[members, 1]] @ vectors[rows[members[0], 0]]
    w = config.lexical_weight
    return dict(zip(pairs, ((1 - w) * embedding + w * lexical).tolist(), strict=True))


def _statement(claim: Claim) -> bool:
    """Background sentences in the outlet's voice ("About 50,000 militants operate in Idlib") may join a
    narrative but never carry it to other documents: only statements (attributed, or the outlet's own
    predictions and accusations) do."""
    return claim.attributed or claim.modality in ("prediction", "accusation")


def assign(
    claims: Sequence[Claim],
    vectors: np.ndarray,
    index: NarrativeIndex,
    config: NarrativeConfig,
    *,
    shortlists: Sequence[np.ndarray] | None = None,
    tfidf: TfIdf | None = None,
) -> dict[str, str]:
    """Put new claims into narratives, in time order; returns claim_id -> narrative_id.

    ``vectors`` are the claims' unit vectors from the fast embedder. A claim joins the narrative of the most
    similar earlier claim of another document if that similarity reaches ``threshold``; failing that, the
    narrative of the most similar earlier claim of its own document if it reaches ``context`` (a new detail
    in an article that repeats the narrative); otherwise it starts a narrative. Candidates are the nearest
    claims by embedding; :func:`similarity` scores them.

    A caller that has the candidates already (the Spark engine, which finds them block by block over the
    whole corpus) passes them as ``shortlists`` (pool positions: the index's claims, then these), with the
    corpus's ``tfidf``.
    """
    n_old = len(index.claim_ids)
    pool = np.vstack([index.vectors, vectors.astype(np.float32)]) if len(claims) else index.vectors
    if shortlists is None:
        shortlists = _shortlists(vectors, pool, config.candidates + 1, config.shortlist)
    pairs = sorted(
        {(n_old + i, int(j)) for i, found in enumerate(shortlists) for j in found if j != n_old + i}
    )
    scores = similarity(pool, [*index.texts, *(c.text for c in claims)], pairs, config, tfidf)
    doc_of = index.doc_ids + [c.doc_id for c in claims]
    narrative_of: list[str | None] = [*index.narratives, *([None] * len(claims))]
    # Only a narrative's statements (its first claim and claims that repeat one from another document)
    # attract claims of other documents; details that joined through their own document do not, or
    # narratives would chain from one topic to the next.
    anchor = [*index.anchors, *([False] * len(claims))]
    order = sorted(range(len(claims)), key=lambda i: claim_order(claims[i]))
    assigned: dict[str, str] = {}
    # A document's claims are placed together: first those that repeat a claim of another document, then the
    # rest, each joining the closest claim of its own document wherever it stands in the text. A lead that
    # brings a new detail ("two trucks loaded with cylinders…") joins the narrative its article repeats further
    # down.
    for _, group in itertools.groupby(order, key=lambda i: claims[i].doc_id):
        members = list(group)
        pending = []
        for i in members:
            me = n_old + i
            best = (config.threshold, None)
            for j in shortlists[i]:
                j = int(j)
                if narrative_of[j] is None or doc_of[j] == doc_of[me] or not anchor[j]:
                    continue  # only claims of other documents placed before this one
                score = scores.get((me, j), 0.0)
                if score >= best[0]:
                    best = (score, j)
            if best[1] is None:
                pending.append(i)
                continue
            narrative_of[me] = narrative_of[best[1]]
            anchor[me] = _statement(claims[i])
        for i in pending:
            me = n_old + i
            best = (config.context, None)
            for j in shortlists[i]:
                j = int(j)
                if j == me or narrative_of[j] is None or doc_of[j] != doc_of[me]:
                    continue
                score = scores.get((me, j), 0.0)
                if score >= best[0]:
                    best = (score, j)
            if best[1] is not None:
                narrative_of[me] = narrative_of[best[1]]
            else:
                narrative_of[me], anchor[me] = narrative_id(claims[i].claim_id), _statement(claims[i])
    _join_later_repeats(claims, n_old, scores, doc_of, narrative_of, anchor, config.threshold)
    for i, claim in enumerate(claims):
        assigned[claim.claim_id] = narrative_of[n_old + i]  # type: ignore[assignment]
    index.extend(
        [c.claim_id for c in claims],
        [c.text for c in claims],
        [c.doc_id for c in claims],
        [assigned[c.claim_id] for c in claims],
        anchor[n_old:],
        vectors,
    )
    return assigned


# A statement moved by :func:`_join_later_repeats`, and the repeat it moves to, read as statements: a fragment
# an attribution cut short ("the builders and engineers") matches too loosely.
REPEAT_MIN_WORDS = 8


def _join_later_repeats(
    claims: Sequence[Claim],
    n_old: int,
    scores: dict[tuple[int, int], float],
    doc_of: Sequence[str],
    narrative_of: list[str | None],
    anchor: Sequence[bool],
    threshold: float,
) -> None:
    """Move a statement left in a narrative of its own document to the narrative of its repeat in another
    document, when each is the other's closest statement there; in place.

    Claims are placed in time order, and only a narrative's anchors attract claims of other documents. When
    two statements repeat each other but the second is placed when the first has joined a narrative of its
    own article as a detail (an undated article goes last), neither can join the other. Requiring the two to
    be each other's closest repeat, and both of at least :data:`REPEAT_MIN_WORDS` words, keeps fragments
    ("using chemical weapons") from pulling statements across; moving only the statement, not its narrative,
    keeps narratives from chaining through it. Stored claims stay where they are, and count as statements
    when they are anchors (what the store keeps of them).
    """
    statement = [
        *anchor[:n_old],
        *(_statement(c) and len(c.text.split()) >= REPEAT_MIN_WORDS for c in claims),
    ]
    closest: dict[int, tuple[float, int]] = {}  # position -> (score, position of its closest repeat)
    for (me, other), score in scores.items():
        if score < threshold or doc_of[me] == doc_of[other] or not (statement[me] and statement[other]):
            continue
        for a, b in ((me, other), (other, me)):
            known = closest.get(a)
            if known is None or score > known[0] or (score == known[0] and b < known[1]):
                closest[a] = (score, b)
    documents: dict[str | None, set[str]] = defaultdict(set)
    for position, narrative in enumerate(narrative_of):
        documents[narrative].add(doc_of[position])
    moves = [
        (a, narrative_of[b])
        for a, (_, b) in closest.items()
        if a >= n_old
        and closest[b][1] == a
        and len(documents[narrative_of[a]]) == 1
        and len(documents[narrative_of[b]]) > 1
    ]
    for position, narrative in sorted(moves):
        narrative_of[position] = narrative


_TERM = re.compile(r"\b(?:\d[\d,.]*|[A-Za-z][\w’'-]{3,})\b")
# Number words are details ("eight chlorine tanks"), though spaCy lists them as stop words.
_NUMBERS = frozenset(
    [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "fifteen",
        "twenty",
        "forty",
        "fifty",
        "sixty",
        "hundred",
    ]
)
_COMMON = (STOP_WORDS - _NUMBERS) | {"said", "says", "according", "told", "reported"}


def _terms(text: str) -> set[str]:
    return {t.lower() for t in _TERM.findall(text) if t.lower() not in _COMMON}


@dataclass(frozen=True, slots=True)
class ChainEntry:
    claim_id: str
    position: int  # 0 for the first statement
    role: str  # first, verbatim, paraphrase, new_detail
    similarity: float  # mixed similarity to the closest earlier claim (1.0 for the first)
    repeats: str | None  # the earlier claim it repeats most closely
    new_terms: tuple[str, ...]
    attribution_dropped: bool
    earlier_predictions: int


def chain(
    claims: Sequence[Claim],
    vectors: np.ndarray,
    reused: Callable[[Claim, Claim], bool],
    config: NarrativeConfig,
    tfidf: TfIdf,
) -> list[ChainEntry]:
    """The provenance chain of one narrative's claims (with their unit vectors).

    ``reused(earlier, later)`` says whether a reused passage links the two claims' spans; ``tfidf`` holds the
    corpus's claim statistics for the lexical half of the similarity.
    """
    order = sorted(range(len(claims)), key=lambda i: claim_order(claims[i]))
    lexical = [tfidf.vector(c.text) for c in claims]
    w = config.lexical_weight
    entries: list[ChainEntry] = []
    seen_terms: set[str] = set()
    attributed_before = False
    predictions_before = 0
    for position, i in enumerate(order):
        claim = claims[i]
        terms = _terms(claim.text)
        if position == 0:
            role, similarity, repeats = "first", 1.0, None
        else:
            earlier = order[:position]
            near = np.asarray(earlier)[np.argsort(-(vectors[earlier] @ vectors[i]))[:5]]
            mixed = [
                (1 - w) * float(vectors[j] @ vectors[i]) + w * cosine(lexical[j], lexical[i]) for j in near
            ]
            closest = int(np.argmax(mixed))
            similarity, repeats = mixed[closest], claims[int(near[closest])].claim_id
            verbatim = next((j for j in earlier if reused(claims[j], claim)), None)
            if verbatim is not None:
                role, repeats = "verbatim", claims[verbatim].claim_id
            elif similarity >= config.paraphrase:
                role = "paraphrase"
            else:
                role = "new_detail"
        dropped = (
            not claim.attributed
            and attributed_before
            and (role in ("verbatim", "paraphrase") or claim.modality in ("prediction", "accusation"))
        )
        new_terms = tuple(sorted(terms - seen_terms))[:8] if role == "new_detail" else ()
        entries.append(
            ChainEntry(
                claim.claim_id,
                position,
                role,
                round(similarity, 4),
                repeats,
                new_terms,
                dropped,
                predictions_before if claim.modality == "prediction" else 0,
            )
        )
        seen_terms |= terms
        attributed_before = attributed_before or claim.attributed
        predictions_before += claim.modality == "prediction"
    return entries
