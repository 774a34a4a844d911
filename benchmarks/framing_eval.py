"""Framing labels (``newstrace.nlp.framing.find_labels``) against the demo corpus's answer key, and the outlet x
label matrix for the demo corpus and the five seed articles.

The answer key is ``examples/ground_truth.json`` key ``labels`` (actor, outlet, label, path, text, stance). A
key item is found when a label of its actor overlaps an occurrence of its ``text`` in its document. The key
lists examples, not every label in the corpus ("the militants were working hand in hand ..." is a label of the
Free Highlands Front it leaves out), so precision comes twice:

    precision (key)      found labels that match a key item / all found labels: unlisted correct labels count
                         as errors, a lower bound
    precision (judged)   the same, over the found labels that overlap some key item's text: where the key
                         says which actor a phrase labels

Each distinct text is analysed once (a verbatim copy in another outlet shares its labels); the matrix counts
every occurrence under its outlet (the answer key's outlet for the three articles without metadata; for the
seeds, which have none, the file's number). A title that is not the start of the text is analysed with it
("Front terrorists" is only in a headline): title, blank line, text.

    python benchmarks/framing_eval.py [--labels FILE ...] [--examples] [--no-record]

Figures are printed, and appended to benchmarks/RESULTS.md with the date and commit unless ``--no-record``.
The seeds matrix is skipped when ../shared/data/seeds is absent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from benchlib import ROOT, SHARED
from newstrace.ingest.pipeline import read_documents
from newstrace.model import Annotations, Document, Label
from newstrace.nlp.aliases import AliasTable
from newstrace.nlp.annotate import NlpConfig, annotate_documents
from newstrace.nlp.framing import LabelLexicon, alias_table, find_labels, load_lexicon

EXAMPLES = ROOT / "examples"
ALIASES = EXAMPLES / "actors.yml"
PLACES = EXAMPLES / "places.yml"
SEEDS = SHARED / "seeds"


@dataclass
class Analysed:
    """One distinct text (title and body) with its labels, and every input that has it."""

    document: Document
    text: str
    labels: list[Label]
    inputs: list[Document]


def with_title(document: Document) -> Document:
    """The document with its title before the text, unless the text already starts with it."""
    title = (document.title or "").rstrip("…").strip()
    if not title or title in document.text[: len(title) + 200]:
        return document
    return replace(document, text=f"{document.title}\n\n{document.text}")


def analyse(
    paths: list[Path], config: NlpConfig, lexicon: LabelLexicon, aliases: AliasTable
) -> tuple[dict[str, Analysed], float]:
    documents = [d for d in read_documents(paths) if isinstance(d, Document)]
    distinct: dict[str, Analysed] = {}
    for document in documents:
        if document.doc_id in distinct:
            distinct[document.doc_id].inputs.append(document)
        else:
            titled = with_title(document)
            distinct[document.doc_id] = Analysed(titled, titled.text, [], [document])
    started = time.perf_counter()
    results = annotate_documents([a.document for a in distinct.values()], config)
    for analysed, result in zip(distinct.values(), results, strict=True):
        if isinstance(result, Annotations):
            analysed.labels = find_labels(
                analysed.text, result.mentions, result.sentences, lexicon, aliases=aliases
            )
    return distinct, time.perf_counter() - started


def occurrences(text: str, phrase: str) -> list[tuple[int, int]]:
    pattern = r"\s+".join(map(re.escape, phrase.split()))
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def evaluate(distinct: dict[str, Analysed], key: list[dict], by_input: dict[tuple[str, str], str]):
    """(found key items, key items, labels matching the key, all labels, judged labels, judged correct,
    the key items missed)."""
    spans: dict[str, list[tuple[str, int, int]]] = defaultdict(list)  # doc_id -> (actor, start, end)
    for item in key:
        file, _, line = item["path"].partition("#")
        doc_id = by_input[(str(EXAMPLES / file), f"line:{line}" if line else "")]
        for start, end in occurrences(distinct[doc_id].text, item["text"]):
            spans[doc_id].append((item["actor"], start, end))
        item["doc_id"] = doc_id

    def overlaps(label: Label, start: int, end: int) -> bool:
        return label.start < end and start < label.end

    found = 0
    missed = []
    for item in key:
        analysed = distinct[item["doc_id"]]
        if any(
            label.actor_id == item["actor"] and overlaps(label, start, end)
            for label in analysed.labels
            for start, end in occurrences(analysed.text, item["text"])
        ):
            found += 1
        else:
            missed.append(item)
    matching = judged = judged_correct = total = 0
    for doc_id, analysed in distinct.items():
        for label in analysed.labels:
            total += 1
            here = [(actor, s, e) for actor, s, e in spans.get(doc_id, []) if overlaps(label, s, e)]
            correct = any(actor == label.actor_id for actor, _, _ in here)
            matching += correct
            if here:
                judged += 1
                judged_correct += correct
    return found, len(key), matching, total, judged, judged_correct, missed


def matrix(distinct: dict[str, Analysed], outlet_of) -> dict[str, dict[str, Counter[str]]]:
    """actor -> label -> outlet -> count, over every input."""
    table: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for analysed in distinct.values():
        for document in analysed.inputs:
            for label in analysed.labels:
                table[label.actor_id][label.label][outlet_of(document)] += 1
    return table


def matrix_lines(table: dict[str, dict[str, Counter[str]]], actors: list[str] | None = None) -> list[str]:
    lines: list[str] = []
    for actor in actors or sorted(table, key=lambda a: -sum(sum(c.values()) for c in table[a].values())):
        if actor not in table:
            continue
        outlets = sorted({o for counts in table[actor].values() for o in counts})
        lines += [
            f"**{actor}**",
            "",
            "| label | " + " | ".join(outlets) + " |",
            "|---" * (len(outlets) + 1) + "|",
        ]
        for label, counts in sorted(table[actor].items(), key=lambda kv: (-sum(kv[1].values()), kv[0])):
            lines.append(f"| {label} | " + " | ".join(str(counts.get(o, "")) for o in outlets) + " |")
        lines.append("")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--labels", action="append", default=[], help="extra label lexicon (same format)")
    parser.add_argument("--examples", action="store_true", help="print every label with its span")
    parser.add_argument("--no-record", action="store_true", help="do not append to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    lexicon = load_lexicon(args.labels)
    truth = json.loads((EXAMPLES / "ground_truth.json").read_text(encoding="utf-8"))
    outlets = {d["path"]: d["outlet"] for d in truth["documents"]}

    config = NlpConfig.of(aliases=[ALIASES], places=[PLACES], attributions=False)
    distinct, seconds = analyse([EXAMPLES / "corpus"], config, lexicon, alias_table([ALIASES]))
    by_input = {(d.source_path, d.locator): a.document.doc_id for a in distinct.values() for d in a.inputs}

    def demo_outlet(document: Document) -> str:
        path = str(Path(document.source_path).relative_to(EXAMPLES))
        path += "#" + document.locator.removeprefix("line:") if document.locator else ""
        return document.outlet or outlets.get(path) or "?"

    found, n_key, matching, total, judged, judged_correct, missed = evaluate(
        distinct, truth["labels"], by_input
    )
    recall = found / n_key if n_key else 0.0
    precision = matching / total if total else 0.0
    precision_judged = judged_correct / judged if judged else 0.0
    rules = Counter(label.rule for a in distinct.values() for label in a.labels)

    if args.examples:
        for analysed in distinct.values():
            where = Path(analysed.document.source_path).name + (
                f"#{analysed.document.locator}" if analysed.document.locator else ""
            )
            for label in analysed.labels:
                print(
                    f"{where} {label.start}-{label.end} {label.actor_id:<8} {label.rule:<15} "
                    f"{label.label!r:<38} {label.text!r}"
                )
    for item in missed:
        print(f"missed: {item['actor']} {item['path']} {item['text']!r}")

    table = [
        "| corpus | key items | found | recall | labels | precision (key) | judged | precision (judged) | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| demo ({len(distinct)} texts) | {n_key} | {found} | {recall:.2f} | {total} | {precision:.2f} "
        f"| {judged} | {precision_judged:.2f} | {seconds:.1f} |",
        "",
        "Labels by rule: " + ", ".join(f"{rule} {n}" for rule, n in rules.most_common()),
        "",
        "Demo corpus, label x outlet (occurrences):",
        "",
        *matrix_lines(matrix(distinct, demo_outlet), ["fhf", "hcr"]),
    ]
    if SEEDS.exists():
        seeds, _ = analyse([SEEDS], NlpConfig.of(attributions=False), lexicon, alias_table())
        seed_table = matrix(seeds, lambda d: d.outlet or Path(d.source_path).name.split("_")[0])
        table += ["Seeds, label x article:", "", *matrix_lines(seed_table)]
        if args.examples:
            for analysed in seeds.values():
                for label in analysed.labels:
                    print(
                        f"{Path(analysed.document.source_path).name[:3]} {label.start}-{label.end} "
                        f"{label.actor_id:<14} {label.rule:<15} {label.label!r:<38} {label.text!r}"
                    )
    benchlib.record(
        "Framing labels",
        "`python benchmarks/framing_eval.py`: labels found by `newstrace.nlp.framing` against "
        "`examples/ground_truth.json` `labels` (a key item is found when a label of its actor overlaps its "
        "text); precision (key) counts every label the key does not list as wrong, precision (judged) only "
        "looks at labels overlapping a key item's text.",
        table,
        no_record=args.no_record,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
