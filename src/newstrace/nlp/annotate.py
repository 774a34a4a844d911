"""Annotating documents: sentences, entities with actors, resolved places and normalised time expressions.

``annotate_documents`` is a pure function of its documents and configuration, so the local engine runs it in
worker processes, each loading the spaCy pipeline once.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from newstrace.attribution.classify import classify
from newstrace.attribution.tagger import load_tagger
from newstrace.model import Annotations, Document, Mention, Problem, Sentence
from newstrace.nlp.aliases import AliasTable
from newstrace.nlp.config import NlpConfig
from newstrace.nlp.framing import find_labels, load_lexicon
from newstrace.nlp.pipeline import alias_table, load_pipeline
from newstrace.nlp.timex import resolve_document_dates

# Entity types that are quantities, not things: kept out of mentions (dates become timexes instead).
NUMERIC_LABELS = frozenset({"DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"})


@lru_cache(maxsize=2)
def pipeline_for(config: NlpConfig) -> Language:
    """One loaded pipeline per process and configuration."""
    # Entities, places and dates need neither tagger, parser nor lemmas. In en_core_web_md the NER has its own
    # token-to-vector layer, so the shared one can go too, with rule-based sentences in place of the
    # parser's: the same entities at about 1.5x the speed (benchmarks/RESULTS.md). A model whose NER listens
    # to the shared layer keeps it, with the statistical sentence recogniser where it has one.
    nlp = load_pipeline(config.model, config.aliases, config.places, exclude=("lemmatizer",))
    shared = nlp.get_pipe("tok2vec") if "tok2vec" in nlp.pipe_names else None
    ner_listens = shared is not None and "ner" in getattr(shared, "listening_components", ())
    for name in ("parser", "tagger", "attribute_ruler", *(() if ner_listens else ("tok2vec",))):
        if name in nlp.pipe_names:
            nlp.disable_pipe(name)
    if ner_listens and "senter" in nlp.component_names:
        nlp.enable_pipe("senter")
    elif not nlp.has_pipe("sentencizer"):
        nlp.add_pipe("sentencizer", first=True)
    return nlp


def annotations_of(doc: Doc, document: Document, actors: AliasTable) -> Annotations:
    mentions = []
    for ent in doc.ents:
        if ent.label_ in NUMERIC_LABELS:
            continue
        actor = actors.actors.get(ent.kb_id_) if ent.kb_id_ else None
        mentions.append(
            Mention(
                ent.start_char,
                ent.end_char,
                ent.text,
                ent.label_,
                ent.kb_id_ or None,
                actor.canonical if actor else None,
            )
        )
    dates = [(ent.start_char, ent.end_char) for ent in doc.ents if ent.label_ in ("DATE", "TIME")]
    timexes, published, source = resolve_document_dates(
        document.text, document.published, dates, source=document.published_source or "meta"
    )
    return Annotations(
        doc_id=document.doc_id,
        sentences=[Sentence(s.start_char, s.end_char) for s in doc.sents],
        mentions=mentions,
        places=list(doc._.places or ()),
        timexes=timexes,
        published=published,
        published_source=source,
    )


def annotate_documents(
    documents: Sequence[Document], config: NlpConfig = NlpConfig(), batch_size: int = 16
) -> list[Annotations | Problem]:
    """Annotate a batch; a document that fails becomes a :class:`Problem`, the others are unaffected."""
    nlp = pipeline_for(config)
    actors = alias_table(config.aliases)
    try:
        pairs = nlp.pipe(((d.text, d) for d in documents), as_tuples=True, batch_size=batch_size)
        results: list[Annotations | Problem] = [
            annotations_of(doc, document, actors) for doc, document in pairs
        ]
    except Exception:
        results = []
        for document in documents:
            try:
                results.append(annotations_of(nlp(document.text), document, actors))
            except Exception as exc:
                results.append(
                    Problem(
                        document.source_path,
                        "annotate",
                        f"{type(exc).__name__}: {exc}",
                        locator=document.locator,
                    )
                )
    lexicon = load_lexicon(config.labels)
    for index, (document, result) in enumerate(zip(documents, results, strict=True)):
        if isinstance(result, Annotations):
            try:
                result.labels = find_labels(
                    document.text, result.mentions, result.sentences, lexicon, aliases=actors
                )
            except Exception as exc:
                results[index] = Problem(
                    document.source_path, "labels", f"{type(exc).__name__}: {exc}", locator=document.locator
                )
    if config.attributions:
        tagger = load_tagger()
        pending = [index for index, result in enumerate(results) if isinstance(result, Annotations)]
        try:  # the whole batch parsed at once, when the tagger reads a parse
            parses = tagger.tokens([documents[index].text for index in pending])
        except Exception:  # each document is then parsed alone below, and only the failing one is lost
            parses = [None] * len(pending)
        for index, tokens in zip(pending, parses, strict=True):
            document, result = documents[index], results[index]
            if isinstance(result, Annotations):
                try:
                    result.attributions = [
                        classify(document.text, found, result.mentions, actors)
                        for found in tagger.extract(document.text, tokens)
                    ]
                except Exception as exc:
                    results[index] = Problem(
                        document.source_path,
                        "attributions",
                        f"{type(exc).__name__}: {exc}",
                        locator=document.locator,
                    )
    return results
