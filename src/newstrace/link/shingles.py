"""Normalised word tokens and their n-gram fingerprints: the text that reuse detection compares.

Case, punctuation, quotation marks, line breaks and transliteration variants of names vanish from the tokens, so
a re-wrapped, re-quoted copy of a passage has the token stream of its original. Every token keeps its character
offsets, so a match in tokens maps back to the text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

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
    # n -> (n-gram hashes, their sort order, the sorted hashes): a document meets many candidates.
    _grams: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __len__(self) -> int:
        return len(self.hashes)

    def grams(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The n-gram hashes, their argsort and the sorted hashes, computed once per document."""
        if n not in self._grams:
            grams = ngram_hashes(self, n)
            order = np.argsort(grams, kind="stable")
            self._grams[n] = (grams, order, grams[order])
        return self._grams[n]


_APOSTROPHES = str.maketrans("", "", "'’ʼ`")
_DOUBLED = re.compile(r"([a-z])\1+")
_SPELLINGS = (("ou", "u"), ("oo", "u"), ("ee", "i"), ("ph", "f"), ("q", "k"))


def word_key(word: str) -> str:
    """A word folded as :func:`newstrace.nlp.translit.name_key` folds names (case, diacritics, apostrophes,
    ou/u, ee/i, doubled letters, a final h after a vowel), written for one word at a time: this runs once per
    distinct word of a corpus."""
    word = word.lower().translate(_APOSTROPHES)
    if not word.isascii():
        word = "".join(
            c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)
        ).casefold()
    for spelling, replacement in _SPELLINGS:
        if spelling in word:
            word = word.replace(spelling, replacement)
    word = _DOUBLED.sub(r"\1", word)
    if len(word) > 2 and word[-1] == "h" and word[-2] in "aeiou":
        word = word[:-1]
    return word


def _word_hash(word: str) -> int:
    key = word_key(word)
    if not key or key in _ARTICLES:
        return 0
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") or 1


_HASHES: dict[str, int] = {}
_BASE = np.uint64(0x100000001B3)
_BASE_INVERSE = np.uint64(pow(0x100000001B3, -1, 2**64))  # odd, so invertible modulo 2**64
_WORD_CHARS: np.ndarray | None = None
_JOINERS = np.array([ord(c) for c in "'’ʼ`"], dtype=np.uint32)


def _word_chars() -> np.ndarray:
    """For every code point of the Basic Multilingual Plane: is it a letter or digit?"""
    global _WORD_CHARS
    if _WORD_CHARS is None:
        _WORD_CHARS = np.fromiter((chr(c).isalnum() for c in range(0x10000)), dtype=bool, count=0x10000)
    return _WORD_CHARS


def _key_hashes(words: list[str]) -> list[int]:
    known = _HASHES
    values = []
    for word in words:
        value = known.get(word)
        if value is None:
            value = _word_hash(word)
            if len(known) < 1_000_000:  # bounded: hashing a word is cheap, looking it up cheaper
                known[word] = value
        values.append(value)
    return values


def tokenize(text: str) -> Tokens:
    """The normalised tokens of ``text``."""
    return tokenize_many([text])[0]


# Characters tokenised in one array pass: bounds the memory of the prefix sums (about 40 bytes a character).
_BATCH_CHARS = 4_000_000


def tokenize_many(texts: Sequence[str]) -> list[Tokens]:
    """The normalised tokens of each text, found for many texts at once with array operations.

    Words are runs of letters and digits (an apostrophe between letters joins them: "Hay'at"). Each word is
    hashed by a polynomial over its code points from prefix sums, and only the distinct words of a batch
    go through :func:`word_key` in Python.
    """
    tokens: list[Tokens] = []
    batch: list[str] = []
    size = 0
    for text in texts:
        if batch and size + len(text) > _BATCH_CHARS:
            tokens.extend(_tokenize_batch(batch))
            batch, size = [], 0
        batch.append(text)
        size += len(text) + 1
    if batch:
        tokens.extend(_tokenize_batch(batch))
    return tokens


def _tokenize_batch(texts: Sequence[str]) -> list[Tokens]:
    lowered = [text.lower() for text in texts]
    # A few characters change length when lower-cased ("İ"); such texts keep their own case, whose words
    # word_key folds anyway, so that offsets stay offsets into the text.
    lowered = [low if len(low) == len(text) else text for low, text in zip(lowered, texts, strict=True)]
    joined = "\n".join(lowered)
    if not joined:
        return [_EMPTY for _ in texts]
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    is_word = np.zeros(len(points), dtype=bool)
    in_plane = points < 0x10000
    is_word[in_plane] = _word_chars()[points[in_plane]]
    joiner = np.isin(points, _JOINERS)
    joiner[0] = joiner[-1] = False
    is_word |= joiner & np.r_[False, is_word[:-1]] & np.r_[is_word[1:], False]
    edges = np.diff(np.r_[False, is_word, False].astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    with np.errstate(over="ignore"):
        powers = np.cumprod(np.full(len(points), _BASE, dtype=np.uint64))
        inverse = np.cumprod(np.full(len(points), _BASE_INVERSE, dtype=np.uint64))
        prefix = np.r_[np.uint64(0), np.cumsum(points.astype(np.uint64) * powers)]
        raw = (prefix[ends] - prefix[starts]) * np.r_[np.uint64(1), inverse][starts]
    _, first, back = np.unique(raw, return_index=True, return_inverse=True)
    keys = np.array(_key_hashes([joined[starts[i] : ends[i]] for i in first.tolist()]), dtype=np.uint64)
    hashes = keys[back.reshape(-1)]
    offsets = np.cumsum([0] + [len(text) + 1 for text in texts])
    bounds = np.searchsorted(starts, offsets)
    tokens = []
    for index in range(len(texts)):
        low, high = bounds[index], bounds[index + 1]
        keep = hashes[low:high] != 0
        base = offsets[index]
        tokens.append(
            Tokens(hashes[low:high][keep], starts[low:high][keep] - base, ends[low:high][keep] - base)
        )
    return tokens


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


_EMPTY = Tokens(np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
