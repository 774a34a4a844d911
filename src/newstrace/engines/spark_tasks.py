"""The per-record work of the Spark engine: the local engine's own functions, between Arrow record batches.

Each task takes an iterator of ``pyarrow.RecordBatch`` and yields batches of a given schema, as
``DataFrame.mapInArrow`` wants. Nothing here imports Spark. Heavy resources load once per Python worker
(Spark reuses its workers): the spaCy pipeline through :func:`newstrace.nlp.annotate.pipeline_for`, the
embedder through :func:`newstrace.embed.load_embedder`, both cached per process. Rows are built by the same
functions the local engine stores with, so that both engines write the same values.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pyarrow as pa

from newstrace.engines.parquet_store import as_signed, signed, unsigned
from newstrace.ingest.pipeline import _prepare_item, read_records
from newstrace.ingest.prepare import PrepareOptions
from newstrace.ingest.sources import InputFile, ReadOptions
from newstrace.model import Document, OffsetMap, Problem, RawArticle
from newstrace.store import _json_default as json_default

Batches = Iterator[pa.RecordBatch]
BATCH_ROWS = 256  # rows per output batch: bounds a task's memory however large its input file is


def emit(rows: Iterable[dict[str, Any]], schema: pa.Schema, size: int = BATCH_ROWS) -> Batches:
    """Rows as record batches of ``schema``."""
    buffer: list[dict[str, Any]] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= size:
            yield pa.RecordBatch.from_pylist(buffer, schema=schema)
            buffer = []
    if buffer:
        yield pa.RecordBatch.from_pylist(buffer, schema=schema)


def rows_of(batches: Batches) -> Iterator[dict[str, Any]]:
    for batch in batches:
        yield from batch.to_pylist()


def _problem_fields(problem: Problem) -> dict[str, Any]:
    return {
        "source_path": problem.source_path,
        "locator": problem.locator,
        "stage": problem.stage,
        "severity": problem.severity,
        "error": problem.error,
        "detail": problem.detail,
    }


# -- ingest ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSource:
    """Where Parquet rows come from, in the shape the record readers name their inputs by."""

    name: str
    format: str = "parquet"


def _article_fields(article: RawArticle) -> dict[str, Any]:
    return {
        "source_path": article.source_path,
        "locator": article.locator,
        "format": article.format,
        "text": article.text,
        "html": article.html,
        "title": article.title,
        "outlet": article.outlet,
        "url": article.url,
        "date": article.date,
        "encoding": article.encoding,
        "metadata": json.dumps(article.metadata, default=json_default, ensure_ascii=False),
    }


def read_files(batches: Batches, schema: pa.Schema, options: ReadOptions) -> Batches:
    """Files to records: one ``article`` row per raw article, one ``problem`` row per problem and, for a file
    read to its end, one ``file`` row (what the local engine stores in ``files``). A file given as bytes
    (``content``, read by Spark from S3 or HDFS) is read from a temporary copy with the same name."""

    def records() -> Iterator[dict[str, Any]]:
        for row in rows_of(batches):
            yield from _read_file(row, options)

    return emit(records(), schema)


def _read_file(row: dict[str, Any], options: ReadOptions) -> Iterator[dict[str, Any]]:
    content = row.get("content")
    with tempfile.TemporaryDirectory(prefix="newstrace-") if content is not None else nullcontext() as folder:
        if content is not None:
            # Named as in the bucket, beside its sidecar, so the readers see what they would on a disk.
            local = Path(folder) / row["path"].rsplit("/", 1)[-1]
            local.write_bytes(content)
            if row.get("sidecar_content") is not None:
                (Path(folder) / row["sidecar"].rsplit("/", 1)[-1]).write_bytes(row["sidecar_content"])
            item = InputFile(local, row["format"], row["compressed"])
            fingerprint = hashlib.blake2b(
                f"{len(content)}:{row['modified']}|{row['format']}|{options.describe()}".encode(),
                digest_size=8,
            ).hexdigest()
        else:
            item = InputFile(Path(row["path"]), row["format"], row["compressed"])
            fingerprint = item.fingerprint(options.describe())
        remote_folder = row["path"].rsplit("/", 1)[0] + "/"

        def named(text: str) -> str:
            """Paths in the temporary folder as the URIs they were read from."""
            return text.replace(f"{folder}/", remote_folder) if content is not None and text else text

        base = {"file_index": row["file_index"]}
        n_records = n_problems = 0
        fatal = False
        for index, record in enumerate(read_records(item, options)):
            out = {**base, "record_index": index}
            if isinstance(record, Problem):
                n_problems += 1
                fatal = fatal or (record.severity == "error" and not record.locator)
                problem = _problem_fields(record)
                for key in ("source_path", "error", "detail"):
                    problem[key] = named(problem[key])
                yield {**out, "kind": "problem", **problem}
            else:
                n_records += 1
                fields = _article_fields(record)
                for key in ("source_path", "metadata"):
                    fields[key] = named(fields[key])
                yield {**out, "kind": "article", **fields}
        if not fatal:
            yield {
                **base,
                "record_index": -1,
                "kind": "file",
                "source_path": row["path"],
                "fingerprint": fingerprint,
                "n_records": n_records,
                "n_problems": n_problems,
            }


def read_parquet_rows(batches: Batches, schema: pa.Schema, columns: dict[str, str | None]) -> Batches:
    """Parquet rows (with ``_file_index``, ``_source_path`` and ``_row_index`` beside the data columns) to
    records, through the reader that maps JSON and CSV records; the locator is ``row:N``, counted from 1."""
    from newstrace.ingest.json_reader import record_to_article

    def records() -> Iterator[dict[str, Any]]:
        for row in rows_of(batches):
            file_index, source, row_index = (
                row.pop("_file_index"),
                row.pop("_source_path"),
                row.pop("_row_index"),
            )
            out = {"file_index": file_index, "record_index": row_index}
            record = record_to_article(row, RecordSource(source), f"row:{row_index + 1}", columns)  # type: ignore[arg-type]
            if isinstance(record, Problem):
                yield {**out, "kind": "problem", **_problem_fields(record)}
            else:
                yield {**out, "kind": "article", **_article_fields(record)}

    return emit(records(), schema)


def prepare_articles(batches: Batches, schema: pa.Schema, options: PrepareOptions) -> Batches:
    """Raw articles to clean documents (``doc_id`` is null when cleaning failed), with their problems."""

    def documents() -> Iterator[dict[str, Any]]:
        for row in rows_of(batches):
            article = RawArticle(
                source_path=row["source_path"],
                locator=row["locator"],
                format=row["format"],
                text=row["text"],
                html=row["html"],
                title=row["title"],
                outlet=row["outlet"],
                url=row["url"],
                date=row["date"],
                encoding=row["encoding"],
                metadata=json.loads(row["metadata"] or "{}"),
            )
            document, problems = _prepare_item(article, options)
            out: dict[str, Any] = {
                "file_index": row["file_index"],
                "record_index": row["record_index"],
                "source_path": row["source_path"],
                "locator": row["locator"],
                "problems": [_problem_fields(p) for p in problems],
            }
            if isinstance(document, Document):
                out.update(_document_fields(document))
            yield out

    return emit(documents(), schema)


def _document_fields(document: Document) -> dict[str, Any]:
    return {
        "doc_id": document.doc_id,
        "format": document.format,
        "outlet": document.outlet,
        "url": document.url,
        "title": document.title,
        "published": document.published,
        "published_source": document.published_source,
        "language": document.language,
        "encoding": document.encoding,
        "n_words": document.n_words,
        "text": document.text,
        "raw_text": document.raw_text,
        "offset_map": document.offset_map.as_rows(),
        "line_hashes": [signed(h) for h in document.line_hashes],
        "metadata": json.dumps(document.metadata, default=json_default, ensure_ascii=False),
        "removals": [
            {"raw_start": r.raw_start, "raw_end": r.raw_end, "reason": r.reason, "text": r.text}
            for r in document.removals
        ],
    }


def drop_outlet_lines(batches: Batches, schema: pa.Schema, boilerplate: dict[str, frozenset[int]]) -> Batches:
    """Documents with their outlet's boilerplate lines removed (only those that changed), as the local
    engine's outlet pass changes them; each removal carries its line's fingerprint."""
    from newstrace.identity import line_hash
    from newstrace.ingest.clean import drop_lines
    from newstrace.ingest.outlet_clean import REASON
    from newstrace.model import words

    def changed() -> Iterator[dict[str, Any]]:
        for row in rows_of(batches):
            hashes = boilerplate.get(row["outlet"])
            if not hashes:
                continue
            text, offset_map, dropped = drop_lines(
                row["text"], OffsetMap.from_rows(row["offset_map"]), hashes, REASON
            )
            if not (dropped and text.strip()):
                continue
            yield {
                "doc_id": row["doc_id"],
                "text": text,
                "offset_map": offset_map.as_rows(),
                "n_words": len(words(text)),
                "removals": [
                    {
                        "raw_start": r.raw_start,
                        "raw_end": r.raw_end,
                        "reason": r.reason,
                        "text": r.text,
                        "line_hash": signed(line_hash(r.text)),
                    }
                    for r in dropped
                ],
            }

    return emit(changed(), schema)


def outlet_hashes(rows: Iterable[tuple[str, int]]) -> dict[str, frozenset[int]]:
    """(outlet, signed line hash) pairs as each outlet's set of unsigned line fingerprints."""
    found: dict[str, set[int]] = {}
    for outlet, value in rows:
        found.setdefault(outlet, set()).add(unsigned(value))
    return {outlet: frozenset(values) for outlet, values in found.items()}


# -- annotate ----------------------------------------------------------------------------------------------


def _struct(record: Any, names: Iterable[str]) -> dict[str, Any]:
    """A record as a row of the store table whose columns are ``names`` (the record's fields of those names)."""
    row = {}
    for name in names:
        value = getattr(record, name)
        row[name] = list(value) if isinstance(value, tuple) else value
    return row


def annotate_rows(
    batches: Batches, schema: pa.Schema, config: Any, columns: dict[str, list[str]], batch_size: int = 32
) -> Batches:
    """Documents (sorted by ``doc_id``) to their annotations, one row per document, annotated in batches of
    ``batch_size`` as the local engine does. ``columns`` names the store columns of each annotation table
    (without ``doc_id`` and the position column), so each nested row is a row of that table."""
    from newstrace.model import Annotations
    from newstrace.nlp.annotate import annotate_documents
    from newstrace.store import attribution_row

    attribution_columns = columns["attributions"]

    def annotated() -> Iterator[dict[str, Any]]:
        pending: list[Document] = []

        def flush() -> Iterator[dict[str, Any]]:
            results = annotate_documents(pending, config)
            for document, result in zip(pending, results, strict=True):
                if isinstance(result, Problem):
                    yield {"doc_id": document.doc_id, "problem": _problem_fields(result)}
                    continue
                assert isinstance(result, Annotations)
                attributions = []
                for index, attribution in enumerate(result.attributions):
                    full = attribution_row(document.doc_id, index, attribution, document.text)
                    attributions.append(
                        dict(zip(["doc_id", "attribution", *attribution_columns], full, strict=True))
                    )
                yield {
                    "doc_id": document.doc_id,
                    "published": result.published,
                    "published_source": result.published_source,
                    "sentences": [_struct(s, columns["sentences"]) for s in result.sentences],
                    "mentions": [_struct(m, columns["mentions"]) for m in result.mentions],
                    "places": [_struct(p, columns["places"]) for p in result.places],
                    "timexes": [_struct(t, columns["timexes"]) for t in result.timexes],
                    "attributions": [
                        {name: row[name] for name in attribution_columns} for row in attributions
                    ],
                    "labels": [_struct(label, columns["labels"]) for label in getattr(result, "labels", ())],
                }
            pending.clear()

        for row in rows_of(batches):
            pending.append(
                Document(
                    doc_id=row["doc_id"],
                    source_path=row["source_path"],
                    locator=row["locator"],
                    format=row["format"],
                    text=row["text"],
                    raw_text="",
                    offset_map=OffsetMap(),
                    published=row["published"],
                    published_source=row["published_source"],
                )
            )
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()

    return emit(annotated(), schema, size=64)


# -- link --------------------------------------------------------------------------------------------------


def fingerprint_rows(batches: Batches, schema: pa.Schema, config: Any) -> Batches:
    """Each document's winnowed fingerprints (``reuse_index``), signed, in the local engine's order."""
    from newstrace.link.reuse import fingerprints
    from newstrace.link.shingles import tokenize_many

    for batch in batches:
        ids = batch.column("doc_id").to_pylist()
        tokens = tokenize_many(batch.column("text").to_pylist())
        yield pa.RecordBatch.from_pylist(
            [
                {"doc_id": doc_id, "fingerprints": as_signed(fingerprints(t, config)).tolist()}
                for doc_id, t in zip(ids, tokens, strict=True)
            ],
            schema=schema,
        )


def align_rows(batches: Batches, schema: pa.Schema, config: Any) -> Batches:
    """Candidate pairs (first document as the local engine orders them, texts, outlets, dates) to reused
    passages, earlier document first (:func:`newstrace.link.reuse.reuse_pair`). The documents of a batch
    are tokenised together, as the local engine tokenises a chunk; a document's tokens are kept while the
    next batch still needs them."""
    from newstrace.link.align import align
    from newstrace.link.reuse import DocInfo, reuse_pair
    from newstrace.link.shingles import tokenize_many

    align_config = config.align_config
    tokens: dict[str, Any] = {}

    def passages(rows: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        texts = {row[f"doc_{side}"]: row[f"text_{side}"] for row in rows for side in "ab"}
        for doc_id in [d for d in tokens if d not in texts]:
            del tokens[doc_id]
        missing = [doc_id for doc_id in texts if doc_id not in tokens]
        tokens.update(zip(missing, tokenize_many([texts[d] for d in missing]), strict=True))
        for row in rows:
            a, b = row["doc_a"], row["doc_b"]
            info_a = DocInfo(a, row["outlet_a"], row["published_a"])
            info_b = DocInfo(b, row["outlet_b"], row["published_b"])
            for passage in align(tokens[a], tokens[b], align_config, (row["text_a"], row["text_b"])):
                pair = reuse_pair(passage, info_a, info_b)
                yield {f.name: getattr(pair, f.name) for f in fields(pair)}

    for batch in batches:
        yield from emit(passages(batch.to_pylist()), schema, size=4096)


def _annotations(row: dict[str, Any]) -> Any:
    """A document's annotations as :meth:`newstrace.store.Store.claim_inputs` reads them back from the
    tables (sentences by number, mentions and places by position, attributions by number)."""
    from newstrace.model import Annotations, Attribution, Mention, Place, Sentence

    def by_start(row: dict[str, Any]) -> tuple[int, int]:
        return row["start"], row["end"]

    def spans(fragments: list[dict[str, int]] | None) -> tuple[tuple[int, int], ...]:
        return tuple((f["start"], f["end"]) for f in fragments or ())

    found = Annotations(row["doc_id"])
    found.sentences = [
        Sentence(s["start"], s["end"]) for s in sorted(row["sentences"] or (), key=lambda s: s["sentence"])
    ]
    found.mentions = [
        Mention(m["start"], m["end"], m["text"], m["label"], m["actor_id"])
        for m in sorted(row["mentions"] or (), key=by_start)
    ]
    found.places = [
        Place(
            p["start"],
            p["end"],
            p["text"],
            p["name"],
            p["lat"],
            p["lon"],
            p["country"],
            p["geonames_id"],
            p["place_id"],
        )
        for p in sorted(row["places"] or (), key=by_start)
    ]
    found.attributions = [
        Attribution(
            spans(a["source"]),
            spans(a["cue"]),
            spans(a["content"]),
            a["source_type"],
            a["source_actor"],
            a["source_org"],
            a["modality"],
            a["hedged"],
        )
        for a in sorted(row["attributions"] or (), key=lambda a: a["attribution"])
    ]
    return found


def claim_rows(batches: Batches, schema: pa.Schema) -> Batches:
    """Annotated documents to their claims (:func:`newstrace.link.claims.extract_claims`), one row per
    document."""
    from newstrace.link.claims import ClaimInput, extract_claims

    for batch in batches:
        rows = []
        for row in batch.to_pylist():
            found = extract_claims(
                ClaimInput(row["doc_id"], row["text"], row["published"], row["outlet"], _annotations(row))
            )
            claims = [_struct(claim, [f.name for f in fields(claim)]) for claim in found]
            rows.append({"doc_id": row["doc_id"], "n_claims": len(found), "claims": claims})
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def embed_rows(batches: Batches, schema: pa.Schema, embedder: str) -> Batches:
    """Claims (``claim_id``, ``text``) to their unit vectors, one encoder call per Arrow batch."""
    from newstrace.embed import load_embedder

    model = load_embedder(embedder)
    for batch in batches:
        rows = batch.to_pylist()
        vectors = model.encode([row["text"] for row in rows])
        yield pa.RecordBatch.from_pydict(
            {"claim_id": [row["claim_id"] for row in rows], "vector": [v.tolist() for v in vectors]},
            schema=schema,
        )


def knn_rows(batches: Batches, schema: pa.Schema, k: int, floor: float) -> Batches:
    """Pairs of claim blocks (``queries`` and ``pool``, lists of ``rank`` and ``vector``) to each query's k
    nearest pool claims with a cosine of at least ``floor``: rows of ``rank``, ``neighbour``, ``sim``. The
    cosines and ties are those of :func:`newstrace.link.narratives.nearest`, so that merging the blocks' lists
    gives the local engine's shortlists."""
    import numpy as np

    from newstrace.link.narratives import nearest

    def block(members: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        members = sorted(members, key=lambda m: m["rank"])
        ranks = np.array([m["rank"] for m in members], dtype=np.int64)
        return ranks, np.array([m["vector"] for m in members], dtype=np.float32)

    def neighbours() -> Iterator[dict[str, Any]]:
        for row in rows_of(batches):
            query_ranks, queries = block(row["queries"])
            pool_ranks, pool = block(row["pool"])
            for rank, (positions, sims) in zip(
                query_ranks.tolist(), nearest(queries, pool, k, floor), strict=True
            ):
                for position, sim in zip(positions.tolist(), sims.tolist(), strict=True):
                    yield {"rank": rank, "neighbour": int(pool_ranks[position]), "sim": sim}

    yield from emit(neighbours(), schema, size=4096)


def term_rows(batches: Batches, schema: pa.Schema) -> Batches:
    """Claim texts to their distinct TF-IDF terms (:func:`newstrace.link.lexical.stems`), one row each."""
    from newstrace.link.lexical import stems

    yield from emit(({"term": term} for row in rows_of(batches) for term in set(stems(row["text"]))), schema)


def narrative_rows(
    batches: Batches,
    schema: pa.Schema,
    config: Any,
    df: dict[str, int],
    n_claims: int,
    run_id: str,
    embedder: str,
) -> Batches:
    """Groups of connected claims (``claims``: each with its vector and shortlist of neighbour ranks;
    ``passages``: the reuse rows between their documents) to the ``claims``, ``claim_vectors`` and
    ``narratives`` rows the local engine stores for them (:func:`newstrace.link.narrate.place_claims`, with
    the corpus's TF-IDF statistics). Every group of a task is placed in one call: no shortlist leaves its
    group, so the groups cannot meet."""
    import numpy as np

    from newstrace.link.lexical import TfIdf
    from newstrace.link.narrate import place_claims
    from newstrace.model import Claim, ReusePair
    from newstrace.store import Store

    names = [f.name for f in fields(Claim)]
    members: list[dict[str, Any]] = []
    passages: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows_of(batches):
        members.extend(row["claims"])
        for passage in row["passages"] or ():
            passages[tuple(passage.values())] = passage
    if not members:
        return
    members.sort(key=lambda m: m["rank"])
    position = {m["rank"]: i for i, m in enumerate(members)}
    records = [
        Claim(**{n: (tuple(m[n] or ()) if n in ("actors", "places") else m[n]) for n in names})
        for m in members
    ]
    vectors = np.array([m["vector"] for m in members], dtype=np.float32)
    shortlists = [np.array([position[r] for r in m["shortlist"]], dtype=np.int64) for m in members]
    with Store(":memory:") as memory:
        memory.write_reuse(run_id, [ReusePair(**p) for p in passages.values()], [])
        place_claims(
            memory,
            run_id,
            records,
            vectors,
            [],
            embedder,
            config,
            shortlists=shortlists,
            tfidf=TfIdf.from_counts(df, n_claims),
        )
        tables = {
            name: memory.con.sql(f'SELECT * FROM "{name}"').to_arrow_table().to_pylist()
            for name in ("claims", "claim_vectors", "narratives")
        }
    yield from emit(({name: row} for name, rows in tables.items() for row in rows), schema)
