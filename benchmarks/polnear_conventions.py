"""How PolNeAR's annotators treat two constructions that decide where a content ends.

1. **"known as"** (also "previously/formerly/also known as"): counted inside a cue span, or not.
   PolNeAR reads "the contests known as Super Tuesday" as an attribution in about half of its occurrences, so
   a tagger trained on it can take an apposition like ", previously known as X," for a new cue.
2. **A trailing relative clause** after a reported (not quoted) content: for each gold content that follows
   its cue and does not open with a quote mark, a clause opening with ", which", ", who", ", whom", ", whose"
   (or a preposition and one of them: ", of which") in the content's sentence counts as *in* when the
   content runs through it to the sentence end, *out* when the content ends right before it. The partitive
   ones (", of which one was …") are also counted apart.

Both are counts of gold annotations, no model involved. Printed, and appended to benchmarks/RESULTS.md
unless ``--no-record``:

    python benchmarks/polnear_conventions.py [--split train|dev] [--no-record]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import SHARED, record

KNOWN_AS = re.compile(r"\b(?:(?:previously|formerly|also|better|now) )?known as\b")
RELATIVE = re.compile(r",\s+(?:(?:of|in|to|for|by|with|from|among|at|on)\s+)?(which|whom|whose|who)\b")
PARTITIVE = re.compile(r",\s+(?:of|among)\s+(?:which|whom)\b")  # "five attacks, of which one …"
SENTENCE_END = re.compile(r"[.!?](?=[”\"’')\]]*(?:\s|$))")
QUOTES = "“\"‘«'"


def known_as(article) -> Counter:
    cues = [f for a in article.attributions for f in a.cue]
    counts: Counter = Counter()
    for m in KNOWN_AS.finditer(article.text):
        counts["in a cue" if any(s <= m.start() < e for s, e in cues) else "not in a cue"] += 1
    return counts


def trailing_relatives(article) -> Counter:
    text, counts = article.text, Counter()
    for a in article.attributions:
        if not a.content or not a.cue:
            continue
        start, end = a.content[-1]
        if a.cue[0][1] > start or text[start] in QUOTES:
            continue
        stop = SENTENCE_END.search(text, start)
        if stop is None:
            continue
        for m in RELATIVE.finditer(text, start, stop.start()):
            side = "in" if m.start() < end and end >= stop.start() - 1 else "out" if m.start() == end else ""
            if side:
                counts[side, m.group(1)] += 1
                if PARTITIVE.match(m.group(0)):
                    counts[side, "partitive"] += 1
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="train")
    ap.add_argument("--no-record", action="store_true")
    args = ap.parse_args()
    root = SHARED / "polnear"
    if not root.is_dir():
        sys.exit(f"no PolNeAR at {root} (set NEWSTRACE_SHARED_DATA)")
    from newstrace.attribution.polnear import read_split

    names, relatives, n = Counter(), Counter(), 0
    for article in read_split(root, args.split):
        names += known_as(article)
        relatives += trailing_relatives(article)
        n += 1
    pronouns = sorted(
        {p for _, p in relatives} - {"partitive"}, key=lambda p: -(relatives["in", p] + relatives["out", p])
    )
    table = [
        "| construction | in | out |",
        "| --- | ---: | ---: |",
        f'| "known as" (in a cue / not) | {names["in a cue"]} | {names["not in a cue"]} |',
        *(
            f'| trailing ", {p}" clause (in the content / right after it) | {relatives["in", p]} | '
            f"{relatives['out', p]} |"
            for p in pronouns
        ),
        f"| trailing relative clauses, all | {sum(v for (k, p), v in relatives.items() if k == 'in' and p != 'partitive')} | "
        f"{sum(v for (k, p), v in relatives.items() if k == 'out' and p != 'partitive')} |",
        f'| partitive (", of which", ", of whom", ", among which") | {relatives["in", "partitive"]} | '
        f"{relatives['out', 'partitive']} |",
    ]
    record(
        f'PolNeAR {args.split}: how annotators end contents at "known as" and relative clauses',
        f"Command: `python benchmarks/polnear_conventions.py --split {args.split}`. Gold annotations of {n} "
        "articles, no model. Relative clauses: contents after their cue that do not open with a quote mark; "
        "*in* when the content runs through the clause to the sentence end, *out* when it ends right before it.",
        table,
        args.no_record,
    )


if __name__ == "__main__":
    main()
