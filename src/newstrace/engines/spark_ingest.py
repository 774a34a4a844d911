"""Ingest on Spark: files, URIs and Parquet datasets into a new Parquet store, as the local ``ingest`` fills
an empty store.

    files → records → prepared → first occurrences → outlet lines → cleaned → documents, occurrences,
    boilerplate, outlet_boilerplate, errors, files (and the ingest order, see :func:`ingest_order`)
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newstrace import __version__
from newstrace.engines import spark_tasks as tasks
from newstrace.engines.parquet_store import store_tables
from newstrace.engines.spark_store import (
    Event,
    ParquetStore,
    Run,
    SparkReport,
    arrow_schema,
    partitions_for,
    problem_type,
    ranked,
    spark_schema,
    start_spark,
    table_struct,
)
from newstrace.identity import ID_SCHEME
from newstrace.ingest.sources import DEFAULT_MAX_BYTES, InputFile, detect_format, find_inputs
from newstrace.model import Problem
from newstrace.store import SCHEMA_VERSION

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


ORDER_TABLE = "ingest_order"
WRITE_BATCH = 250  # newstrace.ingest.pipeline.ingest(batch_size=250)
_URI = re.compile(r"^[A-Za-z][\w+.-]*://")


def records_schema() -> StructType:
    """``records``: what reading the inputs yields, one row per article, problem or completed file."""
    from pyspark.sql import types as T

    text = T.StringType()
    return T.StructType(
        [
            T.StructField("file_index", T.LongType()),
            T.StructField("record_index", T.LongType()),
            T.StructField("kind", text),  # article, problem or file
            *(
                T.StructField(name, text)
                for name in (
                    "source_path",
                    "locator",
                    "format",
                    "text",
                    "html",
                    "title",
                    "outlet",
                    "url",
                    "date",
                    "encoding",
                    "metadata",
                    "stage",
                    "severity",
                    "error",
                    "detail",
                    "fingerprint",
                )
            ),
            T.StructField("n_records", T.IntegerType()),
            T.StructField("n_problems", T.IntegerType()),
        ]
    )


def prepared_schema() -> StructType:
    """``prepared``: one row per article read; the document columns are null when cleaning failed."""
    from pyspark.sql import types as T

    documents = store_tables()["documents"]
    kept = [
        f
        for f in spark_schema(documents).fields
        if f.name not in ("source_path", "locator", "outlet_pass_pending", "run_id", "ingested_at")
    ]
    removal = table_struct("boilerplate", ("doc_id",))
    return T.StructType(
        [
            T.StructField("file_index", T.LongType()),
            T.StructField("record_index", T.LongType()),
            T.StructField("source_path", T.StringType()),
            T.StructField("locator", T.StringType()),
            *kept,
            T.StructField("removals", T.ArrayType(removal)),
            T.StructField("problems", T.ArrayType(problem_type())),
        ]
    )


def cleaned_schema() -> StructType:
    """``cleaned``: documents whose text lost outlet boilerplate lines, with the removed lines."""
    from pyspark.sql import types as T

    documents = spark_schema(store_tables()["documents"])
    removal = table_struct("boilerplate", ("doc_id",))
    removal = T.StructType([*removal.fields, T.StructField("line_hash", T.LongType())])
    return T.StructType(
        [documents[name] for name in ("doc_id", "text", "offset_map", "n_words")]
        + [T.StructField("removals", T.ArrayType(removal))]
    )


def _input_files(
    spark: SparkSession, paths: Sequence[str | Path], format: str | None, fields: dict[str, str]
) -> tuple[list[DataFrame], list[Problem], int]:
    """The inputs as DataFrames of records' sources: local files (read by path), files behind a URI (read by
    Spark as bytes) and Parquet datasets (read by Spark as rows); plus the paths that name nothing."""
    from pyspark.sql import types as T

    files_type = T.StructType(
        [
            T.StructField("file_index", T.LongType()),
            T.StructField("path", T.StringType()),
            T.StructField("format", T.StringType()),
            T.StructField("compressed", T.BooleanType()),
            T.StructField("modified", T.StringType()),
            T.StructField("content", T.BinaryType()),
            T.StructField("sidecar", T.StringType()),
            T.StructField("sidecar_content", T.BinaryType()),
        ]
    )
    sources: list[DataFrame] = []
    problems: list[Problem] = []
    local: list[tuple[Any, ...]] = []
    n_files = 0
    for given in paths:
        name = str(given)
        if format == "parquet" or name.rstrip("/").endswith(".parquet"):
            frame, n = _parquet_records(spark, name, fields, n_files)
            sources.append(frame)
            n_files += n
        elif _URI.match(name):
            frame, n = _uri_files(spark, name, format, n_files)
            if frame is not None:
                sources.append(frame)
            n_files += n
        else:
            for item in find_inputs([given], format):
                if isinstance(item, Problem):
                    problems.append(item)
                    continue
                assert isinstance(item, InputFile)
                local.append((n_files, item.name, item.format, item.compressed, None, None, None, None))
                n_files += 1
    if local:
        sources.insert(0, spark.createDataFrame(local, files_type))
    return sources, problems, n_files


def _sidecar_of(path: str, present: set[str]) -> str | None:
    """The sidecar the text reader would find beside ``path`` (:func:`newstrace.ingest.txt_reader.sidecar_path`),
    among the listed ``present`` paths."""
    base = path[:-3] if path.lower().endswith(".gz") else path
    folder, _, name = base.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    for candidate in (f"{base}.json", f"{folder}/{stem}.json"):
        if candidate in present:
            return candidate
    return None


def _uri_files(
    spark: SparkSession, uri: str, format: str | None, first_index: int
) -> tuple[DataFrame | None, int]:
    """Files under a URI, read by Spark as bytes (``binaryFile``), numbered from ``first_index`` in path order;
    JSON sidecars travel with the text files they describe, as on a local disk."""
    from pyspark.sql import functions as F

    from newstrace.ingest.sources import SIDECAR_OWNERS

    def listing() -> DataFrame:
        return spark.read.format("binaryFile").option("recursiveFileLookup", "true").load(uri)

    paths = sorted(row.path for row in listing().select("path").collect())
    present = set(paths)
    chosen = []
    for path in paths:
        kind, compressed = detect_format(Path(path.rsplit("/", 1)[-1]), format)
        if not kind:
            continue
        stem = path[: -len(".json")]
        if (
            kind == "json"
            and not format
            and any(
                stem + owner in present or (stem.lower().endswith(owner) and stem in present)
                for owner in SIDECAR_OWNERS
            )
        ):
            continue  # a sidecar (as newstrace.ingest.sources finds them): read with its text file
        sidecar = _sidecar_of(path, present) if kind in ("txt", "html") else None
        chosen.append((first_index + len(chosen), path, kind, compressed, sidecar))
    if not chosen:
        return None, 0
    index = spark.createDataFrame(
        chosen, "file_index long, path string, format string, compressed boolean, sidecar string"
    )
    sidecars = listing().select(F.col("path").alias("sidecar"), F.col("content").alias("sidecar_content"))
    files = (
        listing()
        .join(F.broadcast(index), "path")
        .join(sidecars, "sidecar", "left")
        .select(
            "file_index",
            "path",
            "format",
            "compressed",
            F.col("modificationTime").cast("string").alias("modified"),
            "content",
            "sidecar",
            "sidecar_content",
        )
    )
    return files, len(chosen)


def _parquet_records(
    spark: SparkSession, path: str, fields: dict[str, str], first_index: int
) -> tuple[DataFrame, int]:
    """Rows of a Parquet dataset with their file (numbered from ``first_index``) and row number."""
    from pyspark.sql import functions as F

    from newstrace.ingest.fields import resolve_columns

    frame = spark.read.parquet(path)
    located = frame.select(
        "*",
        F.col("_metadata.file_path").alias("_source_path"),
        F.col("_metadata.row_index").alias("_row_index"),
    )
    files = sorted(row[0] for row in located.select("_source_path").distinct().collect())
    index = spark.createDataFrame(
        [(first_index + i, name) for i, name in enumerate(files)], "_file_index long, _source_path string"
    )
    columns = resolve_columns(frame.columns, fields)
    missing = [f"{f}={fields[f]}" for f in fields if columns[f] is None]
    if missing or columns["text"] is None:
        detail = f"columns are: {', '.join(frame.columns)}"
        error = (
            f"column {', '.join(repr(m.split('=', 1)[1]) for m in missing)} not in the dataset"
            if missing
            else "no text column found"
        )
        problem = {
            "file_index": first_index,
            "record_index": -1,
            "kind": "problem",
            "source_path": path,
            "locator": "",
            "stage": "read",
            "severity": "error",
            "error": error,
            "detail": detail + "; use --map text=COLUMN",
        }
        schema = records_schema()
        return spark.createDataFrame([tuple(problem.get(n) for n in schema.fieldNames())], schema), len(files)
    records = located.join(F.broadcast(index), "_source_path").mapInArrow(
        partial(tasks.read_parquet_rows, schema=arrow_schema(records_schema()), columns=columns),
        records_schema(),
    )
    return records, len(files)


def _conform_records(frame: DataFrame) -> DataFrame:
    from pyspark.sql import functions as F

    return frame.select(
        [
            (F.col(f.name) if f.name in frame.columns else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in records_schema().fields
        ]
    )


def read_inputs(spark: SparkSession, sources: list[DataFrame], options: Any, file_sources: int) -> DataFrame:
    """Step ``records``: every input read by its reader (files one per task, Parquet rows as they come)."""
    from newstrace.engines.spark_tasks import read_files

    frames = []
    for source in sources:
        if "kind" in source.columns:  # already records (Parquet rows)
            frames.append(_conform_records(source))
            continue
        spread = source.repartition(
            max(1, min(file_sources, 4 * spark.sparkContext.defaultParallelism)), "file_index"
        )
        frames.append(
            spread.mapInArrow(
                partial(read_files, schema=arrow_schema(records_schema()), options=options), records_schema()
            )
        )
    if not frames:
        return spark.createDataFrame([], records_schema())
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result


def prepare_records(articles: DataFrame, options: Any, partitions: int) -> DataFrame:
    """Step ``prepared``: each raw article cleaned into a document (spread over ``partitions`` tasks)."""
    return articles.repartition(partitions, "file_index", "record_index").mapInArrow(
        partial(tasks.prepare_articles, schema=arrow_schema(prepared_schema()), options=options),
        prepared_schema(),
    )


def ingest_order(read_documents: DataFrame) -> DataFrame:
    """Step ``ingest order``: what the local engine's store knows implicitly about each document, kept as the
    engine's own table: its place in the input stream (``position``, its row in the DuckDB table, which
    orders the claims the local engine embeds together) and its write batch (``batch``, which its
    ``ingested_at`` stands for when pairs are oriented). The local engine writes a batch after every
    ``WRITE_BATCH`` documents read, duplicates included. The result is cached (unpersist it when done)."""
    from pyspark.sql import functions as F

    positions = ranked(
        read_documents.select("doc_id", "file_index", "record_index"),
        ["file_index", "record_index"],
        "position",
    )
    order = (
        positions.groupBy("doc_id")
        .agg(F.min("position").alias("position"))
        .withColumn("batch", F.floor(F.col("position") / WRITE_BATCH))
        .persist()
    )
    order.count()
    positions.unpersist()
    return order


def first_by(frame: DataFrame, keys: Sequence[str], order: Sequence[str]) -> DataFrame:
    """One row per ``keys``: the first in ``order`` (as the local engine keeps the first one it met)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy(*keys).orderBy(*order)
    return frame.withColumn("_rank", F.row_number().over(window)).filter("_rank = 1").drop("_rank")


def outlet_boilerplate_lines(stored: DataFrame, min_docs: int, min_share: float) -> DataFrame:
    """Step ``outlet lines``: lines found in at least ``min_docs`` and ``min_share`` of an outlet's articles
    (articles told apart by title, so versions of one article count once)."""
    from pyspark.sql import functions as F

    articles = stored.filter(F.col("outlet").isNotNull()).select(
        "outlet", F.coalesce("title", "doc_id").alias("article"), "line_hashes"
    )
    sizes = articles.groupBy("outlet").agg(F.countDistinct("article").alias("n_outlet_docs"))
    lines = (
        articles.select("outlet", "article", F.explode("line_hashes").alias("line_hash"))
        .groupBy("outlet", "line_hash")
        .agg(F.countDistinct("article").alias("n_docs"))
    )
    threshold = F.greatest(F.lit(float(min_docs)), F.lit(float(min_share)) * F.col("n_outlet_docs"))
    return lines.join(sizes, "outlet").filter(F.col("n_docs") >= threshold)


@dataclass
class OutletPass:
    """What the outlet pass gives: documents with their new text, the outlet's boilerplate lines (with a
    sample text each, as the local engine keeps the first it removes), the removed lines, and the frames it
    cached."""

    documents: DataFrame
    lines: DataFrame
    removals: DataFrame
    cached: list[DataFrame]


def outlet_pass(stored: DataFrame, min_docs: int, min_share: float) -> OutletPass:
    """Steps ``outlet lines`` and ``cleaned``: find each outlet's boilerplate lines, then remove them from
    the outlet's documents (:func:`newstrace.ingest.clean.drop_lines`, on the executors)."""
    from pyspark.sql import functions as F

    lines = outlet_boilerplate_lines(stored, min_docs, min_share).persist()
    boilerplate = tasks.outlet_hashes(
        (row.outlet, row.line_hash) for row in lines.select("outlet", "line_hash").collect()
    )
    cleaned = (
        stored.filter(F.col("outlet").isin(list(boilerplate)))
        .select("doc_id", "outlet", "text", "offset_map")
        .mapInArrow(
            partial(tasks.drop_outlet_lines, schema=arrow_schema(cleaned_schema()), boilerplate=boilerplate),
            cleaned_schema(),
        )
        .persist()
    )
    changed = cleaned.select(
        "doc_id",
        F.col("text").alias("_text"),
        F.col("offset_map").alias("_offset_map"),
        F.col("n_words").alias("_n_words"),
    )
    documents = (
        stored.join(changed, "doc_id", "left")
        .withColumn("text", F.coalesce("_text", "text"))
        .withColumn(
            "offset_map",
            F.when(F.col("_text").isNotNull(), F.col("_offset_map")).otherwise(F.col("offset_map")),
        )
        .withColumn("n_words", F.coalesce("_n_words", "n_words"))
        .drop("_text", "_offset_map", "_n_words")
    )
    removals = cleaned.select("doc_id", F.posexplode("removals").alias("position", "removal")).join(
        stored.select("doc_id", "outlet", "file_index", "record_index"), "doc_id"
    )
    samples = removals.groupBy("outlet", F.col("removal.line_hash").alias("line_hash")).agg(
        F.min_by("removal.text", F.struct("file_index", "record_index", "position")).alias("text")
    )
    return OutletPass(
        documents,
        lines.join(samples, ["outlet", "line_hash"], "left"),
        removals.select("doc_id", "removal.*").drop("line_hash"),
        [lines, cleaned],
    )


def problems_of(records: DataFrame, prepared: DataFrame, found: Sequence[Problem]) -> DataFrame:
    """Step ``problems``: what reading, cleaning and finding the inputs reported."""
    from pyspark.sql import functions as F

    problems = (
        records.filter("kind = 'problem'")
        .select("source_path", "locator", "stage", "severity", "error", "detail")
        .unionByName(prepared.select(F.explode("problems").alias("p")).select("p.*"))
    )
    if found:
        problems = problems.unionByName(
            records.sparkSession.createDataFrame(
                [(p.source_path, p.locator, p.stage, p.severity, p.error, p.detail) for p in found],
                problem_type(),
            )
        )
    return problems


def spark_ingest(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    spark: SparkSession | None = None,
    format: str | None = None,
    mapping: str | dict[str, str] | None = None,
    boilerplate: str | Path | None = None,
    date_order: str = "MDY",
    max_bytes: int = DEFAULT_MAX_BYTES,
    delimiter: str | None = None,
    outlet_min_docs: int = 5,
    outlet_min_share: float = 0.2,
    partitions: int | None = None,
    command: str | None = None,
    on_event: Event | None = None,
) -> SparkReport:
    """Read ``paths`` (files and folders in any format the local readers take, URIs Spark can read, and
    Parquet datasets mapped with ``mapping`` like CSV) into a new Parquet store at ``out``.

    The same documents, occurrences, boilerplate and errors as the local ``ingest`` into an empty store;
    the annotation and link tables are left out (a missing table reads as empty) until those stages run.
    """
    from pyspark.sql import functions as F

    from newstrace.ingest.clean import load_rules
    from newstrace.ingest.fields import parse_mapping
    from newstrace.ingest.prepare import PrepareOptions
    from newstrace.ingest.sources import ReadOptions

    emit: Event = on_event or (lambda kind, payload: None)
    started = time.perf_counter()
    spark = spark or start_spark()
    store = ParquetStore(spark, out)
    fields = mapping if isinstance(mapping, dict) else parse_mapping(mapping)
    read_options = ReadOptions(tuple(sorted(fields.items())), max_bytes, delimiter)
    prepare_options = PrepareOptions(load_rules(str(boilerplate) if boilerplate else None), date_order)
    run = Run(store, command or "spark ingest " + " ".join(map(str, paths)))
    now = run.started

    _clear(store)
    sources, find_problems, n_files = _input_files(spark, paths, format, fields)
    emit("start", n_files)
    records = read_inputs(spark, sources, read_options, n_files).persist()
    articles = records.filter("kind = 'article'")
    n_articles = articles.count()
    emit("records", n_articles)
    prepared = prepare_records(
        articles, prepare_options, partitions or partitions_for(spark, n_articles, 2000)
    ).persist()
    read_documents = prepared.filter(F.col("doc_id").isNotNull())
    stored = first_by(read_documents, ["doc_id"], ["file_index", "record_index"]).persist()

    cleaned = outlet_pass(stored, outlet_min_docs, outlet_min_share)
    documents = (
        cleaned.documents.withColumn("outlet_pass_pending", F.lit(False))
        .withColumn("run_id", F.lit(run.run_id))
        .withColumn("ingested_at", F.lit(now).cast("timestamp_ntz"))
    )
    outlet_boilerplate = cleaned.lines.withColumn("run_id", F.lit(run.run_id))
    boilerplate_rows = (
        stored.select("doc_id", F.explode("removals").alias("r"))
        .select("doc_id", "r.*")
        .unionByName(cleaned.removals)
    )
    occurrences = first_by(read_documents, ["source_path", "locator"], ["file_index", "record_index"]).select(
        "source_path",
        "locator",
        "doc_id",
        "format",
        "outlet",
        "title",
        "url",
        "published",
        F.lit(run.run_id).alias("run_id"),
    )
    problems = problems_of(records, prepared, find_problems).persist()
    errors = problems.select(
        F.lit(run.run_id).alias("run_id"), "*", F.lit(now).cast("timestamp_ntz").alias("logged_at")
    )
    files = first_by(records.filter("kind = 'file'"), ["source_path", "fingerprint"], ["file_index"]).select(
        "source_path",
        "fingerprint",
        F.lit(run.run_id).alias("run_id"),
        "n_records",
        "n_problems",
        F.lit(now).cast("timestamp_ntz").alias("completed_at"),
    )

    emit("write", "documents")
    store.write("documents", documents)
    order = ingest_order(read_documents)
    store.write(ORDER_TABLE, order)
    order.unpersist()
    for name, frame in (
        ("occurrences", occurrences),
        ("boilerplate", boilerplate_rows),
        ("outlet_boilerplate", outlet_boilerplate),
        ("errors", errors),
        ("files", files),
    ):
        emit("write", name)
        store.write(name, frame)
    store.write(
        "meta",
        store.rows(
            "meta",
            [
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                {"key": "id_scheme", "value": ID_SCHEME},
                {"key": "created_by", "value": f"newstrace {__version__}"},
            ],
        ),
    )
    n_read = read_documents.count()
    n_stored = stored.count()
    counts = {
        "files": n_files,
        "records": n_articles,
        "stored": n_stored,
        "duplicates": n_read - n_stored,
        "skipped": n_read - occurrences.count(),
        "failed": problems.filter("severity = 'error'").select("source_path", "locator").distinct().count(),
        "warnings": problems.filter("severity = 'warning'").count(),
    }
    run.finish(counts)
    for frame in (records, prepared, stored, problems, *cleaned.cached):
        frame.unpersist()
    report = SparkReport("ingest", str(out), run.run_id, counts, time.perf_counter() - started)
    emit("done", report)
    return report


def _clear(store: ParquetStore) -> None:
    """Remove every table: ingest starts a new store, whose other tables are empty until the later stages
    write them (a missing table reads as empty)."""
    for name in [*store.tables, ORDER_TABLE]:
        store.delete(name)
