"""The attribution tagger at run time: an int8 ONNX token classifier, no torch.

The model (MiniLM fine-tuned on PolNeAR by ``models/attribution/train.py``) reads WordPiece tokens in
overlapping windows and gives every word three BIO tags, one per role (SOURCE, CUE, CONTENT), so a word can
be the content of one attribution and the source of another nested in it. Each word keeps the logits of the
window where it sits furthest from an edge. Each role's tags are decoded with Viterbi under the transition
scores the model was trained with (a CRF per role) plus span costs chosen on dev, or, for the roles the
manifest names under "marginal" (content), by span probability: every span whose marginal probability under
the CRF reaches a threshold chosen on dev. Spans are then linked into attributions (:mod:`.link`).

The artifact folder holds ``model.onnx``, ``tokenizer.json`` and ``manifest.json`` (labels, window size and
stride, sha256 of the model, the CRF's transitions and the span costs, and the dev scores it reached). A
model trained with syntax features (``train.py --syntax``) also reads each word's dependency label and
clause (:mod:`.syntax`) as its token type; its manifest lists the features, and the texts are parsed with
the spaCy pipeline it was trained on. The shipped model reads no parse (models/attribution/README.md,
"Runs 12 and 13").
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from newstrace.attribution import syntax
from newstrace.attribution.clause import complete_clauses
from newstrace.attribution.link import QUOTE_END, link
from newstrace.attribution.signed import with_signed_quotations
from newstrace.model import Attribution

ROLES = ("source", "cue", "content")
MODEL_ENV = "NEWSTRACE_ATTRIBUTION_MODEL"
# Windows per onnxruntime call. One: the int8 graph quantises its activations with one scale per call, so a
# window run alone gets tags that do not depend on the other windows of its text, and on one thread single
# windows ran 3% faster on FA-KES than batches of up to 16 (benchmarks/RESULTS.md, "One window per run").
WINDOWS_PER_RUN = 1
# Quote marks the training data rarely has, mapped one character for one, so offsets do not move.
_QUOTES = str.maketrans({"«": "“", "»": "”", "„": "“", "‟": "“", "‹": "‘", "›": "’"})

Span = tuple[int, int]
# Marks that close a quotation; ’ and " only when no letter follows ("Russia’s" is not one).
_CLOSING = frozenset("”»")
_AMBIGUOUS_CLOSING = frozenset("’\"'")
_OPENING = frozenset('“"')


class TaggerError(RuntimeError):
    """The attribution model is missing or damaged."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """What the model needs at run time, and what it reached when trained."""

    window: int  # subword tokens per window, without [CLS] and [SEP]
    stride: int
    word_pattern: str
    sha256: str
    scores: dict[str, object]
    transitions: dict[str, dict[str, float]] = field(default_factory=dict)  # role -> begin / split costs
    learned: dict[str, list[list[float]]] = field(default_factory=dict)  # role -> CRF transitions, 3 x 3
    # role -> the span probability a span needs to be kept (select_spans); such a role skips Viterbi
    marginal: dict[str, float] = field(default_factory=dict)
    # a model trained with syntax features (newstrace.attribution.syntax): the features, in id order, and
    # the spaCy pipeline whose parse gives them; empty for a model without
    syntax: dict[str, object] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return cls(
            int(data["window"]),
            int(data["stride"]),
            str(data["word_pattern"]),
            str(data["sha256"]),
            dict(data.get("dev", {})),
            {role: dict(costs) for role, costs in data.get("transitions", {}).items()},
            {role: [list(row) for row in matrix] for role, matrix in data.get("crf", {}).items()},
            {role: float(threshold) for role, threshold in data.get("marginal", {}).items()},
            dict(data.get("syntax", {})),
        )


def default_model_dir() -> Path:
    named = os.environ.get(MODEL_ENV)
    if named:
        return Path(named)
    return Path(str(resources.files("newstrace.data").joinpath("attribution")))


def windows(n: int, size: int, stride: int) -> list[tuple[int, int]]:
    if n <= size:
        return [(0, n)]
    spans = []
    start = 0
    while True:
        end = min(start + size, n)
        spans.append((start, end))
        if end == n:
            return spans
        start += stride


def keep_central(
    best: np.ndarray,
    depth: np.ndarray,
    first: Sequence[bool],
    word_of: Sequence[int],
    start: int,
    end: int,
    logits: np.ndarray,
) -> None:
    """Give each word whose first subword lies in the window ``[start, end)`` the window's logits (row
    ``k - start + 1``, after [CLS]) when it sits further from the window's edges than in any window before
    (``depth``). Only a word's first subword carries its tags. Training and export use this too."""
    for k in range(start, end):
        if not first[k]:
            continue
        w = word_of[k]
        inside = min(k - start, end - 1 - k)
        if inside > depth[w]:
            depth[w] = inside
            best[w] = logits[k - start + 1]


def _batches(jobs: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Windows of equal length run together, WINDOWS_PER_RUN at a time: a text's last window is usually
    short, and padding it to the others' length was an eighth of the tagger's work on FA-KES."""
    by_length: dict[int, list[tuple[int, int]]] = {}
    for job in jobs:
        by_length.setdefault(job[1] - job[0], []).append(job)
    return [
        group[first : first + WINDOWS_PER_RUN]
        for group in by_length.values()
        for first in range(0, len(group), WINDOWS_PER_RUN)
    ]


class Tagger:
    """SOURCE/CUE/CONTENT spans for texts, from the ONNX model in ``folder``."""

    def __init__(self, folder: str | Path | None = None, threads: int = 1, verify: bool = True) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.folder = Path(folder) if folder else default_model_dir()
        model = self.folder / "model.onnx"
        if not model.exists():
            raise TaggerError(
                f"{self.folder}: no attribution model (model.onnx); see models/attribution/README.md"
            )
        self.manifest = Manifest.read(self.folder)
        if verify:
            digest = hashlib.sha256(model.read_bytes()).hexdigest()
            if digest != self.manifest.sha256:
                raise TaggerError(
                    f"{model}: sha256 {digest[:12]}… does not match the manifest; reinstall newstrace"
                )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls_id = self.tokenizer.token_to_id("[CLS]")
        self.sep_id = self.tokenizer.token_to_id("[SEP]")
        self.word = re.compile(self.manifest.word_pattern)
        features = self.manifest.syntax.get("features")
        self.vocabulary = syntax.vocabulary(list(features)) if isinstance(features, list) else None
        if self.vocabulary is not None:
            try:  # loaded now, so a worker is ready before its first batch and a missing model fails here
                syntax.default_parser()
            except RuntimeError as exc:
                raise TaggerError(f"{self.folder}: {exc}") from exc
        self.transitions = transition_scores(self.manifest.transitions, self.manifest.learned)
        self.boundary = transition_scores(self.manifest.transitions, self.manifest.learned, at_boundary=True)

    def tokens(self, texts: Sequence[str]) -> list[list[tuple[int, str]] | None]:
        """The parse features of each text, or Nones for a model that reads no parse."""
        if self.vocabulary is None:
            return [None] * len(texts)
        return list(syntax.parse(texts, int(self.manifest.syntax.get("depth", 1))))  # type: ignore[call-overload]

    def spans(self, text: str, tokens: list[tuple[int, str]] | None = None) -> dict[str, list[Span]]:
        """The role spans of one text, as character offsets snapped to words."""
        words, logits = self.word_logits(text, tokens)
        if not words:
            return {role: [] for role in ROLES}
        return _decode(words, logits, self.transitions, text, self.boundary, self.manifest.marginal)

    def word_logits(
        self, text: str, tokens: list[tuple[int, str]] | None = None
    ) -> tuple[list[Span], np.ndarray]:
        """The words of a text (character offsets) and their 9 logits (roles x O/B/I), before decoding.

        A model that reads a parse takes it from ``tokens`` (:meth:`tokens`), or parses ``text`` itself."""
        words = [(m.start(), m.end()) for m in self.word.finditer(text.translate(_QUOTES))]
        if not words:
            return [], np.zeros((0, 9), dtype=np.float32)
        encoding = self.tokenizer.encode(
            [text[s:e] for s, e in words], is_pretokenized=True, add_special_tokens=False
        )
        ids = list(encoding.ids)
        word_of = list(encoding.word_ids)
        types = None
        if self.vocabulary is not None:
            if tokens is None:
                (tokens,) = self.tokens([text])
            of_word = syntax.word_features(words, tokens or [], self.vocabulary)
            types = [of_word[w] for w in word_of]
        first = [k == 0 or word_of[k] != word_of[k - 1] for k in range(len(ids))]
        best = np.zeros((len(words), 9), dtype=np.float32)
        depth = np.full(len(words), -1)
        jobs = windows(len(ids), self.manifest.window, self.manifest.stride)
        for chunk in _batches(jobs):
            # windows of one batch have one length, so nothing is padded
            batch = np.array([[self.cls_id, *ids[start:end], self.sep_id] for start, end in chunk], np.int64)
            feeds = {"input_ids": batch, "attention_mask": np.ones_like(batch)}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = (
                    np.zeros_like(batch)
                    if types is None
                    else np.array([[0, *types[start:end], 0] for start, end in chunk], np.int64)
                )
            logits = self.session.run(None, feeds)[0]
            for row, (start, end) in enumerate(chunk):
                keep_central(best, depth, first, word_of, start, end, logits[row])
        return words, best

    def extract(self, text: str, tokens: list[tuple[int, str]] | None = None) -> list[Attribution]:
        words, logits = self.word_logits(text, tokens)
        return attributions(text, words, logits, self.transitions, self.boundary, self.manifest.marginal)

    def extract_many(self, texts: Sequence[str]) -> list[list[Attribution]]:
        return [self.extract(text, tokens) for text, tokens in zip(texts, self.tokens(texts), strict=True)]


_EDGE = " \t\n,;:"
# A blank line: text on both sides of it is in different paragraphs.
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_WORD = re.compile(r"\w")


def by_paragraph(text: str, spans: list[Span]) -> list[Span]:
    """Contents cut at blank lines, each paragraph's part a content of its own; parts without a word go.

    The tagger's I tags sometimes run on past the end of a paragraph, into the opening quote mark of the
    next one or into a quotation by another speaker. PolNeAR’s contents almost never cross a blank line (4
    of 2,487 on dev), and brat itself splits a span at a line break. On PolNeAR dev this lifted content exact
    F1 from 68.8 to 69.6 under Viterbi decoding (models/attribution/README.md, "Rules after decoding"). Each
    part is then linked to its own nearest cue.
    """
    kept = []
    for start, end in spans:
        cut = start
        for brk in [*_PARAGRAPH_BREAK.finditer(text, start, end), None]:
            stop = brk.start() if brk else end
            if _WORD.search(text, cut, stop):
                kept.append((cut, stop))
            if brk:
                cut = brk.end()
    return kept


def _trimmed(text: str, spans: list[Span]) -> list[Span]:
    """Contents without the commas, semicolons and colons a tag can take from the words around them.

    Only contents: PolNeAR's sources and cues keep such punctuation often enough that trimming them loses
    more exact matches (dev: source -2.7, cue -1.2 points) than it gains.
    """
    kept = []
    for start, end in spans:
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
        if start < end:
            kept.append((start, end))
    return kept


def transition_scores(
    costs: Mapping[str, Mapping[str, float]] | None = None,
    learned: Mapping[str, Sequence[Sequence[float]]] | None = None,
    at_boundary: bool = False,
) -> np.ndarray:
    """Per role, the log-score added when a tag follows another (roles x previous O/B/I x O/B/I).

    ``learned[role]`` is a 3 x 3 matrix of transition scores trained with the model (a CRF), 0 when absent.
    ``costs[role]["begin"]`` is added to every span that opens after O (or at the start), and
    ``costs[role]["split"]`` to a span that opens right where another ends (B after B or I). Both are 0
    unless the manifest says otherwise. I never follows O: every span opens with B. ``at_boundary`` gives
    the scores where the text has a boundary of its own (:func:`boundaries`): there no split cost is paid.
    """
    scores = np.zeros((len(ROLES), 3, 3))
    for r, role in enumerate(ROLES):
        if learned and role in learned:
            scores[r] = np.asarray(learned[role], dtype=np.float64)
        given = (costs or {}).get(role, {})
        scores[r, 0, 1] += float(given.get("begin", 0.0))
        if not at_boundary:
            scores[r, 1:, 1] += float(given.get("split", 0.0))
    scores[:, 0, 2] = -1e9
    return scores


def boundaries(text: str, words: list[Span]) -> np.ndarray:
    """Words that open a paragraph or follow a closing quote mark: where a span ends of itself."""
    found = np.zeros(len(words), dtype=bool)
    for i in range(1, len(words)):
        (start, end), following = words[i - 1], words[i][0]
        mark = text[start:end]
        closing = mark in _CLOSING or (
            mark in _AMBIGUOUS_CLOSING
            and start > 0
            and not text[start - 1].isspace()
            and not (end < len(text) and text[end].isalnum())
        )
        found[i] = closing or "\n" in text[end:following]
    return found


def paragraph_ends(text: str, words: list[Span]) -> np.ndarray:
    """Words followed by a blank line (:data:`_PARAGRAPH_BREAK`) before the next word."""
    found = np.zeros(len(words), dtype=bool)
    for i in range(len(words) - 1):
        found[i] = _PARAGRAPH_BREAK.search(text, words[i][1], words[i + 1][0]) is not None
    return found


def viterbi_bio(
    logp: np.ndarray,
    transitions: np.ndarray | None = None,
    free: np.ndarray | None = None,
    at_boundary: np.ndarray | None = None,
) -> np.ndarray:
    """Each layer's most probable O/B/I tags (0/1/2) where every span opens with B (no O->I, no leading I).

    ``transitions`` (layers x previous tag x tag, see :func:`transition_scores`) are added between words;
    the first word is scored as if an O came before it. Where ``free`` is true (:func:`boundaries`: a word
    that opens a paragraph or follows a closing quote), a span may open right after another at no split
    cost: the text has a boundary there of its own, and the cost would join a quote to what comes next.
    ``at_boundary`` gives the scores used there (``transition_scores(..., at_boundary=True)``); without it, a
    span opening right after another scores 0 at a boundary.

    Taking each word's best tag alone breaks long contents into pieces; on PolNeAR dev this decoding lifts
    exact F1 from 0.72/0.66/0.54 to 0.77/0.70/0.61 (source/cue/content, models/attribution/README.md).
    """
    n, layers, _ = logp.shape  # words x layers x (O, B, I); the layers are decoded side by side
    if transitions is None:
        transitions = transition_scores()[:layers]
    if at_boundary is None:
        at_boundary = transitions.copy()
        at_boundary[:, 1:, 1] = 0.0
    score = logp[0].astype(np.float64) + transitions[:, 0, :]
    back = np.zeros((n, layers, 3), dtype=np.int64)
    for t in range(1, n):
        step = at_boundary if free is not None and free[t] else transitions
        candidates = score[:, :, None] + step  # layer x previous tag x tag
        back[t] = candidates.argmax(1)
        score = candidates.max(1) + logp[t]
    tags = np.zeros((n, layers), dtype=np.int64)
    tags[-1] = score.argmax(1)
    rows = np.arange(layers)
    for t in range(n - 1, 0, -1):
        tags[t - 1] = back[t, rows, tags[t]]
    return tags


def span_probabilities(
    logp: np.ndarray,
    transitions: np.ndarray,
    at_boundary: np.ndarray | None = None,
    free: np.ndarray | None = None,
    breaks: np.ndarray | None = None,
    floor: float = 0.01,
) -> list[tuple[float, int, int]]:
    """The spans of one BIO layer that have a probability of at least ``floor``, as (probability, first word,
    last word): the probability that the tags are B on the first word, I up to the last, and not I after it.

    ``logp`` (words x O/B/I) and the transition scores (previous tag x tag; ``at_boundary`` where ``free``,
    as in :func:`viterbi_bio`) define a linear-chain CRF; forward-backward, scaled at each word, gives the
    marginals. Where Viterbi returns the single best tagging, these say how sure the model is of each span.
    A span stops at a word followed by a paragraph break (``breaks``), which :func:`by_paragraph` cuts at
    anyway: there its probability counts every way the tags go on.
    """
    n = len(logp)
    if n == 0:
        return []
    emit = np.exp(logp - logp.max(1, keepdims=True)).tolist()
    top = transitions.max()
    into = np.exp(transitions - top).tolist()  # I after O scores -1e9, so it becomes 0
    edge = into if at_boundary is None else np.exp(at_boundary - top).tolist()
    step = [edge if free is not None and free[t] else into for t in range(n)]
    # Plain floats: with three tags, numpy's per-call cost is most of the time (3x slower on PolNeAR dev).
    alpha = [[0.0, 0.0, 0.0]] * n
    scale = [1.0] * n
    o, b, i = (into[0][k] * emit[0][k] for k in range(3))
    for t in range(n):
        if t:
            (oo, ob, oi), (bo, bb, bi), (io, ib, ii) = step[t]
            e = emit[t]
            o, b, i = (
                (o * oo + b * bo + i * io) * e[0],
                (o * ob + b * bb + i * ib) * e[1],
                (o * oi + b * bi + i * ii) * e[2],
            )
        total = o + b + i
        o, b, i = o / total, b / total, i / total
        scale[t] = total
        alpha[t] = [o, b, i]
    beta = [[1.0, 1.0, 1.0]] * n
    o, b, i = 1.0, 1.0, 1.0
    for t in range(n - 2, -1, -1):
        (oo, ob, oi), (bo, bb, bi), (io, ib, ii) = step[t + 1]
        e = emit[t + 1]
        c = scale[t + 1]
        eo, eb, ei = e[0] * o / c, e[1] * b / c, e[2] * i / c
        o, b, i = oo * eo + ob * eb + oi * ei, bo * eo + bb * eb + bi * ei, io * eo + ib * eb + ii * ei
        beta[t] = [o, b, i]
    spans = []
    for first in range(n):
        if alpha[first][1] * beta[first][1] < floor:
            continue
        reach = alpha[first][1]  # the tags up to the first word, ending in B there
        tag = 1
        for last in range(first, n):
            if last > first:
                reach *= step[last][tag][2] * emit[last][2] / scale[last]
                tag = 2
                if reach * beta[last][2] < floor:  # every longer span is less probable still
                    break
            if last == n - 1 or (breaks is not None and breaks[last]):
                spans.append((reach * beta[last][tag], first, last))
                break
            moves, e, later = step[last + 1][tag], emit[last + 1], beta[last + 1]
            after = (moves[0] * e[0] * later[0] + moves[1] * e[1] * later[1]) / scale[last + 1]
            if reach * after >= floor:
                spans.append((reach * after, first, last))
    return spans


def settled(text: str, span: Span) -> Span | None:
    """A content as the rules after decoding leave it: trimmed (:func:`_trimmed`), and a quotation followed
    by more words cut at its closing mark. The linker's :func:`~newstrace.attribution.link.close_quote` cuts
    only a quotation before its cue; here the cue is not known yet, so every such quotation is cut."""
    trimmed = _trimmed(text, [span])
    if not trimmed:
        return None
    start, end = trimmed[0]
    if text[start] in _OPENING:
        mark = QUOTE_END.search(text, start, end)
        if mark and text[mark.end() : end].strip():
            return (start, mark.end())
    return (start, end)


def pooled(
    text: str, words: Sequence[Span], candidates: Sequence[tuple[float, int, int]]
) -> dict[Span, float]:
    """Candidate spans (:func:`span_probabilities`) as the contents they become (:func:`settled`), each with
    the summed probability of the spans that become it.

    A long quotation's end is often uncertain only in the words after its closing mark, which the rules cut
    anyway; pooled, those spans reach the threshold together where none does alone."""
    found: dict[Span, float] = {}
    for probability, first, last in candidates:
        span = settled(text, (words[first][0], words[last][1]))
        if span is not None:
            found[span] = found.get(span, 0.0) + probability
    return found


def select_spans(probabilities: Mapping[Span, float], threshold: float) -> list[Span]:
    """The most probable spans first, each kept when it reaches ``threshold`` and overlaps none kept before.

    A span adds to the expected exact-match F1 when its probability is above about half the F1 reached, so
    the best threshold lies below one half; it is chosen on dev by ``models/attribution/tune_decoding.py``
    (0.25 for content). Kept spans never overlap, as the spans of one BIO layer cannot.
    """
    kept: list[Span] = []
    for (start, end), probability in sorted(probabilities.items(), key=lambda item: (-item[1], item[0])):
        if probability < threshold:
            break
        if all(end <= other[0] or other[1] <= start for other in kept):
            kept.append((start, end))
    return sorted(kept)


def _decode(
    words: list[Span],
    logits: np.ndarray,
    transitions: np.ndarray | None = None,
    text: str | None = None,
    at_boundary: np.ndarray | None = None,
    marginal: Mapping[str, float] | None = None,
) -> dict[str, list[Span]]:
    """Three BIO layers to spans, each decoded under the BIO constraint with ``transitions`` (and the
    paragraph breaks of ``text``, when given). With ``text``, a role named in ``marginal`` keeps instead the
    spans whose probability reaches its threshold (:func:`span_probabilities`, :func:`select_spans`)."""
    scores = logits.reshape(len(words), 3, 3).astype(np.float64)
    logp = (
        scores
        - np.log(np.exp(scores - scores.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - scores.max(-1, keepdims=True)
    )
    free = None if text is None else boundaries(text, words)
    breaks = None if text is None else paragraph_ends(text, words)
    if transitions is None:
        transitions = transition_scores()
    if at_boundary is None:
        at_boundary = transitions.copy()
        at_boundary[:, 1:, 1] = 0.0
    tags = viterbi_bio(logp, transitions, free, at_boundary)
    found: dict[str, list[Span]] = {}
    for r, role in enumerate(ROLES):
        if marginal and role in marginal and text is not None:
            candidates = span_probabilities(logp[:, r], transitions[r], at_boundary[r], free, breaks)
            found[role] = select_spans(pooled(text, words, candidates), marginal[role])
            continue
        spans: list[Span] = []
        current: list[int] | None = None
        for w, tag in enumerate(tags[:, r].tolist()):
            if tag == 1:
                if current is not None:
                    spans.append((current[0], current[1]))
                current = [words[w][0], words[w][1]]
            elif tag == 2 and current is not None:
                current[1] = words[w][1]
            elif current is not None:
                spans.append((current[0], current[1]))
                current = None
        if current is not None:
            spans.append((current[0], current[1]))
        found[role] = spans
    return found


def attributions(
    text: str,
    words: list[Span],
    logits: np.ndarray,
    transitions: np.ndarray | None = None,
    at_boundary: np.ndarray | None = None,
    marginal: Mapping[str, float] | None = None,
    *,
    clauses: bool = True,
) -> list[Attribution]:
    """A text's attributions from its words' logits (:meth:`Tagger.word_logits`): decoded, linked, with the
    signed quotations (:mod:`newstrace.attribution.signed`) the tagger did not find, and (unless ``clauses``
    is false) with "that" clauses cut before their verb completed (:mod:`newstrace.attribution.clause`)."""
    if not words:
        return []
    found = _decode(words, logits, transitions, text, at_boundary, marginal)
    cues = [extend_cue(text, cue) for cue in found["cue"]]
    linked = link(text, found["source"], cues, _trimmed(text, by_paragraph(text, found["content"])))
    with_quotes = with_signed_quotations(text, linked)
    return complete_clauses(text, with_quotes) if clauses else with_quotes


# The medium a statement came in belongs to its cue in PolNeAR ("said in a statement": 46 cues in train, one
# source; "in an interview": 28 cues, 4 other spans); the tagger sometimes stops at the verb.
_MEDIUM = re.compile(
    r" in (?:a|an) (?:(?:written|joint|brief) )?(?:statement|interview|email|e-mail|tweet|press release)\b"
)


def extend_cue(text: str, cue: Span) -> Span:
    """A cue that stops right before "in a statement" (interview, email, tweet, press release) takes it in.

    On PolNeAR dev this lifts cue exact F1 from 75.3 to 75.4 (models/attribution/README.md, "Rules after
    decoding")."""
    medium = _MEDIUM.match(text, cue[1])
    return (cue[0], medium.end()) if medium else cue


@lru_cache(maxsize=2)
def load_tagger(folder: str | None = None, threads: int = 1) -> Tagger:
    """One tagger per process."""
    return Tagger(folder, threads)


def extract_texts(texts: Sequence[str]) -> list[list[Attribution]]:
    """Attributions of each text with the shipped model (the entry point benchmarks/attribution_eval.py uses)."""
    return load_tagger().extract_many(texts)


def tag_texts(texts: Sequence[str]) -> list[list[Attribution]]:
    """The tagger's spans before linking, one bundle per text: what span-level scores (CofeNet's) measure.

    Linking keeps only sources and contents near a cue, so it trades span recall for whole relations; the
    relation score of :func:`extract_texts` measures that side.
    """
    tagger = load_tagger()
    bundles = []
    for text, tokens in zip(texts, tagger.tokens(texts), strict=True):
        spans = tagger.spans(text, tokens)
        bundles.append(
            [
                Attribution(
                    tuple(spans["source"]),
                    tuple(spans["cue"]),
                    tuple(_trimmed(text, by_paragraph(text, spans["content"]))),
                )
            ]
        )
    return bundles
