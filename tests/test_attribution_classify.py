"""Source types, actors, modality and hedging of attributions (spans given)."""

from __future__ import annotations

import pytest

from newstrace.attribution.classify import classify, modality, source_type
from newstrace.model import Attribution, Mention
from newstrace.nlp.aliases import load_aliases

ACTORS = load_aliases()


def _attribution(text: str, source: str, cue: str, content: str) -> Attribution:
    def span(part: str) -> tuple[tuple[int, int], ...]:
        return ((text.index(part), text.index(part) + len(part)),) if part else ()

    return Attribution(span(source), span(cue), span(content))


@pytest.mark.parametrize(
    ("source", "labels", "expected"),
    [
        ("sources close to the opposition", [], "anonymous"),
        ("a senior military source", [], "anonymous"),
        ("via several channels", [], "anonymous"),
        ("Al-Masdar News", ["ORG"], "media"),
        ("state television", [], "media"),
        ("a leaked report", [], "document"),
        ("Ilse Varga", ["PERSON"], "person"),
        ("he", [], "person"),
        ("the defence minister", [], "role"),
        ("a ministry spokesman", [], "role"),
        ("the ministry", [], "institution"),
        ("the statement", [], "institution"),
        ("Russia", ["GPE"], "institution"),
        ("they", [], "unknown"),
    ],
)
def test_source_types(source: str, labels: list[str], expected: str):
    mentions = [Mention(0, len(source), source, label) for label in labels]
    assert source_type(source, mentions, ACTORS) == expected


@pytest.mark.parametrize(
    ("cue", "content", "expected"),
    [
        ("said", "militants are preparing to stage a chemical attack in Kastrel", "prediction"),
        ("warned", "the army would respond", "prediction"),
        ("warned", "the United States against reckless moves", "warning"),
        ("accused", "the rescuers of filming fake scenes", "accusation"),
        ("said", "the attack had been staged by the opposition", "accusation"),
        ("denied", "using chemical weapons", "denial"),
        ("rejected", "the allegation", "denial"),
        ("said", "the bridge reopened on Friday", "assertion"),
    ],
)
def test_modality(cue: str, content: str, expected: str):
    assert modality(cue, content) == expected


def test_named_spokesman_gives_person_and_organisation():
    text = (
        "Russian defense ministry spokesman Igor Konashenkov said the group delivered eight tanks to Kastrel."
    )
    start = text.index("Igor Konashenkov")
    mentions = [
        Mention(start, start + len("Igor Konashenkov"), "Igor Konashenkov", "PERSON", "igor-konashenkov")
    ]
    attribution = classify(
        text,
        _attribution(
            text,
            "Russian defense ministry spokesman Igor Konashenkov",
            "said",
            "the group delivered eight tanks to Kastrel",
        ),
        mentions,
        ACTORS,
    )
    assert (attribution.source_type, attribution.source_actor, attribution.source_org) == (
        "person",
        "igor-konashenkov",
        "ru-mod",
    )
    assert attribution.modality == "assertion" and not attribution.hedged


def test_claimed_and_so_called_are_hedged():
    text = "Russia claimed on Saturday that the so-called rescuers are preparing a staged attack."
    attribution = classify(
        text,
        _attribution(text, "Russia", "claimed", "the so-called rescuers are preparing a staged attack"),
        [],
        ACTORS,
    )
    assert attribution.hedged and attribution.modality == "prediction"
    neutral = "The mayor said the bridge reopened on Friday."
    assert not classify(
        neutral, _attribution(neutral, "The mayor", "said", "the bridge reopened on Friday"), [], ACTORS
    ).hedged


def test_attribution_without_source_is_unknown():
    text = "It is believed that the talks will resume in March."
    attribution = classify(
        text, _attribution(text, "", "It is believed", "the talks will resume in March"), [], ACTORS
    )
    assert attribution.source_type == "unknown" and attribution.modality == "prediction"


def test_hand_labelled_sample_points_at_its_texts():
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = ROOT / "benchmarks" / "data" / "check_attribution_sample.py"
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
