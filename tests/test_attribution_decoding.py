"""Constrained BIO decoding of the tagger's three tag layers."""

from __future__ import annotations

import itertools

import numpy as np

from newstrace.attribution.tagger import _decode, viterbi_bio


def _best_by_search(logp: np.ndarray) -> list[int]:
    """Every O/B/I sequence with no I after O and none first, scored by brute force."""
    best, best_score = None, -np.inf
    for tags in itertools.product(range(3), repeat=len(logp)):
        if tags[0] == 2 or any(a == 0 and b == 2 for a, b in itertools.pairwise(tags)):
            continue
        score = sum(logp[t, tag] for t, tag in enumerate(tags))
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
