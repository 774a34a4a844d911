"""Outlet-level boilerplate: lines that recur across many documents of one outlet (footers, sign-offs).

A line counts as the outlet's boilerplate once it appears in at least ``min_docs`` of the outlet's articles
and in at least ``min_share`` of them. Articles are told apart by title, so the versions of one article count
once. The thresholds keep recycled background paragraphs, which recur in a handful of an outlet's articles
and are evidence of reuse, in the text. Once declared, a line stays
boilerplate for that outlet; removed lines are listed in the ``boilerplate`` table with their raw offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

from newstrace.identity import line_hash
from newstrace.ingest.clean import drop_lines
from newstrace.model import OffsetMap, words
from newstrace.store import Store

REASON = "outlet-repeat"


@dataclass(frozen=True, slots=True)
class OutletRepeats:
    min_docs: int = 5
    min_share: float = 0.2


def clean_outlet_repeats(store: Store, run_id: str, thresholds: OutletRepeats = OutletRepeats()) -> int:
    """Find new outlet boilerplate among outlets with newly stored documents and remove it; returns the
    number of new boilerplate lines. Runs in one transaction: interrupted, it is redone by the next run."""
    con = store.con
    outlets = [
        o
        for (o,) in con.execute("SELECT DISTINCT outlet FROM documents WHERE outlet_pass_pending").fetchall()
    ]
    if not outlets:
        return 0
    con.begin()
    try:
        n_new = 0
        for outlet in outlets:
            n_new += _clean_outlet(store, run_id, outlet, thresholds)
        con.execute("UPDATE documents SET outlet_pass_pending = false WHERE outlet_pass_pending")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return n_new


def _clean_outlet(store: Store, run_id: str, outlet: str, thresholds: OutletRepeats) -> int:
    con = store.con
    # Count articles, not documents: several versions of one article (same title) share their body lines,
    # which must not make those lines look like the outlet's boilerplate.
    (n_outlet_docs,) = store.one(
        "SELECT count(DISTINCT coalesce(title, doc_id)) FROM documents WHERE outlet = ?", [outlet]
    )
    threshold = max(thresholds.min_docs, thresholds.min_share * n_outlet_docs)
    found = con.execute(
        """SELECT line_hash, count(DISTINCT article) AS n_docs FROM (
               SELECT unnest(line_hashes) AS line_hash, coalesce(title, doc_id) AS article
               FROM documents WHERE outlet = ?)
           GROUP BY line_hash HAVING count(DISTINCT article) >= ?""",
        [outlet, threshold],
    ).fetchall()
    known = {
        h
        for (h,) in con.execute(
            "SELECT line_hash FROM outlet_boilerplate WHERE outlet = ?", [outlet]
        ).fetchall()
    }
    new = {h: n for h, n in found if h not in known}
    for fingerprint, n_docs in new.items():
        con.execute(
            "INSERT INTO outlet_boilerplate VALUES (?, ?, NULL, ?, ?, ?)",
            [outlet, fingerprint, n_docs, n_outlet_docs, run_id],
        )
    all_hashes = known | set(new)
    if not all_hashes:
        return 0
    # New boilerplate applies to every document of the outlet; known boilerplate only to documents new here.
    rows = con.execute(
        """SELECT doc_id, text, offset_map FROM documents
           WHERE outlet = ? AND (list_has_any(line_hashes, ?::UBIGINT[])
                                 OR (outlet_pass_pending AND list_has_any(line_hashes, ?::UBIGINT[])))""",
        [outlet, list(new), list(all_hashes)],
    ).fetchall()
    hashes = frozenset(all_hashes)
    samples: dict[int, str] = {}
    for doc_id, text, offset_rows in rows:
        new_text, new_map, dropped = drop_lines(text, OffsetMap.from_rows(offset_rows), hashes, REASON)
        if dropped and new_text.strip():
            store.replace_text(doc_id, new_text, new_map, len(words(new_text)), dropped)
            for removal in dropped:
                samples.setdefault(line_hash(removal.text), removal.text)
    for fingerprint, text in samples.items():
        con.execute(
            "UPDATE outlet_boilerplate SET text = ? WHERE outlet = ? AND line_hash = ? AND text IS NULL",
            [text, outlet, fingerprint],
        )
    return len(new)
