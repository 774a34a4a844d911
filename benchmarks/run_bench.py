"""End to end: `newstrace run` on FA-KES (ingest, annotate with attributions and labels, link, report).

Each run starts from an empty output folder in a fresh process; the figure is the median wall time of
``--runs`` runs, with each stage's share read from the store's ``runs`` table.

    python benchmarks/run_bench.py [--runs 3] [--no-attributions] [--embedder minilm] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchlib import SHARED, machine, record

FAKES = SHARED / "fakes" / "FA-KES-Dataset.csv"
MAPPING = "text=article_content,title=article_title,outlet=source,date=date"


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(out: Path, attributions: bool, embedder: str) -> tuple[float, dict[str, float]]:
    command = [
        sys.executable, "-m", "newstrace", "run", str(FAKES), "--map", MAPPING, "--out", str(out), "-q",
        "--embedder", embedder, *([] if attributions else ["--no-attributions"]),
    ]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.perf_counter() - started
    con = duckdb.connect(str(out / "newstrace.duckdb"), read_only=True)
    stages: dict[str, float] = {}
    for command, begun, finished in con.execute("SELECT command, started, finished FROM runs").fetchall():
        if finished:
            words = command.removeprefix("newstrace ").split()
            # Ingest records the command line ("newstrace run ..."); "link" runs twice: reuse, then claims.
            name = (
                "link reuse"
                if words[0] == "link" and words[1] != "claims"
                else " ".join(words[: 2 if words[0] == "link" else 1])
            )
            stages["ingest" if words[0] in ("run", "ingest") else name] = (finished - begun).total_seconds()
    con.close()
    return seconds, stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-attributions", action="store_true")
    parser.add_argument("--embedder", default="minilm")
    parser.add_argument("--no-record", action="store_true")
    options = parser.parse_args(argv)
    if not FAKES.exists():
        print(f"skipped: {FAKES} is missing (the real corpora live in ../shared/data beside the repo)")
        return 0
    load = os.getloadavg()[0]
    times, stages, cpu = [], [], []
    for index in range(options.runs):
        with tempfile.TemporaryDirectory() as tmp:
            before = cpu_of_children()
            seconds, stage = one_run(Path(tmp) / "out", not options.no_attributions, options.embedder)
            cpu.append(cpu_of_children() - before)
        times.append(seconds)
        stages.append(stage)
        print(
            f"run {index + 1}: {seconds:.1f} s  "
            + "  ".join(f"{k} {v:.1f} s" for k, v in stage.items())
            + f"  CPU {cpu[-1]:.1f} s"
        )
    median = statistics.median(times)
    names = list(stages[0])
    flags = (" --no-attributions" if options.no_attributions else "") + f" --embedder {options.embedder}"
    record(
        "End to end: newstrace run on FA-KES",
        f"Command: `python benchmarks/run_bench.py --runs {options.runs}{flags}` (each run: `newstrace run "
        f"FA-KES-Dataset.csv --map {MAPPING} --out EMPTY_DIR{flags}`, a fresh process). Machine: {machine()}, "
        f"1-min load average {load:.1f} before the first run. Stage times from the store's `runs` table "
        "(the report and process start-up are the rest). CPU: user and system seconds of the command and its "
        "workers: the same work takes more of them when the shared host runs slower, so this column tells a "
        "slow minute from slower code.",
        [
            "| | " + " | ".join(names) + " | whole command | CPU |",
            "| --- | " + " | ".join("---:" for _ in names) + " | ---: | ---: |",
            *(
                f"| run {i + 1} | " + " | ".join(f"{s.get(n, 0):.1f} s" for n in names) + f" | {t:.1f} s"
                f" | {c:.1f} s |"
                for i, (s, t, c) in enumerate(zip(stages, times, cpu, strict=True))
            ),
            "| **median** | " + " | ".join("" for _ in names) + f" | **{median:.1f} s** | |",
        ],
        no_record=options.no_record,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
