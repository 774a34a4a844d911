"""The five reference articles in ../shared/data/seeds: stored, boilerplate gone, every body paragraph kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import run_cli, shared_path

import newstrace

# The page furniture the issue names, as substrings of whole lines that must not survive cleaning.
BOILERPLATE = [
    "0 $",
    "2,500 $",
    "5,000 $",
    "2,160 $",
    "Support SouthFront",
    "BITCOIN:",
    "BITCOIN CASH:",
    "OR CONTACT US",
    "You can read this article in German",
    "Do you like this content? Consider helping us!",
    "Leave a Reply",
    "Add a Comment",
    "Your email address will not be published",
]


@pytest.fixture(scope="module")
def seeds_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    seeds = shared_path("seeds")
    db = tmp_path_factory.mktemp("seeds") / "s.duckdb"
    run_cli("ingest", seeds, "--db", db, check=True)
    return seeds, db


def _boilerplate_line(line: str) -> bool:
    return any(line.startswith(marker) or line == marker for marker in BOILERPLATE)


def test_stores_all_five_seed_articles(seeds_store):
    _, db = seeds_store
    with newstrace.open(db) as store:
        assert len(store.documents()) == 5
        assert store.summary()["errors"] == 0


def test_seed_export_has_no_boilerplate_lines(seeds_store):
    _, db = seeds_store
    exported = run_cli("export", "--db", db, "--table", "documents", check=True).stdout
    import json

    for record in map(json.loads, exported.splitlines()):
        for line in record["text"].split("\n"):
            assert not _boilerplate_line(line.strip()), (record["source_path"], line)
            if record["title"] and record["metadata"] and '"title_source": "text"' in record["metadata"]:
                assert line.strip() != record["title"], "a repeated title line survived"


def test_seed_body_paragraphs_all_present(seeds_store):
    seeds, db = seeds_store
    with newstrace.open(db) as store:
        docs = store.documents(with_raw=True).set_index("source_path")
    for path in sorted(seeds.glob("*.txt")):
        text = docs.loc[str(path), "text"]
        title = docs.loc[str(path), "title"]
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        body = [line for line in lines if not _boilerplate_line(line) and line != title]
        assert body, path
        for line in body:
            assert line in text, f"{path.name}: body paragraph lost: {line[:60]}"


def test_repeated_titles_are_stored_once_as_title(seeds_store):
    seeds, db = seeds_store
    with newstrace.open(db) as store:
        docs = store.documents().set_index("source_path")
    for path in sorted(seeds.glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        repeated = {line for line in lines if lines.count(line) > 1 and not _boilerplate_line(line)}
        for line in repeated:
            assert docs.loc[str(path), "title"] == line
            assert line not in docs.loc[str(path), "text"]


def test_seed_offsets_map_clean_text_back_to_the_file(seeds_store):
    _, db = seeds_store
    with newstrace.open(db) as store:
        for doc_id in store.documents()["doc_id"]:
            doc = store.document(doc_id)
            raw = Path(doc.source_path).read_text(encoding="utf-8")
            assert doc.raw_text == raw
            for paragraph in doc.text.split("\n\n"):
                start = doc.text.index(paragraph)
                raw_start, raw_end = doc.raw_span(start, start + len(paragraph))
                assert raw[raw_start:raw_end] == paragraph
