"""Narrative clustering against the demo corpus's answer key, and the seeds check, for each embedder.

The demo corpus (examples/) lists its narratives in ``examples/ground_truth.json``: for each, the first
statement and every repeat, as a document and a passage. Each listed passage is an item; its predicted
cluster is the narrative of the claim that overlaps it most. B-cubed precision and recall are computed over
these items (Bagga and Baldwin 1998). The key marks only the narratives' own passages, so the figures say
whether repeats are found together and kept apart from the other narrative; ``leak`` adds the share of claims
in the items' predicted narratives that come from documents the key does not list for that narrative.

Seeds: whether one recurring narrative holds claims of 000, 002, 003 and 004 and none of 001.

``--sweep`` prints B-cubed F1 over a grid of thresholds, which is how the defaults were chosen (the seeds are
the held-out check: they were not used to pick numbers).

    python benchmarks/narrative_eval.py [--embedders minilm,static] [--sweep] [--no-record]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from benchlib import ROOT, SHARED, machine, record
from newstrace.embed import load_embedder
from newstrace.ingest.pipeline import ingest
from newstrace.link.claims import extract_claims
from newstrace.link.narratives import NarrativeConfig, NarrativeIndex, assign
from newstrace.link.pipeline import link
from newstrace.model import Claim
from newstrace.nlp.runner import annotate
from newstrace.store import Store

EXAMPLES = ROOT / "examples"
KEY = EXAMPLES / "ground_truth.json"


def annotated_store(paths: list[Path], folder: Path, aliases: list[Path], places: list[Path]) -> Path:
    db = folder / "store.duckdb"
    ingest(paths, db=db)
    annotate(db, aliases=aliases, places=places)
    return db


def claims_of(db: Path) -> tuple[list[Claim], dict[tuple[str, str], str]]:
    """Every claim of the store's documents, and the document at each (source path, locator)."""
    with Store(db, read_only=True) as store:
        ids = [doc_id for (doc_id,) in store.con.execute("SELECT doc_id FROM documents").fetchall()]
        claims = [c for doc in store.claim_inputs(ids) for c in extract_claims(doc)]
        where = {
            (path, locator): doc_id
            for doc_id, path, locator in store.con.execute(
                "SELECT doc_id, source_path, locator FROM occurrences"
            ).fetchall()
        }
    return claims, where


class StoredClaim(NamedTuple):
    claim_id: str
    doc_id: str
    start: int
    end: int


def gold_items(
    claims: list[Claim] | list[StoredClaim],
    where: dict[tuple[str, str], str],
    texts: dict[str, str],
    key: Path = KEY,
) -> list[tuple[str, str, str]]:
    """(gold narrative, doc_id, claim_id of the claim overlapping the listed passage most) per key item."""
    truth = json.loads(key.read_text(encoding="utf-8"))
    by_place = {(Path(path).resolve(), locator): doc_id for (path, locator), doc_id in where.items()}
    by_doc: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_doc[claim.doc_id].append(claim)
    items = []
    for narrative in truth["narratives"]:
        for item in [narrative["first"], *narrative["repeats"]]:
            file, _, line = item["path"].partition("#")
            doc_id = by_place[((EXAMPLES / file).resolve(), f"line:{line}" if line else "")]
            passage = item.get("reported_speech") or item.get("text") or item["quote"]
            start = texts[doc_id].find(passage[:60])
            if start < 0:
                raise SystemExit(f"{key.name}: passage not found in {item['path']}: {passage[:60]!r}")
            end = start + len(passage)
            best = max(by_doc[doc_id], key=lambda c: min(c.end, end) - max(c.start, start))
            overlap = min(best.end, end) - max(best.start, start)
            items.append(
                (narrative["id"], doc_id, best.claim_id if overlap > 0 else f"missing:{doc_id}:{start}")
            )
    return items


def stored_scores(db: Path, key: Path = KEY) -> dict[str, float]:
    """B-cubed of the narratives a linked store holds (what ``newstrace run`` or ``link`` stored) against the key."""
    with Store(db, read_only=True) as store:
        rows = store.con.execute('SELECT claim_id, doc_id, start, "end", narrative_id FROM claims').fetchall()
        where = {
            (path, locator): doc_id
            for doc_id, path, locator in store.con.execute(
                "SELECT doc_id, source_path, locator FROM occurrences"
            ).fetchall()
        }
        texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
    narrative = {row[0]: row[4] for row in rows}
    items = gold_items([StoredClaim(*row[:4]) for row in rows], where, texts, key)
    precision, recall, f1 = bcubed([(gold, narrative.get(claim_id, claim_id)) for gold, _, claim_id in items])
    return {"P": precision, "R": recall, "F1": f1, "items": len(items)}


def bcubed(items: list[tuple[str, str]]) -> tuple[float, float, float]:
    """B-cubed precision, recall, F1 of (gold, predicted) cluster labels."""
    precision = recall = 0.0
    for gold, predicted in items:
        same_predicted = [g for g, p in items if p == predicted]
        same_gold = [p for g, p in items if g == gold]
        both = sum(1 for g in same_predicted if g == gold)
        precision += both / len(same_predicted)
        recall += both / len(same_gold)
    precision, recall = precision / len(items), recall / len(items)
    return precision, recall, 2 * precision * recall / (precision + recall)


def score_demo(claims, vectors, items, config: NarrativeConfig) -> dict[str, float]:
    assigned = assign(claims, vectors, NarrativeIndex(vectors.shape[1]), config)
    labels = [(gold, assigned.get(claim_id, claim_id)) for gold, _, claim_id in items]
    precision, recall, f1 = bcubed(labels)
    gold_docs: dict[str, set[str]] = defaultdict(set)
    for gold, doc_id, _ in items:
        gold_docs[gold].add(doc_id)
    members: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        members[assigned[claim.claim_id]].append(claim)
    outside = total = 0
    for gold, predicted in {(g, p) for g, p in labels}:
        for claim in members.get(predicted, []):
            total += 1
            outside += claim.doc_id not in gold_docs[gold]
    return {"P": precision, "R": recall, "F1": f1, "leak": outside / total if total else 0.0}


def seeds_check(claims, vectors, where, config: NarrativeConfig) -> str:
    assigned = assign(claims, vectors, NarrativeIndex(vectors.shape[1]), config)
    names = {doc_id: Path(path).name[:3] for (path, _), doc_id in where.items()}
    docs: dict[str, set[str]] = defaultdict(set)
    for claim in claims:
        docs[assigned[claim.claim_id]].add(names[claim.doc_id])
    spans = sorted((len(d), sorted(d)) for d in docs.values() if len(d) >= 2)
    best = next((d for _, d in reversed(spans) if {"000", "002", "003", "004"} <= set(d)), None)
    if best is None:
        return "no narrative spans 000, 002, 003 and 004"
    return "holds " + ", ".join(best) + (" (001 included)" if "001" in best else ", not 001")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedders", default="minilm,static")
    parser.add_argument("--sweep", action="store_true", help="B-cubed F1 over a grid of thresholds")
    parser.add_argument("--key", type=Path, default=KEY, help="the demo corpus's answer key")
    parser.add_argument("--no-record", action="store_true")
    options = parser.parse_args(argv)
    embedders = options.embedders.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "demo").mkdir()
        demo_db = annotated_store(
            [EXAMPLES / "corpus"], Path(tmp) / "demo", [EXAMPLES / "actors.yml"], [EXAMPLES / "places.yml"]
        )
        demo_claims, demo_where = claims_of(demo_db)
        with Store(demo_db, read_only=True) as store:
            texts = dict(store.con.execute("SELECT doc_id, text FROM documents").fetchall())
        items = gold_items(demo_claims, demo_where, texts, options.key)
        seeds = SHARED / "seeds"
        seed_claims = seed_where = None
        if seeds.exists():
            (Path(tmp) / "seeds").mkdir()
            seeds_db = annotated_store([seeds], Path(tmp) / "seeds", [], [])
            seed_claims, seed_where = claims_of(seeds_db)
        rows = []
        config = NarrativeConfig()
        for name in embedders:
            embedder = load_embedder(name)
            started = time.perf_counter()
            vectors = embedder.encode([c.text for c in demo_claims])
            per_second = len(demo_claims) / (time.perf_counter() - started)
            demo = score_demo(demo_claims, vectors, items, config)
            seed_note = "seeds absent"
            if seed_claims is not None:
                seed_note = seeds_check(
                    seed_claims, embedder.encode([c.text for c in seed_claims]), seed_where, config
                )
            rows.append(
                f"| {name} | {demo['P']:.3f} | {demo['R']:.3f} | **{demo['F1']:.3f}** | {demo['leak']:.3f} | "
                f"{per_second:,.0f} | {seed_note} |"
            )
            if options.sweep:
                print(f"\n{name}: B-cubed F1 by threshold (rows) and context threshold (columns)")
                contexts = (0.25, 0.3, 0.35)
                print("threshold " + " ".join(f"{c:>6}" for c in contexts))
                for threshold in (0.3, 0.33, 0.36, 0.4, 0.45, 0.5):
                    cells = [
                        score_demo(demo_claims, vectors, items, replace(config, threshold=t, context=c))["F1"]
                        for t, c in itertools.product([threshold], contexts)
                    ]
                    print(f"{threshold:>9} " + " ".join(f"{v:6.3f}" for v in cells))
        if "minilm" in embedders:
            # The same corpus through the whole link stage (reuse, claims, narratives), as `newstrace run` does.
            link(demo_db, embedder="minilm")
            stored = stored_scores(demo_db, options.key)
            rows.append(
                f"| minilm, whole `link` stage | {stored['P']:.3f} | {stored['R']:.3f} | **{stored['F1']:.3f}** "
                "| – | – | – |"
            )
    description = (
        f"Command: `python benchmarks/narrative_eval.py{' --sweep' if options.sweep else ''}"
        f"{'' if options.key == KEY else ' --key ' + options.key.name}`. Machine: {machine()}. "
        f"Demo corpus: {len(demo_claims)} claims, {len(items)} answer-key items in "
        f"{len({g for g, _, _ in items})} narratives ({options.key.name}); B-cubed over the items, "
        f"`leak` = share of claims in the items' predicted narratives from documents the key does not list for "
        f"that narrative. Defaults: {config}. Seeds: does one narrative hold 000, 002, 003 and 004 without 001?"
    )
    record(
        "Narratives: demo corpus B-cubed and the seeds, per embedder",
        description,
        [
            "| embedder | B-cubed P | R | F1 | leak | claims/s embedded | seeds |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
            *rows,
        ],
        no_record=options.no_record,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
