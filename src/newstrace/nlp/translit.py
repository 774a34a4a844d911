"""Transliteration-blind keys for names, so that spellings of one name meet.

"Hay'at Tahrir al-Sham", "Hayat Tahrir Al-Sham" and "HAY’AT TAHRIR ASH-SHAM" share the key ``hayat tahrir
sham``; "Jisr al-Shughur", "Jisr ash-Shughur" and "Jisr Al-Shughour" share ``jisr shughur``. The rules fold
case, diacritics, apostrophes and hyphens, drop Arabic article prefixes (al-, el-, ash-, esh-, …) and merge
common vowel spellings (ou/u, ee/i, doubled letters). :class:`KeyedText` keeps, for every character of the
key text, the offset of the character it came from, so a match in keys maps back to the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_APOSTROPHES = "'’‘`´ʼʻʿʾ′"
_DASHES = "-‐‑‒–—_/"
# Arabic definite articles as transliterated. Joined by a hyphen, all assimilated forms go (ash-, ad-, an-, …);
# written detached, as GeoNames does ("Jisr ash Shughur"), only the forms that are not common English words.
_ARTICLE = re.compile(r"\b(?:al|el|ul|ash|esh|ech|as|es|ad|ed|an|ar|at|az|ath|adh|et|ez|ibn)-(?=\w)")
_DETACHED_ARTICLE = re.compile(r"\b(?:al|el|ash|esh|ech|az|adh|ath) (?=\w)")
_REWRITES = (
    (re.compile(r"ou"), "u"),
    (re.compile(r"oo"), "u"),
    (re.compile(r"ee"), "i"),
    (re.compile(r"ph"), "f"),
    (re.compile(r"q"), "k"),
    (re.compile(r"([a-z])\1+"), r"\1"),
    (re.compile(r"(?<=[aeiou])h\b"), ""),
)
_SPACES = re.compile(r"\s+")
_ASCII_WORD = re.compile(r"([A-Za-z0-9]+)|([^A-Za-z0-9]+)")


@dataclass(frozen=True, slots=True)
class KeyedText:
    """``key`` with ``origin[i]`` = offset in the original text of ``key[i]``."""

    key: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of ``key[start:end]``."""
        return self.origin[start], self.origin[end - 1] + 1


def _sub(pattern: re.Pattern[str], repl: str, key: str, origin: list[int]) -> tuple[str, list[int]]:
    """``pattern.sub`` that keeps the origin list aligned: new characters take the origin of the match start."""
    out: list[str] = []
    new_origin: list[int] = []
    last = 0
    for match in pattern.finditer(key):
        out.append(key[last : match.start()])
        new_origin.extend(origin[last : match.start()])
        # expand() re-parses the template on every call: only templates with group references need it.
        replacement = match.expand(repl) if "\\" in repl else repl
        out.append(replacement)
        new_origin.extend([origin[match.start()]] * len(replacement))
        last = match.end()
    if not out:
        return key, origin
    out.append(key[last:])
    new_origin.extend(origin[last:])
    return "".join(out), new_origin


def keyed(text: str) -> KeyedText:
    """The key text of ``text`` with its offset map."""
    chars: list[str] = []
    origin: list[int] = []
    previous_space = True
    for run in _ASCII_WORD.finditer(text):
        if run.group(1):  # plain ASCII letters and digits, the bulk of English text: copied in one step
            chars.extend(run.group(1).lower())
            origin.extend(range(run.start(), run.end()))
            previous_space = False
            continue
        previous_space = _fold_run(run.group(2), run.start(), chars, origin, previous_space)
    key = "".join(chars)
    key, origin = _sub(_ARTICLE, "", key, origin)
    key, origin = _sub(re.compile("-"), " ", key, origin)
    key, origin = _sub(_DETACHED_ARTICLE, "", key, origin)
    for pattern, repl in _REWRITES:
        key, origin = _sub(pattern, repl, key, origin)
    key, origin = _sub(_SPACES, " ", key, origin)
    # Trim without losing alignment.
    start = len(key) - len(key.lstrip(" "))
    end = len(key.rstrip(" "))
    return KeyedText(key[start:end], tuple(origin[start:end]))


def _fold_run(run: str, offset: int, chars: list[str], origin: list[int], previous_space: bool) -> bool:
    """Fold a run of non-ASCII-alphanumeric characters into ``chars``; returns whether it ended in a space."""
    for index, char in enumerate(run, offset):
        if char in _APOSTROPHES:
            continue
        if char in _DASHES:
            # Keep one hyphen for the article rule; it becomes a space afterwards.
            chars.append("-")
            origin.append(index)
            previous_space = False
            continue
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():  # one character may fold to several: "ß" -> "ss"
                if folded.isalnum():
                    chars.append(folded)
                    origin.append(index)
                    previous_space = False
                elif not previous_space:
                    chars.append(" ")
                    origin.append(index)
                    previous_space = True
    return previous_space


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """The key of a name: ``name_key("Jisr Al-Shughour") == name_key("Jisr ash-Shughur") == "jisr shugur"``."""
    return keyed(name).key
