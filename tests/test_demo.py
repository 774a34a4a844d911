"""The bundled demo corpus (examples/) against its answer key, examples/ground_truth.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES, run_cli

import newstrace

TRUTH = json.loads((EXAMPLES / "ground_truth.json").read_text(encoding="utf-8"))


def _key(path: str) -> tuple[str, str]:
    """ground_truth.json names records as `corpus/feeds/x.jsonl#3` (line 3); the store as (path, `line:3`)."""
    file, _, line = path.partition("#")
    return str(EXAMPLES / file), f"line:{line}" if line else ""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = run_cli("ingest", EXAMPLES / "corpus", "--db", db, check=True)
    store = newstrace.open(db)
    occurrences = {
        (path, locator): (doc_id, outlet, title, published)
        for path, locator, doc_id, outlet, title, published in store.sql(
            "SELECT source_path, locator, doc_id, outlet, title, published FROM occurrences"
        ).values.tolist()
    }
    texts = dict(store.sql("SELECT doc_id, text FROM documents").values.tolist())
    yield result, store, occurrences, texts
    store.close()


def _text_of(demo, path: str) -> str:
    _, _, occurrences, texts = demo
    return texts[occurrences[_key(path)][0]]


def test_demo_ingests_cleanly(demo):
    result, store, occurrences, _ = demo
    assert "0 failed" in result.stderr
    assert len(occurrences) == len(TRUTH["documents"])
    assert store.one("SELECT count(*) FROM errors WHERE severity = 'error'")[0] == 0


def test_demo_metadata_matches_the_answer_key(demo):
    _, _, occurrences, _ = demo
    for truth in TRUTH["documents"]:
        _, outlet, title, published = occurrences[_key(truth["path"])]
        assert title == truth["title"], truth["path"]
        if truth.get("metadata") != "none":
            assert outlet == truth["outlet"], truth["path"]
            assert str(published)[:10] == truth["date"], truth["path"]


def test_demo_duplicates_and_verbatim_syndication_are_one_document(demo):
    _, _, occurrences, _ = demo
    for first, second in TRUTH["duplicates"]:
        assert occurrences[_key(first)][0] == occurrences[_key(second)][0]
    for story in TRUTH["syndication"]:
        original = occurrences[_key(story["original"])][0]
        for copy in story["copies"]:
            same = occurrences[_key(copy["path"])][0] == original
            assert same == (copy["kind"] == "verbatim"), copy["path"]


def test_demo_boilerplate_lines_are_removed(demo):
    for entry in TRUTH["boilerplate"]:
        lines = set(_text_of(demo, entry["path"]).split("\n"))
        for line in entry["lines"]:
            assert line not in lines, (entry["path"], entry["level"], line)
        if "repeated_title" in entry:
            assert entry["repeated_title"]["text"] not in lines


def test_demo_outlet_footer_found_by_outlet_level_cleaning(demo):
    _, store, _, _ = demo
    found = store.sql("SELECT outlet, text FROM outlet_boilerplate").values.tolist()
    outlet_level = [e for e in TRUTH["boilerplate"] if e["level"] == "outlet"]
    assert outlet_level
    footers = {line for entry in outlet_level for line in entry["lines"]}
    assert footers & {text for _, text in found}


def test_demo_body_paragraphs_and_recycled_paragraphs_survive(demo):
    for sample in TRUTH["body_paragraph_samples"]:
        assert sample["text"] in _text_of(demo, sample["path"]), sample["path"]
    for recycled in TRUTH["recycled_paragraphs"]:
        for path in recycled["paths"]:
            assert recycled["text"] in _text_of(demo, path), path


def test_demo_offsets_point_into_each_input_text(demo):
    _, store, _, _ = demo
    for doc_id in store.sql("SELECT doc_id FROM documents WHERE format = 'txt'").doc_id:
        doc = store.document(doc_id)
        raw = Path(doc.source_path).read_text(encoding="utf-8")
        for paragraph in doc.text.split("\n\n"):
            start = doc.text.index(paragraph)
            assert raw[slice(*doc.raw_span(start, start + len(paragraph)))] == paragraph


def test_answer_key_matches_the_corpus_files():
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "check_ground_truth.py")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all checks passed" in result.stdout


def test_demo_signed_quotations_are_attributions_of_their_signers(demo):
    from newstrace.attribution.tagger import load_tagger

    signed = [item for item in TRUTH["attribution"] if item["kind"] == "signed_quotation"]
    assert len(signed) == 3
    text = _text_of(demo, signed[0]["path"])
    found = {
        tuple(text[s:e] for s, e in (*a.source, *a.cue, *a.content)) for a in load_tagger().extract(text)
    }
    for item in signed:
        quotation, dash, name = (
            item["text"].rpartition("”")[0] + "”",
            *item["text"].rpartition("” ")[2].split(" ", 1),
        )
        assert (name, dash, quotation) in found, item["text"]
