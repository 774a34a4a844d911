"""Web pages: trafilatura finds the main text, htmldate and the page's meta give date, title, url and site."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import htmldate
import trafilatura

from newstrace.ingest.sources import InputFile, ReadOptions, read_text_file
from newstrace.model import Problem, RawArticle


@dataclass(frozen=True, slots=True)
class Extracted:
    text: str
    title: str | None
    date: str | None
    url: str | None
    site: str | None
    language: str | None


def extract_page(html: str, url: str | None = None) -> Extracted | None:
    """The article in a page, or None when the page has no main text."""
    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None or not (doc.text or "").strip():
        return None
    # htmldate without extensive search reads only meta tags, structured data and the URL: a date from the
    # page's metadata, never a guess from the body text.
    date = htmldate.find_date(html, url=url, original_date=True, extensive_search=False) or doc.date
    return Extracted(doc.text, doc.title, date, doc.url or url, doc.sitename, doc.language)


def read_html(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    decoded = read_text_file(item, options.max_bytes, "HTML")
    if decoded.fallback_reason:
        yield Problem(item.name, "decode", decoded.fallback_reason, severity="warning")
    yield RawArticle(item.name, "", "html", html=decoded.text, encoding=decoded.encoding)
