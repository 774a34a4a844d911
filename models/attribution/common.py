"""Shared, torch-free pieces of the attribution tagger: words, labels, windows, decoding, span scoring.

Only ``numpy``, ``tokenizers`` and newstrace are needed here, so the runtime path (ONNX) can reuse it. The
windows and the constrained decoding are newstrace's own (:mod:`newstrace.attribution.tagger`), so that
training, export checks and the shipped runtime read the model the same way.

Labelling scheme: three independent BIO layers, one per role (SOURCE, CUE, CONTENT), so a word can be
CONTENT of one attribution and SOURCE/CUE of a nested one at the same time. The model emits 9 logits per
subword token: ``[src O,B,I | cue O,B,I | content O,B,I]``; each group of 3 is its own softmax.
Only the first subword of each word carries a label.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from newstrace.attribution.tagger import keep_central, viterbi_bio

ROLES = ("source", "cue", "content")
TAGS = ("O", "B", "I")
LABELS = tuple(f"{role}-{tag}" for role in ROLES for tag in TAGS)  # 9 logits, 3 groups
IGNORE = -100
# Words = the tokens of newstrace.attribution.scoring (apostrophes split: "He’s" -> He ’ s, so a source
# "He" and a cue "’s claiming" can be told apart). The first model was trained with LEGACY_WORD_RE, which keeps
# "He’s" whole; a model folder records its regex in attribution.json and runtime.py uses that one.
SCORER_WORD_RE = r"\w+|[^\w\s]"
LEGACY_WORD_RE = r"\w+(?:[’']\w+)*|[^\w\s]"
WORD_RE = re.compile(SCORER_WORD_RE)


def set_word_regex(pattern: str) -> None:
    global WORD_RE
    WORD_RE = re.compile(pattern)


Span = tuple[int, int]  # character offsets (start, end) snapped to word boundaries


@dataclass
class Doc:
    """One article as words, with subword ids and (optionally) per-role word tags."""

    article_id: str
    text: str
    words: list[Span]  # char offsets of each word
    ids: list[int]  # subword ids, no special tokens
    word_of: list[int]  # word index of each subword
    first: list[bool]  # subword is the first of its word
    tags: np.ndarray | None = None  # (n_words, 3) in {0:O,1:B,2:I}
    gold: dict[str, list[Span]] | None = None  # snapped gold spans per role (multiset)
    dropped: Counter | None = None  # gold fragments not representable in the tag layers
    types: list[int] | None = None  # per word, its syntax feature id (newstrace.attribution.syntax)
    scaffold: list[int] | None = None  # per word, the syntax feature id to predict (train.py --scaffold)


def words_of(text: str) -> list[Span]:  # uses the current WORD_RE
    return [(m.start(), m.end()) for m in WORD_RE.finditer(text)]


def snap(fragment: Span, words: list[Span], starts: np.ndarray, ends: np.ndarray) -> tuple[int, int] | None:
    """Word index range [i, j] covered by a character fragment, or None when it covers no word."""
    s, e = fragment
    i = int(np.searchsorted(ends, s, side="right"))  # first word ending after s
    j = int(np.searchsorted(starts, e, side="left")) - 1  # last word starting before e
    if i >= len(words) or j < i:
        return None
    return i, j


def load_tokenizer(path: str):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(path)
    tok.no_truncation()
    tok.no_padding()
    return tok


def make_doc(tokenizer, article_id: str, text: str, attributions=None) -> Doc:
    words = words_of(text)
    enc = tokenizer.encode([text[s:e] for s, e in words], is_pretokenized=True, add_special_tokens=False)
    word_of = list(enc.word_ids)
    first = [k == 0 or word_of[k] != word_of[k - 1] for k in range(len(word_of))]
    doc = Doc(article_id, text, words, list(enc.ids), word_of, first)
    if attributions is not None:
        starts = np.array([s for s, _ in words])
        ends = np.array([e for _, e in words])
        tags = np.zeros((len(words), 3), dtype=np.int64)
        gold: dict[str, list[Span]] = {r: [] for r in ROLES}
        dropped: Counter = Counter()
        for r, role in enumerate(ROLES):
            ranges = []
            for att in attributions:
                snapped = sorted(r for r in (snap(f, words, starts, ends) for f in getattr(att, role)) if r)
                merged: list[list[int]] = []
                for i, j in snapped:  # fragments with no word between them are one run (as the scorer does)
                    if merged and i <= merged[-1][1] + 1:
                        merged[-1][1] = max(merged[-1][1], j)
                    else:
                        merged.append([i, j])
                for i, j in merged:
                    gold[role].append((words[i][0], words[j][1]))
                    ranges.append((i, j))
            # longest first; a fragment overlapping one already painted in this layer is not representable
            for i, j in sorted(set(ranges), key=lambda x: (-(x[1] - x[0]), x[0])):
                if tags[i : j + 1, r].any():
                    dropped[role] += 1
                    continue
                tags[i, r] = 1
                tags[i + 1 : j + 1, r] = 2
        doc.tags, doc.gold, doc.dropped = tags, gold, dropped
    return doc


def window_inputs(doc: Doc, a: int, b: int, cls_id: int, sep_id: int):
    """input ids (with [CLS]/[SEP]) and, when the doc has tags, the (len, 3) label matrix."""
    ids = [cls_id, *doc.ids[a:b], sep_id]
    if doc.tags is None:
        return ids, None
    lab = np.full((len(ids), 3), IGNORE, dtype=np.int64)
    for k in range(a, b):
        if doc.first[k]:
            lab[k - a + 1] = doc.tags[doc.word_of[k]]
    return ids, lab


def window_types(doc: Doc, a: int, b: int) -> list[int] | None:
    """Token-type ids of a window (its words' syntax features; 0 on [CLS]/[SEP]), or None without them."""
    if doc.types is None:
        return None
    return [0, *(doc.types[doc.word_of[k]] for k in range(a, b)), 0]


def new_accumulator(doc: Doc) -> tuple[np.ndarray, np.ndarray]:
    """Per-word best logits and the 'context score' of the window they came from."""
    return np.zeros((len(doc.words), 9), dtype=np.float32), np.full(len(doc.words), -1, dtype=np.int64)


def accumulate(doc: Doc, acc, a: int, b: int, logits: np.ndarray) -> None:
    """Keep, for each word, the logits from the window where it sits furthest from an edge (as newstrace
    does at run time)."""
    best, score = acc
    keep_central(best, score, doc.first, doc.word_of, a, b, logits)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def decode(
    doc: Doc, word_logits: np.ndarray, method: str = "viterbi", transitions: np.ndarray | None = None
) -> dict[str, list[Span]]:
    """Per-word logits -> character spans per role.

    ``viterbi`` (default): constrained BIO decoding per role layer (a span must open with B). ``argmax``:
    per-word argmax, an I after O opens a span. On run 1 (dev, shared scorer, int8) Viterbi gave exact F1
    0.765 / 0.695 / 0.613 against 0.724 / 0.658 / 0.541 for argmax: argmax splits long contents into pieces.
    """
    scores = word_logits.reshape(len(doc.words), 3, 3)
    if method == "viterbi":
        logp = _log_softmax(scores.astype(np.float64))
        tags = viterbi_bio(logp, transitions) if len(doc.words) else np.zeros((0, 3))
    else:
        tags = scores.argmax(-1)
    out: dict[str, list[Span]] = {}
    for r, role in enumerate(ROLES):
        spans: list[Span] = []
        cur = None
        for w, t in enumerate(tags[:, r]):
            if t == 1 or (t == 2 and cur is None):
                if cur is not None:
                    spans.append(cur)
                cur = [doc.words[w][0], doc.words[w][1]]
            elif t == 2:
                cur[1] = doc.words[w][1]
            else:
                if cur is not None:
                    spans.append(cur)
                cur = None
        if cur is not None:
            spans.append(cur)
        out[role] = [tuple(s) for s in spans]
    return out


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(f, 4), "tp": tp, "pred": n_pred, "gold": n_gold}


def exact_scores(pairs, distinct: bool = True) -> dict[str, dict[str, float]]:
    """Span-level exact-match P/R/F1 per role over (gold, pred) dicts of span lists; one-to-one matching.

    ``distinct``: a span that several attributions share (one SOURCE for two quotes: ~5% of PolNeAR sources)
    counts once per article, as a single tag sequence can only say it once. With ``distinct=False`` the gold
    multiset is kept, so such a span is only recalled once out of its n occurrences.
    """
    counts = {r: [0, 0, 0] for r in ROLES}
    for gold, pred in pairs:
        for role in ROLES:
            g, p = Counter(gold[role]), Counter(pred[role])
            if distinct:
                g, p = Counter(set(g)), Counter(set(p))
            counts[role][0] += sum((g & p).values())
            counts[role][1] += sum(p.values())
            counts[role][2] += sum(g.values())
    return {role: prf(*counts[role]) for role in ROLES}


def shared_scores(docs, preds, gold_attributions) -> dict | None:
    """Scores from newstrace.attribution.scoring (exact/begin/overlap/tokens per role), when it exists."""
    try:
        from newstrace.attribution.scoring import attribution_spans, score_documents
    except ImportError:
        return None
    pairs = [
        (doc.text, [(r, s, e) for r in ROLES for s, e in p[r]], attribution_spans(gold, doc.text))
        for doc, p, gold in zip(docs, preds, gold_attributions, strict=False)
    ]
    scores = score_documents(pairs)
    return {
        role: {
            m: {"p": round(v.precision, 4), "r": round(v.recall, 4), "f1": round(v.f1, 4)}
            for m, v in ms.items()
        }
        for role, ms in scores.items()
    }


def sha256(path: Path) -> str:
    """Hex digest of a (possibly large) file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
