"""benchmarks/reuse_*.py: the passage scorer on hand-made cases, the test-set generator's gold offsets and
edits, replication into disjoint copies, the MinHash paragraph baseline, and one small benchmark run on
FA-KES (the FA-KES tests are skipped without ../shared/data)."""

from __future__ import annotations

import itertools
import random
import re
import sys
from dataclasses import dataclass

import pytest
from tests.conftest import ROOT, shared_path

sys.path.insert(0, str(ROOT / "benchmarks"))
import reuse_baseline
import reuse_bench
import reuse_generator
from reuse_bench import covers, score
from reuse_generator import ReuseSet, replicate


@dataclass(frozen=True)
class Match:
    a: int
    b: int
    a_start: int
    a_end: int
    b_start: int
    b_end: int
    score: float = 1.0


def event(source: int, s: tuple[int, int], host: int, h: tuple[int, int]) -> dict:
    return {
        "source": source,
        "source_start": s[0],
        "source_end": s[1],
        "host": host,
        "host_start": h[0],
        "host_end": h[1],
        "edits": [],
    }


GOLD = [event(0, (0, 100), 1, (200, 300))]


def shingles5(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


# -- scorer ----------------------------------------------------------------------------------------------


def test_overlap_of_60_percent_counts_40_does_not() -> None:
    hit = score([Match(0, 1, 40, 100, 200, 300)], GOLD)  # 60% of the gold, all of the prediction
    assert (hit.passage.hit_predicted, hit.passage.hit_gold, hit.found) == (1, 1, [True])
    assert hit.passage.precision == hit.passage.recall == hit.passage.f1 == 1.0
    miss = score([Match(0, 1, 60, 100, 200, 300)], GOLD)  # 40% of the gold on side a
    assert (miss.passage.hit_predicted, miss.passage.hit_gold) == (0, 0)
    assert miss.pair.f1 == 1.0  # the document pair is still right
    host_side = score([Match(0, 1, 0, 100, 260, 300)], GOLD)  # 40% of the gold on side b
    assert host_side.passage.hit_gold == 0


def test_prediction_much_longer_than_gold_does_not_count() -> None:
    # covers all of the gold but the gold is only 40% of the prediction
    assert score([Match(0, 1, 0, 250, 200, 300)], GOLD).passage.hit_gold == 0
    assert covers((0, 250), (0, 100)) is None
    assert covers((0, 160), (0, 100)) == pytest.approx(100 / 160)
    assert covers((5, 5), (0, 100)) is None  # empty span


def test_wrong_document_pair_does_not_count() -> None:
    result = score([Match(0, 2, 0, 100, 200, 300)], GOLD)
    assert result.passage.hit_gold == 0
    assert (result.pair.hit_predicted, result.pair.predicted, result.pair.gold) == (0, 1, 1)


def test_gold_orientation_follows_document_order() -> None:
    gold = [event(3, (10, 90), 1, (500, 580))]  # source after host: a is the host
    assert score([Match(1, 3, 500, 580, 10, 90)], gold).passage.hit_gold == 1
    assert score([Match(1, 3, 10, 90, 500, 580)], gold).passage.hit_gold == 0


def test_each_gold_matched_once_and_each_prediction_once() -> None:
    twice = score([Match(0, 1, 0, 100, 200, 300), Match(0, 1, 10, 100, 200, 290)], GOLD)
    assert (twice.passage.predicted, twice.passage.hit_predicted, twice.passage.hit_gold) == (2, 1, 1)
    assert twice.passage.precision == 0.5
    assert twice.pair.predicted == 1  # one document pair
    gold = [*GOLD, event(0, (400, 500), 1, (600, 700))]
    both = score([Match(0, 1, 0, 100, 200, 300), Match(0, 1, 400, 500, 600, 700)], gold)
    assert (both.passage.hit_predicted, both.passage.hit_gold, both.found) == (2, 2, [True, True])
    assert (both.pair.gold, both.pair.hit_gold) == (1, 1)


def test_best_overlap_wins_the_gold() -> None:
    # the exact prediction takes the gold even though the rougher one comes first
    result = score([Match(0, 1, 30, 100, 200, 300), Match(0, 1, 0, 100, 200, 300)], GOLD)
    assert result.passage.hit_predicted == 1 and result.passage.hit_gold == 1


def test_no_predictions_score_zero_and_nothing_against_nothing_scores_one() -> None:
    result = score([], GOLD)
    assert (result.passage.precision, result.passage.recall, result.passage.f1) == (0.0, 0.0, 0.0)
    assert score([], []).passage.f1 == 1.0  # the shared scorer's convention: nothing missed, nothing wrong


def test_check_matches_rejects_broken_contract() -> None:
    texts = ["x" * 50, "y" * 50]
    reuse_bench.check_matches([Match(0, 1, 0, 50, 0, 50)], texts, "ok")
    with pytest.raises(SystemExit, match="a < b"):
        reuse_bench.check_matches([Match(1, 0, 0, 5, 0, 5)], texts, "swapped")
    with pytest.raises(SystemExit, match="outside"):
        reuse_bench.check_matches([Match(0, 1, 0, 51, 0, 5)], texts, "too long")


# -- generator pieces ------------------------------------------------------------------------------------


def test_select_unrelated_drops_duplicates_and_shared_runs() -> None:
    run = " ".join(f"w{i}" for i in range(12))
    texts = [
        f"alpha {run} omega",
        f"alpha {run} omega",  # exact duplicate
        f"Beta, {run.upper()}!",  # same 12 words once normalised
        "gamma " + " ".join(f"w{i}" for i in range(11)),  # only 11 of them: kept
        "   ",
    ]
    kept, counts = reuse_generator.select_unrelated(texts, 12)
    assert kept == [0, 3]
    assert counts == {"empty": 1, "duplicate": 1, "shared_run": 1}


def test_edits_change_form_not_words() -> None:
    rng = random.Random(0)
    text = 'Fighters of al-Nusra and al-Qaeda entered Idlib - the monitor said "it is over" today.'
    wrapped, done = reuse_generator.rewrap(text * 3, rng)
    assert done == ["rewrap"] and "\n" in wrapped and wrapped.replace("\n", " ") == text * 3
    assert max(len(line) for line in wrapped.split("\n")) <= 80
    quoted, done = reuse_generator.change_quotes(text, rng)
    assert '"' not in quoted and done and done[0].startswith("quotes:straight>")
    assert reuse_generator.change_dash(text, rng)[0].count("—") == 1
    assert reuse_generator.change_period(text, rng)[0] == text[:-1]
    assert reuse_generator.change_comma(text, rng) == (text.replace(" and", ", and", 1), ["comma:add"])
    spelled, done = reuse_generator.transliterate(text, random.Random(3))
    assert done and spelled != text
    assert reuse_generator.words_kept(text, text) == 1.0
    assert reuse_generator.words_kept("a b c d e", "a b d e") == pytest.approx(0.8)


def test_edit_passage_keeps_most_words() -> None:
    passage = " ".join(f"word{i}" for i in range(14)) + "."
    for seed in range(50):
        edited, edits, kept = reuse_generator.edit_passage(passage, random.Random(seed))
        assert kept >= reuse_generator.MIN_WORDS_KEPT
        assert edits or edited == passage


def test_lead_sentences_are_short() -> None:
    rng = random.Random(5)
    for _ in range(200):
        lead = reuse_generator.lead_sentence(rng)
        assert lead.endswith(".") and lead[0].isupper()
        assert len(lead.split()) <= 4


# -- replication -----------------------------------------------------------------------------------------


def toy_set() -> ReuseSet:
    source = "First paragraph here.\n\nThe army said on Monday that 12 fighters were killed in Idlib."
    passage = "The army said on Monday that 12 fighters were killed in Idlib."
    edited = "The army said on Monday that 12 fighters\nwere reportedly killed in Idleb"
    host = f"Host text 'one'.\n\nSANA reported. {edited}\n\nEnd — of host."
    gold = [
        {
            **event(
                0,
                (source.index(passage), len(source)),
                1,
                (host.index(edited), host.index(edited) + len(edited)),
            ),
            "id": 0,
            "passage": passage,
            "edited": edited,
            "lead": "SANA reported.",
        }
    ]
    return ReuseSet([source, host], ["a", "b"], ["1/1/2017", "1/2/2017"], gold, {"copies": 1})


def test_replicate_preserves_offsets_and_shape() -> None:
    base = toy_set()
    copies = replicate(base, 3)
    n = len(base.texts)
    assert len(copies.texts) == 3 * n and len(copies.gold) == 3 and copies.meta["copies"] == 3
    assert copies.texts[:n] == base.texts and copies.gold[0]["source"] == 0
    for k in range(3):
        for i, text in enumerate(base.texts):
            copy = copies.texts[k * n + i]
            assert len(copy) == len(text)
            assert [c for c in copy if not c.isalnum()] == [c for c in text if not c.isalnum()]
            assert [c.isupper() for c in copy] == [c.isupper() for c in text]
        g = copies.gold[k]
        assert (g["source"], g["host"], g["copy"]) == (k * n, k * n + 1, k)
        assert copies.texts[g["source"]][g["source_start"] : g["source_end"]] == g["passage"]
        assert copies.texts[g["host"]][g["host_start"] : g["host_end"]] == g["edited"]
    assert copies.outlets == base.outlets * 3
    assert replicate(base, 1).texts == base.texts


def test_replicated_copies_share_no_shingle() -> None:
    copies = replicate(toy_set(), 4)
    per_copy = [set().union(*(shingles5(t) for t in copies.texts[2 * k : 2 * k + 2])) for k in range(4)]
    for j in range(4):
        for k in range(j + 1, 4):
            assert not per_copy[j] & per_copy[k]


def test_cipher_is_a_derangement() -> None:
    table = reuse_generator.cipher(5)
    assert reuse_generator.cipher(0) == {}
    assert sorted(table) == sorted(table.values())  # a permutation
    assert all(key != value for key, value in table.items())
    assert reuse_generator.cipher(5) == table  # the same for every run


# -- baseline --------------------------------------------------------------------------------------------


def test_paragraph_spans() -> None:
    text = "  one two\n\n\n three four \n \n five"
    assert [text[s:e] for s, e in reuse_baseline.paragraphs(text)] == ["one two", "three four", "five"]
    lines = "alpha beta\ngamma delta\n"
    assert [lines[s:e] for s, e in reuse_baseline.paragraphs(lines)] == ["alpha beta", "gamma delta"]
    assert reuse_baseline.paragraphs("") == []


def test_baseline_finds_shared_paragraph_across_documents_only() -> None:
    shared = "The convoy carrying aid reached the besieged town after weeks of negotiations between the sides"
    texts = [
        f"Opening words of the first story about something else entirely today.\n\n{shared}\n\n{shared}",
        "A completely different story about the weather in the north and the harvest this year.",
        f"Another lead paragraph with its own wording and nothing in common at all.\n\n{shared.upper()}",
    ]
    found = reuse_baseline.find_reuse_paragraphs(texts)
    assert found and all(p.a == 0 and p.b == 2 for p in found)  # never (0, 0), never document 1
    assert {texts[0][p.a_start : p.a_end] for p in found} == {shared}
    assert {texts[2][p.b_start : p.b_end] for p in found} == {shared.upper()}
    assert all(p.score >= 0.3 for p in found)


# -- on FA-KES -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fakes_set() -> ReuseSet:
    shared_path("fakes", "FA-KES-Dataset.csv")
    return reuse_generator.generate(seed=7, n_events=40, limit=120)


def test_generated_gold_offsets(fakes_set: ReuseSet) -> None:
    assert len(fakes_set.gold) == 40
    assert fakes_set.meta["kept"] == len(fakes_set.texts) <= 120
    taken: dict[int, list[tuple[int, int]]] = {}
    for g in fakes_set.gold:
        assert g["source"] != g["host"]
        source, host = fakes_set.texts[g["source"]], fakes_set.texts[g["host"]]
        assert source[g["source_start"] : g["source_end"]] == g["passage"]
        assert host[g["host_start"] : g["host_end"]] == g["edited"]
        assert len(re.findall(r"\w+", g["passage"])) >= reuse_generator.MIN_PASSAGE_WORDS
        assert g["words_kept"] >= reuse_generator.MIN_WORDS_KEPT
        assert g["edits"] or g["edited"] == g["passage"]
        # the inserted paragraph: lead (not in the gold span), then the passage, alone between breaks
        start = g["host_start"] - (len(g["lead"]) + 1 if g["lead"] else 0)
        assert host[start : g["host_start"]] == (f"{g['lead']} " if g["lead"] else "")
        assert start == 0 or host[start - 2 : start] == "\n\n"
        assert g["host_end"] == len(host) or host[g["host_end"] : g["host_end"] + 2] == "\n\n"
        taken.setdefault(g["source"], []).append((g["source_start"], g["source_end"]))
    for spans in taken.values():  # a source sentence is copied at most once
        spans.sort()
        assert all(x[1] <= y[0] for x, y in itertools.pairwise(spans))


def test_generation_is_deterministic(fakes_set: ReuseSet) -> None:
    again = reuse_generator.generate(seed=7, n_events=40, limit=120)
    assert again.texts == fakes_set.texts and again.gold == fakes_set.gold
    other = reuse_generator.generate(seed=8, n_events=40, limit=120)
    assert other.gold != fakes_set.gold


def test_replicated_fakes_copies_are_disjoint(fakes_set: ReuseSet) -> None:
    copies = replicate(fakes_set, 3)
    n = len(fakes_set.texts)
    for g in copies.gold:
        assert copies.texts[g["source"]][g["source_start"] : g["source_end"]] == g["passage"]
        assert copies.texts[g["host"]][g["host_start"] : g["host_end"]] == g["edited"]
    per_copy = [set().union(*map(shingles5, copies.texts[k * n : (k + 1) * n])) for k in range(3)]
    assert not per_copy[0] & per_copy[1]
    assert not per_copy[0] & per_copy[2]
    assert not per_copy[1] & per_copy[2]


def test_benchmark_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    shared_path("fakes", "FA-KES-Dataset.csv")
    code = reuse_bench.main(
        ["--limit", "40", "--system", "baseline", "--scales", "1,2", "--no-record", "--events", "10"]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "Text reuse on FA-KES" in out and "| baseline | 2x |" in out


def test_benchmark_skips_without_fakes(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(reuse_bench, "FAKES", tmp_path / "missing.csv")
    assert reuse_bench.main(["--no-record"]) == 0
    assert "skipped" in capsys.readouterr().out
