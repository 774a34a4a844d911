"""Normalised word tokens and their n-gram fingerprints: the text that reuse detection compares.

Case, punctuation, quotation marks, line breaks and transliteration variants of names vanish from the tokens, so
a re-wrapped, re-quoted copy of a passage has the token stream of its original. Every token keeps its character
offsets, so a match in tokens maps back to the text.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from newstrace.nlp.translit import name_key

# Letters and digits; an apostrophe inside a word ("Hay'at", "Sheikh’s") does not split it.
_WORD = re.compile(r"[^\W_]+(?:['’ʼ`][^\W_]+)*")
# Transliterated Arabic articles written detached or hyphenated ("al-Sham", "ash Sham"): dropped, so that
# "Tahrir al-Sham" and "Tahrir ash-Sham" give the same tokens. None of them is an English word.
_ARTICLES = frozenset({"al", "el", "ul", "ash", "esh", "ech", "adh", "ath", "az"})
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True, slots=True)
class Tokens:
    """A text's normalised words: a 64-bit hash per word and its ``[start, end)`` in the text."""

    hashes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)


@lru_cache(maxsize=500_000)
def _word_hash(word: str) -> int:
    key = name_key(word)
    if not key or key in _ARTICLES:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1


def tokenize(text: str) -> Tokens:
    """The normalised tokens of ``text``."""
    hashes: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in _WORD.finditer(text):
        value = _word_hash(match.group())
        if value:
            hashes.append(value)
            starts.append(match.start())
            ends.append(match.end())
    return Tokens(
        np.array(hashes, dtype=np.uint64), np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    )


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads n-gram hashes uniformly, which winnowing's minima rely on."""
    values = values ^ (values >> np.uint64(30))
    values = values * np.uint64(0xBF58476D1CE4E5B9)
    values = values ^ (values >> np.uint64(27))
    values = values * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def ngram_hashes(tokens: Tokens, n: int) -> np.ndarray:
    """One hash per run of ``n`` consecutive tokens (``len(tokens) - n + 1`` of them, or none)."""
    count = len(tokens) - n + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    combined = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            combined = combined * _MULTIPLIER + tokens.hashes[k : k + count]
        return _mix(combined)


def winnow(grams: np.ndarray, window: int) -> np.ndarray:
    """The distinct fingerprints winnowing selects: the minimum of every ``window`` consecutive n-gram hashes.

    Any run of ``window + n - 1`` tokens shared by two texts shares at least one selected fingerprint
    (Schleimer, Wilkerson and Aiken 2003), so candidate search loses no passage of that length.
    """
    if len(grams) == 0:
        return grams
    if len(grams) <= window:
        return np.unique(grams[[int(np.argmin(grams))]])
    windows = np.lib.stride_tricks.sliding_window_view(grams, window)
    positions = windows.argmin(axis=1) + np.arange(len(windows))
    return np.unique(grams[positions])
