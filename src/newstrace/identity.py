"""Stable identities: document ids and line fingerprints.

A document id is a hash of its normalised clean text, so the same article read from two places (or twice)
gets the same id, while ids never depend on paths, run order or metadata.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Bump when normalisation changes: ids written under another scheme are not comparable.
ID_SCHEME = "blake2b64-nfkc-v1"

_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'}
)
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalise(text: str) -> str:
    """Unicode NFKC, plain quotes, no invisible characters, single spaces."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


def doc_id(text: str) -> str:
    """The document id of a clean text: 16 hex digits of BLAKE2b over the normalised text."""
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=8).hexdigest()


def line_hash(line: str) -> int:
    """A 64-bit fingerprint of a line, blind to case, quotes and spacing (for outlet-level repeats)."""
    digest = hashlib.blake2b(normalise(line).casefold().encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")
