"""JSON Lines (one article per line) and JSON (an article, or a list of them), with field mapping."""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator, Mapping
from gzip import BadGzipFile
from typing import Any

from newstrace.ingest.fields import as_text, resolve_columns, split_record
from newstrace.ingest.sources import (
    InputError,
    InputFile,
    ReadOptions,
    open_binary,
    read_bytes,
    unescape_bytes,
)
from newstrace.model import Problem, RawArticle


def record_to_article(
    record: Mapping[str, Any], item: InputFile, locator: str, columns: dict[str, str | None]
) -> RawArticle | Problem:
    fields, extra = split_record(record, columns)
    text = fields.get("text")
    if not isinstance(text, str) or not text.strip():
        column = columns["text"] or "text"
        return Problem(
            item.name,
            "read",
            f"record has no text in field '{column}'",
            "set it with --map text=FIELD",
            locator,
        )
    article = RawArticle(item.name, locator, item.format, text=text)
    for field in ("title", "url", "date", "outlet"):
        setattr(article, field, as_text(fields.get(field)))
    if as_text(fields.get("language")):
        article.metadata["language"] = as_text(fields["language"])
    article.metadata.update(extra)
    return article


def read_jsonl(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    columns: dict[str, str | None] | None = None
    with open_binary(item) as stream:
        reader = io.TextIOWrapper(stream, encoding="utf-8", errors="surrogateescape", newline="\n")
        number = 0
        try:
            for number, line in enumerate(reader, 1):
                if not line.strip():
                    continue
                locator = f"line:{number}"
                line, bad = unescape_bytes(line)
                if bad:
                    yield Problem(
                        item.name,
                        "decode",
                        "not valid UTF-8; undecodable bytes replaced",
                        locator=locator,
                        severity="warning",
                    )
                if len(line) > options.max_bytes:
                    yield Problem(
                        item.name,
                        "read",
                        f"line is over the {options.max_bytes / 1e6:.0f} MB limit",
                        locator=locator,
                    )
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield Problem(
                        item.name, "read", "malformed JSON line", f"{exc.msg} at column {exc.colno}", locator
                    )
                    continue
                if not isinstance(record, dict):
                    yield Problem(
                        item.name,
                        "read",
                        f"JSON line is a {type(record).__name__}, not an object",
                        locator=locator,
                    )
                    continue
                if columns is None:
                    columns = resolve_columns(record.keys(), options.fields)
                yield record_to_article(record, item, locator, columns)
        except (EOFError, BadGzipFile, zlib.error) as exc:
            raise InputError(f"truncated or corrupt gzip file after line {number}", str(exc)) from exc
    if number == 0:
        raise InputError("empty file")


def read_json(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    data = read_bytes(item, options.max_bytes)
    if not data.strip():
        raise InputError("empty file")
    try:
        parsed = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError("malformed JSON", str(exc)[:200]) from exc
    records = parsed if isinstance(parsed, list) else [parsed]
    for index, record in enumerate(records):
        locator = f"item:{index}" if isinstance(parsed, list) else ""
        if not isinstance(record, dict):
            yield Problem(
                item.name, "read", f"JSON item is a {type(record).__name__}, not an object", locator=locator
            )
            continue
        yield record_to_article(record, item, locator, resolve_columns(record.keys(), options.fields))
