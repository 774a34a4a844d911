"""Resolving place mentions to gazetteer entries, using the document as context.

Each candidate scores by size (log population), by how strongly the document is about its country (votes
from countries named and from places with one reading), by lying near the other places found, by bearing
the name as its own rather than as an alternate name, and by being a curated addition. So "Ariha" in an article about Idlib is the Syrian town, not Jericho (whose Arabic
name it also is). Entities the NER labelled PERSON, ORG or PRODUCT are taken as places only when the
gazetteer puts them in the document's main country (the model calls Jisr al-Shughur a person).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from newstrace.model import Place
from newstrace.nlp.gazetteer import Candidate, Gazetteer, distance_km
from newstrace.nlp.translit import name_key

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
MISLABELLED = frozenset({"PERSON", "ORG", "PRODUCT", "WORK_OF_ART", "EVENT"})
NEAR_KM = 150.0
UNAMBIGUOUS_TOWN = 50_000

_PREFIX = re.compile(
    r"^(?:the|greater|northern|southern|eastern|western|central|rural|outskirts of)\s+", re.I
)
_SUFFIX = re.compile(
    r"\s+(?:province|governorate|city|town|village|countryside|region|district|area|air ?base|airport|"
    r"outskirts|suburbs?)$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class PlaceMention:
    start: int
    end: int
    text: str
    label: str


def name_variants(text: str) -> list[str]:
    """The mention as written, then without a leading qualifier or a trailing place noun."""
    text = re.sub(r"['’]s$", "", text.strip())
    variants = [text]
    for pattern in (_PREFIX, _SUFFIX):
        stripped = pattern.sub("", variants[-1])
        if stripped and stripped != variants[-1]:
            variants.append(stripped)
    return variants


def candidates_for(text: str, gazetteer: Gazetteer) -> tuple[str, list[Candidate]]:
    """The key that found entries, and the entries (the first variant with any wins)."""
    for variant in name_variants(text):
        key = name_key(variant)
        found = gazetteer.lookup_key(key)
        if found:
            return key, found
    return "", []


def _score(candidate: Candidate, key: str, votes: Counter[str], near: bool) -> float:
    """Log-odds-like score: size, how much the document is about the country, nearness, exact name."""
    score = math.log10(candidate.population + 1000) + math.log10(votes[candidate.country or ""] + 1)
    if near:
        score += 1.0
    if name_key(candidate.name) == key:
        score += 0.5  # the place's own name, not one of its historical or foreign alternate names
    if candidate.kind == "addition":
        score += 2.0  # curated: it names exactly what the project meant by it
    return score


def resolve_places(
    mentions: Sequence[PlaceMention], gazetteer: Gazetteer, is_actor: Callable[[str], bool] = lambda _: False
) -> list[tuple[PlaceMention, Candidate]]:
    """The gazetteer entry each place mention refers to (mentions with no entry are left out)."""
    found: list[tuple[PlaceMention, str, list[Candidate]]] = []
    for mention in mentions:
        if mention.label not in PLACE_LABELS | MISLABELLED or is_actor(mention.text):
            continue
        key, candidates = candidates_for(mention.text, gazetteer)
        if candidates:
            found.append((mention, key, candidates))

    # Votes come from distinct names the NER is sure are places: a country counts twice, a place in a single
    # country once. Counting names, not mentions, keeps a much-repeated "US" from swamping the rest.
    votes: Counter[str] = Counter()
    seen: set[str] = set()
    for mention, key, candidates in found:
        if mention.label not in PLACE_LABELS or key in seen:
            continue
        seen.add(key)
        countries = [c.country for c in candidates if c.kind == "country" and c.country]
        if countries:
            votes.update(countries * 2)
        elif len({c.country for c in candidates}) == 1 and candidates[0].country:
            votes[candidates[0].country] += 1
    main_country = votes.most_common(1)[0][0] if votes else None

    def best_of(key: str, candidates: list[Candidate], anchors: list[Candidate]) -> Candidate:
        return max(
            candidates,
            key=lambda c: _score(
                c, key, votes, any(a is not c and distance_km(c, a) <= NEAR_KM for a in anchors)
            ),
        )

    # First without geography, then again preferring readings near the places found in the first pass.
    first = [(mention, key, candidates, best_of(key, candidates, [])) for mention, key, candidates in found]
    anchors = [best for _, _, _, best in first if best.kind != "country"]
    chosen: list[tuple[PlaceMention, Candidate]] = []
    for mention, key, candidates, best in first:
        if len(candidates) > 1:
            best = best_of(key, candidates, anchors)
        if (
            key != name_key(best.name)
            and best.kind == "city"
            and best.population < 1000
            and not votes[best.country or ""]
        ):
            continue  # only a village's alternate name, in a country the text is not about: too weak
        if mention.text.islower():
            continue  # "highland", "central station": common words the NER took for names
        if mention.label in MISLABELLED and not (
            (best.kind != "country" and best.country == main_country and votes[main_country] >= 2)
            # or a town of some size with no other reading of its name (Idlib, Lattakia)
            or (
                mention.label != "PERSON"  # "Mary", "Clinton": people first, towns only with context
                and len(candidates) == 1
                and key == name_key(best.name)
                and best.population >= UNAMBIGUOUS_TOWN
            )
        ):
            continue
        chosen.append((mention, best))
    return chosen


def to_place(mention: PlaceMention, candidate: Candidate) -> Place:
    return Place(
        mention.start,
        mention.end,
        mention.text,
        candidate.name,
        round(candidate.lat, 5),
        round(candidate.lon, 5),
        candidate.country,
        candidate.geonames_id,
        candidate.place_id,
    )
