"""CSV and TSV tables: one article per row, columns mapped with ``--map text=COLUMN,...``."""

from __future__ import annotations

import csv
import io
import sys
import zlib
from collections.abc import Iterator
from gzip import BadGzipFile

from newstrace.ingest.fields import resolve_columns
from newstrace.ingest.json_reader import record_to_article
from newstrace.ingest.sources import InputError, InputFile, ReadOptions, open_binary, unescape_bytes
from newstrace.model import Problem, RawArticle


def _delimiter(item: InputFile, header: str, forced: str | None) -> str:
    if forced:
        return forced
    if item.path.name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    counts = {sep: header.count(sep) for sep in (",", ";", "\t", "|")}
    return max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","


def read_csv(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    csv.field_size_limit(min(options.max_bytes, sys.maxsize))
    with open_binary(item) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
        row_number = 0
        replaced = False
        try:
            header_line = text.readline()
            if not header_line.strip():
                raise InputError("empty file" if not header_line else "no header row")
            delimiter = _delimiter(item, header_line, options.delimiter)
            header = next(csv.reader([header_line], delimiter=delimiter))
            columns = resolve_columns(header, options.fields)
            missing = [
                f"{field}={options.fields[field]}" for field in options.fields if columns[field] is None
            ]
            if missing:
                raise InputError(
                    f"column {', '.join(repr(m.split('=', 1)[1]) for m in missing)} not in the header",
                    f"columns are: {', '.join(header)}",
                )
            if columns["text"] is None:
                raise InputError(
                    "no text column found", f"columns are: {', '.join(header)}; use --map text=COLUMN"
                )
            for row_number, row in enumerate(csv.DictReader(text, fieldnames=header, delimiter=delimiter), 1):
                locator = f"row:{row_number}"
                if None in row:
                    yield Problem(
                        item.name,
                        "read",
                        f"row has {len(header) + len(row[None])} fields, header has {len(header)}",
                        locator=locator,
                    )
                    continue
                record = {}
                for key, value in row.items():
                    if value is not None:
                        record[key], bad = unescape_bytes(value)
                        replaced = replaced or bad
                yield record_to_article(record, item, locator, columns)
        except csv.Error as exc:
            raise InputError(f"malformed CSV after row {row_number}", str(exc)) from exc
        except (EOFError, BadGzipFile, zlib.error) as exc:
            raise InputError(f"truncated or corrupt gzip file after row {row_number}", str(exc)) from exc
    if replaced:
        yield Problem(item.name, "decode", "not valid UTF-8; undecodable bytes replaced", severity="warning")
