"""Ingest throughput and peak memory: FA-KES (one CSV, 804 rows) and the demo corpus (txt, HTML, JSONL).

Each configuration runs ``newstrace ingest`` in a fresh process on an empty store, several times; the median
wall time gives docs/s and words/s, and the child's peak RSS comes from wait4. Figures are printed and
appended to benchmarks/RESULTS.md with the date, commit and command.

    python benchmarks/ingest_bench.py [--runs 5] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED, machine, record

FAKES_MAP = "text=article_content,title=article_title,outlet=source,date=date"


@dataclass
class Case:
    name: str
    paths: list[Path]
    args: list[str]


@dataclass
class Measure:
    seconds: float
    peak_rss_mb: float


def replicated_pages(copies: int) -> Path:
    """The demo corpus's HTML pages, each copied ``copies`` times with a distinct sentence (distinct texts)."""
    folder = Path(tempfile.mkdtemp(prefix="newstrace-pages-"))
    for page in sorted((ROOT / "examples" / "corpus" / "html").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        for i in range(copies):
            head, _, body = html.partition("<article")
            marked = head + "<article" + body.replace("<p>", f"<p>Update {i}: ", 1)
            (folder / f"{page.stem}-{i}.html").write_text(marked, encoding="utf-8")
    return folder


def replicated_fakes(fakes: Path, factor: int) -> Path:
    """FA-KES with every row repeated ``factor`` times, each copy's text made distinct by a closing sentence."""
    import csv

    path = Path(tempfile.mkdtemp(prefix="newstrace-scale-")) / f"fakes-{factor}x.csv"
    with (
        fakes.open(encoding="utf-8", newline="") as source,
        path.open("w", encoding="utf-8", newline="") as target,
    ):
        rows = list(csv.DictReader(source))
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        for copy in range(factor):
            for row in rows:
                writer.writerow({**row, "article_content": f"{row['article_content']} Copy {copy}."})
    return path


def run_once(case: Case) -> tuple[Measure, Path]:
    workdir = Path(tempfile.mkdtemp(prefix="newstrace-bench-"))
    db = workdir / "bench.duckdb"
    command = [
        sys.executable,
        "-m",
        "newstrace",
        "ingest",
        *map(str, case.paths),
        "--db",
        str(db),
        "--quiet",
        *case.args,
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{case.name}: ingest failed\n{stderr}")
    # ru_maxrss is in KiB on Linux; spawned workers are grandchildren and are not included.
    return Measure(seconds, usage.ru_maxrss / 1024), db


def corpus_size(db: Path) -> tuple[int, int]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT count(*), sum(n_words) FROM documents").fetchall()
    n_occurrences = con.execute("SELECT count(*) FROM occurrences").fetchall()[0][0]
    con.close()
    return n_occurrences, int(rows[0][1] or 0)


def startup_seconds(runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import newstrace"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    options = parser.parse_args()

    cases = [
        Case("demo corpus, --jobs 1", [ROOT / "examples" / "corpus"], ["--jobs", "1"]),
        Case("demo corpus, --jobs 2", [ROOT / "examples" / "corpus"], ["--jobs", "2"]),
    ]
    pages = replicated_pages(25)
    cases += [
        Case("200 HTML pages, --jobs 1", [pages], ["--jobs", "1"]),
        Case("200 HTML pages, --jobs 2", [pages], ["--jobs", "2"]),
    ]
    fakes = SHARED / "fakes" / "FA-KES-Dataset.csv"
    if fakes.exists():
        cases = [
            Case("FA-KES CSV, --jobs 1", [fakes], ["--map", FAKES_MAP, "--jobs", "1"]),
            Case("FA-KES CSV, --jobs 2", [fakes], ["--map", FAKES_MAP, "--jobs", "2"]),
            *(
                Case(
                    f"FA-KES x{factor} CSV, --jobs 1",
                    [replicated_fakes(fakes, factor)],
                    ["--map", FAKES_MAP, "--jobs", "1"],
                )
                for factor in (4, 16)
            ),
            *cases,
        ]
    else:
        print(f"FA-KES not found at {fakes}: measuring the demo corpus only", file=sys.stderr)

    import_seconds = startup_seconds(options.runs)
    rows = []
    for case in cases:
        measures = []
        db = None
        for _ in range(options.runs):
            measure, db = run_once(case)
            measures.append(measure)
        docs, n_words = corpus_size(db)
        seconds = statistics.median(m.seconds for m in measures)
        rss = max(m.peak_rss_mb for m in measures)
        rows.append((case.name, docs, n_words, seconds, docs / seconds, n_words / seconds, rss))
        print(
            f"{case.name}: {docs} docs in {seconds:.2f} s median of {options.runs}: "
            f"{docs / seconds:,.0f} docs/s, {n_words / seconds:,.0f} words/s, peak RSS {rss:.0f} MB"
        )

    table = [
        "| input | articles | words | median s | docs/s | words/s | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {n} | {d} | {w:,} | {s:.2f} | {ds:,.0f} | {ws:,.0f} | {r:.0f} |"
            for n, d, w, s, ds, ws, r in rows
        ),
    ]
    command = "python benchmarks/ingest_bench.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    description = (
        f"Command: `{command.strip()}`. Machine: {machine()}. Median wall time of {options.runs} runs of "
        "`newstrace ingest` in a fresh process on an empty store (process start and imports included: "
        f"`import newstrace` alone takes {import_seconds:.2f} s). Peak RSS is the ingesting process; "
        "with --jobs 2 the worker processes come on top."
    )
    record("Ingest throughput", description, table, options.no_record)


if __name__ == "__main__":
    main()
