"""The store as Parquet datasets: one folder per table, with the columns of the DuckDB tables, and loading
such a folder into a DuckDB store file so that every query command works on it.

The schema is read from :data:`newstrace.store.MIGRATIONS` (an in-memory DuckDB runs them), so the Parquet
tables follow the DuckDB ones whenever a migration adds a column. One representation differs: Parquet writers
that know no unsigned 64-bit integer (Spark) store the fingerprint columns (``UBIGINT``) as ``BIGINT`` with the
same 64 bits; :func:`load_store` turns them back, and :func:`read_table` does so for pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from newstrace.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError


@dataclass(frozen=True, slots=True)
class TableSchema:
    """One store table: its columns as Arrow types, and which of them hold unsigned 64-bit fingerprints."""

    name: str
    arrow: pa.Schema
    unsigned: tuple[str, ...]  # UBIGINT or UBIGINT[] columns

    @property
    def columns(self) -> list[str]:
        return self.arrow.names


@cache
def store_tables() -> dict[str, TableSchema]:
    """Every table of the current store schema (views left out), in creation order."""
    con = duckdb.connect()
    try:
        for step in MIGRATIONS:
            for statement in step:
                con.execute(statement)
        names = [
            name
            for (name,) in con.execute(
                """SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()
                   ORDER BY table_oid"""
            ).fetchall()
        ]
        tables = {}
        for name in names:
            arrow = con.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table().schema
            unsigned = tuple(
                field.name
                for field in arrow
                if pa.types.is_uint64(field.type)
                or (pa.types.is_list(field.type) and pa.types.is_uint64(field.type.value_type))
            )
            tables[name] = TableSchema(name, arrow.remove_metadata(), unsigned)
        return tables
    finally:
        con.close()


def as_signed(values: np.ndarray) -> np.ndarray:
    """Unsigned 64-bit fingerprints as the signed integers with the same bits (what Spark can store)."""
    return np.asarray(values, dtype=np.uint64).view(np.int64)


def signed(value: int) -> int:
    """One unsigned 64-bit value as the signed integer with the same bits."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    """The inverse of :func:`signed`."""
    return value + (1 << 64) if value < 0 else value


def table_path(root: str | Path, table: str) -> str:
    return f"{str(root).rstrip('/')}/{table}"


def _fingerprint_sql(column: str, is_list: bool, to_signed: bool = False) -> str:
    """SQL turning a fingerprint column between Spark's BIGINT and DuckDB's UBIGINT with the same 64 bits
    (two's complement: a negative BIGINT is the UBIGINT 2**64 above it); to UBIGINT unless ``to_signed``."""

    def convert(x: str) -> str:
        if to_signed:
            return (
                f"CAST(CASE WHEN {x} >= 9223372036854775808 THEN {x}::HUGEINT - 18446744073709551616 "
                f"ELSE {x} END AS BIGINT)"
            )
        return f"CAST(CASE WHEN {x} < 0 THEN {x}::HUGEINT + 18446744073709551616 ELSE {x} END AS UBIGINT)"

    if is_list:
        return f'list_transform("{column}", lambda v: {convert("v")}) AS "{column}"'
    quoted = '"' + column + '"'
    return f"{convert(quoted)} AS {quoted}"


def _select_list(table: TableSchema, source: str, con: duckdb.DuckDBPyConnection) -> str:
    """The columns of ``table`` read from its Parquet files, fingerprints made unsigned again if needed."""
    kinds = {
        name: kind
        for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM read_parquet({source})").fetchall()
    }
    missing = [column for column in table.columns if column not in kinds]
    if missing:
        raise StoreError(f"{source}: table {table.name} has no column {', '.join(missing)}")
    parts = []
    for column in table.columns:
        kind = kinds[column]
        if column in table.unsigned and kind.startswith("BIGINT"):
            parts.append(_fingerprint_sql(column, kind.endswith("[]")))
        else:
            parts.append(f'"{column}"')
    return ", ".join(parts)


def parquet_files(root: str | Path, table: str) -> list[str]:
    """The Parquet files of one table folder (Spark's part files, or a single file)."""
    folder = Path(table_path(root, table))
    if folder.is_file():
        return [str(folder)]
    return sorted(str(p) for p in folder.glob("*.parquet"))


def load_store(parquet: str | Path, db: str | Path, *, replace: bool = False) -> Path:
    """Load a Parquet store (a folder with one folder per table) into a new DuckDB store file ``db``.

    Tables missing from the folder stay empty. ``replace`` deletes an existing ``db`` first; without it an
    existing file is refused, so that a loaded store never mixes with another.
    """
    root = Path(parquet)
    if not root.is_dir():
        raise StoreError(f"{root}: no such Parquet store folder (write one with `newstrace spark run`)")
    target = Path(db)
    if target.exists():
        if not replace:
            raise StoreError(f"{target}: already exists; choose another --db or pass --replace")
        target.unlink()
        Path(f"{target}.wal").unlink(missing_ok=True)
    with Store(target) as store:
        con = store.con
        con.begin()
        try:
            for name, table in store_tables().items():
                if name == "meta":
                    continue  # the new store writes its own
                files = parquet_files(root, name)
                if not files:
                    continue
                source = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
                columns = ", ".join(f'"{c}"' for c in table.columns)
                con.execute(
                    f'INSERT INTO "{name}" ({columns}) SELECT {_select_list(table, source, con)} '
                    f"FROM read_parquet({source})"
                )
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return target


def dump_store(db: str | Path, parquet: str | Path) -> Path:
    """Write every table of the DuckDB store ``db`` as a Parquet store folder ``parquet`` (replaced if it
    exists): the inverse of :func:`load_store`, so that the Spark engine can work on a local store."""
    import shutil

    source = Path(db)
    if not source.is_file():
        raise StoreError(f"{source}: no such store")
    root = Path(parquet)
    staging = root.with_name(root.name + ".writing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    with Store(source, read_only=True) as store:
        for name, table in store_tables().items():
            if name == "meta":
                continue
            columns = ", ".join(
                _fingerprint_sql(c, pa.types.is_list(table.arrow.field(c).type), to_signed=True)
                if c in table.unsigned
                else f'"{c}"'
                for c in table.columns
            )
            (staging / name).mkdir()
            target = str(staging / name / "part-00000.parquet").replace("'", "''")
            store.con.execute(f"COPY (SELECT {columns} FROM \"{name}\") TO '{target}' (FORMAT PARQUET)")
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)
    return root


def read_table(parquet: str | Path, table: str) -> pd.DataFrame:
    """One table of a Parquet store as pandas, with the DuckDB store's values (fingerprints unsigned)."""
    schema = store_tables().get(table)
    if schema is None:
        raise StoreError(f"no table '{table}' in the store schema (version {SCHEMA_VERSION})")
    files = parquet_files(parquet, table)
    if not files:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in schema.columns})
    con = duckdb.connect()
    try:
        source = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        return con.sql(f"SELECT {_select_list(schema, source, con)} FROM read_parquet({source})").df()
    finally:
        con.close()
