"""Paragraph-level text-reuse baseline: MinHash LSH over paragraphs (datasketch).

Each text is split into paragraphs: at blank lines when the text has any, else at newlines; each paragraph
keeps its character span (surrounding whitespace trimmed). A paragraph's shingles are its word 5-grams
(lower-cased ``\\w+`` words), or word 3-grams when it has fewer than :data:`SHORT_WORDS` words; paragraphs of
fewer than ``min_words`` words (default 8, the shortest passage ``newstrace.link.reuse`` reports) are left
out, so that bylines and set phrases ("Source: agencies") are not reported. (The two shingle sizes never match
each other, so a short paragraph can only match another short one.) The shingles are hashed with ``MinHash.bulk`` (``num_perm=128``, datasketch's fast
path) and indexed in a ``MinHashLSH`` with a Jaccard ``threshold`` (default 0.3); every paragraph is then
queried, and each candidate pair of paragraphs from two different documents whose estimated Jaccard is at
least the threshold becomes one predicted passage: the two paragraph spans, scored by the estimated Jaccard.

The output has the shape of ``newstrace.link.reuse.ReuseMatch``: ``a < b`` document indices, character spans
``a_start, a_end`` / ``b_start, b_end`` and ``score``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from datasketch import MinHash, MinHashLSH

WORD = re.compile(r"\w+")
BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
NEWLINE = re.compile(r"\n")
NUM_PERM = 128
SHORT_WORDS = 12  # paragraphs with fewer words are shingled with 3-grams
MIN_WORDS = 8  # shorter paragraphs are not indexed


@dataclass(frozen=True)
class Passage:
    """A predicted reused passage, shaped like ``ReuseMatch``."""

    a: int
    b: int
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Character spans of the text's paragraphs (blank-line separated, or newline separated when the text
    has no blank line), whitespace trimmed, empty ones left out."""
    separator = BLANK_LINE if BLANK_LINE.search(text) else NEWLINE
    spans, start = [], 0
    for match in [*separator.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            left = start + len(chunk) - len(chunk.lstrip())
            spans.append((left, left + len(stripped)))
        if match:
            start = match.end()
    return spans


def shingles(paragraph: str, min_words: int = MIN_WORDS) -> list[bytes]:
    words = WORD.findall(paragraph.lower())
    if len(words) < max(3, min_words):
        return []
    n = 5 if len(words) >= SHORT_WORDS else 3
    return list({" ".join(words[i : i + n]).encode() for i in range(len(words) - n + 1)})


def find_reuse_paragraphs(
    texts: Sequence[str], threshold: float = 0.3, num_perm: int = NUM_PERM, min_words: int = MIN_WORDS
) -> list[Passage]:
    """Pairs of paragraphs from different texts whose estimated shingle Jaccard is at least ``threshold``."""
    keys: list[tuple[int, int, int]] = []  # (document, start, end) per indexed paragraph
    sets: list[list[bytes]] = []
    for doc, text in enumerate(texts):
        for start, end in paragraphs(text):
            shingled = shingles(text[start:end], min_words)
            if shingled:
                keys.append((doc, start, end))
                sets.append(shingled)
    minhashes = MinHash.bulk(sets, num_perm=num_perm)
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    with lsh.insertion_session() as batch:
        for key, minhash in enumerate(minhashes):
            batch.insert(key, minhash)
    found: list[Passage] = []
    for key, minhash in enumerate(minhashes):
        doc = keys[key][0]
        for other in lsh.query(minhash):
            if other <= key or keys[other][0] == doc:
                continue  # each pair once; never within one document
            jaccard = minhash.jaccard(minhashes[other])
            if jaccard < threshold:
                continue
            first, second = (keys[key], keys[other]) if doc < keys[other][0] else (keys[other], keys[key])
            found.append(Passage(first[0], second[0], first[1], first[2], second[1], second[2], jaccard))
    found.sort(key=lambda p: (p.a, p.b, p.a_start, p.b_start))
    return found
