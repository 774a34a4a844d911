"""Text reuse: which documents share which passages, with offsets in both.

Three steps, as in passim: winnowed n-gram fingerprints propose candidate pairs, alignment turns each pair
into passages, and each passage is marked same-outlet recycling or cross-outlet reuse, earlier document first.
:func:`find_reuse` works on plain texts; :func:`link_reuse` works on a store, incrementally.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from newstrace.link.align import AlignConfig, Passage, align
from newstrace.link.candidates import candidate_pairs
from newstrace.link.shingles import Tokens, tokenize_many, winnow
from newstrace.model import Document, Problem, ReuseDirection, ReuseKind, ReusePair

Event = Callable[[str, Any], None]


@dataclass(frozen=True, slots=True)
class ReuseConfig:
    """How reuse is found. The defaults find passages of 8 or more words, edited or verbatim."""

    ngram: int = 5  # words per shingle
    window: int = 4  # winnowing window: any shared run of ngram + window - 1 words proposes its pair
    max_df: int = 100  # a shingle in more documents than this is boilerplate and proposes no pairs
    # Fingerprints a pair must share to be aligned. Two skip pairs that share only a stock phrase (most
    # candidates) and keep 99% of passages of 12+ words; 1 also finds every 8-11-word passage, ~2x slower.
    min_shared: int = 2
    min_words: int = 8  # shortest passage, in words, on each side
    gap: int = 12  # words an edit may break between two matching shingles of one passage
    drift: int = 6  # words inserted or dropped between two matching shingles of one passage

    @property
    def align_config(self) -> AlignConfig:
        return AlignConfig(ngram=self.ngram, gap=self.gap, drift=self.drift, min_words=self.min_words)

    def describe(self) -> str:
        return " ".join(f"{key}={value}" for key, value in asdict(self).items())


@dataclass(frozen=True, slots=True)
class ReuseMatch:
    """A passage shared by ``texts[a]`` and ``texts[b]`` (``a < b``), offsets into those texts."""

    a: int
    b: int
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float
    n_words: int


def fingerprints(tokens: Tokens, config: ReuseConfig) -> np.ndarray:
    """The winnowed shingle hashes a document is indexed by."""
    return winnow(tokens.grams(config.ngram)[0], config.window)


def find_reuse(texts: Sequence[str], config: ReuseConfig | None = None) -> list[ReuseMatch]:
    """Every passage shared by two of ``texts``, in order of (a, b, position in a)."""
    config = config or ReuseConfig()
    tokens = tokenize_many(texts)
    candidates = candidate_pairs(
        [fingerprints(t, config) for t in tokens], max_df=config.max_df, min_shared=config.min_shared
    )
    matches = []
    for a, b in candidates.pairs.tolist():
        for passage in align(tokens[a], tokens[b], config.align_config, (texts[a], texts[b])):
            matches.append(ReuseMatch(a, b, *_offsets(passage), passage.score, passage.n_words))
    return matches


def _offsets(passage: Passage) -> tuple[int, int, int, int]:
    return passage.a_start, passage.a_end, passage.b_start, passage.b_end


@dataclass(frozen=True, slots=True)
class DocInfo:
    """What classification needs to know about a document."""

    doc_id: str
    outlet: str | None
    published: date | None


def reuse_pair(passage: Passage, a: DocInfo, b: DocInfo) -> ReusePair:
    """``passage`` between documents a and b as a stored pair: earlier document first, kind and direction."""
    # Earlier document first; when the dates cannot tell, a fixed order keeps runs comparable.
    if (
        (b.published, b.doc_id) < (a.published, a.doc_id)
        if a.published and b.published
        else b.doc_id < a.doc_id
    ):
        a, b = b, a
        passage = Passage(
            passage.b_start, passage.b_end, passage.a_start, passage.a_end, passage.score, passage.n_words
        )
    kind: ReuseKind
    if not a.outlet or not b.outlet:
        kind = "unknown"
    elif _outlet_key(a.outlet) == _outlet_key(b.outlet):
        kind = "recycled"
    else:
        kind = "cross-outlet"
    direction: ReuseDirection
    if not a.published or not b.published:
        direction = "unknown"
    elif a.published == b.published:
        direction = "same_day"
    else:
        direction = "a_to_b"
    return ReusePair(
        a.doc_id,
        passage.a_start,
        passage.a_end,
        b.doc_id,
        passage.b_start,
        passage.b_end,
        passage.score,
        kind,
        direction,
        passage.n_words,
    )


def _outlet_key(outlet: str) -> str:
    return " ".join(outlet.casefold().split())


@dataclass
class LinkReport:
    db: str
    run_id: str
    new_documents: int = 0
    indexed_documents: int = 0
    candidate_pairs: int = 0
    passages: int = 0
    boilerplate_shingles: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.new_documents} new documents compared with {self.indexed_documents} indexed: "
            f"{self.candidate_pairs} candidate pairs, {self.passages} reused passages "
            f"({self.boilerplate_shingles} boilerplate shingles skipped) in {self.seconds:.1f} s"
        )


def link_reuse(
    db: str | Path,
    config: ReuseConfig | None = None,
    *,
    chunk_size: int = 2000,
    on_event: Event | None = None,
) -> LinkReport:
    """Find reuse between the store's new documents and every document, and store it in ``reuse``.

    A document is new until it is in ``reuse_index``. Pairs between indexed documents are never recomputed.
    Each chunk of new documents is written with its passages in one transaction, so a killed run loses at
    most one chunk and the next run completes it. ``on_event`` receives ``start`` (new documents),
    ``pairs`` (candidate pairs of a chunk), ``aligned`` (pairs done) and ``indexed`` (documents done).
    """
    from newstrace.store import Store

    config = config or ReuseConfig()
    emit: Event = on_event or (lambda kind, payload: None)
    started = time.perf_counter()
    with Store(db) as store:
        report = LinkReport(str(db), store.start_run(f"link {config.describe()}"))
        status = "running"
        try:
            new_ids = store.unindexed_documents()
            report.new_documents = len(new_ids)
            emit("start", len(new_ids))
            for offset in range(0, len(new_ids), chunk_size):
                _link_chunk(store, new_ids[offset : offset + chunk_size], config, report, emit)
            report.indexed_documents = store.one("SELECT count(*) FROM reuse_index")[0]
            status = "done"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            report.seconds = time.perf_counter() - started
            store.finish_run(
                report.run_id, status, {"records": report.new_documents, "stored": report.passages}
            )
    emit("done", report)
    return report


def _link_chunk(
    store: Any, chunk_ids: list[str], config: ReuseConfig, report: LinkReport, emit: Event
) -> None:
    old_ids, old_fingerprints = store.reuse_fingerprints()
    chunk_docs = store.reuse_documents(chunk_ids)
    chunk_tokens = dict(
        zip(chunk_docs, tokenize_many([text for text, _ in chunk_docs.values()]), strict=True)
    )
    chunk_fingerprints = [fingerprints(chunk_tokens[doc_id], config) for doc_id in chunk_ids]
    ids = old_ids + chunk_ids
    new = np.zeros(len(ids), dtype=bool)
    new[len(old_ids) :] = True
    candidates = candidate_pairs(
        old_fingerprints + chunk_fingerprints, new=new, max_df=config.max_df, min_shared=config.min_shared
    )
    report.candidate_pairs += len(candidates.pairs)
    report.boilerplate_shingles = max(report.boilerplate_shingles, candidates.boilerplate)
    emit("pairs", len(candidates.pairs))

    needed = {ids[i] for pair in candidates.pairs.tolist() for i in pair} - chunk_docs.keys()
    old_docs = store.reuse_documents(sorted(needed))
    docs = {**chunk_docs, **old_docs}
    old_tokens = tokenize_many([text for text, _ in old_docs.values()])
    tokens = {**chunk_tokens, **dict(zip(old_docs, old_tokens, strict=True))}
    rows: list[ReusePair] = []
    for done, (i, j) in enumerate(candidates.pairs.tolist(), 1):
        a, b = ids[i], ids[j]
        (text_a, info_a), (text_b, info_b) = docs[a], docs[b]
        for passage in align(tokens[a], tokens[b], config.align_config, (text_a, text_b)):
            rows.append(reuse_pair(passage, info_a, info_b))
        if done % 200 == 0:
            emit("aligned", 200)
    emit("aligned", len(candidates.pairs) % 200)
    store.write_reuse(report.run_id, rows, list(zip(chunk_ids, chunk_fingerprints, strict=True)))
    report.passages += len(rows)
    emit("indexed", len(chunk_ids))


def reuse_files(
    paths: Sequence[str | Path],
    config: ReuseConfig | None = None,
    *,
    format: str | None = None,
    mapping: str | dict[str, str] | None = None,
) -> Iterator[dict[str, Any] | Problem]:
    """Reuse between files, without a store: the stable ``newstrace reuse PATH... --jsonl`` records.

    Offsets are into each file's text exactly as read (as for ``newstrace annotate FILE``). Problems with
    single inputs are yielded too, and the other files are still compared.
    """
    from newstrace.ingest.pipeline import read_documents

    documents: list[Document] = []
    for item in read_documents(paths, format=format, mapping=mapping):
        if isinstance(item, Problem):
            yield item
        else:
            documents.append(item)
    texts = [document.text for document in documents]
    infos = [DocInfo(str(index), d.outlet, d.published) for index, d in enumerate(documents)]
    for match in find_reuse(texts, config):
        passage = Passage(match.a_start, match.a_end, match.b_start, match.b_end, match.score, match.n_words)
        pair = reuse_pair(passage, infos[match.a], infos[match.b])
        a, b = documents[int(pair.doc_a)], documents[int(pair.doc_b)]
        a_start, a_end = a.raw_span(pair.a_start, pair.a_end)
        b_start, b_end = b.raw_span(pair.b_start, pair.b_end)
        record: dict[str, Any] = {"a": a.source_path}
        if a.locator:
            record["a_locator"] = a.locator
        record.update({"a_start": a_start, "a_end": a_end, "b": b.source_path})
        if b.locator:
            record["b_locator"] = b.locator
        record.update(
            {
                "b_start": b_start,
                "b_end": b_end,
                "score": pair.score,
                "kind": pair.kind,
                "direction": pair.direction,
                "n_words": pair.n_words,
            }
        )
        yield record
