"""Claim units: what each document asserts, attributed or in its own voice, with evidence offsets.

Every attribution's content is a claim, with its source. A sentence outside any attribution is a claim in the
outlet's own voice when it says something about an actor (a named actor, or a group label such as
"militants") or makes a prediction or an accusation: "militants are preparing to stage another false flag
chemical attack", "It is likely that we will witness another chemical attack provocation".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from newstrace.attribution.classify import modality
from newstrace.model import Annotations, Attribution, Claim, overlaps

# Group labels that stand for an actor in a sentence with no named actor ("militants are preparing…").
_GROUP_WORDS = re.compile(
    r"\b(?:militants?|terrorists?|rebels?|insurgents?|jihadists?|extremists?|gunmen|fighters|mercenaries|"
    r"opposition|army|troops|forces|government|regime|authorities|ministry|helmets)\b",
    re.I,
)
_WORD = re.compile(r"\w+")
# Sentences too short to assert anything checkable, or that ask rather than assert.
MIN_WORDS = 6
# PolNeAR, and so the tagger, treats intentions as attributions: source "Passite terrorists", cue "plan",
# content "to carry out a poison gas attack". Nobody said anything there: the outlet asserts the actor's plan,
# so the whole sentence is the claim, in the outlet's voice.
_INTENT_CUE = re.compile(
    r"\b(?:plan(?:s|ned|ning)?|intend(?:s|ed|ing)?|aim(?:s|ed|ing)?|want(?:s|ed)?|seek(?:s|ing)?|sought|"
    r"prepar(?:e|es|ed|ing))\b",
    re.I,
)


# PolNeAR also tags naming as an attribution with no source: "The Free Highlands Front, which was known as the
# Brotherhood of the High Passes" gets cue "was known as" and the two names as content. Nobody said anything
# there either, so it is no claim; its sentence is the outlet's own, like any other.
_NAMING_CUE = re.compile(
    r"^(?:(?:which|who|was|were|is|are|had|has|been|formerly|previously|also|once|better|widely|commonly|"
    r"now|then|later)\s+)*(?:known|referred\s+to)\s+as$",
    re.I,
)


def _naming(text: str, attribution: Attribution) -> bool:
    return not attribution.source and bool(_NAMING_CUE.match(_join(text, attribution.cue).strip()))


@dataclass(frozen=True, slots=True)
class ClaimInput:
    """A document's text, metadata and annotations: everything claim extraction reads."""

    doc_id: str
    text: str
    published: date | None
    outlet: str | None
    annotations: Annotations


def claim_id(doc_id: str, start: int, end: int) -> str:
    """Stable across runs: the document and the offsets."""
    return hashlib.blake2b(f"{doc_id}:{start}:{end}".encode(), digest_size=8).hexdigest()


def _join(text: str, fragments: Sequence[tuple[int, int]]) -> str:
    return " ".join(text[start:end].strip() for start, end in fragments)


def _paragraphs(text: str, fragments: Sequence[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """``fragments`` cut at line breaks, grouped by paragraph (stripped of surrounding space)."""
    groups: list[list[tuple[int, int]]] = [[]]
    previous_end: int | None = None
    for start, end in fragments:
        if previous_end is not None and "\n" in text[previous_end:start]:
            groups.append([])
        piece_start = start
        for line in re.finditer(r"\n+", text[start:end]):
            groups[-1].append((piece_start, start + line.start()))
            groups.append([])
            piece_start = start + line.end()
        groups[-1].append((piece_start, end))
        previous_end = end
    stripped = []
    for group in groups:
        pieces = []
        for start, end in group:
            piece = text[start:end]
            start += len(piece) - len(piece.lstrip())
            end -= len(piece) - len(piece.rstrip())
            if end > start:
                pieces.append((start, end))
        if pieces:
            stripped.append(pieces)
    return stripped


def _hull(spans: Sequence[tuple[int, int]]) -> tuple[int, int]:
    return min(start for start, _ in spans), max(end for _, end in spans)


def _intentions(
    text: str, annotations: Annotations, sentences: Sequence[tuple[int, int]]
) -> dict[int, tuple[int, int] | None]:
    """Attributions that state an actor's intention, not a statement, each with its sentence span.

    An intention inside another attribution's content ("the ministry said the militants plan to…") maps to
    ``None``: that attribution's content already holds it.
    """
    found: dict[int, tuple[int, int] | None] = {}
    attributions = annotations.attributions
    for index, attribution in enumerate(attributions):
        if (
            not attribution.cue
            or not attribution.content
            or not _INTENT_CUE.search(_join(text, attribution.cue))
        ):
            continue
        cue_start, cue_end = _hull(attribution.cue)
        nested = any(
            other is not attribution
            and other.content
            and _hull(other.content)[0] <= cue_start
            and cue_end <= _hull(other.content)[1]
            for other in attributions
        )
        if nested:
            found[index] = None
            continue
        start, end = _hull(attribution.source + attribution.cue + attribution.content)
        inside = [s for s in sentences if s[0] < end and start < s[1]] or [(start, end)]
        found[index] = (inside[0][0], inside[-1][1])
    return found


def extract_claims(doc: ClaimInput) -> list[Claim]:
    """The document's claims, in text order."""
    text, found = doc.text, doc.annotations
    sentences = [(s.start, s.end) for s in found.sentences] or [(0, len(text))]
    claims: list[Claim] = []
    intentions = _intentions(text, found, sentences)
    # Other attributions inside an intention's sentence ("… and blame it on the army") are part of its claim.
    absorbed = {
        index
        for index, attribution in enumerate(found.attributions)
        if index not in intentions
        and any(
            start <= _hull(spans)[0] and _hull(spans)[1] <= end
            for start, end in filter(None, intentions.values())
            for spans in [attribution.source + attribution.cue + attribution.content]
            if spans
        )
    }

    def context(start: int, end: int) -> tuple[int, int]:
        inside = [s for s in sentences if s[0] < end and start < s[1]] or [(start, end)]
        return inside[0][0], inside[-1][1]

    def actors_and_places(spans: Sequence[tuple[int, int]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        actors = dict.fromkeys(
            m.actor_id for m in found.mentions if m.actor_id and overlaps(m.start, m.end, spans)
        )
        places = dict.fromkeys(p.name for p in found.places if overlaps(p.start, p.end, spans))
        return tuple(actors), tuple(places)

    covered: list[tuple[int, int]] = []
    for index, attribution in enumerate(found.attributions):
        if _naming(text, attribution):
            continue
        covered.extend(attribution.source + attribution.cue + attribution.content)
        if not attribution.content or index in intentions or index in absorbed:
            continue
        actors, places = actors_and_places(attribution.content + attribution.source)
        # A content running over several paragraphs is several statements: one claim per paragraph, so that
        # each is compared on its own.
        for fragments in _paragraphs(text, attribution.content):
            start, end = fragments[0][0], fragments[-1][1]
            content = _join(text, fragments)
            if len(_WORD.findall(content)) < 3:
                continue
            claims.append(
                Claim(
                    claim_id(doc.doc_id, start, end),
                    doc.doc_id,
                    start,
                    end,
                    content,
                    *context(start, end),
                    attributed=True,
                    source_text=_join(text, attribution.source) or None,
                    cue_text=_join(text, attribution.cue) or None,
                    source_type=attribution.source_type or "unknown",  # type: ignore[arg-type]
                    source_actor=attribution.source_actor,
                    modality=attribution.modality or "assertion",
                    hedged=attribution.hedged,
                    actors=actors,
                    places=places,
                    published=doc.published,
                    outlet=doc.outlet,
                    attribution=index,
                )
            )

    for start, end in sorted(set(filter(None, intentions.values()))):
        sentence = text[start:end].strip()
        start += len(text[start:end]) - len(text[start:end].lstrip())
        end = start + len(sentence)
        kind = modality("", sentence)
        claims.append(
            _outlet_claim(
                doc, start, end, sentence, "prediction" if kind == "assertion" else kind, actors_and_places
            )
        )

    for start, end in sentences:
        if overlaps(start, end, covered):
            continue
        sentence = text[start:end].strip()
        if len(_WORD.findall(sentence)) < MIN_WORDS or sentence.endswith("?"):
            continue
        start += len(text[start:end]) - len(text[start:end].lstrip())
        end = start + len(sentence)
        actors, places = actors_and_places([(start, end)])
        kind = modality("", sentence)
        if not actors and not _GROUP_WORDS.search(sentence) and kind not in ("prediction", "accusation"):
            continue
        claims.append(_outlet_claim(doc, start, end, sentence, kind, actors_and_places))
    claims.sort(key=lambda c: (c.start, c.end))
    return claims


def _outlet_claim(
    doc: ClaimInput,
    start: int,
    end: int,
    sentence: str,
    kind: str,
    actors_and_places: Callable[[Sequence[tuple[int, int]]], tuple[tuple[str, ...], tuple[str, ...]]],
) -> Claim:
    actors, places = actors_and_places([(start, end)])
    return Claim(
        claim_id(doc.doc_id, start, end),
        doc.doc_id,
        start,
        end,
        sentence,
        start,
        end,
        attributed=False,
        source_text=None,
        cue_text=None,
        source_type="outlet",
        source_actor=None,
        modality=kind,
        hedged=False,
        actors=actors,
        places=places,
        published=doc.published,
        outlet=doc.outlet,
    )
