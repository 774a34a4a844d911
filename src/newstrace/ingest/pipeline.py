"""``ingest``: read any pile of article files into the store, cleaned, deduplicated and resumable.

Readers turn files into raw articles, ``prepare`` cleans each one (in worker processes), and the writer stores
batches in transactions. A bad input becomes a row in ``errors`` and never stops the run; a killed run keeps
every batch it committed, and running it again completes the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from newstrace.engines.local import default_jobs, ordered_map
from newstrace.ingest.clean import load_rules
from newstrace.ingest.csv_reader import read_csv
from newstrace.ingest.fields import parse_mapping
from newstrace.ingest.json_reader import read_json, read_jsonl
from newstrace.ingest.outlet_clean import OutletRepeats, clean_outlet_repeats
from newstrace.ingest.prepare import PrepareOptions, prepare
from newstrace.ingest.sources import DEFAULT_MAX_BYTES, InputError, InputFile, ReadOptions, find_inputs
from newstrace.ingest.txt_reader import read_txt
from newstrace.model import Document, FileDone, Problem, RawArticle
from newstrace.store import DEFAULT_DB, Store


# The HTML and WARC readers bring trafilatura and warcio: imported with the first file that needs them, so
# that commands reading other formats, or none, start fast.
def _read_html(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    from newstrace.ingest.html_reader import read_html

    return read_html(item, options)


def _read_warc(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    from newstrace.ingest.warc_reader import read_warc

    return read_warc(item, options)


READERS: dict[str, Callable[[InputFile, ReadOptions], Iterator[RawArticle | Problem]]] = {
    "txt": read_txt,
    "html": _read_html,
    "jsonl": read_jsonl,
    "json": read_json,
    "csv": read_csv,
    "warc": _read_warc,
}

Event = Callable[[str, Any], None]
StreamItem = RawArticle | Problem | FileDone


@dataclass
class IngestReport:
    """What one ingest run did. ``failed`` counts inputs (files or records) that produced an error."""

    db: str
    run_id: str
    files: int = 0
    files_skipped: int = 0
    records: int = 0
    stored: int = 0
    duplicates: int = 0
    skipped: int = 0
    failed: int = 0
    warnings: int = 0
    outlet_boilerplate_lines: int = 0
    seconds: float = 0.0
    status: str = "running"
    problems: list[Problem] = field(default_factory=list)

    @property
    def docs_per_second(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        parts = [f"{self.stored} stored"]
        if self.duplicates:
            parts.append(f"{self.duplicates} duplicates")
        if self.skipped:
            parts.append(f"{self.skipped} already stored")
        if self.files_skipped:
            parts.append(f"{self.files_skipped} unchanged files skipped")
        tail = f"{self.failed} failed: see errors" if self.failed else "0 failed"
        if self.warnings:
            tail += f" ({self.warnings} warnings)"
        return ", ".join(parts) + ", " + tail

    def counts(self) -> dict[str, int]:
        return {
            "files": self.files,
            "records": self.records,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "skipped": self.skipped + self.files_skipped,
            "failed": self.failed,
            "warnings": self.warnings,
        }


def _prepare_item(
    item: StreamItem, options: PrepareOptions
) -> tuple[StreamItem | Document | None, list[Problem]]:
    """Worker side: clean a raw article; let markers and problems through untouched."""
    if not isinstance(item, RawArticle):
        return item, []
    try:
        return prepare(item, options)
    except Exception as exc:
        return None, [
            Problem(
                item.source_path,
                "clean",
                f"unexpected error: {type(exc).__name__}: {exc}",
                locator=item.locator,
            )
        ]


def _crashed(item: StreamItem, exc: BaseException) -> tuple[None, list[Problem]]:
    where = item.source_path if isinstance(item, RawArticle | Problem | FileDone) else "?"
    locator = item.locator if isinstance(item, RawArticle) else ""
    return None, [Problem(where, "clean", "a worker process crashed on this article", str(exc), locator)]


# Below this many pages, starting worker processes (each loads trafilatura and lxml) costs more than it
# saves: 200 pages took 3.9 s in-process and 3.7 s with two workers (benchmarks/RESULTS.md).
PAGES_WORTH_A_POOL = 500


def _default_jobs(inputs: list[InputFile | Problem]) -> int:
    """Worker processes for HTML extraction, the expensive step; plain text and tables clean fast in-process."""
    files = [i for i in inputs if isinstance(i, InputFile)]
    n_pages = sum(i.format == "html" for i in files)
    has_archive = any(i.format == "warc" for i in files)
    return default_jobs() if has_archive or n_pages >= PAGES_WORTH_A_POOL else 1


def _read_all(
    inputs: Iterable[InputFile | Problem],
    store: Store,
    options: ReadOptions,
    force: bool,
    report: IngestReport,
    emit: Event,
) -> Iterator[StreamItem]:
    completed = set() if force else store.completed_files()
    for item in inputs:
        if isinstance(item, Problem):
            yield item
            continue
        fingerprint = item.fingerprint(options.describe())
        if (item.name, fingerprint) in completed:
            report.files_skipped += 1
            emit("file_skipped", item.name)
            continue
        emit("file", item.name)
        report.files += 1
        already = store.stored_locators(item.name)
        n_records = n_problems = 0
        fatal = False
        for record in read_records(item, options):
            if isinstance(record, Problem):
                n_problems += 1
                fatal = fatal or (record.severity == "error" and not record.locator)
                yield record
            elif record.locator in already:
                report.skipped += 1
            else:
                n_records += 1
                yield record
        if not fatal:
            # A file that failed as a whole is tried again next run (its permissions may have been fixed).
            yield FileDone(item.name, fingerprint, n_records, n_problems)


def read_records(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    """The articles of one file; a file that cannot be read (further) ends with a whole-file Problem."""
    try:
        yield from READERS[item.format](item, options)
    except InputError as exc:
        yield Problem(item.name, "read", exc.error, exc.detail)
    except Exception as exc:
        yield Problem(item.name, "read", f"unexpected error: {type(exc).__name__}: {exc}")


def read_documents(
    paths: Iterable[str | Path],
    *,
    format: str | None = None,
    mapping: str | dict[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    date_order: str = "MDY",
) -> Iterator[Document | Problem]:
    """Clean documents straight from files, without a store (for commands that work on files)."""
    fields = mapping if isinstance(mapping, dict) else parse_mapping(mapping)
    options = ReadOptions(tuple(sorted(fields.items())), max_bytes)
    prepare_options = PrepareOptions(load_rules(), date_order)
    for item in find_inputs(paths, format):
        if isinstance(item, Problem):
            yield item
            continue
        for record in read_records(item, options):
            if isinstance(record, Problem):
                yield record
                continue
            document, problems = _prepare_item(record, prepare_options)
            yield from problems
            if isinstance(document, Document):
                yield document


def ingest(
    paths: Iterable[str | Path],
    db: str | Path = DEFAULT_DB,
    *,
    format: str | None = None,
    mapping: str | dict[str, str] | None = None,
    boilerplate: str | Path | None = None,
    date_order: str = "MDY",
    max_bytes: int = DEFAULT_MAX_BYTES,
    delimiter: str | None = None,
    jobs: int | None = None,
    batch_size: int = 250,
    force: bool = False,
    outlet_min_docs: int = 5,
    outlet_min_share: float = 0.2,
    on_event: Event | None = None,
    command: str | None = None,
) -> IngestReport:
    """Read articles from files and folders into the store at ``db``.

    ``mapping`` maps document fields to input columns for CSV/JSON (``"text=article_content,outlet=source"``).
    Files unchanged since a completed earlier run are skipped, and records already stored are not read again.
    ``on_event(kind, payload)`` receives progress: ``start`` (number of files), ``file``, ``file_skipped``,
    ``problem`` (a :class:`Problem`), ``stored`` (number of new documents), ``done`` (the report).
    """
    emit: Event = on_event or (lambda kind, payload: None)
    fields = mapping if isinstance(mapping, dict) else parse_mapping(mapping)
    read_options = ReadOptions(tuple(sorted(fields.items())), max_bytes, delimiter)
    prepare_options = PrepareOptions(load_rules(str(boilerplate) if boilerplate else None), date_order)
    started = time.perf_counter()
    with Store(db) as store:
        report = IngestReport(str(db), store.start_run(command or "ingest " + " ".join(map(str, paths))))
        inputs = list(find_inputs(paths, format))
        emit("start", sum(isinstance(item, InputFile) for item in inputs))
        stream = _read_all(inputs, store, read_options, force, report, emit)
        if jobs is None:
            jobs = _default_jobs(inputs)
        prepared = ordered_map(
            partial(_prepare_item, options=prepare_options), stream, jobs=jobs, on_crash=_crashed
        )
        try:
            _write(store, report, prepared, batch_size, emit)
            report.outlet_boilerplate_lines = clean_outlet_repeats(
                store, report.run_id, OutletRepeats(outlet_min_docs, outlet_min_share)
            )
            report.status = "done"
        except KeyboardInterrupt:
            report.status = "interrupted"
            raise
        finally:
            report.seconds = time.perf_counter() - started
            store.finish_run(report.run_id, report.status, report.counts())
    emit("done", report)
    return report


def _write(store: Store, report: IngestReport, prepared: Iterable[Any], batch_size: int, emit: Event) -> None:
    documents: list[Document] = []
    problems: list[Problem] = []
    files_done: list[FileDone] = []
    failed_inputs: set[tuple[str, str]] = set()

    def flush() -> None:
        if not (documents or problems or files_done):
            return
        result = store.write_batch(report.run_id, documents, problems, files_done)
        report.stored += len(result.stored)
        report.duplicates += result.duplicates
        report.skipped += result.skipped
        emit("stored", len(result.stored))
        documents.clear()
        problems.clear()
        files_done.clear()

    for output, item_problems in prepared:
        if isinstance(output, Problem):
            item_problems = [output, *item_problems]
        elif isinstance(output, FileDone):
            files_done.append(output)
        elif isinstance(output, Document):
            report.records += 1
            documents.append(output)
        elif output is None:  # an article that could not be cleaned
            report.records += 1
        for problem in item_problems:
            problems.append(problem)
            report.problems.append(problem)
            if problem.severity == "error":
                key = (problem.source_path, problem.locator)
                if key not in failed_inputs:
                    failed_inputs.add(key)
                    report.failed += 1
            else:
                report.warnings += 1
            emit("problem", problem)
        if len(documents) >= batch_size or len(problems) >= batch_size:
            flush()
    flush()
