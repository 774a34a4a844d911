"""The static report: one self-contained HTML file that shows a store's narratives, documents, actors and
places, and works offline (every script, style and the world map are inline; it makes no request).

The data go in as one JSON blob, escaped for a ``<script type="application/json">`` element, and the page
draws its views from it in the browser (``assets/report.js``), the same views the web app serves.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from newstrace import __version__
from newstrace.present import views
from newstrace.store import Store

# Files of assets/ the page uses: vendored ones (checked against MANIFEST.json) and the project's own.
SCRIPTS = ("d3.min.js", "topojson-client.min.js", "report.js")
STYLE = "report.css"
WORLD = "countries-110m.json"

# Inline scripts must not end their element early or open an HTML comment in it.
_UNSAFE_IN_SCRIPT = ("</script", "<!--", "<script")


class AssetError(RuntimeError):
    """A vendored asset is missing or differs from what MANIFEST.json records."""


@dataclass(frozen=True)
class ReportInfo:
    """What :func:`write_report` wrote."""

    path: Path
    size: int
    documents: int
    narratives: int
    seconds: float


@cache
def asset(name: str) -> str:
    """The text of a file in ``present/assets``; vendored files are checked against their recorded sha256."""
    folder = resources.files("newstrace.present") / "assets"
    data = (folder / name).read_bytes()
    manifest = json.loads((folder / "MANIFEST.json").read_text(encoding="utf-8"))
    recorded = {entry["file"]: entry["sha256"] for entry in manifest["files"]}
    if name in recorded and hashlib.sha256(data).hexdigest() != recorded[name]:
        raise AssetError(
            f"newstrace/present/assets/{name}: sha256 differs from MANIFEST.json; "
            "restore it with `git checkout` or re-run assets/fetch_assets.sh"
        )
    return data.decode("utf-8")


def script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element: ``<``, ``>`` and ``&`` are
    escaped (so no ``</script>`` or ``<!--`` can appear), and so are U+2028/U+2029."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{csp}<meta name="referrer" content="no-referrer">
<meta name="generator" content="newstrace {version}">
<link rel="icon" href="data:,">
<title>{title}</title>
{style}
</head>
<body>
<header class="topbar">
<span class="brand">newstrace<small id="brand-title">{title}</small></span>
<nav>
<a href="#/" data-view="">Overview</a>
<a href="#/narratives" data-view="narratives">Narratives</a>
<a href="#/documents" data-view="documents">Documents</a>
<a href="#/actors" data-view="actors">Actors</a>
<a href="#/map" data-view="map">Map</a>
</nav>
<form id="search" role="search"><input id="search-input" type="search" placeholder="Search claims and documents" aria-label="Search claims and documents"></form>
</header>
<main id="view"><p class="loading">Loading…</p><noscript><p class="warn">This page draws its views with JavaScript: allow scripts for it to see them.</p></noscript></main>
{data}{scripts}
</body>
</html>
"""


def render_page(title: str, data: dict[str, Any] | None = None, world: Any = None) -> str:
    """The page. With ``data`` it is the self-contained report (scripts, style, data and world map inline,
    guarded by a Content-Security-Policy that allows exactly those scripts); without, the web app's page,
    which loads the same files from ``/assets`` and its data from ``/api``."""
    if data is None:
        return _PAGE.format(
            csp="",
            version=__version__,
            title=html.escape(title),
            style=f'<link rel="stylesheet" href="/assets/{STYLE}">',
            data="",
            scripts="".join(f'<script src="/assets/{name}"></script>\n' for name in SCRIPTS),
        )
    scripts = [asset(name) for name in SCRIPTS]
    for name, text in zip(SCRIPTS, scripts, strict=True):
        lowered = text.lower()
        if any(marker in lowered for marker in _UNSAFE_IN_SCRIPT):
            raise AssetError(f"newstrace/present/assets/{name} contains '</script', '<script' or '<!--'")
    style = asset(STYLE)
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_sha256_source(text) for text in scripts),
            "style-src " + _sha256_source(style),
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )
    blocks = [
        f'<script type="application/json" id="newstrace-data">{script_json(data)}</script>\n',
        f'<script type="application/json" id="newstrace-world">{script_json(world)}</script>\n',
    ]
    return _PAGE.format(
        csp=f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">\n',
        version=__version__,
        title=html.escape(title),
        style=f"<style>{style}</style>",
        data="".join(blocks),
        scripts="".join(f"<script>{text}</script>\n" for text in scripts),
    )


# Keys of a provenance-chain link that the page rebuilds from the document (text, context, title) or does
# not show (actors, places).
_CHAIN_KEYS_LEFT_OUT = ("text", "context", "title", "actors", "places")
# Keys of a reuse partner that the page looks up in its own document index.
_PARTNER_KEYS_LEFT_OUT = ("partner_title", "partner_outlet", "partner_published")


class _Tables:
    """Lists of records stored as rows of values, with the column names once per kind of record."""

    def __init__(self) -> None:
        self.columns: dict[str, list[str]] = {}

    def rows(self, kind: str, records: list[dict[str, Any]]) -> list[list[Any]]:
        if not records:
            return []
        columns = self.columns.setdefault(kind, list(records[0]))
        return [[record.get(column) for column in columns] for record in records]


def report_data(store: Store, title: str | None = None) -> dict[str, Any]:
    """Everything the report shows, from one store: the payloads of :mod:`newstrace.present.views`, with
    lists of records stored as rows (``columns`` names their values) and with what the page can rebuild from
    the documents left out."""
    tables = _Tables()
    narratives = views.narrative_list(store, limit=None)["items"]
    details = views.narrative_details(store, [n["narrative_id"] for n in narratives], with_text=False)
    for detail in details.values():
        for link in detail["chain"]:
            for key in _CHAIN_KEYS_LEFT_OUT:
                link.pop(key, None)
        detail["chain"] = tables.rows("chain", detail["chain"])
        del detail["actors"]  # the page has every actor's name
    documents = views.document_details(store, with_partner_text=False)
    for doc in documents.values():
        doc["claims"] = tables.rows("claims", doc["claims"])
        for partner in doc["reuse"]:
            for key in _PARTNER_KEYS_LEFT_OUT:
                partner.pop(key, None)
            partner["passages"] = tables.rows("passages", partner["passages"])
    actors = views.actor_list(store)
    return {
        "overview": views.overview(store, title),
        "narratives": tables.rows("narratives", narratives),
        "narrative": details,
        "documents": documents,
        "actor_names": views.actor_names(store),
        "actors": actors,
        "actor": views.actor_details(store, [a["actor_id"] for a in actors]),
        "places": views.place_list(store),
        "columns": tables.columns,
    }


def write_report(db: str | Path, out_path: str | Path, title: str | None = None) -> ReportInfo:
    """Write the report of the store ``db`` to ``out_path`` (one HTML file) and say what went in."""
    started = time.perf_counter()
    with Store(db, read_only=True) as store:
        data = report_data(store, title)
    page = render_page(data["overview"]["title"], data, json.loads(asset(WORLD)))
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return ReportInfo(
        path=out,
        size=out.stat().st_size,
        documents=len(data["documents"]),
        narratives=len(data["narratives"]),
        seconds=time.perf_counter() - started,
    )
