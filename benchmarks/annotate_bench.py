"""Annotation throughput on FA-KES: words/s with 1 and 2 worker processes, and peak memory.

FA-KES is ingested once; each run annotates a fresh copy of that store with `newstrace annotate --jobs N`
in its own process. Peak RSS is sampled from /proc over the whole process tree (the command and its worker
processes). Figures are printed and appended to benchmarks/RESULTS.md.

    python benchmarks/annotate_bench.py [--runs 3] [--limit N] [--no-record]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import SHARED, machine, record
from ingest_bench import FAKES_MAP


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(re.search(r"PPid:\s+(\d+)", status).group(1))
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        children.setdefault(ppid, []).append(int(entry.name))
        rss[int(entry.name)] = int(match.group(1)) if match else 0
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 1024


def run(command: list[str]) -> tuple[float, float, str]:
    peak = 0.0
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_mb(process.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr}")
    return time.perf_counter() - started, peak, stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="annotate only the first N documents")
    parser.add_argument("--no-record", action="store_true")
    options = parser.parse_args()
    fakes = SHARED / "fakes" / "FA-KES-Dataset.csv"
    if not fakes.exists():
        raise SystemExit(f"FA-KES not found at {fakes}")
    newstrace = [sys.executable, "-m", "newstrace"]
    work = Path(tempfile.mkdtemp(prefix="newstrace-annotate-bench-"))
    base = work / "fakes.duckdb"
    subprocess.run(
        [*newstrace, "ingest", str(fakes), "--map", FAKES_MAP, "--db", str(base), "-q"], check=True
    )
    import duckdb

    con = duckdb.connect(str(base), read_only=True)
    query = "SELECT count(*), sum(n_words) FROM (SELECT n_words FROM documents ORDER BY doc_id" + (
        f" LIMIT {options.limit})" if options.limit else ")"
    )
    n_docs, n_words = con.execute(query).fetchall()[0]
    con.close()
    # Warm the gazetteer cache so its one-time build is not timed.
    subprocess.run(
        [*newstrace, "annotate", str(Path(__file__)), "--format", "txt", "--jsonl"],
        check=True,
        capture_output=True,
    )

    rows = []
    for jobs in (1, 2):
        times, peaks, rates = [], [], []
        for _ in range(options.runs):
            db = work / f"run-{jobs}.duckdb"
            shutil.copy(base, db)
            command = [*newstrace, "annotate", "--db", str(db), "--jobs", str(jobs), "-q"]
            if options.limit:
                command = [
                    sys.executable,
                    "-c",
                    (
                        "import sys, newstrace; r = newstrace.annotate(db=sys.argv[1], jobs=int(sys.argv[2]), limit=int(sys.argv[3]));"
                        " print(r.summary(), file=sys.stderr)"
                    ),
                    str(db),
                    str(jobs),
                    str(options.limit),
                ]
            seconds, peak, stderr = run(command)
            rate = re.search(r"([\d,]+) words/s", stderr)
            times.append(seconds)
            peaks.append(peak)
            rates.append(float(rate.group(1).replace(",", "")) if rate else float("nan"))
            db.unlink()
        median = statistics.median(times)
        rows.append((jobs, median, n_words / median, statistics.median(rates), max(peaks)))
        print(
            f"--jobs {jobs}: {n_docs} docs, {n_words:,} words in {median:.1f} s (median of {options.runs}): "
            f"{n_words / median:,.0f} words/s end to end, {statistics.median(rates):,.0f} words/s in the annotate loop, "
            f"peak RSS {max(peaks):,.0f} MB"
        )
    table = [
        "| worker processes | median s | words/s, whole command | words/s, annotating | per core | peak RSS, all processes (MB) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        *(f"| {j} | {s:.1f} | {w:,.0f} | {r:,.0f} | {r / j:,.0f} | {p:,.0f} |" for j, s, w, r, p in rows),
    ]
    description = (
        f"Command: `python benchmarks/annotate_bench.py {' '.join(sys.argv[1:])}`. Machine: {machine()}. FA-KES ({n_docs} documents, {n_words:,} words) annotated by "
        "`newstrace annotate --db` (spaCy en_core_web_md with newstrace's alias ruler, gazetteer and actor "
        f"linker, dates, and the attribution tagger), median of {options.runs} runs. 'Whole command' includes start-up and model "
        "loading; 'annotating' is the rate the command reports for its annotate loop."
    )
    record("Annotation throughput", description, table, options.no_record)


if __name__ == "__main__":
    main()
