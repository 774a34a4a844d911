"""Text-reuse detection on FA-KES with planted passages: newstrace against a MinHash LSH baseline, and scaling.

The test set comes from ``reuse_generator.generate`` (see its docstring: FA-KES articles that share no
12-word run, with edited passages of 1-4 sentences copied between them; gold offsets on both sides). Two
systems run on the same texts in this one process, each timed as the wall time of its whole call (generation
excluded):

    newstrace   ``newstrace.link.reuse:find_reuse`` with its default ``ReuseConfig``
    baseline    ``reuse_baseline.find_reuse_paragraphs``: paragraphs, word 5-gram MinHash (128 permutations),
                datasketch MinHashLSH at Jaccard ``--threshold`` (default 0.3)

``--system MODULE:FUNCTION`` benchmarks any other function taking the list of texts in place of newstrace.
Both outputs must have the ``ReuseMatch`` shape (``a < b``, character spans, score); see :func:`score` for
how they are scored:

    passage   a predicted passage matches a gold event when it links the same two documents and, on both
              sides, overlaps the gold span by at least 50% of the predicted length and 50% of the gold
              length; each gold event and each prediction is matched at most once
    pair      document pairs: predicted pairs against the pairs of documents with at least one gold event

Recall is also broken down by the edits the events went through. Scaling: the set is replicated 1x, 4x and
16x (``--scales``) with ``reuse_generator.replicate`` (enciphered disjoint copies: same reuse density per
document), and each scale runs in a fresh process that loads the set, replicates it and times one call. Its
peak RSS is the process's own high-water mark (``VmHWM`` in /proc/self/status; wait4's ``ru_maxrss`` is not
used because Linux carries the forking parent's peak over into the child), or that of its largest child
process if larger, read before and after the call. Figures are printed and appended to
benchmarks/RESULTS.md unless ``--no-record``.

Natural reuse: the generator leaves out articles sharing a ``--run-words``-word run (default 8, newstrace's
shortest passage). With ``--run-words 12`` shared runs of 8-11 words (stock wire phrases such as "There was no
immediate claim of responsibility for the bombing") stay in the set without gold, and a system reporting them
is charged for them; the table shows how many predictions fall on document pairs without any gold event, and
how many of those are shorter than 12 words.

    python benchmarks/reuse_bench.py [--seed 1] [--events N] [--limit N] [--run-words 8] [--scales 1,4,16]
                                     [--scale-baseline] [--system MODULE:FUNCTION] [--no-record]

Without ``../shared/data/fakes`` the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import machine, record
from newstrace.attribution.scoring import PRF
from reuse_generator import FAKES, RUN_WORDS, ReuseSet, generate, replicate, summary

NEWSTRACE = "newstrace.link.reuse:find_reuse"
WORD = re.compile(r"\w+")
EDIT_KINDS = ["translit", "drop", "insert", "comma", "dash", "period", "quotes", "rewrap", "lead"]

Span = tuple[int, int]
System = Callable[[list[str]], Sequence[Any]]


# -- scoring ---------------------------------------------------------------------------------------------


@dataclass
class Scores:
    passage: PRF
    pair: PRF
    found: list[bool] = field(default_factory=list)  # per gold event, in order


def overlap(x: Span, y: Span) -> int:
    return max(0, min(x[1], y[1]) - max(x[0], y[0]))


def covers(predicted: Span, gold: Span, min_fraction: float = 0.5) -> float | None:
    """The smaller of the two overlap fractions (of the predicted and of the gold length) when both reach
    ``min_fraction``, else None."""
    p_len, g_len = predicted[1] - predicted[0], gold[1] - gold[0]
    if p_len <= 0 or g_len <= 0:
        return None
    shared = overlap(predicted, gold)
    fraction = min(shared / p_len, shared / g_len)
    return fraction if fraction >= min_fraction else None


def gold_sides(event: Mapping[str, Any]) -> tuple[int, int, Span, Span]:
    """A gold event as ``(a, b, a_span, b_span)`` with ``a < b``, like a prediction."""
    source = (event["source"], (event["source_start"], event["source_end"]))
    host = (event["host"], (event["host_start"], event["host_end"]))
    (a, a_span), (b, b_span) = sorted([source, host])
    return a, b, a_span, b_span


def score(predicted: Iterable[Any], gold: Sequence[Mapping[str, Any]], min_fraction: float = 0.5) -> Scores:
    """Passage- and pair-level scores of predictions (objects with ``a, b, a_start, a_end, b_start, b_end``)
    against gold events (dicts with ``source, source_start, source_end, host, host_start, host_end``).

    A prediction and a gold event match when they link the same two documents and :func:`covers` holds on
    both sides; matching is one-to-one, best pairs first (by the smallest of the four overlap fractions)."""
    predictions = list(predicted)
    golds = [gold_sides(event) for event in gold]
    by_pair: dict[tuple[int, int], list[int]] = {}
    for number, (a, b, _, _) in enumerate(golds):
        by_pair.setdefault((a, b), []).append(number)
    candidates = []
    for p_number, p in enumerate(predictions):
        for g_number in by_pair.get((p.a, p.b), []):
            _, _, a_span, b_span = golds[g_number]
            side_a = covers((p.a_start, p.a_end), a_span, min_fraction)
            side_b = covers((p.b_start, p.b_end), b_span, min_fraction)
            if side_a is not None and side_b is not None:
                candidates.append((min(side_a, side_b), p_number, g_number))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_p: set[int] = set()
    found = [False] * len(golds)
    for _, p_number, g_number in candidates:
        if p_number not in used_p and not found[g_number]:
            used_p.add(p_number)
            found[g_number] = True
    passage = PRF(len(used_p), len(predictions), sum(found), len(golds))
    gold_pairs = set(by_pair)
    predicted_pairs = {(p.a, p.b) for p in predictions}
    hits = len(gold_pairs & predicted_pairs)
    pair = PRF(hits, len(predicted_pairs), hits, len(gold_pairs))
    return Scores(passage, pair, found)


def off_gold(
    matches: Iterable[Any], gold: Sequence[Mapping[str, Any]], texts: Sequence[str]
) -> tuple[int, int]:
    """How many predictions link two documents without any gold event, and how many of those span fewer
    than 12 words (``\\w+``) on the a side."""
    pairs = {gold_sides(event)[:2] for event in gold}
    outside = [m for m in matches if (m.a, m.b) not in pairs]
    short = sum(len(WORD.findall(texts[m.a][m.a_start : m.a_end])) < 12 for m in outside)
    return len(outside), short


def check_matches(matches: Sequence[Any], texts: Sequence[str], name: str) -> None:
    """Fail loudly when a system's output breaks the ReuseMatch contract."""
    for number, m in enumerate(matches):
        problem = None
        if not 0 <= m.a < m.b < len(texts):
            problem = f"documents a={m.a}, b={m.b} (need 0 <= a < b < {len(texts)})"
        elif not 0 <= m.a_start <= m.a_end <= len(texts[m.a]):
            problem = f"a span ({m.a_start}, {m.a_end}) outside text {m.a} ({len(texts[m.a])} chars)"
        elif not 0 <= m.b_start <= m.b_end <= len(texts[m.b]):
            problem = f"b span ({m.b_start}, {m.b_end}) outside text {m.b} ({len(texts[m.b])} chars)"
        if problem:
            raise SystemExit(f"{name}: match {number} breaks the ReuseMatch contract: {problem}")


# -- systems ---------------------------------------------------------------------------------------------


def resolve_system(name: str, threshold: float = 0.3) -> tuple[System, str]:
    """The function behind a system name (``newstrace``, ``baseline`` or MODULE:FUNCTION), imported now so
    that import time is not timed, and a description of it."""
    if name == "baseline":
        from reuse_baseline import find_reuse_paragraphs  # datasketch: loaded only when benchmarked

        return (
            lambda texts: find_reuse_paragraphs(texts, threshold=threshold),
            f"paragraph MinHash LSH baseline (datasketch, word 5-grams, 128 permutations, Jaccard >= {threshold}, paragraphs of 8+ words)",
        )
    target = NEWSTRACE if name == "newstrace" else name
    module_name, sep, function_name = target.partition(":")
    if not sep or not module_name or not function_name:
        raise SystemExit(f"--system must be newstrace, baseline or MODULE:FUNCTION, not {name!r}")
    try:
        function = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError) as error:
        raise SystemExit(f"cannot load {target}: {error}") from error
    return function, f"`{target}` with its default configuration"


def timed(system: System, texts: list[str]) -> tuple[list[Any], float]:
    started = time.perf_counter()
    matches = list(system(texts))
    return matches, time.perf_counter() - started


# -- scaling ---------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), or its largest waited-for child's if larger, in MB."""
    try:
        status = Path("/proc/self/status").read_text()
        own = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def worker(set_path: Path, scale: int, name: str, threshold: float) -> int:
    """One scale in a fresh process: load, replicate, time one call, score; one JSON line on stdout."""
    reuse_set = replicate(ReuseSet.from_json(set_path.read_text(encoding="utf-8")), scale)
    system, _ = resolve_system(name, threshold)
    rss_before = peak_rss_mb()
    matches, seconds = timed(system, reuse_set.texts)
    rss_peak = peak_rss_mb()
    check_matches(matches, reuse_set.texts, name)
    result = score(matches, reuse_set.gold)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "docs": len(reuse_set.texts),
                "chars": sum(map(len, reuse_set.texts)),
                "gold": len(reuse_set.gold),
                "predicted": len(matches),
                "passage_f1": result.passage.f1,
                "passage_recall": result.passage.recall,
                "pair_f1": result.pair.f1,
                "rss_before_mb": rss_before,
                "peak_rss_mb": rss_peak,
            }
        )
    )
    return 0


def run_scale(
    set_path: Path, scale: int, name: str, threshold: float, timeout: float
) -> dict[str, Any] | None:
    """Run one scale in a subprocess; its figures plus wall time and peak RSS, or None on timeout."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        str(set_path),
        "--scale",
        str(scale),
        "--system",
        name,
        "--threshold",
        str(threshold),
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        while True:
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                process.kill()
                os.wait4(process.pid, 0)
                return None
            time.sleep(0.05)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"scale {scale} ({name}) failed:\n{stderr}{stdout}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    return {**figures, "wall": wall, "scale": scale}


# -- report ----------------------------------------------------------------------------------------------


def pct(value: float) -> str:
    return f"{100 * value:.1f}"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator > 0 else "n/a"


def edit_kinds(event: Mapping[str, Any]) -> set[str]:
    return {edit.split(":")[0] for edit in event["edits"]}


def recall_by_edit(gold: Sequence[Mapping[str, Any]], found: Sequence[Sequence[bool]]) -> list[list[str]]:
    rows = []
    groups = [("no edit", lambda e: not e["edits"])] + [
        (kind, lambda e, kind=kind: kind in edit_kinds(e)) for kind in EDIT_KINDS
    ]
    for label, chosen in groups:
        members = [i for i, event in enumerate(gold) if chosen(event)]
        if not members:
            continue
        rows.append(
            [label, f"{len(members):,}"]
            + [pct(sum(hits[i] for i in members) / len(members)) for hits in found]
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", type=int, default=None, help="reuse events (default: kept articles / 2)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N FA-KES rows")
    parser.add_argument(
        "--run-words", type=int, default=RUN_WORDS, help="leave out articles sharing a run this long"
    )
    parser.add_argument("--system", default="newstrace", help="newstrace, baseline or MODULE:FUNCTION")
    parser.add_argument("--threshold", type=float, default=0.3, help="baseline LSH Jaccard threshold")
    parser.add_argument("--scales", default="1,4,16", help="replication factors; '' for none")
    parser.add_argument("--scale-baseline", action="store_true", help="run the scales for the baseline too")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per scale run")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=int, default=1, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        return worker(options.worker, options.scale, options.system, options.threshold)

    if not FAKES.exists():
        print(f"FA-KES not found at {FAKES} (set NEWSTRACE_SHARED_DATA): reuse benchmark skipped.")
        return 0
    scales = [int(s) for s in options.scales.split(",") if s.strip()]
    load = os.getloadavg()[0]

    reuse_set = generate(options.seed, options.events, options.limit, options.run_words)
    texts, gold = reuse_set.texts, reuse_set.gold
    print(summary(reuse_set), file=sys.stderr)
    system, system_description = resolve_system(options.system, options.threshold)
    baseline, baseline_description = resolve_system("baseline", options.threshold)

    results = []
    for label, function in ((options.system, system), ("baseline", baseline)):
        matches, seconds = timed(function, texts)
        check_matches(matches, texts, label)
        result = score(matches, gold)
        results.append((label, seconds, result, off_gold(matches, gold, texts)))
        print(
            f"{label}: {seconds:.2f} s, {len(matches):,} passages, passage F1 {pct(result.passage.f1)} "
            f"(R {pct(result.passage.recall)}), pair F1 {pct(result.pair.f1)}",
            file=sys.stderr,
        )
    system_seconds, baseline_seconds = results[0][1], results[1][1]

    table = [
        "| system | seconds | predicted | passage P | R | F1 | pairs predicted | pair P | R | F1 | "
        "predicted on pairs without gold | of which < 12 words |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, seconds, result, (outside, short) in results:
        p, q = result.passage, result.pair
        table.append(
            f"| {label} | {seconds:.2f} | {p.predicted:,} | {pct(p.precision)} | {pct(p.recall)} | "
            f"**{pct(p.f1)}** | {q.predicted:,} | {pct(q.precision)} | {pct(q.recall)} | {pct(q.f1)} | "
            f"{outside:,} | {short:,} |"
        )
    table += [
        "",
        f"| recall by edit (%) | events | {options.system} | baseline |",
        "| --- | ---: | ---: | ---: |",
        *(
            "| " + " | ".join(row) + " |"
            for row in recall_by_edit(gold, [result.found for _, _, result, _ in results])
        ),
    ]

    scaling_note = ""
    if scales:
        folder = Path(tempfile.mkdtemp(prefix="newstrace-reuse-bench-"))
        set_path = folder / "reuse-set.json"
        set_path.write_text(reuse_set.to_json(), encoding="utf-8")
        names = [options.system] + (["baseline"] if options.scale_baseline else [])
        table += [
            "",
            "| system | scale | documents | characters | gold events | call s | process s | passage F1 | "
            "peak RSS (MB) | RSS before the call (MB) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        notes = []
        for name in names:
            runs = []
            for scale in scales:
                figures = run_scale(set_path, scale, name, options.threshold, options.timeout)
                if figures is None:
                    table.append(
                        f"| {name} | {scale}x | | | | timed out after {options.timeout:.0f} s | | | | |"
                    )
                    print(f"{name} {scale}x: timed out", file=sys.stderr)
                    break
                runs.append(figures)
                print(
                    f"{name} {scale}x: {figures['seconds']:.2f} s, peak RSS {figures['peak_rss_mb']:.0f} MB",
                    file=sys.stderr,
                )
                table.append(
                    f"| {name} | {scale}x | {figures['docs']:,} | {figures['chars']:,} | {figures['gold']:,} | "
                    f"{figures['seconds']:.2f} | {figures['wall']:.2f} | {pct(figures['passage_f1'])} | "
                    f"{figures['peak_rss_mb']:,.0f} | {figures['rss_before_mb']:,.0f} |"
                )
            if len(runs) > 1:
                first, last = runs[0], runs[-1]
                notes.append(
                    f"{name}: {last['scale']}x/{first['scale']}x time ratio "
                    f"**{ratio(last['seconds'], first['seconds'])}** (linear would be "
                    f"{last['scale'] / first['scale']:.0f}), peak RSS ratio "
                    f"**{ratio(last['peak_rss_mb'], first['peak_rss_mb'])}**, growth above the loaded data "
                    f"{ratio(last['peak_rss_mb'] - last['rss_before_mb'], first['peak_rss_mb'] - first['rss_before_mb'])}"
                )
        scaling_note = " Scaling: " + "; ".join(notes) + "." if notes else ""

    command = "python benchmarks/reuse_bench.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    description = (
        f"Command: `{command.strip()}`. Machine: {machine()}, 1-min load average {load:.1f} before the run. "
        f"Data: {summary(reuse_set)} (seed {options.seed}). Systems: {options.system} = {system_description}; "
        f"baseline = {baseline_description}. Wall time of one call each, same texts, same process: "
        f"{options.system} {system_seconds:.2f} s, baseline {baseline_seconds:.2f} s, baseline/{options.system} "
        f"time ratio **{ratio(baseline_seconds, system_seconds)}**. Passage match: same two documents and, on "
        "both sides, overlap >= 50% of the predicted and of the gold span, one-to-one; pair: document pairs."
        f"{scaling_note} Scales run in fresh processes on enciphered disjoint copies (same reuse density); "
        "peak RSS is the process's high-water mark (VmHWM); 'RSS before the call' is that mark after imports, "
        "loading and replicating."
    )
    record("Text reuse on FA-KES with planted passages", description, table, options.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
