"""The Spark engine against the local engine as the corpus grows: FA-KES replicated 1x, 4x, 16x and 64x.

Copy k of FA-KES has every letter and digit of its text and title enciphered by its own substitution
(``cipher`` from benchmarks/reuse_generator.py), so copies are distinct documents and share no shingle: the
reuse density per document stays that of FA-KES at every size. Dates and outlets stay as they are.

Each configuration runs in a fresh process: ``ingest`` and ``link`` (reuse; no annotations) on an empty
store, with the local engine (one process, as it chooses for a CSV) and with the Spark engine in local mode
(``local[2]``; at 16x also ``local[1]``). Wall time excludes interpreter start; the Spark figures also give
the start of Spark. Peak memory is the largest sum of the resident memory of the process tree (JVM and
Python workers included), sampled every 0.2 s. From Spark's REST API (http://localhost:4040/api/v1): task
time and shuffle bytes, per document.

Annotation, the expensive stage, is measured once at 1x on a sample of FA-KES (both engines, per document).
The driver-side narrative clustering is timed on random unit vectors at growing sizes, to extrapolate to
10M documents. Figures are printed and appended to benchmarks/RESULTS.md.

    python benchmarks/spark_bench.py [--factors 1,4,16,64] [--runs 3] [--large-runs 1] [--no-record]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED, machine, record
from reuse_generator import cipher

FAKES = SHARED / "fakes" / "FA-KES-Dataset.csv"
FAKES_MAP = "text=article_content,title=article_title,outlet=source,date=date"
ANNOTATE_SAMPLE = 100  # FA-KES articles annotated by each engine
TEN_MILLION = 10_000_000


# -- the corpus -------------------------------------------------------------------------------------------


def replicated_fakes(factor: int, folder: Path) -> Path:
    """FA-KES ``factor`` times, copy k enciphered (text and title) by ``cipher(k)``; copy 0 is FA-KES."""
    path = folder / f"fakes-{factor}x.csv"
    if path.exists():
        return path
    with FAKES.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))
    with path.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        for copy in range(factor):
            table = cipher(copy)
            for row in rows:
                writer.writerow(
                    {
                        **row,
                        "article_content": row["article_content"].translate(table),
                        "article_title": row["article_title"].translate(table),
                    }
                )
    return path


def sample_fakes(n: int, folder: Path) -> Path:
    path = folder / f"fakes-sample-{n}.csv"
    with (
        FAKES.open(encoding="utf-8", newline="") as source,
        path.open("w", encoding="utf-8", newline="") as target,
    ):
        reader = csv.reader(source)
        writer = csv.writer(target)
        for index, row in enumerate(reader):
            if index > n:
                break
            writer.writerow(row)
    return path


# -- measuring a child process ------------------------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            pid, ppid = int(entry), int(fields[1])
            rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            children.setdefault(ppid, []).append(pid)
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return total


def run_child(args: list[str]) -> tuple[dict[str, Any], float]:
    """Run this script in child mode; returns its JSON result and the peak RSS of its process tree (MB)."""
    process = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"child {args} failed ({process.returncode}):\n{stderr[-3000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return result, peak / 1e6


# -- child modes --------------------------------------------------------------------------------------------


def child_local(csv_path: Path, db: Path, annotate: bool) -> dict[str, Any]:
    import newstrace
    from newstrace.link.pipeline import link

    times: dict[str, Any] = {}
    started = time.perf_counter()
    report = newstrace.ingest([csv_path], db, mapping=FAKES_MAP)
    times["ingest"] = time.perf_counter() - started
    times["documents"] = report.stored
    if annotate:
        started = time.perf_counter()
        annotated = newstrace.annotate(db)
        times["annotate"] = time.perf_counter() - started
        times["words"] = annotated.words
    started = time.perf_counter()
    linked = link(db)
    times["link"] = time.perf_counter() - started
    times["claims"] = linked.claims.claims
    times["passages"] = linked.reuse.passages
    return times


def _spark_metrics(spark: Any) -> dict[str, float]:
    import urllib.request

    context = spark.sparkContext
    base = f"{context.uiWebUrl}/api/v1/applications/{context.applicationId}"
    stages = json.load(urllib.request.urlopen(f"{base}/stages?status=complete"))
    return {
        "shuffle_write_bytes": float(sum(s["shuffleWriteBytes"] for s in stages)),
        "shuffle_read_bytes": float(sum(s["shuffleReadBytes"] for s in stages)),
        "executor_run_seconds": sum(s["executorRunTime"] for s in stages) / 1000,
        "input_bytes": float(sum(s["inputBytes"] for s in stages)),
    }


def child_spark(csv_path: Path, out: Path, master: str, annotate: bool) -> dict[str, Any]:
    from newstrace.engines.spark import spark_annotate, spark_ingest, spark_link, start_spark

    times: dict[str, Any] = {}
    started = time.perf_counter()
    spark = start_spark(master)
    times["startup"] = time.perf_counter() - started
    marks: dict[str, float] = {}

    def on_event(kind: str, payload: Any) -> None:
        marks.setdefault(kind, time.perf_counter())

    started = time.perf_counter()
    report = spark_ingest([csv_path], out, spark=spark, mapping=FAKES_MAP)
    times["ingest"] = time.perf_counter() - started
    times["documents"] = report.counts["stored"]
    if annotate:
        started = time.perf_counter()
        spark_annotate(out, spark=spark)
        times["annotate"] = time.perf_counter() - started
    started = time.perf_counter()
    linked = spark_link(out, spark=spark, on_event=on_event)
    times["link"] = time.perf_counter() - started
    if "narratives" in marks:
        times["narratives"] = marks["narratives_done"] - marks["narratives"]
    times.update({key: linked.counts[key] for key in ("passages", "claims", "candidate_pairs")})
    times.update(_spark_metrics(spark))
    spark.stop()
    return times


def child_assign(n_claims: int) -> dict[str, Any]:
    """The driver-side clustering (``assign``) on ``n_claims`` random unit vectors of MiniLM's size."""
    import numpy as np

    from newstrace.link.narratives import NarrativeConfig, NarrativeIndex, assign
    from newstrace.model import Claim

    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((n_claims, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    claims = [
        Claim(
            f"c{i}",
            f"d{i // 10}",
            0,
            10,
            "claim text",
            0,
            10,
            False,
            None,
            None,
            "outlet",
            None,
            "assertion",
            False,
            (),
            (),
            None,
            None,
        )
        for i in range(n_claims)
    ]
    started = time.perf_counter()
    assign(claims, vectors, NarrativeIndex(384), NarrativeConfig())
    return {"seconds": time.perf_counter() - started, "claims": n_claims}


# -- the benchmark ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--factors", default="1,4,16,64")
    parser.add_argument("--runs", type=int, default=3, help="runs per configuration below 16x (median)")
    parser.add_argument("--large-runs", type=int, default=1, help="runs per configuration at 16x and above")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--note", default="", help="a sentence added to the recorded description")
    parser.add_argument("--render", type=Path, help="print the figures of an earlier run's results.json")
    parser.add_argument("--child", choices=("local", "spark", "assign"), help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--master", default="local[2]", help=argparse.SUPPRESS)
    parser.add_argument("--annotate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--claims", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.render:
        return render(args.render, args)
    if args.child == "local":
        print(json.dumps(child_local(args.csv, args.out, args.annotate)))
        return 0
    if args.child == "spark":
        print(json.dumps(child_spark(args.csv, args.out, args.master, args.annotate)))
        return 0
    if args.child == "assign":
        print(json.dumps(child_assign(args.claims)))
        return 0

    if not FAKES.exists():
        print(f"FA-KES not found at {FAKES}", file=sys.stderr)
        return 1
    factors = [int(f) for f in args.factors.split(",")]
    work = Path(tempfile.mkdtemp(prefix="newstrace-spark-bench-"))
    rows: dict[tuple[str, int], tuple[dict[str, Any], float]] = {}

    def local(factor: int, runs: int) -> None:
        data = replicated_fakes(factor, work)
        db = work / f"local-{factor}.duckdb"
        results = []
        for _ in range(runs):
            db.unlink(missing_ok=True)
            results.append(run_child(["--child", "local", "--csv", str(data), "--out", str(db)]))
        rows[("local", factor)] = _median(results)
        print(f"local {factor}x: {rows[('local', factor)]}", file=sys.stderr, flush=True)

    def spark(factor: int, runs: int, master: str = "local[2]") -> None:
        data = replicated_fakes(factor, work)
        out = work / f"spark-{factor}-{master.replace('[', '').replace(']', '')}"
        rows[(f"spark {master}", factor)] = _median(
            [
                run_child(["--child", "spark", "--csv", str(data), "--out", str(out), "--master", master])
                for _ in range(runs)
            ]
        )
        print(f"spark {master} {factor}x: {rows[(f'spark {master}', factor)]}", file=sys.stderr, flush=True)

    for factor in factors:
        runs = args.runs if factor < 16 else args.large_runs
        local(factor, runs)
        spark(factor, runs)
        if factor == 16:
            spark(factor, runs, "local[1]")

    sample = sample_fakes(ANNOTATE_SAMPLE, work)
    annotate_local = run_child(
        ["--child", "local", "--csv", str(sample), "--out", str(work / "ann.duckdb"), "--annotate"]
    )
    annotate_spark = run_child(
        ["--child", "spark", "--csv", str(sample), "--out", str(work / "ann-spark"), "--annotate"]
    )
    assign_times = [run_child(["--child", "assign", "--claims", str(n)])[0] for n in (5000, 10000, 20000)]

    raw = work / "results.json"
    raw.write_text(
        json.dumps(
            {
                "rows": [[engine, factor, result, peak] for (engine, factor), (result, peak) in rows.items()],
                "factors": factors,
                "annotate_local": annotate_local,
                "annotate_spark": annotate_spark,
                "assign": assign_times,
            }
        )
    )
    print(f"raw figures: {raw}", file=sys.stderr)
    command = " ".join(["python", "benchmarks/spark_bench.py", *sys.argv[1:]])
    print_results(rows, factors, annotate_local, annotate_spark, assign_times, args, command)
    return 0


def render(path: Path, args: argparse.Namespace) -> int:
    """Print (and record) the figures of an earlier run from its ``results.json``."""
    raw = json.loads(path.read_text())
    rows = {(engine, factor): (result, peak) for engine, factor, result, peak in raw["rows"]}
    annotate_local, annotate_spark = tuple(raw["annotate_local"]), tuple(raw["annotate_spark"])
    command = f"python benchmarks/spark_bench.py --no-record, then --render {path.name} to record it"
    print_results(rows, raw["factors"], annotate_local, annotate_spark, raw["assign"], args, command)  # type: ignore[arg-type]
    return 0


def _median(results: list[tuple[dict[str, Any], float]]) -> tuple[dict[str, Any], float]:
    keys = [k for k, v in results[0][0].items() if isinstance(v, int | float)]
    merged = {k: statistics.median(r[k] for r, _ in results) for k in keys}
    merged["runs"] = len(results)
    return merged, max(peak for _, peak in results)


def print_results(
    rows: dict[tuple[str, int], tuple[dict[str, Any], float]],
    factors: list[int],
    annotate_local: tuple[dict[str, Any], float],
    annotate_spark: tuple[dict[str, Any], float],
    assign_times: list[dict[str, Any]],
    args: argparse.Namespace,
    command: str,
) -> None:
    table = [
        "| engine | corpus | documents | ingest s | link s | ingest+link s | vs 1x | docs/s | peak MB | "
        "shuffle bytes/doc | task s/doc | runs |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (engine, factor), (result, peak) in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1])):
        total = result["ingest"] + result["link"]
        base = rows.get((engine, 1))
        ratio = f"{total / (base[0]['ingest'] + base[0]['link']):.1f}x" if base else "-"
        documents = result["documents"]
        shuffle = (
            f"{result['shuffle_write_bytes'] / documents:,.0f}" if "shuffle_write_bytes" in result else "-"
        )
        task = (
            f"{result['executor_run_seconds'] / documents * 1000:.1f} ms"
            if "executor_run_seconds" in result
            else "-"
        )
        table.append(
            f"| {engine} | {factor}x | {documents:,.0f} | {result['ingest']:.1f} | {result['link']:.1f} | "
            f"{total:.1f} | {ratio} | {documents / total:,.0f} | {peak:,.0f} | {shuffle} | {task} | "
            f"{result['runs']} |"
        )

    def total(engine: str, factor: int) -> float | None:
        found = rows.get((engine, factor))
        return found[0]["ingest"] + found[0]["link"] if found else None

    crossover = next(
        (
            f
            for f in factors
            if (s := total("spark local[2]", f)) is not None
            and (lo := total("local", f)) is not None
            and s <= lo
        ),
        None,
    )
    lines = ["", "Findings:"]
    if (s16 := total("spark local[2]", 16)) and (s1 := total("spark local[2]", 1)):
        lines.append(
            f"- Spark local[2], ingest+link: 16x takes {s16 / s1:.1f}x the time of 1x (target: at most 18x)."
        )
    if (one := total("spark local[1]", 16)) and (two := total("spark local[2]", 16)):
        lines.append(
            f"- Spark at 16x: local[1] {one:.0f} s, local[2] {two:.0f} s ({one / two:.2f}x from a second core)."
        )
    lines.append(
        f"- Crossover: Spark local[2] is faster than the local engine from {crossover}x."
        if crossover
        else f"- Crossover: none up to {max(factors)}x on this machine: the local engine stays faster."
    )

    local_result = annotate_local[0]
    spark_result = annotate_spark[0]
    n_sample = local_result["documents"]
    local_per_doc = local_result["annotate"] / n_sample
    spark_per_doc = spark_result["annotate"] / n_sample
    lines.append(
        f"- Annotate, {n_sample} FA-KES articles ({local_result.get('words', 0) / n_sample:,.0f} words each): local "
        f"engine {local_per_doc:.2f} s/doc on one process, Spark local[2] {spark_per_doc:.2f} s/doc wall "
        f"({spark_per_doc * 2:.2f} core-s/doc, spaCy loading included); {local_result['claims'] / n_sample:.1f} "
        "claims per document."
    )
    # assign: fit t = a * n^2 on the largest size (the similarity blocks dominate)
    largest = assign_times[-1]
    per_pair = largest["seconds"] / largest["claims"] ** 2
    lines.append(
        "- Driver clustering (assign): "
        + ", ".join(f"{t['claims']:,} claims {t['seconds']:.1f} s" for t in assign_times)
        + f" (≈ {per_pair * 1e9:.2f} ns per claim pair)."
    )

    largest_factor = max(f for f in factors if ("spark local[2]", f) in rows)
    big, _ = rows[("spark local[2]", largest_factor)]
    docs = big["documents"]
    cores = 2
    ingest_core = big["ingest"] * cores / docs
    link_core = big["link"] * cores / docs
    # Annotation per document: the local engine's (the same functions, one process) as the floor, the
    # Spark sample's (spaCy loading in each worker not amortised over 100 documents) as the ceiling.
    annotate_low, annotate_high = local_per_doc, spark_per_doc * cores
    shuffle_doc = big["shuffle_write_bytes"] / docs
    task_doc = big["executor_run_seconds"] / docs
    claims_per_doc = local_result["claims"] / n_sample
    claims_10m = claims_per_doc * TEN_MILLION
    assign_hours = per_pair * claims_10m**2 / 3600

    def hours(per_doc: float) -> float:
        return per_doc * TEN_MILLION / 3600

    low = hours(ingest_core + link_core + annotate_low)
    high = hours(ingest_core + link_core + annotate_high)
    lines += [
        "",
        f"10M-document estimate (linear in documents, from the Spark local[2] run at {largest_factor}x, "
        f"{docs:,} documents, wall time x {cores} cores; annotation from the {n_sample}-document sample):",
        f"- ingest {ingest_core * 1000:.1f} core-ms/doc → {hours(ingest_core):,.0f} core-hours; "
        f"link (reuse) {link_core * 1000:.1f} core-ms/doc → {hours(link_core):,.0f} core-hours "
        f"(Spark's own task time: {task_doc * 1000:.1f} ms/doc for both); annotate "
        f"{annotate_low:.2f}–{annotate_high:.2f} core-s/doc → {hours(annotate_low):,.0f}–{hours(annotate_high):,.0f} "
        "core-hours.",
        f"- Together {low:,.0f}–{high:,.0f} core-hours: {low / 100:,.0f}–{high / 100:,.0f} hours on 100 cores, "
        f"annotation being {annotate_low / (ingest_core + link_core + annotate_low):.0%} or more of it.",
        f"- Shuffle: {shuffle_doc:,.0f} bytes/doc → {shuffle_doc * TEN_MILLION / 1e9:,.0f} GB written "
        "(mostly the two texts each candidate pair carries to its alignment task).",
        f"- Narratives on the driver: {claims_10m / 1e6:,.0f}M claims at {claims_per_doc:.1f} per document need "
        f"{claims_10m * 384 * 4 / 1e9:,.0f} GB of vectors and, at {per_pair * 1e9:.1f} ns per claim pair, "
        f"{assign_hours:,.0f} hours of O(n²) clustering: infeasible. At 10M documents, clustering has to be "
        "blocked (not built; see docs/spark.md). One hour of driver time clusters about "
        f"{(3600 / per_pair) ** 0.5:,.0f} claims, the claims of about "
        f"{(3600 / per_pair) ** 0.5 / claims_per_doc:,.0f} documents.",
    ]
    description = (
        "FA-KES (789 documents after deduplication) replicated with enciphered copies (cipher from "
        "reuse_generator.py); ingest + link (reuse) per engine in a fresh process on an empty store; "
        "Spark in local mode; wall times exclude the start of the interpreter and of Spark; peak MB is the process "
        "tree's resident memory (JVM and Python workers included); shuffle bytes and task time from Spark's "
        f"REST API. Medians of the given runs. {machine()}; load average {os.getloadavg()[0]:.1f} when printed."
        + (f" {args.note}" if args.note else "")
        + f"\n\n`{command}`"
    )
    record("Spark engine scaling", description, table + lines, no_record=args.no_record)


if __name__ == "__main__":
    sys.exit(main())
