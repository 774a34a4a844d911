"""newstrace.attribution.scoring on hand-made cases with known numbers, the quote baseline of
benchmarks/attribution_eval.py, and one run on PolNeAR dev (skipped without ../shared/data/polnear)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from newstrace.attribution.polnear import GoldAttribution, read_split
from newstrace.attribution.scoring import (
    PRF,
    ROLES,
    RoleSpan,
    Tokens,
    attribution_spans,
    evaluate,
    score_documents,
    score_relations,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "attribution_eval.py"


def _polnear() -> Path:
    shared = os.environ.get("NEWSTRACE_SHARED_DATA")
    data = Path(shared) if shared else Path(__file__).resolve().parents[1].parent / "shared" / "data"
    return data / "polnear"


def _load_script():
    spec = importlib.util.spec_from_file_location("attribution_eval", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["attribution_eval"] = module
    spec.loader.exec_module(module)
    return module


attribution_eval = _load_script()


def span(text: str, role: str, phrase: str, occurrence: int = 0) -> RoleSpan:
    """The span of the ``occurrence``-th ``phrase`` in ``text``."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return RoleSpan(role, start, start + len(phrase))


def frag(text: str, phrase: str, occurrence: int = 0) -> tuple[int, int]:
    _, start, end = span(text, "content", phrase, occurrence)
    return start, end


def one(text: str, predicted: list[RoleSpan], gold: list[RoleSpan], role: str = "content") -> dict[str, PRF]:
    return score_documents([(text, predicted, gold)])[role]


def prf(score: PRF) -> tuple[float, float, float]:
    return round(score.precision, 4), round(score.recall, 4), round(score.f1, 4)


TEXT = "Trump said the plan will fail badly, and he added that it was “a disaster.”"


# -- tokens and snapping ---------------------------------------------------------------------------------


def test_tokens_split_apostrophes_and_punctuation() -> None:
    text = "He’s claiming “it” didn't work."
    tokens = Tokens(text)
    assert [text[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)] == [
        *["He", "’", "s", "claiming", "“", "it", "”", "didn", "'", "t", "work", "."]
    ]


def test_snap_widens_to_whole_tokens_and_drops_whitespace() -> None:
    tokens = Tokens("Donald Trump  said")
    assert tokens.snap(2, 9) == (0, 2)  # "nald Tr" -> "Donald Trump"
    assert tokens.chars((0, 2)) == (0, 12)
    assert tokens.snap(12, 14) is None  # only spaces
    assert tokens.snap(5, 5) is None  # empty
    assert tokens.snap(12, 15) == (2, 3)  # leading spaces trimmed


def test_mid_token_prediction_counts_as_the_whole_token() -> None:
    gold = [span(TEXT, "source", "Trump")]
    predicted = [RoleSpan("source", 1, 4)]  # "rum"
    assert prf(one(TEXT, predicted, gold, "source")["exact"]) == (1.0, 1.0, 1.0)


# -- span metrics ----------------------------------------------------------------------------------------


def test_exact_begin_overlap_and_tokens_differ_on_a_short_prediction() -> None:
    gold = [span(TEXT, "content", "the plan will fail badly")]  # 5 tokens
    predicted = [span(TEXT, "content", "the plan will")]  # 3 tokens, all in gold
    scores = one(TEXT, predicted, gold)
    assert prf(scores["exact"]) == (0.0, 0.0, 0.0)
    assert prf(scores["begin"]) == (1.0, 1.0, 1.0)
    assert prf(scores["overlap"]) == (1.0, 0.6, 0.75)
    assert prf(scores["tokens"]) == (1.0, 0.6, 0.75)


def test_begin_matching_is_one_to_one() -> None:
    gold = [span(TEXT, "content", "the plan will fail badly")]
    predicted = [span(TEXT, "content", "the plan"), span(TEXT, "content", "the plan will fail")]
    scores = one(TEXT, predicted, gold)
    assert prf(scores["begin"]) == (0.5, 1.0, 0.6667)
    assert prf(scores["exact"]) == (0.0, 0.0, 0.0)


def test_overlap_averages_spans_where_tokens_pool_them() -> None:
    gold = [span(TEXT, "content", "the plan will fail"), span(TEXT, "content", "disaster")]
    predicted = [span(TEXT, "content", "the plan will fail"), span(TEXT, "content", "he added")]
    scores = one(TEXT, predicted, gold)
    assert prf(scores["exact"]) == (0.5, 0.5, 0.5)
    # per span: predictions 4/4 and 0/2 in gold; gold spans 4/4 and 0/1 covered
    assert prf(scores["overlap"]) == (0.5, 0.5, 0.5)
    # pooled: 4 of 6 predicted tokens, 4 of 5 gold tokens
    assert prf(scores["tokens"]) == (0.6667, 0.8, 0.7273)


def test_roles_are_scored_separately() -> None:
    gold = [span(TEXT, "source", "Trump"), span(TEXT, "cue", "said")]
    predicted = [span(TEXT, "cue", "Trump"), span(TEXT, "source", "said")]
    scores = score_documents([(TEXT, predicted, gold)])
    for role in ("source", "cue"):
        assert prf(scores[role]["exact"]) == (0.0, 0.0, 0.0)
        assert prf(scores[role]["overlap"]) == (0.0, 0.0, 0.0)


def test_empty_predictions_and_empty_gold() -> None:
    gold = [span(TEXT, "content", "the plan")]
    nothing = one(TEXT, [], gold)
    assert all(prf(nothing[m]) == (0.0, 0.0, 0.0) for m in nothing)
    spurious = one(TEXT, gold, [])
    assert spurious["exact"].precision == 0.0 and spurious["exact"].f1 == 0.0
    agreed = one(TEXT, [], [])
    assert all(prf(agreed[m]) == (1.0, 1.0, 1.0) for m in agreed)


def test_scores_are_micro_summed_over_documents() -> None:
    other = "She said it."
    docs = [
        (TEXT, [span(TEXT, "cue", "said")], [span(TEXT, "cue", "said"), span(TEXT, "cue", "added")]),
        (other, [span(other, "cue", "She")], [span(other, "cue", "said")]),
    ]
    assert prf(score_documents(docs)["cue"]["exact"]) == (0.5, 0.3333, 0.4)


def test_unknown_role_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        score_documents([(TEXT, [RoleSpan("speaker", 0, 5)], [])])


# -- from attributions -----------------------------------------------------------------------------------

QUOTED = "“We will win,” Trump said, “and we will win big.”\nShe added “no way\nat all.”"


def test_each_fragment_of_a_discontinuous_span_is_its_own_span() -> None:
    gold = GoldAttribution(
        source=(frag(QUOTED, "Trump"),),
        cue=(frag(QUOTED, "said"),),
        content=(frag(QUOTED, "“We will win,”"), frag(QUOTED, "“and we will win big.”")),
    )
    spans = attribution_spans([gold], QUOTED)
    assert [s for s in spans if s.role == "content"] == [
        span(QUOTED, "content", "“We will win,”"),
        span(QUOTED, "content", "“and we will win big.”"),
    ]
    halves = [span(QUOTED, "content", "“We will win,”")]
    assert prf(one(QUOTED, halves, spans)["exact"]) == (1.0, 0.5, 0.6667)
    whole = [RoleSpan("content", 0, QUOTED.index("\n"))]  # across the cue: matches neither fragment
    assert prf(one(QUOTED, whole, spans)["exact"]) == (0.0, 0.0, 0.0)
    assert one(QUOTED, whole, spans)["overlap"].recall == 1.0


def test_fragments_with_only_whitespace_between_are_merged() -> None:
    gold = GoldAttribution(
        source=(frag(QUOTED, "She"),),
        cue=(frag(QUOTED, "added"),),
        content=(frag(QUOTED, "“no way"), frag(QUOTED, "at all.”")),  # brat split at the line break
    )
    spans = attribution_spans([gold], QUOTED)
    assert [s for s in spans if s.role == "content"] == [span(QUOTED, "content", "“no way\nat all.”")]
    result = evaluate([(QUOTED, [gold], [gold])])
    assert result.merged_fragments == 1
    assert result.gold_fragments == 4


def test_a_span_repeated_across_attributions_counts_once() -> None:
    text = "Trump said it was bad and tweeted that it was worse."
    first = GoldAttribution((frag(text, "Trump"),), (frag(text, "said"),), (frag(text, "it was bad"),))
    second = GoldAttribution((frag(text, "Trump"),), (frag(text, "tweeted"),), (frag(text, "it was worse"),))
    result = evaluate([(text, [first], [first, second])])
    assert result.duplicate_gold_spans == 1
    source = result.spans["source"]["exact"]
    assert (source.gold, source.predicted, source.hit_gold) == (1, 1, 1)
    assert prf(result.spans["cue"]["exact"]) == (1.0, 0.5, 0.6667)


# -- relations -------------------------------------------------------------------------------------------


def test_relations_need_every_role_and_match_one_to_one() -> None:
    text = "Trump said it was bad. Clinton said “it was fine,” officials added."
    right = GoldAttribution((frag(text, "Trump"),), (frag(text, "said"),), (frag(text, "it was bad"),))
    other = GoldAttribution(
        (frag(text, "Clinton"),), (frag(text, "said", 1),), (frag(text, "“it was fine,”"),)
    )
    wrong_source = GoldAttribution((frag(text, "officials"),), other.cue, other.content)
    score = score_relations([(text, [right, right, wrong_source], [right, other])]).prf
    assert (score.hit_gold, score.predicted, score.gold) == (1, 3, 2)
    assert prf(score) == (0.3333, 0.5, 0.4)


def test_relations_match_absent_sources_and_drop_empty_attributions() -> None:
    text = "It was reported that taxes rose."
    no_source = GoldAttribution((), (frag(text, "was reported"),), (frag(text, "that taxes rose"),))
    with_source = GoldAttribution((frag(text, "It"),), no_source.cue, no_source.content)
    empty = GoldAttribution((), (), ())
    assert prf(score_relations([(text, [no_source], [no_source, empty])]).prf) == (1.0, 1.0, 1.0)
    result = score_relations([(text, [with_source], [no_source, empty])])
    assert prf(result.prf) == (0.0, 0.0, 0.0)
    assert result.empty_gold == 1


def test_relations_snap_like_spans() -> None:
    text = "Officials said  the vote was fair ."
    gold = GoldAttribution(
        (frag(text, "Officials"),), (frag(text, "said"),), (frag(text, "the vote was fair"),)
    )
    assert text[33:35] == " ."
    sloppy = GoldAttribution(((0, 8),), ((10, 16),), ((15, 35),))  # "Official", "said  ", " the ... fair ."
    assert prf(score_relations([(text, [sloppy], [gold])]).prf) == (0.0, 0.0, 0.0)  # content adds "."
    sloppy = GoldAttribution(((0, 8),), ((10, 16),), ((15, 34),))  # " the vote was fair " snaps to gold
    assert prf(score_relations([(text, [sloppy], [gold])]).prf) == (1.0, 1.0, 1.0)


# -- the quote baseline ----------------------------------------------------------------------------------


def texts_of(text: str, attribution: GoldAttribution) -> dict[str, list[str]]:
    return {role: [text[s:e] for s, e in getattr(attribution, role)] for role in ROLES}


def test_quote_baseline_finds_quote_cue_and_source() -> None:
    text = "Title\n“We are going to win this state,” Trump said at a rally in Ohio. He left."
    (found,) = attribution_eval.quote_attributions(text)
    assert texts_of(text, found) == {
        "source": ["Trump"],
        "cue": ["said"],
        "content": ["“We are going to win this state,”"],
    }


def test_quote_baseline_joins_quotes_sharing_a_cue_and_skips_scare_quotes() -> None:
    text = "“The economy is doing fine,” she said, “and it will do better.” Critics call it “rigged.”"
    (found,) = attribution_eval.quote_attributions(text)
    assert texts_of(text, found) == {
        "source": ["she"],
        "cue": ["said"],
        "content": ["“The economy is doing fine,”", "“and it will do better.”"],
    }


def test_quote_baseline_according_to_takes_the_source_after() -> None:
    text = 'Mr. Smith was not convinced. "Nobody saw the report before Tuesday," according to Ms. Jones.'
    (found,) = attribution_eval.quote_attributions(text)
    assert texts_of(text, found)["cue"] == ["according to"]
    assert texts_of(text, found)["source"] == ["Ms. Jones"]


def test_quote_baseline_needs_a_say_verb_in_the_sentence() -> None:
    assert (
        attribution_eval.quote_attributions("He said nothing. “This is a long quote here.” Then he left.")
        == []
    )


# -- the real corpus -------------------------------------------------------------------------------------


@pytest.mark.shared
def test_polnear_dev_gold_scores_one_and_the_baseline_less() -> None:
    root = _polnear()
    if not (root / "dev").is_dir():
        pytest.skip(f"real corpus not available: {root / 'dev'} missing")
    articles = list(read_split(root, "dev"))
    assert len(articles) == 84
    gold = evaluate((a.text, a.attributions, a.attributions) for a in articles)
    assert gold.gold_attributions == 2193
    for role in ROLES:
        for metric, score in gold.spans[role].items():
            assert score.gold > 0, (role, metric)
            assert prf(score) == (1.0, 1.0, 1.0), (role, metric)
    assert prf(gold.relations.prf) == (1.0, 1.0, 1.0)

    output = attribution_eval.quotes_system([a.text for a in articles])
    baseline = evaluate((a.text, p, a.attributions) for a, p in zip(articles, output, strict=True))
    for role in ROLES:
        for metric, score in baseline.spans[role].items():
            assert 0.0 < score.f1 < 1.0, (role, metric, prf(score))
            assert score.gold == gold.spans[role][metric].gold
    assert 0.0 < baseline.relations.prf.f1 < 1.0


@pytest.mark.shared
def test_script_runs_without_recording(capsys: pytest.CaptureFixture[str]) -> None:
    root = _polnear()
    if not (root / "dev").is_dir():
        pytest.skip(f"real corpus not available: {root / 'dev'} missing")
    if attribution_eval.POLNEAR.resolve() != root.resolve():
        pytest.skip(f"the script reads {attribution_eval.POLNEAR}, not {root}")
    before = (
        attribution_eval.benchlib.RESULTS.read_text() if attribution_eval.benchlib.RESULTS.exists() else None
    )
    assert attribution_eval.main(["--system", "gold", "--limit", "3", "--no-record"]) == 0
    out = capsys.readouterr().out
    assert "first 3 articles" in out
    assert "| source |" in out and "**100.0**" in out
    after = (
        attribution_eval.benchlib.RESULTS.read_text() if attribution_eval.benchlib.RESULTS.exists() else None
    )
    assert before == after
