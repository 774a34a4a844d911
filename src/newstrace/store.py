"""The store: one versioned schema in a DuckDB file, readable as pandas or exported as JSONL, CSV or Parquet.

Every table keys back to ``doc_id`` and character offsets. Writes happen in transactions of whole batches, so
a run that is killed loses at most the batch in flight, and a re-run completes it.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from newstrace import __version__
from newstrace.identity import ID_SCHEME
from newstrace.model import (
    Annotations,
    Attribution,
    Claim,
    Document,
    FileDone,
    Mention,
    OffsetMap,
    Place,
    Problem,
    Removal,
    ReusePair,
    Sentence,
)

if TYPE_CHECKING:
    import pandas as pd  # DataFrames come from DuckDB, which imports pandas when asked for one

    from newstrace.link.claims import ClaimInput
    from newstrace.link.reuse import DocInfo

SCHEMA_VERSION = 6
DEFAULT_DB = "newstrace.duckdb"
EXPORT_FORMATS = ("jsonl", "csv", "parquet")

# Each entry upgrades the schema from the version before it; entry 0 creates version 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
        """CREATE TABLE runs (
            run_id VARCHAR PRIMARY KEY, command VARCHAR, started TIMESTAMP, finished TIMESTAMP, status VARCHAR,
            n_files INTEGER, n_records INTEGER, n_stored INTEGER, n_duplicates INTEGER, n_skipped INTEGER,
            n_failed INTEGER, n_warnings INTEGER, newstrace_version VARCHAR)""",
        """CREATE TABLE documents (
            doc_id VARCHAR PRIMARY KEY, source_path VARCHAR NOT NULL, locator VARCHAR NOT NULL, format VARCHAR,
            outlet VARCHAR, url VARCHAR, title VARCHAR, published DATE, published_source VARCHAR,
            language VARCHAR, encoding VARCHAR, n_words INTEGER, text VARCHAR NOT NULL, raw_text VARCHAR NOT NULL,
            offset_map STRUCT(clean_start INTEGER, raw_start INTEGER, length INTEGER)[],
            line_hashes UBIGINT[], outlet_pass_pending BOOLEAN, metadata JSON, run_id VARCHAR,
            ingested_at TIMESTAMP)""",
        """CREATE TABLE occurrences (
            source_path VARCHAR NOT NULL, locator VARCHAR NOT NULL, doc_id VARCHAR NOT NULL, format VARCHAR,
            outlet VARCHAR, title VARCHAR, url VARCHAR, published DATE, run_id VARCHAR,
            PRIMARY KEY (source_path, locator))""",
        """CREATE TABLE boilerplate (
            doc_id VARCHAR NOT NULL, raw_start INTEGER, raw_end INTEGER, reason VARCHAR, text VARCHAR)""",
        """CREATE TABLE outlet_boilerplate (
            outlet VARCHAR NOT NULL, line_hash UBIGINT NOT NULL, text VARCHAR, n_docs INTEGER,
            n_outlet_docs INTEGER, run_id VARCHAR, PRIMARY KEY (outlet, line_hash))""",
        """CREATE TABLE errors (
            run_id VARCHAR, source_path VARCHAR, locator VARCHAR, stage VARCHAR, severity VARCHAR,
            error VARCHAR, detail VARCHAR, logged_at TIMESTAMP)""",
        """CREATE TABLE files (
            source_path VARCHAR NOT NULL, fingerprint VARCHAR NOT NULL, run_id VARCHAR, n_records INTEGER,
            n_problems INTEGER, completed_at TIMESTAMP, PRIMARY KEY (source_path, fingerprint))""",
        """CREATE VIEW duplicates AS
            SELECT o.source_path, o.locator, o.doc_id, d.source_path AS first_source_path,
                   d.locator AS first_locator, o.outlet, o.title, o.published, o.run_id
            FROM occurrences o JOIN documents d USING (doc_id)
            WHERE o.source_path <> d.source_path OR o.locator <> d.locator""",
    ),
    # 2: the language pipeline's tables; offsets are into documents.text.
    (
        "CREATE TABLE annotations (doc_id VARCHAR PRIMARY KEY, pipeline VARCHAR, run_id VARCHAR, annotated_at TIMESTAMP)",
        'CREATE TABLE sentences (doc_id VARCHAR NOT NULL, sentence INTEGER, start INTEGER, "end" INTEGER)',
        """CREATE TABLE mentions (doc_id VARCHAR NOT NULL, start INTEGER, "end" INTEGER, text VARCHAR,
            label VARCHAR, actor_id VARCHAR)""",
        "CREATE TABLE actors (actor_id VARCHAR PRIMARY KEY, canonical VARCHAR, kind VARCHAR, label VARCHAR, aliases VARCHAR[])",
        """CREATE TABLE places (doc_id VARCHAR NOT NULL, start INTEGER, "end" INTEGER, text VARCHAR, place_id VARCHAR,
            name VARCHAR, lat DOUBLE, lon DOUBLE, country VARCHAR, geonames_id BIGINT)""",
        """CREATE TABLE timexes (doc_id VARCHAR NOT NULL, start INTEGER, "end" INTEGER, text VARCHAR, value VARCHAR,
            rule VARCHAR)""",
    ),
    # 3: who said what. Each role is a list of (start, end) fragments of documents.text, with its text.
    (
        """CREATE TABLE attributions (doc_id VARCHAR NOT NULL, attribution INTEGER,
            source STRUCT(start INTEGER, "end" INTEGER)[], cue STRUCT(start INTEGER, "end" INTEGER)[],
            content STRUCT(start INTEGER, "end" INTEGER)[], source_text VARCHAR, cue_text VARCHAR,
            content_text VARCHAR, source_type VARCHAR, source_actor VARCHAR, source_org VARCHAR,
            modality VARCHAR, hedged BOOLEAN)""",
    ),
    # 4: who repeats whom. reuse_index marks the documents already compared (and keeps their fingerprints),
    # so that linking compares only new documents with the rest.
    (
        """CREATE TABLE reuse (doc_a VARCHAR NOT NULL, a_start INTEGER, a_end INTEGER, doc_b VARCHAR NOT NULL,
            b_start INTEGER, b_end INTEGER, score DOUBLE, kind VARCHAR, direction VARCHAR, n_words INTEGER,
            run_id VARCHAR)""",
        "CREATE TABLE reuse_index (doc_id VARCHAR PRIMARY KEY, fingerprints UBIGINT[], run_id VARCHAR)",
    ),
    # 5: claims and the narratives they form; labels (framing) found by annotate.
    (
        """CREATE TABLE claims (claim_id VARCHAR PRIMARY KEY, doc_id VARCHAR NOT NULL, start INTEGER,
            "end" INTEGER, text VARCHAR, context_start INTEGER, context_end INTEGER, attributed BOOLEAN,
            source_text VARCHAR, cue_text VARCHAR, source_type VARCHAR, source_actor VARCHAR, modality VARCHAR,
            hedged BOOLEAN, actors VARCHAR[], places VARCHAR[], published DATE, outlet VARCHAR,
            attribution INTEGER, narrative_id VARCHAR, anchor BOOLEAN, chain_position INTEGER, chain_role VARCHAR,
            similarity DOUBLE, repeats VARCHAR, new_terms VARCHAR[], attribution_dropped BOOLEAN,
            earlier_predictions INTEGER, run_id VARCHAR)""",
        "CREATE TABLE claim_vectors (claim_id VARCHAR PRIMARY KEY, doc_id VARCHAR NOT NULL, vector FLOAT[])",
        "CREATE TABLE claimed (doc_id VARCHAR PRIMARY KEY, n_claims INTEGER, embedder VARCHAR, run_id VARCHAR)",
        """CREATE TABLE narratives (narrative_id VARCHAR PRIMARY KEY, label VARCHAR, label_claim VARCHAR,
            n_claims INTEGER, n_documents INTEGER, n_outlets INTEGER, first_seen DATE, last_seen DATE,
            outlets VARCHAR[], actors VARCHAR[], places VARCHAR[], n_attributed INTEGER, n_dropped INTEGER,
            n_predictions INTEGER, recurring BOOLEAN, centroid FLOAT[], run_id VARCHAR)""",
        """CREATE TABLE labels (doc_id VARCHAR NOT NULL, actor_id VARCHAR, start INTEGER, "end" INTEGER,
            text VARCHAR, label VARCHAR, head VARCHAR, modifiers VARCHAR[], mention_start INTEGER,
            mention_end INTEGER, rule VARCHAR)""",
    ),
    # 6: narratives matched against catalogues of known claims.
    (
        """CREATE TABLE narrative_matches (narrative_id VARCHAR NOT NULL, rank INTEGER, entry_id VARCHAR,
            score DOUBLE, text VARCHAR, catalog VARCHAR, meta JSON, run_id VARCHAR)""",
    ),
)

_DOCUMENT_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source_path", pa.string()),
        ("locator", pa.string()),
        ("format", pa.string()),
        ("outlet", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("published", pa.date32()),
        ("published_source", pa.string()),
        ("language", pa.string()),
        ("encoding", pa.string()),
        ("n_words", pa.int32()),
        ("text", pa.string()),
        ("raw_text", pa.string()),
        (
            "offset_map",
            pa.list_(
                pa.struct([("clean_start", pa.int32()), ("raw_start", pa.int32()), ("length", pa.int32())])
            ),
        ),
        ("line_hashes", pa.list_(pa.uint64())),
        ("outlet_pass_pending", pa.bool_()),
        ("metadata", pa.string()),
        ("run_id", pa.string()),
        ("ingested_at", pa.timestamp("us")),
    ]
)


# Tables holding offsets into one document's text, derived from it by annotate and link.
_PER_DOCUMENT_TABLES = (
    "annotations",
    "sentences",
    "mentions",
    "places",
    "timexes",
    "attributions",
    "labels",
    "reuse_index",
    "claims",
    "claim_vectors",
    "claimed",
)
# The per-document tables new annotations replace: all but the reuse fingerprints, which come from the text.
_ANNOTATION_TABLES = tuple(table for table in _PER_DOCUMENT_TABLES if table != "reuse_index")


class StoreError(RuntimeError):
    """The store cannot be opened or used as asked."""


@dataclass
class BatchResult:
    stored: list[str] = field(default_factory=list)
    duplicates: int = 0
    skipped: int = 0


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _json_default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class Store:
    """A newstrace store in one DuckDB file. Use as a context manager, or call :meth:`close`."""

    def __init__(self, path: str | Path = DEFAULT_DB, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise StoreError(
                f"{self.path}: no such store; create one with `newstrace ingest PATH --db {self.path}`"
            )
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise StoreError(
                    f"{self.path}: the store is in use by another process; wait for it to finish or use another --db"
                ) from exc
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: not a newstrace store (DuckDB could not read it: {exc})") from exc
        self.read_only = read_only
        # Each table's Arrow schema, for _append: tables change only in _migrate.
        self._arrow_schemas: dict[str, pa.Schema] = {}
        if read_only and 0 < self._schema_version() < SCHEMA_VERSION:
            # A store written by an older newstrace: upgrade it once, then read it as asked.
            self.con.close()
            Store(self.path).close()
            self.con = duckdb.connect(str(self.path), read_only=True)
        self._migrate()

    # -- lifecycle -------------------------------------------------------------------------------------------
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def one(self, query: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        """The first row of a query. (The result is read to the end: DuckDB refuses new work on a connection
        whose last result is still open.)"""
        rows = self.con.execute(query, params or []).fetchall()
        return rows[0] if rows else None

    def _schema_version(self) -> int:
        (has_meta,) = self.one("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
        if not has_meta:
            return 0
        row = self.one("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: written by a newer newstrace (schema {version}, this one reads {SCHEMA_VERSION}); "
                "upgrade newstrace"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise StoreError(
                f"{self.path}: schema {version} needs an upgrade; open it once without read-only"
            )
        if version == 0 and self.one("SELECT count(*) FROM information_schema.tables")[0]:
            raise StoreError(f"{self.path}: a DuckDB file, but not a newstrace store; choose another --db")
        self.con.begin()
        for step in MIGRATIONS[version:]:
            for statement in step:
                self.con.execute(statement)
        self.con.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?), ('id_scheme', ?), ('created_by', ?)",
            [str(SCHEMA_VERSION), ID_SCHEME, f"newstrace {__version__}"],
        )
        self.con.commit()

    # -- reading ---------------------------------------------------------------------------------------------
    def tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        return [name for (name,) in rows]

    def _check_table(self, name: str) -> str:
        if name not in self.tables():
            raise StoreError(f"no table '{name}' in {self.path}; tables are: {', '.join(self.tables())}")
        return name

    def table(self, name: str) -> pd.DataFrame:
        """A whole table (or view) as a pandas DataFrame."""
        return self.con.execute(f'SELECT * FROM "{self._check_table(name)}"').df()

    def documents(self, with_raw: bool = False) -> pd.DataFrame:
        """One row per stored document. ``raw_text`` and the offset map are left out unless ``with_raw``."""
        hidden = "" if with_raw else " EXCLUDE (raw_text, offset_map, line_hashes, outlet_pass_pending)"
        return self.con.execute(f"SELECT *{hidden} FROM documents ORDER BY published NULLS LAST, doc_id").df()

    def errors(self, run_id: str | None = None) -> pd.DataFrame:
        if run_id:
            return self.con.execute("SELECT * FROM errors WHERE run_id = ? ORDER BY logged_at", [run_id]).df()
        return self.con.execute("SELECT * FROM errors ORDER BY logged_at").df()

    def sql(self, query: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run any SQL over the store and return a DataFrame."""
        return self.con.execute(query, params or []).df()

    def document(self, doc_id: str) -> Document:
        found = self.documents_by_id([doc_id])
        if not found:
            raise StoreError(f"no document {doc_id} in {self.path}")
        return found[0]

    def documents_by_id(self, ids: Sequence[str]) -> list[Document]:
        """The stored documents with these ids, in the order given (ids not stored are left out), read in one
        query: one query per document cost ~1 ms each, a second of the parent's time on FA-KES while its
        annotation workers wait for their batches."""
        cursor = self.con.execute(
            "SELECT * FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
        )
        columns = [d[0] for d in cursor.description]
        by_id = {}
        for row in cursor.fetchall():
            record = dict(zip(columns, row, strict=True))
            by_id[record["doc_id"]] = Document(
                doc_id=record["doc_id"],
                source_path=record["source_path"],
                locator=record["locator"],
                format=record["format"],
                text=record["text"],
                raw_text=record["raw_text"],
                offset_map=OffsetMap.from_rows(record["offset_map"]),
                title=record["title"],
                outlet=record["outlet"],
                url=record["url"],
                published=record["published"],
                published_source=record["published_source"],
                language=record["language"],
                encoding=record["encoding"],
                n_words=record["n_words"],
                line_hashes=tuple(record["line_hashes"] or ()),
                metadata=json.loads(record["metadata"] or "{}"),
            )
        return [by_id[doc_id] for doc_id in ids if doc_id in by_id]

    def summary(self) -> dict[str, Any]:
        """Counts for a quick look at the corpus."""
        one = self.one
        n_docs, n_words, first, last = one(
            "SELECT count(*), coalesce(sum(n_words), 0), min(published), max(published) FROM documents"
        )
        outlets = self.con.execute(
            "SELECT coalesce(outlet, '(unknown)'), count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
        formats = self.con.execute(
            "SELECT format, count(*) FROM documents GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
        return {
            "store": str(self.path),
            "documents": n_docs,
            "words": int(n_words),
            "first_published": first,
            "last_published": last,
            "undated": one("SELECT count(*) FROM documents WHERE published IS NULL")[0],
            "outlets": dict(outlets),
            "formats": dict(formats),
            "duplicates": one("SELECT count(*) FROM duplicates")[0],
            "boilerplate_lines": one("SELECT count(*) FROM boilerplate")[0],
            "errors": one("SELECT count(*) FROM errors WHERE severity = 'error'")[0],
            "warnings": one("SELECT count(*) FROM errors WHERE severity = 'warning'")[0],
            "annotated": one("SELECT count(*) FROM annotations")[0],
            "actors_mentioned": one("SELECT count(DISTINCT actor_id) FROM mentions")[0],
            "places": one("SELECT count(DISTINCT place_id) FROM places")[0],
            "attributions": one("SELECT count(*) FROM attributions")[0],
            "linked": one("SELECT count(*) FROM reuse_index")[0],
            "reuse_passages": one("SELECT count(*) FROM reuse")[0],
            "reuse_pairs": one("SELECT count(*) FROM (SELECT DISTINCT doc_a, doc_b FROM reuse)")[0],
        }

    # -- writing ---------------------------------------------------------------------------------------------
    def start_run(self, command: str) -> str:
        run_id = f"{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.con.execute(
            "INSERT INTO runs (run_id, command, started, status, newstrace_version) VALUES (?, ?, ?, 'running', ?)",
            [run_id, command, _now(), __version__],
        )
        return run_id

    def finish_run(self, run_id: str, status: str, counts: dict[str, int]) -> None:
        columns = ("n_files", "n_records", "n_stored", "n_duplicates", "n_skipped", "n_failed", "n_warnings")
        self.con.execute(
            f"UPDATE runs SET finished = ?, status = ?, {', '.join(f'{c} = ?' for c in columns)} WHERE run_id = ?",
            [_now(), status, *(counts.get(c.removeprefix("n_"), 0) for c in columns), run_id],
        )

    def completed_files(self) -> set[tuple[str, str]]:
        return set(self.con.execute("SELECT source_path, fingerprint FROM files").fetchall())

    def stored_locators(self, source_path: str) -> set[str]:
        rows = self.con.execute(
            "SELECT locator FROM occurrences WHERE source_path = ?", [source_path]
        ).fetchall()
        return {locator for (locator,) in rows}

    def write_batch(
        self,
        run_id: str,
        documents: Sequence[Document],
        problems: Sequence[Problem] = (),
        files_done: Sequence[FileDone] = (),
    ) -> BatchResult:
        """Store a batch in one transaction: new documents, every occurrence, problems, completed files."""
        result = BatchResult()
        now = _now()
        self.con.begin()
        try:
            ids = list({doc.doc_id for doc in documents})
            known = {
                doc_id
                for (doc_id,) in self.con.execute(
                    "SELECT doc_id FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids]
                ).fetchall()
            }
            occurrences = []
            new_docs: list[Document] = []
            for doc in documents:
                occurrences.append(
                    (
                        doc.source_path,
                        doc.locator,
                        doc.doc_id,
                        doc.format,
                        doc.outlet,
                        doc.title,
                        doc.url,
                        doc.published,
                        run_id,
                    )
                )
                if doc.doc_id in known:
                    result.duplicates += 1
                else:
                    known.add(doc.doc_id)
                    new_docs.append(doc)
            if new_docs:
                self._insert_documents(new_docs, run_id, now)
            if occurrences:
                result.skipped = len(occurrences) - self._insert_occurrences(occurrences)
            if problems:
                self.con.executemany(
                    "INSERT INTO errors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (run_id, p.source_path, p.locator, p.stage, p.severity, p.error, p.detail, now)
                        for p in problems
                    ],
                )
            if files_done:
                self.con.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (f.source_path, f.fingerprint, run_id, f.n_records, f.n_problems, now)
                        for f in files_done
                    ],
                )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise
        result.stored = [doc.doc_id for doc in new_docs]
        return result

    def _insert_documents(self, docs: Sequence[Document], run_id: str, now: datetime) -> None:
        columns: dict[str, list[Any]] = {name: [] for name in _DOCUMENT_SCHEMA.names}
        for doc in docs:
            values = {
                "doc_id": doc.doc_id,
                "source_path": doc.source_path,
                "locator": doc.locator,
                "format": doc.format,
                "outlet": doc.outlet,
                "url": doc.url,
                "title": doc.title,
                "published": doc.published,
                "published_source": doc.published_source,
                "language": doc.language,
                "encoding": doc.encoding,
                "n_words": doc.n_words,
                "text": doc.text,
                "raw_text": doc.raw_text,
                "offset_map": doc.offset_map.as_rows(),
                "line_hashes": list(doc.line_hashes),
                "outlet_pass_pending": doc.outlet is not None,
                "metadata": json.dumps(doc.metadata, default=_json_default, ensure_ascii=False),
                "run_id": run_id,
                "ingested_at": now,
            }
            for name, value in values.items():
                columns[name].append(value)
        self.con.register("document_batch", pa.Table.from_pydict(columns, schema=_DOCUMENT_SCHEMA))
        try:
            self.con.execute("INSERT INTO documents SELECT * FROM document_batch")
        finally:
            self.con.unregister("document_batch")
        removals = [
            (doc.doc_id, r.raw_start, r.raw_end, r.reason, r.text) for doc in docs for r in doc.removals
        ]
        if removals:
            self.con.executemany("INSERT INTO boilerplate VALUES (?, ?, ?, ?, ?)", removals)

    def _insert_occurrences(self, rows: Sequence[tuple[Any, ...]]) -> int:
        names = (
            "source_path",
            "locator",
            "doc_id",
            "format",
            "outlet",
            "title",
            "url",
            "published",
            "run_id",
        )
        table = pa.Table.from_pydict(
            {name: [row[i] for row in rows] for i, name in enumerate(names)},
            schema=pa.schema([(n, pa.date32() if n == "published" else pa.string()) for n in names]),
        )
        (before,) = self.one("SELECT count(*) FROM occurrences")
        self.con.register("occurrence_batch", table)
        try:
            self.con.execute("INSERT OR IGNORE INTO occurrences SELECT * FROM occurrence_batch")
        finally:
            self.con.unregister("occurrence_batch")
        return self.one("SELECT count(*) FROM occurrences")[0] - before

    def replace_text(
        self, doc_id: str, text: str, offset_map: OffsetMap, n_words: int, removals: Iterable[Removal]
    ) -> None:
        """Store a re-cleaned text for a document (used by outlet-level cleaning), inside the caller's transaction."""
        self.con.execute(
            "UPDATE documents SET text = ?, offset_map = ?, n_words = ? WHERE doc_id = ?",
            [text, offset_map.as_rows(), n_words, doc_id],
        )
        rows = [(doc_id, r.raw_start, r.raw_end, r.reason, r.text) for r in removals]
        if rows:
            self.con.executemany("INSERT INTO boilerplate VALUES (?, ?, ?, ?, ?)", rows)
        # Offsets into the old text are stale: the document is annotated and linked again by the next runs.
        for table in _PER_DOCUMENT_TABLES:
            self.con.execute(f"DELETE FROM {table} WHERE doc_id = ?", [doc_id])
        self.con.execute("DELETE FROM reuse WHERE ? IN (doc_a, doc_b)", [doc_id])

    # -- annotations -----------------------------------------------------------------------------------------
    def unannotated(
        self, batch_size: int | Callable[[int], int] = 64, limit: int | None = None
    ) -> Iterator[list[Document]]:
        """Documents without annotations, in batches, read lazily (the ids are fetched first).

        ``batch_size`` is a number, or a function of the number of documents still to come that gives the
        next batch's size (at least 1)."""
        query = "SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM annotations) ORDER BY doc_id"
        ids = [
            doc_id
            for (doc_id,) in self.con.execute(query + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        ]
        size = batch_size if callable(batch_size) else (lambda remaining: batch_size)
        i = 0
        while i < len(ids):
            step = max(1, int(size(len(ids) - i)))
            yield self.documents_by_id(ids[i : i + step])
            i += step

    def count_unannotated(self) -> int:
        return self.one(
            "SELECT count(*) FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM annotations)"
        )[0]

    def write_actors(self, rows: Iterable[tuple[str, str, str, str, list[str]]]) -> None:
        self.con.executemany("INSERT OR REPLACE INTO actors VALUES (?, ?, ?, ?, ?)", list(rows))

    def write_annotations(
        self, run_id: str, pipeline: str, batch: Sequence[Annotations], problems: Sequence[Problem] = ()
    ) -> None:
        """Store a batch of annotations in one transaction; an inferred publication date fills an empty one."""
        now = _now()
        ids = [a.doc_id for a in batch]
        self.con.begin()
        try:
            # Claims are derived from annotations: new annotations make a document's claims stale. One query
            # finds the tables that hold rows of these documents (usually none): a DELETE per table and
            # batch was a third of a second of the parent's time on FA-KES.
            held = self.con.execute(
                "SELECT DISTINCT name FROM ("
                + " UNION ALL ".join(f"SELECT '{t}' AS name, doc_id FROM {t}" for t in _ANNOTATION_TABLES)
                + ") WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                [ids],
            ).fetchall()
            for (table,) in held:
                self.con.execute(f"DELETE FROM {table} WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
            self._append(
                "sentences", [(a.doc_id, i, s.start, s.end) for a in batch for i, s in enumerate(a.sentences)]
            )
            self._append(
                "mentions",
                [(a.doc_id, m.start, m.end, m.text, m.label, m.actor_id) for a in batch for m in a.mentions],
            )
            self._append(
                "places",
                [
                    (
                        a.doc_id,
                        p.start,
                        p.end,
                        p.text,
                        p.place_id,
                        p.name,
                        p.lat,
                        p.lon,
                        p.country,
                        p.geonames_id,
                    )
                    for a in batch
                    for p in a.places
                ],
            )
            self._append(
                "timexes",
                [(a.doc_id, t.start, t.end, t.text, t.value, t.rule) for a in batch for t in a.timexes],
            )
            texts = self._texts([a.doc_id for a in batch if a.attributions])
            self._append(
                "attributions",
                [
                    attribution_row(a.doc_id, i, at, texts[a.doc_id])
                    for a in batch
                    for i, at in enumerate(a.attributions)
                ],
            )
            self._append(
                "labels",
                [
                    (
                        a.doc_id,
                        x.actor_id,
                        x.start,
                        x.end,
                        x.text,
                        x.label,
                        x.head,
                        list(x.modifiers),
                        x.mention_start,
                        x.mention_end,
                        x.rule,
                    )
                    for a in batch
                    for x in a.labels
                ],
            )
            self._append("annotations", [(a.doc_id, pipeline, run_id, now) for a in batch])
            for a in batch:
                if a.published is not None and a.published_source in ("text", "inferred"):
                    self.con.execute(
                        "UPDATE documents SET published = ?, published_source = ? WHERE doc_id = ? AND published IS NULL",
                        [a.published, a.published_source, a.doc_id],
                    )
            if problems:
                self.con.executemany(
                    "INSERT INTO errors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (run_id, p.source_path, p.locator, p.stage, p.severity, p.error, p.detail, now)
                        for p in problems
                    ],
                )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def replace_dates(self, annotations: Annotations) -> None:
        """Replace a document's timexes and its text-derived publication date, in one transaction."""
        self.con.begin()
        try:
            self.con.execute("DELETE FROM timexes WHERE doc_id = ?", [annotations.doc_id])
            self._append(
                "timexes",
                [(annotations.doc_id, t.start, t.end, t.text, t.value, t.rule) for t in annotations.timexes],
            )
            self.con.execute(
                "UPDATE documents SET published = ?, published_source = ? WHERE doc_id = ? AND coalesce(published_source, 'inferred') = 'inferred'",
                [annotations.published, annotations.published_source, annotations.doc_id],
            )
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def _texts(self, ids: Sequence[str]) -> dict[str, str]:
        if not ids:
            return {}
        rows = self.con.execute(
            "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
        )
        return dict(rows.fetchall())

    def _append(self, table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        # Typed from the table itself: guessed from a sample of rows, a column whose sampled values are all
        # None or empty lists gets no usable type, and the rest of the batch fails to convert.
        schema = self._arrow_schemas.get(table)
        if schema is None:
            schema = self._arrow_schemas[table] = (
                self.con.sql(f'SELECT * FROM "{table}" LIMIT 0').to_arrow_table().schema
            )
        frame = pa.Table.from_arrays(
            [
                pa.array(column, type=field.type)
                for column, field in zip(zip(*rows, strict=True), schema, strict=True)
            ],
            schema=schema,
        )
        self.con.register("append_batch", frame)
        try:
            self.con.execute(f"INSERT INTO {table} SELECT * FROM append_batch")
        finally:
            self.con.unregister("append_batch")

    # -- reuse ---------------------------------------------------------------------------------------------

    def unindexed_documents(self) -> list[str]:
        """Documents not compared for reuse yet, oldest first (so that earlier chunks hold earlier news)."""
        rows = self.con.execute(
            """SELECT doc_id FROM documents WHERE doc_id NOT IN (SELECT doc_id FROM reuse_index)
               ORDER BY published NULLS LAST, ingested_at, doc_id"""
        ).fetchall()
        return [doc_id for (doc_id,) in rows]

    def reuse_fingerprints(self) -> tuple[list[str], list[np.ndarray]]:
        """Every indexed document with its fingerprints."""
        table = self.con.sql("SELECT doc_id, fingerprints FROM reuse_index").to_arrow_table()
        ids = table.column("doc_id").to_pylist()
        if not ids:
            return [], []
        lists = table.column("fingerprints").combine_chunks()
        values = lists.flatten().to_numpy(zero_copy_only=False).astype(np.uint64, copy=False)
        offsets = lists.offsets.to_numpy()
        return ids, np.split(values, offsets[1:-1])

    def reuse_documents(self, ids: Sequence[str]) -> dict[str, tuple[str, DocInfo]]:
        """Text, outlet and date of the given documents."""
        from newstrace.link.reuse import DocInfo

        if not ids:
            return {}
        rows = self.con.execute(
            """SELECT doc_id, text, outlet, published FROM documents
               WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(ids)],
        ).fetchall()
        return {
            doc_id: (text, DocInfo(doc_id, outlet, published)) for doc_id, text, outlet, published in rows
        }

    def write_reuse(
        self, run_id: str, pairs: Sequence[ReusePair], indexed: Sequence[tuple[str, np.ndarray]]
    ) -> None:
        """Store passages and mark their documents compared, in one transaction."""
        self.con.begin()
        try:
            self._append(
                "reuse",
                [
                    (
                        p.doc_a,
                        p.a_start,
                        p.a_end,
                        p.doc_b,
                        p.b_start,
                        p.b_end,
                        p.score,
                        p.kind,
                        p.direction,
                        p.n_words,
                        run_id,
                    )
                    for p in pairs
                ],
            )
            if indexed:
                frame = pa.table(
                    {
                        "doc_id": [doc_id for doc_id, _ in indexed],
                        "fingerprints": pa.array(
                            [fingerprints.tolist() for _, fingerprints in indexed], type=pa.list_(pa.uint64())
                        ),
                        "run_id": [run_id] * len(indexed),
                    }
                )
                self.con.register("reuse_index_batch", frame)
                try:
                    self.con.execute("INSERT INTO reuse_index SELECT * FROM reuse_index_batch")
                finally:
                    self.con.unregister("reuse_index_batch")
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    # -- claims and narratives ----------------------------------------------------------------------------

    def unclaimed_documents(self) -> list[str]:
        """Annotated documents whose claims are not extracted yet."""
        rows = self.con.execute(
            """SELECT doc_id FROM annotations WHERE doc_id NOT IN (SELECT doc_id FROM claimed)
               ORDER BY doc_id"""
        ).fetchall()
        return [doc_id for (doc_id,) in rows]

    def claim_inputs(self, ids: Sequence[str]) -> list[ClaimInput]:
        """What claim extraction reads for each document: text, date, outlet and annotations."""
        from newstrace.link.claims import ClaimInput

        if not ids:
            return []
        wanted = [list(ids)]
        where = "WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))"
        found: dict[str, Annotations] = {doc_id: Annotations(doc_id) for doc_id in ids}
        for doc_id, start, end in self.con.execute(
            f'SELECT doc_id, start, "end" FROM sentences {where} ORDER BY doc_id, sentence', wanted
        ).fetchall():
            found[doc_id].sentences.append(Sentence(start, end))
        for doc_id, start, end, text, label, actor_id in self.con.execute(
            f'SELECT doc_id, start, "end", text, label, actor_id FROM mentions {where} ORDER BY doc_id, start',
            wanted,
        ).fetchall():
            found[doc_id].mentions.append(Mention(start, end, text, label, actor_id))
        for row in self.con.execute(
            f"""SELECT doc_id, start, "end", text, name, lat, lon, country, geonames_id, place_id FROM places
                {where} ORDER BY doc_id, start""",
            wanted,
        ).fetchall():
            found[row[0]].places.append(Place(*row[1:]))
        for doc_id, source, cue, content, source_type, actor, org, kind, hedged in self.con.execute(
            f"""SELECT doc_id, source, cue, content, source_type, source_actor, source_org, modality, hedged
                FROM attributions {where} ORDER BY doc_id, attribution""",
            wanted,
        ).fetchall():

            def spans(fragments: list[dict[str, int]] | None) -> tuple[tuple[int, int], ...]:
                return tuple((f["start"], f["end"]) for f in fragments or ())

            found[doc_id].attributions.append(
                Attribution(spans(source), spans(cue), spans(content), source_type, actor, org, kind, hedged)
            )
        rows = self.con.execute(f"SELECT doc_id, text, published, outlet FROM documents {where}", wanted)
        return [
            ClaimInput(doc_id, text, published, outlet, found[doc_id])
            for doc_id, text, published, outlet in rows.fetchall()
        ]

    def write_claims(
        self,
        run_id: str,
        claims: Sequence[Claim],
        vectors: np.ndarray,
        narratives: dict[str, str],
        anchors: dict[str, bool],
        documents: Sequence[tuple[str, int]],
        embedder: str,
    ) -> None:
        """Store new claims with their vectors and narratives, and mark their documents done, in one transaction."""
        self.con.begin()
        try:
            self._append(
                "claims",
                [
                    (
                        c.claim_id,
                        c.doc_id,
                        c.start,
                        c.end,
                        c.text,
                        c.context_start,
                        c.context_end,
                        c.attributed,
                        c.source_text,
                        c.cue_text,
                        c.source_type,
                        c.source_actor,
                        c.modality,
                        c.hedged,
                        list(c.actors),
                        list(c.places),
                        c.published,
                        c.outlet,
                        c.attribution,
                        narratives[c.claim_id],
                        anchors[c.claim_id],
                        None,
                        None,
                        None,
                        None,
                        [],
                        False,
                        0,
                        run_id,
                    )
                    for c in claims
                ],
            )
            if claims:
                frame = pa.table(
                    {
                        "claim_id": [c.claim_id for c in claims],
                        "doc_id": [c.doc_id for c in claims],
                        "vector": pa.array(list(vectors.astype(np.float32)), type=pa.list_(pa.float32())),
                    }
                )
                self.con.register("claim_vector_batch", frame)
                try:
                    self.con.execute("INSERT INTO claim_vectors SELECT * FROM claim_vector_batch")
                finally:
                    self.con.unregister("claim_vector_batch")
            self._append("claimed", [(doc_id, n, embedder, run_id) for doc_id, n in documents])
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    def claim_vectors(self, claim_ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Claim ids with their unit vectors (all claims, or the given ones)."""
        query = "SELECT claim_id, vector FROM claim_vectors"
        params: list[Any] = []
        if claim_ids is not None:
            query += " WHERE claim_id IN (SELECT unnest(?::VARCHAR[]))"
            params = [list(claim_ids)]
        table = self.con.sql(query, params=params).to_arrow_table()
        ids = table.column("claim_id").to_pylist()
        if not ids:
            return [], np.zeros((0, 0), dtype=np.float32)
        values = table.column("vector").combine_chunks()
        width = len(values[0])
        return ids, values.flatten().to_numpy(zero_copy_only=False).astype(np.float32).reshape(
            len(ids), width
        )

    def claims_of(self, narrative_ids: Sequence[str]) -> list[Claim]:
        """The claims of the given narratives, as records."""
        rows = self.con.execute(
            f"""SELECT {", ".join(_CLAIM_COLUMNS)} FROM claims
                WHERE narrative_id IN (SELECT unnest(?::VARCHAR[]))""",
            [list(narrative_ids)],
        ).fetchall()
        return [_claim(row) for row in rows]

    def write_narrative_matches(self, run_id: str, catalog: str, rows: Sequence[Sequence[Any]]) -> None:
        """Replace the matches of the narratives against one catalogue: rows of (narrative_id, rank,
        entry_id, score, text, meta JSON)."""
        self.con.begin()
        try:
            self.con.execute("DELETE FROM narrative_matches WHERE catalog = ?", [catalog])
            self._append("narrative_matches", [(*row[:5], catalog, row[5], run_id) for row in rows])
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise

    # -- export ----------------------------------------------------------------------------------------------
    def export(
        self, table: str, fmt: str = "jsonl", out: str | Path | None = None, stream: IO[str] | None = None
    ) -> int:
        """Write a table as JSONL, CSV or Parquet to ``out`` (or JSONL/CSV to ``stream``, stdout by default).

        Returns the number of rows written.
        """
        if fmt not in EXPORT_FORMATS:
            raise StoreError(f"unknown export format '{fmt}'; choose one of {', '.join(EXPORT_FORMATS)}")
        name = self._check_table(table)
        (n_rows,) = self.one(f'SELECT count(*) FROM "{name}"')
        if out is not None:
            target = Path(out)
            target.parent.mkdir(parents=True, exist_ok=True)
            options = {"jsonl": "FORMAT JSON", "csv": "FORMAT CSV, HEADER", "parquet": "FORMAT PARQUET"}[fmt]
            self.con.execute(f"COPY (SELECT * FROM \"{name}\") TO '{_sql_string(target)}' ({options})")
            return n_rows
        if fmt == "parquet":
            raise StoreError("Parquet is binary: give --out FILE")
        stream = stream or sys.stdout
        cursor = self.con.execute(f'SELECT * FROM "{name}"')
        header = [d[0] for d in cursor.description]
        if fmt == "csv":
            import csv

            writer = csv.writer(stream)
            writer.writerow(header)
            while rows := cursor.fetchmany(1000):
                writer.writerows(rows)
        else:
            while rows := cursor.fetchmany(1000):
                for row in rows:
                    stream.write(
                        json.dumps(
                            dict(zip(header, row, strict=True)), default=_json_default, ensure_ascii=False
                        )
                    )
                    stream.write("\n")
        return n_rows


_CLAIM_COLUMNS = (
    "claim_id",
    "doc_id",
    "start",
    '"end"',
    "text",
    "context_start",
    "context_end",
    "attributed",
    "source_text",
    "cue_text",
    "source_type",
    "source_actor",
    "modality",
    "hedged",
    "actors",
    "places",
    "published",
    "outlet",
    "attribution",
)


def _claim(row: Sequence[Any]) -> Claim:
    values = list(row)
    values[14], values[15] = tuple(values[14] or ()), tuple(values[15] or ())
    return Claim(*values)


def attribution_row(doc_id: str, index: int, attribution: Attribution, text: str) -> tuple[Any, ...]:
    """An ``attributions`` table row: fragments per role, their text, and the typing fields."""

    def fragments(spans: tuple[tuple[int, int], ...]) -> list[dict[str, int]]:
        return [{"start": start, "end": end} for start, end in spans]

    def words(spans: tuple[tuple[int, int], ...]) -> str:
        return " … ".join(text[start:end] for start, end in spans)

    return (
        doc_id,
        index,
        fragments(attribution.source),
        fragments(attribution.cue),
        fragments(attribution.content),
        words(attribution.source),
        words(attribution.cue),
        words(attribution.content),
        attribution.source_type,
        attribution.source_actor,
        attribution.source_org,
        attribution.modality,
        attribution.hedged,
    )


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")
