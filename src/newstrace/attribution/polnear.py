"""Reading PolNeAR (political news attribution relations; brat standoff) as gold attributions.

Each ``.ann`` file annotates one article (``<article id>_<annotator>.ann`` beside ``text/<article id>.txt``).
``T`` lines are spans (possibly discontinuous, ``s e;s e``), ``E`` lines tie one attribution's Cue, Source and
Content(s) together. A few T lines hold a newline inside their covered text, so a physical line that starts
with no ``T``/``E``/``#`` id continues the line before. Articles annotated by several people are read once,
with the annotator chosen deterministically (the first in ``metadata.tsv`` order that has a file).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROLES = ("source", "cue", "content")
_RECORD = re.compile(r"^[TE#]\d+\t")

Fragments = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class GoldAttribution:
    """One attribution relation: each role is a tuple of (start, end) fragments (empty when absent)."""

    source: Fragments
    cue: Fragments
    content: Fragments

    def role(self, name: str) -> Fragments:
        return getattr(self, name)


@dataclass(slots=True)
class PolnearArticle:
    article_id: str
    split: str
    annotator: str
    text: str
    attributions: list[GoldAttribution] = field(default_factory=list)


class PolnearError(ValueError):
    """A PolNeAR file that does not parse; names the file and line."""


def _records(path: Path) -> list[str]:
    records: list[str] = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if _RECORD.match(line) or not records:
            records.append(line)
        else:
            records[-1] += "\n" + line  # a span text that contained a newline
    return [r for r in records if r.strip()]


def _fragments(spec: str, path: Path) -> Fragments:
    try:
        return tuple((int(s), int(e)) for s, e in (part.split() for part in spec.split(";")))
    except ValueError as exc:
        raise PolnearError(f"{path}: bad offsets '{spec}'") from exc


def read_ann(path: Path) -> list[GoldAttribution]:
    """The attributions of one ``.ann`` file."""
    spans: dict[str, tuple[str, Fragments]] = {}
    events: list[dict[str, str]] = []
    for record in _records(path):
        ident, _, rest = record.partition("\t")
        if ident.startswith("T"):
            head = rest.split("\t", 1)[0]
            kind, _, offsets = head.partition(" ")
            spans[ident] = (kind, _fragments(offsets, path))
        elif ident.startswith("E"):
            events.append(dict(arg.split(":", 1) for arg in rest.split()))
    attributions = []
    for event in events:
        roles: dict[str, list[tuple[int, int]]] = {role: [] for role in ROLES}
        for role, ref in event.items():
            name = re.sub(r"\d+$", "", role).lower()  # Content2 is a second content fragment
            if name in roles and ref in spans:
                roles[name].extend(spans[ref][1])
        attributions.append(GoldAttribution(*(tuple(sorted(roles[r])) for r in ROLES)))
    return attributions


def _annotator_order(root: Path) -> dict[str, list[str]]:
    order: dict[str, list[str]] = {}
    metadata = root / "metadata.tsv"
    if metadata.exists():
        with metadata.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                order[row["filename"]] = row["annotators"].split("|")
    return order


def read_split(root: Path, split: str) -> Iterator[PolnearArticle]:
    """Every article of ``split`` (``train`` or ``dev``) under the PolNeAR folder ``root``, in name order."""
    folder = root / split
    if not folder.is_dir():
        raise PolnearError(f"{folder}: no such PolNeAR split")
    order = _annotator_order(root)
    files: dict[str, dict[str, Path]] = {}
    for ann in sorted((folder / "attributions").glob("*.ann")):
        article_id, _, annotator = ann.stem.rpartition("_")
        files.setdefault(article_id, {})[annotator] = ann
    for article_id, by_annotator in sorted(files.items()):
        preferred = [a for a in order.get(article_id, []) if a in by_annotator] or sorted(by_annotator)
        annotator = preferred[0]
        text = (folder / "text" / f"{article_id}.txt").read_text(encoding="utf-8")
        yield PolnearArticle(article_id, split, annotator, text, read_ann(by_annotator[annotator]))
