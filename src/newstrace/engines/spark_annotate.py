"""Annotate on Spark: the language pipeline over every document of a Parquet store, as the local
``annotate`` does over a store where nothing is annotated yet.

    documents → annotated (one row per document, each table's rows nested) → annotations, sentences,
    mentions, places, timexes, attributions, labels, actors; dates filled in, then re-read on the driver
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    spark_schema,
    start_spark,
    table_struct,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType


# The nested annotation tables: each row of `annotated` holds a list of rows of these tables, without their
# document id and position column.
_NESTED = {
    "sentences": ("doc_id", "sentence"),
    "mentions": ("doc_id",),
    "places": ("doc_id",),
    "timexes": ("doc_id",),
    "attributions": ("doc_id", "attribution"),
    "labels": ("doc_id",),
}


def annotated_schema() -> StructType:
    """``annotated``: a document's annotations, one row per document, each table's rows nested."""
    from pyspark.sql import types as T

    documents = spark_schema(store_tables()["documents"])
    return T.StructType(
        [
            documents["doc_id"],
            documents["published"],
            documents["published_source"],
            *(T.StructField(name, T.ArrayType(table_struct(name, drop))) for name, drop in _NESTED.items()),
            T.StructField("problem", problem_type()),
        ]
    )


def annotate_documents_stage(documents: DataFrame, config: Any, partitions: int) -> DataFrame:
    """Step ``annotated``: spaCy and the attribution tagger over each document, in ``doc_id`` order within
    a task (spaCy loads once per Python worker)."""
    columns = {
        name: [c for c in store_tables()[name].columns if c not in drop] for name, drop in _NESTED.items()
    }
    return (
        documents.select(
            "doc_id", "source_path", "locator", "format", "text", "published", "published_source"
        )
        .repartition(partitions, "doc_id")
        .sortWithinPartitions("doc_id")
        .mapInArrow(
            partial(
                tasks.annotate_rows, schema=arrow_schema(annotated_schema()), config=config, columns=columns
            ),
            annotated_schema(),
        )
    )


def redate(
    documents: DataFrame, annotated: DataFrame
) -> dict[str, tuple[list[Any], date | None, str | None]]:
    """Step ``redated``, on the driver: :func:`newstrace.nlp.runner.redate_from_corpus`. Undated documents
    whose dates name no year ("Last Monday, May 6th") are re-read against the latest date of the rest of the
    corpus. Returns doc_id -> (timexes, published, source) for the documents changed. The candidates are
    found on the executors and are few; they are taken in ``doc_id`` order."""
    from pyspark.sql import functions as F

    from newstrace.nlp.runner import _OWN_YEAR_RULES
    from newstrace.nlp.timex import resolve_document_dates

    rules = F.transform("timexes", lambda timex: timex["rule"])
    candidates = {
        row.doc_id: row
        for row in documents.filter(F.coalesce("published_source", F.lit("inferred")) == "inferred")
        .select("doc_id", "text", "published")
        .join(annotated.select("doc_id", "timexes"), "doc_id")
        .filter(
            F.array_contains(rules, "weekday-year")
            & ~F.arrays_overlap(rules, F.array(*map(F.lit, _OWN_YEAR_RULES)))
        )
        .collect()
    }
    if not candidates:
        return {}
    (rest,) = documents.filter(~F.col("doc_id").isin(list(candidates))).agg(F.max("published")).first()
    current = {doc_id: row.published for doc_id, row in candidates.items()}
    changed: dict[str, tuple[list[Any], date | None, str | None]] = {}
    for doc_id in sorted(candidates):
        # As the local engine: the latest date of every other document, as it stands now.
        others = [value for other, value in current.items() if other != doc_id and value is not None]
        latest = max([*others, *([rest] if rest is not None else [])], default=None)
        if latest is None:
            continue
        row = candidates[doc_id]
        spans = [(t.start, t.end) for t in row.timexes]
        timexes, published, source = resolve_document_dates(row.text, None, spans, source=None, latest=latest)
        changed[doc_id] = (timexes, published, source)
        current[doc_id] = published
    return changed


def filled_dates(documents: DataFrame, annotated: DataFrame) -> DataFrame:
    """Step ``dated``: a document without a date takes the one annotation read from its text (or inferred),
    as ``Store.write_annotations`` fills it in."""
    from pyspark.sql import functions as F

    found = annotated.select(
        "doc_id", F.col("published").alias("_published"), F.col("published_source").alias("_source")
    )
    fill = (
        F.col("published").isNull()
        & F.col("_published").isNotNull()
        & F.col("_source").isin("text", "inferred")
    )
    return (
        documents.join(found, "doc_id", "left")
        .withColumn("_fill", fill)
        .withColumn("published", F.when(F.col("_fill"), F.col("_published")).otherwise(F.col("published")))
        .withColumn(
            "published_source", F.when(F.col("_fill"), F.col("_source")).otherwise(F.col("published_source"))
        )
        .drop("_published", "_source", "_fill")
    )


def apply_redates(
    store: ParquetStore,
    documents: DataFrame,
    timexes: DataFrame,
    redated: dict[str, tuple[list[Any], date | None, str | None]],
) -> tuple[DataFrame, DataFrame]:
    """The re-read dates in place of the first ones: each changed document's timexes and publication date
    (``Store.replace_dates``)."""
    from pyspark.sql import functions as F

    changed = list(redated)
    columns = [c for c in store_tables()["timexes"].columns if c != "doc_id"]
    replacement = store.rows(
        "timexes",
        [
            {"doc_id": doc_id, **{c: getattr(timex, c) for c in columns}}
            for doc_id, (found, _, _) in redated.items()
            for timex in found
        ],
    )
    new_dates = store.spark.createDataFrame(
        [(doc_id, published, source) for doc_id, (_, published, source) in redated.items()],
        "doc_id string, _published date, _source string",
    )
    is_changed = F.col("doc_id").isin(changed)
    documents = (
        documents.join(new_dates, "doc_id", "left")
        .withColumn("published", F.when(is_changed, F.col("_published")).otherwise(F.col("published")))
        .withColumn(
            "published_source", F.when(is_changed, F.col("_source")).otherwise(F.col("published_source"))
        )
        .drop("_published", "_source")
    )
    return documents, timexes.filter(~is_changed).unionByName(replacement)


def spark_annotate(
    out: str | Path,
    *,
    spark: SparkSession | None = None,
    model: str | None = None,
    aliases: Sequence[str | Path] = (),
    places: Sequence[str | Path] = (),
    attributions: bool = True,
    partitions: int | None = None,
    on_event: Event | None = None,
) -> SparkReport:
    """Annotate every document of the Parquet store at ``out`` (the local ``annotate``, on a store where
    nothing is annotated yet); rewrites the annotation tables and the dates annotation fills in."""
    from pyspark.sql import functions as F

    from newstrace.nlp.annotate import NlpConfig
    from newstrace.nlp.pipeline import alias_table

    emit: Event = on_event or (lambda kind, payload: None)
    started = time.perf_counter()
    spark = spark or start_spark()
    store = ParquetStore(spark, out)
    config = NlpConfig.of(model, aliases, places, attributions)
    actors = alias_table(config.aliases)  # read the files now, so a bad one fails before any work
    run = Run(store, f"spark annotate {config.describe()}")
    now = F.lit(run.started).cast("timestamp_ntz")

    documents = store.read("documents").persist()
    n_documents = documents.count()
    emit("start", n_documents)
    annotated = annotate_documents_stage(
        documents, config, partitions or partitions_for(spark, n_documents, 200)
    ).persist()
    ok = annotated.filter(F.col("problem").isNull())

    filled = filled_dates(documents, ok).persist()
    redated = redate(filled, ok)
    dated = filled
    timexes = ok.select("doc_id", F.explode("timexes").alias("t")).select("doc_id", "t.*")
    if redated:
        dated, timexes = apply_redates(store, dated, timexes, redated)

    emit("write", "annotations")
    store.write("documents", dated)
    store.write(
        "annotations",
        ok.select(
            "doc_id",
            F.lit(config.describe()).alias("pipeline"),
            F.lit(run.run_id).alias("run_id"),
            now.alias("annotated_at"),
        ),
    )
    store.write(
        "sentences",
        ok.select("doc_id", F.posexplode("sentences").alias("sentence", "s")).select(
            "doc_id", "sentence", "s.*"
        ),
    )
    for name in ("mentions", "places", "labels"):
        store.write(name, ok.select("doc_id", F.explode(name).alias("row")).select("doc_id", "row.*"))
    store.write("timexes", timexes)
    store.write(
        "attributions",
        ok.select("doc_id", F.posexplode("attributions").alias("attribution", "a")).select(
            "doc_id", "attribution", "a.*"
        ),
    )
    old_actors = store.read("actors").filter(~F.col("actor_id").isin(list(actors.actors)))
    new_actors = store.rows(
        "actors",
        [
            {
                "actor_id": a.actor_id,
                "canonical": a.canonical,
                "kind": a.kind,
                "label": actors.labels[a.actor_id],
                "aliases": list(a.aliases),
            }
            for a in actors.actors.values()
        ],
    )
    store.write("actors", old_actors.unionByName(new_actors))
    # Claims are derived from annotations: new annotations make them stale, as in the local store.
    for name in ("claims", "claim_vectors", "claimed"):
        store.delete(name)
    failed = annotated.filter(F.col("problem").isNotNull()).select("problem.*")
    store.append("errors", failed.select(F.lit(run.run_id).alias("run_id"), "*", now.alias("logged_at")))
    n_failed = failed.count()
    counts = {"records": n_documents - n_failed, "stored": n_documents - n_failed, "failed": n_failed}
    run.finish(counts)
    for frame in (documents, annotated, filled):
        frame.unpersist()
    report = SparkReport(
        "annotate", str(out), run.run_id, {**counts, "redated": len(redated)}, time.perf_counter() - started
    )
    emit("done", report)
    return report
