"""A text-reuse test set built from real news text: FA-KES articles with passages copied between them.

Base articles. FA-KES (``../shared/data/fakes/FA-KES-Dataset.csv``, 804 articles about the Syrian war) is
read in file order. Empty and exact-duplicate texts are dropped, then every article that shares a
normalised 8-word run (lower-cased ``\\w+`` words, punctuation ignored) with an article already kept is
dropped too (greedy, in file order). FA-KES holds wire stories several outlets carried, and stock wire phrases
("There was no immediate claim of responsibility for the bombing"), so without this step the set would contain
natural reuse that no gold event describes, and a system that finds it would be charged with false positives:
the precision figure would measure the corpus, not the system. The run length (``--run-words``, default 8) is
newstrace's shortest passage; shorter shared runs (dates, names) remain.

FA-KES texts are single lines (no paragraph breaks; commas and apostrophes were stripped upstream). Each kept
article is split into sentences (regex) and the sentences are grouped into paragraphs of 1-4 sentences
joined by a blank line, so that passages can be inserted at paragraph boundaries.

Reuse events. Each event takes a source article and a passage of 1-4 consecutive sentences within one of its
paragraphs (at least :data:`MIN_PASSAGE_WORDS` words), edits a copy of it, and inserts the copy into a
different host article as a paragraph of its own, at a paragraph boundary (so a paragraph-level method has a
fair chance). A passage holds no 8-word run that occurs twice in its article (scraped FA-KES articles often
repeat a sentence), so that each copy has exactly one place in its source to come from. A host may receive several passages; a sentence of a source is copied at most once, and
passages are taken from the original paragraphs only (never from inserted ones), so two hosts never share a
passage with each other and no chain of copies arises: every pair of documents that shares a passage is a
gold event. Gold records, per event, the source index and ``source_start``/``source_end`` (character offsets
into the final source text), the host index and ``host_start``/``host_end`` (offsets of the edited passage in
the final host text, the lead sentence excluded), the original and edited passage, and the edits applied.

Edits, each with its own probability (:data:`EDIT_PROBABILITY`) and recorded only when it changed the text:

    translit   spelling variants of names (Qaeda/Qaida, Idlib/Idleb, Daraa/Deraa, al-/el-/ash- ...)
    drop       1-2 words left out                  insert   1-2 words added ("reportedly", "on Tuesday")
    comma      a comma dropped, or added before a conjunction (FA-KES itself has no commas)
    dash       spaced hyphen <-> em dash           period   the final period dropped or added
    quotes     " " <-> “ ” <-> « », ' <-> ’        rewrap   newlines every 60-80 characters
    lead       a short new sentence (at most 4 words) before the passage, in the same paragraph

Word edits are refused when they would leave fewer than 80% of the passage's words unchanged (difflib
alignment of lower-cased words); each event records the fraction kept.

Scaling. :func:`replicate` makes disjoint copies of a set; see there why the copies are enciphered.

    python benchmarks/reuse_generator.py [--seed 1] [--events N] [--limit N] [--out /tmp/reuse-set.json]

Everything is deterministic given the seed (and the limit).
"""

from __future__ import annotations

import argparse
import csv
import difflib
import json
import random
import re
import string
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import SHARED

FAKES = SHARED / "fakes" / "FA-KES-Dataset.csv"
DEFAULT_OUT = Path("/tmp/newstrace-reuse-set.json")

RUN_WORDS = 8  # articles sharing a normalised run this long count as naturally reusing each other
MIN_PASSAGE_WORDS = 12
REPEAT_WORDS = 8  # a passage holds no run this long that occurs twice in its article
MAX_PASSAGE_SENTENCES = 4
MIN_WORDS_KEPT = 0.8
PARAGRAPH_BREAK = "\n\n"

EDIT_PROBABILITY = {
    "translit": 0.5,
    "drop": 0.3,
    "insert": 0.3,
    "comma": 0.3,
    "dash": 0.3,
    "period": 0.2,
    "quotes": 0.5,
    "rewrap": 0.3,
    "lead": 0.4,
}

WORD = re.compile(r"\w+")
SENTENCE_BREAK = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”’]))\s+(?=[\"“(]?[A-Z0-9])")
# interior words (spaces on both sides), starting with a letter: candidates for dropping
INNER_WORD = re.compile(r"(?<= )[A-Za-z][\w'’-]*(?= )")

# Spelling variants of the same name, both ways. Whole words, case-sensitive.
VARIANTS = [
    ("Hayat Tahrir", "Hay'at Tahrir"),
    ("Qaeda", "Qaida"),
    ("Shughur", "Shughour"),
    ("Daraa", "Deraa"),
    ("Idlib", "Idleb"),
    ("Raqqa", "Raqa"),
    ("Hezbollah", "Hizbollah"),
    ("Nusra", "Nusrah"),
    ("Ghouta", "Ghuta"),
    ("Latakia", "Lattakia"),
    ("Hasakah", "Hasaka"),
    ("Kobani", "Kobane"),
    ("Douma", "Duma"),
    ("Manbij", "Menbij"),
    ("Assad", "Asad"),
    ("Mohammed", "Muhammad"),
    ("Sheikh", "Shaykh"),
    ("Deir ez-Zor", "Deir Ezzor"),
    ("Qamishli", "Qamishly"),
    ("Hama", "Hamah"),
]
SUN_LETTER_ARTICLE = re.compile(r"\b([Aa])l-(Sh|Th|Dh|[TDRZSN])")  # al-Sham -> ash-Sham
ASSIMILATED_ARTICLE = re.compile(r"\b([Aa])(sh|th|dh|[tdrzsn])-(?=[A-Z])")  # ash-Sham -> al-Sham
AL_ARTICLE = re.compile(r"\b([Aa])l-(?=[A-Z])")  # al-Assad -> el-Assad
EL_ARTICLE = re.compile(r"\b([Ee])l-(?=[A-Z])")

INSERTED_WORDS = [
    "reportedly",
    "also",
    "however",
    "again",
    "now",
    "still",
    "officially",
    "later",
    "on Tuesday",
    "on Monday",
    "this week",
    "once again",
]
CONJUNCTIONS = re.compile(r" (?=(?:and|but|which|who|while|after|as) )")

LEAD_OPENERS = ["Meanwhile,", "Earlier,", "Separately,", "Later,", "Also,"]
LEAD_WHO = [
    "SANA",
    "Reuters",
    "AFP",
    "TASS",
    "Sputnik",
    "Anadolu",
    "activists",
    "officials",
    "witnesses",
    "Al Jazeera",
    "state media",
    "local media",
    "opposition sources",
    "the monitor",
]
LEAD_VERBS = ["reported", "said", "wrote", "added", "noted", "claimed", "confirmed"]
LEAD_WHEN = ["", "", "", "overnight", "earlier", "today", "on Sunday", "on Friday", "on Wednesday"]


@dataclass
class ReuseSet:
    """Texts with gold reuse events. ``gold`` holds one dict per event (see the module docstring)."""

    texts: list[str]
    outlets: list[str]
    dates: list[str]
    gold: list[dict]
    meta: dict = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> ReuseSet:
        return cls(**json.loads(data))


# -- base articles ---------------------------------------------------------------------------------------


def read_fakes(path: Path = FAKES, limit: int | None = None) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return rows[:limit] if limit is not None else rows


def word_runs(text: str, n: int = RUN_WORDS) -> set[tuple[str, ...]]:
    """The normalised ``n``-word runs of a text: lower-cased ``\\w+`` words, punctuation ignored."""
    words = WORD.findall(text.lower())
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def select_unrelated(texts: Sequence[str], n: int = RUN_WORDS) -> tuple[list[int], dict[str, int]]:
    """Indices of the texts kept (greedy in order) so that no two kept texts share an ``n``-word run, and
    counts of what was dropped."""
    kept: list[int] = []
    seen_texts: set[str] = set()
    seen_runs: set[tuple[str, ...]] = set()
    counts = {"empty": 0, "duplicate": 0, "shared_run": 0}
    for index, text in enumerate(texts):
        stripped = text.strip()
        if not stripped:
            counts["empty"] += 1
            continue
        if stripped in seen_texts:
            counts["duplicate"] += 1
            continue
        seen_texts.add(stripped)
        runs = word_runs(stripped, n)
        if runs & seen_runs:
            counts["shared_run"] += 1
            continue
        seen_runs |= runs
        kept.append(index)
    return kept, counts


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_BREAK.split(text.strip()) if s.strip()]


def paragraphs_of(text: str, rng: random.Random) -> list[list[str]]:
    """The text's sentences grouped into paragraphs of 1-4 sentences."""
    parts = sentences(" ".join(text.split()))
    grouped, i = [], 0
    while i < len(parts):
        size = rng.choices([1, 2, 3, 4], weights=[2, 4, 3, 1])[0]
        grouped.append(parts[i : i + size])
        i += size
    return grouped


# -- edits -----------------------------------------------------------------------------------------------


def words_kept(original: str, edited: str) -> float:
    """Fraction of the original's lower-cased words that the edited text keeps, in order."""
    a, b = WORD.findall(original.lower()), WORD.findall(edited.lower())
    if not a:
        return 1.0
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) / len(a)


def transliterate(text: str, rng: random.Random) -> tuple[str, list[str]]:
    """Switch 1-2 of the name spellings present to their variant (every occurrence)."""
    options = []
    for left, right in VARIANTS:
        for old, new in ((left, right), (right, left)):
            pattern = re.compile(rf"\b{re.escape(old)}\b")
            if pattern.search(text):
                options.append((pattern, new, f"{old}>{new}"))
    for name, pattern, replace in (
        ("al>ash", SUN_LETTER_ARTICLE, lambda m: f"{m.group(1)}{m.group(2).lower()}-{m.group(2)}"),
        ("ash>al", ASSIMILATED_ARTICLE, lambda m: f"{m.group(1)}l-"),
        ("al>el", AL_ARTICLE, lambda m: ("E" if m.group(1) == "A" else "e") + "l-"),
        ("el>al", EL_ARTICLE, lambda m: ("A" if m.group(1) == "E" else "a") + "l-"),
    ):
        if pattern.search(text):
            options.append((pattern, replace, name))
    if not options:
        return text, []
    done = []
    for pattern, new, name in rng.sample(options, k=min(len(options), rng.choice([1, 1, 2]))):
        text = pattern.sub(new, text)
        done.append(f"translit:{name}")
    return text, done


def drop_words(text: str, rng: random.Random) -> tuple[str, list[str]]:
    done = []
    for _ in range(rng.choice([1, 1, 2])):
        candidates = list(INNER_WORD.finditer(text))
        if not candidates:
            break
        word = rng.choice(candidates)
        text = text[: word.start() - 1] + text[word.end() :]  # the word and the space before it
        done.append(f"drop:{word.group()}")
    return text, done


def insert_words(text: str, rng: random.Random) -> tuple[str, list[str]]:
    done = []
    for _ in range(rng.choice([1, 1, 2])):
        spaces = [m.start() for m in re.finditer(r"(?<=[A-Za-z]) (?=[a-z])", text)]
        if not spaces:
            break
        at = rng.choice(spaces)
        words = rng.choice(INSERTED_WORDS)
        text = f"{text[:at]} {words}{text[at:]}"
        done.append(f"insert:{words}")
    return text, done


def change_comma(text: str, rng: random.Random) -> tuple[str, list[str]]:
    commas = [m.start() for m in re.finditer(r",(?= )", text)]
    if commas:
        at = rng.choice(commas)
        return text[:at] + text[at + 1 :], ["comma:drop"]
    places = [m.start() for m in CONJUNCTIONS.finditer(text)]
    if places:
        at = rng.choice(places)
        return text[:at] + "," + text[at:], ["comma:add"]
    return text, []


def change_dash(text: str, rng: random.Random) -> tuple[str, list[str]]:
    if "—" in text:
        return re.sub(r"\s*—\s*", " - ", text), ["dash:em>hyphen"]
    if " - " in text or "--" in text:
        return re.sub(r" - |--", " — ", text), ["dash:hyphen>em"]
    return text, []


def change_period(text: str, rng: random.Random) -> tuple[str, list[str]]:
    stripped = text.rstrip()
    if stripped.endswith("."):
        return stripped[:-1], ["period:drop"]
    if stripped and stripped[-1].isalnum():
        return stripped + ".", ["period:add"]
    return text, []


def change_quotes(text: str, rng: random.Random) -> tuple[str, list[str]]:
    done = []
    if '"' in text:
        opening, closing = rng.choice([("“", "”"), ("«", "»"), ("« ", " »")])
        parts = text.split('"')
        text = parts[0] + "".join(
            (opening if i % 2 else closing) + part for i, part in enumerate(parts[1:], start=1)
        )
        done.append(f"quotes:straight>{opening.strip()}")
    elif re.search("[“”«»]", text):
        text = re.sub(r"«\s*|“|\s*»|”", '"', text)
        done.append("quotes:curly>straight")
    if "'" in text:
        text = text.replace("'", "’")
        done.append("quotes:apostrophe>curly")
    elif "’" in text:
        text = text.replace("’", "'")
        done.append("quotes:apostrophe>straight")
    return text, done


def rewrap(text: str, rng: random.Random) -> tuple[str, list[str]]:
    width = rng.randint(60, 80)
    out, line = [], 0
    for word in text.split(" "):
        if out and line + 1 + len(word) > width:
            out.append("\n")
            line = 0
        elif out:
            out.append(" ")
            line += 1
        out.append(word)
        line += len(word)
    wrapped = "".join(out)
    return wrapped, (["rewrap"] if wrapped != text else [])


def lead_sentence(rng: random.Random) -> str:
    """A short new sentence (at most 4 words, so that leads never make a 5-word run shared by hosts)."""
    opener, who = rng.choice(LEAD_OPENERS).split(), rng.choice(LEAD_WHO).split()
    verb, when = [rng.choice(LEAD_VERBS)], rng.choice(LEAD_WHEN).split()
    words = opener + who + verb + when
    if len(words) > 4:
        words = who + verb + when
    if len(words) > 4:
        words = who + verb
    sentence = " ".join(words) + "."
    return sentence[0].upper() + sentence[1:]


WORD_EDITS = [("translit", transliterate), ("drop", drop_words), ("insert", insert_words)]
MARK_EDITS = [
    ("comma", change_comma),
    ("dash", change_dash),
    ("period", change_period),
    ("quotes", change_quotes),
]


def edit_passage(passage: str, rng: random.Random) -> tuple[str, list[str], float]:
    """The edited passage, the edits applied and the fraction of words kept."""
    text, done = passage, []
    for name, edit in WORD_EDITS:
        if rng.random() < EDIT_PROBABILITY[name]:
            edited, applied = edit(text, rng)
            if applied and words_kept(passage, edited) >= MIN_WORDS_KEPT:
                text, done = edited, done + applied
    for name, edit in [*MARK_EDITS, ("rewrap", rewrap)]:
        if rng.random() < EDIT_PROBABILITY[name]:
            text, applied = edit(text, rng)
            done += applied
    return text, done, words_kept(passage, text)


# -- events ----------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    source: int
    paragraph: int
    first: int  # first sentence of the passage within the paragraph
    last: int  # exclusive
    host: int
    boundary: int  # insert before the host's original paragraph of this index (len = at the end)
    passage: str
    edited: str
    lead: str
    edits: list[str]
    kept: float


def repeated_runs(paragraphs: list[list[str]], n: int = REPEAT_WORDS) -> set[tuple[str, ...]]:
    """The normalised ``n``-word runs that occur more than once in an article."""
    words = WORD.findall(" ".join(" ".join(sents) for sents in paragraphs).lower())
    seen: set[tuple[str, ...]] = set()
    repeated: set[tuple[str, ...]] = set()
    for i in range(len(words) - n + 1):
        run = tuple(words[i : i + n])
        (repeated if run in seen else seen).add(run)
    return repeated


def _pick_passage(
    paragraphs: list[list[str]], used: set[tuple[int, int]], rng: random.Random
) -> tuple[int, int, int] | None:
    """A run of 1-4 unused sentences inside one paragraph with at least MIN_PASSAGE_WORDS words and no
    word run repeated in the article: of a length drawn first (1-4 sentences), or the longest available
    below it, or else of any length."""
    repeated = repeated_runs(paragraphs)
    options: dict[int, list[tuple[int, int, int]]] = {}
    for p, sents in enumerate(paragraphs):
        for first in range(len(sents)):
            for last in range(first + 1, min(len(sents), first + MAX_PASSAGE_SENTENCES) + 1):
                if any((p, s) in used for s in range(first, last)):
                    break
                text = " ".join(sents[first:last])
                if len(WORD.findall(text)) < MIN_PASSAGE_WORDS:
                    continue
                if repeated and word_runs(text, REPEAT_WORDS) & repeated:
                    break  # longer passages from here contain the repeat too
                options.setdefault(last - first, []).append((p, first, last))
    if not options:
        return None
    target = rng.choice([1, 2, 2, 3, 3, 4])
    shorter = [size for size in options if size <= target]
    return rng.choice(options[max(shorter) if shorter else min(options)])


def generate(
    seed: int = 1, n_events: int | None = None, limit: int | None = None, run_words: int = RUN_WORDS
) -> ReuseSet:
    """The reuse set built from FA-KES (the first ``limit`` rows) with ``n_events`` events (default: one per
    two kept articles); articles sharing a ``run_words``-word run with one kept earlier are left out."""
    rng = random.Random(seed)
    rows = read_fakes(limit=limit)
    kept, dropped = select_unrelated([row["article_content"] for row in rows], run_words)
    docs = [paragraphs_of(rows[i]["article_content"], rng) for i in kept]
    n = len(docs)
    if n_events is None:
        n_events = n // 2
    if n < 2:
        raise ValueError("fewer than two usable articles")

    used: list[set[tuple[int, int]]] = [set() for _ in docs]
    plans: list[_Plan] = []
    attempts = 0
    while len(plans) < n_events and attempts < 50 * max(1, n_events):
        attempts += 1
        source = rng.randrange(n)
        picked = _pick_passage(docs[source], used[source], rng)
        if picked is None:
            continue
        host = rng.randrange(n - 1)
        host += host >= source
        p, first, last = picked
        used[source].update((p, s) for s in range(first, last))
        passage = " ".join(docs[source][p][first:last])
        edited, edits, fraction = edit_passage(passage, rng)
        lead = lead_sentence(rng) if rng.random() < EDIT_PROBABILITY["lead"] else ""
        if lead:
            edits.append("lead")
        boundary = rng.randint(0, len(docs[host]))
        plans.append(_Plan(source, p, first, last, host, boundary, passage, edited, lead, edits, fraction))

    # Build the final texts: inserted paragraphs sit before original paragraph `boundary`, in event order.
    inserts: dict[int, dict[int, list[int]]] = {}
    for number, plan in enumerate(plans):
        inserts.setdefault(plan.host, {}).setdefault(plan.boundary, []).append(number)
    texts: list[str] = []
    paragraph_start: list[list[int]] = []  # final offset of each original paragraph
    inserted_start: dict[int, int] = {}  # event -> final offset of its inserted paragraph
    for d, paragraphs in enumerate(docs):
        pieces: list[str] = []
        offset = 0
        starts: list[int] = []
        for boundary in range(len(paragraphs) + 1):
            for number in inserts.get(d, {}).get(boundary, []):
                plan = plans[number]
                inserted_start[number] = offset
                piece = f"{plan.lead} {plan.edited}" if plan.lead else plan.edited
                pieces.append(piece)
                offset += len(piece) + len(PARAGRAPH_BREAK)
            if boundary < len(paragraphs):
                starts.append(offset)
                piece = " ".join(paragraphs[boundary])
                pieces.append(piece)
                offset += len(piece) + len(PARAGRAPH_BREAK)
        texts.append(PARAGRAPH_BREAK.join(pieces))
        paragraph_start.append(starts)

    gold = []
    for number, plan in enumerate(plans):
        sents = docs[plan.source][plan.paragraph]
        within = sum(len(s) + 1 for s in sents[: plan.first])
        source_start = paragraph_start[plan.source][plan.paragraph] + within
        host_start = inserted_start[number] + (len(plan.lead) + 1 if plan.lead else 0)
        gold.append(
            {
                "id": number,
                "source": plan.source,
                "source_start": source_start,
                "source_end": source_start + len(plan.passage),
                "host": plan.host,
                "host_start": host_start,
                "host_end": host_start + len(plan.edited),
                "passage": plan.passage,
                "edited": plan.edited,
                "lead": plan.lead,
                "edits": plan.edits,
                "words_kept": round(plan.kept, 4),
                "sentences": plan.last - plan.first,
            }
        )
    meta = {
        "seed": seed,
        "limit": limit,
        "run_words": run_words,
        "rows_read": len(rows),
        "kept": n,
        "dropped": dropped,
        "events": len(gold),
        "events_asked": n_events,
        "copies": 1,
        "rows": kept,
    }
    return ReuseSet(
        texts=texts,
        outlets=[rows[i]["source"] for i in kept],
        dates=[rows[i]["date"] for i in kept],
        gold=gold,
        meta=meta,
    )


# -- replication -----------------------------------------------------------------------------------------


def cipher(copy: int) -> dict[int, int]:
    """A per-copy substitution of ASCII letters (case kept) and digits, with no fixed points; copy 0 is the
    identity."""
    if copy == 0:
        return {}
    rng = random.Random(f"newstrace-reuse-copy-{copy}")
    table: dict[int, int] = {}
    for alphabet in (string.ascii_lowercase, string.digits):
        while True:
            shuffled = rng.sample(alphabet, len(alphabet))
            if all(a != b for a, b in zip(alphabet, shuffled, strict=True)):
                break
        table.update({ord(a): ord(b) for a, b in zip(alphabet, shuffled, strict=True)})
        if alphabet == string.ascii_lowercase:
            table.update({ord(a.upper()): ord(b.upper()) for a, b in zip(alphabet, shuffled, strict=True)})
    return table


def replicate(reuse_set: ReuseSet, factor: int) -> ReuseSet:
    """``factor`` disjoint copies of a set: copy 0 is the set itself, copy k > 0 has every letter and digit
    enciphered by its own substitution (:func:`cipher`; punctuation, spacing, case and word lengths kept).

    Copying the plain text instead would make every copy of a passage reuse every other copy: a passage
    shared by two documents at 1x would be shared by 2 x factor documents, a number of true pairs growing
    with factor squared, so the set would no longer be the same task at a larger size (and the gold would
    have to list those pairs). Enciphered copies share no word, hence no shingle, with each other, so the
    number of gold events, of documents and of characters all grow by exactly ``factor`` and the reuse density
    per document stays the same. Offsets stay valid because each character maps to one character; gold
    indices shift by k x the number of texts. Caveat: enciphered words are no longer English, so a system that
    treats stop words or known names specially sees copies k > 0 differently from copy 0.
    """
    if factor < 1:
        raise ValueError("factor must be at least 1")
    n = len(reuse_set.texts)
    texts, outlets, dates, gold = [], [], [], []
    for copy in range(factor):
        table = cipher(copy)
        texts += [text.translate(table) for text in reuse_set.texts]
        outlets += reuse_set.outlets
        dates += reuse_set.dates
        for event in reuse_set.gold:
            gold.append(
                {
                    **event,
                    "id": copy * len(reuse_set.gold) + event["id"],
                    "source": event["source"] + copy * n,
                    "host": event["host"] + copy * n,
                    "passage": event["passage"].translate(table),
                    "edited": event["edited"].translate(table),
                    "lead": event["lead"].translate(table),
                    "copy": copy,
                }
            )
    meta = {**reuse_set.meta, "copies": factor * reuse_set.meta.get("copies", 1)}
    return ReuseSet(texts=texts, outlets=outlets, dates=dates, gold=gold, meta=meta)


def summary(reuse_set: ReuseSet) -> str:
    meta = reuse_set.meta
    dropped = meta.get("dropped", {})
    return (
        f"{meta.get('rows_read', '?')} FA-KES rows read; kept {meta.get('kept', '?')} articles sharing no "
        f"{meta.get('run_words', RUN_WORDS)}-word run (dropped {dropped.get('duplicate', 0)} exact duplicates, "
        f"{dropped.get('shared_run', 0)} sharing a run, {dropped.get('empty', 0)} empty); "
        f"{len(reuse_set.texts)} texts, {sum(map(len, reuse_set.texts)):,} characters, "
        f"{len(reuse_set.gold)} reuse events"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", type=int, default=None, help="number of events (default: kept / 2)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N FA-KES rows")
    parser.add_argument(
        "--run-words", type=int, default=RUN_WORDS, help="drop articles sharing a run this long (default 8)"
    )
    parser.add_argument("--replicate", type=int, default=1, help="disjoint enciphered copies (default 1)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    options = parser.parse_args(argv)
    if not FAKES.exists():
        print(f"FA-KES not found at {FAKES} (set NEWSTRACE_SHARED_DATA); nothing generated", file=sys.stderr)
        return 0
    reuse_set = generate(options.seed, options.events, options.limit, options.run_words)
    if options.replicate > 1:
        reuse_set = replicate(reuse_set, options.replicate)
    options.out.write_text(reuse_set.to_json(), encoding="utf-8")
    print(f"{summary(reuse_set)}; written to {options.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
