"""Link on Spark: reuse, claims and narratives over every document of a Parquet store, as the local ``link``
does over a store linked for the first time.

    documents → reuse_index → postings → candidate pairs → reuse
    annotations → claim inputs → extracted → claim order → vectors → neighbours → groups → narratives
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from newstrace.engines import spark_tasks as tasks
from newstrace.engines.parquet_store import store_tables
from newstrace.engines.spark_ingest import ORDER_TABLE
from newstrace.engines.spark_store import (
    Event,
    ParquetStore,
    Run,
    SparkReport,
    arrow_schema,
    partitions_for,
    ranked,
    spark_schema,
    start_spark,
    table_struct,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import StructType

    from newstrace.embed import Embedder
    from newstrace.link.narratives import NarrativeConfig
    from newstrace.link.reuse import ReuseConfig


DEFAULT_LINK_EMBEDDER = "minilm"  # as newstrace.link.pipeline.link
CLUSTERING = ("blocked", "driver")
KNN_BLOCK = 2048  # claims per block of the nearest-neighbour products
CLAIM_CHUNK = 500  # newstrace.link.narrate.link_claims(batch_size=500)
REUSE_CHUNK = 2000  # newstrace.link.reuse.link_reuse(chunk_size=2000)


def _order_key() -> Column:
    """The order the local engine gives documents when it numbers them for candidate pairs (dated first, by
    date, then ingest time and id): the first document of a pair is aligned against the second, and
    alignment is not quite symmetric. The local engine's ``ingested_at`` is the time of its write batch,
    which the ingest order's ``batch`` stands for."""
    from pyspark.sql import functions as F

    return F.struct(
        F.col("published").isNull(),
        F.coalesce("published", F.lit(date(1970, 1, 1))),
        F.coalesce("batch", F.lit(0)),
        F.coalesce("ingested_at", F.lit(datetime(1970, 1, 1)).cast("timestamp_ntz")),
        F.col("doc_id"),
    )


def link_documents(store: ParquetStore) -> DataFrame:
    """Step ``documents``: what linking reads of each document, with its ingest order when the store was
    ingested on Spark (``position`` and ``batch`` are null otherwise)."""
    from pyspark.sql import functions as F

    documents = store.read("documents").select("doc_id", "text", "outlet", "published", "ingested_at")
    order = store.read_own(ORDER_TABLE)
    if order is None:
        return documents.withColumn("position", F.lit(None).cast("long")).withColumn(
            "batch", F.lit(None).cast("long")
        )
    return documents.join(order.select("doc_id", "position", "batch"), "doc_id", "left")


def fingerprint_stage(documents: DataFrame, config: ReuseConfig, partitions: int) -> DataFrame:
    """Step ``reuse_index``: each document's winnowed shingle fingerprints."""
    from pyspark.sql import types as T

    schema = T.StructType([table_struct("reuse_index", ("run_id",))[n] for n in ("doc_id", "fingerprints")])
    return (
        documents.select("doc_id", "text")
        .repartition(partitions, "doc_id")
        .mapInArrow(partial(tasks.fingerprint_rows, schema=arrow_schema(schema), config=config), schema)
    )


def candidate_pairs_stage(
    index: DataFrame, documents: DataFrame, config: ReuseConfig
) -> tuple[DataFrame, DataFrame, DataFrame]:
    """Steps ``postings`` and ``candidate pairs``: documents sharing at least ``min_shared`` fingerprints,
    each found in 2 to ``max_df`` documents (more is boilerplate).

    As the local engine: documents are numbered in its order and linked in chunks of ``REUSE_CHUNK``, each
    compared with itself and the chunks before it, so a pair counts a fingerprint's documents up to the end
    of its second document's chunk. Returns the pairs (``doc_a`` first in that order, ``shared``), the
    boilerplate fingerprints, and the numbering (cached: unpersist it when done)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    numbered = ranked(documents.select("doc_id", _order_key().alias("key")), ["key"], "rank")
    postings = (
        index.select("doc_id", F.explode("fingerprints").alias("fingerprint"))
        .join(numbered.select("doc_id", "rank"), "doc_id")
        .withColumn("chunk", F.floor(F.col("rank") / REUSE_CHUNK))
    )
    so_far = Window.partitionBy("fingerprint").orderBy("chunk").rowsBetween(Window.unboundedPreceding, 0)
    frequency = (
        postings.groupBy("fingerprint", "chunk")
        .agg(F.count("*").alias("in_chunk"))
        .withColumn("n_docs", F.sum("in_chunk").over(so_far))
    )
    boilerplate = (
        postings.groupBy("fingerprint")
        .agg(F.count("*").alias("n_docs"))
        .filter(F.col("n_docs") > config.max_df)
    )
    first = postings.select("fingerprint", F.col("doc_id").alias("doc_a"), F.col("rank").alias("rank_a"))
    second = postings.join(
        frequency.filter(F.col("n_docs").between(2, config.max_df)), ["fingerprint", "chunk"]
    ).select("fingerprint", F.col("doc_id").alias("doc_b"), F.col("rank").alias("rank_b"))
    pairs = (
        first.join(second, "fingerprint")
        .filter(F.col("rank_a") < F.col("rank_b"))
        .groupBy("doc_a", "doc_b")
        .agg(F.count("*").alias("shared"))
        .filter(F.col("shared") >= config.min_shared)
    )
    return pairs, boilerplate, numbered


def align_stage(pairs: DataFrame, documents: DataFrame, config: ReuseConfig, partitions: int) -> DataFrame:
    """Step ``reuse``: each candidate pair aligned into passages, tasks grouped by first document."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    def side(name: str) -> DataFrame:
        return documents.select(
            F.col("doc_id").alias(f"doc_{name}"),
            F.col("text").alias(f"text_{name}"),
            F.col("outlet").alias(f"outlet_{name}"),
            F.col("published").alias(f"published_{name}"),
        )

    reuse = table_struct("reuse", ("run_id",))
    schema = T.StructType(list(reuse.fields))
    return (
        pairs.join(side("a"), "doc_a")
        .join(side("b"), "doc_b")
        .repartition(partitions, "doc_a")
        .sortWithinPartitions("doc_a", "doc_b")
        .select("doc_a", "doc_b", "text_a", "text_b", "outlet_a", "outlet_b", "published_a", "published_b")
        .mapInArrow(partial(tasks.align_rows, schema=arrow_schema(schema), config=config), schema)
    )


def claims_schema() -> StructType:
    """``extracted``: a document's claims; one row per document."""
    from pyspark.sql import types as T

    from newstrace.model import Claim

    claims = spark_schema(store_tables()["claims"])
    names = [f.name for f in dataclasses.fields(Claim)]
    claim = T.StructType([claims[n] for n in names])
    return T.StructType(
        [
            claims["doc_id"],
            T.StructField("n_claims", T.IntegerType()),
            T.StructField("claims", T.ArrayType(claim)),
        ]
    )


def claim_inputs_stage(store: ParquetStore, documents: DataFrame) -> DataFrame:
    """Step ``claim inputs``: each annotated document with its sentences, mentions, places and attributions."""
    from pyspark.sql import functions as F

    def nested(table: str, name: str) -> DataFrame:
        frame = store.read(table)
        rest = [c for c in frame.columns if c != "doc_id"]
        return frame.groupBy("doc_id").agg(F.collect_list(F.struct(*rest)).alias(name))

    annotated = store.read("annotations").select("doc_id")
    frame = documents.select("doc_id", "text", "published", "outlet").join(annotated, "doc_id")
    for table in ("sentences", "mentions", "places", "attributions"):
        frame = frame.join(nested(table, table), "doc_id", "left")
    return frame


def extract_claims_stage(inputs: DataFrame, partitions: int) -> DataFrame:
    """Step ``extracted``: the claims of each document."""
    return inputs.repartition(partitions, "doc_id").mapInArrow(
        partial(tasks.claim_rows, schema=arrow_schema(claims_schema())), claims_schema()
    )


def claim_order(claims: DataFrame, claimed: DataFrame, documents: DataFrame) -> DataFrame:
    """Step ``claim order``: each claim's place in the list the local engine embeds and clusters: documents
    by id in chunks of ``CLAIM_CHUNK``, in the store's row order within a chunk (the ingest order), then
    claims in text order. ``claimed`` lists every document claims were extracted from. Adds ``chunk`` and
    ``position``; the result is cached (unpersist it when done)."""
    from pyspark.sql import functions as F

    ranks = ranked(claimed.select("doc_id"), ["doc_id"], "doc_rank")
    chunks = ranks.select("doc_id", F.floor(F.col("doc_rank") / CLAIM_CHUNK).alias("chunk"))
    positions = documents.select("doc_id", F.coalesce("position", F.lit(0)).alias("position"))
    listed = claims.join(chunks, "doc_id").join(positions, "doc_id").persist()
    listed.count()
    ranks.unpersist()
    return listed


CLAIM_ORDER = ("chunk", "position", "doc_id", "start", "end")


def embed_stage(claims: DataFrame, embedder: str, partitions: int) -> DataFrame:
    """Step ``vectors``: each claim's unit vector, ``claim_id`` and ``vector``, cached (unpersist it when
    done). Both embedders encode each text on its own, so a vector does not depend on which task, or which
    other claims, it is encoded with."""
    from pyspark.sql import types as T

    schema = T.StructType(
        [T.StructField("claim_id", T.StringType()), T.StructField("vector", T.ArrayType(T.FloatType()))]
    )
    vectors = (
        claims.select("claim_id", "text")
        .repartition(partitions)
        .mapInArrow(partial(tasks.embed_rows, schema=arrow_schema(schema), embedder=embedder), schema)
        .persist()
    )
    vectors.count()
    return vectors


def narratives_on_driver(
    claims: pa.Table, reuse: pa.Table, run_id: str, config: NarrativeConfig, embedder: str
) -> tuple[dict[str, pa.Table], int, int]:
    """Step ``narratives``, on the driver: what :func:`newstrace.link.narrate.link_claims` does once claims
    are extracted and embedded, over all claims in the local engine's order (:func:`claim_order`), in a
    store held in memory. Returns its ``claims``, ``claim_vectors`` and ``narratives`` tables, the
    narratives touched and the recurring ones."""
    from newstrace.link.narrate import place_claims
    from newstrace.model import Claim, ReusePair
    from newstrace.store import Store

    names = [f.name for f in dataclasses.fields(Claim)]
    rows = sorted(claims.to_pylist(), key=lambda r: tuple(r[key] for key in CLAIM_ORDER))
    records = [
        Claim(**{n: (tuple(r[n] or ()) if n in ("actors", "places") else r[n]) for n in names}) for r in rows
    ]
    vectors = (
        np.array([r["vector"] for r in rows], dtype=np.float32)
        if rows
        else np.zeros((0, 1), dtype=np.float32)
    )
    with Store(":memory:") as memory:
        memory.write_reuse(run_id, [ReusePair(**r) for r in reuse.to_pylist()], [])
        touched, recurring = place_claims(memory, run_id, records, vectors, [], embedder, config)
        tables = {
            name: memory.con.sql(f'SELECT * FROM "{name}"').to_arrow_table()
            for name in ("claims", "claim_vectors", "narratives")
        }
    return tables, touched, recurring


def neighbours_stage(claims: DataFrame, config: NarrativeConfig, partitions: int) -> DataFrame:
    """Step ``neighbours``: each claim's shortlist, as the local engine makes it (the ``candidates`` + 1 most
    similar claims of the whole list with a cosine of at least ``shortlist``, ties to the lower rank), from
    every pair of blocks of ``KNN_BLOCK`` claims compared on the executors. ``claims`` has ``rank`` (the
    place in the local engine's list) and ``vector``. Returns ``rank``, ``neighbour``, ``place`` (from 1, in
    shortlist order), checkpointed."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    k = config.candidates + 1
    packed = (
        claims.select(
            F.floor(F.col("rank") / KNN_BLOCK).alias("block"), F.struct("rank", "vector").alias("m")
        )
        .groupBy("block")
        .agg(F.collect_list("m").alias("members"))
        .localCheckpoint()
    )
    schema = T.StructType(
        [
            T.StructField("rank", T.LongType()),
            T.StructField("neighbour", T.LongType()),
            T.StructField("sim", T.DoubleType()),
        ]
    )
    found = (
        packed.select(F.col("members").alias("queries"))
        .crossJoin(packed.select(F.col("members").alias("pool")))
        .repartition(partitions)
        .mapInArrow(partial(tasks.knn_rows, schema=arrow_schema(schema), k=k, floor=config.shortlist), schema)
    )
    order = Window.partitionBy("rank").orderBy(F.col("sim").desc(), F.col("neighbour"))
    shortlists = (
        found.withColumn("place", F.row_number().over(order))
        .filter(F.col("place") <= k)
        .drop("sim")
        .localCheckpoint()
    )
    return shortlists


def components_stage(ranks: DataFrame, shortlists: DataFrame) -> DataFrame:
    """Step ``groups``: the connected components of the shortlist graph, as ``rank`` and ``group`` (the
    lowest rank in the component), by propagating the lowest label until nothing changes. A claim's
    narrative depends only on the claims of its shortlist, so claims of different components cannot meet."""
    from pyspark.sql import functions as F

    edges = shortlists.filter(F.col("rank") != F.col("neighbour")).select(
        F.col("rank").alias("a"), F.col("neighbour").alias("b")
    )
    edges = (
        edges.union(edges.select(F.col("b").alias("a"), F.col("a").alias("b"))).distinct().localCheckpoint()
    )
    labels = ranks.select("rank", F.col("rank").alias("group")).localCheckpoint()
    while True:
        lowest = (
            edges.join(labels.withColumnRenamed("rank", "b"), "b")
            .groupBy("a")
            .agg(F.min("group").alias("lowest"))
            .withColumnRenamed("a", "rank")
        )
        updated = (
            labels.join(lowest, "rank", "left")
            .select("rank", F.least("group", F.coalesce("lowest", "group")).alias("group"))
            .localCheckpoint()
        )
        changed = (
            updated.join(labels.withColumnRenamed("group", "before"), "rank")
            .filter(F.col("group") != F.col("before"))
            .count()
        )
        labels = updated
        if not changed:
            return labels


def narratives_blocked(
    claims: DataFrame,
    reuse: DataFrame,
    run_id: str,
    config: NarrativeConfig,
    embedder: str,
    partitions: int,
    on_step: Callable[[str], None] | None = None,
) -> tuple[dict[str, DataFrame], DataFrame]:
    """Step ``narratives``, spread over the executors: what :func:`newstrace.link.narrate.link_claims` does
    once claims are extracted and embedded, one group of connected claims at a time (see
    :func:`components_stage`), with the corpus's TF-IDF statistics. Returns the ``claims``,
    ``claim_vectors`` and ``narratives`` tables and the cached frame behind them (unpersist it when done)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from newstrace.model import Claim

    numbered = ranked(claims.select("claim_id", *CLAIM_ORDER), list(CLAIM_ORDER), "rank")
    # Checkpoints cut the lineage: the plans of the steps below (self-joins, a loop) would otherwise repeat
    # every cached stage before them, and Spark prints each plan it caches.
    listed = claims.join(numbered.select("claim_id", "rank"), "claim_id").localCheckpoint()
    n_claims = listed.count()
    numbered.unpersist()
    step = on_step or (lambda name: None)
    shortlists = neighbours_stage(listed, config, partitions)
    step("neighbours")
    groups = components_stage(listed.select("rank"), shortlists)
    step("groups")
    terms = listed.select("text").mapInArrow(
        partial(tasks.term_rows, schema=arrow_schema(T.StructType([T.StructField("term", T.StringType())]))),
        T.StructType([T.StructField("term", T.StringType())]),
    )
    df = {row["term"]: int(row["count"]) for row in terms.groupBy("term").count().collect()}

    ordered = shortlists.groupBy("rank").agg(
        F.transform(
            F.sort_array(F.collect_list(F.struct("place", "neighbour"))), lambda x: x["neighbour"]
        ).alias("shortlist")
    )
    names = [f.name for f in dataclasses.fields(Claim)]
    members = listed.join(groups, "rank").join(ordered, "rank", "left")
    grouped = members.groupBy("group").agg(
        F.collect_list(
            F.struct(*names, "vector", "rank", F.coalesce("shortlist", F.array()).alias("shortlist"))
        ).alias("claims")
    )
    documents = members.select("doc_id", "group").distinct()
    reuse_columns = [c for c in reuse.columns if c != "run_id"]
    passages = (
        reuse.join(documents.withColumnRenamed("doc_id", "doc_a"), "doc_a")
        .join(documents.withColumnRenamed("doc_id", "doc_b").withColumnRenamed("group", "group_b"), "doc_b")
        .filter(F.col("group") == F.col("group_b"))
        .groupBy("group")
        .agg(F.collect_list(F.struct(*reuse_columns)).alias("passages"))
    )
    tables = {name: spark_schema(store_tables()[name]) for name in ("claims", "claim_vectors", "narratives")}
    schema = T.StructType([T.StructField(name, struct) for name, struct in tables.items()])
    placed = (
        grouped.join(passages, "group", "left")
        .repartition(partitions, "group")
        .mapInArrow(
            partial(
                tasks.narrative_rows,
                schema=arrow_schema(schema),
                config=config,
                df=df,
                n_claims=n_claims,
                run_id=run_id,
                embedder=embedder,
            ),
            schema,
        )
        .persist()
    )
    placed.count()
    for frame in (listed, shortlists, groups):
        frame.unpersist()
    return {name: placed.filter(F.col(name).isNotNull()).select(f"{name}.*") for name in tables}, placed


def _link_claims(
    store: ParquetStore,
    documents: DataFrame,
    reuse: DataFrame,
    run: Run,
    config: NarrativeConfig,
    model: Embedder,
    partitions: int,
    emit: Event,
    clustering: str = "blocked",
) -> dict[str, int]:
    """The claims half of ``link``: extracted and embedded on the executors, then clustered in connected
    groups on the executors (``blocked``) or all at once on the driver (``driver``)."""
    from pyspark.sql import functions as F

    inputs = claim_inputs_stage(store, documents)
    extracted = extract_claims_stage(inputs, partitions).persist()
    claimed = extracted.select(
        "doc_id", "n_claims", F.lit(model.name).alias("embedder"), F.lit(run.run_id).alias("run_id")
    )
    listed = claim_order(extracted.select(F.explode("claims").alias("c")).select("c.*"), extracted, documents)
    n_listed = listed.count()
    vectors = embed_stage(listed, model.name, partitions_for(store.spark, n_listed, 2000))
    claim_docs = listed.select("doc_id").distinct()
    # Chains only look at passages between documents with claims.
    reuse_between = (
        reuse.join(claim_docs.withColumnRenamed("doc_id", "doc_a"), "doc_a")
        .join(claim_docs.withColumnRenamed("doc_id", "doc_b"), "doc_b")
        .drop("run_id")
    )
    emit("narratives", n_listed)
    if clustering == "driver":
        arrow = listed.join(vectors, "claim_id").toArrow()
        found, touched, recurring = narratives_on_driver(
            arrow, reuse_between.toArrow(), run.run_id, config, model.name
        )
        tables = {name: store.from_arrow(name, found[name]) for name in found}
        placed = None
    else:
        tables, placed = narratives_blocked(
            listed.join(vectors, "claim_id"), reuse_between, run.run_id, config, model.name, partitions
        )
        touched = tables["narratives"].count()
        recurring = tables["narratives"].filter(F.col("recurring")).count()
    emit("narratives_done", touched)
    for name in ("claims", "claim_vectors", "narratives"):
        store.write(name, tables[name])
    n_claims = store.read("claims").count()
    store.write("claimed", claimed)
    run.finish({"records": extracted.count(), "stored": n_claims})
    for frame in (extracted, listed, vectors, placed):
        if frame is not None:
            frame.unpersist()
    return {"claims": n_claims, "narratives": touched, "recurring": recurring}


def spark_link(
    out: str | Path,
    *,
    spark: SparkSession | None = None,
    reuse: ReuseConfig | None = None,
    narratives: NarrativeConfig | None = None,
    embedder: str = DEFAULT_LINK_EMBEDDER,
    partitions: int | None = None,
    clustering: str = "blocked",
    on_event: Event | None = None,
) -> SparkReport:
    """Reuse, claims and narratives over every document of the Parquet store at ``out`` (the local ``link``
    on a store linked for the first time); rewrites the link tables. ``clustering`` places claims into
    narratives in connected groups on the executors (``blocked``, the default) or on the driver
    (``driver``); both give the local engine's narratives."""
    from pyspark.sql import functions as F

    from newstrace.embed import load_embedder
    from newstrace.link.narratives import NarrativeConfig
    from newstrace.link.reuse import ReuseConfig

    if clustering not in CLUSTERING:
        raise ValueError(f"clustering must be one of {', '.join(CLUSTERING)}, not {clustering!r}")
    emit: Event = on_event or (lambda kind, payload: None)
    started = time.perf_counter()
    spark = spark or start_spark()
    store = ParquetStore(spark, out)
    config = reuse or ReuseConfig()
    narrative_config = narratives or NarrativeConfig()
    reuse_run = Run(store, f"spark link {config.describe()}")

    documents = link_documents(store).persist()
    n_documents = documents.count()
    emit("start", n_documents)
    parts = partitions or partitions_for(spark, n_documents, 2000)
    index = fingerprint_stage(documents, config, parts).persist()
    pairs, boilerplate, numbered = candidate_pairs_stage(index, documents, config)
    pairs = pairs.persist()
    n_pairs = pairs.count()
    emit("pairs", n_pairs)
    passages = align_stage(pairs, documents, config, partitions_for(spark, n_pairs, 5000)).withColumn(
        "run_id", F.lit(reuse_run.run_id)
    )
    store.write("reuse", passages)
    store.write("reuse_index", index.withColumn("run_id", F.lit(reuse_run.run_id)))
    stored_reuse = store.read("reuse")
    n_passages = stored_reuse.count()
    reuse_run.finish({"records": n_documents, "stored": n_passages})
    counts = {
        "documents": n_documents,
        "candidate_pairs": n_pairs,
        "passages": n_passages,
        "boilerplate_shingles": boilerplate.count(),
    }

    model = load_embedder(embedder)  # here first: a missing or altered model fails before any work
    claims_run = Run(store, f"spark link claims embedder={model.name}")
    if store.read("annotations").isEmpty():
        for name in ("claims", "claim_vectors", "claimed", "narratives"):
            store.delete(name)
        claims_run.finish({})
        counts.update({"claims": 0, "narratives": 0, "recurring": 0})
    else:
        counts.update(
            _link_claims(
                store, documents, stored_reuse, claims_run, narrative_config, model, parts, emit, clustering
            )
        )
    for frame in (documents, index, pairs, numbered):
        frame.unpersist()
    report = SparkReport("link", str(out), claims_run.run_id, counts, time.perf_counter() - started)
    emit("done", report)
    return report
