"""FA-KES (804 rows of CSV): every row accounted for, duplicates recorded, re-runs and crashes lose nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import FAKES_MAP, run_cli, shared_path

import newstrace


def _counts(db: Path) -> dict[str, int]:
    with newstrace.open(db) as store:
        return {
            "documents": store.one("SELECT count(*) FROM documents")[0],
            "distinct_ids": store.one("SELECT count(DISTINCT doc_id) FROM documents")[0],
            "occurrences": store.one("SELECT count(*) FROM occurrences")[0],
            "duplicates": store.one("SELECT count(*) FROM duplicates")[0],
            "without_outlet_or_date": store.one(
                "SELECT count(*) FROM documents WHERE outlet IS NULL OR published IS NULL"
            )[0],
            "errors": store.one("SELECT count(*) FROM errors WHERE severity = 'error'")[0],
        }


@pytest.fixture(scope="module")
def fakes_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    csv_path = shared_path("fakes", "FA-KES-Dataset.csv")
    db = tmp_path_factory.mktemp("fakes") / "f.duckdb"
    result = run_cli("ingest", csv_path, "--format", "csv", "--map", FAKES_MAP, "--db", db, check=True)
    return db, result


def test_fakes_accounts_for_all_804_rows(fakes_store):
    db, result = fakes_store
    counts = _counts(db)
    assert counts["documents"] == counts["distinct_ids"] == 789
    assert counts["occurrences"] == 804
    assert counts["duplicates"] == 15
    assert counts["without_outlet_or_date"] == 0
    assert counts["errors"] == 0
    assert "789 stored, 15 duplicates, 0 failed" in result.stderr


def test_fakes_outlets_and_dates_come_from_the_mapped_columns(fakes_store):
    db, _ = fakes_store
    with newstrace.open(db) as store:
        outlets = dict(store.sql("SELECT outlet, count(*) FROM documents GROUP BY 1").values.tolist())
        first = store.one("SELECT min(published), max(published) FROM documents")
        row = store.one("SELECT published, title FROM documents WHERE locator = 'row:1'")
    assert len(outlets) == 15 and outlets["ahram"] == 149
    assert str(first[0]).startswith("2011") and str(first[1]).startswith("2018")
    assert str(row[0]) == "2017-04-05"  # M/D/YYYY: 4/5/2017 is the fifth of April
    assert row[1].startswith("Syria attack symptoms consistent with nerve agent")


def test_fakes_second_run_adds_nothing(fakes_store):
    db, _ = fakes_store
    before = _counts(db)
    result = run_cli(
        "ingest", shared_path("fakes", "FA-KES-Dataset.csv"), "--map", FAKES_MAP, "--db", db, check=True
    )
    assert "0 stored" in result.stderr
    assert _counts(db) == before
    forced = run_cli("ingest", shared_path("fakes"), "--map", FAKES_MAP, "--db", db, "--force", check=True)
    assert "0 stored" in forced.stderr and "804 already stored" in forced.stderr
    assert _counts(db) == before


KILL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import newstrace

    batches = 0

    def on_event(kind, payload):
        global batches
        if kind == "stored":
            batches += 1
            if batches == 3:
                os.kill(os.getpid(), signal.SIGKILL)

    newstrace.ingest([sys.argv[1]], db=sys.argv[2], mapping=sys.argv[3], batch_size=100, on_event=on_event)
    """
)


def test_sigkill_mid_ingest_then_rerun_completes_without_doubles(tmp_path: Path):
    csv_path = shared_path("fakes", "FA-KES-Dataset.csv")
    db = tmp_path / "killed.duckdb"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(csv_path), str(db), FAKES_MAP], timeout=600
    )
    assert killed.returncode == -9
    partial = _counts(db)
    assert 0 < partial["documents"] < 789, partial
    run_cli("ingest", csv_path, "--map", FAKES_MAP, "--db", db, check=True)
    counts = _counts(db)
    assert counts["documents"] == counts["distinct_ids"] == 789
    assert counts["occurrences"] == 804 and counts["duplicates"] == 15
    with newstrace.open(db) as store:
        statuses = [s for (s,) in store.sql("SELECT status FROM runs ORDER BY started").values.tolist()]
    assert statuses == ["running", "done"]  # the killed run is visible as never finished
