"""What the Spark engine's stages share: starting Spark, the Parquet store as Spark reads and writes it, the
``runs`` rows and reports, and the conversion of the store's column types to Spark's."""

from __future__ import annotations

import math
import os
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from newstrace import __version__
from newstrace.engines.parquet_store import TableSchema, store_tables, table_path

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType


Event = Callable[[str, Any], None]
# The engine's own tables beside the store's; the loader leaves them out (and Spark skips names starting "_").
PRIVATE_PREFIX = "spark-"


# -- starting Spark --------------------------------------------------------------------------------------


def local_cores(master: str) -> int:
    """Cores of a ``local[N]`` master (``local[*]``: all of this machine's)."""
    found = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", master)
    if not found:
        return 0
    value = found.group(1)
    if value is None:
        return 1
    return os.cpu_count() or 1 if value == "*" else int(value)


def start_spark(
    master: str | None = None,
    *,
    app_name: str = "newstrace",
    driver_memory: str = "4g",
    executor_memory: str | None = None,
    shuffle_partitions: int | None = None,
    config: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession with defaults that suit newstrace: ``local[2]`` unless ``spark-submit`` chose a
    master, 4 GB for the driver (it holds the claims during clustering), UTC, Arrow batches of 1,000 rows
    and Python workers that stay up (each loads spaCy once). A SparkSession already running is returned as it is."""
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started the JVM and chose the master
    if master is None and not submitted:
        master = "local[2]"
    if master and master.startswith("local"):
        # Workers must run the interpreter newstrace is installed in, not the first python3 on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    cores = local_cores(master) if master else 0
    builder = SparkSession.builder.appName(app_name)
    if master:
        builder = builder.master(master)
    settings = {
        "spark.driver.memory": driver_memory,
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "1000",
        "spark.python.worker.reuse": "true",
        "spark.sql.adaptive.enabled": "true",
    }
    if executor_memory:
        settings["spark.executor.memory"] = executor_memory
    if shuffle_partitions or cores:
        settings["spark.sql.shuffle.partitions"] = str(shuffle_partitions or 4 * cores)
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


# -- the Parquet store seen from Spark ------------------------------------------------------------------------


def spark_type(arrow: pa.DataType) -> DataType:
    """The Spark type of a store column's Arrow type (unsigned 64-bit integers become BIGINT, same bits)."""
    from pyspark.sql import types as T

    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return T.StringType()
    if pa.types.is_boolean(arrow):
        return T.BooleanType()
    if pa.types.is_int32(arrow):
        return T.IntegerType()
    if pa.types.is_int64(arrow) or pa.types.is_uint64(arrow):
        return T.LongType()
    if pa.types.is_float32(arrow):
        return T.FloatType()
    if pa.types.is_float64(arrow):
        return T.DoubleType()
    if pa.types.is_date32(arrow):
        return T.DateType()
    if pa.types.is_timestamp(arrow):
        return T.TimestampNTZType()
    if pa.types.is_list(arrow) or pa.types.is_large_list(arrow):
        return T.ArrayType(spark_type(arrow.value_type))
    if pa.types.is_struct(arrow):
        return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in arrow])
    raise TypeError(f"no Spark type for the store's Arrow type {arrow}")


def spark_schema(table: TableSchema | pa.Schema, drop: Sequence[str] = ()) -> StructType:
    from pyspark.sql import types as T

    arrow = table.arrow if isinstance(table, TableSchema) else table
    return T.StructType([T.StructField(f.name, spark_type(f.type)) for f in arrow if f.name not in drop])


def arrow_schema(schema: StructType) -> pa.Schema:
    """The Arrow schema ``mapInArrow`` expects for a Spark schema."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)


class ParquetStore:
    """A Parquet store (one folder per table) read and written through Spark; ``root`` may be any Hadoop
    path (a local folder, ``hdfs://…``, ``s3a://…``)."""

    def __init__(self, spark: SparkSession, root: str | Path) -> None:
        self.spark = spark
        self.root = str(root)
        self.tables = store_tables()

    def schema(self, table: str) -> StructType:
        return spark_schema(self.tables[table])

    def _fs(self, path: str) -> tuple[Any, Any]:
        jvm = self.spark.sparkContext._jvm
        hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
        return hadoop_path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration()), hadoop_path

    def _path(self, table: str) -> str:
        return table_path(self.root, table if table in self.tables else PRIVATE_PREFIX + table)

    def exists(self, table: str) -> bool:
        fs, path = self._fs(self._path(table))
        return bool(fs.exists(path))

    def read(self, table: str) -> DataFrame:
        """A table (empty when the store has none yet)."""
        if not self.exists(table):
            return self.spark.createDataFrame([], self.schema(table))
        return self.spark.read.schema(self.schema(table)).parquet(self._path(table))

    def read_own(self, table: str) -> DataFrame | None:
        """One of the engine's own tables, or None when the store has none."""
        return self.spark.read.parquet(self._path(table)) if self.exists(table) else None

    def conform(self, table: str, frame: DataFrame) -> DataFrame:
        """``frame``'s columns in the table's order and types."""
        from pyspark.sql import functions as F

        return frame.select([F.col(f.name).cast(f.dataType).alias(f.name) for f in self.schema(table).fields])

    def write(self, table: str, frame: DataFrame) -> None:
        """Replace a table. Written beside it first, so a table may be rewritten from itself. A name outside
        the store's schema is one of the engine's own tables (kept under ``spark-``, as written)."""
        if table not in self.tables:
            table = PRIVATE_PREFIX + table
        else:
            frame = self.conform(table, frame)
        target = table_path(self.root, table)
        staging = table_path(self.root, f"_staging-{table}-{uuid.uuid4().hex[:8]}")
        frame.write.mode("overwrite").parquet(staging)
        fs, target_path = self._fs(target)
        _, staging_path = self._fs(staging)
        if fs.exists(target_path):
            fs.delete(target_path, True)
        if not fs.rename(staging_path, target_path):
            raise OSError(f"cannot move {staging} to {target}")

    def delete(self, table: str) -> None:
        fs, path = self._fs(self._path(table))
        if fs.exists(path):
            fs.delete(path, True)

    def append(self, table: str, frame: DataFrame) -> None:
        self.conform(table, frame).write.mode("append").parquet(table_path(self.root, table))

    def rows(self, table: str, rows: Sequence[dict[str, Any]]) -> DataFrame:
        """A few rows built on the driver, as a DataFrame of the table's schema."""
        schema = self.schema(table)
        return self.spark.createDataFrame(
            [tuple(row.get(f.name) for f in schema.fields) for row in rows], schema
        )

    def from_arrow(self, table: str, data: pa.Table) -> DataFrame:
        schema = self.schema(table)
        if not data.num_rows:
            return self.spark.createDataFrame([], schema)
        return self.spark.createDataFrame(data.select(schema.fieldNames()), schema)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class SparkReport:
    """What one Spark stage did: its run id, its counts (as in the ``runs`` table) and its time."""

    stage: str
    out: str
    run_id: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{value:,} {key}" for key, value in self.counts.items())
        return f"spark {self.stage}: {counts} in {self.seconds:.1f} s · {self.out}"


class Run:
    """A row of the ``runs`` table, appended when the stage is done."""

    def __init__(self, store: ParquetStore, command: str) -> None:
        self.store = store
        self.command = command
        self.started = _now()
        self.run_id = f"{self.started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"

    def finish(self, counts: dict[str, int], status: str = "done") -> None:
        row = {
            "run_id": self.run_id,
            "command": self.command,
            "started": self.started,
            "finished": _now(),
            "status": status,
            "newstrace_version": __version__,
        }
        for column in (
            "n_files",
            "n_records",
            "n_stored",
            "n_duplicates",
            "n_skipped",
            "n_failed",
            "n_warnings",
        ):
            row[column] = counts.get(column.removeprefix("n_"), 0)
        self.store.append("runs", self.store.rows("runs", [row]))


def partitions_for(spark: SparkSession, rows: int, per_partition: int) -> int:
    return max(spark.sparkContext.defaultParallelism, math.ceil(rows / per_partition))


def table_struct(table: str, drop: Sequence[str]) -> StructType:
    return spark_schema(store_tables()[table], drop)


def problem_type() -> StructType:
    from pyspark.sql import types as T

    return T.StructType(
        [
            T.StructField(n, T.StringType())
            for n in ("source_path", "locator", "stage", "severity", "error", "detail")
        ]
    )


def ranked(frame: DataFrame, order: Sequence[Any], name: str) -> DataFrame:
    """``frame`` with its rank (from 0) in ``order`` as column ``name``, numbered where the rows are: each
    sorted partition counts its rows, and a row's rank is the rows of the partitions before it plus its
    place in its own. The result is cached (unpersist it when done)."""
    from pyspark.sql import functions as F

    ordered = (
        frame.orderBy(*order)
        .withColumn("_partition", F.spark_partition_id())
        .withColumn("_row", F.monotonically_increasing_id())
        .persist()
    )
    sizes = dict(ordered.groupBy("_partition").count().collect())
    offsets, total = [], 0
    for partition in sorted(sizes):
        offsets += [F.lit(partition), F.lit(total)]
        total += sizes[partition]
    # monotonically_increasing_id() is the partition index in the upper 31 bits, the row in the lower 33.
    place = F.col("_row") - F.col("_partition").cast("long") * (1 << 33)
    start = F.create_map(*offsets)[F.col("_partition")] if offsets else F.lit(0)
    result = ordered.withColumn(name, (start + place).cast("long")).drop("_partition", "_row").persist()
    result.count()
    ordered.unpersist()
    return result
