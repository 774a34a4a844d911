"""The data behind each view of the report and the web app, read from the store as JSON-ready dicts.

The static report embeds these payloads in its one file; the web app serves the same ones from ``/api``, so
both are drawn by the same client code (``assets/report.js``). Nothing here analyses: every number is a count
of stored rows, and every span is a stored offset into ``documents.text``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from newstrace import __version__, query
from newstrace.store import Store, StoreError

# Rows a list view returns at once unless asked for another page size.
PAGE_SIZE = 50
# How many examples of an error, and how many names per actor and outlet, a view carries.
ERROR_EXAMPLES = 20
NAMES_PER_ACTOR = 40
# Characters of context either side of a label or search hit.
SNIPPET = 80
# How a document without an outlet is listed (as in `newstrace info`).
UNKNOWN_OUTLET = "(unknown)"


class NotFound(StoreError):
    """The asked-for narrative, document or actor is not in the store."""


def jsonable(value: Any) -> Any:
    """A value from DuckDB or pandas as plain JSON: dates as ISO days, arrays as lists, NaN and NA as null."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value  # most of a store's values: a report converts some 600,000 of them
    if kind is float:
        return None if math.isnan(value) else value
    if value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(item) for item in value]
    if isinstance(value, (pd.Timestamp, datetime)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA:
        return None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [jsonable(record) for record in frame.to_dict(orient="records")]


def _rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = store.con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [jsonable(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


def _ids_filter(ids: Iterable[str] | None, column: str = "doc_id") -> tuple[str, list[Any]]:
    """A WHERE clause restricting to the given ids (all rows when ``ids`` is None)."""
    if ids is None:
        return "", []
    return f"WHERE {column} IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]


def _page(items: list[Any], offset: int, limit: int | None) -> dict[str, Any]:
    offset = max(offset, 0)
    end = None if limit is None else offset + max(limit, 0)
    return {"total": len(items), "offset": offset, "items": items[offset:end]}


def _outlets(outlets: list[str | None] | None) -> list[str]:
    return [outlet or UNKNOWN_OUTLET for outlet in outlets or ()]


# -- overview ------------------------------------------------------------------------------------------------


def default_title(store: Store) -> str:
    """The store's folder and file name: "newstrace: demo-out/newstrace.duckdb"."""
    path = store.path.resolve()
    return f"newstrace: {path.parent.name}/{path.name}" if path.parent.name else f"newstrace: {path.name}"


def overview(store: Store, title: str | None = None) -> dict[str, Any]:
    """Corpus size, outlets, date range, what each stage stored, documents per month, and the errors."""
    summary = store.summary()
    one = store.one
    errors_by_stage = _rows(
        store,
        """SELECT coalesce(stage, '?') AS stage, severity, count(*) AS n FROM errors
           GROUP BY ALL ORDER BY n DESC, stage""",
    )
    error_examples = _rows(
        store,
        f"""SELECT source_path, locator, stage, severity, error, detail FROM errors
            ORDER BY severity = 'error' DESC, logged_at LIMIT {ERROR_EXAMPLES}""",
    )
    per_month = _rows(
        store,
        """SELECT strftime(published, '%Y-%m') AS month, coalesce(outlet, '(unknown)') AS outlet, count(*) AS n
           FROM documents WHERE published IS NOT NULL GROUP BY ALL ORDER BY month, outlet""",
    )
    n_narratives, n_recurring = one("SELECT count(*), count(*) FILTER (WHERE recurring) FROM narratives")
    return {
        "title": title or default_title(store),
        "store": store.path.name,
        "generated": datetime.now().replace(microsecond=0).isoformat(sep=" "),
        "newstrace_version": __version__,
        "documents": summary["documents"],
        "words": summary["words"],
        "occurrences": one("SELECT count(*) FROM occurrences")[0],
        "duplicates": summary["duplicates"],
        "undated": summary["undated"],
        "first_published": jsonable(summary["first_published"]),
        "last_published": jsonable(summary["last_published"]),
        "outlets": [{"outlet": outlet, "documents": n} for outlet, n in summary["outlets"].items()],
        "annotated": summary["annotated"],
        "attributions": summary["attributions"],
        "actors": summary["actors_mentioned"],
        "places": summary["places"],
        "reuse_passages": summary["reuse_passages"],
        "reuse_pairs": summary["reuse_pairs"],
        "claims": one("SELECT count(*) FROM claims")[0],
        "narratives": n_narratives,
        "recurring_narratives": n_recurring,
        "labels": one("SELECT count(*) FROM labels")[0],
        "errors": {
            "errors": summary["errors"],
            "warnings": summary["warnings"],
            "by_stage": errors_by_stage,
            "examples": error_examples,
        },
        "per_month": per_month,
    }


# -- narratives ----------------------------------------------------------------------------------------------


def narrative_list(
    store: Store, offset: int = 0, limit: int | None = PAGE_SIZE, recurring_only: bool = True
) -> dict[str, Any]:
    """A page of narratives, most documents first, each with when and where its claims appeared (``strip``:
    ``[published, outlet, claims]``)."""
    items = _records(query.narratives(store, recurring_only=recurring_only))
    for item in items:
        item["outlets"] = _outlets(item["outlets"])
    page = _page(items, offset, limit)
    strips: dict[str, list[list[Any]]] = defaultdict(list)
    ids = [item["narrative_id"] for item in page["items"]]
    if ids:
        for row in _rows(
            store,
            """SELECT narrative_id, published, coalesce(outlet, '(unknown)') AS outlet, count(*) AS n
               FROM claims WHERE narrative_id IN (SELECT unnest(?::VARCHAR[])) AND published IS NOT NULL
               GROUP BY ALL ORDER BY published, outlet""",
            [ids],
        ):
            strips[row["narrative_id"]].append([row["published"], row["outlet"], row["n"]])
    for item in page["items"]:
        item["strip"] = strips[item["narrative_id"]]
    return page


def narrative_details(
    store: Store, narrative_ids: Sequence[str], with_text: bool = True
) -> dict[str, dict[str, Any]]:
    """Narratives with their provenance chains, in a few queries whatever their number: the rows of
    :func:`newstrace.query.narrative`, the names of its actors (``actors``), and for each link of a chain the
    sentence it came from (``context``, when ``with_text``), the document's title, and the spans to mark in
    the sentence (``marks``: ``[start, end, role]``, role ``source``, ``cue``, ``content`` or ``claim``,
    offsets into the document)."""
    ids = [list(narrative_ids)]
    found: dict[str, dict[str, Any]] = {
        row["narrative_id"]: {"narrative": {**row, "outlets": _outlets(row["outlets"])}, "chain": []}
        for row in _rows(
            store,
            """SELECT * EXCLUDE (centroid, run_id) FROM narratives
               WHERE narrative_id IN (SELECT unnest(?::VARCHAR[]))""",
            ids,
        )
    }
    context = "d.text[c.context_start + 1 : c.context_end] AS context," if with_text else ""
    for link in _rows(
        store,
        f"""SELECT {query.CHAIN_COLUMNS}, c.context_start, c.context_end, {context} d.title,
                   a.source AS source_fragments, a.cue AS cue_fragments, a.content AS content_fragments
            FROM claims c JOIN documents d USING (doc_id)
            LEFT JOIN attributions a ON a.doc_id = c.doc_id AND a.attribution = c.attribution
            WHERE c.narrative_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY c.narrative_id, c.chain_position""",
        ids,
    ):
        link["marks"] = _claim_marks(link)
        link["outlet"] = link["outlet"] or UNKNOWN_OUTLET
        for column in ("source_path", "locator"):
            link.pop(column)
        found[link.pop("narrative_id")]["chain"].append(link)
    names = actor_names(store, {a for detail in found.values() for a in detail["narrative"]["actors"] or ()})
    for detail in found.values():
        detail["actors"] = {a: names.get(a, a) for a in detail["narrative"]["actors"] or ()}
    return found


def narrative_detail(store: Store, narrative_id: str, with_text: bool = True) -> dict[str, Any]:
    """One narrative and its provenance chain (see :func:`narrative_details`)."""
    found = narrative_details(store, [narrative_id], with_text)
    if narrative_id not in found:
        raise NotFound(
            f"no narrative {narrative_id!r} in {store.path} (list them with `newstrace narratives`)"
        )
    return found[narrative_id]


def _claim_marks(link: dict[str, Any]) -> list[list[Any]]:
    """The attribution's fragments by role; the claim's own span when no content fragment marks it."""
    marks = [
        [f["start"], f["end"], role]
        for role in ("source", "cue", "content")
        for f in link.pop(f"{role}_fragments") or ()
    ]
    if not any(role == "content" for *_, role in marks):
        marks.append([link["start"], link["end"], "claim"])
    return sorted(marks)


# -- documents -----------------------------------------------------------------------------------------------

_DOC_META = "doc_id, title, coalesce(outlet, '(unknown)') AS outlet, published"


def document_index(store: Store, doc_ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Title, outlet and date of documents (all of them, or the given ones), by id."""
    where, params = _ids_filter(doc_ids)
    return {
        row.pop("doc_id"): row
        for row in _rows(store, f"SELECT {_DOC_META} FROM documents {where} ORDER BY doc_id", params)
    }


def document_list(
    store: Store, offset: int = 0, limit: int | None = PAGE_SIZE, title: str | None = None
) -> dict[str, Any]:
    """A page of documents, newest first, optionally only those whose title contains ``title``; the page is
    cut in SQL, so a page of a large store costs the same as one of a small store."""
    where, params = ("WHERE d.title ILIKE ? ESCAPE '\\'", [f"%{_escape_like(title)}%"]) if title else ("", [])
    (total,) = store.one(f"SELECT count(*) FROM documents d {where}", params)
    offset = max(offset, 0)
    page = f"LIMIT {int(limit)} OFFSET {offset}" if limit is not None else f"OFFSET {offset}"
    rows = _rows(
        store,
        f"""WITH listed AS (
                SELECT doc_id, title, coalesce(outlet, '(unknown)') AS outlet, published, n_words FROM documents d
                {where} ORDER BY published DESC NULLS LAST, doc_id {page})
            SELECT l.*, (SELECT count(*) FROM claims c WHERE c.doc_id = l.doc_id) AS claims,
                   (SELECT count(*) FROM reuse r WHERE l.doc_id IN (r.doc_a, r.doc_b)) AS reuse
            FROM listed l ORDER BY l.published DESC NULLS LAST, l.doc_id""",
        params,
    )
    return {"total": total, "offset": offset, "items": rows}


def document_details(
    store: Store, doc_ids: Sequence[str] | None = None, with_partner_text: bool = True
) -> dict[str, dict[str, Any]]:
    """Each document with everything to draw on its text, as compact lists (offsets into ``text``):

    - ``attributions``: ``[source, cue, content, source_type, modality, hedged, source_actor]``, each role a
      list of ``[start, end]`` fragments;
    - ``mentions``: ``[start, end, entity label, actor_id]``; ``places``: ``[start, end, place_id, name]``;
      ``labels``: ``[start, end, actor_id, label]``;
    - ``claims``: dicts with the claim's span, narrative and place in its chain;
    - ``reuse``: one entry per partner document with its aligned ``passages`` (``partner_text`` when
      ``with_partner_text``), ``first`` telling which side was published first.
    """
    where, params = _ids_filter(doc_ids)
    docs = {
        row["doc_id"]: {
            **row,
            "occurrences": [],
            "attributions": [],
            "mentions": [],
            "places": [],
            "labels": [],
            "claims": [],
            "reuse": [],
        }
        for row in _rows(
            store,
            f"""SELECT doc_id, title, coalesce(outlet, '(unknown)') AS outlet, published, published_source,
                       url, source_path, locator, language, n_words, text
                FROM documents {where} ORDER BY doc_id""",
            params,
        )
    }
    if doc_ids is not None and not docs:
        raise NotFound(f"no document {', '.join(doc_ids)} in {store.path}")
    for row in _rows(
        store,
        f"""SELECT doc_id, source_path, locator, outlet, published FROM occurrences {where}
            ORDER BY published NULLS LAST, source_path, locator""",
        params,
    ):
        docs[row.pop("doc_id")]["occurrences"].append(row)
    for row in _rows(
        store,
        f"""SELECT doc_id, source, cue, content, source_type, source_actor, modality, hedged FROM attributions
            {where} ORDER BY doc_id, attribution""",
        params,
    ):
        docs[row["doc_id"]]["attributions"].append(
            [
                *([[f["start"], f["end"]] for f in row[role] or ()] for role in ("source", "cue", "content")),
                row["source_type"],
                row["modality"],
                row["hedged"],
                row["source_actor"],
            ]
        )
    for doc_id, start, end, label, actor_id in store.con.execute(
        f'SELECT doc_id, start, "end", label, actor_id FROM mentions {where} ORDER BY doc_id, start', params
    ).fetchall():
        docs[doc_id]["mentions"].append([start, end, label, actor_id])
    for doc_id, start, end, place_id, name in store.con.execute(
        f'SELECT doc_id, start, "end", place_id, name FROM places {where} ORDER BY doc_id, start', params
    ).fetchall():
        docs[doc_id]["places"].append([start, end, place_id, name])
    for doc_id, start, end, actor_id, label in store.con.execute(
        f'SELECT doc_id, start, "end", actor_id, label FROM labels {where} ORDER BY doc_id, start', params
    ).fetchall():
        docs[doc_id]["labels"].append([start, end, actor_id, label])
    claims_where, _ = _ids_filter(doc_ids, "c.doc_id")
    for row in _rows(
        store,
        f"""SELECT c.doc_id, c.claim_id, c.start, c."end", c.narrative_id, coalesce(n.recurring, false) AS recurring,
                   c.chain_role, c.chain_position, c.attributed, c.source_text, c.attribution_dropped,
                   c.modality, c.earlier_predictions
            FROM claims c LEFT JOIN narratives n USING (narrative_id)
            {claims_where} ORDER BY c.doc_id, c.start""",
        params,
    ):
        docs[row.pop("doc_id")]["claims"].append(row)
    _attach_reuse(store, docs, doc_ids, with_partner_text)
    return docs


def _attach_reuse(
    store: Store, docs: dict[str, dict[str, Any]], doc_ids: Sequence[str] | None, with_partner_text: bool
) -> None:
    """Reuse passages seen from each side: this document's span, the partner's span, which side came first."""
    where = ""
    params: list[Any] = []
    if doc_ids is not None:
        where = "WHERE doc_a IN (SELECT unnest(?::VARCHAR[])) OR doc_b IN (SELECT unnest(?::VARCHAR[]))"
        params = [list(doc_ids), list(doc_ids)]
    rows = _rows(
        store,
        f"""SELECT doc_a, a_start, a_end, doc_b, b_start, b_end, score, kind, direction, n_words FROM reuse
            {where} ORDER BY doc_a, a_start, doc_b, b_start""",
        params,
    )
    partners: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        for side, other in (("a", "b"), ("b", "a")):
            doc_id, partner = row[f"doc_{side}"], row[f"doc_{other}"]
            if doc_id not in docs:
                continue
            origin = {"a_to_b": "a", "b_to_a": "b"}.get(row["direction"])
            entry = partners[doc_id].setdefault(partner, {"partner": partner, "passages": []})
            entry["passages"].append(
                {
                    "start": row[f"{side}_start"],
                    "end": row[f"{side}_end"],
                    "partner_start": row[f"{other}_start"],
                    "partner_end": row[f"{other}_end"],
                    "score": row["score"],
                    "kind": row["kind"],
                    "n_words": row["n_words"],
                    "first": None if origin is None else ("this" if origin == side else "partner"),
                }
            )
    needed = {partner for found in partners.values() for partner in found}
    meta = document_index(store, needed) if needed else {}
    texts: dict[str, str] = {}
    if with_partner_text and needed:
        texts = dict(
            store.con.execute(
                "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
                [list(needed)],
            ).fetchall()
        )
    for doc_id, found in partners.items():
        for partner, entry in found.items():
            entry.update({f"partner_{key}": value for key, value in meta.get(partner, {}).items()})
            entry["passages"].sort(key=lambda p: p["start"])
            if with_partner_text:
                for passage in entry["passages"]:
                    passage["partner_text"] = texts[partner][
                        passage["partner_start"] : passage["partner_end"]
                    ]
        docs[doc_id]["reuse"] = sorted(
            found.values(), key=lambda e: (-sum(p["n_words"] or 0 for p in e["passages"]), e["partner"])
        )


def document_detail(store: Store, doc_id: str) -> dict[str, Any]:
    """One document (see :func:`document_details`), with the names of the actors it mentions."""
    doc = document_details(store, [doc_id])[doc_id]
    actors = {m[3] for m in doc["mentions"] if m[3]} | {label[2] for label in doc["labels"] if label[2]}
    doc["actors"] = actor_names(store, actors)
    return doc


# -- actors --------------------------------------------------------------------------------------------------


def actor_names(store: Store, actor_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Canonical name of each actor id (all actors, or the given ones)."""
    where, params = _ids_filter(actor_ids, "actor_id")
    return dict(store.con.execute(f"SELECT actor_id, canonical FROM actors {where}", params).fetchall())


def actor_list(store: Store) -> list[dict[str, Any]]:
    """Actors mentioned or labelled in the corpus, most mentioned first, with counts per outlet."""
    rows = _rows(
        store,
        """WITH seen AS (
               SELECT m.actor_id, coalesce(d.outlet, '(unknown)') AS outlet, count(*) AS mentions,
                      count(DISTINCT m.doc_id) AS documents
               FROM mentions m JOIN documents d USING (doc_id) WHERE m.actor_id IS NOT NULL GROUP BY ALL),
           labelled AS (SELECT actor_id, count(*) AS labels FROM labels WHERE actor_id IS NOT NULL GROUP BY ALL)
           SELECT s.actor_id, coalesce(a.canonical, s.actor_id) AS canonical, a.kind,
                  sum(s.mentions)::INTEGER AS mentions, sum(s.documents)::INTEGER AS documents,
                  coalesce(any_value(l.labels), 0) AS labels,
                  list(struct_pack(outlet := s.outlet, n := s.mentions) ORDER BY s.mentions DESC, s.outlet)
                    AS outlets
           FROM seen s LEFT JOIN actors a USING (actor_id) LEFT JOIN labelled l USING (actor_id)
           GROUP BY s.actor_id, a.canonical, a.kind ORDER BY mentions DESC, s.actor_id""",
    )
    for row in rows:
        row["outlets"] = [[o["outlet"], o["n"]] for o in row["outlets"]]
    return rows


def actor_details(store: Store, actor_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """For each actor: how each outlet labels it (``framing``: outlet, label, count and one example with its
    context) and the names each outlet uses for it (``names``: outlet, name, count)."""
    details: dict[str, dict[str, Any]] = {
        actor_id: {"actor_id": actor_id, "framing": [], "names": []} for actor_id in actor_ids
    }
    info = {row["actor_id"]: row for row in _rows(store, "SELECT actor_id, canonical, kind FROM actors")}
    for actor_id, detail in details.items():
        detail["canonical"] = info.get(actor_id, {}).get("canonical") or actor_id
        detail["kind"] = info.get(actor_id, {}).get("kind")
    labelled = [actor_id for actor_id in actor_ids if _labelled(store, actor_id)]
    for actor_id in labelled:
        details[actor_id]["framing"] = _records(query.framing(store, actor_id))
    examples = [(row["doc_id"], row["start"], row["end"]) for a in labelled for row in details[a]["framing"]]
    context = _snippets(store, examples)
    for actor_id in labelled:
        for row in details[actor_id]["framing"]:
            row["before"], row["after"] = context[(row["doc_id"], row["start"], row["end"])]
    where, params = _ids_filter(actor_ids, "m.actor_id")
    for row in _rows(
        store,
        f"""WITH named AS (
                SELECT m.actor_id, coalesce(d.outlet, '(unknown)') AS outlet, m.text AS name, count(*) AS n
                FROM mentions m JOIN documents d USING (doc_id) {where} GROUP BY ALL)
            SELECT actor_id, outlet, name, n FROM named
            QUALIFY row_number() OVER (PARTITION BY actor_id ORDER BY n DESC, outlet, name) <= {NAMES_PER_ACTOR}
            ORDER BY actor_id, n DESC, outlet, name""",
        params,
    ):
        details[row.pop("actor_id")]["names"].append([row["outlet"], row["name"], row["n"]])
    return details


def _labelled(store: Store, actor_id: str) -> bool:
    return store.one("SELECT EXISTS (SELECT 1 FROM labels WHERE actor_id = ?)", [actor_id])[0]


def actor_detail(store: Store, actor_id: str) -> dict[str, Any]:
    """One actor (see :func:`actor_details`), found by id, name or alias."""
    try:
        resolved = query.resolve_actor(store, actor_id)
    except StoreError as exc:
        raise NotFound(str(exc)) from exc
    return actor_details(store, [resolved])[resolved]


def _snippets(
    store: Store, spans: Sequence[tuple[str, int, int]], width: int = SNIPPET
) -> dict[tuple[str, int, int], tuple[str, str]]:
    """The text before and after each span, cut at ``width`` characters."""
    if not spans:
        return {}
    texts = dict(
        store.con.execute(
            "SELECT doc_id, text FROM documents WHERE doc_id IN (SELECT unnest(?::VARCHAR[]))",
            [list({doc_id for doc_id, _, _ in spans})],
        ).fetchall()
    )
    found = {}
    for doc_id, start, end in spans:
        text = texts.get(doc_id, "")
        found[(doc_id, start, end)] = (text[max(0, start - width) : start], text[end : end + width])
    return found


# -- places --------------------------------------------------------------------------------------------------


def place_list(store: Store) -> list[dict[str, Any]]:
    """Geocoded places with how often they are mentioned and in which documents (``docs``, ids)."""
    return _rows(
        store,
        """SELECT place_id, any_value(name) AS name, any_value(lat) AS lat, any_value(lon) AS lon,
                  any_value(country) AS country, count(*) AS mentions, count(DISTINCT doc_id) AS documents,
                  list(DISTINCT doc_id ORDER BY doc_id) AS docs
           FROM places WHERE lat IS NOT NULL AND lon IS NOT NULL
           GROUP BY place_id ORDER BY mentions DESC, place_id""",
    )


def places(store: Store) -> dict[str, Any]:
    """The map's data: places, and the title, outlet and date of every document they appear in."""
    found = place_list(store)
    return {"places": found, "documents": document_index(store, {d for p in found for d in p["docs"]})}


# -- search --------------------------------------------------------------------------------------------------


def search(store: Store, text: str, limit: int = 100) -> dict[str, Any]:
    """Claims and documents containing ``text`` (case-insensitive), earliest first."""
    text = text.strip()
    if not text:
        return {"query": text, "claims": [], "n_claims": 0, "documents": [], "n_documents": 0}
    pattern = f"%{_escape_like(text)}%"
    claims = _rows(
        store,
        """SELECT c.claim_id, c.doc_id, c.start, c."end", c.text, c.narrative_id,
                   coalesce(n.recurring, false) AS recurring, c.chain_role, c.published,
                   coalesce(c.outlet, '(unknown)') AS outlet, c.attributed, c.source_text
            FROM claims c LEFT JOIN narratives n USING (narrative_id)
            WHERE c.text ILIKE ? ESCAPE '\\' ORDER BY c.published NULLS LAST, c.doc_id, c.start""",
        [pattern],
    )
    documents = _rows(
        store,
        f"""SELECT {_DOC_META}, text FROM documents WHERE title ILIKE ? ESCAPE '\\' OR text ILIKE ? ESCAPE '\\'
            ORDER BY published NULLS LAST, doc_id""",
        [pattern, pattern],
    )
    needle = text.lower()
    for row in documents:
        body = row.pop("text")
        at = body.lower().find(needle)
        row["snippet"] = (
            [body[max(0, at - SNIPPET) : at], body[at : at + len(text)], body[at + len(text) : at + SNIPPET]]
            if at >= 0
            else None
        )
    return {
        "query": text,
        "claims": claims[:limit],
        "n_claims": len(claims),
        "documents": documents[:limit],
        "n_documents": len(documents),
    }


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- the API's questions, as records -------------------------------------------------------------------------


def claims_about(store: Store, actor: str, offset: int = 0, limit: int | None = PAGE_SIZE) -> dict[str, Any]:
    """A page of claims about an actor (:func:`newstrace.query.claims_about`)."""
    try:
        frame = query.claims_about(store, actor)
    except StoreError as exc:
        raise NotFound(str(exc)) from exc
    return _page(_records(frame), offset, limit)


def framing(store: Store, actor: str) -> list[dict[str, Any]]:
    """How each outlet labels an actor (:func:`newstrace.query.framing`)."""
    try:
        return _records(query.framing(store, actor))
    except StoreError as exc:
        raise NotFound(str(exc)) from exc


def predictions(
    store: Store, narrative_id: str | None = None, offset: int = 0, limit: int | None = PAGE_SIZE
) -> dict[str, Any]:
    """A page of the prediction ledger (:func:`newstrace.query.predictions`)."""
    return _page(_records(query.predictions(store, narrative_id)), offset, limit)
