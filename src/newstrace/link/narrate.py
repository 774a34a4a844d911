"""The claims and narratives stage over a store: extract claims of newly annotated documents, embed them,
assign them to narratives, and refresh the provenance chains and summaries of the narratives they touched."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from newstrace.link.claims import extract_claims
from newstrace.link.lexical import TfIdf
from newstrace.link.narratives import NarrativeConfig, NarrativeIndex, assign, chain, claim_order
from newstrace.model import Claim

Event = Callable[[str, Any], None]
LABEL_MIN_WORDS = 8  # shortest claim preferred as a narrative's label


class Embedder:
    """What the stage needs from an embedder: a name and unit vectors for texts."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class ClaimsReport:
    documents: int = 0
    claims: int = 0
    narratives_touched: int = 0
    recurring: int = 0


def _index(store: Any, dim: int) -> NarrativeIndex:
    """The claims placed so far, as the clustering state."""
    index = NarrativeIndex(dim)
    ids, vectors = store.claim_vectors()
    if not ids:
        return index
    placed = {
        claim_id: (text, doc_id, narrative_id, bool(anchor))
        for claim_id, text, doc_id, narrative_id, anchor in store.con.execute(
            "SELECT claim_id, text, doc_id, narrative_id, anchor FROM claims"
        ).fetchall()
    }
    keep = [i for i, claim_id in enumerate(ids) if claim_id in placed]
    index.extend(
        [ids[i] for i in keep],
        [placed[ids[i]][0] for i in keep],
        [placed[ids[i]][1] for i in keep],
        [placed[ids[i]][2] for i in keep],
        [placed[ids[i]][3] for i in keep],
        vectors[keep],
    )
    return index


def _reuse_check(store: Any, doc_ids: Sequence[str]) -> Callable[[Claim, Claim], bool]:
    """``reused(earlier, later)``: a stored reuse passage covers half of the later claim and touches the
    earlier. Reads the passages between ``doc_ids`` once (one query for every narrative refreshed)."""
    rows = store.con.execute(
        """SELECT doc_a, a_start, a_end, doc_b, b_start, b_end FROM reuse
           WHERE doc_a IN (SELECT unnest(?::VARCHAR[])) AND doc_b IN (SELECT unnest(?::VARCHAR[]))""",
        [list(doc_ids), list(doc_ids)],
    ).fetchall()
    passages: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)
    for doc_a, a_start, a_end, doc_b, b_start, b_end in rows:
        passages[(doc_a, doc_b)].append((a_start, a_end, b_start, b_end))
        passages[(doc_b, doc_a)].append((b_start, b_end, a_start, a_end))

    def reused(earlier: Claim, later: Claim) -> bool:
        for e_start, e_end, l_start, l_end in passages.get((earlier.doc_id, later.doc_id), ()):
            covered = min(l_end, later.end) - max(l_start, later.start)
            if covered >= 0.5 * (later.end - later.start) and e_start < earlier.end and earlier.start < e_end:
                return True
        return False

    return reused


def link_claims(
    store: Any, run_id: str, embedder: Embedder, config: NarrativeConfig, emit: Event, batch_size: int = 500
) -> ClaimsReport:
    """Claims of every annotated document not done yet, then the narratives they belong to."""
    report = ClaimsReport()
    new_ids = store.unclaimed_documents()
    if not new_ids:
        return report
    emit("claims", len(new_ids))
    claims: list[Claim] = []
    documents: list[tuple[str, int]] = []
    for offset in range(0, len(new_ids), batch_size):
        for doc in store.claim_inputs(new_ids[offset : offset + batch_size]):
            found = extract_claims(doc)
            claims.extend(found)
            documents.append((doc.doc_id, len(found)))
        emit("claimed", min(batch_size, len(new_ids) - offset))
    report.documents, report.claims = len(documents), len(claims)
    vectors = embedder.encode([c.text for c in claims]) if claims else np.zeros((0, 1), dtype=np.float32)
    report.narratives_touched, report.recurring = place_claims(
        store, run_id, claims, vectors, documents, embedder.name, config
    )
    return report


def place_claims(
    store: Any,
    run_id: str,
    claims: Sequence[Claim],
    vectors: np.ndarray,
    documents: Sequence[tuple[str, int]],
    embedder: str,
    config: NarrativeConfig,
    *,
    shortlists: Sequence[np.ndarray] | None = None,
    tfidf: TfIdf | None = None,
) -> tuple[int, int]:
    """Put extracted, embedded claims into the store's narratives, store them, and refresh the narratives
    they joined. ``documents`` lists (doc_id, number of claims) for the ``claimed`` table. Returns the
    narratives touched and how many of them recur. The Spark engine runs this on its executors, one group
    of connected claims at a time, with ``shortlists`` and the corpus's ``tfidf`` (see :func:`assign`)."""
    index = _index(store, vectors.shape[1] if len(claims) else 1)
    n_old = len(index.claim_ids)
    assigned = assign(claims, vectors, index, config, shortlists=shortlists, tfidf=tfidf)
    anchors = dict(zip(index.claim_ids[n_old:], index.anchors[n_old:], strict=True))
    store.write_claims(run_id, claims, vectors, assigned, anchors, documents, embedder)
    touched = sorted(set(assigned.values()))
    return len(touched), _refresh(store, run_id, touched, config, tfidf)


def _refresh(
    store: Any,
    run_id: str,
    narrative_ids: Sequence[str],
    config: NarrativeConfig,
    tfidf: TfIdf | None = None,
) -> int:
    """Recompute the chains and summary rows of the given narratives; returns how many recur. The TF-IDF
    statistics are those of every stored claim unless ``tfidf`` is given."""
    claims = store.claims_of(narrative_ids)
    ids, matrix = store.claim_vectors([c.claim_id for c in claims])
    vector_of = dict(zip(ids, matrix, strict=True))
    members: dict[str, list[Claim]] = defaultdict(list)
    narrative_of = dict(
        store.con.execute(
            "SELECT claim_id, narrative_id FROM claims WHERE narrative_id IN (SELECT unnest(?::VARCHAR[]))",
            [list(narrative_ids)],
        ).fetchall()
    )
    for claim in claims:
        members[narrative_of[claim.claim_id]].append(claim)
    if tfidf is None:
        tfidf = TfIdf(text for (text,) in store.con.execute("SELECT text FROM claims").fetchall())
    # Passages only link claims of different documents: those of narratives spanning two or more.
    linked = {c.doc_id for group in members.values() if len({m.doc_id for m in group}) > 1 for c in group}
    reused = _reuse_check(store, sorted(linked))
    chain_rows: list[tuple[Any, ...]] = []
    narrative_rows: list[tuple[Any, ...]] = []
    recurring = 0
    for narrative_id in narrative_ids:
        group = sorted(members[narrative_id], key=claim_order)
        vectors = np.stack([vector_of[c.claim_id] for c in group])
        doc_ids = sorted({c.doc_id for c in group})
        entries = chain(group, vectors, reused, config, tfidf)
        by_id = {c.claim_id: c for c in group}
        for entry in entries:
            chain_rows.append(
                (
                    entry.claim_id,
                    entry.position,
                    entry.role,
                    entry.similarity,
                    entry.repeats,
                    list(entry.new_terms),
                    entry.attribution_dropped,
                    entry.earlier_predictions,
                )
            )
        centroid = vectors.mean(axis=0)
        unit = centroid / max(float(np.linalg.norm(centroid)), 1e-9)
        # The label is the most central claim that reads as a statement: a fragment an attribution cut short
        # ("the chemical attack on Syria's") says little on its own.
        readable = [i for i, c in enumerate(group) if len(c.text.split()) >= LABEL_MIN_WORDS] or list(
            range(len(group))
        )
        central = group[readable[int(np.argmax(vectors[readable] @ unit))]]
        dated = [c.published for c in group if c.published]
        outlets = Counter(c.outlet for c in group if c.outlet)
        actors = Counter(a for c in group for a in c.actors)
        places = Counter(p for c in group for p in c.places)
        is_recurring = len(doc_ids) >= config.min_documents
        recurring += is_recurring
        narrative_rows.append(
            (
                narrative_id,
                central.text,
                central.claim_id,
                len(group),
                len(doc_ids),
                len(outlets),
                min(dated) if dated else None,
                max(dated) if dated else None,
                [o for o, _ in outlets.most_common()],
                [a for a, _ in actors.most_common(8)],
                [p for p, _ in places.most_common(8)],
                sum(c.attributed for c in group),
                sum(e.attribution_dropped for e in entries),
                sum(by_id[e.claim_id].modality == "prediction" for e in entries),
                is_recurring,
                centroid.astype(np.float32).tolist(),
                run_id,
            )
        )
    _write_chains(store, chain_rows, narrative_rows)
    return recurring


_CHAIN_SCHEMA = pa.schema(
    [
        ("claim_id", pa.string()),
        ("chain_position", pa.int32()),
        ("chain_role", pa.string()),
        ("similarity", pa.float64()),
        ("repeats", pa.string()),
        ("new_terms", pa.list_(pa.string())),
        ("attribution_dropped", pa.bool_()),
        ("earlier_predictions", pa.int32()),
    ]
)


def _write_chains(
    store: Any, chain_rows: list[tuple[Any, ...]], narrative_rows: list[tuple[Any, ...]]
) -> None:
    con = store.con
    con.begin()
    try:
        if chain_rows:
            # Typed columns: a column whose values are all None or all empty lists has no type DuckDB can cast.
            frame = pa.Table.from_pylist(
                [dict(zip(_CHAIN_SCHEMA.names, row, strict=True)) for row in chain_rows], schema=_CHAIN_SCHEMA
            )
            con.register("chain_batch", frame)
            try:
                con.execute(
                    """UPDATE claims SET chain_position = c.chain_position, chain_role = c.chain_role,
                           similarity = c.similarity, repeats = c.repeats, new_terms = c.new_terms,
                           attribution_dropped = c.attribution_dropped, earlier_predictions = c.earlier_predictions
                       FROM chain_batch c WHERE claims.claim_id = c.claim_id"""
                )
            finally:
                con.unregister("chain_batch")
        if narrative_rows:
            ids = [row[0] for row in narrative_rows]
            con.execute("DELETE FROM narratives WHERE narrative_id IN (SELECT unnest(?::VARCHAR[]))", [ids])
            store._append("narratives", narrative_rows)
        con.commit()
    except BaseException:
        con.rollback()
        raise
