"""One reader per format: metadata comes from where each format keeps it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from tests.test_bad_inputs import ARTICLE, PAGE, _warc

import newstrace
from newstrace.ingest.fields import MappingError, parse_mapping


def _docs(db: Path):
    with newstrace.open(db) as store:
        return store.documents().set_index("locator", drop=False)


def test_txt_front_matter_sets_metadata_and_stays_out_of_text(tmp_path: Path, db: Path):
    (tmp_path / "a.txt").write_text(
        "---\ntitle: Kastrel: a council divided\noutlet: Kastrel Courier\ndate: 2022-02-03\nurl: https://k.test/a\n---\n"
        + ARTICLE,
        encoding="utf-8",
    )
    newstrace.ingest([tmp_path / "a.txt"], db=db)
    doc = _docs(db).iloc[0]
    assert (doc.title, doc.outlet, str(doc.published.date()), doc.url) == (
        "Kastrel: a council divided",
        "Kastrel Courier",
        "2022-02-03",
        "https://k.test/a",
    )
    assert doc.published_source == "meta"
    assert "---" not in doc.text and "outlet:" not in doc.text
    assert doc.text.startswith(
        "Kastrel council approves new harbour budget"
    )  # a metadata title leaves the headline in


def test_txt_sidecar_json_sets_metadata(tmp_path: Path, db: Path):
    (tmp_path / "b.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.json").write_text(
        json.dumps({"outlet": "Vell Post", "date": "2019-12-30"}), encoding="utf-8"
    )
    report = newstrace.ingest([tmp_path], db=db)
    assert report.stored == 1 and report.failed == 0  # the sidecar is not read as a JSON article
    doc = _docs(db).iloc[0]
    assert doc.outlet == "Vell Post" and str(doc.published.date()) == "2019-12-30"
    assert doc.title == "Kastrel council approves new harbour budget"


def test_html_metadata_and_main_text(tmp_path: Path, db: Path):
    (tmp_path / "p.html").write_text(PAGE, encoding="utf-8")
    newstrace.ingest([tmp_path / "p.html"], db=db, jobs=1)
    doc = _docs(db).iloc[0]
    assert doc.title == "Dock strike ends in Port Vell"
    assert doc.outlet == "Vell Evening Post"
    assert str(doc.published.date()) == "2021-05-04"
    assert doc.text.startswith("Dock workers in Port Vell returned to work")
    assert "Home" not in doc.text and "Dock strike ends" not in doc.text


def test_warc_response_records_become_documents(tmp_path: Path, db: Path):
    _warc(
        tmp_path / "crawl.warc.gz",
        [("https://vell.test/1", PAGE), ("https://vell.test/2", PAGE.replace("nine-day", "week-long"))],
    )
    report = newstrace.ingest([tmp_path / "crawl.warc.gz"], db=db, jobs=1)
    assert report.stored == 2
    docs = _docs(db)
    assert set(docs.url) == {"https://vell.test/1", "https://vell.test/2"}
    assert all(loc.startswith("record:urn:uuid:") for loc in docs.locator)


def test_jsonl_gz_with_default_and_mapped_fields(tmp_path: Path, db: Path):
    with gzip.open(tmp_path / "feed.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {
                    "headline": "Ferry resumes",
                    "body": "The Kastrel ferry resumed service today.",
                    "site": "Courier",
                }
            )
            + "\n"
        )
        handle.write(
            json.dumps(
                {
                    "headline": "Tram delayed",
                    "body": "The tram extension is delayed to 2026.",
                    "site": "Courier",
                }
            )
            + "\n"
        )
    newstrace.ingest([tmp_path / "feed.jsonl.gz"], db=db)
    docs = _docs(db)
    assert list(docs.sort_index().title) == ["Ferry resumes", "Tram delayed"]
    assert set(docs.outlet) == {"Courier"}
    assert set(docs.locator) == {"line:1", "line:2"}


def test_csv_column_mapping(tmp_path: Path, db: Path):
    (tmp_path / "t.csv").write_text(
        "id;headline_x;content_x;paper;when\n1;Bridge opens;The new bridge opened on Friday.;Courier;3/4/2021\n",
        encoding="utf-8",
    )
    newstrace.ingest(
        [tmp_path / "t.csv"], db=db, mapping="text=content_x,title=headline_x,outlet=paper,date=when"
    )
    doc = _docs(db).iloc[0]
    assert (doc.title, doc.outlet, str(doc.published.date())) == ("Bridge opens", "Courier", "2021-03-04")
    assert json.loads(doc.metadata)["id"] == "1"  # unmapped columns are kept as metadata


def test_csv_mapped_column_missing_is_reported_with_the_header(tmp_path: Path, db: Path):
    (tmp_path / "t.csv").write_text("title,body\nA,B text\n", encoding="utf-8")
    report = newstrace.ingest([tmp_path / "t.csv"], db=db, mapping="text=article_content")
    assert report.stored == 0 and report.failed == 1
    assert "'article_content' not in the header" in report.problems[0].error
    assert "title, body" in report.problems[0].detail


def test_several_paths_and_nested_folders(tmp_path: Path, db: Path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "y" / "one.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "x" / ".hidden.txt").write_text(ARTICLE + "hidden", encoding="utf-8")
    (tmp_path / "two.txt").write_text(ARTICLE.replace("Thursday", "Friday"), encoding="utf-8")
    report = newstrace.ingest([tmp_path / "x", tmp_path / "two.txt", tmp_path / "nowhere"], db=db)
    assert report.stored == 2
    assert [p.error for p in report.problems] == ["no such file or folder"]


def test_forced_format_reads_unknown_extensions(tmp_path: Path, db: Path):
    (tmp_path / "story.dat").write_text(ARTICLE, encoding="utf-8")
    assert newstrace.ingest([tmp_path / "story.dat"], db=db).failed == 1
    assert newstrace.ingest([tmp_path / "story.dat"], db=db, format="txt").stored == 1


@pytest.mark.parametrize("spec", ["text", "body=content", "text=", "colour=red"])
def test_bad_mapping_is_refused_with_the_reason(spec: str):
    with pytest.raises(MappingError, match="--map"):
        parse_mapping(spec)
