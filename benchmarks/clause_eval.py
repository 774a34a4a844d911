"""Reported clauses cut before their verb (newstrace.attribution.clause): where the rule fires, and whether it
is right there.

The shipped tagger extracts each article twice, without and with the rule. On PolNeAR (dev, and train, which
the tagger was trained on) the gold annotations score both: content and relation exact F1. On the seeds,
FA-KES and the propaganda corpus (PTC), every content the rule changes is compared with its hand-labelled end
in benchmarks/data/clause_sample.jsonl (how it was labelled: benchmarks/data/CLAUSE_SAMPLE.md). A changed content with no label is listed, so a new firing is labelled before it counts.
Corpora absent from ../shared/data are skipped. Appends the figures to benchmarks/RESULTS.md.

    python benchmarks/clause_eval.py [--corpora polnear-dev,polnear-train,seeds,fakes,ptc] [--no-record]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, SHARED, machine, record

SAMPLE = ROOT / "benchmarks" / "data" / "clause_sample.jsonl"
CORPORA = ("polnear-dev", "polnear-train", "seeds", "fakes", "ptc")
# The hand labels leave out the complementiser and the final punctuation (ATTRIBUTION_SAMPLE.md).
_EDGES = re.compile(r"^(?:that\s+)|[\s,;:.]+$", re.IGNORECASE)


def texts_of(corpus: str) -> Iterator[tuple[str, str, list]]:
    """(doc name, text, gold attributions or []) of each article of ``corpus``; nothing when it is absent."""
    if corpus.startswith("polnear-"):
        from newstrace.attribution.polnear import read_split

        root = SHARED / "polnear"
        if root.exists():
            for article in read_split(root, corpus.split("-")[1]):
                yield article.article_id, article.text, list(article.attributions)
    elif corpus == "seeds":
        for path in sorted((SHARED / "seeds").glob("*.txt")):
            yield path.name, path.read_text(encoding="utf-8"), []
    elif corpus == "fakes":
        path = SHARED / "fakes" / "FA-KES-Dataset.csv"
        if path.exists():
            with path.open(encoding="utf-8", newline="") as handle:
                for row_number, row in enumerate(csv.DictReader(handle), 1):
                    yield f"row:{row_number}", row["article_content"], []
    elif corpus == "ptc":
        root = SHARED / "ptc" / "datasets"
        for folder in ("train-articles", "dev-articles"):
            for path in sorted((root / folder).glob("*.txt")):
                yield f"{folder}/{path.name}", path.read_text(encoding="utf-8"), []


def core(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """A content's span without "that" and the final punctuation, as the hand labels give it."""
    start, end = span
    piece = text[start:end]
    lead = _EDGES.match(piece)
    if lead:
        start += lead.end()
    tail = re.search(r"[\s,;:.]+$", text[start:end])
    return (start, start + tail.start()) if tail else (start, end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpora", default=",".join(CORPORA))
    parser.add_argument("--no-record", action="store_true")
    options = parser.parse_args()

    from newstrace.attribution import syntax
    from newstrace.attribution.clause import candidates, complete_clauses
    from newstrace.attribution.scoring import Tokens, evaluate
    from newstrace.attribution.tagger import attributions, load_tagger

    labels = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        if line.strip():
            label = json.loads(line)
            labels[(label["corpus"], label["doc"], label["start"])] = label
    tagger = load_tagger()
    loading = time.perf_counter()
    syntax.default_parser()  # loaded once per process, at the first content that may be cut short
    loading = time.perf_counter() - loading
    rows, unlabelled, changes = [], [], []
    started = time.perf_counter()
    for corpus in options.corpora.split(","):
        scored: dict[str, list] = {"before": [], "after": []}
        fired = right_before = right_after = articles = words_in = maybe = 0
        spent = 0.0
        for doc, text, gold in texts_of(corpus):
            articles += 1
            words, logits = tagger.word_logits(text)
            before = attributions(
                text,
                words,
                logits,
                tagger.transitions,
                tagger.boundary,
                tagger.manifest.marginal,
                clauses=False,
            )
            clock = time.perf_counter()
            after = complete_clauses(text, before)
            spent += time.perf_counter() - clock
            words_in += len(text.split())
            maybe += len(candidates(text, before))
            if gold:
                scored["before"].append((text, before, gold))
                scored["after"].append((text, after, gold))
            for old, new in zip(before, after, strict=True):
                for old_span, new_span in zip(old.content, new.content, strict=True):
                    if old_span == new_span:
                        continue
                    fired += 1
                    print(
                        f"{corpus} {doc}: {text[new_span[0] : old_span[1]]}‖{text[old_span[1] : new_span[1]]}"
                    )
                    if gold:
                        tokens = Tokens(text)
                        wanted = {tokens.snap(*span) for g in gold for span in g.content}
                        was, now = tokens.snap(*old_span) in wanted, tokens.snap(*new_span) in wanted
                    else:
                        start = core(text, new_span)[0]
                        label = labels.get((corpus, doc, start))
                        if label is None:
                            unlabelled.append((corpus, doc, start))
                            changes.append((corpus, doc, old_span, new_span, "no label"))
                            continue
                        was = core(text, old_span) == (label["start"], label["end"])
                        now = core(text, new_span) == (label["start"], label["end"])
                    right_before += was
                    right_after += now
                    verdict = {
                        (False, True): "right now",
                        (True, False): "wrong now",
                        (True, True): "right both",
                    }
                    changes.append((corpus, doc, old_span, new_span, verdict.get((was, now), "wrong both")))
        if not articles:
            print(f"{corpus}: absent from {SHARED}, skipped")
            continue
        if scored["before"]:
            cells = []
            for state in ("before", "after"):
                evaluation = evaluate(scored[state])
                content = evaluation.spans["content"]["exact"].f1
                cells.append(f"{100 * content:.2f} / {100 * evaluation.relations.prf.f1:.2f}")
        else:
            cells = ["–", "–"]
        rows.append(
            f"| {corpus} | {articles} | {words_in:,} | {maybe:,} | {spent:.2f} s | {fired} | {right_before} | "
            f"{right_after} | {cells[0]} | {cells[1]} |"
        )
    table = [
        "| corpus | articles | words | candidates | rule's time | contents changed | of these right before | "
        "right after | content / relation exact F1 before | after |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        *rows,
        "",
        'Candidates: contents that open with "that" right after their cue and may be cut short, each parsed with '
        f"its sentence (the rule's time; loading the parser took {loading:.1f} s more, once). Right: the content "
        "matches a gold content (PolNeAR) or its hand-labelled span (the others).",
        "",
        "| corpus | doc | content before | after | verdict |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {c} | `{d}` | {a[0]}–{a[1]} | {b[0]}–{b[1]} | {v} |" for c, d, a, b, v in changes),
    ]
    if unlabelled:
        table += [
            "",
            f'**{len(unlabelled)} changed contents have no hand label** (listed above as "no label").',
        ]
    record(
        "Attribution: reported clauses cut before their verb",
        f"Command: `python benchmarks/clause_eval.py --corpora {options.corpora}`. Machine: {machine()}; "
        f"{time.perf_counter() - started:.0f} s. The shipped tagger, each article extracted without and with "
        "`newstrace.attribution.clause.complete_clauses`. PolNeAR: the whole split scored against its gold "
        "annotations (shared scorer). Other corpora: each changed content against its hand-labelled end "
        "(`benchmarks/data/clause_sample.jsonl`).",
        table,
        options.no_record,
    )


if __name__ == "__main__":
    main()
