"""Framing labels (newstrace.nlp.framing): each pattern on invented sentences, the lexicon, the demo corpus
against its answer key, and the five seed articles (skipped without ../shared/data)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES, ROOT, shared_path

from newstrace.model import Document, Label, OffsetMap
from newstrace.nlp.annotate import NlpConfig, annotate_documents
from newstrace.nlp.framing import LabelError, alias_table, find_labels, load_lexicon

ACTORS = EXAMPLES / "actors.yml"
CONFIG = NlpConfig.of(aliases=[ACTORS], places=[EXAMPLES / "places.yml"], attributions=False)


def _load_script():
    spec = importlib.util.spec_from_file_location("framing_eval", ROOT / "benchmarks" / "framing_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["framing_eval"] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


def _document(text: str) -> Document:
    return Document("test", "test.txt", "", "txt", text, text, OffsetMap.identity(len(text)))


@pytest.fixture(scope="module")
def labels_of():
    """Annotate an invented text (spaCy loads once per process) and find its labels."""
    table = alias_table([ACTORS])

    def run(text: str, lexicon=None) -> list[Label]:
        [annotations] = annotate_documents([_document(text)], CONFIG)
        found = find_labels(text, annotations.mentions, annotations.sentences, lexicon, aliases=table)
        for label in found:
            assert label.text == text[label.start : label.end]
        return found

    return run


def _only(labels: list[Label]) -> Label:
    assert len(labels) == 1, labels
    return labels[0]


# -- the name patterns ---------------------------------------------------------------------------------------


def test_label_of_actor_links_the_label_to_the_named_group(labels_of):
    text = "Officials said terrorists of the Free Highlands Front shelled the road on Monday."
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.head, label.rule) == (
        "fhf",
        "terrorists",
        "terrorists",
        "label-of-actor",
    )
    assert label.text == "terrorists of the Free Highlands Front"
    assert text[label.mention_start : label.mention_end] == "Free Highlands Front"


def test_label_from_actor_counts_like_of(labels_of):
    label = _only(labels_of("The convoy was met by volunteer rescuers from Highland Civil Rescue on Sunday."))
    assert (label.actor_id, label.label, label.modifiers) == ("hcr", "volunteer rescuers", ("volunteer",))


def test_actor_then_label_keeps_modifiers_on_both_sides_and_the_abbreviation(labels_of):
    text = "Members of the Takfiri Hayat Tahrir al-Sham (HTS) terrorist outfit met in a village on Monday."
    label = _only(labels_of(text))
    assert label.actor_id == "hts"
    assert label.text == "the Takfiri Hayat Tahrir al-Sham (HTS) terrorist outfit"
    assert (label.label, label.head, label.modifiers) == (
        "Takfiri terrorist outfit",
        "outfit",
        ("Takfiri", "terrorist"),
    )
    assert label.rule == "actor-label"
    assert text[label.mention_start : label.mention_end] == "Hayat Tahrir al-Sham"


def test_name_before_a_plural_label_is_an_actor_label(labels_of):
    label = _only(labels_of("Residents said HTS terrorists attacked the checkpoint at dawn."))
    assert (label.actor_id, label.label, label.text) == ("hts", "terrorists", "HTS terrorists")


def test_short_form_of_a_name_given_in_full_counts_as_the_actor(labels_of):
    text = "The Free Highlands Front moved north. Local people said the Front terrorists took the bridge."
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.rule) == ("fhf", "terrorists", "actor-label")
    assert label.text == "the Front terrorists"


def test_label_before_actor_names_the_group_it_labels(labels_of):
    text = "Reports accused the so-called civil defense group White Helmets of staging the video."
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.head, label.rule) == (
        "white-helmets",
        "so-called civil defense group",
        "group",
        "label-actor",
    )
    assert label.text == "the so-called civil defense group White Helmets"
    assert (
        _only(labels_of("Airstrikes hit the terrorist group HTS near the border.")).label == "terrorist group"
    )


def test_modifier_alone_before_a_name_is_a_label_without_head(labels_of):
    label = _only(labels_of("The militants are working hand in hand with the so-called Amber Helmets."))
    assert label.actor_id == "hcr"
    assert (label.label, label.head, label.rule) == ("so-called", "", "modifier-actor")
    assert label.text == "the so-called Amber Helmets"


def test_apposition_after_a_name_labels_it(labels_of):
    text = "The video came from the White Helmets, a pseudo-humanitarian organization, on Friday."
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.rule) == (
        "white-helmets",
        "pseudo-humanitarian organization",
        "apposition",
    )
    assert label.text == "a pseudo-humanitarian organization"


def test_copula_labels_but_a_negated_one_does_not(labels_of):
    label = _only(labels_of("The ministry repeated that HTS is a terrorist organisation."))
    assert (label.actor_id, label.label, label.rule) == ("hts", "terrorist organisation", "copula")
    assert labels_of("The court found that HTS is not a terrorist organisation.") == []


def test_alias_ending_in_a_label_word_is_a_label(labels_of):
    label = _only(labels_of("The ministry said the Passite militants were moving cylinders."))
    assert (label.actor_id, label.label, label.rule) == ("fhf", "militants", "name")
    assert label.text == "the Passite militants"


# -- labels without a name: anaphora and the document's only actor ------------------------------------------


def test_definite_label_refers_to_the_latest_actor_of_its_kind(labels_of):
    text = (
        "Fighters of the Free Highlands Front entered the town. Residents fled to the hills. "
        "The terrorist outfit then blocked the roads."
    )
    outfit = [label for label in labels_of(text) if label.head == "outfit"]
    label = _only(outfit)
    assert (label.actor_id, label.label, label.rule) == ("fhf", "terrorist outfit", "anaphora")
    assert text[label.mention_start : label.mention_end] == "Free Highlands Front"


def test_ngo_modifiers_make_a_label_look_for_an_ngo(labels_of):
    text = (
        "The Free Highlands Front and the Amber Helmets met in Kessarin. "
        "The pseudo-humanitarian organisation denied it."
    )
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.rule) == (
        "hcr",
        "pseudo-humanitarian organisation",
        "anaphora",
    )


def test_bare_plural_refers_to_the_only_armed_group_of_the_text(labels_of):
    text = (
        "The ministry accused rebels in the north of planning an attack. "
        "A spokesman denied it. Officials met on Monday. The Free Highlands Front has held the town since 2014."
    )
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.modifiers, label.rule) == ("fhf", "rebels", (), "document")
    assert label.text == "rebels"  # "accused" is the verb, not part of the label


def test_label_with_two_candidate_groups_far_back_is_left_out(labels_of):
    text = (
        "HTS and the Free Highlands Front signed a truce in March. The truce held for a week. "
        "Prices rose in the market. Schools opened again. The militants then left the town."
    )
    assert labels_of(text) == []


def test_same_head_prefers_the_actor_the_text_gave_that_label(labels_of):
    text = (
        "Helicopters moved ISIS terrorists from a prison run by the Syrian Democratic Forces. "
        "About 60 terrorists were taken out."
    )
    counts = [label for label in labels_of(text) if label.text == "terrorists"]
    assert _only(counts).actor_id == "isis"


def test_militant_opposition_fighters_is_one_label(labels_of):
    text = "Militant opposition fighters of HTS are preparing an attack, the ministry said."
    label = _only(labels_of(text))
    assert (label.actor_id, label.label, label.modifiers) == (
        "hts",
        "militant opposition fighters",
        ("militant", "opposition"),
    )


def test_rebel_held_is_a_label_of_the_group_holding_the_area(labels_of):
    label = _only(labels_of("HTS controls Idlib. Aid reached two rebel-held towns on Monday."))
    assert (label.actor_id, label.label, label.head) == ("hts", "rebel-held", "rebel")
    assert label.rule in ("held-anaphora", "held-document")
    assert labels_of("HTS took the town. The opposition held talks in Geneva.") == []


# -- precision ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "The group said HTS had left the village.",  # "group" alone is no label
        "The White Helmets group said it had treated forty people.",  # nor as part of the name
        "Remnants of terrorist groups in the region are regrouping, HTS said.",  # generic plural
        "An armed group attacked the convoy before HTS arrived.",  # indefinite: someone new
        "The army continued anti-terrorist operations against HTS.",  # part of another word
        "The Shanghai Cooperation Organization met as HTS shelled the town.",  # inside a proper name
        "The council said that its own fighters would guard HTS prisoners.",  # weak head, no modifier
        "Varnia Today wrote that ‘militants’ were ready, the Free Highlands Front said.",  # a cited label
    ],
)
def test_words_that_are_no_label_of_an_actor(labels_of, text):
    assert labels_of(text) == []


def test_labels_are_ordered_with_offsets_into_the_text(labels_of):
    text = (
        "Terrorists of the Free Highlands Front and the so-called Amber Helmets are preparing an attack. "
        "The terrorists have moved cylinders."
    )
    found = labels_of(text)
    assert [(label.actor_id, label.rule) for label in found] == [
        ("fhf", "label-of-actor"),
        ("hcr", "modifier-actor"),
        ("fhf", "anaphora"),
    ]
    assert [label.start for label in found] == sorted(label.start for label in found)


# -- the lexicon --------------------------------------------------------------------------------------------


def test_shipped_lexicon_has_the_head_nouns_and_modifiers():
    lexicon = load_lexicon()
    for word in ["terrorists", "militants", "rebels", "jihadists", "gunmen", "fighters", "outfit", "group"]:
        assert lexicon.lookup([word], 0) is not None, word
    for phrase in [["takfiri"], ["so", "called"], ["pseudo", "humanitarian"], ["opposition"], ["armed"]]:
        entry = lexicon.lookup(phrase, 0)
        assert entry is not None and "modifiers" in entry.roles, phrase
    assert lexicon.lookup(["takfiri"], 0).form == "Takfiri"
    assert lexicon.lookup(["outfits"], 0).form == "outfit"


def test_user_lexicon_adds_words(labels_of, tmp_path):
    extra = tmp_path / "labels.yml"
    extra.write_text("members:\n  armed_group: [brigands]\n", encoding="utf-8")
    text = "Brigands of the Free Highlands Front blocked the road."
    assert labels_of(text) == []
    label = _only(labels_of(text, load_lexicon([extra])))
    assert (label.actor_id, label.label) == ("fhf", "brigands")


def test_bad_lexicon_file_is_refused(tmp_path):
    bad = tmp_path / "labels.yml"
    bad.write_text("heads: [terrorists]\n", encoding="utf-8")
    with pytest.raises(LabelError, match="unknown list 'heads'"):
        load_lexicon([bad])


# -- the demo corpus and the seeds --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def framing_eval():
    return _load_script()


def test_demo_corpus_labels_match_the_answer_key(framing_eval):
    truth = json.loads((EXAMPLES / "ground_truth.json").read_text(encoding="utf-8"))
    distinct, _ = framing_eval.analyse([EXAMPLES / "corpus"], CONFIG, load_lexicon(), alias_table([ACTORS]))
    by_input = {(d.source_path, d.locator): a.document.doc_id for a in distinct.values() for d in a.inputs}
    found, n_key, _, _, judged, judged_correct, missed = framing_eval.evaluate(
        distinct, truth["labels"], by_input
    )
    assert found / n_key >= 0.8, missed
    assert judged and judged_correct / judged >= 0.9
    labels = {label.label for a in distinct.values() for label in a.labels if label.actor_id == "fhf"}
    assert {"terrorists", "terrorist outfit", "militants", "rebels", "opposition fighters"} <= labels


def test_seeds_label_hts_as_terrorists_in_002_and_003_and_rebels_in_004(framing_eval):
    seeds = shared_path("seeds")
    distinct, _ = framing_eval.analyse(
        [seeds], NlpConfig.of(attributions=False), load_lexicon(), alias_table()
    )
    by_file: dict[str, list[Label]] = {}
    for analysed in distinct.values():
        for document in analysed.inputs:
            by_file[Path(document.source_path).name[:3]] = analysed.labels

    def labels(number: str, actor: str) -> set[str]:
        return {label.label for label in by_file[number] if label.actor_id == actor}

    for number in ("002", "003"):
        hts = labels(number, "hts")
        assert any("terrorist" in label for label in hts), hts
        assert "so-called civil defense group" in labels(number, "white-helmets")
    assert any("Takfiri" in label for label in labels("002", "hts") | labels("003", "hts"))
    hts_004 = labels("004", "hts")
    assert {"rebels", "militant opposition fighters"} <= hts_004
    assert not any("terrorist" in label for label in hts_004)
