"""Bad input never stops a run: each bad file is one row in `errors` and one line on stderr; the rest is stored."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import newstrace

ARTICLE = (
    "Kastrel council approves new harbour budget\n\n"
    "The Kastrel city council voted on Thursday to spend 4 million crowns on repairs to the old harbour wall, "
    "the mayor's office said.\n\n"
    "Council member Ilse Varga said the work would begin in the spring and last about two years.\n"
)
PAGE = (
    "<html><head><title>Dock strike ends in Port Vell</title>"
    "<meta property='og:site_name' content='Vell Evening Post'>"
    "<meta property='article:published_time' content='2021-05-04T08:00:00Z'></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>Dock strike ends in Port Vell</h1>"
    "<p>Dock workers in Port Vell returned to work on Monday after a nine-day strike over night-shift pay, the "
    "port authority said in a statement.</p><p>The union said its members had accepted a rise of six percent "
    "and a review of shift rotas in the autumn.</p></article><footer>Vell Evening Post</footer></body></html>"
)


def _record(i: int, text: str) -> str:
    return json.dumps(
        {"title": f"Story {i}", "text": text, "outlet": "Kastrel Courier", "date": f"2020-03-0{i}"}
    )


def _warc(path: Path, pages: list[tuple[str, str]]) -> None:
    with path.open("wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, html in pages:
            headers = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            record = writer.create_warc_record(
                url, "response", payload=io.BytesIO(html.encode()), http_headers=headers
            )
            writer.write_record(record)


def build_inputs(root: Path) -> dict[str, str]:
    """Write good and bad inputs under ``root``; return {file name: expected outcome}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.txt").write_text(ARTICLE, encoding="utf-8")
    (root / "good.html").write_text(PAGE, encoding="utf-8")
    (root / "good.jsonl").write_text(
        _record(1, "First feed story about the ferry timetable.") + "\n", encoding="utf-8"
    )
    (root / "good.csv").write_text(
        'title,text,outlet\n"Grain","Grain prices rose again in Kastrel.",Courier\n', encoding="utf-8"
    )
    with gzip.open(root / "good.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write(ARTICLE.replace("harbour wall", "river bridge"))
    _warc(root / "good.warc.gz", [("https://vell-post.test/a", PAGE)])

    (root / "latin1.txt").write_bytes(
        "Café owners in Kastrel protest against the new tax.\n\nThe café association said".encode("latin-1")
        + b" it would appeal.\n"
    )
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    (root / "empty.txt").write_bytes(b"")
    full = gzip.compress(ARTICLE.replace("harbour", "canal").encode() * 50)
    (root / "truncated.txt.gz").write_bytes(full[: len(full) // 2])
    _warc(
        root / "truncated.warc.gz",
        [
            ("https://vell-post.test/b", PAGE.replace("nine-day", "ten-day")),
            ("https://vell-post.test/c", PAGE * 3),
        ],
    )
    data = (root / "truncated.warc.gz").read_bytes()
    (root / "truncated.warc.gz").write_bytes(data[: len(data) - 200])
    (root / "malformed.jsonl").write_text(
        _record(2, "A good line about the Kastrel tram extension.") + '\n{"title": "broken", "text": \n',
        encoding="utf-8",
    )
    (root / "missing_column.csv").write_text(
        "title,outlet,date\nNo text here,Courier,2020-01-01\n", encoding="utf-8"
    )
    with (root / "huge.txt").open("w", encoding="utf-8") as handle:
        for _ in range(50):
            handle.write("word " * 200_000)
    unreadable = root / "unreadable.txt"
    unreadable.write_text(ARTICLE.replace("Kastrel", "Port Vell"), encoding="utf-8")
    unreadable.chmod(0)
    return {
        "good.txt": "stored",
        "good.html": "stored",
        "good.jsonl": "stored",
        "good.csv": "stored",
        "good.txt.gz": "stored",
        "good.warc.gz": "stored",
        "latin1.txt": "warning",
        "binary.txt": "binary content",
        "empty.txt": "empty file",
        "truncated.txt.gz": "truncated or corrupt gzip",
        "truncated.warc.gz": "truncated or corrupt WARC",
        "malformed.jsonl": "malformed JSON line",
        "missing_column.csv": "no text column",
        "huge.txt": "over the 20 MB limit",
        "unreadable.txt": "permission denied",
    }


def _ingest_command(*args: str) -> list[str]:
    command = [sys.executable, "-m", "newstrace", "ingest", *args]
    if os.geteuid() == 0:
        # root reads any file; drop the capabilities that let it, so a mode-000 file is unreadable as for users.
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: cannot make a file unreadable")
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", *command]
    return command


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("inputs")
    expected = build_inputs(root / "in")
    db = root / "bad.duckdb"
    result = subprocess.run(
        _ingest_command(str(root / "in"), "--db", str(db)), capture_output=True, text=True, timeout=600
    )
    yield root, expected, db, result
    (root / "in" / "unreadable.txt").chmod(0o644)


def test_bad_inputs_exit_zero_with_summary(bad_run):
    _, expected, _, result = bad_run
    assert result.returncode == 0, result.stderr
    n_bad = sum(outcome not in ("stored", "warning") for outcome in expected.values())
    assert f"{n_bad} failed: see errors" in result.stderr


def test_each_bad_file_is_one_error_row_and_one_stderr_line(bad_run):
    _, expected, db, result = bad_run
    with newstrace.open(db) as store:
        errors = store.errors()
    for name, outcome in expected.items():
        rows = errors[errors.source_path.str.endswith("/" + name)]
        if outcome == "stored":
            assert rows.empty, (name, rows.to_dict("records"))
        elif outcome == "warning":
            assert list(rows.severity) == ["warning"], name
        else:
            assert list(rows.severity) == ["error"], (name, rows.to_dict("records"))
            assert outcome in rows.error.iloc[0], (name, rows.error.iloc[0])
            lines = [line for line in result.stderr.splitlines() if name in line and "error" in line]
            assert len(lines) == 1, (name, lines)


def test_every_good_record_is_stored(bad_run):
    _, _, db, _ = bad_run
    with newstrace.open(db) as store:
        paths = store.sql("SELECT source_path, locator FROM occurrences").values.tolist()
        latin = store.one("SELECT text, encoding FROM documents WHERE source_path LIKE '%latin1.txt'")
    names = sorted(Path(path).name for path, _ in paths)
    # good files, the latin-1 file, the good line of malformed.jsonl, the first page of the truncated WARC
    assert names == sorted(
        [
            "good.txt",
            "good.html",
            "good.jsonl",
            "good.csv",
            "good.txt.gz",
            "good.warc.gz",
            "latin1.txt",
            "malformed.jsonl",
            "truncated.warc.gz",
        ]
    )
    assert latin[0].startswith("Café owners") and latin[1] != "utf-8"


def test_strict_exits_non_zero_on_failures(bad_run, tmp_path: Path):
    root, _, _, _ = bad_run
    result = subprocess.run(
        _ingest_command(str(root / "in"), "--db", str(tmp_path / "strict.duckdb"), "--strict", "--quiet"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 1
    assert "failed: see errors" in result.stderr


def test_rerun_keeps_stored_documents_and_retries_failed_files(bad_run):
    root, _, db, _ = bad_run
    with newstrace.open(db) as store:
        before = store.one("SELECT count(*) FROM documents")[0]
    result = subprocess.run(
        _ingest_command(str(root / "in"), "--db", str(db)), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0
    assert result.stderr.count("error") >= 8  # failed files are tried again, good ones skipped
    with newstrace.open(db) as store:
        assert store.one("SELECT count(*) FROM documents")[0] == before
