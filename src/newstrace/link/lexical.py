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
from typing import Any

import numpy as np
import snowballstemmer
from spacy.lang.en.stop_words import STOP_WORDS

_WORD = re.compile(r"[^\W\d_]{3,}")
_STEMMER = snowballstemmer.stemmer("english")
# Reporting words carry the attribution, not the claim.
_IGNORED = STOP_WORDS | {"said", "says", "say", "according", "told", "reported", "claimed", "added", "stated"}


@lru_cache(maxsize=1 << 18)
def _stem(word: str) -> str:
    # snowballstemmer hands the work to PyStemmer (C) when it is installed, as newstrace requires; its pure
    # Python fallback costs ~25 µs a word. Claims are stemmed several times (clustering, then chains), so
    # each word is stemmed once either way.
    return _STEMMER.stemWord(word)


def stems(text: str) -> list[str]:
    return list(_text_stems(text))


@lru_cache(maxsize=1 << 17)
def _text_stems(text: str) -> tuple[str, ...]:
    # A claim's stems are read when the statistics are counted, when it is clustered and in its chain.
    words = [w.lower() for w in _WORD.findall(text)]
    return tuple(_stem(w) for w in words if w not in _IGNORED)


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

    def matrix(self, texts: Sequence[str]) -> Any:
        """The unit TF-IDF vectors of ``texts`` as the rows of a scipy CSR matrix (columns: their terms)."""
        from scipy.sparse import csr_matrix

        columns: dict[str, int] = {}
        indptr, indices, data = [0], [], []
        for text in texts:
            for term, weight in self.vector(text).items():
                indices.append(columns.setdefault(term, len(columns)))
                data.append(weight)
            indptr.append(len(indices))
        return csr_matrix(
            (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
            shape=(len(texts), max(1, len(columns))),
        )


def row_cosines(matrix: Any, left: np.ndarray, right: np.ndarray, block: int = 200_000) -> np.ndarray:
    """Cosines of the unit rows ``left[i]`` and ``right[i]`` of a CSR matrix, for every i (``block`` pairs
    at a time, so that memory stays bounded however many pairs there are)."""
    found = np.zeros(len(left), dtype=np.float64)
    for start in range(0, len(left), block):
        part = slice(start, start + block)
        products = matrix[left[part]].multiply(matrix[right[part]])
        found[part] = np.asarray(products.sum(axis=1), dtype=np.float64).ravel()
    return found


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(b) < len(a):
        a, b = b, a
    return sum(weight * b[term] for term, weight in a.items() if term in b)


def vectors(tfidf: TfIdf, texts: Sequence[str]) -> list[dict[str, float]]:
    return [tfidf.vector(text) for text in texts]
