"""The static report and the web app without a browser: escaping, self-containedness, size, the API and its
guards. The store is the demo corpus plus a hostile article (markup and script in its title, outlet, URL and
text) and an edited copy of it, ingested, annotated and linked once per test run."""

from __future__ import annotations

import hashlib
import json
import socket
from html.parser import HTMLParser
from pathlib import Path

import pytest
import typer
from starlette.testclient import TestClient
from tests.conftest import EXAMPLES, run_cli
from typer.testing import CliRunner

from newstrace.present import views
from newstrace.present.commands import register
from newstrace.present.report import SCRIPTS, render_page, report_data, script_json, write_report
from newstrace.present.server import TOKEN_COOKIE, create_app
from newstrace.store import Store

ASSETS = Path(__file__).resolve().parents[1] / "src" / "newstrace" / "present" / "assets"

# A fictional wire story whose every field tries to run script. Each payload would set window.__xss.
HOSTILE = """---
title: "Ministry warns <img src=x onerror=\\"window.__xss='title'\\"> of attack</script><script>window.__xss='title2'</script>"
outlet: "Night <script>window.__xss='outlet'</script> Wire"
date: 2024-05-02
url: "javascript:window.__xss='url'"
---

The Ministry of Defence said on Thursday that militants of the Free Highlands Front are preparing to stage a chemical attack in Kessarin <script>window.__xss='text'</script> in order to accuse the army.

"They will film it and send the pictures abroad <img src=x onerror=window.__xss='img'>," ministry spokesman Colonel Aurel Vindask told reporters. Read more at <a href="javascript:window.__xss='link'">our site</a> or javascript:window.__xss='bare'.

The statement ends here </script><script>window.__xss='close'</script> and nothing else follows.
"""
# The same story, reprinted with a new last paragraph by an outlet whose name is markup too.
HOSTILE_COPY = (
    HOSTILE.replace(
        "Night <script>window.__xss='outlet'</script> Wire", "Second <b onmouseover=window.__xss='b'>Wire</b>"
    )
    .replace("2024-05-02", "2024-05-03")
    .replace("and nothing else follows.", "The army denied it <svg onload=window.__xss='svg'>.")
)
HOSTILE_MARKERS = ("<script>window.__xss='text'</script>", "<img src=x onerror=window.__xss='img'>")


def linked_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo corpus and the hostile articles in one linked store, built once per test run (the browser
    tests share it)."""
    folder = tmp_path_factory.getbasetemp() / "report-store"
    db = folder / "store.duckdb"
    if (folder / "built").exists():
        return db
    folder.mkdir(exist_ok=True)
    hostile = folder / "hostile"
    hostile.mkdir(exist_ok=True)
    (hostile / "hostile-wire.txt").write_text(HOSTILE, encoding="utf-8")
    (hostile / "hostile-copy.txt").write_text(HOSTILE_COPY, encoding="utf-8")
    run_cli("ingest", EXAMPLES / "corpus", hostile, "--db", db, "-q", check=True)
    run_cli(
        "annotate", "--db", db, "--aliases", EXAMPLES / "actors.yml", "--places", EXAMPLES / "places.yml",
        check=True,
    )  # fmt: skip
    run_cli("link", "--db", db, "-q", check=True)
    (folder / "built").touch()
    return db


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return linked_store(tmp_path_factory)


@pytest.fixture(scope="module")
def report(store_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    write_report(store_path, out)
    return out, out.read_text(encoding="utf-8")


class _Elements(HTMLParser):
    """Every start tag with its attributes (text inside <script> is data, not tags, for this parser)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.tags


# -- escaping ------------------------------------------------------------------------------------------------


def test_script_json_escapes_everything_that_could_end_the_element():
    value = {"text": "</script><script>alert(1)</script><!-- & \u2028\u2029 <b>", "n": [1, 2.5, None]}
    encoded = script_json(value)
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in encoded
    assert json.loads(encoded) == value


def test_page_title_is_escaped():
    page = render_page("<script>alert(1)</script> & co")
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in page


def test_hostile_text_stays_inside_the_json_blob(report):
    _, page = report
    # Only the report's own elements: 2 JSON blobs and 3 inline scripts, whatever the articles say.
    assert [tag for tag, _ in _tags(page)].count("script") == 2 + len(SCRIPTS)
    assert "window.__xss" in page  # the hostile article is in the report ...
    assert "<script>window.__xss" not in page  # ... but never as markup
    for tag, attrs in _tags(page):
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)


# -- self-contained ------------------------------------------------------------------------------------------


def test_report_is_self_contained(report):
    _, page = report
    for tag, attrs in _tags(page):
        for name in ("src", "href", "action", "data", "poster"):
            value = (attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//", "javascript:")), (tag, name, value)
        assert not (tag == "script" and attrs.get("src")), "scripts must be inline"
        assert not (tag == "link" and attrs.get("rel") == "stylesheet"), "styles must be inline"


def test_report_forbids_any_other_script_or_connection(report):
    _, page = report
    (policy,) = [a["content"] for t, a in _tags(page) if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert policy.count("'sha256-") == len(SCRIPTS) + 1  # the scripts and the stylesheet, nothing else


def test_demo_report_is_small(report):
    path, _ = report
    # The demo corpus is 33 articles; the vendored d3 and world outline are about 400 kB of it.
    assert path.stat().st_size < 1_500_000


def test_vendored_assets_match_their_manifest():
    manifest = json.loads((ASSETS / "MANIFEST.json").read_text(encoding="utf-8"))
    for entry in manifest["files"]:
        assert hashlib.sha256((ASSETS / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
        assert (ASSETS / entry["license_file"]).read_text(encoding="utf-8").strip()
        assert entry["version"] and entry["license"]


# -- what the report holds -----------------------------------------------------------------------------------


def test_report_data_points_at_real_evidence(store_path):
    with Store(store_path, read_only=True) as store:
        data = report_data(store)
        texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
    assert data["narratives"], "the demo corpus has recurring narratives"
    columns = data["columns"]["chain"]
    checked = 0
    for detail in data["narrative"].values():
        for row in detail["chain"]:
            link = dict(zip(columns, row, strict=True))
            text = texts[link["doc_id"]]
            for start, end, role in link["marks"]:
                assert 0 <= start < end <= len(text), link
                assert role in ("source", "cue", "content", "claim")
                checked += 1
    assert checked > 50
    # Compact rows keep their meaning: claims of a document carry their span and chain role.
    claim_columns = data["columns"]["claims"]
    assert {"claim_id", "start", "end", "chain_role", "narrative_id"} <= set(claim_columns)


def test_document_view_carries_aligned_reuse_passages(store_path):
    with Store(store_path, read_only=True) as store:
        copy_id = store.one("SELECT doc_id FROM documents WHERE outlet LIKE 'Second%'")[0]
        doc = views.document_detail(store, copy_id)
        partner_text = store.one("SELECT text FROM documents WHERE doc_id = ?", [doc["reuse"][0]["partner"]])[
            0
        ]
    assert HOSTILE_MARKERS[0] in doc["text"]
    passage = doc["reuse"][0]["passages"][0]
    assert passage["partner_text"] == partner_text[passage["partner_start"] : passage["partner_end"]]
    assert doc["text"][passage["start"] : passage["end"]].split()[:5] == passage["partner_text"].split()[:5]


# -- the command line ----------------------------------------------------------------------------------------


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """newstrace"""

    register(app)
    return app


def test_report_command_writes_the_file_and_says_what_is_in_it(store_path, tmp_path):
    out = tmp_path / "sub" / "r.html"
    result = CliRunner().invoke(
        _cli(), ["report", "--db", str(store_path), "-o", str(out), "--title", "Demo"]
    )
    assert result.exit_code == 0, result.output
    assert "documents" in result.output and "narratives" in result.output
    assert "<title>Demo</title>" in out.read_text(encoding="utf-8")


def test_report_command_names_a_missing_store(tmp_path):
    missing = tmp_path / "nowhere.duckdb"
    result = CliRunner().invoke(_cli(), ["report", "--db", str(missing), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert str(missing) in result.output and "no such store" in result.output


def test_serve_command_refuses_a_port_in_use(store_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(_cli(), ["serve", "--db", str(store_path), "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port}" in result.output and "in use" in result.output


# -- the web app ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(store_path):
    with TestClient(create_app(store_path), base_url="http://127.0.0.1") as test_client:
        yield test_client


def test_api_mirrors_the_queries(client):
    page = client.get("/api/narratives", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["total"] >= 2
    narrative_id = page["items"][0]["narrative_id"]
    detail = client.get(f"/api/narratives/{narrative_id}").json()
    assert detail["narrative"]["narrative_id"] == narrative_id
    link = detail["chain"][0]
    assert link["chain_role"] == "first" and link["context"]
    document = client.get(f"/api/documents/{link['doc_id']}").json()
    assert document["text"][link["start"] : link["end"]] in link["context"]
    about = client.get("/api/claims", params={"about": "Free Highlands Front", "limit": 5}).json()
    assert about["total"] > 0 and len(about["items"]) <= 5
    assert isinstance(client.get("/api/framing/fhf").json(), list)
    assert all(p["source"] for p in client.get("/api/predictions").json()["items"])
    found = client.get("/api/search", params={"q": "chlorine"}).json()
    assert found["n_claims"] > 0 and found["n_documents"] > 0


def test_api_says_what_is_wrong(client):
    assert client.get("/api/narratives/nope").status_code == 404
    assert "no narrative 'nope'" in client.get("/api/narratives/nope").json()["error"]
    assert client.get("/api/claims").status_code == 400
    assert client.get("/api/narratives", params={"limit": "many"}).json() == {
        "error": "limit must be a whole number, not 'many'"
    }
    assert client.get("/api/actors/nobody-at-all").status_code == 404


def test_app_is_read_only_and_sends_security_headers(client):
    for response in (client.get("/"), client.get("/api/overview"), client.get("/api/narratives/nope")):
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "http" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert client.post("/api/overview").status_code == 405
    assert client.get("/assets/../store.py").status_code == 404


def test_app_on_loopback_answers_only_local_names(store_path):
    with TestClient(create_app(store_path), base_url="http://attacker.example") as foreign:
        assert foreign.get("/api/overview").status_code == 400


def test_app_off_loopback_needs_the_token(store_path):
    app = create_app(store_path, token="s3cret", local_only=False)
    with TestClient(app, base_url="http://192.0.2.10") as remote:
        assert remote.get("/api/overview").status_code == 401
        assert remote.get("/api/overview", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert remote.get("/api/overview", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert remote.get("/api/overview", params={"token": "s3cret"}).status_code == 200
        entry = remote.get("/", params={"token": "s3cret"}, follow_redirects=False)
        assert entry.status_code == 303 and entry.headers["location"] == "/"
        assert (
            TOKEN_COOKIE in entry.headers["set-cookie"] and "httponly" in entry.headers["set-cookie"].lower()
        )
        assert remote.get("/assets/report.js").status_code == 200  # the cookie now carries the token
