"""Reported "that" clauses cut before their verb are run on to the end of the clause, from the parse."""

from __future__ import annotations

import pytest

from newstrace.attribution.clause import candidates, complete_clauses
from newstrace.model import Attribution

TEXT = (
    "Ilsa Marn added that the harbour authority, formerly known as the Port Board, has closed two piers "
    "in the past week, of which one was rebuilt in 2019. Boats were waiting."
)


def _span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return (start, start + len(words))


def _attribution(text: str, *content: str) -> Attribution:
    return Attribution(
        source=(_span(text, "Ilsa Marn"),),
        cue=(_span(text, "added"),),
        content=tuple(_span(text, words) for words in content),
    )


def test_a_that_clause_cut_at_its_subject_runs_to_the_end_of_the_clause():
    (completed,) = complete_clauses(TEXT, [_attribution(TEXT, "that the harbour authority")])
    (content,) = completed.content
    assert TEXT[content[0] : content[1]] == (
        "that the harbour authority, formerly known as the Port Board, has closed two piers in the past week, "
        "of which one was rebuilt in 2019"
    )
    assert completed.source == (_span(TEXT, "Ilsa Marn"),) and completed.cue == (_span(TEXT, "added"),)


def test_a_content_that_holds_its_verb_is_left_alone():
    attribution = _attribution(
        TEXT, "that the harbour authority, formerly known as the Port Board, has closed two piers"
    )
    assert complete_clauses(TEXT, [attribution]) == [attribution]


def test_a_clause_whose_rest_is_already_a_fragment_is_left_alone():
    # PolNeAR's annotators often cut a content around the interruption; the tagger then finds both parts.
    attribution = _attribution(TEXT, "that the harbour authority", "has closed two piers in the past week")
    assert complete_clauses(TEXT, [attribution]) == [attribution]


def test_that_as_a_determiner_opens_no_clause():
    text = "Ilsa Marn added that remark to the minutes, saying the piers would reopen."
    attribution = _attribution(text, "that remark")
    assert complete_clauses(text, [attribution]) == [attribution]


def test_only_contents_opening_with_that_right_after_their_cue_are_candidates():
    text = "Ilsa Marn added that the harbour authority, she said, has closed two piers."
    attributions = [
        _attribution(text, "that the harbour authority"),
        Attribution(source=(), cue=(_span(text, "said"),), content=(_span(text, "the harbour authority"),)),
        Attribution(
            source=(), cue=(_span(text, "Ilsa"),), content=(_span(text, "that the harbour authority"),)
        ),
    ]
    assert candidates(text, attributions) == [(0, 0)]


def test_no_parser_is_loaded_when_no_content_may_be_cut_short():
    def parser():
        raise AssertionError("loaded")

    attribution = _attribution(TEXT, "the harbour authority")
    assert complete_clauses(TEXT, [attribution], parser) == [attribution]


def test_without_a_parser_the_attributions_are_kept_with_a_warning():
    def parser():
        raise RuntimeError("the English spaCy model is not installed")

    attribution = _attribution(TEXT, "that the harbour authority")
    with pytest.warns(UserWarning, match="not installed"):
        assert complete_clauses(TEXT, [attribution], parser) == [attribution]


def test_a_quotation_the_clause_opened_keeps_its_closing_mark():
    text = 'Ilsa Marn added that the old piers, "once rebuilt, will outlast every ferry in Kastrel." Boats waited.'
    (completed,) = complete_clauses(text, [_attribution(text, "that the old piers")])
    (content,) = completed.content
    assert text[content[0] : content[1]].endswith('every ferry in Kastrel."')
