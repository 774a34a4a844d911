"""The store: versioned schema, identity, exports, and clear errors."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from tests.conftest import run_cli
from tests.test_bad_inputs import ARTICLE

import newstrace
from newstrace.engines.local import ordered_map, tapering
from newstrace.identity import doc_id
from newstrace.model import Annotations, Sentence
from newstrace.store import MIGRATIONS, SCHEMA_VERSION, Store, StoreError


@pytest.fixture
def filled(tmp_path: Path, db: Path) -> Path:
    for i, town in enumerate(["Kastrel", "Port Vell", "Sarn"]):
        (tmp_path / f"{i}.txt").write_text(ARTICLE.replace("Kastrel", town), encoding="utf-8")
    newstrace.ingest([tmp_path], db=db)
    return db


def test_doc_id_ignores_spacing_quotes_and_invisible_characters():
    assert doc_id("He said “no”  today.") == doc_id('He said "no" today.\u200b')
    assert doc_id("He said no today.") != doc_id("He said yes today.")


def test_same_text_from_two_paths_is_one_document_and_one_duplicate(tmp_path: Path, db: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "y.txt").write_text(ARTICLE.replace("\n\n", "\n\n\n"), encoding="utf-8")
    report = newstrace.ingest([tmp_path], db=db)
    assert (report.stored, report.duplicates) == (1, 1)
    with newstrace.open(db) as store:
        dup = store.table("duplicates")
    assert len(dup) == 1 and dup.source_path.iloc[0] != dup.first_source_path.iloc[0]


def test_schema_version_is_recorded_and_newer_stores_are_refused(filled: Path):
    with newstrace.open(filled) as store:
        assert store.one("SELECT value FROM meta WHERE key = 'schema_version'")[0] == str(SCHEMA_VERSION)
    con = duckdb.connect(str(filled))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer newstrace"):
        Store(filled)


def test_foreign_duckdb_file_is_not_taken_over(tmp_path: Path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a newstrace store"):
        Store(path)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_writes_every_row(filled: Path, tmp_path: Path, fmt: str):
    out = tmp_path / f"documents.{fmt}"
    result = run_cli(
        "export", "--db", filled, "--table", "documents", "--format", fmt, "--out", out, check=True
    )
    assert "3 rows of documents" in result.stderr
    frame = {"jsonl": lambda p: pd.read_json(p, lines=True), "csv": pd.read_csv, "parquet": pd.read_parquet}[
        fmt
    ](out)
    assert len(frame) == 3
    assert {"doc_id", "source_path", "outlet", "title", "published", "text", "raw_text", "n_words"} <= set(
        frame.columns
    )


def test_export_jsonl_to_stdout(filled: Path):
    result = run_cli("export", "--db", filled, "--table", "documents", check=True)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3 and all(r["text"] for r in records)


def test_export_unknown_table_lists_the_tables(filled: Path):
    result = run_cli("export", "--db", filled, "--table", "nope")
    assert result.returncode == 2
    assert "no table 'nope'" in result.stderr and "documents" in result.stderr


def test_missing_store_is_a_clear_error(tmp_path: Path):
    result = run_cli("info", "--db", tmp_path / "absent.duckdb")
    assert result.returncode == 2 and "no such store" in result.stderr


def test_info_summarises_the_store(filled: Path):
    result = run_cli("info", "--db", filled, "--json", check=True)
    summary = json.loads(result.stdout)
    assert summary["documents"] == 3 and summary["tables"]["occurrences"] == 3


def _article(title: str, body: list[str], footer: str) -> str:
    return "\n\n".join([title, *body, footer]) + "\n"


def test_outlet_footer_is_removed_but_versions_of_one_article_keep_their_body(tmp_path: Path, db: Path):
    footer = "The Kastrel Courier is funded by its readers. Join today."
    body = ["The council met on Monday to discuss the harbour.", "Nothing was decided, the mayor said."]
    for i in range(8):  # eight versions of one article, each with a small update
        (tmp_path / f"v{i}.txt").write_text(
            _article("Harbour talks", [*body, f"Update {i}."], footer), encoding="utf-8"
        )
    for i in range(4):  # four other articles
        (tmp_path / f"o{i}.txt").write_text(
            _article(f"Story {i}", [f"Other news number {i}."], footer), encoding="utf-8"
        )
    for path in tmp_path.glob("*.txt"):
        path.with_suffix(".json").write_text('{"outlet": "Kastrel Courier"}', encoding="utf-8")
    newstrace.ingest([tmp_path], db=db)
    with newstrace.open(db) as store:
        texts = store.sql("SELECT title, text FROM documents").values.tolist()
        found = store.sql("SELECT text FROM outlet_boilerplate").text.tolist()
    assert found == [footer]  # five distinct articles carry it: the 8 versions count once
    for title, text in texts:
        assert footer not in text
        if title == "Harbour talks":
            assert all(line in text for line in body)


def test_reading_an_older_store_upgrades_its_schema(filled: Path):
    con = duckdb.connect(str(filled))
    # A version-2 store: none of the tables later migrations create.
    for step in MIGRATIONS[2:]:
        for statement in step:
            table = re.match(r"CREATE TABLE (\w+)", statement).group(1)
            con.execute(f"DROP TABLE {table}")
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()
    with newstrace.open(filled) as store:
        assert "attributions" in store.tables()
        assert store.one("SELECT value FROM meta WHERE key = 'schema_version'")[0] == str(SCHEMA_VERSION)


def test_batches_taper_towards_the_end_so_workers_finish_together():
    size = tapering(32, jobs=2)
    sizes, remaining = [], 789
    while remaining:
        sizes.append(size(remaining))
        remaining -= sizes[-1]
    assert sum(sizes) == 789 and all(s >= 1 for s in sizes)
    assert sizes[:20] == [32] * 20  # full batches while many remain
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] <= 2  # then smaller and smaller
    assert tapering(32, jobs=2)(1) == 1


def _blas_threads(_: int) -> str | None:
    return os.environ.get("OPENBLAS_NUM_THREADS")


def test_pool_workers_run_their_blas_on_one_thread_and_the_parent_keeps_its_setting(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    assert list(ordered_map(_blas_threads, range(4), jobs=2, chunk_size=1)) == ["1"] * 4
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # restored once the pool is done
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")  # a user's own setting wins
    assert list(ordered_map(_blas_threads, range(2), jobs=2, chunk_size=1)) == ["3"] * 2


def test_annotating_a_document_again_replaces_its_rows_and_leaves_the_others(filled: Path):
    with Store(filled) as store:
        first, second, third = store.documents_by_id(sorted(store.documents()["doc_id"]))
        store.write_annotations("r1", "p", [Annotations(d.doc_id, [Sentence(0, 5)]) for d in (first, second)])
        store.write_annotations("r2", "p", [Annotations(first.doc_id, [Sentence(0, 3), Sentence(4, 9)])])
        store.write_annotations("r3", "p", [Annotations(third.doc_id, [Sentence(1, 2)])])
        rows = store.con.execute('SELECT doc_id, start, "end" FROM sentences ORDER BY ALL').fetchall()
        assert sorted(rows) == sorted(
            [(first.doc_id, 0, 3), (first.doc_id, 4, 9), (second.doc_id, 0, 5), (third.doc_id, 1, 2)]
        )
        assert store.one("SELECT count(*) FROM annotations")[0] == 3


def test_documents_by_id_keeps_the_order_asked_and_skips_unknown_ids(filled: Path):
    with Store(filled, read_only=True) as store:
        ids = sorted(store.documents()["doc_id"], reverse=True)
        found = store.documents_by_id([ids[0], "missing", ids[2], ids[1]])
        assert [d.doc_id for d in found] == [ids[0], ids[2], ids[1]]
        assert found[1] == store.document(ids[2])
        with pytest.raises(StoreError, match="no document missing"):
            store.document("missing")


def test_unannotated_documents_come_in_the_batch_sizes_asked_for(filled: Path):
    with Store(filled, read_only=True) as store:
        assert [len(b) for b in store.unannotated(2)] == [2, 1]
        asked = []
        batches = list(store.unannotated(lambda remaining: asked.append(remaining) or 1))
    assert [len(b) for b in batches] == [1, 1, 1] and asked == [3, 2, 1]
    assert len({d.doc_id for b in batches for d in b}) == 3
