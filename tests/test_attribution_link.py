"""Linking role spans into attributions."""

from __future__ import annotations

from collections import Counter

from tests.conftest import shared_path

from newstrace.attribution.link import close_quote, link, one_per_side
from newstrace.attribution.polnear import read_split


def _span(text: str, part: str, after: int = 0) -> tuple[int, int]:
    start = text.index(part, after)
    return start, start + len(part)


def test_source_and_content_go_to_the_nearest_cue():
    text = (
        "The mayor said the bridge would reopen on Friday. "
        "“We are not ready,” the engineer told reporters, “and the river is still high.”"
    )
    sources = [_span(text, "The mayor"), _span(text, "the engineer")]
    cues = [_span(text, "said"), _span(text, "told reporters")]
    contents = [
        _span(text, "the bridge would reopen on Friday"),
        _span(text, "We are not ready,"),
        _span(text, "and the river is still high."),
    ]
    first, second = link(text, sources, cues, contents)
    assert first.source == (sources[0],) and first.content == (contents[0],)
    assert second.source == (sources[1],)
    assert second.content == (contents[1], contents[2])  # a quote interrupted by its source


def test_cue_without_source_gives_sourceless_attribution():
    text = "It is believed that the talks will resume in March."
    (attribution,) = link(
        text, [], [_span(text, "It is believed")], [_span(text, "the talks will resume in March")]
    )
    assert attribution.source == ()


def test_a_cue_without_a_source_shares_the_source_of_the_cue_before_it_in_its_sentence():
    text = "The minister said the road was closed, adding that it would reopen in May."
    source = _span(text, "The minister")
    cues = [_span(text, "said"), _span(text, "adding")]
    contents = [_span(text, "the road was closed"), _span(text, "it would reopen in May")]
    first, second = link(text, [source], cues, contents)
    assert first.source == second.source == (source,)
    assert second.content == (contents[1],)


def test_a_sentence_end_right_before_a_span_counts_in_the_distance():
    from newstrace.attribution.link import SENTENCE_COST, distance

    text = "The mayor said so. Asked about it, the engineer said no."
    assert distance(text, _span(text, "said"), _span(text, "Asked")) == len(" so. ") + SENTENCE_COST


def test_a_full_stop_after_an_abbreviation_or_an_initial_ends_no_sentence():
    from newstrace.attribution.link import distance, sentence_ends

    text = "“We will win,” Mr. Obama said. U.S. officials and Donald J. Trump agreed. Then No. 2 spoke."
    assert sentence_ends(text, 0, len(text)) == 2  # after "said" and "agreed"
    assert distance(text, _span(text, "We will win,"), _span(text, "said")) == len("” Mr. Obama ")


def test_a_cue_after_a_titled_name_shares_the_source_across_the_title():
    text = "The envoy said Gen. Ruiz had resigned and added that the talks would go on."
    source = _span(text, "The envoy")
    cues = [_span(text, "said"), _span(text, "added")]
    contents = [_span(text, "Gen. Ruiz had resigned"), _span(text, "the talks would go on")]
    first, second = link(text, [source], cues, contents)
    assert first.source == second.source == (source,)


def test_a_content_before_a_cue_across_an_and_goes_to_the_cue_it_follows():
    text = (
        "Vance tweeted late on Friday from his campaign bus, in capitals, that the mayor was a fraud "
        "and urged voters to stay home."
    )
    cues = [_span(text, "tweeted"), _span(text, "urged")]
    contents = [_span(text, "that the mayor was a fraud"), _span(text, "voters to stay home")]
    tweeted, urged = link(text, [_span(text, "Vance")], cues, contents)
    assert tweeted.content == (contents[0],)
    assert urged.content == (contents[1],)


def test_a_content_before_a_cue_across_a_sentence_end_stays_when_no_other_cue_can_take_it():
    text = "The port stays shut. Kell wants to hire dockers."
    contents = [_span(text, "The port stays shut"), _span(text, "to hire dockers")]
    (wants,) = link(text, [_span(text, "Kell")], [_span(text, "wants")], contents)
    assert wants.content == tuple(contents)


def test_a_cue_in_the_next_sentence_does_not_share_the_source():
    text = "The minister said the road was closed. It is believed that the talks will resume in March."
    source = _span(text, "The minister")
    cues = [_span(text, "said"), _span(text, "It is believed")]
    contents = [_span(text, "the road was closed"), _span(text, "the talks will resume in March")]
    first, second = link(text, [source], cues, contents)
    assert first.source == (source,) and second.source == ()


def test_a_second_content_on_the_same_side_of_a_cue_goes_to_a_cue_that_has_none_there():
    text = "The minister said the road was closed. The ferry runs, a clerk added."
    cues = [_span(text, "said"), _span(text, "added")]
    road, ferry = _span(text, "the road was closed"), _span(text, "The ferry runs")
    contents = {0: [road, ferry], 1: []}
    one_per_side(text, cues, contents)
    assert contents == {0: [road], 1: [ferry]}


def test_a_second_content_on_the_same_side_is_dropped_when_no_cue_can_take_it():
    text = "The minister said the road was closed. The ferry runs."
    road, ferry = _span(text, "the road was closed"), _span(text, "The ferry runs")
    contents = {0: [ferry, road]}
    one_per_side(text, [_span(text, "said")], contents)
    assert contents == {0: [road]}  # the fragment nearest the cue stays


def test_a_quotation_interrupted_by_its_cue_keeps_both_parts():
    text = "“We are not ready,” the warden said, “and the river is still high.”"
    parts = [_span(text, "“We are not ready,”"), _span(text, "“and the river is still high.”")]
    contents = {0: list(parts)}
    one_per_side(text, [_span(text, "said")], contents)
    assert contents == {0: parts}


def test_linker_recovers_polnear_dev_relations_from_gold_spans():
    articles = list(read_split(shared_path("polnear"), "dev"))
    tp = predicted = gold = 0
    for article in articles:
        roles = {
            role: [f for a in article.attributions for f in a.role(role)]
            for role in ("source", "cue", "content")
        }
        found = link(article.text, roles["source"], roles["cue"], roles["content"])
        g = Counter((a.source, a.cue, tuple(sorted(a.content))) for a in article.attributions)
        p = Counter((a.source, a.cue, a.content) for a in found)
        tp += sum((g & p).values())
        predicted += sum(p.values())
        gold += sum(g.values())
    # measured 0.953: sharing a source costs a little here (0.958 without it), since gold lists a shared source
    # once for each of its cues and a cue it leaves without one has none; on the tagger's spans it gains 2.6
    assert 2 * tp / (predicted + gold) >= 0.94


def test_far_pairs_are_cut_short_without_changing_the_links():
    # Pairs further apart than any linking distance skip the sentence search; the links must not change.
    from newstrace.attribution import link as linking

    filler = "The council met again. " * 40  # about 900 characters, many sentence ends
    text = f"The mayor said the bridge would reopen. {filler}An engineer told reporters the river was high."
    sources = [_span(text, "The mayor"), _span(text, "An engineer")]
    cues = [_span(text, "said"), _span(text, "told reporters")]
    contents = [_span(text, "the bridge would reopen"), _span(text, "the river was high")]
    gap = (cues[0][1], sources[1][0])
    full = linking.distance(text, (0, gap[0]), (gap[1], gap[1] + 1))
    short = linking.distance(text, (0, gap[0]), (gap[1], gap[1] + 1), beyond=500)
    assert short == gap[1] - gap[0] < full  # the bare length, already past every limit
    first, second = link(text, sources, cues, contents)
    assert (first.source, first.content) == ((sources[0],), (contents[0],))
    assert (second.source, second.content) == ((sources[1],), (contents[1],))


def test_a_quotation_ends_its_content_when_the_speaker_follows_the_closing_mark():
    text = (
        "“The council has received word that the dam will be opened at dawn,” the deputy warden has warned, "
        "Colonel Ivo Marsh, said on Friday."
    )
    cue = _span(text, "said")
    # the tagger read on past the closing mark, into the words that introduce the speaker
    content = (0, _span(text, "has warned")[1])
    (attribution,) = link(text, [_span(text, "Colonel Ivo Marsh")], [cue], [content])
    assert text[slice(*attribution.content[0])] == (
        "“The council has received word that the dam will be opened at dawn,”"
    )


def test_a_content_that_only_holds_a_quoted_phrase_or_comes_after_its_cue_is_kept_whole():
    text = "The mayor called the plan “a disaster,” adding that the river is still high, the paper said."
    held = _span(text, "the plan “a disaster,” adding that the river is still high")
    assert close_quote(text, held, _span(text, "said")) == held  # does not open with the mark
    text = "The warden said: “We are not ready,” and the river is still high."
    after = _span(text, "“We are not ready,” and the river is still high.")
    assert close_quote(text, after, _span(text, "said")) == after  # the cue comes first
    quoted = _span(text, "“We are not ready,”")
    assert close_quote(text, quoted, (len(text), len(text))) == quoted  # nothing after the mark
