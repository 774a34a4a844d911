"""The records every stage of newstrace reads and writes.

One data model, shared by ingest, annotation, linking, the store and the presenters, so that no stage invents
a private shape. Offsets are character offsets (Python string indices), end exclusive.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Severity = Literal["error", "warning"]
# Where a publication date came from: the record's metadata, the article text, or inference from the text.
DateSource = Literal["meta", "text", "inferred"]


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of a text: ``text[start:end]``."""

    start: int
    end: int
    text: str = ""

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def __len__(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the clean text copied verbatim from the raw text."""

    clean_start: int
    raw_start: int
    length: int


@dataclass(frozen=True, slots=True)
class OffsetMap:
    """Maps offsets in a document's clean text back to its raw text.

    The clean text is a sequence of verbatim copies of raw text joined by inserted separators, so a list of
    segments is an exact map. Offsets inside a separator map to the end of the segment before it.
    """

    segments: tuple[Segment, ...] = ()

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        return cls((Segment(0, 0, length),)) if length else cls()

    def to_raw(self, offset: int) -> int:
        if not self.segments:
            return offset
        starts = [s.clean_start for s in self.segments]
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return self.segments[0].raw_start
        seg = self.segments[i]
        return seg.raw_start + min(offset - seg.clean_start, seg.length)

    def span_to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean span; an empty or end-exclusive span keeps its end inside the last covered segment."""
        raw_start = self.to_raw(start)
        raw_end = self.to_raw(end - 1) + 1 if end > start else raw_start
        return raw_start, raw_end

    def to_clean(self, raw_offset: int) -> int | None:
        """The clean offset of a raw offset, or None when that raw character was removed by cleaning."""
        for seg in self.segments:
            if seg.raw_start <= raw_offset < seg.raw_start + seg.length:
                return seg.clean_start + raw_offset - seg.raw_start
        return None

    def as_rows(self) -> list[dict[str, int]]:
        return [
            {"clean_start": s.clean_start, "raw_start": s.raw_start, "length": s.length}
            for s in self.segments
        ]

    @classmethod
    def from_rows(cls, rows: Iterable[dict[str, int]] | None) -> OffsetMap:
        return cls(tuple(Segment(r["clean_start"], r["raw_start"], r["length"]) for r in rows or ()))


@dataclass(frozen=True, slots=True)
class Removal:
    """A stretch of raw text that cleaning removed, and why (the name of the boilerplate rule)."""

    raw_start: int
    raw_end: int
    reason: str
    text: str


@dataclass(slots=True)
class RawArticle:
    """One article as a reader found it, before cleaning.

    Exactly one of ``text`` (plain text exactly as read) and ``html`` (a page to extract) is set.
    ``locator`` says where inside ``source_path`` the article sits ("" for a whole file, ``line:3``,
    ``row:12``, ``record:<id>``), so (source_path, locator) names every input article uniquely.
    """

    source_path: str
    locator: str
    format: str
    text: str | None = None
    html: str | None = None
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    date: str | None = None
    encoding: str = "utf-8"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Document:
    """A cleaned article with its provenance. ``doc_id`` is a stable hash of the normalised clean text."""

    doc_id: str
    source_path: str
    locator: str
    format: str
    text: str
    raw_text: str
    offset_map: OffsetMap
    title: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: date | None = None
    published_source: DateSource | None = None
    language: str | None = None
    encoding: str = "utf-8"
    n_words: int = 0
    line_hashes: tuple[int, ...] = ()
    removals: tuple[Removal, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in ``raw_text`` of the clean span ``text[start:end]``."""
        return self.offset_map.span_to_raw(start, end)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one input (a file, or one record inside it). It never stops a run."""

    source_path: str
    stage: str
    error: str
    detail: str = ""
    locator: str = ""
    severity: Severity = "error"

    def line(self) -> str:
        where = f"{self.source_path}" + (f" ({self.locator})" if self.locator else "")
        return f"{self.severity}: {where}: {self.error}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True, slots=True)
class FileDone:
    """Marks the end of one input file in a record stream, so the store can remember it as complete."""

    source_path: str
    fingerprint: str
    n_records: int
    n_problems: int


_WORD = re.compile(r"\w+")


def words(text: str) -> Sequence[str]:
    """The word tokens used for counts (``n_words``); language-independent and cheap."""
    return _WORD.findall(text)


def overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether the character span ``[start, end)`` shares a character with any of ``spans``."""
    return any(start < span_end and span_start < end for span_start, span_end in spans)


# -- annotation records (one document at a time; offsets into the document's clean text) -------------------


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Mention:
    """A named entity. ``actor_id`` and ``canonical`` are set when the alias table knows the actor."""

    start: int
    end: int
    text: str
    label: str
    actor_id: str | None = None
    canonical: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A place mention resolved to a gazetteer entry (GeoNames id when there is one)."""

    start: int
    end: int
    text: str
    name: str
    lat: float
    lon: float
    country: str | None
    geonames_id: int | None
    place_id: str


@dataclass(frozen=True, slots=True)
class Timex:
    """A time expression normalised to a calendar value: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

    ``rule`` says how the value was found (e.g. ``dateparser``, ``weekday-year``, ``relative``).
    """

    start: int
    end: int
    text: str
    value: str
    rule: str


@dataclass(frozen=True, slots=True)
class Actor:
    """An entry of the alias table: one actor, many surface forms."""

    actor_id: str
    canonical: str
    kind: str
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class Annotations:
    """Everything the language pipeline finds in one document."""

    doc_id: str
    sentences: list[Sentence] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    places: list[Place] = field(default_factory=list)
    timexes: list[Timex] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    published: date | None = None
    published_source: DateSource | None = None


SourceType = Literal["person", "role", "institution", "media", "anonymous", "document", "unknown"]
Modality = Literal["assertion", "prediction", "accusation", "denial", "warning"]


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who said what: source, cue and content, each a tuple of (start, end) fragments of the clean text.

    ``source`` is empty for attributions without a stated source ("It is believed that ..."). The typing
    fields are filled by :mod:`newstrace.attribution.typing`: ``source_actor`` is the actor the source names
    (a person first), ``source_org`` the organisation it belongs to, ``hedged`` marks distanced reporting
    ("claimed", "allegedly", "so-called").
    """

    source: tuple[tuple[int, int], ...]
    cue: tuple[tuple[int, int], ...]
    content: tuple[tuple[int, int], ...]
    source_type: SourceType | None = None
    source_actor: str | None = None
    source_org: str | None = None
    modality: Modality | None = None
    hedged: bool = False
    score: float | None = None


# Same-outlet recycling, cross-outlet reuse, or unknown when either document has no outlet.
ReuseKind = Literal["recycled", "cross-outlet", "unknown"]
# Whether doc_a (earlier) is the likely source, or the dates cannot tell.
ReuseDirection = Literal["a_to_b", "same_day", "unknown"]


@dataclass(frozen=True, slots=True)
class ReusePair:
    """A passage shared by two documents: ``[a_start, a_end)`` of doc_a's clean text and ``[b_start, b_end)``
    of doc_b's. When both are dated, doc_a is the earlier one, so ``a_to_b`` reads "a is the likely source"."""

    doc_a: str
    a_start: int
    a_end: int
    doc_b: str
    b_start: int
    b_end: int
    score: float
    kind: ReuseKind
    direction: ReuseDirection
    n_words: int


# Who makes a claim: a source's type, or the outlet itself in its own voice.
ClaimSource = Literal["person", "role", "institution", "media", "anonymous", "document", "unknown", "outlet"]
# A claim's place in its narrative's provenance chain.
ChainRole = Literal["first", "verbatim", "paraphrase", "new_detail"]


@dataclass(frozen=True, slots=True)
class Claim:
    """A checkable statement in one document: an attribution's content, or an assertion in the outlet's voice.

    ``[start, end)`` is the claim in the document's clean text; ``context_start``/``context_end`` the
    sentences around it (evidence to show). ``actors`` and ``places`` are the actor ids and place names it (or
    its source) mentions.
    """

    claim_id: str
    doc_id: str
    start: int
    end: int
    text: str
    context_start: int
    context_end: int
    attributed: bool
    source_text: str | None
    cue_text: str | None
    source_type: ClaimSource
    source_actor: str | None
    modality: str
    hedged: bool
    actors: tuple[str, ...]
    places: tuple[str, ...]
    published: date | None
    outlet: str | None
    attribution: int | None = None  # index of the attribution in its document


@dataclass(frozen=True, slots=True)
class Label:
    """How a text labels an actor: ``text[start:end]`` is the labelling phrase ("the Takfiri Hayat Tahrir
    al-Sham (HTS) terrorist outfit", "the so-called civil defence group", "rebel-held").

    ``label`` is the normalised label, lower-case except proper adjectives ("Takfiri terrorist outfit",
    "so-called", "militant opposition fighters"); it leaves out the actor's own name ("HTS terrorists" is
    the label "terrorists"). ``head`` is its head noun ("outfit"; "" when the label is modifiers only, as in
    "the so-called Amber Helmets"), ``modifiers`` the words before it. ``[mention_start, mention_end)`` is the
    actor mention the label refers to: inside the phrase, or the antecedent of an anaphoric label. ``rule``
    names the pattern that found it (see :mod:`newstrace.nlp.framing`).
    """

    actor_id: str
    start: int
    end: int
    text: str
    label: str
    head: str
    modifiers: tuple[str, ...]
    mention_start: int
    mention_end: int
    rule: str
