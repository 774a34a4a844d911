"""The language pipeline on the seeds and the demo corpus: actors, places, dates, and file offsets."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES, run_cli, shared_path

import newstrace
from newstrace.nlp.aliases import AliasError, load_aliases
from newstrace.nlp.gazetteer import GazetteerError, read_places_file
from newstrace.nlp.translit import keyed, name_key

# Published coordinates of the places the seeds name (decimal degrees).
SEED_PLACES = {
    "Idlib": (35.93, 36.63),
    "Jisr al-Shughur": (35.81, 36.32),
    "Sarmada": (36.18, 36.72),
    "Ariha": (35.81, 36.61),
    "Douma": (33.57, 36.40),
    "Afrin": (36.51, 36.87),
    "Hmeimim": (35.40, 35.95),
}


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 12742 * math.asin(math.sqrt(h))


@pytest.mark.parametrize(
    ("forms", "key"),
    [
        (["Hay'at Tahrir al-Sham", "Hayat Tahrir Al-Sham", "HAY’AT TAHRIR ASH-SHAM"], "hayat tahrir sham"),
        (["Jisr al-Shughur", "Jisr ash-Shughur", "Jisr Al-Shughour", "Jisr ash Shughūr"], "jisr shughur"),
        (["Jabhat al-Nusra", "Jabhat an-Nusra", "jabhat el Nusra"], "jabhat nusra"),
        (["Dūmā", "Douma"], "duma"),
    ],
)
def test_transliteration_variants_share_one_key(forms: list[str], key: str):
    assert {name_key(form) for form in forms} == {key}


def test_keyed_text_maps_matches_back_to_the_original():
    text = "Fighters of Hay’at Tahrir al-Sham entered Jisr Al-Shughour."
    k = keyed(text)
    start = k.key.index("jisr shughur")
    s, e = k.span(start, start + len("jisr shughur"))
    assert text[s:e] == "Jisr Al-Shughour"


def test_user_alias_file_extends_and_errors_name_the_file(tmp_path: Path):
    good = tmp_path / "actors.yml"
    good.write_text(
        "actors:\n  - id: hts\n    aliases: [Tahrir Brigade]\n  - id: kastrel-guard\n    label: ORG\n    aliases: [Kastrel Guard]\n"
    )
    table = load_aliases([good])
    assert table.actor_for("the Tahrir Brigade").actor_id == "hts"
    assert table.actor_for("Jabhat al-Nusra").actor_id == "hts"  # shipped aliases kept
    assert table.actor_for("Kastrel Guard's").actor_id == "kastrel-guard"
    bad = tmp_path / "bad.yml"
    bad.write_text("actors:\n  - id: x\n    label: MONSTER\n")
    with pytest.raises(AliasError, match=r"bad\.yml: actor x: label 'MONSTER'"):
        load_aliases([bad])


def test_places_file_errors_name_the_file_and_place(tmp_path: Path):
    bad = tmp_path / "places.yml"
    bad.write_text("places:\n  - id: x\n    name: Kastrel\n")
    with pytest.raises(GazetteerError, match=r"places\.yml: place 1 \(Kastrel\) lacks lat, lon"):
        read_places_file(bad)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory):
    seeds_dir = shared_path("seeds")
    db = tmp_path_factory.mktemp("annotate") / "seeds.duckdb"
    newstrace.ingest([seeds_dir], db=db)
    newstrace.annotate(db=db, jobs=1)
    store = newstrace.open(db)
    yield store
    store.close()


def test_seed_hts_and_white_helmets_forms_are_one_actor_each(seeds):
    forms = seeds.sql(
        "SELECT text, actor_id FROM mentions WHERE regexp_matches(lower(text), 'tahrir|nusra|hts|white helmets')"
    ).values.tolist()
    hts = {text for text, actor in forms if "helmets" not in text.lower()}
    assert len(hts) >= 5  # HTS, Hayat/Hay'at Tahrir al-Sham, Jabhat al-Nusra, al Nusra, ...
    assert {actor for text, actor in forms if "helmets" not in text.lower()} == {"hts"}
    assert {actor for text, actor in forms if "helmets" in text.lower()} == {"white-helmets"}
    assert seeds.one("SELECT count(DISTINCT doc_id) FROM mentions WHERE actor_id = 'hts'")[0] == 5


def test_seed_places_resolve_within_10_km(seeds):
    rows = seeds.sql("SELECT text, lat, lon FROM places").values.tolist()
    for name, (lat, lon) in SEED_PLACES.items():
        # "Idlib province" and "Greater Idlib" are the governorate, a different place from the town.
        region = ("province", "governorate", "greater", "countryside", "region")
        hits = [
            (t, la, lo)
            for t, la, lo in rows
            if name_key(name) in name_key(t) and not any(w in t.lower() for w in region)
        ]
        assert hits, f"{name} not found"
        for text, la, lo in hits:
            assert km(lat, lon, la, lo) <= 10, (name, text, la, lo)
    spellings = {t for t, _, _ in rows if "shughur" in name_key(t)}
    assert len(spellings) == 3  # Jisr al-Shughur, Jisr ash-Shughur, Jisr Al-Shughur


def test_no_person_entity_for_a_place_or_group(seeds):
    people = {t for (t,) in seeds.sql("SELECT text FROM mentions WHERE label = 'PERSON'").values.tolist()}
    places = {t for (t,) in seeds.sql("SELECT text FROM places").values.tolist()}
    groups = {
        t
        for (t,) in seeds.sql(
            "SELECT text FROM mentions WHERE actor_id IN (SELECT actor_id FROM actors WHERE label = 'ORG')"
        ).values.tolist()
    }
    assert not people & (places | groups)
    for name in [*SEED_PLACES, "Hayat Tahrir al-Sham", "Lattakia", "Jandaris"]:
        assert not any(name_key(name) == name_key(p) for p in people), name


def test_seed_dates_from_text(seeds):
    value = seeds.one("SELECT value FROM timexes WHERE text = 'September 19th'")[0]
    assert value == "2021-09-19"
    published = seeds.one("SELECT published, published_source FROM documents WHERE source_path LIKE '%001_%'")
    assert str(published[0])[:10] == "2021-09-19" and published[1] == "inferred"
    # 000 names no year: "Last Monday, May 6th" takes the year, within the corpus's dates, when May 6 is a Monday.
    assert seeds.one("SELECT value FROM timexes WHERE text = 'Last Monday, May 6th'")[0] == "2019-05-06"


def test_annotate_files_offsets_point_into_the_file_as_read(tmp_path: Path):
    text = (
        "Kastrel, 3 May 2021 — The Syrian Arab Army shelled Jisr al-Shughur on Tuesday, the SOHR said.\n\n"
        "Share this:\n\nResidents of Idlib said HTS fighters had left.\n"
    )
    path = tmp_path / "a.txt"
    path.write_text(text, encoding="utf-8")
    result = run_cli("annotate", path, "--jsonl", check=True)
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["file"] == str(path)
    for item in record["entities"] + record["places"] + record["timexes"]:
        assert text[item["start"] : item["end"]] == item["text"]
    assert {e["actor_id"] for e in record["entities"]} >= {"saa", "hts"}
    assert {p["name"] for p in record["places"]} >= {"Idlib"}
    assert record["published"] == "2021-05-03"  # from the text: the document has no metadata
    assert any(t["value"] == "2021-04-27" for t in record["timexes"])  # "on Tuesday": the Tuesday before


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("annotate") / "demo.duckdb"
    newstrace.ingest([EXAMPLES / "corpus"], db=db)
    newstrace.annotate(db=db, aliases=[EXAMPLES / "actors.yml"], places=[EXAMPLES / "places.yml"], jobs=1)
    store = newstrace.open(db)
    yield store, json.loads((EXAMPLES / "ground_truth.json").read_text(encoding="utf-8"))
    store.close()


def test_demo_actor_aliases_link_to_their_actor(demo):
    store, truth = demo
    linked = dict(
        store.sql(
            "SELECT text, any_value(actor_id) FROM mentions WHERE actor_id IS NOT NULL GROUP BY 1"
        ).values.tolist()
    )
    for actor in truth["actors"]:
        for form in [actor["canonical"], *actor["aliases"]]:
            if form in linked:
                assert linked[form] == actor["id"], form
    assert {linked.get(f) for f in ("FHF", "Free Highlands Front", "Brotherhood of the High Passes")} == {
        "fhf"
    }


def test_demo_places_match_the_answer_key(demo):
    store, truth = demo
    rows = store.sql("SELECT text, name, lat, lon FROM places").values.tolist()
    for place in truth["places"]:
        hits = [r for r in rows if r[1] == place["name"]]
        assert hits, place["name"]
        assert all(km(place["lat"], place["lon"], r[2], r[3]) <= 10 for r in hits)


def test_demo_undated_articles_get_their_date_from_the_text(demo):
    store, truth = demo
    dated = dict(
        store.sql(
            "SELECT source_path, published FROM documents WHERE published_source = 'inferred'"
        ).values.tolist()
    )
    for doc in truth["documents"]:
        if doc.get("metadata") == "none":
            path = str(EXAMPLES / doc["path"])
            low, high = doc.get("date_range", [doc["date"], doc["date"]])
            # An inferred date is the latest day the text names ("last Monday, May 4th"): a lower bound,
            # at most a week before the true date range.
            inferred = dated[path].date()
            assert date.fromisoformat(low) - timedelta(days=7) <= inferred <= date.fromisoformat(high), doc[
                "path"
            ]


def test_annotate_without_attributions_fills_the_rest(tmp_path: Path):
    (tmp_path / "a.txt").write_text(
        "Harbour strike ends\n\nThe union said on Monday that dock workers in Latakia would return to work.\n",
        encoding="utf-8",
    )
    db = tmp_path / "s.duckdb"
    newstrace.ingest([tmp_path], db=db)
    report = newstrace.annotate(db=db, attributions=False, jobs=1)
    assert report.documents == 1
    with newstrace.open(db) as store:
        assert store.one("SELECT count(*) FROM attributions")[0] == 0
        assert store.one("SELECT count(*) FROM places WHERE name = 'Latakia'")[0] == 1
        assert store.one("SELECT count(*) FROM sentences")[0] >= 1


def test_the_ner_multiplies_matrices_with_numpy_not_blis():
    from newstrace.nlp.annotate import NlpConfig, pipeline_for

    nlp = pipeline_for(NlpConfig())
    # the token-to-vector layers, where nearly all the NER's matrix products are
    layers = [layer for layer in nlp.get_pipe("ner").model.walk() if layer.name == "maxout"]
    assert layers and all(getattr(layer.ops, "use_blis", None) is False for layer in layers)
    doc = nlp("Hayat Tahrir al-Sham fighters moved to Idlib on Tuesday, the ministry said.")
    assert {e.label_ for e in doc.ents} >= {"ORG", "GPE"}


def test_workers_started_ahead_annotate_a_small_store_as_one_process_does(tmp_path: Path):
    from newstrace.nlp.workers import start_annotators

    for i, (place, day) in enumerate((("Latakia", "Monday"), ("Tartus", "Friday"), ("Homs", "Sunday"))):
        (tmp_path / f"{i}.txt").write_text(
            f"Harbour strike ends\n\nThe union said on {day} that dock workers in {place} would return to "
            "work, according to a statement.\n",
            encoding="utf-8",
        )
    tables = (
        'SELECT doc_id, start, "end", label FROM mentions '
        "UNION ALL SELECT doc_id, 0, 0, cue_text || '|' || content_text FROM attributions"
    )
    found = []
    for name, workers in (("one", None), ("ahead", start_annotators(2))):
        db = tmp_path / f"{name}.duckdb"
        newstrace.ingest(sorted(tmp_path.glob("*.txt")), db=db)
        try:
            report = newstrace.annotate(db=db, jobs=1, workers=workers)
        finally:
            if workers is not None:
                workers.close()
        assert report.documents == 3
        with newstrace.open(db) as store:
            found.append(sorted(store.con.execute(tables).fetchall()))
    assert any("|" in row[3] for row in found[0])  # attributions as well as entities
    assert found[0] == found[1]
