"""Constrained BIO decoding of the tagger's three tag layers."""

from __future__ import annotations

import itertools

import numpy as np

from newstrace.attribution.tagger import _decode, extend_cue, transition_scores, viterbi_bio


def _best_by_search(logp: np.ndarray, begin: float = 0.0, split: float = 0.0) -> list[int]:
    """Every O/B/I sequence with no I after O and none first, scored by brute force: ``begin`` for each span
    that opens after O or first, ``split`` for each that opens right after another."""
    best, best_score = None, -np.inf
    for tags in itertools.product(range(3), repeat=len(logp)):
        if tags[0] == 2 or any(a == 0 and b == 2 for a, b in itertools.pairwise(tags)):
            continue
        score = sum(logp[t, tag] for t, tag in enumerate(tags))
        score += sum(
            (begin if previous == 0 else split)
            for previous, tag in zip((0, *tags), tags, strict=False)
            if tag == 1
        )
        if score > best_score:
            best, best_score = list(tags), score
    return best


def test_viterbi_finds_the_best_valid_sequence_in_every_layer():
    rng = np.random.default_rng(7)
    for n in (1, 2, 5, 7):
        logp = np.log(rng.dirichlet(np.ones(3), size=(n, 3)))  # words x layers x tags
        tags = viterbi_bio(logp)
        assert tags.shape == (n, 3)
        for layer in range(3):
            assert tags[:, layer].tolist() == _best_by_search(logp[:, layer])


def test_viterbi_with_begin_and_split_costs_finds_the_best_sequence_under_them():
    rng = np.random.default_rng(11)
    costs = {"source": {"begin": 0.7}, "cue": {"begin": -1.0, "split": -1.5}, "content": {"split": -3.0}}
    transitions = transition_scores(costs)
    for n in (1, 3, 6, 7):
        logp = np.log(rng.dirichlet(np.ones(3), size=(n, 3)))
        tags = viterbi_bio(logp, transitions)
        for layer, role in enumerate(("source", "cue", "content")):
            begin, split = costs[role].get("begin", 0.0), costs[role].get("split", 0.0)
            assert tags[:, layer].tolist() == _best_by_search(logp[:, layer], begin, split)


def _best_by_matrix(logp: np.ndarray, matrix: np.ndarray) -> list[int]:
    """Brute force under a full 3 x 3 transition matrix (the first word scored as if after O)."""
    best, best_score = None, -np.inf
    for tags in itertools.product(range(3), repeat=len(logp)):
        if tags[0] == 2 or any(a == 0 and b == 2 for a, b in itertools.pairwise(tags)):
            continue
        score = sum(logp[t, tag] for t, tag in enumerate(tags))
        score += sum(matrix[previous, tag] for previous, tag in zip((0, *tags), tags, strict=False))
        if score > best_score:
            best, best_score = list(tags), score
    return best


def test_learned_transitions_and_costs_add_up_and_viterbi_finds_the_best_sequence_under_them():
    rng = np.random.default_rng(5)
    learned = {role: rng.normal(size=(3, 3)).tolist() for role in ("source", "cue", "content")}
    costs = {"cue": {"begin": -1.0, "split": -1.5}}
    transitions = transition_scores(costs, learned)
    expected = np.asarray(learned["cue"])
    expected[0, 1] -= 1.0
    expected[1:, 1] -= 1.5
    assert np.allclose(transitions[1, :, 1], expected[:, 1])
    assert transitions[1, 0, 2] == -1e9  # still no I after O, whatever was learned
    at_boundary = transition_scores(costs, learned, at_boundary=True)
    assert np.allclose(at_boundary[1, 1:, 1], np.asarray(learned["cue"])[1:, 1])  # no split cost there
    for n in (1, 4, 7):
        logp = np.log(rng.dirichlet(np.ones(3), size=(n, 3)))
        tags = viterbi_bio(logp, transitions)
        for layer in range(3):
            assert tags[:, layer].tolist() == _best_by_matrix(logp[:, layer], transitions[layer])


def test_at_a_boundary_a_learned_split_score_stays_and_only_the_split_cost_goes():
    logits = np.zeros((4, 9), dtype=np.float32)
    logits[:, 0] = logits[:, 3] = 5.0
    logits[:, 8] = 2.0
    logits[0, 7] = logits[2, 7] = 3.0  # two spans, barely: B at the first and third word
    learned = {"content": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, -2.0, 0.0]]}  # I -> B discouraged
    free = np.array([False, False, True, False])  # the third word opens a paragraph
    plain = transition_scores(None, learned)
    boundary = transition_scores(None, learned, at_boundary=True)
    logp = logits.reshape(4, 3, 3) - np.log(np.exp(logits.reshape(4, 3, 3)).sum(-1, keepdims=True))
    # the learned I -> B score joins the two spans even at the boundary; the old default (0 there) would not
    assert viterbi_bio(logp, plain, free, boundary)[:, 2].tolist() == [1, 2, 2, 2]
    assert viterbi_bio(logp, plain, free)[:, 2].tolist() == [1, 2, 1, 2]


def test_a_split_cost_joins_two_spans_the_logits_barely_separate():
    words = [(0, 3), (4, 9), (10, 14), (15, 20)]
    logits = np.zeros((4, 9), dtype=np.float32)
    logits[:, 0] = logits[:, 3] = 5.0  # no source, no cue
    logits[:, 8] = 2.0  # content: inside everywhere...
    logits[0, 7] = logits[2, 7] = 3.0  # ...but a slightly better B at the first and third word
    assert _decode(words, logits)["content"] == [(0, 9), (10, 20)]
    joined = _decode(words, logits, transition_scores({"content": {"split": -1.5}}))
    assert joined["content"] == [(0, 20)]


def test_decoding_never_opens_a_span_with_inside():
    words = [(0, 3), (4, 9), (10, 14)]
    logits = np.zeros((3, 9), dtype=np.float32)
    logits[:, 2] = 5.0  # source layer: I everywhere, which alone is not a valid span
    logits[:, 4] = 5.0  # cue layer: B everywhere: three one-word spans
    logits[:, 6] = 5.0  # content layer: O everywhere
    found = _decode(words, logits)
    assert found["source"] == [(0, 14)]  # the best valid reading: B I I
    assert found["cue"] == [(0, 3), (4, 9), (10, 14)]
    assert found["content"] == []


def test_boundaries_are_paragraph_starts_and_closing_quotes_not_apostrophes_or_opening_quotes():
    import re

    from newstrace.attribution.tagger import boundaries

    text = 'He said: “We will go.” Then Russia’s army said "no" again.\nNext'
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]
    marked = [text[s:e] for (s, e), free in zip(words, boundaries(text, words), strict=True) if free]
    assert marked == ["Then", "again", "Next"]


def test_a_cue_that_stops_at_the_verb_takes_in_the_medium_of_the_statement():
    text = "The ministry said in a statement that talks resume, and the mayor said in an interview on Monday."
    said, later = _at(text, "said"), _at(text, "said", 40)
    assert text[slice(*extend_cue(text, said))] == "said in a statement"
    assert text[slice(*extend_cue(text, later))] == "said in an interview"
    text = "The ministry said in a hurry that talks resume."
    assert extend_cue(text, _at(text, "said")) == _at(text, "said")


def _at(text: str, part: str, after: int = 0) -> tuple[int, int]:
    start = text.index(part, after)
    return start, start + len(part)
