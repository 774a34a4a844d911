"""Mapping the fields of structured inputs (JSON, CSV, front matter) onto a document's fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

FIELDS = ("text", "title", "url", "date", "outlet", "language")

# Names tried, in order, when the user gives no mapping for a field.
ALIASES: dict[str, tuple[str, ...]] = {
    "text": (
        "text",
        "content",
        "body",
        "maintext",
        "article_content",
        "article_text",
        "article",
        "full_text",
    ),
    "title": ("title", "headline", "article_title", "name"),
    "url": ("url", "link", "canonical_url", "source_url", "uri"),
    "date": ("date", "published", "publication_date", "date_publish", "published_at", "pubdate", "datetime"),
    "outlet": ("outlet", "site", "sitename", "site_name", "publisher", "source", "media", "domain"),
    "language": ("language", "lang"),
}


class MappingError(ValueError):
    """A --map value that cannot be used."""


def parse_mapping(spec: str | Iterable[str] | None) -> dict[str, str]:
    """Parse ``text=article_content,title=article_title`` (or a list of such items) into {field: column}."""
    if not spec:
        return {}
    items = [spec] if isinstance(spec, str) else list(spec)
    mapping: dict[str, str] = {}
    for item in items:
        for pair in filter(None, (p.strip() for p in item.split(","))):
            field, sep, column = pair.partition("=")
            field, column = field.strip(), column.strip()
            if not sep or not column:
                raise MappingError(f"--map: '{pair}' is not FIELD=COLUMN (e.g. text=article_content)")
            if field not in FIELDS:
                raise MappingError(f"--map: unknown field '{field}'; fields are {', '.join(FIELDS)}")
            mapping[field] = column
    return mapping


def resolve_columns(available: Iterable[str], mapping: Mapping[str, str]) -> dict[str, str | None]:
    """Which input column feeds each field: the user's mapping where given, else the first alias present."""
    present = list(available)
    lowered = {name.lower(): name for name in present}
    resolved: dict[str, str | None] = {}
    for field in FIELDS:
        if field in mapping:
            resolved[field] = mapping[field] if mapping[field] in present else None
        else:
            resolved[field] = next((lowered[a] for a in ALIASES[field] if a in lowered), None)
    return resolved


def split_record(
    record: Mapping[str, Any], columns: Mapping[str, str | None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(document fields, remaining metadata) of one record, given resolved columns."""
    used = {column for column in columns.values() if column}
    fields = {field: record.get(column) for field, column in columns.items() if column}
    extra = {key: value for key, value in record.items() if key not in used and value not in (None, "")}
    return fields, extra


def as_text(value: Any) -> str | None:
    """A field value as a stripped string, or None when empty."""
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    text = text.strip()
    return text or None
