"""Boilerplate removal for one document, keeping an exact map from clean offsets back to raw offsets.

Cleaning works on lines: a scraped page's widgets (donation amounts, wallet addresses, share buttons, comment
forms, repeated titles) are whole lines. Kept lines are copied verbatim into the clean text, joined by "\\n"
inside a paragraph and "\\n\\n" between paragraphs, so every clean offset maps back to the raw text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from newstrace.identity import line_hash, normalise
from newstrace.model import OffsetMap, Removal, Segment, words

# A first line this short, not ending like a sentence, is a headline rather than a lead paragraph.
HEADLINE_MAX_WORDS = 25
HEADLINE_MAX_CHARS = 220
TITLE_FROM_LEAD_CHARS = 160

_STRIP = " \t\r\f\v\u00a0\ufeff\u200b"
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")


class RulesError(ValueError):
    """A boilerplate rules file that cannot be used."""


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    max_words: int
    cuts_tail: bool = False

    def matches(self, line: str, n_words: int) -> bool:
        return n_words <= self.max_words and self.pattern.search(line) is not None


@dataclass(frozen=True, slots=True)
class Line:
    start: int
    end: int
    text: str
    paragraph: int


@dataclass(frozen=True, slots=True)
class Cleaned:
    text: str
    offset_map: OffsetMap
    title: str | None
    title_from_text: bool
    removals: tuple[Removal, ...]
    line_hashes: tuple[int, ...]


def _parse_rules(data: object, origin: str) -> tuple[Rule, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{origin}: expected a mapping with a 'rules' list")
    rules = []
    for i, item in enumerate(data["rules"], 1):
        if not isinstance(item, dict) or "name" not in item or "pattern" not in item:
            raise RulesError(f"{origin}: rule {i} needs 'name' and 'pattern'")
        try:
            pattern = re.compile(str(item["pattern"]), re.IGNORECASE)
        except re.error as exc:
            raise RulesError(f"{origin}: rule {i} ({item['name']}): bad regex: {exc}") from exc
        rules.append(
            Rule(str(item["name"]), pattern, int(item.get("max_words", 20)), bool(item.get("cuts_tail")))
        )
    return tuple(rules)


@lru_cache(maxsize=8)
def load_rules(extra: str | None = None) -> tuple[Rule, ...]:
    """The shipped rules, plus those in the YAML file ``extra`` when given."""
    shipped = resources.files("newstrace.data").joinpath("boilerplate.yml").read_text(encoding="utf-8")
    rules = _parse_rules(yaml.safe_load(shipped), "newstrace/data/boilerplate.yml")
    if extra:
        path = Path(extra)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RulesError(f"{path}: cannot read boilerplate rules: {exc}") from exc
        rules += _parse_rules(data, str(path))
    return rules


def split_lines(raw: str, start: int = 0) -> list[Line]:
    """Non-blank lines of ``raw[start:]`` with their stripped offsets in ``raw``, grouped into paragraphs.

    Blank lines separate blocks. A block of several lines is one hard-wrapped paragraph when its lines look
    wrapped (similar, moderate widths); otherwise each line is a paragraph of its own, as in most scrapes.
    """
    blocks: list[list[tuple[int, int]]] = [[]]
    for match in _LINE.finditer(raw, start):
        if match.start() == match.end():
            break
        body = match.group().rstrip("\r\n")
        left = len(body) - len(body.lstrip(_STRIP))
        right = len(body.rstrip(_STRIP))
        if right <= left:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append((match.start() + left, match.start() + right))
    lines: list[Line] = []
    paragraph = 0
    for block in blocks:
        if not block:
            continue
        wrapped = _looks_wrapped([end - start for start, end in block])
        for start, end in block:
            lines.append(Line(start, end, raw[start:end], paragraph))
            if not wrapped:
                paragraph += 1
        if wrapped:
            paragraph += 1
    return lines


def _looks_wrapped(widths: Sequence[int]) -> bool:
    if len(widths) < 2:
        return False
    body = widths[:-1]
    return max(widths) <= 100 and min(body) >= 40 and widths[-1] <= max(body)


def is_headline(line: str) -> bool:
    n_words = len(words(line))
    return (
        0 < n_words <= HEADLINE_MAX_WORDS
        and len(line) <= HEADLINE_MAX_CHARS
        and not line.endswith((".", ";", ","))
    )


def title_from_lead(line: str) -> str:
    """A readable title for an article that has none: its lead line, cut at a word boundary."""
    if len(line) <= TITLE_FROM_LEAD_CHARS:
        return line
    cut = line[:TITLE_FROM_LEAD_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-") + "…"


def _match_rule(line: str, rules: Iterable[Rule]) -> Rule | None:
    n_words = len(words(line))
    return next((rule for rule in rules if rule.matches(line, n_words)), None)


def clean_text(
    raw: str,
    title: str | None = None,
    rules: Sequence[Rule] | None = None,
    title_from_text: bool = True,
    start: int = 0,
) -> Cleaned:
    """Clean one document's raw text.

    ``title`` is the title from metadata, if any: lines repeating it are removed. Without one, and with
    ``title_from_text``, the first meaningful line gives the title (and leaves the body when it is a headline).
    ``start`` skips a prefix that is not article text (front matter); offsets still count from ``raw[0]``.
    """
    rules = load_rules() if rules is None else rules
    lines = split_lines(raw, start)
    reasons: dict[int, str] = {}

    for i, line in enumerate(lines):
        rule = _match_rule(line.text, rules)
        if rule is None:
            continue
        if rule.cuts_tail and line.start - start >= (len(raw) - start) * 2 / 3:
            for j in range(i, len(lines)):
                reasons.setdefault(j, "comment-section")
            break
        reasons[i] = rule.name

    derived_from_text = False
    headline = title
    if title is None and title_from_text:
        first = next((i for i in range(len(lines)) if i not in reasons), None)
        if first is not None:
            derived_from_text = True
            if is_headline(lines[first].text):
                title = headline = lines[first].text
            else:
                # A lead paragraph, not a headline: it names the article but stays part of the body.
                title = title_from_lead(lines[first].text)
    if headline:
        key = normalise(headline).casefold()
        for i, line in enumerate(lines):
            if i not in reasons and normalise(line.text).casefold() == key:
                reasons[i] = "title"

    kept = [line for i, line in enumerate(lines) if i not in reasons]
    text, offset_map = assemble(kept)
    removals = tuple(
        Removal(lines[i].start, lines[i].end, reason, lines[i].text) for i, reason in sorted(reasons.items())
    )
    hashes = tuple(dict.fromkeys(line_hash(line.text) for line in kept))
    return Cleaned(text, offset_map, title or None, derived_from_text, removals, hashes)


def assemble(kept: Sequence[Line]) -> tuple[str, OffsetMap]:
    """Join kept lines into clean text with one segment per line."""
    parts: list[str] = []
    segments: list[Segment] = []
    position = 0
    previous: Line | None = None
    for line in kept:
        if previous is not None:
            separator = "\n" if line.paragraph == previous.paragraph else "\n\n"
            parts.append(separator)
            position += len(separator)
        segments.append(Segment(position, line.start, line.end - line.start))
        parts.append(line.text)
        position += len(line.text)
        previous = line
    return "".join(parts), OffsetMap(tuple(segments))


def clean_lines(text: str, offset_map: OffsetMap) -> list[Line]:
    """The lines of an already clean text, each with its raw offsets, in paragraph order.

    Every clean line is exactly one segment of the offset map, and the separator before it tells whether it
    starts a new paragraph.
    """
    lines: list[Line] = []
    paragraph = 0
    for i, seg in enumerate(offset_map.segments):
        if i and text[seg.clean_start - 2 : seg.clean_start] == "\n\n":
            paragraph += 1
        lines.append(
            Line(
                seg.raw_start,
                seg.raw_start + seg.length,
                text[seg.clean_start : seg.clean_start + seg.length],
                paragraph,
            )
        )
    return lines


def drop_lines(
    text: str, offset_map: OffsetMap, hashes: frozenset[int], reason: str
) -> tuple[str, OffsetMap, tuple[Removal, ...]]:
    """Remove from a clean text the lines whose fingerprint is in ``hashes`` (outlet-level boilerplate)."""
    lines = clean_lines(text, offset_map)
    kept = [line for line in lines if line_hash(line.text) not in hashes]
    if len(kept) == len(lines):
        return text, offset_map, ()
    dropped = tuple(
        Removal(line.start, line.end, reason, line.text) for line in lines if line_hash(line.text) in hashes
    )
    new_text, new_map = assemble(kept)
    return new_text, new_map, dropped
