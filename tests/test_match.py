"""Catalogue matching: reading catalogues, tweet normalisation, ranking, the match command, CLEF dev MAP@5."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli, shared_path
from newstrace.match import (
    Catalog,
    CatalogError,
    Match,
    Matcher,
    normalize_text,
    read_qrels,
    score_run,
    shipped_rerankers,
    tokenize,
)

CLAIMS = [
    ("c1", "The White Helmets staged a chemical attack in Khan Shaykhun.", "Did rescuers fake a gas attack?"),
    ("c2", "Bill Gates wants to implant microchips with the coronavirus vaccine.", "Microchips in vaccines?"),
    ("c3", "A photograph shows a giant ammonite fossil from British Columbia.", "Is this giant fossil real?"),
    ("c4", "NATO troops brought COVID-19 to Latvia.", "Did NATO soldiers spread the virus?"),
]
QUERIES = [
    ("q1", "Rescue workers faked the gas attack in Khan Shaykhun, says Moscow #Syria https://t.co/x1"),
    ("q2", "Gates will put a chip in everyone through the COVID vaccine pic.twitter.com/abc"),
]


def write_tsv(path: Path) -> Path:
    lines = ["\tvclaim\ttitle"] + [f"{i}\t{c}\t{t}" for i, c, t in CLAIMS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# -- normalisation ---------------------------------------------------------------------------------------


def test_tweet_normalisation() -> None:
    tweet = (
        "Nice find!#geology#BritishColumbia https://t.co/lBzOZQuJJhpic.twitter.com/RIHYdA1Ss0 "
        "— Center for Bio Div (@CenterForBioDiv) January 6, 2020"
    )
    assert normalize_text(tweet, tweet=True) == "Nice find! geology British Columbia Center for Bio Div"
    assert (
        normalize_text("Sooo, @realDonaldTrump… &amp; #COVID19", tweet=True)
        == "Sooo, real Donald Trump & COVID 19"
    )
    # without tweet=True only entities and spaces change
    assert normalize_text("a  #tag\n&quot;b&quot;") == 'a #tag "b"'
    assert tokenize("The claims were claimed by Ré") == ["claim", "claim", "re"]


# -- reading catalogues ----------------------------------------------------------------------------------


def test_tsv_with_unnamed_id_column_and_quoted_line_breaks(tmp_path: Path) -> None:
    path = tmp_path / "docs.tsv"
    path.write_text(
        '\tvclaim\ttitle\n0\t"A claim\nover two lines"\tTitle 0\n1\tSecond claim\t"Title, ""quoted"""\n',
        encoding="utf-8",
    )
    catalog = Catalog.load(path)
    assert catalog.ids == ["0", "1"]
    assert catalog.fields == ["vclaim", "title"]
    assert catalog.texts["vclaim"][0] == "A claim\nover two lines"
    assert catalog.texts["title"][1] == 'Title, "quoted"'


def test_csv_semicolon_jsonl_and_txt(tmp_path: Path) -> None:
    csv_path = tmp_path / "eu.csv"
    csv_path.write_text(
        '"issue";"date";"title";"summary";"disproof"\r\n'
        '"82";"03.10.2017";"Explosions were staged";"The explosions\r\nwere staged.";"No evidence."\r\n'
        '"81";"02.10.2017";"EU backed violence";"Officials backed it.";"False."\r\n',
        encoding="utf-8",
    )
    with pytest.raises(CatalogError, match=r"eu\.csv: no id column \(columns: issue, date, title"):
        Catalog.load(csv_path)
    catalog = Catalog.load(csv_path, id_column="@row")
    assert catalog.ids == ["0", "1"]
    assert catalog.fields == ["title", "summary"]
    assert catalog.texts["summary"][0] == "The explosions\r\nwere staged."
    assert catalog.meta[0] == {"issue": "82", "date": "03.10.2017", "disproof": "No evidence."}
    assert Catalog.load(csv_path, id_column="issue", text_columns=["disproof"]).texts == {
        "disproof": ["No evidence.", "False."]
    }

    jsonl = tmp_path / "claims.jsonl"
    jsonl.write_text('{"id": 7, "text": "one", "lang": "en"}\n\n{"id": 8, "text": "two"}\n', encoding="utf-8")
    catalog = Catalog.load(jsonl)
    assert catalog.ids == ["7", "8"] and catalog.texts == {"text": ["one", "two"]}
    assert catalog.meta == [{"lang": "en"}, {}]

    txt = tmp_path / "queries.txt"
    txt.write_text("first claim\n\nsecond claim\n", encoding="utf-8")
    assert Catalog.load(txt).texts == {"text": ["first claim", "second claim"]}


def claim_review(url: str, claim: str, rating: str) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim,
        "datePublished": "2020-03-01",
        "author": {"@type": "Organization", "name": "Fact Desk"},
        "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "alternateName": rating},
        "itemReviewed": {"@type": "Claim", "author": {"@type": "Person", "name": "A. Blogger"}},
    }


@pytest.mark.parametrize("shape", ["list", "single", "graph", "nested"])
def test_claim_review_json_ld(tmp_path: Path, shape: str) -> None:
    reviews = [
        claim_review("https://facts.example/1", "5G spreads the virus.", "False"),
        claim_review("https://facts.example/2", "Vitamin C cures COVID-19.", "Misleading"),
    ]
    data = {
        "list": reviews,
        "single": reviews[0],
        "graph": {"@context": "https://schema.org", "@graph": [{"@type": "WebPage"}, *reviews]},
        "nested": {"@type": "NewsArticle", "review": reviews},
    }[shape]
    path = tmp_path / "reviews.jsonld"
    path.write_text(json.dumps(data), encoding="utf-8")
    catalog = Catalog.load(path)
    expected = reviews[:1] if shape == "single" else reviews
    assert catalog.ids == [r["url"] for r in expected]
    assert catalog.texts["claimReviewed"] == [r["claimReviewed"] for r in expected]
    meta = catalog.meta[0]
    assert meta["rating"] == "False" and meta["ratingValue"] == "1" and meta["bestRating"] == "5"
    assert meta["author"] == "Fact Desk" and meta["claimAuthor"] == "A. Blogger"
    assert meta["datePublished"] == "2020-03-01"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.tsv", None, "no such file"),
        ("empty.csv", "", "empty file"),
        ("header.csv", "id,text\n", "no entries"),
        ("noid.csv", "claim,title\nx,y\n", "no id column"),
        ("notext.csv", "id,a,b\n1,x,y\n", "no text column found"),
        ("dup.csv", "id,text\n1,x\n1,y\n", "id '1' appears twice"),
        ("bad.json", "{not json", "not JSON"),
        ("bad.jsonl", '{"id": 1, "text": "a"}\nnope\n', "line 2 is not JSON"),
        ("blank.csv", "id,text\n,x\n", "entry 0 has no value in the id column 'id'"),
        ("data.xml", "<a/>", "unknown format 'xml'"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, name: str, content: str | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        Catalog.load(path)
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


# -- ranking ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog.load(write_tsv(tmp_path_factory.mktemp("catalog") / "claims.tsv"))


@pytest.mark.parametrize("embedder", ["static", "minilm", None])
def test_search_finds_the_paraphrased_claim(catalog: Catalog, embedder: str | None) -> None:
    matcher = Matcher(catalog, embedder=embedder)
    results = matcher.search([q for _, q in QUERIES], top=3)
    assert [ms[0].entry_id for ms in results] == ["c1", "c2"]
    for matches in results:
        assert [m.rank for m in matches] == [1, 2, 3]
        assert all(0.0 <= m.score <= 1.0 for m in matches)
        assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
        assert matches[0].query_id is None and matches[0].text
    assert results[0][0].score > results[0][1].score


def test_search_with_query_catalog_fusion_and_duplicates(tmp_path: Path) -> None:
    rows = [
        *CLAIMS,
        (
            "c5",
            "The White Helmets staged a 'chemical attack' in Khan Shaykhun",
            "Did rescuers fake a gas attack?",
        ),
    ]
    catalog = Catalog.from_records([{"id": i, "claim": c, "title": t} for i, c, t in rows], source="inline")
    queries = Catalog.from_texts([q for _, q in QUERIES], ids=[i for i, _ in QUERIES])
    for rerank in (True, False):
        matcher = Matcher(catalog, embedder="static", rerank=rerank)
        results = matcher.search(queries, top=2)
        first = results[0][0]
        assert (first.query_id, first.entry_id, first.duplicates) == ("q1", "c1", ("c5",))
        assert "c5" not in [m.entry_id for m in results[0]]
        assert first.to_dict()["duplicates"] == ["c5"]
    # without deduplication both copies are ranked
    apart = Matcher(catalog, embedder="static", dedupe=False).search(queries, top=2)
    assert {m.entry_id for m in apart[0]} == {"c1", "c5"}
    with pytest.raises(TypeError):
        matcher.search("one string")


def test_one_field_catalogue_uses_the_same_reranker(tmp_path: Path) -> None:
    path = tmp_path / "reviews.json"
    path.write_text(
        json.dumps([claim_review(f"https://facts.example/{i}", claim, "False") for i, claim, _ in CLAIMS]),
        encoding="utf-8",
    )
    catalog = Catalog.load(path)
    assert catalog.fields == ["claimReviewed"]
    results = Matcher(catalog, embedder="static").search([q for _, q in QUERIES], top=2, min_score=0.0)
    assert [ms[0].entry_id for ms in results] == ["https://facts.example/c1", "https://facts.example/c2"]
    assert results[0][0].meta["rating"] == "False"
    assert Matcher(catalog, embedder=None).search([QUERIES[0][1]], top=1, min_score=1.01) == [[]]


def test_shipped_rerankers_record_how_they_were_fitted() -> None:
    table = shipped_rerankers()
    assert "train" in table["data"] and "dev" not in table["data"].split("train")[0]
    assert set(table["models"]) == {"bm25", "bm25+static", "bm25+minilm", "bm25+static+minilm"}
    for model in table["models"].values():
        assert len(model["features"]) == len(model["weights"]) == len(model["mean"])


def test_score_run() -> None:
    run = {"a": [Match("x", 0.9, 1), Match("y", 0.5, 2)], "b": [("z", 1.0), ("w", 0.5)], "c": []}
    qrels = {"a": {"y"}, "b": {"z", "w"}, "c": {"v"}}
    scores = score_run(run, qrels, k=5)
    assert scores["map@5"] == pytest.approx((0.5 + 1.0 + 0.0) / 3, abs=1e-4)
    assert scores["mrr"] == pytest.approx((0.5 + 1.0 + 0.0) / 3, abs=1e-4)
    assert scores["p@1"] == pytest.approx(1 / 3, abs=1e-4)


# -- the command -----------------------------------------------------------------------------------------


def test_match_command_trec_and_json(tmp_path: Path) -> None:
    claims = write_tsv(tmp_path / "claims.tsv")
    queries = tmp_path / "tweets.tsv"
    queries.write_text("\ttweet_content\n" + "".join(f"{i}\t{q}\n" for i, q in QUERIES), encoding="utf-8")
    result = run_cli(
        "match", "--catalog", claims, "--queries", queries, "--top", "2", "--trec", "--run-name", "t1"
    )
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t") for line in result.stdout.splitlines()]
    assert len(lines) == 4
    assert [line[:4] for line in lines[::2]] == [["q1", "Q0", "c1", "1"], ["q2", "Q0", "c2", "1"]]
    assert all(line[5] == "t1" and float(line[4]) >= 0 for line in lines)
    assert [line[3] for line in lines[:2]] == ["1", "2"]

    result = invoke("match", "-c", claims, "-q", queries, "-k", "1", "--embedder", "static")
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["query_id"], r["matches"][0]["entry_id"]) for r in records] == [("q1", "c1"), ("q2", "c2")]
    assert records[0]["matches"][0]["text"].startswith("The White Helmets")


def invoke(*args: str | Path):
    """The command line in this process (faster than a subprocess for the error paths)."""
    from typer.testing import CliRunner

    from newstrace.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_match_command_errors_name_the_file(tmp_path: Path) -> None:
    claims = write_tsv(tmp_path / "claims.tsv")
    missing = tmp_path / "nope.tsv"
    result = invoke("match", "--catalog", missing, "--queries", claims)
    assert result.exit_code == 2
    assert "nope.tsv: no such file" in result.output.replace("\n", "")
    noid = tmp_path / "noid.csv"
    noid.write_text("claim,title\nx,y\n", encoding="utf-8")
    result = invoke("match", "--catalog", claims, "--queries", noid)
    assert result.exit_code == 2 and "noid.csv: no id column" in result.output.replace("\n", "")
    result = invoke("match", "--catalog", claims, "--queries", claims, "--embedder", "bert")
    assert result.exit_code == 2 and "unknown embedder 'bert'" in result.output.replace("\n", "")


# -- CLEF-2020 task 2 dev --------------------------------------------------------------------------------


def test_clef_dev_map_at_5() -> None:
    """The default-speed system (BM25 + static embeddings, shipped re-ranker) on the 197 dev tweets."""
    root = shared_path("clef2020-t2", "v3.0")
    catalog = Catalog.load(root / "verified_claims.docs.tsv")
    assert len(catalog) == 10375
    queries = Catalog.load(root / "dev" / "tweets.queries.tsv")
    qrels = read_qrels(root / "dev" / "tweet-vclaim-pairs.qrels")
    assert len(queries) == 197 and sum(map(len, qrels.values())) == 198
    matcher = Matcher(catalog, embedder="static")
    run = {ms[0].query_id: ms for ms in matcher.search(queries, top=5)}
    scores = score_run(run, qrels, k=5)
    assert scores["map@5"] >= 0.80, scores  # measured 0.816 (benchmarks/clef_eval.py)
