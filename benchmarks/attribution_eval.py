"""Attribution extraction (source, cue, content) against PolNeAR: span and relation scores, and speed.

Each article of ``../shared/data/polnear/<split>`` is read with ``newstrace.attribution.polnear.read_split``
(one annotator per article: the first in ``metadata.tsv`` order that has a file; the agreement articles'
other annotations are not used). The system under test gets the list of article texts and returns, per text,
a list of attributions: objects with ``.source``, ``.cue`` and ``.content`` tuples of ``(start, end)``
character fragments, like ``GoldAttribution``. Scores come from ``newstrace.attribution.scoring`` (see its
docstring): spans snapped to ``\\w+|[^\\w\\s]`` tokens, each fragment a span of its own, per role and
micro-summed over articles:

    exact    same first and last token            begin    same first token (one-to-one)
    overlap  mean per-span token overlap           tokens   pooled token overlap (Citron's code)
    relation cue, source and content all exact (one-to-one)

Systems: ``gold`` (the gold attributions themselves; a sanity check that must score 100 everywhere),
``quotes`` (the rule baseline below) or ``MODULE:FUNCTION``, any importable function taking a list of texts.
Speed is the wall time of that one call, in words (``\\w+`` runs of the texts) per second. Figures are
printed, and appended to benchmarks/RESULTS.md with the date, commit and command unless ``--no-record``.

    python benchmarks/attribution_eval.py [--split dev|train] [--system gold|quotes|MODULE:FUNCTION]
                                          [--limit N] [--no-record]

The ``quotes`` baseline is the kind of rule system the CoreNLP quote annotator is (which reaches F1 13.9
source / 17.5 content on the PolNeAR test split): every direct quotation in “ ” or " " within one paragraph
is a content; its cue is the say-verb (:data:`SAY`) nearest to it in the same sentence, outside quotes;
its source the capitalised name or subject pronoun nearest to the cue in that sentence, outside quotes
(after the cue for "according to"). Quotations with no say-verb in their sentence, and quotations of fewer
than :data:`MIN_QUOTE_WORDS` words (scare quotes), are skipped; quotations that share a cue ("“A,” she
said, “B.”") make one attribution with a discontinuous content.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from benchlib import SHARED, commit
from newstrace.attribution.polnear import GoldAttribution, PolnearArticle, read_split
from newstrace.attribution.scoring import PRF, ROLES, SPAN_METRICS, WORD, Evaluation, evaluate

POLNEAR = SHARED / "polnear"
System = Callable[[list[str]], Sequence[Sequence[GoldAttribution]]]

# -- the quote baseline ----------------------------------------------------------------------------------

MIN_QUOTE_WORDS = 3
QUOTE = re.compile(r"“[^“”\n]+”|\"[^\"\n]+\"")
SAY = re.compile(
    r"\b(?:according\s+to|said|says|say|saying|told|tells|tell|telling|added|adds|adding|stated|states|"
    r"claimed|claims|asked|asks|wrote|writes|explained|explains|noted|notes|argued|argues|insisted|"
    r"declared|continued|tweeted|recalled|warned|warns|replied|responded|announced|acknowledged|"
    r"suggested|reported|reports)\b",
    re.IGNORECASE,
)
# A sentence ends at . ! ? (and any closing quotes or brackets) before white space, unless the word
# before the full stop is a known abbreviation or a single capital letter ("Donald J. Trump", "U.S.").
SENTENCE_END = re.compile(r"[.!?][\"”’)\]]*\s+")
ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|St|Jr|Sr|Rev|Prof|Inc|Co|Corp|Ltd|No|vs|Jan|Feb|Mar|"
    r"Apr|Aug|Sept|Sep|Oct|Nov|Dec|Ala|Ariz|Calif|Colo|Conn|Fla|Ga|Ill|Ind|Kan|Ky|La|Md|Mass|Mich|Minn|"
    r"Miss|Mo|Neb|Nev|Okla|Ore|Pa|Tenn|Tex|Va|Vt|Wash|Wis)|\b[A-Z]|\.[A-Z])$"
)
PRONOUN = r"\b(?:[Hh]e|[Ss]he|[Tt]hey|I|[Ww]e)\b"
NAME = r"(?:(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov)\.\s+)?[A-Z][\w.’'-]*(?:\s+(?:of\s+)?[A-Z][\w.’'-]*)*"
SOURCE = re.compile(f"{PRONOUN}|{NAME}")
# Capitalised words that start sentences rather than name anyone: dropped from the front of a candidate.
NOT_A_NAME = frozenset(
    [
        "A",
        "An",
        "And",
        "As",
        "At",
        "But",
        "By",
        "For",
        "From",
        "If",
        "In",
        "It",
        "Its",
        "Later",
        "Meanwhile",
        "On",
        "Or",
        "So",
        "That",
        "The",
        "Then",
        "There",
        "These",
        "They",
        "This",
        "Those",
        "Though",
        "Thursday",
        "Tuesday",
        "Wednesday",
        "Monday",
        "Friday",
        "Saturday",
        "Sunday",
        "When",
        "While",
        "With",
        "Yet",
    ]
)


def _sentence_bounds(paragraph: str, quotes: list[tuple[int, int]]) -> list[int]:
    """Offsets (in the paragraph) where a sentence starts, outside quotations."""
    starts = [0]
    for match in SENTENCE_END.finditer(paragraph):
        if any(qs < match.start() < qe - 1 for qs, qe in quotes):
            continue  # a full stop inside a quotation: the sentence goes on
        if ABBREVIATION.search(paragraph[: match.start()]):
            continue
        starts.append(match.end())
    return starts


def _source_near(
    paragraph: str, lo: int, hi: int, cue: tuple[int, int], blocked: list[tuple[int, int]], after: bool
) -> tuple[int, int] | None:
    """The name or pronoun in ``paragraph[lo:hi]`` nearest to the cue, outside ``blocked`` ranges."""
    best: tuple[int, int] | None = None
    best_distance = len(paragraph) + 1
    for match in SOURCE.finditer(paragraph, lo, hi):
        start, end = match.span()
        words = match.group().split()
        while words and words[0] in NOT_A_NAME and (words[0] != "The" or len(words) == 1):
            # "But Trump" -> "Trump"; "The" alone -> nothing; "The New York Post" stays whole
            start = paragraph.index(words[1], start + len(words[0])) if len(words) > 1 else end
            words = words[1:]
        if not words:
            continue
        end -= len(match.group()) - len(match.group().rstrip(".,"))
        for suffix in ("’s", "'s"):
            if paragraph[start:end].endswith(suffix):
                end -= len(suffix)
        if start >= end or any(bs < end and start < be for bs, be in [*blocked, cue]):
            continue
        if after and start < cue[1]:
            continue
        distance = start - cue[1] if start >= cue[1] else cue[0] - end
        if distance < best_distance or (distance == best_distance and start < cue[0]):
            best, best_distance = (start, end), distance
    return best


def quote_attributions(text: str) -> list[GoldAttribution]:
    """The direct-quotation baseline on one text (see the module docstring)."""
    attributions: list[GoldAttribution] = []
    offset = 0
    for paragraph in text.split("\n"):
        quotes = [m.span() for m in QUOTE.finditer(paragraph)]
        starts = _sentence_bounds(paragraph, quotes)
        by_cue: dict[tuple[int, int], list[tuple[int, int]]] = {}
        sources: dict[tuple[int, int], tuple[int, int] | None] = {}
        for qs, qe in quotes:
            if len(WORD.findall(paragraph[qs:qe])) < MIN_QUOTE_WORDS:
                continue
            lo = max(s for s in starts if s <= qs)
            later = [s for s in starts if s >= qe]
            hi = min(later) if later else len(paragraph)
            cues = [
                m.span()
                for m in SAY.finditer(paragraph, lo, hi)
                if not any(s <= m.start() < e for s, e in quotes)
            ]
            if not cues:
                continue
            cue = min(cues, key=lambda c: c[0] - qe if c[0] >= qe else qs - c[1])
            by_cue.setdefault(cue, []).append((qs, qe))
            if cue not in sources:
                after = paragraph[cue[0] : cue[1]].lower().startswith("according")
                sources[cue] = _source_near(paragraph, lo, hi, cue, quotes, after)
        for cue, contents in by_cue.items():
            source = sources[cue]
            attributions.append(
                GoldAttribution(
                    source=((offset + source[0], offset + source[1]),) if source else (),
                    cue=((offset + cue[0], offset + cue[1]),),
                    content=tuple((offset + s, offset + e) for s, e in contents),
                )
            )
        offset += len(paragraph) + 1
    return attributions


def quotes_system(texts: list[str]) -> list[list[GoldAttribution]]:
    return [quote_attributions(text) for text in texts]


# -- running ---------------------------------------------------------------------------------------------


def resolve_system(name: str, articles: list[PolnearArticle]) -> tuple[System, str]:
    """The function behind a ``--system`` name, and a description of it."""
    if name == "gold":
        by_text = {a.text: a.attributions for a in articles}
        return (lambda texts: [by_text[t] for t in texts]), "the gold attributions (sanity check)"
    if name == "quotes":
        return quotes_system, "direct quotations, nearest say-verb and name/pronoun (rule baseline)"
    module_name, sep, function_name = name.partition(":")
    if not sep or not module_name or not function_name:
        raise SystemExit(f"--system must be gold, quotes or MODULE:FUNCTION, not {name!r}")
    function = getattr(importlib.import_module(module_name), function_name)
    return function, f"`{name}`"


def check_output(output: Sequence[Sequence[object]], texts: list[str]) -> None:
    if len(output) != len(texts):
        raise SystemExit(f"the system returned {len(output)} results for {len(texts)} texts")
    for number, (attributions, text) in enumerate(zip(output, texts, strict=True)):
        for attribution in attributions:
            for role in ROLES:
                for start, end in getattr(attribution, role):
                    if not 0 <= start <= end <= len(text):
                        raise SystemExit(
                            f"text {number}: {role} fragment ({start}, {end}) outside the text ({len(text)})"
                        )


def pct(value: float) -> str:
    return f"{100 * value:.1f}"


def span_table(result: Evaluation) -> list[str]:
    head = "| role | gold spans | predicted | " + " | ".join(
        f"{metric} P | R | F1" for metric in SPAN_METRICS
    )
    lines = [head + " |", "| --- | ---: | ---: |" + " ---: |" * (3 * len(SPAN_METRICS))]
    for role in ROLES:
        scores = result.spans[role]
        exact = scores["exact"]
        cells = [
            f"{pct(s.precision)} | {pct(s.recall)} | **{pct(s.f1)}**"
            if metric == "exact"
            else f"{pct(s.precision)} | {pct(s.recall)} | {pct(s.f1)}"
            for metric, s in scores.items()
        ]
        lines.append(f"| {role} | {exact.gold:,} | {exact.predicted:,} | " + " | ".join(cells) + " |")
    return lines


def relation_table(result: Evaluation) -> list[str]:
    r: PRF = result.relations.prf
    return [
        "| attributions | gold | predicted | correct | P | R | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| cue, source and content exact | {r.gold:,} | {r.predicted:,} | {int(r.hit_gold):,} | "
        f"{pct(r.precision)} | {pct(r.recall)} | **{pct(r.f1)}** |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["dev", "train"], default="dev")
    parser.add_argument("--system", default="quotes", help="gold, quotes or MODULE:FUNCTION")
    parser.add_argument("--limit", type=int, help="only the first N articles (in name order)")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    options = parser.parse_args(argv)

    load = os.getloadavg()[0]
    if not POLNEAR.is_dir():
        print(f"PolNeAR not found at {POLNEAR} (set NEWSTRACE_SHARED_DATA)", file=sys.stderr)
        return 2
    articles = list(read_split(POLNEAR, options.split))
    if options.limit is not None:
        articles = articles[: options.limit]
    texts = [a.text for a in articles]
    system, description = resolve_system(options.system, articles)

    started = time.perf_counter()
    output = system(texts)
    seconds = time.perf_counter() - started
    check_output(output, texts)
    result = evaluate(
        (a.text, list(predicted), a.attributions) for a, predicted in zip(articles, output, strict=True)
    )
    speed = (
        f"{result.words / seconds:,.0f} words/s"
        if seconds >= 0.01
        else "not measurable (under 10 ms)"  # the gold system only looks its answers up
    )

    scope = (
        f"first {len(articles):,} articles" if options.limit is not None else f"{len(articles):,} articles"
    )
    command = "python benchmarks/attribution_eval.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    spans = result.spans
    print(
        f"{options.system}: exact F1 "
        + ", ".join(f"{role} {pct(spans[role]['exact'].f1)}" for role in ROLES)
        + f"; relation F1 {pct(result.relations.prf.f1)}; speed {speed}",
        file=sys.stderr,
    )
    section = "\n".join(
        [
            f"## Attribution on PolNeAR {options.split}, system `{options.system}`: "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit()}",
            "",
            f"Command: `{command.strip()}`. System: {description}. Machine: {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, 1-min load "
            f"average {load:.1f} before the run. Data: `polnear/{options.split}`, {scope} (one annotator "
            f"per article, the first listed in metadata.tsv), {result.gold_attributions:,} gold "
            f"attributions, {result.words:,} words; {result.predicted_attributions:,} predicted "
            f"attributions. Speed: {seconds:.2f} s for the system call, **{speed}**.",
            "",
            "Spans snapped to `\\w+|[^\\w\\s]` tokens, each fragment of a discontinuous span scored on its "
            "own, spans of a role counted once per article; scores in %, micro-summed over articles. "
            "exact: same first and last token; begin: same first token; overlap: mean per-span token "
            "overlap; tokens: pooled token overlap (Citron's code). Gold: "
            f"{result.gold_fragments:,} fragments, {result.merged_fragments} merged into the previous one "
            f"(no token between), {result.duplicate_gold_spans} repeated spans counted once (predicted: "
            f"{result.duplicate_predicted_spans}), {result.gold_boundaries_inside_tokens} boundaries inside "
            f"a token widened, attributions with no span dropped: {result.relations.empty_gold}. Anchors (PolNeAR "
            "*test*, exact F1): CofeNet source 83.2, cue 75.3, content 72.9; CoreNLP quote annotator source "
            "13.9, content 17.5.",
            "",
            *span_table(result),
            "",
            *relation_table(result),
            "",
        ]
    )
    print("\n" + section)
    if not options.no_record:
        benchlib.append_results(section)
        print(f"appended to {benchlib.RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
