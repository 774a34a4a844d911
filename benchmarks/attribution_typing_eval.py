"""Source type, modality and hedging against the hand-labelled sample (benchmarks/data/attribution_sample.jsonl).

The sample gives each attribution's spans, so this measures the typing rules alone (newstrace.attribution.
classify), with entity mentions from newstrace's language pipeline. Records from corpora that are absent
(../shared/data) are skipped. Prints accuracy per field and corpus plus confusion tables, and appends them
to benchmarks/RESULTS.md.

    python benchmarks/attribution_typing_eval.py [--no-record]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED, append_results, commit

SAMPLE = ROOT / "benchmarks" / "data" / "attribution_sample.jsonl"
FIELDS = ("source_type", "modality", "hedged")


def document_text(corpus: str, doc: str, fakes: dict[int, str]) -> str | None:
    if corpus == "seeds":
        path = SHARED / "seeds" / doc
        return path.read_text(encoding="utf-8") if path.exists() else None
    if corpus == "fakes":
        return fakes.get(int(doc.split(":")[1]))
    file, _, line = doc.partition("#")
    path = ROOT / "examples" / file
    if line:
        return json.loads(path.read_text(encoding="utf-8").splitlines()[int(line) - 1])["text"]
    return path.read_text(encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-record", action="store_true")
    options = parser.parse_args()

    from newstrace.attribution.classify import classify
    from newstrace.model import Attribution, Document, OffsetMap
    from newstrace.nlp.annotate import NlpConfig, annotations_of, pipeline_for
    from newstrace.nlp.pipeline import alias_table

    records = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    fakes: dict[int, str] = {}
    # The outlets a corpus holds are known to newstrace (documents.outlet): a source naming one is media.
    truth = json.loads((ROOT / "examples" / "ground_truth.json").read_text(encoding="utf-8"))
    outlets = {o["name"].lower() for o in truth["outlets"]}
    fakes_csv = SHARED / "fakes" / "FA-KES-Dataset.csv"
    if fakes_csv.exists():
        with fakes_csv.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        fakes = {i: row["article_content"] for i, row in enumerate(rows, 1)}
        outlets |= {row["source"].lower() for row in rows}
    demo_actors = ROOT / "examples" / "actors.yml"
    config = NlpConfig.of(aliases=[demo_actors], places=[ROOT / "examples" / "places.yml"])
    nlp = pipeline_for(config)
    actors = alias_table(config.aliases)

    right: dict[tuple[str, str], Counter[bool]] = defaultdict(Counter)
    confusion: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    mentions_cache: dict[tuple[str, str], list] = {}
    skipped = Counter()
    for record in records:
        text = document_text(record["corpus"], record["doc"], fakes)
        if text is None:
            skipped[record["corpus"]] += 1
            continue
        key = (record["corpus"], record["doc"])
        if key not in mentions_cache:
            document = Document("sample", "sample", "", "txt", text, text, OffsetMap.identity(len(text)))
            mentions_cache[key] = annotations_of(nlp(text), document, actors).mentions
        spans = {role: tuple(tuple(f) for f in record[role]) for role in ("source", "cue", "content")}
        typed = classify(text, Attribution(**spans), mentions_cache[key], actors, frozenset(outlets))
        for field in FIELDS:
            predicted, gold = getattr(typed, field), record[field]
            for corpus in (record["corpus"], "all"):
                right[(field, corpus)][predicted == gold] += 1
            confusion[field][(str(gold), str(predicted))] += 1

    corpora = [c for c in ("seeds", "demo", "fakes", "all") if right[("modality", c)]]
    lines = ["| field | " + " | ".join(corpora) + " |", "| --- |" + " ---: |" * len(corpora)]
    for field in FIELDS:
        cells = []
        for corpus in corpora:
            counts = right[(field, corpus)]
            total = counts[True] + counts[False]
            cells.append(f"{counts[True] / total:.3f} ({counts[True]}/{total})")
        lines.append(f"| {field} | " + " | ".join(cells) + " |")
    for field in ("source_type", "modality"):
        labels = sorted({g for g, _ in confusion[field]} | {p for _, p in confusion[field]})
        lines += [
            "",
            f"{field}: gold (rows) by predicted (columns)",
            "",
            "| gold | " + " | ".join(labels) + " |",
            "| --- |" + " ---: |" * len(labels),
        ]
        for gold in labels:
            lines.append(f"| {gold} | " + " | ".join(str(confusion[field][(gold, p)]) for p in labels) + " |")
    table = "\n".join(lines)
    print(table)
    if skipped:
        print(f"skipped (corpus absent): {dict(skipped)}")
    section = "\n".join(
        [
            f"## Attribution typing on the hand-labelled sample: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
            "",
            f"Command: `python benchmarks/attribution_typing_eval.py`. {sum(right[('modality', 'all')].values())} "
            "attributions labelled by hand (benchmarks/data/ATTRIBUTION_SAMPLE.md says how) from the seeds, the "
            "demo corpus and FA-KES; spans given, so this measures the typing rules alone. The rules' last "
            "revision looked at the demo records' errors; the FA-KES column is the one no rule was fitted to. "
            "Accuracy:",
            "",
            table,
            "",
        ]
    )
    if not options.no_record:
        append_results(section)


if __name__ == "__main__":
    main()
