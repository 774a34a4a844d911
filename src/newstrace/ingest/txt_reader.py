"""Plain-text articles: one file, one article, with optional front matter or a sidecar ``NAME.json``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from newstrace.ingest.fields import as_text, resolve_columns, split_record
from newstrace.ingest.sources import InputFile, ReadOptions, read_text_file
from newstrace.model import Problem, RawArticle

_KEY_VALUE = re.compile(r"^[ \t]*([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def sidecar_path(path: Path) -> Path | None:
    """``article.json`` or ``article.txt.json`` beside ``article.txt``, if present."""
    base = path
    if base.suffix.lower() == ".gz":
        base = base.with_suffix("")
    for candidate in (base.with_name(base.name + ".json"), base.with_suffix(".json")):
        if candidate.is_file():
            return candidate
    return None


def split_front_matter(text: str) -> tuple[dict[str, Any], int]:
    """The front-matter mapping and the offset where the body starts (0 when there is none).

    Front matter is YAML, but people write ``title: Four years, three towns, no attack: ...`` without
    quotes; such a block is read as plain ``key: value`` lines instead of being rejected.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        data = {key: value.strip("\"'") for key, value in _KEY_VALUE.findall(match.group(1))}
        if not data:
            raise ValueError("front matter is neither YAML nor key: value lines")
    return data, match.end()


def apply_metadata(article: RawArticle, metadata: dict[str, Any]) -> None:
    """Fill an article's fields from a metadata mapping (front matter or sidecar), keeping the rest."""
    columns = resolve_columns(metadata.keys(), {})
    fields, extra = split_record(metadata, columns)
    for field in ("title", "url", "date", "outlet"):
        value = as_text(fields.get(field))
        if value:
            setattr(article, field, value)
    if as_text(fields.get("language")):
        article.metadata["language"] = as_text(fields["language"])
    article.metadata.update(
        {k: v for k, v in extra.items() if isinstance(v, str | int | float | bool | list)}
    )


def read_txt(item: InputFile, options: ReadOptions) -> Iterator[RawArticle | Problem]:
    decoded = read_text_file(item, options.max_bytes)
    article = RawArticle(item.name, "", "txt", text=decoded.text, encoding=decoded.encoding)
    if decoded.fallback_reason:
        yield Problem(item.name, "decode", decoded.fallback_reason, severity="warning")
    try:
        front, body_start = split_front_matter(decoded.text)
    except ValueError as exc:
        yield Problem(
            item.name,
            "metadata",
            "front matter not understood; kept as text",
            str(exc)[:200],
            severity="warning",
        )
        front, body_start = {}, 0
    article.metadata["body_start"] = body_start
    sidecar = sidecar_path(item.path)
    if sidecar is not None:
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("expected a JSON object")
            apply_metadata(article, meta)
            article.metadata["sidecar"] = str(sidecar)
        except (OSError, ValueError) as exc:
            yield Problem(item.name, "metadata", f"sidecar {sidecar.name} ignored: {exc}", severity="warning")
    apply_metadata(article, front)
    yield article
