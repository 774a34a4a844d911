"""Lexical similarity of claims: TF-IDF cosine over stemmed content words.

Sentence embeddings place every sentence about one war close together; the words a claim shares with another
("stage", "chemical", "provocation", "false flag") are what tell a repeated claim from a neighbouring one.
Narrative clustering mixes the two.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import snowballstemmer
from spacy.lang.en.stop_words import STOP_WORDS

_WORD = re.compile(r"[^\W\d_]{3,}")
_STEMMER = snowballstemmer.stemmer("english")
# Reporting words carry the attribution, not the claim.
_IGNORED = STOP_WORDS | {"said", "says", "say", "according", "told", "reported", "claimed", "added", "stated"}


@lru_cache(maxsize=1 << 18)
def _stem(word: str) -> str:
    # The pure-Python Snowball stemmer costs ~50 µs a word; a corpus has a few tens of thousands of distinct
    # words and claims are stemmed several times (clustering, then chains), so each word is stemmed once.
    return _STEMMER.stemWord(word)


def stems(text: str) -> list[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    return [_stem(w) for w in words if w not in _IGNORED]


class TfIdf:
    """Document frequencies over a set of claim texts, and unit TF-IDF vectors for any text."""

    def __init__(self, texts: Iterable[str] = ()) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        self.add(texts)

    @classmethod
    def from_counts(cls, df: dict[str, int], n: int) -> TfIdf:
        """Statistics counted elsewhere (the Spark engine counts them over the whole corpus)."""
        made = cls()
        made.df.update(df)
        made.n = n
        return made

    def add(self, texts: Iterable[str]) -> None:
        for text in texts:
            self.df.update(set(stems(text)))
            self.n += 1

    def vector(self, text: str) -> dict[str, float]:
        counts = Counter(stems(text))
        weights = {
            term: (1 + math.log(count)) * math.log((self.n + 1) / (self.df.get(term, 0) + 0.5))
            for term, count in counts.items()
        }
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        return {term: w / norm for term, w in weights.items()}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(b) < len(a):
        a, b = b, a
    return sum(weight * b[term] for term, weight in a.items() if term in b)


def vectors(tfidf: TfIdf, texts: Sequence[str]) -> list[dict[str, float]]:
    return [tfidf.vector(text) for text in texts]
