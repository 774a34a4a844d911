"""Text reuse: tokens, fingerprints, candidate pairs, alignment, classification, the store and the CLI."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import EXAMPLES, run_cli, shared_path

import newstrace
from newstrace.ingest.pipeline import ingest
from newstrace.link.align import Passage, align
from newstrace.link.candidates import candidate_pairs
from newstrace.link.reuse import DocInfo, ReuseConfig, find_reuse, link_reuse, reuse_pair
from newstrace.link.shingles import ngram_hashes, tokenize, winnow

PASSAGE = (
    "Militants of Hay'at Tahrir al-Sham have moved six chlorine cylinders into a former grain warehouse "
    "on the eastern edge of the town, the ministry said, adding that the group planned to film a staged "
    "attack and blame it on the army."
)
OTHER = (
    "The river rose by two metres overnight and the mayor ordered the lower quarter evacuated. "
    "Volunteers filled sandbags until dawn while the bridge stayed closed to lorries."
)
FILLER = (
    "Parliament debated the budget for most of the afternoon without reaching a vote. "
    "Several members asked for more time to read the amendments tabled by the finance committee."
)


def test_tokens_ignore_case_quotes_punctuation_line_breaks_and_transliteration():
    edited = PASSAGE.replace("Hay'at Tahrir al-Sham", "HAYAT TAHRIR ASH-SHAM").replace(", ", " ")
    edited = re.sub(r"(\w+ \w+ \w+ \w+ \w+) ", r"\1\n", edited)  # re-wrapped
    assert tokenize(edited).hashes.tolist() == tokenize(PASSAGE).hashes.tolist()


def test_tokens_keep_offsets_into_the_text():
    tokens = tokenize("  «Hello»,\nworld!")
    assert [("  «Hello»,\nworld!")[s:e] for s, e in zip(tokens.starts, tokens.ends, strict=True)] == [
        "Hello",
        "world",
    ]


WORDS = st.lists(st.sampled_from([f"w{i}" for i in range(40)]), min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(
    left=WORDS,
    shared=st.lists(st.sampled_from([f"s{i}" for i in range(40)]), min_size=8, max_size=30),
    right=WORDS,
)
def test_winnowing_never_misses_a_shared_run_of_window_plus_ngram_minus_one_words(left, shared, right):
    config = ReuseConfig()
    run = shared[: config.window + config.ngram - 1]
    first = tokenize(" ".join(left + run))
    second = tokenize(" ".join([*run, *right]))
    fp_first = winnow(ngram_hashes(first, config.ngram), config.window)
    fp_second = winnow(ngram_hashes(second, config.ngram), config.window)
    assert np.intersect1d(fp_first, fp_second).size > 0


def test_candidates_skip_fingerprints_in_more_than_max_df_documents():
    boiler = np.array([7], dtype=np.uint64)
    fingerprints = [np.array([7, 100], dtype=np.uint64), np.array([7, 100], dtype=np.uint64)] + [boiler] * 3
    found = candidate_pairs(fingerprints, max_df=4)
    assert found.pairs.tolist() == [[0, 1]]
    assert found.boilerplate == 1
    assert candidate_pairs(fingerprints, max_df=5).pairs.shape[0] == 10


def test_candidates_with_new_documents_leave_old_pairs_alone():
    fingerprints = [np.array([1], dtype=np.uint64)] * 3
    new = np.array([False, False, True])
    assert candidate_pairs(fingerprints, new=new).pairs.tolist() == [[0, 2], [1, 2]]


def test_align_finds_an_edited_copy_with_offsets_in_both_texts():
    source = f"{OTHER}\n\n{PASSAGE}\n\n{FILLER}"
    copy_of_passage = (
        PASSAGE.replace("Hay'at Tahrir al-Sham", "Hayat Tahrir ash-Sham")
        .replace("six", "6")
        .replace("the ministry said", "the ministry reportedly said")
    )
    copy = f"A new lead written by the copying outlet opens the article.\n{copy_of_passage}"
    [passage] = align(tokenize(source), tokenize(copy), texts=(source, copy))
    assert source[passage.a_start : passage.a_end] == PASSAGE
    assert copy[passage.b_start : passage.b_end] == copy_of_passage
    assert 0.9 < passage.score < 1.0


def test_align_ignores_shared_phrases_shorter_than_min_words():
    first = "The ministry said on Monday that talks would resume in the capital next week."
    second = "Farmers said on Monday that talks would stall again, as they always do."
    assert align(tokenize(first), tokenize(second)) == []


def test_verbatim_copy_scores_one():
    [match] = find_reuse([f"{OTHER} {PASSAGE}", f"{PASSAGE} {FILLER}"])
    assert match.score == 1.0


def test_pairs_put_the_earlier_document_first_and_mark_the_outlets():
    passage = Passage(10, 20, 30, 40, 1.0, 12)
    later = DocInfo("later", "Daily A", date(2021, 5, 1))
    earlier = DocInfo("earlier", "daily a", date(2020, 1, 1))
    pair = reuse_pair(passage, later, earlier)
    assert (pair.doc_a, pair.a_start, pair.doc_b, pair.b_start) == ("earlier", 30, "later", 10)
    assert (pair.kind, pair.direction) == ("recycled", "a_to_b")
    other = reuse_pair(passage, DocInfo("x", "Daily B", None), earlier)
    # Undated: the order is fixed by doc id, so that every run stores the pair the same way round.
    assert (other.doc_a, other.kind, other.direction) == ("earlier", "cross-outlet", "unknown")


def _seed_documents():
    from newstrace.ingest.pipeline import read_documents
    from newstrace.model import Problem

    documents = [d for d in read_documents([shared_path("seeds")]) if not isinstance(d, Problem)]
    return {Path(d.source_path).name[:3]: d for d in documents}


def _paragraph(text: str, opening: str) -> tuple[int, int]:
    start = text.index(opening)
    end = text.find("\n", start)
    return start, len(text) if end < 0 else end


def test_seeds_002_and_003_share_both_background_paragraphs_and_no_other_seeds_pair():
    documents = _seed_documents()
    names = sorted(documents)
    matches = find_reuse([documents[name].text for name in names])
    assert {(names[m.a], names[m.b]) for m in matches} == {("002", "003")}
    for opening in ("On April 14, 2018, the United States, Britain", "Syria surrendered its stockpile"):
        a_span = _paragraph(documents["002"].text, opening)
        b_span = _paragraph(documents["003"].text, opening)
        assert any(
            (m.a_start, m.a_end) == a_span and (m.b_start, m.b_end) == b_span and m.score == 1.0
            for m in matches
        ), opening


def test_reuse_command_gives_offsets_into_the_files_as_read():
    seeds = shared_path("seeds")
    result = run_cli("reuse", seeds, "--jsonl", check=True)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records
    for record in records:
        a = Path(record["a"]).read_text(encoding="utf-8")[record["a_start"] : record["a_end"]]
        b = Path(record["b"]).read_text(encoding="utf-8")[record["b_start"] : record["b_end"]]
        if record["score"] == 1.0:  # equal words; punctuation and line breaks may differ
            assert re.findall(r"\w+", a.lower()) == re.findall(r"\w+", b.lower())
        assert set(record) >= {"a", "a_start", "a_end", "b", "b_start", "b_end", "score", "kind"}
    texts = [Path(r["a"]).read_text(encoding="utf-8")[r["a_start"] : r["a_end"]] for r in records]
    assert any(t.startswith("Syria surrendered its stockpile") for t in texts)


TRUTH = json.loads((EXAMPLES / "ground_truth.json").read_text(encoding="utf-8"))


def _doc_ids(store) -> dict[str, str]:
    """ground_truth paths (`corpus/feeds/x.jsonl#3`) to doc ids."""
    ids = {}
    for path, locator, doc_id in store.sql(
        "SELECT source_path, locator, doc_id FROM occurrences"
    ).values.tolist():
        relative = Path(path).resolve().relative_to(EXAMPLES.resolve()).as_posix()
        ids[relative + (f"#{locator.removeprefix('line:')}" if locator else "")] = doc_id
    return ids


@pytest.fixture(scope="module")
def linked_demo(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("reuse") / "demo.duckdb"
    ingest([EXAMPLES / "corpus"], db=db)
    report = link_reuse(db)
    store = newstrace.open(db)
    yield report, store
    store.close()


def _covers(rows, doc_a: str, doc_b: str, texts: dict[str, str], paragraph: str) -> bool:
    """Some passage between the two documents covers the paragraph's text in both."""
    for a, a_start, a_end, b, b_start, b_end in rows:
        if {a, b} != {doc_a, doc_b}:
            continue
        spans = {a: (a_start, a_end), b: (b_start, b_end)}
        if all(
            spans[d][0] <= texts[d].index(paragraph)
            and texts[d].index(paragraph) + len(paragraph) <= spans[d][1] + 1
            for d in (doc_a, doc_b)
        ):
            return True
    return False


def test_demo_recycled_background_paragraphs_are_found_between_every_pair(linked_demo):
    _, store = linked_demo
    ids = _doc_ids(store)
    texts = dict(store.sql("SELECT doc_id, text FROM documents").values.tolist())
    rows = store.sql("SELECT doc_a, a_start, a_end, doc_b, b_start, b_end FROM reuse").values.tolist()
    for recycled in TRUTH["recycled_paragraphs"]:
        docs = [ids[p] for p in recycled["paths"]]
        for i, first in enumerate(docs):
            for second in docs[i + 1 :]:
                assert _covers(rows, first, second, texts, recycled["text"]), (recycled["id"], first, second)


def test_demo_edited_syndicated_copy_is_cross_outlet_reuse_from_the_wire(linked_demo):
    _, store = linked_demo
    ids = _doc_ids(store)
    syndication = TRUTH["syndication"][0]
    original = ids[syndication["original"]]
    edited = next(ids[c["path"]] for c in syndication["copies"] if c["kind"] == "edited")
    rows = store.sql(
        "SELECT doc_a, kind, direction, n_words FROM reuse WHERE ? IN (doc_a, doc_b) AND ? IN (doc_a, doc_b)",
        [original, edited],
    ).values.tolist()
    assert rows
    assert {(a, kind, direction) for a, kind, direction, _ in rows} == {(original, "cross-outlet", "a_to_b")}
    assert sum(n for *_, n in rows) >= 150


def test_link_is_incremental_and_agrees_with_one_run(tmp_path: Path, linked_demo):
    _, full = linked_demo
    expected = sorted(map(tuple, full.sql("SELECT * EXCLUDE (run_id) FROM reuse").values.tolist()))
    db = tmp_path / "incremental.duckdb"
    # The files that come first in a full run, so that each document keeps the outlet of its first occurrence.
    ingest([EXAMPLES / "corpus" / "feeds", EXAMPLES / "corpus" / "html"], db=db)
    first = link_reuse(db)
    with newstrace.open(db) as store:
        before = dict(store.sql("SELECT doc_id, text FROM documents").values.tolist())
    ingest([EXAMPLES / "corpus"], db=db)
    with newstrace.open(db) as store:
        after = dict(store.sql("SELECT doc_id, text FROM documents").values.tolist())
    # Outlet boilerplate found among the new documents re-cleans some old ones: those are linked again.
    recleaned = sum(after[doc_id] != text for doc_id, text in before.items())
    second = link_reuse(db)
    assert second.new_documents == len(after) - first.new_documents + recleaned
    again = link_reuse(db)
    assert (again.new_documents, again.passages) == (0, 0)
    with newstrace.open(db) as store:
        rows = sorted(map(tuple, store.sql("SELECT * EXCLUDE (run_id) FROM reuse").values.tolist()))
    assert rows == expected


def test_interrupted_link_keeps_finished_chunks_and_resumes(tmp_path: Path, linked_demo):
    _, full = linked_demo
    expected = sorted(map(tuple, full.sql("SELECT * EXCLUDE (run_id) FROM reuse").values.tolist()))
    db = tmp_path / "killed.duckdb"
    ingest([EXAMPLES / "corpus"], db=db)

    def stop_after_first_chunk(kind: str, payload: object) -> None:
        if kind == "indexed":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        link_reuse(db, chunk_size=10, on_event=stop_after_first_chunk)
    with newstrace.open(db) as store:
        assert store.sql("SELECT count(*) FROM reuse_index").values[0][0] == 10
    link_reuse(db, chunk_size=10)
    with newstrace.open(db) as store:
        rows = sorted(map(tuple, store.sql("SELECT * EXCLUDE (run_id) FROM reuse").values.tolist()))
    assert rows == expected


def test_link_command_reports_and_info_shows_the_passages(tmp_path: Path):
    db = tmp_path / "cli.duckdb"
    run_cli("ingest", EXAMPLES / "corpus", "--db", db, check=True)
    linked = run_cli("link", "--db", db, "-q", check=True)
    assert re.search(
        r"\d+ new documents compared with \d+ indexed: \d+ candidate pairs, [1-9]\d* reused", linked.stderr
    )
    info = run_cli("info", "--db", db, check=True)
    assert "reused passages between" in info.stdout
    bad = run_cli("link", "--db", db, "--min-words", "2")
    assert bad.returncode == 2 and "--min-words" in bad.stderr
