"""Running the language pipeline: over everything stored and not yet annotated, or straight over files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from newstrace.engines.local import Workers, default_jobs, ordered_map, tapering
from newstrace.ingest.pipeline import read_documents
from newstrace.model import Annotations, Document, Problem
from newstrace.nlp.annotate import NlpConfig, annotate_documents
from newstrace.nlp.pipeline import alias_table
from newstrace.nlp.timex import resolve_document_dates
from newstrace.store import DEFAULT_DB, Store

Event = Callable[[str, Any], None]
# Below this many documents a second process costs more (loading spaCy, ~2 s) than it saves.
DOCS_WORTH_A_POOL = 300


@dataclass
class AnnotateReport:
    db: str
    run_id: str
    documents: int = 0
    words: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def words_per_second(self) -> float:
        return self.words / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (
            f"{self.documents} annotated, {self.failed} failed"
            + (": see errors" if self.failed else "")
            + f" · {self.words_per_second:,.0f} words/s"
        )


def _crashed(batch: list[Document], exc: BaseException) -> list[Annotations | Problem]:
    return [
        Problem(d.source_path, "annotate", "a worker process crashed", str(exc), d.locator) for d in batch
    ]


def annotate(
    db: str | Path = DEFAULT_DB,
    *,
    model: str | None = None,
    aliases: Sequence[str | Path] = (),
    places: Sequence[str | Path] = (),
    labels: Sequence[str | Path] = (),
    attributions: bool = True,
    jobs: int | None = None,
    batch_size: int = 32,
    limit: int | None = None,
    on_event: Event | None = None,
    workers: Workers | None = None,
    after_batch: Callable[[Store, list[str]], None] | None = None,
) -> AnnotateReport:
    """Annotate every stored document that has no annotations yet (so a killed run resumes where it stopped).

    ``workers`` (from :func:`start_annotators`) annotates on processes already started, whatever the number
    of documents; they are left open.

    ``attributions=False`` skips attribution extraction (the slowest stage) for a fast first pass; those
    documents count as annotated, so run ``annotate`` on a fresh store to add attributions later.
    ``on_event`` receives ``start`` (documents to do), ``stored`` (documents done) and ``done`` (the report).
    ``after_batch(store, doc_ids)`` is called once each batch is stored, with the ids it annotated, so later
    stages can start on them (``newstrace run`` embeds their claims meanwhile: :mod:`newstrace.link.prefetch`).
    """
    emit: Event = on_event or (lambda kind, payload: None)
    config = NlpConfig.of(model, aliases, places, attributions, labels)
    table = alias_table(config.aliases)  # read the files now, so a bad one fails before any work
    started = time.perf_counter()
    with Store(db) as store:
        report = AnnotateReport(str(db), store.start_run(f"annotate {config.describe()}"))
        store.write_actors(
            (a.actor_id, a.canonical, a.kind, table.labels[a.actor_id], list(a.aliases))
            for a in table.actors.values()
        )
        total = min(store.count_unannotated(), limit) if limit else store.count_unannotated()
        emit("start", total)
        if workers is not None:
            jobs = workers.jobs
        elif jobs is None:
            jobs = default_jobs() if total >= DOCS_WORTH_A_POOL else 1
        batches = store.unannotated(tapering(batch_size, jobs) if jobs > 1 else batch_size, limit)
        status = "running"
        try:
            results = ordered_map(
                partial(annotate_documents, config=config),
                batches,
                jobs=jobs,
                chunk_size=1,
                window=2 * jobs,
                on_crash=_crashed,
                workers=workers,
            )
            for result in results:
                done = [r for r in result if isinstance(r, Annotations)]
                problems = [r for r in result if isinstance(r, Problem)]
                store.write_annotations(report.run_id, config.describe(), done, problems)
                report.documents += len(done)
                report.failed += len(problems)
                ids = [a.doc_id for a in done]
                if ids:
                    report.words += store.one(
                        "SELECT coalesce(sum(n_words), 0) FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                        [ids],
                    )[0]
                for problem in problems:
                    emit("problem", problem)
                emit("stored", len(result))
                if after_batch is not None and ids:
                    after_batch(store, ids)
            redate_from_corpus(store, report.run_id)
            status = "done"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            report.seconds = time.perf_counter() - started
            store.finish_run(
                report.run_id,
                status,
                {"records": report.documents, "stored": report.documents, "failed": report.failed},
            )
    emit("done", report)
    return report


# Rules that read a year out of the text itself; a document with none of them borrowed its year from "today".
_OWN_YEAR_RULES = ("explicit", "year", "relative-year")


def redate_from_corpus(store: Store, run_id: str) -> int:
    """Re-read the dates of undated documents that name no year ("Last Monday, May 6th"), bounded by the
    latest date known in the rest of the corpus instead of today. Returns the number of documents changed."""
    rows = store.sql(
        """SELECT d.doc_id, d.text, list(t.rule) AS rules, list([t.start, t."end"]) AS spans
           FROM documents d JOIN timexes t USING (doc_id)
           WHERE coalesce(d.published_source, 'inferred') = 'inferred' GROUP BY d.doc_id, d.text"""
    )
    changed = 0
    for doc_id, text, rules, spans in rows.itertuples(index=False):
        if "weekday-year" not in rules or any(rule in _OWN_YEAR_RULES for rule in rules):
            continue
        latest = store.one(
            "SELECT max(published) FROM documents WHERE doc_id <> ? AND published IS NOT NULL", [doc_id]
        )[0]
        if latest is None:
            continue
        timexes, published, source = resolve_document_dates(
            text, None, [tuple(span) for span in spans], source=None, latest=latest
        )
        annotations = Annotations(
            doc_id=doc_id, timexes=timexes, published=published, published_source=source
        )
        store.replace_dates(annotations)
        changed += 1
    return changed


def annotate_files(
    paths: Iterable[str | Path],
    *,
    model: str | None = None,
    aliases: Sequence[str | Path] = (),
    places: Sequence[str | Path] = (),
    labels: Sequence[str | Path] = (),
    format: str | None = None,
    mapping: str | dict[str, str] | None = None,
    batch_size: int = 16,
) -> Iterator[dict[str, Any] | Problem]:
    """Annotate files directly: one JSON-ready record per article, offsets into the text exactly as read.

    For plain-text files "as read" is the file's decoded text; for other formats it is the text the reader
    produced (the page's extracted text, a record's text field).
    """
    config = NlpConfig.of(model, aliases, places, labels=labels)
    batch: list[Document] = []

    def flush() -> Iterator[dict[str, Any] | Problem]:
        for document, result in zip(batch, annotate_documents(batch, config), strict=True):
            yield result if isinstance(result, Problem) else file_record(document, result)
        batch.clear()

    for item in read_documents(paths, format=format, mapping=mapping):
        if isinstance(item, Problem):
            yield item
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            yield from flush()
    yield from flush()


def file_record(document: Document, annotations: Annotations) -> dict[str, Any]:
    """The stable `newstrace annotate FILE --jsonl` shape, offsets mapped from clean to raw text."""

    def raw(start: int, end: int) -> dict[str, Any]:
        raw_start, raw_end = document.raw_span(start, end)
        return {"start": raw_start, "end": raw_end, "text": document.raw_text[raw_start:raw_end]}

    actors = alias_table()
    record: dict[str, Any] = {"file": document.source_path}
    if document.locator:
        record["locator"] = document.locator
    record["published"] = annotations.published.isoformat() if annotations.published else None
    record["published_source"] = annotations.published_source
    record["entities"] = [
        {
            **raw(m.start, m.end),
            "label": m.label,
            "actor_id": m.actor_id,
            "canonical": m.canonical
            or (actors.actors[m.actor_id].canonical if m.actor_id in actors.actors else None),
        }
        for m in annotations.mentions
    ]
    record["labels"] = [
        {**raw(x.start, x.end), "actor_id": x.actor_id, "label": x.label, "head": x.head, "rule": x.rule}
        for x in annotations.labels
    ]
    record["places"] = [
        {
            **raw(p.start, p.end),
            "name": p.name,
            "lat": p.lat,
            "lon": p.lon,
            "country": p.country,
            "geonames_id": p.geonames_id,
            "place_id": p.place_id,
        }
        for p in annotations.places
    ]
    record["timexes"] = [
        {**raw(t.start, t.end), "value": t.value, "rule": t.rule} for t in annotations.timexes
    ]
    record["attributions"] = [
        {
            "source": [raw(s, e) for s, e in a.source],
            "cue": [raw(s, e) for s, e in a.cue],
            "content": [raw(s, e) for s, e in a.content],
            "source_type": a.source_type,
            "modality": a.modality,
            "source_actor": a.source_actor,
            "source_org": a.source_org,
            "hedged": a.hedged,
        }
        for a in annotations.attributions
    ]
    return record
