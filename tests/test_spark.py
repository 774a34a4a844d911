"""The Spark engine writes the local engine's tables: same rows (order aside) on the demo corpus and on
FA-KES, through ingest, annotate and link.

Columns that name a run or a time (``run_id``, ``ingested_at``, ``logged_at``, ``completed_at``,
``annotated_at``) and the ``runs`` table differ by nature and are left out; every other value must be equal,
claim vectors included. Where the engines could differ on other corpora (none of it happens here):

- the local engine ends an ingest batch early after 250 problems; the Spark engine numbers batches by
  documents only, which orients candidate pairs of same-day documents differently;
- undated documents re-dated against each other (``redate_from_corpus``) are taken in ``doc_id`` order, the
  local engine's order is DuckDB's group order.

The module shares one ``local[2]`` SparkSession; it is skipped without PySpark or Java.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
from tests.conftest import EXAMPLES, FAKES_MAP, run_cli, shared_path

pytest.importorskip("pyspark")
pytestmark = [
    pytest.mark.skipif(shutil.which("java") is None, reason="Spark needs Java 17 or later"),
    pytest.mark.slow,
    # PySpark 4.3 warns about pandas 3 on import; the engine moves data through Arrow, not pandas.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
]

ALIASES = [EXAMPLES / "actors.yml"]
PLACES = [EXAMPLES / "places.yml"]
VOLATILE = {"run_id", "ingested_at", "logged_at", "completed_at", "annotated_at"}


def table_rows(db: Path, table: str, drop: set[str] = VOLATILE) -> list[str]:
    """A table's rows as sorted strings, without the given columns."""
    with duckdb.connect(str(db), read_only=True) as con:
        columns = [
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if name not in drop
        ]
        quoted = ", ".join('"' + column + '"' for column in columns)
        rows = con.execute(f'SELECT {quoted} FROM "{table}"')
        return sorted(map(repr, rows.fetchall()))


def store_tables(db: Path) -> list[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return [
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
            if name != "runs"
        ]


def assert_same_tables(local: Path, spark: Path) -> dict[str, int]:
    """Every table equal; returns the row counts, so a test can check the corpus was not empty."""
    counts = {}
    for table in store_tables(local):
        expected, found = table_rows(local, table), table_rows(spark, table)
        missing = sorted(set(expected) - set(found))[:3]
        extra = sorted(set(found) - set(expected))[:3]
        assert expected == found, (
            f"{table}: local {len(expected)} rows, spark {len(found)}; only local {missing}, only spark {extra}"
        )
        counts[table] = len(expected)
    return counts


@pytest.fixture(scope="module")
def spark():
    from newstrace.engines.spark import start_spark

    spark = start_spark("local[2]", driver_memory="2g", shuffle_partitions=4)
    yield spark
    spark.stop()


@pytest.fixture(scope="module")
def demo_local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import newstrace
    from newstrace.link.pipeline import link

    db = tmp_path_factory.mktemp("demo-local") / "store.duckdb"
    newstrace.ingest([EXAMPLES / "corpus"], db)
    newstrace.annotate(db, aliases=ALIASES, places=PLACES)
    link(db)
    return db


@pytest.fixture(scope="module")
def demo_spark(spark, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from newstrace.engines.spark import spark_annotate, spark_ingest, spark_link

    root = tmp_path_factory.mktemp("demo-spark") / "parquet"
    spark_ingest([EXAMPLES / "corpus"], root, spark=spark)
    spark_annotate(root, spark=spark, aliases=ALIASES, places=PLACES)
    spark_link(root, spark=spark)
    return root


def test_demo_tables_equal_the_local_engines(demo_local, demo_spark):
    from newstrace.engines.parquet_store import load_store

    db = load_store(demo_spark, demo_spark.parent / "store.duckdb")
    counts = assert_same_tables(demo_local, db)
    for table in ("documents", "boilerplate", "outlet_boilerplate", "mentions", "attributions", "reuse"):
        assert counts[table] > 0, table
    assert counts["claims"] > 0 and counts["narratives"] > 0
    with duckdb.connect(str(db), read_only=True) as con:
        commands = [c for (c,) in con.execute("SELECT command FROM runs WHERE status = 'done'").fetchall()]
    stages = sorted(command.split()[1] for command in commands)
    assert stages == ["annotate", "ingest", "link", "link"]


def test_parquet_store_reads_directly_with_pandas_and_duckdb(demo_local, demo_spark):
    """The table folders are plain Parquet; only the fingerprint columns need :func:`read_table` (or
    ``load_store``) to be unsigned again, as Spark stores them signed."""
    import pyarrow.parquet as pq

    from newstrace.engines.parquet_store import read_table

    documents = pq.read_table(demo_spark / "documents").to_pandas()
    with duckdb.connect(str(demo_local), read_only=True) as con:
        local_ids = {d for (d,) in con.execute("SELECT doc_id FROM documents").fetchall()}
        local_fingerprints = dict(con.execute("SELECT doc_id, fingerprints FROM reuse_index").fetchall())
        (n_mentions,) = con.execute(
            f"SELECT count(*) FROM read_parquet('{demo_spark / 'mentions'}/*.parquet')"
        ).fetchone()
        (local_mentions,) = con.execute("SELECT count(*) FROM mentions").fetchone()
    assert set(documents["doc_id"]) == local_ids
    assert n_mentions == local_mentions
    index = read_table(demo_spark, "reuse_index")
    assert {
        d: list(f) for d, f in zip(index["doc_id"], index["fingerprints"], strict=True)
    } == local_fingerprints
    assert max(max(f) for f in local_fingerprints.values()) >= 1 << 63  # the signed storage was exercised


def test_files_behind_a_uri_read_like_local_files(spark, demo_local, tmp_path):
    """A ``file://`` URI goes the way of ``s3a://`` and ``hdfs://``: Spark reads the bytes, with sidecars."""
    from newstrace.engines.parquet_store import read_table
    from newstrace.engines.spark import spark_ingest

    root = tmp_path / "parquet"
    spark_ingest([(EXAMPLES / "corpus").resolve().as_uri()], root, spark=spark)
    occurrences = read_table(root, "occurrences").drop(columns="run_id")
    documents = read_table(root, "documents")
    with duckdb.connect(str(demo_local), read_only=True) as con:
        local = con.execute("SELECT * EXCLUDE (run_id) FROM occurrences").df()
        texts = dict(con.execute("SELECT doc_id, text FROM documents").fetchall())
        local_sidecars = con.execute(
            "SELECT count(*) FROM documents WHERE metadata LIKE '%sidecar%'"
        ).fetchone()[0]
    local["source_path"] = "file:" + local["source_path"]
    assert sorted(map(repr, occurrences.values.tolist())) == sorted(
        map(repr, local[occurrences.columns].values.tolist())
    )
    assert dict(zip(documents["doc_id"], documents["text"], strict=True)) == texts
    sidecars = documents["metadata"].str.extract(r'"sidecar": "([^"]+)"')[0].dropna()
    assert len(sidecars) == local_sidecars > 0
    assert all(s.startswith("file:") and s.endswith(".json") for s in sidecars)


@pytest.fixture(scope="module")
def fakes_local(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import newstrace
    from newstrace.link.pipeline import link

    fakes = shared_path("fakes", "FA-KES-Dataset.csv")
    db = tmp_path_factory.mktemp("fakes-local") / "store.duckdb"
    newstrace.ingest([fakes], db, mapping=FAKES_MAP)
    newstrace.annotate(db)
    link(db)
    return db


def test_fakes_tables_equal_the_local_engines(spark, fakes_local, tmp_path):
    from newstrace.engines.parquet_store import load_store
    from newstrace.engines.spark import spark_annotate, spark_ingest, spark_link

    root = tmp_path / "parquet"
    report = spark_ingest([shared_path("fakes", "FA-KES-Dataset.csv")], root, spark=spark, mapping=FAKES_MAP)
    assert report.counts["stored"] == 789 and report.counts["duplicates"] == 15
    spark_annotate(root, spark=spark)
    spark_link(root, spark=spark)
    counts = assert_same_tables(fakes_local, load_store(root, tmp_path / "store.duckdb"))
    assert counts["documents"] == 789 and counts["occurrences"] == 804 and counts["reuse"] > 4000
    assert counts["attributions"] > 5000 and counts["claims"] > 5000 and counts["narratives"] > 1000


def test_parquet_rows_ingest_as_csv_rows(spark, tmp_path):
    """A Parquet dataset with FA-KES's columns gives the documents its CSV gives (locators ``row:N`` alike)."""
    import pandas as pd

    import newstrace
    from newstrace.engines.parquet_store import read_table
    from newstrace.engines.spark import spark_ingest

    with shared_path("fakes", "FA-KES-Dataset.csv").open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        rows = [next(reader) for _ in range(61)]  # header and 60 articles
    sample = tmp_path / "sample.csv"
    with sample.open("w", encoding="utf-8", newline="") as target:
        csv.writer(target).writerows(rows)
    dataset = tmp_path / "sample.parquet"
    pd.read_csv(sample, dtype=str, keep_default_na=False).to_parquet(dataset)

    db = tmp_path / "store.duckdb"
    newstrace.ingest([sample], db, mapping=FAKES_MAP)
    root = tmp_path / "parquet"
    spark_ingest([dataset], root, spark=spark, mapping=FAKES_MAP)
    kept = ["doc_id", "locator", "text", "title", "outlet", "published", "metadata"]
    with duckdb.connect(str(db), read_only=True) as con:
        local = con.execute(f"SELECT {', '.join(kept)} FROM documents").df()
    found = read_table(root, "documents")
    assert len(found) == len(local) > 50
    assert sorted(map(tuple, found[kept].astype(str).values.tolist())) == sorted(
        map(tuple, local[kept].astype(str).values.tolist())
    )
    assert set(found["format"]) == {"parquet"}


def test_spark_load_command_makes_a_queryable_store(demo_spark, tmp_path):
    import typer
    from typer.testing import CliRunner

    from newstrace.engines.spark_commands import register
    from newstrace.store import Store

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """newstrace"""

    register(app)
    db = tmp_path / "loaded.duckdb"
    result = CliRunner().invoke(app, ["spark", "load", str(demo_spark), "--db", str(db)])
    assert result.exit_code == 0, result.output
    with Store(db, read_only=True) as store:
        summary = store.summary()
    assert summary["documents"] == 31 and summary["reuse_passages"] > 0 and summary["annotated"] == 31
    again = CliRunner().invoke(app, ["spark", "load", str(demo_spark), "--db", str(db)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_run_with_the_spark_engine_gives_the_local_engines_tables(demo_local, tmp_path):
    out = tmp_path / "traced"
    result = run_cli(
        "run", EXAMPLES / "corpus", "--out", out, "--aliases", *ALIASES, "--places", *PLACES, "--engine", "spark",
        "-q", timeout=900,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / "report.html").exists() and (out / "parquet").is_dir()
    for table in ("documents", "reuse", "claims", "narratives"):
        assert table_rows(demo_local, table) == table_rows(out / "newstrace.duckdb", table), table
    bad = run_cli("run", EXAMPLES / "corpus", "--out", tmp_path / "x", "--engine", "mainframe")
    assert bad.returncode == 2 and "--engine must be local or spark" in bad.stderr


def test_each_stage_takes_engine_spark_on_a_duckdb_store(demo_local, tmp_path):
    db = tmp_path / "corpus.duckdb"
    for stage in (
        ["ingest", EXAMPLES / "corpus"],
        ["annotate", "--aliases", *ALIASES, "--places", *PLACES],
        ["link"],
    ):
        result = run_cli(*stage, "--db", db, "--engine", "spark", "-q", timeout=900)
        assert result.returncode == 0, f"{stage[0]}: {result.stderr[-3000:]}"
    assert (tmp_path / "corpus.parquet" / "documents").is_dir()
    counts = assert_same_tables(demo_local, db)
    assert counts["documents"] == 31 and counts["claims"] > 0
    # A Spark ingest starts a store: it refuses one that holds documents and leaves it as it was.
    before = table_rows(db, "documents")
    again = run_cli("ingest", EXAMPLES / "corpus", "--db", db, "--engine", "spark", "-q", timeout=900)
    assert again.returncode == 2 and "already holds 31 documents" in again.stderr
    assert table_rows(db, "documents") == before


def test_link_on_spark_continues_a_store_the_local_engine_filled(demo_local, tmp_path):
    # The local store goes to Parquet and back (fingerprints included), and Spark's link equals the local one.
    db = tmp_path / "mixed.duckdb"
    shutil.copy(demo_local, db)
    with duckdb.connect(str(db)) as con:
        for table in ("reuse", "reuse_index", "claims", "claim_vectors", "claimed", "narratives"):
            con.execute(f"DELETE FROM {table}")
    result = run_cli("link", "--db", db, "--engine", "spark", "-q", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_tables(demo_local, db)
