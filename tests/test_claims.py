"""Claims, narratives, provenance chains, dropped attribution, the prediction ledger and the query commands."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import EXAMPLES, ROOT, run_cli, shared_path

import newstrace
from newstrace import query
from newstrace.link import narratives
from newstrace.link.claims import ClaimInput, extract_claims
from newstrace.link.lexical import TfIdf
from newstrace.link.narratives import NarrativeConfig, NarrativeIndex, assign, chain
from newstrace.model import Annotations, Attribution, Claim, Mention, Sentence

TEXT = (
    "The ministry said militants are preparing to stage a chemical attack in Kessarin. "
    "Militants are preparing to stage a chemical attack in Kessarin, the paper wrote on its front page. "
    "Rain is expected. "
    "Is this true?"
)


def _doc(text: str = TEXT, attributions: list[Attribution] | None = None) -> ClaimInput:
    sentences = [Sentence(m.start(), m.end()) for m in re.finditer(r"[^.?]+[.?]", text)]
    found = Annotations("d1", sentences=sentences)
    found.attributions = attributions or []
    return ClaimInput("d1", text, date(2020, 1, 2), "Daily", found)


def test_an_attribution_content_is_a_claim_with_its_source_and_offsets():
    source, cue = (0, 12), (13, 17)
    content = (18, TEXT.index("."))
    claims = extract_claims(
        _doc(
            attributions=[Attribution((source,), (cue,), (content,), "institution", None, None, "prediction")]
        )
    )
    attributed = [c for c in claims if c.attributed]
    assert len(attributed) == 1
    claim = attributed[0]
    assert (
        TEXT[claim.start : claim.end]
        == claim.text
        == "militants are preparing to stage a chemical attack in Kessarin"
    )
    assert (claim.source_text, claim.cue_text, claim.source_type, claim.modality) == (
        "The ministry",
        "said",
        "institution",
        "prediction",
    )


def test_outlet_voice_sentence_about_a_group_is_a_claim_and_short_or_question_sentences_are_not():
    claims = extract_claims(_doc())
    voices = [c for c in claims if not c.attributed]
    texts = [c.text for c in voices]
    assert any(t.startswith("Militants are preparing to stage") for t in texts)
    assert all("Rain" not in t and "?" not in t for t in texts)
    for claim in voices:
        assert TEXT[claim.start : claim.end] == claim.text
        assert claim.source_type == "outlet" and claim.modality == "prediction"


def test_an_intention_is_a_claim_in_the_outlet_voice_with_its_actor():
    # PolNeAR tags "X plan to …" as an attribution (source X, cue "plan"); as a claim it is the outlet's.
    text = "Passite terrorists plan to carry out a poison gas attack in Ostrevin and blame it on the army. It rained."
    source, cue = (0, 18), (19, 23)
    content = (24, text.index(" and blame"))
    blame = Attribution(
        (), ((text.index("blame"), text.index("blame") + 5),), ((text.index("it on"), text.index(".")),)
    )
    claims = extract_claims(_doc(text, [Attribution((source,), (cue,), (content,)), blame]))
    assert [(c.text, c.attributed, c.source_type, c.modality) for c in claims] == [
        (text[: text.index(".") + 1], False, "outlet", "prediction")
    ]


def test_an_intention_inside_a_reported_statement_stays_in_that_statement():
    text = "The ministry said the militants plan to stage a chemical attack in Kessarin."
    said = Attribution(((0, 12),), ((13, 17),), ((18, len(text) - 1),))
    plan = Attribution(((18, 31),), ((32, 36),), ((37, len(text) - 1),))
    claims = extract_claims(_doc(text, [said, plan]))
    assert [(c.text, c.attributed, c.source_text) for c in claims] == [
        ("the militants plan to stage a chemical attack in Kessarin", True, "The ministry")
    ]


def test_a_name_an_actor_was_known_by_is_no_claim_and_its_sentence_is_the_outlets():
    # PolNeAR tags "X, which was known as Y" as an attribution with no source: cue "was known as".
    text = (
        "The Free Highlands Front, which was known as the Brotherhood of the High Passes, controls Kessarin. "
        "It rained."
    )
    cue = (text.index("was known"), text.index(" the Brotherhood"))
    names = ((0, text.index(",")), (text.index("the Brotherhood"), text.index(", controls")))
    doc = _doc(text, [Attribution((), (cue,), names)])
    doc.annotations.mentions = [
        Mention(0, names[0][1], text[: names[0][1]], "ORG", "fhf", "Free Highlands Front")
    ]
    claims = extract_claims(doc)
    assert [(c.text, c.attributed, c.source_type) for c in claims] == [
        (text[: text.index(".") + 1], False, "outlet")
    ]


def _claim(
    claim_id: str, doc_id: str, text: str, day: int, attributed: bool = True, modality: str = "prediction"
) -> Claim:
    return Claim(
        claim_id, doc_id, 0, len(text), text, 0, len(text), attributed, "the ministry" if attributed else None,
        "said" if attributed else None, "institution" if attributed else "outlet", None, modality, False, (), (),
        date(2020, 1, day), "Daily",
    )  # fmt: skip


def _unit(rows: list[list[float]]) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


STAGED = "militants are preparing to stage a chemical attack in Kessarin"
FLOOD = "the river flooded the lower town after the dam spillway opened"


def test_a_claim_repeated_in_another_document_joins_its_narrative_and_an_unrelated_one_does_not():
    claims = [
        _claim("c1", "d1", STAGED, 1),
        _claim("c2", "d2", "militants are preparing to stage a chemical attack in Kessarin again", 5),
        _claim("c3", "d3", FLOOD, 6),
    ]
    vectors = _unit([[1, 0.1, 0], [1, 0.15, 0], [0, 0, 1]])
    assigned = assign(claims, vectors, NarrativeIndex(3), NarrativeConfig())
    assert assigned["c1"] == assigned["c2"] != assigned["c3"]


def test_a_new_detail_leading_an_article_joins_the_narrative_its_article_repeats_further_down():
    claims = [
        _claim("c1", "d1", STAGED, 1),
        _claim("lead", "d2", "two trucks loaded with yellow cylinders drove into the town at night", 5),
        _claim("c2", "d2", STAGED + " again", 5),
    ]
    claims[1] = replace(claims[1], start=0, end=10)  # the lead comes first in d2's text
    claims[2] = replace(claims[2], start=20, end=80)
    vectors = _unit([[1, 0.1, 0], [0.7, 0.1, 0.71], [1, 0.15, 0]])
    assigned = assign(claims, vectors, NarrativeIndex(3), NarrativeConfig(context=0.3))
    assert assigned["lead"] == assigned["c2"] == assigned["c1"]


def _with_a_later_repeat(statement: str) -> dict[str, str]:
    """d3's ``statement`` (c1) is no repeat of d1 or d2 and joins its own article's narrative (c0's) as a
    detail; d4 comes later (undated articles go last), repeats it most closely and joins d1's narrative."""
    claims = [
        _claim("a1", "d1", "armed groups are preparing to stage a chemical attack in Kessarin", 1),
        _claim("b1", "d2", "armed groups are preparing to stage a chemical attack in Kessarin again", 2),
        _claim(
            "c0",
            "d3",
            "the air force struck weapons depots near Kessarin on Monday night",
            3,
            False,
            "assertion",
        ),
        replace(_claim("c1", "d3", statement, 3), start=80, end=150),
        _claim("d1", "d4", "rebels plan a false flag chemical attack in Kessarin to blame the army", 9),
    ]
    vectors = _unit([[1, 0, 0, 0], [1, 0.1, 0, 0], [0, 0, 1, 0], [0.45, 0.6, 0.6, 0], [0.6, 0.8, 0, 0]])
    return assign(claims, vectors, NarrativeIndex(4), NarrativeConfig())


def test_a_statement_whose_closest_repeat_comes_later_moves_to_that_repeats_narrative():
    # Only the statement follows, not the background sentence it joined.
    assigned = _with_a_later_repeat("rebels plan a false flag gas provocation to blame the army, sources say")
    assert assigned["a1"] == assigned["b1"] == assigned["d1"] == assigned["c1"] != assigned["c0"]


def test_a_fragment_does_not_move_to_a_later_repeats_narrative(monkeypatch: pytest.MonkeyPatch):
    fragment = "rebels plan a false flag gas provocation"  # seven words
    assigned = _with_a_later_repeat(fragment)
    assert assigned["c1"] == assigned["c0"] != assigned["a1"] == assigned["d1"]
    monkeypatch.setattr(narratives, "REPEAT_MIN_WORDS", 7)
    assert _with_a_later_repeat(fragment)["c1"] == assigned["a1"]


def test_narrative_ids_stay_stable_when_documents_are_added():
    config = NarrativeConfig()
    index = NarrativeIndex(3)
    first = assign([_claim("c1", "d1", STAGED, 1)], _unit([[1, 0.1, 0]]), index, config)
    later = assign(
        [_claim("c2", "d2", STAGED + " again", 9), _claim("c3", "d3", FLOOD, 9)],
        _unit([[1, 0.12, 0], [0, 0, 1]]),
        index,
        config,
    )
    assert later["c2"] == first["c1"]
    assert later["c3"] != first["c1"]


def test_chain_marks_first_verbatim_paraphrase_new_detail_dropped_attribution_and_earlier_predictions():
    claims = [
        _claim("c1", "d1", STAGED, 1),
        _claim("c2", "d2", STAGED, 2),
        _claim("c3", "d3", "militants prepare to stage a chemical attack in Kessarin", 3, attributed=False),
        _claim("c4", "d4", "eight chlorine tanks were delivered to a warehouse", 4, modality="assertion"),
    ]
    vectors = _unit([[1, 0, 0], [1, 0, 0], [1, 0.1, 0], [0.3, 1, 0]])
    entries = chain(
        claims,
        vectors,
        lambda a, b: {a.claim_id, b.claim_id} == {"c1", "c2"},
        NarrativeConfig(),
        TfIdf(c.text for c in claims),
    )
    roles = {e.claim_id: e for e in entries}
    assert [roles[c].role for c in ("c1", "c2", "c3", "c4")] == [
        "first",
        "verbatim",
        "paraphrase",
        "new_detail",
    ]
    assert roles["c3"].attribution_dropped and not roles["c2"].attribution_dropped
    assert [roles[c].earlier_predictions for c in ("c1", "c2", "c3")] == [0, 1, 2]
    assert {"chlorine", "tanks", "eight"} <= set(roles["c4"].new_terms)


@pytest.fixture(scope="module")
def seeds_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    seeds = shared_path("seeds")
    out = tmp_path_factory.mktemp("seeds")
    run_cli("run", seeds, "--out", out, "-q", check=True, timeout=1200)
    return out / "newstrace.duckdb"


def _seed(path: str) -> str:
    return Path(path).name[:3]


def test_seeds_staged_attack_narrative_spans_000_002_003_004_and_not_001(seeds_db):
    with newstrace.open(seeds_db) as store:
        rows = store.sql(
            """SELECT c.narrative_id, d.source_path, c.text FROM claims c JOIN documents d USING (doc_id)
               WHERE c.narrative_id IN (SELECT narrative_id FROM narratives WHERE recurring)"""
        ).values.tolist()
    staged = {n for n, _, text in rows if "stage" in text and "chemical" in text}
    best = max(staged, key=lambda n: len({_seed(p) for m, p, _ in rows if m == n}))
    assert {_seed(p) for n, p, _ in rows if n == best} == {"000", "002", "003", "004"}


def test_seeds_flag_dropped_attribution_in_000_and_list_staged_attack_predictions(seeds_db):
    with newstrace.open(seeds_db) as store:
        dropped = store.sql(
            "SELECT d.source_path FROM claims c JOIN documents d USING (doc_id) WHERE c.attribution_dropped"
        ).values.ravel()
        ledger = query.predictions(store)
    assert "000" in {_seed(p) for p in dropped}
    staged = ledger[
        ledger["text"].str.contains("chemical") & ledger["text"].str.contains(r"stag|provocation")
    ]
    assert len(staged) >= 4


def test_seeds_framing_opposes_terrorist_labels_in_002_003_to_opposition_fighters_in_004(seeds_db):
    with newstrace.open(seeds_db) as store:
        frame = query.framing(store, "Hay'at Tahrir al-Sham")
    labels = {(row.outlet[:3], row.label) for row in frame.itertuples()}
    assert {("002", "Takfiri terrorist group"), ("003", "Takfiri terrorist outfit")} <= labels
    assert ("004", "militant opposition fighters") in labels
    assert not {label for outlet, label in labels if outlet == "004"} & {
        "terrorists",
        "Takfiri terrorist group",
    }


def test_query_commands_answer_in_json(seeds_db):
    db = seeds_db
    narratives = [
        json.loads(line)
        for line in run_cli("narratives", "--db", db, "--json", check=True).stdout.splitlines()
    ]
    assert narratives and all(n["n_documents"] >= 2 for n in narratives)
    chain_out = json.loads(
        run_cli("narrative", narratives[0]["narrative_id"], "--db", db, "--json", check=True).stdout
    )
    assert [c["chain_position"] for c in chain_out["chain"]] == list(range(len(chain_out["chain"])))
    assert chain_out["chain"][0]["chain_role"] == "first"
    about = run_cli("claims", "--about", "HTS", "--db", db, "--json", check=True).stdout.splitlines()
    assert about and all(
        "hts" in json.loads(line)["actors"] or json.loads(line)["source_actor"] == "hts" for line in about
    )
    said = run_cli(
        "who-said", "militants are preparing a staged chemical attack", "--db", db, "--json", check=True
    )
    assert any("stage" in json.loads(line)["text"] for line in said.stdout.splitlines())
    assert run_cli("predictions", "--db", db, "--json", check=True).stdout.strip()
    unknown = run_cli("framing", "nobody-at-all", "--db", db)
    assert unknown.returncode == 2 and "unknown actor" in unknown.stderr


def test_demo_narratives_recur_across_outlets_and_years(tmp_path: Path):
    out = tmp_path / "demo"
    run_cli(
        "run", EXAMPLES / "corpus", "--out", out, "--aliases", EXAMPLES / "actors.yml", "--places",
        EXAMPLES / "places.yml", "-q", check=True, timeout=1200,
    )  # fmt: skip
    with newstrace.open(out / "newstrace.duckdb") as store:
        top = query.narratives(store, limit=1).iloc[0]
        assert top["n_outlets"] >= 3 and top["first_seen"].year < top["last_seen"].year
        assert store.sql("SELECT count(*) FROM claims WHERE attribution_dropped").values[0][0] >= 1
    # The answer key's narratives (examples/ground_truth.json), scored as benchmarks/narrative_eval.py does.
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from narrative_eval import stored_scores

    scores = stored_scores(out / "newstrace.duckdb")
    assert scores["items"] >= 20 and scores["F1"] >= 0.9, scores


def test_narratives_are_matched_against_a_catalogue_of_known_claims(seeds_db, tmp_path: Path):
    db = seeds_db
    catalog = tmp_path / "debunked.jsonl"
    entries = [
        {
            "id": "staged",
            "claim": "Terrorists and the White Helmets are preparing a staged chemical attack in Idlib",
        },
        {"id": "vaccine", "claim": "A vaccine changes the DNA of whoever receives it"},
        {"id": "election", "claim": "The election was decided by votes cast in the names of dead people"},
    ]
    catalog.write_text("\n".join(json.dumps(e) for e in entries), encoding="utf-8")
    lines = run_cli("match", "--catalog", catalog, "--db", db, "--top", "1", check=True).stdout.splitlines()
    matches = [json.loads(line) for line in lines]
    with newstrace.open(db) as store:
        stored = store.sql("SELECT narrative_id, entry_id FROM narrative_matches").values.tolist()
        (staged,) = store.one(
            """SELECT narrative_id FROM claims WHERE text ILIKE '%stage%' AND text ILIKE '%chemical%'
               GROUP BY narrative_id ORDER BY count(*) DESC LIMIT 1"""
        )
    assert sorted(map(tuple, stored)) == sorted((m["narrative_id"], m["entry_id"]) for m in matches)
    assert {m["entry_id"] for m in matches if m["narrative_id"] == staged} == {"staged"}
    both = run_cli("match", "--catalog", catalog, "--db", db, "--queries", catalog)
    assert both.returncode == 2 and "either --queries" in both.stderr


def test_shortlists_merged_from_blocks_equal_the_whole_corpus_shortlists_even_with_duplicate_claims():
    from newstrace.link.narratives import _shortlists, top_neighbours

    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors[10:20] = vectors[5]  # duplicate claims: exact ties
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    whole = _shortlists(vectors, vectors, 6, 0.1)
    # As the Spark engine does: blocks of 16 claims, each block's best 6 per claim, merged by (sim, rank).
    merged = []
    for row in np.round(vectors.astype(np.float64) @ vectors.T.astype(np.float64), 9):
        found = [
            (-row[j], j)
            for start in range(0, 60, 16)
            for j in top_neighbours(row[start : start + 16], 6, 0.1, np.arange(start, min(start + 16, 60)))
        ]
        merged.append(np.array([j for _, j in sorted(found)[:6]]))
    assert all(np.array_equal(a, b) for a, b in zip(whole, merged, strict=True))
    assert list(whole[5][:6]) == [5, 10, 11, 12, 13, 14]  # ties to the claim that comes first


def test_nearest_finds_the_float64_neighbours_when_float32_products_order_them_differently():
    from newstrace.link.narratives import nearest, top_neighbours

    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(700, 384))
    # near-duplicates a float32 product cannot tell apart, and exact duplicates (ties)
    vectors[100:140] = vectors[50] + rng.normal(scale=1e-6, size=(40, 384))
    vectors[140:150] = vectors[60]
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    exact = np.round(vectors.astype(np.float64) @ vectors.T.astype(np.float64), 9)
    for k, floor in ((21, 0.0), (5, 0.05), (30, -1.0)):
        found = nearest(vectors, vectors, k, floor)
        for row, (positions, sims) in zip(exact, found, strict=True):
            expected = top_neighbours(row, k, floor)
            assert np.array_equal(positions, expected)
            assert np.array_equal(sims, row[expected])
    assert nearest(vectors[:3], vectors[:0], 5, 0.0)[0][0].size == 0


def test_sparse_pair_cosines_equal_the_cosines_of_tfidf_vectors_across_blocks():
    from newstrace.link.lexical import TfIdf, cosine, row_cosines

    texts = [STAGED, "Rebels shelled the town of Halvreth on Monday.", "No word in common.", "army army town"]
    tfidf = TfIdf(texts)
    left, right = np.array([0, 0, 1, 2, 3, 1]), np.array([1, 2, 3, 3, 0, 1])
    expected = [
        cosine(tfidf.vector(texts[i]), tfidf.vector(texts[j])) for i, j in zip(left, right, strict=True)
    ]
    found = row_cosines(tfidf.matrix(texts), left, right, block=4)
    assert np.allclose(found, expected, rtol=0, atol=1e-12)
    assert found[5] == pytest.approx(1.0) and found[1] == 0.0


def test_chain_columns_are_stored_when_few_rows_have_new_terms():
    # DuckDB guesses an untyped column's type from a sample of its rows: new terms on 1 row in 20,000 once
    # failed to store ("NULL[]"), so the chain rows are typed.
    from newstrace.link.narrate import _write_chains
    from newstrace.store import Store

    claims = [_claim(f"c{i}", f"d{i}", STAGED, 1) for i in range(20_000)]
    vectors = _unit([[1, 0, 0]] * len(claims))
    rows = [(c.claim_id, 0, "first", 1.0, None, [], False, 0) for c in claims]
    rows[10_001] = ("c10001", 1, "new_detail", 0.4, "c0", ["eight", "tanks"], False, 0)
    with Store(":memory:") as store:
        narratives = {c.claim_id: "n1" for c in claims}
        store.write_claims("run", claims, vectors, narratives, dict.fromkeys(narratives, True), [], "minilm")
        _write_chains(store, rows, [])
        stored = store.sql("SELECT new_terms FROM claims WHERE claim_id = 'c10001'").values[0][0]
    assert list(stored) == ["eight", "tanks"]


def test_a_narrative_is_labelled_by_its_most_central_full_statement_not_a_fragment():
    from newstrace.link.narrate import place_claims
    from newstrace.store import Store

    claims = [
        _claim("frag", "d1", "a chemical attack in Kessarin", 1),
        _claim("c2", "d2", STAGED, 2),
        _claim("c3", "d3", STAGED + " again next week", 3),
    ]
    vectors = _unit([[1, 0, 0], [1, 0.3, 0], [1, -0.25, 0]])  # the fragment sits at the centre
    with Store(":memory:") as store:
        place_claims(store, "run", claims, vectors, [], "minilm", NarrativeConfig())
        rows = store.sql("SELECT label_claim, n_claims FROM narratives").values.tolist()
    assert len(rows) == 1 and rows[0][0] in ("c2", "c3") and rows[0][1] == 3
