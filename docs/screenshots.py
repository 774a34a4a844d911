"""Screenshots of the report's main views, from the demo corpus, for the documentation.

    python docs/screenshots.py                      # builds the demo store in a temporary folder
    python docs/screenshots.py --db demo-out/newstrace.duckdb

Writes docs/report-narrative.png, docs/report-document.png, docs/report-map.png and docs/report-actors.png.
Needs Playwright (the dev extra) and Chromium at /usr/bin/chromium (`make browser-deps`).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from newstrace.present.report import write_report
from newstrace.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
WIDTH = 1280
# The demo's edited wire copy: attributions, entities, places and reuse side by side on one page.
SHOWCASE_DOCUMENT = "dunmael-chemical-provocation-warning.html"


def build_demo_store(folder: Path) -> Path:
    db = folder / "newstrace.duckdb"
    newstrace = [sys.executable, "-m", "newstrace"]
    for args in (
        ["ingest", str(EXAMPLES / "corpus"), "--db", str(db), "-q"],
        [
            "annotate",
            "--db",
            str(db),
            "--aliases",
            str(EXAMPLES / "actors.yml"),
            "--places",
            str(EXAMPLES / "places.yml"),
        ],
        ["link", "--db", str(db), "-q"],
    ):
        subprocess.run([*newstrace, *args], check=True)
    return db


def pick_views(db: Path) -> dict[str, str]:
    """The narrative, document and actor worth showing: a narrative first said by a named source and later
    repeated without it, with predictions, across most outlets (and short enough to read); the showcase
    document; the most labelled actor."""
    with Store(db, read_only=True) as store:
        (narrative,) = store.one(
            """SELECT n.narrative_id FROM narratives n
               JOIN claims first ON first.narrative_id = n.narrative_id AND first.chain_role = 'first'
               WHERE n.recurring AND n.n_claims <= 60
               ORDER BY first.attributed AND first.source_type NOT IN ('unknown', 'outlet') AND n.n_dropped > 0
                            AND n.n_predictions > 0 DESC,
                        first.attributed AND n.n_dropped > 0 DESC, n.n_outlets DESC, n.n_documents DESC,
                        n.narrative_id LIMIT 1"""
        )
        document = store.one(
            """SELECT doc_id FROM documents d
               ORDER BY source_path LIKE ? DESC,
                        (SELECT count(*) FROM reuse r WHERE d.doc_id IN (r.doc_a, r.doc_b)) DESC, doc_id LIMIT 1""",
            [f"%{SHOWCASE_DOCUMENT}"],
        )[0]
        actor = store.one(
            """SELECT actor_id FROM (SELECT actor_id, 1 AS n FROM labels UNION ALL
                                      SELECT actor_id, 0 FROM mentions WHERE actor_id IS NOT NULL)
               GROUP BY actor_id ORDER BY sum(n) DESC, count(*) DESC, actor_id LIMIT 1"""
        )[0]
    return {
        "narrative": f"#/narrative/{narrative}",
        "document": f"#/document/{document}",
        "map": "#/map",
        "actors": f"#/actor/{actor}",
    }


def show_example_label(page: Page) -> None:
    """Click the largest count of the framing matrix, so that its example span shows."""
    cells = page.locator(".framing .matrix td.cell:not(.empty)")
    if cells.count():
        counts = [int(text.replace(",", "")) for text in cells.all_inner_texts()]
        cells.nth(counts.index(max(counts))).click()


def shoot(page: Page, url: str, out: Path, height: int) -> None:
    page.goto(url)
    page.wait_for_selector("main[data-ready]", state="attached")
    page.wait_for_selector("main .loading", state="detached")
    if "#/actor/" in url:
        show_example_label(page)
    page.wait_for_timeout(400)
    full = page.evaluate("document.documentElement.scrollHeight")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(
        path=str(out), full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": min(full, height)}
    )
    print(f"{out.relative_to(ROOT)}: {url.split('#')[1]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", type=Path, help="a linked store of the demo corpus (default: build one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or build_demo_store(Path(scratch))
        report = Path(scratch) / "report.html"
        write_report(db, report, title="Demo corpus: the Republic of Varnia (fictional)")
        views = pick_views(db)
        heights = {"narrative": 2800, "document": 2100, "map": 1100, "actors": 1500}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": WIDTH, "height": 900})
            for name, fragment in views.items():
                shoot(page, report.as_uri() + fragment, DOCS / f"report-{name}.png", heights[name])
            browser.close()


if __name__ == "__main__":
    main()
