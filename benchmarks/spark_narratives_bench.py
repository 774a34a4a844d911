"""What narrative clustering costs on the Spark engine, blocked (``--clustering blocked``) and on the driver.

Claims are random unit vectors of MiniLM's size (384), with planted groups of near-duplicates (a fifth of the
claims, in groups of 5, cosine about 0.9 to their group's centre) so that shortlists, connected groups and
narratives are not all singletons. Each size runs in a fresh process on ``local[2]``:

- blocked: the ``neighbours`` step (every pair of blocks of claims compared on the executors), the
  ``groups`` step (connected components of the shortlists) and the placing of each group, timed apart;
- driver: :func:`newstrace.link.narrate.place_claims` over every claim in one call, as
  ``--clustering driver`` runs it.

The cost per claim pair of the neighbours step, in core-seconds, gives the extrapolation to 10M documents.

    python benchmarks/spark_narratives_bench.py [--sizes 5000,10000,20000] [--no-record]
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine, record

CORES = 2
TEN_MILLION = 10_000_000


def claims_and_vectors(n: int) -> tuple[list[Any], Any]:
    """``n`` claims (10 per document, a day apart) and their unit vectors, a fifth in near-duplicate groups."""
    from datetime import date, timedelta

    import numpy as np

    from newstrace.model import Claim

    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((n, 384))
    planted = n // 5
    centres = rng.standard_normal((planted // 5, 384))
    # Members of a group lie planted // 5 claims apart: in different documents.
    vectors[:planted] = np.tile(centres, (5, 1)) + 0.3 * rng.standard_normal((planted, 384))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    words = [f"w{i}" for i in range(2000)]
    claims = [
        Claim(
            f"c{i:08d}",
            f"d{i // 10:07d}",
            i % 10 * 100,
            i % 10 * 100 + 50,
            " ".join(words[(i * 7 + k) % 2000] for k in range(8)),
            0,
            50,
            True,
            "the ministry",
            "said",
            "institution",
            None,
            "assertion",
            False,
            (),
            (),
            date(2020, 1, 1) + timedelta(days=i // 10),
            "Daily",
        )
        for i in range(n)
    ]
    return claims, vectors


def child_blocked(n: int) -> dict[str, Any]:
    from dataclasses import asdict

    import pyarrow as pa
    from pyspark.sql import functions as F

    from newstrace.engines.spark import start_spark
    from newstrace.engines.spark_link import CLAIM_ORDER, narratives_blocked
    from newstrace.link.narratives import NarrativeConfig

    claims, vectors = claims_and_vectors(n)
    spark = start_spark("local[2]", driver_memory="4g", shuffle_partitions=8)
    spark.sparkContext.setLogLevel("ERROR")
    rows = [{**asdict(c), "vector": v.tolist()} for c, v in zip(claims, vectors, strict=True)]
    for position, row in enumerate(rows):
        row.update({"chunk": 0, "position": position})
    frame = spark.createDataFrame(pa.Table.from_pylist(rows).to_pandas())
    frame = frame.withColumn("chunk", F.col("chunk").cast("long")).localCheckpoint()
    empty = spark.createDataFrame(
        [], "doc_a string, a_start int, a_end int, doc_b string, b_start int, b_end int, score double, "
        "kind string, direction string, n_words int, run_id string",
    )  # fmt: skip
    assert set(CLAIM_ORDER) <= set(frame.columns)
    marks: dict[str, float] = {}

    def mark(step: str) -> None:
        marks[step] = time.perf_counter()

    mark("start")
    tables, _ = narratives_blocked(frame, empty, "bench", NarrativeConfig(), "minilm", 8, on_step=mark)
    narratives = tables["narratives"].count()
    mark("end")
    spark.stop()
    steps = ["start", "neighbours", "groups", "end"]
    times = {f"{a}->{b}": marks[b] - marks[a] for a, b in itertools.pairwise(steps)}
    return {"claims": n, "narratives": narratives, "seconds": marks["end"] - marks["start"], **times}


def child_driver(n: int) -> dict[str, Any]:
    from newstrace.link.narrate import place_claims
    from newstrace.link.narratives import NarrativeConfig
    from newstrace.store import Store

    claims, vectors = claims_and_vectors(n)
    started = time.perf_counter()
    with Store(":memory:") as memory:
        touched, _ = place_claims(memory, "bench", claims, vectors, [], "minilm", NarrativeConfig())
    return {"claims": n, "narratives": touched, "seconds": time.perf_counter() - started}


def run_child(kind: str, n: int) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--claims", str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5000,10000,20000")
    parser.add_argument(
        "--claims-per-document", type=float, default=9.6, help="FA-KES: 7,594 claims, 789 docs"
    )
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--child", choices=("blocked", "driver"), help=argparse.SUPPRESS)
    parser.add_argument("--claims", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps((child_blocked if args.child == "blocked" else child_driver)(args.claims)))
        return 0
    rows = []
    largest: dict[str, Any] = {}
    for n in (int(s) for s in args.sizes.split(",")):
        blocked, driver = run_child("blocked", n), run_child("driver", n)
        print(json.dumps({"blocked": blocked, "driver": driver}), file=sys.stderr, flush=True)
        rows.append(
            f"| {n:,} | {blocked['seconds']:.1f} s | {blocked['start->neighbours']:.1f} s | "
            f"{blocked['neighbours->groups']:.1f} s | {blocked['groups->end']:.1f} s | {driver['seconds']:.1f} s | "
            f"{blocked['narratives']:,} / {driver['narratives']:,} |"
        )
        largest = blocked
    n = largest["claims"]
    per_pair = largest["start->neighbours"] * CORES / n**2
    claims_10m = args.claims_per_document * TEN_MILLION
    core_hours = per_pair * claims_10m**2 / 3600
    notes = [
        "",
        f"- Neighbours step at {n:,} claims: {per_pair * 1e9:.1f} core-ns per claim pair (wall time x {CORES} "
        "cores, Spark's fixed costs included, so an upper bound).",
        f"- 10M documents at {args.claims_per_document} claims each: {claims_10m / 1e6:,.0f}M claims, "
        f"{claims_10m**2 / 2 / 1e15:,.0f} x 10^15 pairs: about {core_hours:,.0f} core-hours for the neighbours "
        f"step ({core_hours / 1000:,.0f} hours on 1,000 cores). Groups and placing grow with the claims, not "
        "their pairs. The driver holds only the TF-IDF counts.",
        f"- The corpus that one hour of 100 cores covers: about {(3600 * 100 / per_pair) ** 0.5:,.0f} claims, "
        f"the claims of about {(3600 * 100 / per_pair) ** 0.5 / args.claims_per_document:,.0f} documents.",
    ]
    description = (
        f"`python benchmarks/spark_narratives_bench.py --sizes {args.sizes}`. {machine()}. Random unit vectors "
        "(384 dimensions), a fifth planted in near-duplicate groups of 5; each size in a fresh process; "
        "blocked = `narratives_blocked` on Spark local[2] (steps timed apart), driver = `place_claims` in one "
        "call (what `--clustering driver` runs on the driver). Both give the same number of narratives."
    )
    table = [
        "| claims | blocked, total | neighbours | groups | placing | driver | narratives (blocked / driver) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        *rows,
    ]
    record(
        "Spark narrative clustering, blocked and on the driver", description, table + notes, args.no_record
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
