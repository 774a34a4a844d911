"""From a raw article to a clean :class:`Document`: extraction, cleaning, identity, date and language.

``prepare`` is a pure function of its input, so the local engine can run it in worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from newstrace.identity import doc_id
from newstrace.ingest.clean import Rule, clean_text
from newstrace.ingest.dates import parse_date
from newstrace.model import Document, Problem, RawArticle, words

# py3langid is as sure of a language from 1,000 characters of news as from the whole text, and 5x faster.
LANGUAGE_SAMPLE_CHARS = 1000
MIN_LANGUAGE_CHARS = 40


@dataclass(frozen=True, slots=True)
class PrepareOptions:
    rules: Sequence[Rule] | None = None
    date_order: str = "MDY"


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (py3langid), or None for very short texts."""
    sample = text[:LANGUAGE_SAMPLE_CHARS]
    if len(sample.strip()) < MIN_LANGUAGE_CHARS:
        return None
    import py3langid  # loaded on first use: the model takes a second to load

    return py3langid.classify(sample)[0]


def prepare(
    raw: RawArticle, options: PrepareOptions = PrepareOptions()
) -> tuple[Document | None, list[Problem]]:
    problems: list[Problem] = []

    def problem(error: str, detail: str = "", severity: str = "error") -> None:
        problems.append(Problem(raw.source_path, "clean", error, detail, raw.locator, severity))  # type: ignore[arg-type]

    title, outlet, url, date_value = raw.title, raw.outlet, raw.url, raw.date
    body_start = int(raw.metadata.pop("body_start", 0) or 0)
    if raw.html is not None:
        from newstrace.ingest.html_reader import extract_page  # trafilatura: only for pages

        page = extract_page(raw.html, url)
        if page is None:
            problem("no article text found in the page")
            return None, problems
        raw_text = page.text
        title = title or page.title
        outlet = outlet or page.site
        url = url or page.url
        date_value = date_value or page.date
    else:
        raw_text = raw.text or ""

    cleaned = clean_text(raw_text, title=title, rules=options.rules, start=body_start)
    if not cleaned.text.strip():
        problem("no text left after removing boilerplate", f"{len(cleaned.removals)} lines removed")
        return None, problems

    published = None
    if date_value:
        published = parse_date(str(date_value), options.date_order)
        if published is None:
            problem(
                f"date '{str(date_value)[:40]}' not understood; stored without a date", severity="warning"
            )

    metadata = dict(raw.metadata)
    language = metadata.pop("language", None) or detect_language(cleaned.text)
    metadata["title_source"] = "text" if cleaned.title_from_text else ("meta" if cleaned.title else None)
    document = Document(
        doc_id=doc_id(cleaned.text),
        source_path=raw.source_path,
        locator=raw.locator,
        format=raw.format,
        text=cleaned.text,
        raw_text=raw_text,
        offset_map=cleaned.offset_map,
        title=cleaned.title,
        outlet=outlet,
        url=url,
        published=published,
        published_source="meta" if published else None,
        language=language,
        encoding=raw.encoding,
        n_words=len(words(cleaned.text)),
        line_hashes=cleaned.line_hashes,
        removals=cleaned.removals,
        metadata=metadata,
    )
    return document, problems
