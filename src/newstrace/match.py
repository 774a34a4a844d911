"""Match claims against a catalogue of known or debunked claims (EUvsDisinfo cases, ClaimReview records...).

A :class:`Catalog` is a list of entries, each with an id, one or more text fields (e.g. the claim and the
title of its fact-check) and metadata. It is read from CSV/TSV, JSON lines, JSON records or ClaimReview
JSON-LD (:meth:`Catalog.load`). Queries are plain strings or another catalogue.

:class:`Matcher` ranks the entries for each query in two stages:

1. **Candidates**: the union of the best entries (30 each) by BM25 (``bm25s``, Snowball stems) on all text
   fields joined, and by the cosine between the query and each text field under each embedder
   (:mod:`newstrace.embed`).
2. **Re-ranking**: each candidate gets a feature vector (BM25 per field and joined, raw, relative to the
   query's best and as a reciprocal rank; cosines per field, raw, relative to the best and best over the
   query's sentences; stem overlap) and a linear model scores it. The shipped weights
   (``data/match_rerank.json``) were fitted on the CLEF-2020 CheckThat! task 2 **train** tweets only by
   ``benchmarks/clef_eval.py --fit`` (a listwise logistic model, then Platt scaling); the file records how.
   The score is the fitted probability that the entry states the query's claim (calibrated on CLEF train
   tweets, all of which have a match in the catalogue). ``rerank=False`` uses reciprocal-rank fusion of
   BM25 and the cosines instead, with no fitted weights.

Entries with the same text (case, punctuation and quote style ignored) are one claim: the first stands for
the others, listed in ``Match.duplicates`` (the CLEF catalogue holds 180 claims twice; EUvsDisinfo's
``full_dataset.csv`` repeats rows).

Tweets are normalised before matching (:func:`normalize_text`): URLs and pic.twitter links removed, the
``— Name (@handle) Month D, YYYY`` signature of embedded tweets reduced to the name, hashtags and handles
split into words (``#AustralianFires`` -> ``Australian Fires``).

    >>> catalog = Catalog.load("verified_claims.docs.tsv")  # doctest: +SKIP
    >>> matcher = Matcher(catalog)  # doctest: +SKIP
    >>> matcher.search(["5G masts spread the coronavirus"], top=3)[0][0].entry_id  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from newstrace.embed import Embedder, load_embedder

# -- errors and records ------------------------------------------------------------------------------------


class CatalogError(ValueError):
    """A catalogue or query file cannot be used; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class Match:
    """One ranked catalogue entry for one query."""

    entry_id: str
    score: float  # higher is better; with the fitted re-ranker, a probability in [0, 1]
    rank: int  # 1 = best
    query_id: str | None = None
    text: str = ""  # the entry's first non-empty text field
    signals: dict[str, float] = field(default_factory=dict)  # the features behind the score
    meta: dict[str, Any] = field(default_factory=dict)  # the entry's metadata (url, rating, date...)
    duplicates: tuple[str, ...] = ()  # ids of catalogue entries with the same text, folded into this one

    def to_dict(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "entry_id": self.entry_id,
            "rank": self.rank,
            "score": round(self.score, 6),
            "text": self.text,
            "signals": {k: round(v, 6) for k, v in self.signals.items()},
            **({"meta": self.meta} if self.meta else {}),
            **({"duplicates": list(self.duplicates)} if self.duplicates else {}),
        }


# -- text normalisation ------------------------------------------------------------------------------------

_PIC = re.compile(r"pic\.twitter\.com/\w+", re.I)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_SIGNATURE = re.compile(
    r"\(@\w+\)\s*(?:(?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"\s+\d{1,2},\s+\d{4})?"
)
_TAG = re.compile(r"[#@](\w+)")
_CAMEL = re.compile(
    r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])|_+"
)
_SPACE = re.compile(r"\s+")


def split_tag(tag: str) -> str:
    """``AustralianFires`` -> ``Australian Fires``; ``realDonaldTrump`` -> ``real Donald Trump``."""
    return _CAMEL.sub(" ", tag).strip()


def normalize_text(text: str, tweet: bool = False) -> str:
    """HTML entities decoded, whitespace collapsed; for tweets also links, signatures, hashtags and handles.

    With ``tweet=True``: ``pic.twitter.com/...`` and URLs are removed; ``(@handle) Month D, YYYY`` (the
    signature of an embedded tweet) is removed, keeping the name before it; the remaining ``#tags`` and
    ``@handles`` lose their sign and are split at case changes, digits and underscores; the dash before a
    signature and a trailing ellipsis go.
    """
    if not isinstance(text, str):
        return ""
    text = html.unescape(text)
    if tweet:
        text = _PIC.sub(" ", text)
        text = _URL.sub(" ", text)
        text = _SIGNATURE.sub(" ", text)
        text = _TAG.sub(lambda m: " " + split_tag(m.group(1)) + " ", text)
        text = text.replace("—", " ").replace("…", " ")
    return _SPACE.sub(" ", text).strip()


# -- the catalogue -----------------------------------------------------------------------------------------

ID_NAMES = (
    "id",
    "_id",
    "@id",
    "claim_id",
    "vclaim_id",
    "tweet_id",
    "query_id",
    "qid",
    "docid",
    "doc_id",
    "uid",
    "unit_id",
    "identifier",
    "url",
)
TEXT_NAMES = (
    "vclaim",
    "claim",
    "claimreviewed",
    "claim_reviewed",
    "title",
    "summary",
    "text",
    "tweet_content",
    "content",
    "query",
    "sentence",
    "headline",
    "body",
)
ROW_ID = "@row"  # id_column value: number the rows (0, 1, ...) when the file has no id column
FORMATS = ("csv", "tsv", "jsonl", "json", "txt")


@dataclass
class Catalog:
    """Entries with an id, text fields and metadata. ``texts[field][i]`` is entry ``i``'s text in ``field``."""

    ids: list[str]
    texts: dict[str, list[str]]
    meta: list[dict[str, Any]]
    source: str = ""

    def __post_init__(self) -> None:
        n = len(self.ids)
        if any(len(values) != n for values in self.texts.values()) or len(self.meta) != n:
            raise ValueError("every text field and the metadata need one value per id")
        if not self.texts:
            raise CatalogError(f"{self.source or 'catalogue'}: no text field")
        seen: dict[str, int] = {}
        for index, entry_id in enumerate(self.ids):
            if entry_id in seen:
                raise CatalogError(
                    f"{self.source or 'catalogue'}: id '{entry_id}' appears twice (entries {seen[entry_id]} "
                    f"and {index}); ids must be unique (use id_column='{ROW_ID}' to number the rows)"
                )
            seen[entry_id] = index

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def fields(self) -> list[str]:
        return list(self.texts)

    @cached_property
    def index_of(self) -> dict[str, int]:
        return {entry_id: i for i, entry_id in enumerate(self.ids)}

    def text(self, index: int, sep: str = " ") -> str:
        """All non-empty text fields of entry ``index``, joined."""
        return sep.join(t for t in (self.texts[f][index] for f in self.texts) if t)

    def first_text(self, index: int) -> str:
        return next((t for t in (self.texts[f][index] for f in self.texts) if t), "")

    @classmethod
    def from_texts(
        cls, texts: Sequence[str], ids: Sequence[str] | None = None, name: str = "text"
    ) -> Catalog:
        """A one-field catalogue from strings (ids ``0, 1, ...`` unless given)."""
        ids = [str(i) for i in (ids if ids is not None else range(len(texts)))]
        return cls(ids, {name: [t if isinstance(t, str) else "" for t in texts]}, [{} for _ in ids], "texts")

    @classmethod
    def from_records(
        cls,
        records: Sequence[Mapping[str, Any]],
        *,
        id_column: str | None = None,
        text_columns: Sequence[str] | None = None,
        source: str = "records",
        first_column_is_id: bool = False,
    ) -> Catalog:
        """A catalogue from dicts (CSV rows, JSON objects): the id and text columns are found by name unless
        given (see :data:`ID_NAMES`, :data:`TEXT_NAMES`); the other columns become metadata."""
        if not records:
            raise CatalogError(f"{source}: no entries (the file is empty or has only a header)")
        columns: list[str] = []
        for record in records:
            columns.extend(k for k in record if k not in columns)
        id_key = _pick_id(columns, id_column, source, first_column_is_id)
        text_keys = _pick_texts(columns, id_key, text_columns, source)
        ids: list[str] = []
        texts: dict[str, list[str]] = {k: [] for k in text_keys}
        meta: list[dict[str, Any]] = []
        for row, record in enumerate(records):
            if id_key == ROW_ID:
                entry_id = str(row)
            else:
                value = record.get(id_key)
                if value is None or str(value).strip() == "":
                    raise CatalogError(f"{source}: entry {row} has no value in the id column '{id_key}'")
                entry_id = str(value).strip()
            ids.append(entry_id)
            for key in text_keys:
                value = record.get(key)
                texts[key].append(_as_text(value))
            meta.append({k: v for k, v in record.items() if k != id_key and k not in text_keys and _keep(v)})
        return cls(ids, texts, meta, source)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        id_column: str | None = None,
        text_columns: Sequence[str] | None = None,
        format: str | None = None,
        delimiter: str | None = None,
    ) -> Catalog:
        """Read a catalogue (or queries) from a file.

        Formats, by extension unless ``format`` is given: ``.csv`` / ``.tsv`` (header row; the delimiter is
        sniffed among ``, ; TAB |`` unless given; quoted fields may hold line breaks; an unnamed first column,
        as in the CLEF files, is the id), ``.jsonl`` (one object per line), ``.json`` / ``.jsonld`` (a list of
        objects, one object, or an ``@graph``; schema.org ``ClaimReview`` objects are read as entries with
        ``claimReviewed`` as text and url, rating, date and author as metadata), ``.txt`` (one entry per
        non-empty line, numbered from 0). ``id_column='@row'`` numbers the rows of a file without ids.
        Raises :class:`CatalogError` naming the file when it is missing, unreadable, empty or has no id or
        text column.
        """
        path = Path(path)
        source = str(path)
        if not path.exists():
            raise CatalogError(f"{source}: no such file")
        if not path.is_file():
            raise CatalogError(f"{source}: not a file")
        kind = (format or _format_of(path)).lower()
        if kind not in FORMATS:
            raise CatalogError(f"{source}: unknown format '{kind}'; use one of {', '.join(FORMATS)}")
        try:
            raw = path.read_bytes()
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CatalogError(f"{source}: not UTF-8 text ({exc})") from exc
        except OSError as exc:
            raise CatalogError(f"{source}: cannot read ({exc.strerror or exc})") from exc
        if not text.strip():
            raise CatalogError(f"{source}: empty file")
        if kind == "txt":
            lines = [line.strip() for line in text.splitlines()]
            records = [{"id": str(i), "text": line} for i, line in enumerate(x for x in lines if x)]
            return cls.from_records(records, id_column="id", text_columns=["text"], source=source)
        if kind in ("csv", "tsv"):
            records, first_unnamed = _read_table(text, source, delimiter or ("\t" if kind == "tsv" else None))
            return cls.from_records(
                records,
                id_column=id_column,
                text_columns=text_columns,
                source=source,
                first_column_is_id=first_unnamed,
            )
        objects = list(_read_json(text, source, lines=kind == "jsonl"))
        reviews = [o for o in objects if _is_claim_review(o)]
        if reviews:
            records = [_claim_review_record(o, n) for n, o in enumerate(reviews)]
            return cls.from_records(
                records,
                id_column=id_column or "id",
                text_columns=text_columns
                or [k for k in ("claimReviewed", "name") if any(r.get(k) for r in records)],
                source=source,
            )
        records = [o for o in objects if isinstance(o, dict)]
        if len(records) != len(objects):
            raise CatalogError(f"{source}: expected JSON objects, found {type(objects[0]).__name__} values")
        return cls.from_records(records, id_column=id_column, text_columns=text_columns, source=source)


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    return {"ndjson": "jsonl", "jsonld": "json", "tab": "tsv", "text": "txt"}.get(suffix, suffix)


def _as_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list):
        return " ".join(_as_text(v) for v in value)
    return str(value).strip()


def _keep(value: Any) -> bool:
    return value is not None and value != "" and not (isinstance(value, float) and math.isnan(value))


def _pick_id(columns: list[str], wanted: str | None, source: str, first_is_id: bool) -> str:
    if wanted:
        if wanted == ROW_ID or wanted in columns:
            return wanted
        raise CatalogError(f"{source}: no id column '{wanted}' (columns: {', '.join(columns)})")
    if first_is_id:
        return columns[0]
    lower = {c.lower(): c for c in columns}
    for name in ID_NAMES:
        if name in lower:
            return lower[name]
    raise CatalogError(
        f"{source}: no id column (columns: {', '.join(columns)}); name one (--id-column), or use "
        f"'{ROW_ID}' to number the rows"
    )


def _pick_texts(columns: list[str], id_key: str, wanted: Sequence[str] | None, source: str) -> list[str]:
    if wanted:
        missing = [c for c in wanted if c not in columns]
        if missing:
            raise CatalogError(
                f"{source}: no text column {', '.join(missing)} (columns: {', '.join(columns)})"
            )
        return list(wanted)
    lower = {c.lower(): c for c in columns if c != id_key}
    found = [lower[n] for n in TEXT_NAMES if n in lower]
    if found:
        return found
    others = [c for c in columns if c != id_key]
    if len(others) == 1:
        return others
    raise CatalogError(
        f"{source}: no text column found (columns: {', '.join(columns)}); name them (--text-column)"
    )


def _read_table(text: str, source: str, delimiter: str | None) -> tuple[list[dict[str, str]], bool]:
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    if delimiter is None:
        counts = {d: header.count(d) for d in ("\t", ";", ",", "|")}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise CatalogError(f"{source}: unreadable table ({exc})") from exc
    if not rows:
        raise CatalogError(f"{source}: empty file")
    names = [h.strip() for h in rows[0]]
    first_unnamed = names[0] == ""
    if first_unnamed:
        names[0] = "id"
    width = len(names)
    records = []
    for number, row in enumerate(rows[1:], start=2):
        if len(row) > width:
            raise CatalogError(
                f"{source}: record {number} has {len(row)} fields, the header {width} "
                f"(delimiter {delimiter!r}; unbalanced quotes?)"
            )
        records.append(dict(zip(names, row + [""] * (width - len(row)), strict=True)))
    return records, first_unnamed


def _read_json(text: str, source: str, lines: bool) -> Iterator[Any]:
    if lines:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise CatalogError(f"{source}: line {number} is not JSON ({exc.msg})") from exc
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"{source}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    yield from _json_objects(data)


def _json_objects(data: Any) -> Iterator[Any]:
    """Top-level records: list items, ``@graph`` members, or the object itself; nested ClaimReviews too."""
    if isinstance(data, list):
        for item in data:
            yield from _json_objects(item)
    elif isinstance(data, dict) and "@graph" in data:
        yield from _json_objects(data["@graph"])
    elif isinstance(data, dict) and not _is_claim_review(data) and _nested_reviews(data):
        yield from _nested_reviews(data)
    else:
        yield data


def _nested_reviews(data: Any) -> list[dict]:
    """ClaimReview objects anywhere inside ``data`` (e.g. a page's JSON-LD with the review under ``review``)."""
    found: list[dict] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if _is_claim_review(item):
                found.append(item)
                continue
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _is_claim_review(obj: Any) -> bool:
    if not isinstance(obj, dict):
        return False
    kind = obj.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(isinstance(k, str) and k.rsplit("/", 1)[-1] == "ClaimReview" for k in kinds)


def _name_of(value: Any) -> str:
    if isinstance(value, dict):
        return _as_text(value.get("name") or value.get("@id") or "")
    if isinstance(value, list):
        return ", ".join(filter(None, (_name_of(v) for v in value)))
    return _as_text(value)


def _claim_review_record(review: dict[str, Any], number: int) -> dict[str, Any]:
    rating = review.get("reviewRating") or {}
    if isinstance(rating, list):
        rating = rating[0] if rating else {}
    item = review.get("itemReviewed") or {}
    if isinstance(item, list):
        item = item[0] if item else {}
    record: dict[str, Any] = {
        "id": _as_text(review.get("url") or review.get("@id") or review.get("identifier"))
        or f"claimreview-{number}",
        "claimReviewed": _as_text(review.get("claimReviewed")),
        "name": _as_text(review.get("name") or review.get("headline")),
        "url": _as_text(review.get("url")),
        "datePublished": _as_text(review.get("datePublished")),
        "author": _name_of(review.get("author")),
    }
    if isinstance(rating, dict):
        record["rating"] = _as_text(rating.get("alternateName") or rating.get("name"))
        for key in ("ratingValue", "bestRating", "worstRating"):
            if rating.get(key) not in (None, ""):
                record[key] = _as_text(rating.get(key))
    if isinstance(item, dict):
        record["claimAuthor"] = _name_of(item.get("author"))
        record["claimDate"] = _as_text(item.get("datePublished"))
    return {k: v for k, v in record.items() if v != "" or k in ("claimReviewed", "name")}


# -- lexical signal ----------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
        "don",
    ]
)


def _fold(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """The Snowball (Porter2) English stem of a word."""
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def tokenize(text: str) -> list[str]:
    """BM25 terms: accent-folded lower-case words, stop words dropped, Snowball-stemmed."""
    return [_stem(w) for w in _WORD.findall(_fold(text)) if w not in STOPWORDS]


class Lexical:
    """BM25 (bm25s, Lucene variant) over one list of texts."""

    def __init__(self, tokens: Sequence[list[str]], k1: float = 1.2, b: float = 0.75) -> None:
        """``tokens``: the :func:`tokenize` terms of each text."""
        import bm25s

        self.tokens = list(tokens)
        self.model = bm25s.BM25(k1=k1, b=b, method="lucene")
        # an entry with no term still needs a row: bm25s maps an empty document to its empty token
        self.model.index([t or [""] for t in self.tokens], show_progress=False)
        self.vocabulary = self.model.vocab_dict

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        known = [t for t in query_tokens if t in self.vocabulary]
        if not known:
            return np.zeros(len(self.tokens), dtype=np.float32)
        return np.asarray(self.model.get_scores(known), dtype=np.float32)


# -- ranking -----------------------------------------------------------------------------------------------

RERANK_FILE = "match_rerank.json"
QUERY_CHUNK = 64  # queries whose cosines with the whole catalogue are computed in one matrix product
ALL = "<all fields>"  # the pseudo-field joining every text field of an entry (not a column name)


@dataclass
class Rerank:
    """A fitted logistic re-ranker: standardised features, weights, bias."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    info: dict[str, Any]

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def to_json(self) -> dict[str, Any]:
        return {
            "features": self.features,
            "mean": [round(float(v), 8) for v in self.mean],
            "scale": [round(float(v), 8) for v in self.scale],
            "weights": [round(float(v), 8) for v in self.weights],
            "bias": round(float(self.bias), 8),
            **self.info,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rerank:
        keys = ("features", "mean", "scale", "weights", "bias")
        return cls(
            list(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["weights"], dtype=np.float64),
            float(data["bias"]),
            {k: v for k, v in data.items() if k not in keys},
        )


def shipped_rerankers(path: str | Path | None = None) -> dict[str, Any]:
    """The fitted re-rankers (keyed by their signal set, e.g. ``bm25+static``) and how they were fitted."""
    source = Path(path) if path else Path(str(resources.files("newstrace.data").joinpath(RERANK_FILE)))
    try:
        return json.loads(source.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CatalogError(f"{source}: cannot read the re-ranker weights ({exc})") from exc


def signal_key(embedders: Sequence[str]) -> str:
    return "+".join(["bm25", *embedders])


_SENTENCE = re.compile(r"(?<=[.!?])\s+|\s*\n+\s*")


def dedupe_key(text: str) -> str:
    """What two entries must share to be one claim: case, accents, punctuation and quote style ignored."""
    return " ".join(_WORD.findall(_fold(text)))


def segments(text: str, limit: int = 4, min_words: int = 4) -> list[str]:
    """The longest sentences of a (normalised) text, for a per-sentence cosine; none if it is one sentence."""
    parts = [p.strip() for p in _SENTENCE.split(text) if len(p.split()) >= min_words]
    if len(parts) < 2:
        return []
    return sorted(parts, key=len, reverse=True)[:limit]


class Matcher:
    """Ranks catalogue entries for queries: BM25 + embeddings, fused by a fitted re-ranker.

    ``embedder``: a name ("minilm", the default, or "static"), an :class:`~newstrace.embed.Embedder`, a
    list of them, or None (BM25 only). On CLEF-2020 task 2 dev, BM25 + minilm reaches a MAP@5 of about 0.9
    and BM25 + static about 0.8 (benchmarks/RESULTS.md); static embeds the catalogue in a second where
    minilm needs a few hundred texts per second. ``rerank``: True (the shipped re-ranker for these signals), False (reciprocal-rank
    fusion), a path to a weights file, or a :class:`Rerank`. ``candidates``: entries kept per signal before
    re-ranking. ``tweets``: normalise queries as tweets (links, signatures, hashtags, handles).
    ``dedupe``: entries with the same text (ignoring case, punctuation and quote style) are one claim; the
    first in catalogue order stands for them and the others are listed in ``Match.duplicates``.
    """

    def __init__(
        self,
        catalog: Catalog,
        embedder: str | Embedder | Sequence[str | Embedder] | None = "minilm",
        rerank: bool | str | Path | Rerank = True,
        candidates: int = 30,
        tweets: bool = True,
        dedupe: bool = True,
        batch_size: int | None = None,
    ) -> None:
        if len(catalog) == 0:
            raise CatalogError(f"{catalog.source or 'catalogue'}: no entries")
        self.catalog = catalog
        self.candidates = max(1, candidates)
        self.tweets = tweets
        self.batch_size = batch_size
        if embedder is None:
            chosen: list[str | Embedder] = []
        elif isinstance(embedder, (str, Embedder)):
            chosen = [embedder]
        else:
            chosen = list(embedder)
        self.embedders = [load_embedder(e) if isinstance(e, str) else e for e in chosen]
        self.fields = list(catalog.fields)
        # features are named by role, not by column: f0 = the first text field, f1 = the second (the first
        # again when there is only one), all = every field joined; further fields count in "all" and in the
        # best cosine. The shipped re-rankers were fitted with f0 = claim, f1 = fact-check title.
        self.roles = {"f0": self.fields[0], "f1": self.fields[min(1, len(self.fields) - 1)], "all": ALL}
        # canonical entries: the catalogue rows the index holds; position[id] finds any id's canonical row
        self.entries: list[int] = []
        self.duplicates: dict[int, list[str]] = {}
        self.position: dict[str, int] = {}
        first: dict[str, int] = {}
        for i in range(len(catalog)):
            key = dedupe_key(catalog.text(i, sep=" | ")) if dedupe else str(i)
            if key in first and key:
                canonical = first[key]
                self.duplicates.setdefault(self.entries[canonical], []).append(catalog.ids[i])
                self.position[catalog.ids[i]] = canonical
                continue
            first[key] = len(self.entries)
            self.position[catalog.ids[i]] = len(self.entries)
            self.entries.append(i)
        texts = {f: [normalize_text(catalog.texts[f][i]) for i in self.entries] for f in catalog.fields}
        terms = {f: [tokenize(t) for t in texts[f]] for f in catalog.fields}
        self.lexical = {f: Lexical(terms[f]) for f in self.fields}
        if len(self.fields) == 1:
            self.lexical[ALL] = self.lexical[self.fields[0]]
        else:  # tokens never cross a space: the joined field's terms are the fields' terms
            self.lexical[ALL] = Lexical(
                [list(chain.from_iterable(p)) for p in zip(*terms.values(), strict=True)]
            )
        self.term_sets = [frozenset(t) for t in self.lexical[ALL].tokens]
        # embeddings per text field (not of the joined field: a cosine compares two statements)
        self.vectors = {
            e.name: {f: e.encode(texts[f], batch_size=batch_size) for f in catalog.fields}
            for e in self.embedders
        }
        self.feature_names = self._feature_names()
        self.reranker = self._reranker(rerank)

    @property
    def signals(self) -> str:
        return signal_key([e.name for e in self.embedders])

    def _reranker(self, rerank: bool | str | Path | Rerank | None) -> Rerank | None:
        if rerank is False or rerank is None:
            return None
        if isinstance(rerank, Rerank):
            model = rerank
        else:
            table = shipped_rerankers(None if rerank is True else rerank)
            models = table.get("models", {})
            if self.signals not in models:
                raise CatalogError(
                    f"no fitted re-ranker for signals '{self.signals}' (have: {', '.join(models)}); "
                    "pass rerank=False for rank fusion"
                )
            model = Rerank.from_json(models[self.signals])
        missing = [f for f in model.features if f not in self.feature_names]
        if missing:
            raise CatalogError(
                f"the re-ranker needs features this matcher lacks: {', '.join(missing)} "
                f"(its features: {', '.join(self.feature_names)})"
            )
        return model

    def _feature_names(self) -> list[str]:
        names = []
        for role in self.roles:
            names += [f"bm25_{role}", f"bm25_{role}_rel"]
        names.append("bm25_rr")
        for e in self.embedders:
            for role in ("f0", "f1"):
                names += [f"cos_{e.name}_{role}", f"cos_{e.name}_{role}_rel", f"cos_{e.name}_{role}_seg"]
            names += [f"cos_{e.name}_max", f"cos_{e.name}_rr"]
        names += ["overlap", "cover"]
        return names

    # -- search --

    def search(
        self,
        queries: Sequence[str] | Catalog,
        top: int = 5,
        query_ids: Sequence[str] | None = None,
        min_score: float | None = None,
    ) -> list[list[Match]]:
        """The ``top`` best entries for each query (plain strings or a :class:`Catalog`), best first.

        ``min_score`` drops matches scoring below it (with the fitted re-ranker a score is a probability, so
        0.5 keeps the entries more likely than not to state the query's claim); a query may then get none.
        """
        if isinstance(queries, str):
            raise TypeError("search() takes a sequence of queries, not one string")
        if isinstance(queries, Catalog):
            ids: list[str | None] = list(queries.ids)
            texts = [queries.text(i) for i in range(len(queries))]
        else:
            texts = list(queries)
            ids = [str(q) for q in query_ids] if query_ids is not None else [None] * len(texts)
        if len(ids) != len(texts):
            raise ValueError("query_ids needs one id per query")
        results = [
            self._rank(qid, rows, x, top) for qid, (rows, x) in zip(ids, self.features(texts), strict=True)
        ]
        if min_score is not None:
            results = [[m for m in matches if m.score >= min_score] for matches in results]
        return results

    def features(
        self, queries: Sequence[str], extra: Iterable[Iterable[str]] | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """For each query: the candidates (positions among the canonical entries) and their feature matrix,
        one row per candidate, columns as :attr:`feature_names`. ``extra`` adds entry ids to a query's
        candidates (when fitting, so that the right entry is among them)."""
        norm = [normalize_text(q, tweet=self.tweets) for q in queries]
        extras = list(extra) if extra is not None else [() for _ in norm]
        for start in range(0, len(norm), QUERY_CHUNK):
            yield from self._features(norm[start : start + QUERY_CHUNK], extras[start : start + QUERY_CHUNK])

    def _features(
        self, norm: list[str], extras: list[Iterable[str]]
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        parts = [segments(q) for q in norm]
        flat = [s for p in parts for s in p]
        # cosines of every query (and query sentence) with every entry field: one matrix product each
        full, by_segment = {}, {}
        for e in self.embedders:
            queries = e.encode(norm, batch_size=self.batch_size)
            sentences = e.encode(flat, batch_size=self.batch_size)
            full[e.name] = {f: queries @ self.vectors[e.name][f].T for f in self.catalog.fields}
            by_segment[e.name] = {f: sentences @ self.vectors[e.name][f].T for f in self.catalog.fields}
        n = len(self.entries)
        k = min(self.candidates, n)
        offset = 0
        for qi, text in enumerate(norm):
            tokens = tokenize(text)
            lexical = {f: self.lexical[f].scores(tokens) for f in {*self.roles.values()}}
            own = slice(offset, offset + len(parts[qi]))
            offset += len(parts[qi])
            cosines, segment_best = {}, {}
            for e in self.embedders:
                cosines[e.name] = {f: full[e.name][f][qi] for f in self.catalog.fields}
                segment_best[e.name] = {
                    f: np.maximum(cosines[e.name][f], by_segment[e.name][f][own].max(0))
                    if parts[qi]
                    else cosines[e.name][f]
                    for f in self.catalog.fields
                }
            pool: set[int] = {self.position[x] for x in extras[qi] if x in self.position}
            main = lexical[ALL]
            pool.update(_top(main, k))
            for e in self.embedders:
                for f in self.fields:
                    pool.update(_top(cosines[e.name][f], k))
            rows = np.fromiter(sorted(pool), dtype=np.int64)
            columns = []
            for field_name in self.roles.values():
                values = lexical[field_name]
                best = float(values.max())
                columns += [values[rows], values[rows] / best if best > 0 else np.zeros(len(rows))]
            columns.append(1.0 / (1.0 + _rank_of(main, rows)))
            for e in self.embedders:
                for role in ("f0", "f1"):
                    values = cosines[e.name][self.roles[role]]
                    columns += [
                        values[rows],
                        values[rows] - float(values.max()),
                        segment_best[e.name][self.roles[role]][rows],
                    ]
                best_field = np.max([cosines[e.name][f] for f in self.fields], axis=0)
                columns += [best_field[rows], 1.0 / (1.0 + _rank_of(best_field, rows))]
            query_terms = set(tokens)
            overlap, cover = np.zeros(len(rows)), np.zeros(len(rows))
            for r, j in enumerate(rows):
                terms = self.term_sets[j]
                shared = len(query_terms & terms)
                union = len(query_terms | terms)
                overlap[r] = shared / union if union else 0.0
                cover[r] = shared / len(terms) if terms else 0.0
            columns += [overlap, cover]  # the order of _feature_names
            yield rows, np.column_stack(columns).astype(np.float64)

    def _scores(self, x: np.ndarray) -> np.ndarray:
        if self.reranker is None:
            return self._fusion(x)
        columns = [self.feature_names.index(f) for f in self.reranker.features]
        return 1.0 / (1.0 + np.exp(-np.clip(self.reranker.logits(x[:, columns]), -500, 500)))

    def _rank(self, qid: str | None, rows: np.ndarray, x: np.ndarray, top: int) -> list[Match]:
        scores = self._scores(x)
        order = np.lexsort((rows, -scores))[:top]
        matches = []
        for rank, r in enumerate(order, start=1):
            j = self.entries[int(rows[r])]
            matches.append(
                Match(
                    entry_id=self.catalog.ids[j],
                    score=float(scores[r]),
                    rank=rank,
                    query_id=qid,
                    text=self.catalog.first_text(j),
                    signals={name: float(x[r, c]) for c, name in enumerate(self.feature_names)},
                    meta=self.catalog.meta[j],
                    duplicates=tuple(self.duplicates.get(j, ())),
                )
            )
        return matches

    def _fusion(self, x: np.ndarray, k: float = 60.0) -> np.ndarray:
        """Reciprocal-rank fusion over the candidates: BM25 on all fields together, best cosine per embedder."""
        names = ["bm25_all"] + [f"cos_{e.name}_max" for e in self.embedders]
        total = np.zeros(len(x))
        for name in names:
            total += 1.0 / (k + 1.0 + _rank_of(x[:, self.feature_names.index(name)], np.arange(len(x))))
        return total


def _top(values: np.ndarray, k: int) -> list[int]:
    return np.argpartition(-values, k - 1)[:k].tolist() if k < len(values) else list(range(len(values)))


def _rank_of(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """0-based rank of ``values[rows]`` among all ``values`` (higher is better; ties share the best rank)."""
    ordered = np.sort(values)
    return (len(values) - np.searchsorted(ordered, values[rows], side="right")).astype(np.float64)


# -- evaluation --------------------------------------------------------------------------------------------


def read_qrels(path: str | Path) -> dict[str, set[str]]:
    """TREC qrels (``qid 0 docid relevance``, tab or space separated): the relevant doc ids per query."""
    relevant: dict[str, set[str]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4:
            raise CatalogError(f"{path}: line {number} is not 'qid 0 docid relevance'")
        if float(parts[3]) > 0:
            relevant.setdefault(parts[0], set()).add(parts[2])
    return relevant


def score_run(
    run: Mapping[str, Sequence[tuple[str, float]] | Sequence[Match]],
    qrels: Mapping[str, set[str]],
    k: int = 5,
) -> dict[str, float]:
    """MAP@k, MRR and P@1 of a run (query id -> ranked (doc id, score) or :class:`Match` list) over the
    queries of ``qrels``. AP@k = sum of the precision at each relevant rank <= k, divided by the number of
    relevant entries (trec_eval's map cut at depth k, as trectools computes it in the CLEF-2020 task 2
    scorer); MRR looks at the whole ranked list given."""
    aps, rrs, p1s = [], [], []
    for qid, relevant in qrels.items():
        ranked = [m.entry_id if isinstance(m, Match) else m[0] for m in run.get(qid, [])]
        hits, precision_sum, rr = 0, 0.0, 0.0
        for position, doc in enumerate(ranked, start=1):
            if doc in relevant:
                if position <= k:
                    hits += 1
                    precision_sum += hits / position
                if rr == 0.0:
                    rr = 1.0 / position
        aps.append(precision_sum / len(relevant) if relevant else 0.0)
        rrs.append(rr)
        p1s.append(1.0 if ranked[:1] and ranked[0] in relevant else 0.0)
    n = max(len(qrels), 1)
    return {
        f"map@{k}": round(sum(aps) / n, 4),
        "mrr": round(sum(rrs) / n, 4),
        "p@1": round(sum(p1s) / n, 4),
        "queries": len(qrels),
    }
