"""The Spark engine: ingest, annotate and link as named DataFrame stages on PySpark, the store as Parquet.

Each stage reads as a list of transformations with named columns, as passim's seriatim does:

    ingest    files → records → prepared → first occurrences → outlet boilerplate → documents, occurrences, …
    annotate  documents → annotated (one row per document, nested) → sentences, mentions, places, …
    link      documents → reuse_index → postings → candidate pairs → reuse
              annotations → claim inputs → claims with vectors → neighbours → groups → narratives

Per-record work (reading, cleaning, spaCy, tokenising, alignment, claim extraction) runs in ``mapInArrow``
through :mod:`newstrace.engines.spark_tasks`, with the local engine's own functions. Corpus-level steps
(duplicates, outlet boilerplate, candidate pairs, claim neighbours and their connected groups) are DataFrame
operations. Narrative clustering is incremental in date order (each claim joins the narrative of its most
similar earlier claim), but a claim only ever looks at its shortlist of nearest claims: the engine finds
every shortlist block by block, splits the claims into groups that no shortlist crosses, and places each
group with :func:`newstrace.link.narrate.place_claims` on the executors (see docs/spark.md). The output is a
Parquet store (one folder per table, the DuckDB tables' columns) that
:func:`newstrace.engines.parquet_store.load_store` turns into a DuckDB store file.

Every stage rewrites the tables it owns: a Spark run is a batch over the whole corpus, not an increment.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from newstrace.engines.parquet_store import dump_store, load_store, read_table
from newstrace.engines.spark_annotate import spark_annotate
from newstrace.engines.spark_ingest import spark_ingest
from newstrace.engines.spark_link import DEFAULT_LINK_EMBEDDER, spark_link
from newstrace.engines.spark_store import Event, ParquetStore, SparkReport, start_spark
from newstrace.store import DEFAULT_DB, Store, StoreError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

PARQUET_FOLDER = "parquet"  # inside the --out folder of `run`: the Parquet store beside newstrace.duckdb


def parquet_beside(db: str | Path) -> Path:
    """The Parquet store the Spark engine works on for the DuckDB store ``db``: ``corpus.parquet`` for
    ``corpus.duckdb``."""
    return Path(db).with_suffix(".parquet")


def spark_on_store(
    db: str | Path, stage: Callable[[str], SparkReport], *, fresh: bool = False
) -> SparkReport:
    """One Spark stage for a DuckDB store, as ``ingest``, ``annotate`` and ``link --engine spark`` run it.

    The store's tables are written as a Parquet store beside it (:func:`parquet_beside`), ``stage`` runs on
    that folder, and the result is loaded back into ``db``: the query commands and the local engine go on
    working with it. ``fresh`` (ingest) starts a new Parquet store instead, and refuses a ``db`` that already
    holds documents, since a Spark stage rewrites its tables from scratch. ``db`` is replaced only once the
    new store is complete, so a failed stage leaves it as it was.
    """
    db = Path(db)
    root = parquet_beside(db)
    if fresh:
        if db.exists():
            with Store(db, read_only=True) as store:
                held = store.con.execute("SELECT count(*) FROM documents").fetchone()[0]
            if held:
                raise StoreError(
                    f"{db}: already holds {held:,} documents; the Spark engine ingests into a new store "
                    "(choose another --db, or add files with the local engine)"
                )
        shutil.rmtree(root, ignore_errors=True)
    else:
        if not db.exists():
            raise StoreError(f"{db}: no such store (run `newstrace ingest` first)")
        dump_store(db, root)
    report = stage(str(root))
    loading = db.with_name(db.name + ".loading")
    load_store(root, loading, replace=True)
    Path(f"{db}.wal").unlink(missing_ok=True)
    os.replace(loading, db)
    return report


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
    clustering: str = "blocked",
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
    reports.append(spark_link(root, spark=spark, embedder=embedder, clustering=clustering, on_event=on_event))
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
    "parquet_beside",
    "read_table",
    "spark_annotate",
    "spark_ingest",
    "spark_link",
    "spark_on_store",
    "spark_run",
    "start_spark",
]
