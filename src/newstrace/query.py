"""Questions asked of a linked store: narratives, one narrative's chain, claims about an actor, who said
something, how outlets label an actor, and the prediction ledger. Each returns a pandas DataFrame (or a dict
for one narrative); the CLI prints them as tables or JSON."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from newstrace.nlp.translit import name_key
from newstrace.store import Store, StoreError


def resolve_actor(store: Store, actor: str) -> str:
    """The actor id for an id, a canonical name or an alias (spelling-blind)."""
    key = name_key(actor)
    rows = store.con.execute("SELECT actor_id, canonical, aliases FROM actors").fetchall()
    for actor_id, canonical, aliases in rows:
        if actor == actor_id or key in {name_key(canonical), *(name_key(a) for a in aliases or ())}:
            return actor_id
    # Actors seen in claims but absent from the table (a store annotated with other alias files).
    known = {a for (a,) in store.con.execute("SELECT DISTINCT unnest(actors) FROM claims").fetchall()}
    if actor in known:
        return actor
    raise StoreError(
        f"unknown actor {actor!r}: give an actor id or a name from the alias table (see `actors` table)"
    )


def narratives(store: Store, recurring_only: bool = True, limit: int | None = None) -> pd.DataFrame:
    """Narratives, most documents first."""
    where = "WHERE recurring" if recurring_only else ""
    query = f"""SELECT narrative_id, label, n_documents, n_outlets, n_claims, first_seen, last_seen, outlets,
                       actors, places, n_attributed, n_dropped, n_predictions
                FROM narratives {where} ORDER BY n_documents DESC, n_claims DESC, first_seen, narrative_id"""
    if limit:
        query += f" LIMIT {int(limit)}"
    return store.sql(query)


CHAIN_COLUMNS = """c.claim_id, c.chain_position, c.chain_role, c.published, c.outlet, d.source_path, d.locator,
    c.doc_id, c.start, c."end", c.text, c.attributed, c.source_text, c.cue_text, c.source_type, c.source_actor,
    c.modality, c.hedged, c.attribution_dropped, c.earlier_predictions, c.similarity, c.repeats, c.new_terms,
    c.actors, c.places, c.narrative_id"""


def narrative(store: Store, narrative_id: str) -> dict[str, Any]:
    """One narrative: its summary and its provenance chain in time order."""
    summary = store.sql("SELECT * EXCLUDE (centroid) FROM narratives WHERE narrative_id = ?", [narrative_id])
    if summary.empty:
        raise StoreError(
            f"no narrative {narrative_id!r} in {store.path} (list them with `newstrace narratives`)"
        )
    chain = store.sql(
        f"""SELECT {CHAIN_COLUMNS} FROM claims c JOIN documents d USING (doc_id)
            WHERE c.narrative_id = ? ORDER BY c.chain_position""",
        [narrative_id],
    )
    return {"narrative": summary.iloc[0].to_dict(), "chain": chain}


def claims_about(store: Store, actor: str) -> pd.DataFrame:
    """Claims that mention an actor, or whose source is that actor, in time order."""
    actor_id = resolve_actor(store, actor)
    return store.sql(
        f"""SELECT {CHAIN_COLUMNS} FROM claims c JOIN documents d USING (doc_id)
            WHERE list_contains(c.actors, ?) OR c.source_actor = ?
            ORDER BY c.published NULLS LAST, c.doc_id, c.start""",
        [actor_id, actor_id],
    )


def who_said(
    store: Store, text: str, embedder: Any = None, top: int = 20, min_similarity: float = 0.6
) -> pd.DataFrame:
    """Claims that say ``text`` (by meaning, or containing it), with their sources, earliest first."""
    from newstrace.embed import load_embedder

    model = embedder or load_embedder(_stored_embedder(store))
    ids, vectors = store.claim_vectors()
    found: dict[str, float] = {}
    if ids:
        similarity = vectors @ model.encode([text])[0]
        for i in np.argsort(-similarity)[:top]:
            if similarity[i] >= min_similarity:
                found[ids[i]] = float(similarity[i])
    for (claim_id,) in store.con.execute(
        "SELECT claim_id FROM claims WHERE text ILIKE ? LIMIT ?", [f"%{text}%", top]
    ).fetchall():
        found.setdefault(claim_id, 1.0)
    if not found:
        return pd.DataFrame(columns=["claim_id", "match"])
    frame = store.sql(
        f"""SELECT {CHAIN_COLUMNS} FROM claims c JOIN documents d USING (doc_id)
            WHERE c.claim_id IN (SELECT unnest(?::VARCHAR[]))""",
        [list(found)],
    )
    frame.insert(1, "match", frame["claim_id"].map(found).round(3))
    return frame.sort_values(["published", "match"], ascending=[True, False], na_position="last").reset_index(
        drop=True
    )


def _stored_embedder(store: Store) -> str:
    row = store.one("SELECT embedder FROM claimed WHERE embedder IS NOT NULL LIMIT 1")
    return row[0] if row else "static"


# Where a document names no outlet, its web site or file stands in, so that framing stays per source.
OUTLET_OR_DOCUMENT = """coalesce(d.outlet, nullif(regexp_extract(d.url, '^[a-z]+://(?:www[.])?([^/]+)', 1), ''),
    regexp_extract(d.source_path, '([^/]+)$', 1))"""


def framing(store: Store, actor: str) -> pd.DataFrame:
    """How each outlet labels an actor: outlet, label, count, and one example with its evidence offsets."""
    actor_id = resolve_actor(store, actor)
    return store.sql(
        f"""SELECT {OUTLET_OR_DOCUMENT} AS outlet, l.label, count(*) AS n,
                  arg_min(l.text, d.doc_id) AS example, arg_min(d.doc_id, d.doc_id) AS doc_id,
                  arg_min(l.start, d.doc_id) AS start, arg_min(l."end", d.doc_id) AS "end"
           FROM labels l JOIN documents d USING (doc_id)
           WHERE l.actor_id = ?
           GROUP BY ALL ORDER BY outlet, n DESC, label""",
        [actor_id],
    )


def predictions(store: Store, narrative_id: str | None = None) -> pd.DataFrame:
    """The prediction ledger: every prediction in a recurring narrative, with how many came before it."""
    where = "AND c.narrative_id = ?" if narrative_id else ""
    params = [narrative_id] if narrative_id else []
    return store.sql(
        f"""SELECT c.narrative_id, n.label AS narrative, c.published, c.outlet,
                   coalesce(c.source_text, CASE WHEN c.attributed THEN '(source not stated)' ELSE '(outlet voice)' END)
                       AS source, c.source_type, c.earlier_predictions,
                   c.text, c.doc_id, c.start, c."end", c.attribution_dropped
            FROM claims c JOIN narratives n USING (narrative_id)
            WHERE c.modality = 'prediction' AND n.recurring {where}
            ORDER BY n.n_documents DESC, c.narrative_id, c.chain_position""",
        params,
    )


def narrative_queries(store: Store, recurring_only: bool = True) -> tuple[list[str], list[str]]:
    """Each narrative as a query for catalogue matching: its most central claim and the next two statements
    of other documents, as (narrative ids, texts)."""
    where = "WHERE n.recurring" if recurring_only else ""
    rows = store.con.execute(
        f"""SELECT n.narrative_id, n.label,
                   list(c.text ORDER BY c.chain_position) FILTER (WHERE c.anchor AND c.text <> n.label)
            FROM narratives n JOIN claims c USING (narrative_id) {where}
            GROUP BY n.narrative_id, n.label ORDER BY n.narrative_id"""
    ).fetchall()
    ids, texts = [], []
    for narrative_id, label, others in rows:
        ids.append(narrative_id)
        texts.append(" ".join([label, *(others or [])[:2]]))
    return ids, texts


def match_narratives(
    store: Store, matcher: Any, top: int = 5, min_score: float | None = None
) -> pd.DataFrame:
    """The catalogue entries (known, debunked claims) that best match each recurring narrative."""
    ids, texts = narrative_queries(store)
    columns = ["narrative_id", "rank", "entry_id", "score", "text", "meta"]
    if not ids:
        return pd.DataFrame(columns=columns)
    results = matcher.search(texts, top=top, query_ids=ids, min_score=min_score)
    return pd.DataFrame.from_records(
        [
            (narrative_id, m.rank, m.entry_id, round(m.score, 6), m.text, json.dumps(m.meta, default=str))
            for narrative_id, matches in zip(ids, results, strict=True)
            for m in matches
        ],
        columns=columns,
    )
