"""Alignment of two documents into reused passages, anchored on shared word n-grams.

Matching n-grams are chained along a diagonal that may drift a little (an inserted or dropped word) and may
skip a few tokens (a changed word breaks ``n`` n-grams); each chain, extended over equal neighbouring words, is
one passage. Its score is the edit-based similarity of the two token sequences (1.0 for a verbatim copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import Indel

from newstrace.link.shingles import Tokens

# An n-gram repeated more often than this inside one document (a list, a chant) anchors nothing.
_MAX_REPEATS = 8
# Punctuation a passage may take in at its edges when both texts have it.
_CLOSING = frozenset(".,;:!?)]}\"'’”»")
_OPENING = frozenset("([{\"'‘“«")
_EDGE_CHARS = 3


@dataclass(frozen=True, slots=True)
class AlignConfig:
    ngram: int = 5
    gap: int = 12  # tokens allowed between consecutive anchors of one passage
    drift: int = 6  # tokens the diagonal may shift between consecutive anchors (inserted or dropped words)
    min_words: int = 8  # a passage spans at least this many tokens on each side


@dataclass(frozen=True, slots=True)
class Passage:
    """A reused passage: ``[a_start, a_end)`` of text a and ``[b_start, b_end)`` of text b."""

    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float
    n_words: int  # words on the shorter side


def _anchors(grams_a: np.ndarray, order: np.ndarray, sorted_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(i, j)`` with ``grams_a[i] == grams_b[j]``, sorted by i then j (b given as its argsort and
    sorted values)."""
    low = np.searchsorted(sorted_b, grams_a, side="left")
    high = np.searchsorted(sorted_b, grams_a, side="right")
    counts = high - low
    counts[counts > _MAX_REPEATS] = 0
    total = int(counts.sum())
    if not total:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    i = np.repeat(np.arange(len(grams_a)), counts)
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    j = order[np.repeat(low, counts) + within]
    return i, j


def _chains(i_list: list[int], j_list: list[int], config: AlignConfig) -> list[list[tuple[int, int]]]:
    """Group anchors into chains increasing in both texts, each step within ``gap`` and ``drift``."""
    open_chains: list[list[tuple[int, int]]] = []
    closed: list[list[tuple[int, int]]] = []
    for i, j in zip(i_list, j_list, strict=True):
        best: list[tuple[int, int]] | None = None
        best_drift = config.drift + 1
        still_open = []
        for chain in open_chains:
            last_i, last_j = chain[-1]
            if i - last_i > config.gap:
                closed.append(chain)
                continue
            still_open.append(chain)
            if i > last_i and 0 < j - last_j <= config.gap:
                drift = abs((j - i) - (last_j - last_i))
                if drift < best_drift:
                    best, best_drift = chain, drift
        open_chains = still_open
        if best is not None:
            best.append((i, j))
        else:
            open_chains.append([(i, j)])
    return closed + open_chains


def _edges(text_a: str, text_b: str, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int, int, int]:
    """Widen both character spans over the punctuation they share at their edges (a final period, a quote)."""
    (a_start, a_end), (b_start, b_end) = a, b
    for _ in range(_EDGE_CHARS):
        if a_end < len(text_a) and b_end < len(text_b) and text_a[a_end] == text_b[b_end] in _CLOSING:
            a_end, b_end = a_end + 1, b_end + 1
    for _ in range(_EDGE_CHARS):
        if a_start and b_start and text_a[a_start - 1] == text_b[b_start - 1] in _OPENING:
            a_start, b_start = a_start - 1, b_start - 1
    return a_start, a_end, b_start, b_end


def align(
    a: Tokens, b: Tokens, config: AlignConfig | None = None, texts: tuple[str, str] | None = None
) -> list[Passage]:
    """The passages texts a and b share, in order of their position in a.

    With ``texts`` (the two texts the tokens come from), passages also take in the punctuation both texts
    share at their edges, so that a copied sentence ends on its period.
    """
    config = config or AlignConfig()
    n = config.ngram
    grams_a = a.grams(n)[0]
    _, order_b, sorted_b = b.grams(n)
    if not len(grams_a) or not len(sorted_b):
        return []
    anchor_i, anchor_j = _anchors(grams_a, order_b, sorted_b)
    if not len(anchor_i):
        return []
    passages = []
    for chain in _chains(anchor_i.tolist(), anchor_j.tolist(), config):
        a0, b0 = chain[0]
        a1, b1 = chain[-1][0] + n, chain[-1][1] + n
        # Extend over equal words the n-grams could not reach (a passage shorter than n at either edge).
        while a0 > 0 and b0 > 0 and a.hashes[a0 - 1] == b.hashes[b0 - 1]:
            a0, b0 = a0 - 1, b0 - 1
        while a1 < len(a) and b1 < len(b) and a.hashes[a1] == b.hashes[b1]:
            a1, b1 = a1 + 1, b1 + 1
        if min(a1 - a0, b1 - b0) < config.min_words:
            continue
        score = Indel.normalized_similarity(a.hashes[a0:a1].tolist(), b.hashes[b0:b1].tolist())
        span_a = int(a.starts[a0]), int(a.ends[a1 - 1])
        span_b = int(b.starts[b0]), int(b.ends[b1 - 1])
        offsets = _edges(*texts, span_a, span_b) if texts else (*span_a, *span_b)
        passages.append(Passage(*offsets, round(float(score), 4), int(min(a1 - a0, b1 - b0))))
    passages.sort(key=lambda p: (p.a_start, p.b_start))
    return passages
