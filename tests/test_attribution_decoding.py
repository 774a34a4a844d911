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


def _span_probabilities_by_search(logp: np.ndarray, matrix: np.ndarray, breaks=None) -> dict:
    """Every valid tagging's probability under the CRF, summed per span (first word, last word); a span
    that reaches a paragraph end counts there whatever follows."""
    paths = {}
    for tags in itertools.product(range(3), repeat=len(logp)):
        if tags[0] == 2 or any(a == 0 and b == 2 for a, b in itertools.pairwise(tags)):
            continue
        score = sum(logp[t, tag] for t, tag in enumerate(tags))
        score += sum(matrix[previous, tag] for previous, tag in zip((0, *tags), tags, strict=False))
        paths[tags] = np.exp(score)
    total = sum(paths.values())
    spans: dict[tuple[int, int], float] = {}
    for tags, weight in paths.items():
        for first, tag in enumerate(tags):
            if tag != 1:
                continue
            last = first
            while last + 1 < len(tags) and tags[last + 1] == 2 and not (breaks is not None and breaks[last]):
                last += 1
            spans[(first, last)] = spans.get((first, last), 0.0) + weight / total
    return spans


def test_span_probabilities_are_the_crf_marginals_of_each_span():
    from newstrace.attribution.tagger import span_probabilities

    rng = np.random.default_rng(3)
    matrix = transition_scores(
        {"content": {"begin": 0.3, "split": -1.0}}, {"content": rng.normal(size=(3, 3))}
    )[2]
    for n in (1, 2, 4, 6):
        logp = np.log(rng.dirichlet(np.ones(3), size=n))
        found = {(first, last): p for p, first, last in span_probabilities(logp, matrix, floor=1e-9)}
        expected = {k: p for k, p in _span_probabilities_by_search(logp, matrix).items() if p >= 1e-9}
        assert found.keys() == expected.keys()
        for key, probability in expected.items():
            assert np.isclose(found[key], probability), (n, key)
    breaks = np.array([False, True, False, False, False])
    logp = np.log(rng.dirichlet(np.ones(3), size=5))
    found = {(a, b): p for p, a, b in span_probabilities(logp, matrix, breaks=breaks, floor=1e-9)}
    expected = {k: p for k, p in _span_probabilities_by_search(logp, matrix, breaks).items() if p >= 1e-9}
    assert found.keys() == expected.keys()
    assert all(np.isclose(found[k], p) for k, p in expected.items())
    assert all(not (a <= 1 < b) for a, b in found)  # no span runs across the paragraph end after word 1


def test_select_spans_keeps_the_most_probable_and_drops_what_overlaps_them_or_falls_short():
    from newstrace.attribution.tagger import select_spans

    probabilities = {(0, 10): 0.3, (0, 20): 0.45, (25, 30): 0.2, (32, 40): 0.6, (15, 34): 0.5}
    assert select_spans(probabilities, 0.25) == [(0, 20), (32, 40)]
    assert select_spans(probabilities, 0.5) == [(32, 40)]
    assert select_spans(probabilities, 0.1) == [(0, 20), (25, 30), (32, 40)]


def test_spans_that_settle_into_one_content_pool_their_probability():
    import re

    from newstrace.attribution.tagger import pooled

    text = "“The bridge is closed,” the deputy has warned, the mayor said."
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]
    comma = next(k for k, (s, _) in enumerate(words) if text[s] == "”")
    # the quotation alone, and the quotation with two lengths of the words that follow it
    candidates = [(0.2, 0, comma), (0.15, 0, comma + 2), (0.1, 0, comma + 4), (0.3, comma + 1, comma + 2)]
    found = pooled(text, words, candidates)
    assert found[(0, text.index("”") + 1)] == 0.2 + 0.15 + 0.1
    assert found[(text.index("the deputy"), text.index("the deputy") + len("the deputy"))] == 0.3


def test_a_content_is_cut_at_a_blank_line_and_a_part_with_no_word_is_dropped():
    from newstrace.attribution.tagger import by_paragraph

    text = "“We will win,” she said.\n\n“Next year”\n\n“\n\nThe end"
    spans = by_paragraph(text, [(0, len(text))])
    assert [text[s:e] for s, e in spans] == ["“We will win,” she said.", "“Next year”", "The end"]
    assert by_paragraph("one two\nthree", [(0, 13)]) == [(0, 13)]  # a single line break is not a paragraph


def test_a_role_named_in_the_manifest_is_decoded_by_span_probability():
    words = [(0, 3), (4, 9), (10, 14), (15, 20)]
    text = "one three four seven"
    logits = np.zeros((4, 9), dtype=np.float32)
    logits[:, 0] = logits[:, 3] = 5.0  # no source, no cue
    logits[:, 6] = 1.0  # content: O a little more likely than B or I on every word...
    logits[1, 7] = 1.4  # ...except a B on the second word that Viterbi takes
    assert _decode(words, logits, text=text)["content"] == [(4, 9)]
    # on its own, that span is less likely than not
    assert _decode(words, logits, text=text, marginal={"content": 0.5})["content"] == []
    assert _decode(words, logits, text=text, marginal={"content": 0.3})["content"] == [(4, 9)]
