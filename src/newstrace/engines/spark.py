"""The Spark engine: ingest, annotate and link as named DataFrame stages on PySpark, the store as Parquet.

Each stage reads as a list of transformations with named columns, as passim's seriatim does:

    ingest    files → records → prepared → first occurrences → outlet boilerplate → documents, occurrences, …
    annotate  documents → annotated (one row per document, nested) → sentences, mentions, places, …
    link      documents → reuse_index → postings → candidate pairs → reuse
              annotations → claim inputs → claims with vectors → narratives (on the driver)

Per-record work (reading, cleaning, spaCy, tokenising, alignment, claim extraction) runs in ``mapInArrow``
through :mod:`newstrace.engines.spark_tasks`, with the local engine's own functions. Corpus-level steps
(duplicates, outlet boilerplate, candidate pairs) are DataFrame operations. Narrative clustering is
incremental in date order (each claim joins the narrative of its most similar earlier claim), so it runs on
the driver with :func:`newstrace.link.narratives.assign` over every claim and its vector; its cost bounds
the engine (see docs/spark.md). The output is a Parquet store (one folder per table, the DuckDB tables'
columns) that :func:`newstrace.engines.parquet_store.load_store` turns into a DuckDB store file.

Every stage rewrites the tables it owns: a Spark run is a batch over the whole corpus, not an increment.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from newstrace.engines.parquet_store import load_store, read_table
from newstrace.engines.spark_annotate import spark_annotate
from newstrace.engines.spark_ingest import spark_ingest
from newstrace.engines.spark_link import DEFAULT_LINK_EMBEDDER, spark_link
from newstrace.engines.spark_store import Event, ParquetStore, SparkReport, start_spark
from newstrace.store import DEFAULT_DB

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PARQUET_FOLDER = "parquet"  # inside the --out folder of `run`: the Parquet store beside newstrace.duckdb


def spark_run(
    paths: Sequence[str | Path],
    out: str | Path,
    *,
    spark: SparkSession | None = None,
    format: str | None = None,
    mapping: str | dict[str, str] | None = None,
    aliases: Sequence[str | Path] = (),
    places: Sequence[str | Path] = (),
    attributions: bool = True,
    annotate: bool = True,
    embedder: str = DEFAULT_LINK_EMBEDDER,
    duckdb: bool = True,
    on_event: Event | None = None,
) -> list[SparkReport]:
    """Ingest, annotate and link ``paths`` on Spark: the Parquet store goes to ``out/parquet``; with
    ``duckdb`` (``out`` a local folder) it is also loaded into ``out/newstrace.duckdb``, which the query
    commands read, and ``out/report.html`` is written from it, as ``newstrace run`` leaves them."""
    spark = spark or start_spark()
    root = f"{str(out).rstrip('/')}/{PARQUET_FOLDER}"
    reports = [spark_ingest(paths, root, spark=spark, format=format, mapping=mapping, on_event=on_event)]
    if annotate:
        reports.append(
            spark_annotate(
                root,
                spark=spark,
                aliases=aliases,
                places=places,
                attributions=attributions,
                on_event=on_event,
            )
        )
    reports.append(spark_link(root, spark=spark, embedder=embedder, on_event=on_event))
    if duckdb:
        db = load_store(root, Path(out) / DEFAULT_DB, replace=True)
        try:
            from newstrace.present.report import write_report
        except ImportError:  # a newstrace without the presenters
            return reports
        write_report(db, Path(out) / "report.html")
    return reports


__all__ = [
    "PARQUET_FOLDER",
    "ParquetStore",
    "SparkReport",
    "load_store",
    "read_table",
    "spark_annotate",
    "spark_ingest",
    "spark_link",
    "spark_run",
    "start_spark",
]
