"""What kind of source speaks, which actor it is, and what kind of statement it makes.

Given an attribution's spans and the document's entity mentions, :func:`classify` fills ``source_type``
(person, role, institution, media, anonymous, document, unknown), ``source_actor`` and ``source_org``
(canonical actor ids from the alias table), ``modality`` (assertion, prediction, accusation, denial,
warning) and ``hedged``. The rules are lexical and ordered by how much a cue word commits the writer; they
are measured against a hand-labelled sample (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from newstrace.model import Attribution, Mention
from newstrace.nlp.aliases import AliasTable
from newstrace.nlp.translit import keyed

# Sources no reader can check: unnamed sources, channels, reports.
_ANONYMOUS = re.compile(
    r"\b(?:sources?|insiders?|informants?|channels|reports|rumou?rs?|unnamed|anonymous|anonymity|"
    r"people familiar with)\b",
    re.I,
)
_MEDIA = re.compile(
    r"\b(?:news|agency|newspaper|tv|television|channel|radio|times|post|journal|gazette|daily|herald|tribune|"
    r"reuters|afp|associated press|ap|tass|sputnik|ria|interfax|al[- ]masdar|press|media|outlet|website|"
    r"broadcaster|magazine|reported)\b",
    re.I,
)
_DOCUMENT = re.compile(
    r"\b(?:report|document|letter|memo|memorandum|study|survey|transcript|filing|court papers|paper|"
    r"dossier|leaked|cable|resolution|communiqu[eé]|white paper|indictment)\b",
    re.I,
)
_ROLE = re.compile(
    r"\b(?:spokes(?:man|woman|person)|minister|ministers|official|officials|officer|commander|president|"
    r"ambassador|envoy|mayor|governor|diplomat|analyst|analysts|expert|experts|head|chief|director|adviser|"
    r"advisor|secretary|general|colonel|senator|lawmaker|representative|deputy|source|leader|activist|"
    r"activists|witness|witnesses|resident|residents|monitor|organi[sz]ers?|doctors?|nurses?|colleagues?|"
    r"observers?|workers?|politicians?|volunteers?|engineers?|fighters?|farmers?|teachers?|lawyers?|"
    r"prosecutors?|investigators?|inspectors?|scientists?|researchers?|economists?|families|relatives)\b",
    re.I,
)
_INSTITUTION = re.compile(
    r"\b(?:ministry|government|army|military|forces|council|committee|office|department|kremlin|pentagon|"
    r"white house|state department|statement|center|centre|command|police|authorities|administration|"
    r"parliament|assembly|embassy|commission|organi[sz]ation|group|agency|union|party)\b",
    re.I,
)
_PERSONAL = re.compile(r"^(?:he|she|him|her)$", re.I)
# "it said", "which said": in news an inanimate speaker is an organisation.
_IT = re.compile(r"^(?:it|which)$", re.I)
# The head of a source phrase is its last word before a preposition or a comma: "fighters" in "Opposition
# fighters of the Free Highlands Front", "associations" in "Residents' associations".
_HEAD = re.compile(r"^(.*?)(?:\s+(?:of|for|from|at|in|with|on|who|that)\b.*|,.*)?$", re.I | re.S)
_COLLECTIVE = re.compile(r"^(?:they|we|it|i|you)$", re.I)

_PREDICTION = re.compile(
    r"\b(?:prepar(?:e|es|ed|ing) (?:to|for|a|an|another)|plan(?:s|ned|ning)? to|intend(?:s|ed)? to|"
    r"(?:is|are|was|were) going to|(?:is|are) about to|(?:is|are|was|were) set to|will|would|could|may|might|"
    r"(?:is|are) likely|likely to|in the coming (?:days|weeks|hours)|soon|ready to|aim(?:s|ing)? to|seek(?:s|ing)? to|"
    r"(?:is|are|was|were) about to|being prepared|expect(?:s|ed)? to)\b",
    re.I,
)
_WARNING_CUES = re.compile(
    r"\b(?:warn(?:s|ed|ing)?|caution(?:s|ed)?|alert(?:s|ed)?|threaten(?:s|ed)?|urg(?:e|es|ed)|appeal(?:s|ed)?)\b",
    re.I,
)
_PREDICTION_CUES = re.compile(
    r"\b(?:expect(?:s|ed)?|forecast(?:s)?|predict(?:s|ed)?|anticipat(?:e|es|ed))\b", re.I
)
_ACCUSATION_CUES = re.compile(
    r"\b(?:accus(?:e|es|ed|ing)|blam(?:e|es|ed|ing)|charg(?:e|es|ed)|condemn(?:s|ed)?)\b", re.I
)
_DENIAL_CUES = re.compile(
    r"\b(?:den(?:y|ies|ied)|reject(?:s|ed)?|dismiss(?:es|ed)?|refut(?:e|es|ed)|rebut(?:s|ted)?|disput(?:e|es|ed)|"
    r"contest(?:s|ed)?)\b",
    re.I,
)
_ACCUSATION_CONTENT = re.compile(
    r"\b(?:responsible for|behind the|to blame|staged|fabricat(?:e|ed|ing)|carried out|committed|guilty)\b",
    re.I,
)
_HEDGES = re.compile(
    r"\b(?:claim(?:s|ed|ing)?|alleg(?:e|es|ed|edly)|so-called|purported(?:ly)?|reportedly|supposed(?:ly)?)\b",
    re.I,
)


def _text(text: str, fragments: Sequence[tuple[int, int]]) -> str:
    return " ".join(text[start:end] for start, end in fragments)


def _mentions_in(mentions: Sequence[Mention], fragments: Sequence[tuple[int, int]]) -> list[Mention]:
    return [m for m in mentions if any(start <= m.start and m.end <= end for start, end in fragments)]


def source_type(
    source: str, mentions: Sequence[Mention], actors: AliasTable, outlets: frozenset[str] = frozenset()
) -> str:
    """The kind of source a source span names. ``outlets`` are the corpus's outlet names (lower case)."""
    source = source.strip()
    if not source:
        return "unknown"
    labels = {m.label for m in mentions}
    kinds = {actors.actors[m.actor_id].kind for m in mentions if m.actor_id in actors.actors}
    lowered = source.lower()
    if "PERSON" not in labels and _ANONYMOUS.search(source):
        return "anonymous"
    if (
        "media" in kinds
        or any(re.search(rf"\b{re.escape(outlet)}\b", lowered) for outlet in outlets)
        or (_MEDIA.search(source) and "PERSON" not in labels)
    ):
        return "media"
    if _DOCUMENT.search(source) and "PERSON" not in labels:
        return "document"
    if "PERSON" in labels or "person" in kinds or _PERSONAL.match(source):
        return "person"
    if _IT.match(source):
        return "institution"
    head = _HEAD.match(source).group(1).split()[-1]
    organisation = sum(m.end - m.start for m in mentions if m.label == "ORG") >= 0.6 * len(source)
    if _ROLE.fullmatch(head.strip("'’")) and not organisation:
        return "role"
    if organisation or labels & {"GPE", "NORP"} or _INSTITUTION.search(head) or kinds:
        return "institution"
    if _ROLE.search(source):
        return "role"
    if _INSTITUTION.search(source) or "ORG" in labels:
        return "institution"
    return "unknown"


def modality(cue: str, content: str) -> str:
    """The kind of statement, from the cue word first and the content's wording second."""
    if _DENIAL_CUES.search(cue):
        return "denial"
    if _ACCUSATION_CUES.search(cue):
        return "accusation"
    if _PREDICTION_CUES.search(cue) or _PREDICTION.search(content):
        return "prediction"
    if _WARNING_CUES.search(cue):
        return "warning"
    if _ACCUSATION_CONTENT.search(content):
        return "accusation"
    return "assertion"


def classify(
    text: str,
    attribution: Attribution,
    mentions: Sequence[Mention],
    actors: AliasTable,
    outlets: frozenset[str] = frozenset(),
) -> Attribution:
    """``attribution`` with its source type, actors, modality and hedging filled in.

    ``outlets`` are the corpus's outlet names in lower case: a source naming one is media.
    """
    source = _text(text, attribution.source)
    cue = _text(text, attribution.cue)
    content = _text(text, attribution.content)
    in_source = _mentions_in(mentions, attribution.source)
    if not in_source and source:
        whole = actors.actor_for(source)  # a bare alias the NER did not mark ("Konashenkov")
        if whole is not None:
            start, end = attribution.source[0]
            in_source = [
                Mention(start, end, source, actors.labels[whole.actor_id], whole.actor_id, whole.canonical)
            ]
    person = next(
        (m.actor_id for m in in_source if m.actor_id and actors.labels.get(m.actor_id) == "PERSON"), None
    )
    org = next(
        (m.actor_id for m in in_source if m.actor_id and actors.labels.get(m.actor_id) != "PERSON"), None
    )
    if org is None and source:
        # "Russian defense ministry spokesman Igor Konashenkov": the organisation is in the words before the
        # name, which the NER may not have marked as an entity.
        found = list(actors.find(source, keyed(source)))
        org = next((actor_id for _, _, actor_id in found if actors.labels.get(actor_id) != "PERSON"), None)
    window_start = max(0, min((s for s, _ in attribution.cue), default=0) - 40)
    context = text[window_start : max((e for _, e in attribution.cue), default=0)] + " " + cue
    return replace(
        attribution,
        source_type=source_type(source, in_source, actors, outlets),  # type: ignore[arg-type]
        source_actor=person or org,
        source_org=org if person else None,
        modality=modality(cue, content),  # type: ignore[arg-type]
        hedged=bool(_HEDGES.search(context)) or "so-called" in content.lower(),
    )
